#!/usr/bin/env python3
"""Show-note rendering speed: notes.py now against a named earlier revision, side by side.

Every cold build renders each episode's notes once (later builds take them from the cache):
Markdown to HTML (``render_html``) and that HTML to Apple's description and plain text
(``describe``), after load found the chapters in them (``from_show_notes``; "as built" times the
three together). This times them on N catalogue-style notes (bench/make_catalogue.py's Markdown)
for the current code and for feedtool/notes.py at ``--baseline`` (default: 2d2d00e^, the last
revision with the regex fast path and without the sanitiser), interleaved round by round, and
prints medians per round and per episode. The outputs differ on purpose (the sanitiser, the
line rules), so they are not compared here; tests/test_notes.py pins the behaviour.

    .venv/bin/python bench/bench_notes.py [--n 3000] [--rounds 7] [--baseline REV]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from baseline import module_at
from make_catalogue import episode_md

from feedtool import chapters, notes

BASELINE = "2d2d00e^"


def catalogue_notes(n: int) -> list[str]:
    """The Markdown notes of n catalogue episodes (what make_catalogue.py writes)."""
    rng = random.Random(2024)
    start = datetime(2015, 1, 5, 9, tzinfo=UTC)
    return [episode_md(i, start, rng).split("\n---\n", 1)[1] for i in range(1, n + 1)]


def seconds(function: Callable[[str], object], inputs: list[str]) -> float:
    began = time.perf_counter()
    for text in inputs:
        function(text)
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="notes per round (default 3000)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds per implementation (default 7)")
    parser.add_argument("--baseline", default=BASELINE, help=f"git revision to compare with (default {BASELINE})")
    args = parser.parse_args(argv)
    old = module_at(args.baseline, "notes")
    old_chapters = module_at(args.baseline, "chapters")
    markdown = catalogue_notes(args.n)
    old_html = [old.render_html(text) for text in markdown]
    new_html = [notes.render_html(text) for text in markdown]

    def as_built(chapters_module, notes_module):  # what a cold build does with one episode's notes
        def run(text: str) -> object:
            chapters_module.from_show_notes(text)  # load: the chapters
            return notes_module.describe(notes_module.render_html(text.strip("\n")))  # build: the notes
        return run

    steps = (
        ("render_html", old.render_html, notes.render_html, markdown, markdown),
        ("describe", old.describe, notes.describe, old_html, new_html),
        ("as built", as_built(old_chapters, old), as_built(chapters, notes), markdown, markdown),
    )
    print(f"{args.n} catalogue notes ({sum(map(len, markdown)) // args.n} chars of Markdown each), "
          f"median of {args.rounds} rounds, baseline {args.baseline}, Python {sys.version.split()[0]}")
    for name, old_fn, new_fn, old_inputs, new_inputs in steps:
        old_times, new_times = [], []
        for _ in range(args.rounds):
            old_times.append(seconds(old_fn, old_inputs))
            new_times.append(seconds(new_fn, new_inputs))
        old_s, new_s = statistics.median(old_times), statistics.median(new_times)
        print(f"{name:12} baseline {old_s * 1000:7.1f} ms ({old_s / args.n * 1e6:6.1f} µs/episode)   "
              f"now {new_s * 1000:7.1f} ms ({new_s / args.n * 1e6:6.1f} µs/episode)   "
              f"{(new_s - old_s) * 1000:+.1f} ms")
    print('"as built": from_show_notes (load), then render_html and describe (build), in one process, as a '
          "build's worker does for each episode")
    return 0


if __name__ == "__main__":
    sys.exit(main())

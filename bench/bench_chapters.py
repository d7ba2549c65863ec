#!/usr/bin/env python3
"""Chapters from show notes: chapters.py now against a named earlier revision, side by side.

``from_show_notes`` runs once per episode in every build that loads it. This times it on the
notes of bench/make_catalogue.py's episodes (about 27 lines, 20 of them "[MM:SS] Title"), for
the current code and for feedtool/chapters.py at ``--baseline`` (default: 2d2d00e^, the last
revision with the ``_SIMPLE`` fast path and the line pre-filter), and ``parse_chapter_line`` over
every line of those notes. Both must give the same chapters on these notes (checked first).

Each round runs all N inputs with both, in chunks of 100 alternating which goes first (so both
see the same machine load); the first round warms up. Medians are printed.

    .venv/bin/python bench/bench_chapters.py [--n 3000] [--rounds 9] [--baseline REV]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from baseline import module_at
from bench_notes import BASELINE, catalogue_notes

from feedtool import chapters as new

CHUNK = 100


def time_chunk(function: Callable[[str], object], inputs: list[str]) -> float:
    start = time.perf_counter()
    for text in inputs:
        function(text)
    return time.perf_counter() - start


def compare(label: str, inputs: list[str], old_fn: Callable[[str], object],
            new_fn: Callable[[str], object], rounds: int) -> None:
    times: dict[str, list[float]] = {"baseline": [], "now": []}
    for round_ in range(rounds + 1):
        total = {"baseline": 0.0, "now": 0.0}
        for index in range(0, len(inputs), CHUNK):
            chunk = inputs[index : index + CHUNK]
            pair = (("baseline", old_fn), ("now", new_fn))
            for name, function in pair if (round_ + index // CHUNK) % 2 else pair[::-1]:
                total[name] += time_chunk(function, chunk)
        if round_:
            for name, elapsed in total.items():
                times[name].append(elapsed)
    old_s, new_s = statistics.median(times["baseline"]), statistics.median(times["now"])
    per = len(inputs)
    print(f"{label}: {per} inputs, median of {rounds} rounds")
    print(f"  baseline {old_s * 1000:8.1f} ms  ({old_s / per * 1e6:6.1f} us each)")
    print(f"  now      {new_s * 1000:8.1f} ms  ({new_s / per * 1e6:6.1f} us each)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="number of episodes' notes (default 3000)")
    parser.add_argument("--rounds", type=int, default=9, help="timed rounds after a warm-up (default 9)")
    parser.add_argument("--baseline", default=BASELINE, help=f"git revision to compare with (default {BASELINE})")
    args = parser.parse_args(argv)
    old = module_at(args.baseline, "chapters")
    notes = catalogue_notes(args.n)
    same = [repr(new.from_show_notes(t)) for t in notes] == [repr(old.from_show_notes(t)) for t in notes]
    if not same:
        print("the two revisions give different chapters on the catalogue notes", file=sys.stderr)
        return 1
    print(f"baseline {args.baseline}, Python {sys.version.split()[0]}")
    compare("from_show_notes, catalogue notes", notes, old.from_show_notes, new.from_show_notes, args.rounds)
    lines = [line for text in notes for line in text.splitlines()]
    compare("parse_chapter_line, every line of those notes", lines, old.parse_chapter_line,
            new.parse_chapter_line, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())

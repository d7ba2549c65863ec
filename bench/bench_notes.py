#!/usr/bin/env python3
"""Show-note description speed: notes.describe() now vs the HTMLParser-only version, side by side.

describe() turns each episode's rendered notes into (Apple description, plain text) on every cold
build. This times it on N catalogue-style notes (bench/make_catalogue.py's Markdown, rendered by
notes.render_html) for both implementations in the same run, interleaved round by round, and
prints the median time per round, per episode and the ratio. The baseline is the frozen copy of
the old code kept as the oracle in tests/test_notes_speed_equivalence.py; outputs are compared
once before timing.

    .venv/bin/python bench/bench_notes.py [--n 3000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from make_catalogue import episode_md
from test_notes_speed_equivalence import old_apple_description, old_describe, old_plain_text

from feedtool import notes


def catalogue_html(n: int) -> list[str]:
    """Rendered notes of n catalogue episodes (the same Markdown make_catalogue.py writes)."""
    rng = random.Random(2024)
    start = datetime(2015, 1, 5, 9, tzinfo=UTC)
    return [notes.render_html(episode_md(i, start, rng).split("\n---\n", 1)[1]) for i in range(1, n + 1)]


def seconds(function, inputs: list[str]) -> float:
    began = time.perf_counter()
    for html_text in inputs:
        function(html_text)
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="notes per round (default 3000)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds per implementation (default 7)")
    args = parser.parse_args(argv)
    inputs = catalogue_html(args.n)
    pairs = (
        ("describe", old_describe, notes.describe),
        ("apple_description", old_apple_description, notes.apple_description),
        ("plain_text", old_plain_text, notes.plain_text),
    )
    for name, old, new in pairs:
        if any(old(html_text) != new(html_text) for html_text in inputs):
            print(f"{name}: outputs differ from the old implementation", file=sys.stderr)
            return 1
    print(f"{args.n} catalogue notes ({sum(map(len, inputs)) // args.n} chars of HTML each), "
          f"median of {args.rounds} rounds, Python {sys.version.split()[0]}")
    for name, old, new in pairs:
        old_times, new_times = [], []
        for _ in range(args.rounds):
            old_times.append(seconds(old, inputs))
            new_times.append(seconds(new, inputs))
        old_s, new_s = statistics.median(old_times), statistics.median(new_times)
        print(f"{name:18} old {old_s * 1000:7.1f} ms ({old_s / args.n * 1e6:6.1f} µs/episode)   "
              f"new {new_s * 1000:7.1f} ms ({new_s / args.n * 1e6:6.1f} µs/episode)   "
              f"{old_s / new_s:4.1f}x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())

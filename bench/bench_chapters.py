"""Benchmark: chapters from show notes, the new parser against the one it replaced.

Goal: ``from_show_notes`` (run once per episode by every build) at least 3x faster on typical
notes, with the same results. The baseline is the frozen copy of the old parser kept as the
oracle in tests/test_chapters_speed_equivalence.py; the notes are those of
bench/make_catalogue.py's episodes (about 27 lines, 20 of them "[MM:SS] Title"), made in memory.

Run from the project root:

    .venv/bin/python bench/bench_chapters.py [--n 3000] [--rounds 9]

Each round parses all N notes with the old and with the new function, in chunks of 100 with
old and new alternating (so both see the same machine load); the first round is a warm-up. It also times ``parse_chapter_line`` over the notes' lines
(the path of ``feedtool chapters`` and chapters files). Medians and ratios are printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import test_chapters_speed_equivalence as old

from feedtool import chapters as new

CHUNK = 100  # inputs timed at a time, old and new alternating, so both see the same machine load


def time_chunk(function: Callable[[str], object], inputs: list[str]) -> float:
    start = time.perf_counter()
    for text in inputs:
        function(text)
    return time.perf_counter() - start


def compare(label: str, inputs: list[str], old_fn: Callable[[str], object],
            new_fn: Callable[[str], object], rounds: int) -> None:
    """Median over rounds of the time for all inputs, old and new interleaved chunk by chunk."""
    times: dict[str, list[float]] = {"old": [], "new": []}
    for round_ in range(rounds + 1):
        total = {"old": 0.0, "new": 0.0}
        for index in range(0, len(inputs), CHUNK):
            chunk = inputs[index : index + CHUNK]
            pair = (("old", old_fn), ("new", new_fn))
            for name, function in pair if (round_ + index // CHUNK) % 2 else pair[::-1]:
                total[name] += time_chunk(function, chunk)
        if round_:  # round 0 warms up
            for name, elapsed in total.items():
                times[name].append(elapsed)
    old_s, new_s = statistics.median(times["old"]), statistics.median(times["new"])
    per = len(inputs)
    print(f"{label}: {per} inputs, median of {rounds} rounds")
    print(f"  old {old_s * 1000:8.1f} ms  ({old_s / per * 1e6:6.1f} us each)")
    print(f"  new {new_s * 1000:8.1f} ms  ({new_s / per * 1e6:6.1f} us each)")
    print(f"  ratio old/new {old_s / new_s:.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="number of episodes' notes (default 3000)")
    parser.add_argument("--rounds", type=int, default=9, help="timed rounds after a warm-up (default 9)")
    args = parser.parse_args(argv)
    notes = old.catalogue_notes(args.n)
    assert [repr(new.from_show_notes(t)) for t in notes] == [repr(old.from_show_notes(t)) for t in notes]
    compare("from_show_notes, catalogue notes", notes, old.from_show_notes, new.from_show_notes, args.rounds)
    lines = [line for text in notes for line in text.splitlines()]
    compare("parse_chapter_line, every line of those notes", lines, old.parse_chapter_line,
            new.parse_chapter_line, args.rounds)
    chapter_lines = [line for line in lines if line.startswith("[")]
    compare("parse_chapter_line, the timestamp lines only", chapter_lines, old.parse_chapter_line,
            new.parse_chapter_line, args.rounds)
    example = (ROOT / "episodes" / "coffee-sessions-29" / "episode.md").read_text(encoding="utf-8")
    example_notes = [example.split("\n---\n", 1)[1]] * 300
    compare("from_show_notes, the example episode (x300)", example_notes, old.from_show_notes,
            new.from_show_notes, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())

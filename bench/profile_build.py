#!/usr/bin/env python3
"""Where a build's time goes: wall-clock per phase of one in-process build, or a cProfile listing.

Runs `build_podcast` once in this process on a catalogue from make_catalogue.py, in one process
(FEEDTOOL_JOBS=1, so every phase is seen), after preparing the state:

- cold:    no public/, no cache, no guid ledger;
- touched: every file in episodes/ gets a new mtime (the incremental path; build cold first);
- force:   `force=True` on an unchanged catalogue.

Phases are timed (wall-clock and this process's CPU time, which other work on the machine does
not stretch) by wrapping the functions that do the work (nested phases overlap: "tagging (all)"
contains "tag: id3.write"). With --cprofile the same build runs under cProfile instead and the top
functions by cumulative time are printed.

    .venv/bin/python bench/profile_build.py --n 3000 cold
    .venv/bin/python bench/profile_build.py --n 3000 touched --cprofile 40
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ["FEEDTOOL_JOBS"] = "1"

from bench_build import make_cold, trash_dir
from make_catalogue import make_catalogue

#: (module, attribute, label): the functions whose time is added up.
PHASES = (
    ("feedtool.load", "load_episode", "load: every episode.md (all)"),
    ("feedtool.load", "parse_yaml", "load: YAML front matter"),
    ("feedtool.chapters", "from_show_notes", "load: chapters from the notes' timestamps"),
    ("feedtool.build", "_Builder.episode_parts", "entries: everything per episode (all)"),
    ("feedtool.build", "_Builder.file_digest", "entries: sha256 of the masters"),
    ("feedtool.audio", "probe", "entries: mutagen probe (build's and tagging's)"),
    ("feedtool.notes", "render_html", "entries: notes to HTML (cmark-gfm)"),
    ("feedtool.notes", "describe", "entries: Apple description + plain text"),
    ("feedtool.chapters", "check_chapters", "entries: chapter checks"),
    ("feedtool.build", "_Builder.tag_fingerprint", "entries: tag fingerprint"),
    ("feedtool.tagging", "write_tagged_copy", "entries: tagging (all)"),
    ("feedtool.audio", "check_mp3", "probe: MP3 truncation check"),
    ("feedtool.tagging.id3", "write", "tag: id3.write (render tag + copy audio)"),
    ("feedtool.build", "sha256_file", "entries: sha256 of files (masters)"),
    ("feedtool.chapters", "to_json", "entries: chapters.json"),
    ("feedtool.build", "_Builder.place_file", "entries: hard links into staging"),
    ("feedtool.feed", "render_feed", "feed: render_feed (feedgen + extensions)"),
    ("feedtool.load_p20", "episode_fields", "load: issue 13's episode keys"),
    ("feedtool.build", "_swap_into_place", "swap: staging -> public/, old tree removed"),
    ("feedtool.build", "_inputs_fingerprint", "up-to-date fingerprint (walk + stat)"),
    ("feedtool.cache", "BuildCache.save", "cache: save tables"),
)


def prepare(catalogue: Path, mode: str) -> tuple[Path, Path, bool]:
    episodes, public = catalogue / "episodes", catalogue / "public"
    if mode == "cold":
        # Moved aside, not deleted: see bench_build.py on ext4 and recently freed inodes.
        # bench_build.py empties bench/out/trash/ (or delete it by hand when done).
        make_cold(episodes, public, trash_dir(HERE / "out"))
    elif mode == "touched":
        now = time.time()
        for dirpath, _dirnames, filenames in os.walk(episodes):
            for name in filenames:
                os.utime(os.path.join(dirpath, name), (now, now))
    return episodes, public, mode == "force"


def wrap_phases(totals: collections.Counter[str]) -> None:
    import importlib

    for module_name, attribute, label in PHASES:
        module = importlib.import_module(module_name)
        owner = module
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, name)

        def timed(*args, __original=original, __label=label, **kwargs):  # type: ignore[no-untyped-def]
            start, cpu = time.perf_counter(), time.process_time()
            try:
                return __original(*args, **kwargs)
            finally:
                totals[__label] += time.perf_counter() - start
                totals[__label + " (cpu)"] += time.process_time() - cpu

        setattr(owner, name, functools.wraps(original)(timed))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time the phases of one feedtool build.")
    parser.add_argument("mode", choices=("cold", "touched", "force"))
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--out", type=Path, help="catalogue folder (default bench/out/catalogue-N)")
    parser.add_argument("--cprofile", type=int, metavar="TOP", help="cProfile; print the TOP functions")
    parser.add_argument("--p20", action="store_true", help="the catalogue with every tag of issue 13")
    args = parser.parse_args(argv)
    catalogue = args.out or HERE / "out" / f"catalogue-{args.n}"
    make_catalogue(args.n, catalogue, p20=args.p20)
    episodes, public, force = prepare(catalogue, args.mode)

    from feedtool.build import build_podcast

    if args.cprofile:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        start = time.perf_counter()
        profile.runcall(build_podcast, episodes, public, force=force)
        print(f"{args.mode}, N = {args.n}: {time.perf_counter() - start:.2f} s under cProfile")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.cprofile)
        return 0
    totals: collections.Counter[str] = collections.Counter()
    wrap_phases(totals)
    start, cpu = time.perf_counter(), time.process_time()
    result = build_podcast(episodes, public, force=force)
    total, total_cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"{args.mode}, N = {args.n}, one process: {total:.2f} s wall-clock, {total_cpu:.2f} s CPU "
          f"({result.tagged} tagged, {result.reused} reused)\n")
    print("| phase | wall-clock s | CPU s | share of CPU |\n|---|---:|---:|---:|")
    for _module, _attribute, label in PHASES:
        if label in totals:
            used = totals[label + " (cpu)"]
            print(f"| {label} | {totals[label]:.2f} | {used:.2f} | {100 * used / total_cpu:.0f}% |")
    print(f"| whole build | {total:.2f} | {total_cpu:.2f} | 100% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

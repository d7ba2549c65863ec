#!/usr/bin/env python3
"""Benchmark: what the website costs a build. `feedtool build` of the same catalogue, cold, with
the site on (the default) and with `site: false`, side by side in one run, rounds interleaved
(the order alternates), plus the rebuilds with the site on:

- no change: the quick up-to-date check (writes nothing);
- touched:   every file in episodes/ gets a new mtime (same bytes, as in a fresh CI clone): the
             whole build runs again; the pages are expected to be linked from the cache, not
             rendered or written (counted: pages whose inode changed);
- one title: one episode's title changed: that page, its two neighbours and the first index
             page are rendered again (counted the same way).

The catalogue is bench/make_catalogue.py's (3,000 episodes with 20 chapters each, no
transcripts); cold builds move the previous build aside without deleting it, as in
bench_build.py (see its docstring on ext4 and recently freed inodes).

    .venv/bin/python bench/bench_site.py                 # N = 3,000, 3 rounds
    .venv/bin/python bench/bench_site.py --write         # also update docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_build import (
    Run,
    build_command,
    empty_trash,
    machine,
    make_cold,
    record_deletion,
    run_child,
    touch_all,
    trash_dir,
    wait_for_file_system,
    write_doc,
)
from make_catalogue import make_catalogue

GOAL_RATIO = 1.3
SECTION = "## Website"


def set_site(episodes: Path, on: bool) -> None:
    show = episodes / "podcast.yaml"
    lines = [line for line in show.read_text(encoding="utf-8").splitlines() if not line.startswith("site:")]
    if not on:
        lines.append("site: false")
    text = "\n".join(lines) + "\n"
    if show.read_text(encoding="utf-8") != text:  # an unchanged file keeps its mtime (no-change rebuild)
        show.write_text(text, encoding="utf-8")


def page_inodes(public: Path) -> dict[str, int]:
    return {str(p.relative_to(public)): p.stat().st_ino for p in public.rglob("*.html")}


def timed(label: str, command: list[str]) -> Run:
    run = run_child(command)
    print(f"   {label:22s} {run.seconds:7.3f} s  cpu {run.cpu_s:7.3f} s  {run.rss_mb:6.1f} MB  | {run.output}",
          flush=True)
    return run


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description="Time feedtool build with the website on and off.")
    parser.add_argument("--n", type=int, default=3000, help="episodes in the catalogue (default 3000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--out", type=Path, default=HERE / "out", help="where catalogues go")
    parser.add_argument("--no-wait", action="store_true", help="do not wait for recently freed inodes")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)

    print(f"machine: {machine()}, load average {os.getloadavg()[0]:.1f}")
    catalogue = args.out / f"catalogue-{args.n}"
    episodes = make_catalogue(args.n, catalogue)
    public = catalogue / "public"
    empty_trash(args.out)
    if not args.no_wait:
        wait_for_file_system(args.out)
    runs: dict[str, list[Run]] = {"on": [], "off": []}
    for round_ in range(1, args.rounds + 1):
        order = ("off", "on") if round_ % 2 else ("on", "off")
        for mode in order:
            set_site(episodes, mode == "on")
            make_cold(episodes, public, trash_dir(args.out))
            subprocess.run(["sync"], check=False)
            runs[mode].append(timed(f"round {round_} cold, site {mode}", build_command(episodes, public)))
    # the rebuilds, with the site on (the last cold build of the last round may be either)
    set_site(episodes, True)
    if order[-1] != "on":
        make_cold(episodes, public, trash_dir(args.out))
        timed("cold, site on (again)", build_command(episodes, public))
    pages = len(page_inodes(public))
    nochange = timed("no change", build_command(episodes, public))
    before = page_inodes(public)
    touch_all(episodes)
    touched = timed("every file touched", build_command(episodes, public))
    record_deletion(args.out)
    touched_written = sum(1 for k, v in page_inodes(public).items() if before.get(k) != v)
    first = sorted(p for p in episodes.iterdir() if (p / "episode.md").is_file())[len(before) // 2]
    text = (first / "episode.md").read_text(encoding="utf-8")
    (first / "episode.md").write_text(text.replace('title: "', 'title: "Renamed ', 1), encoding="utf-8")
    before = page_inodes(public)
    renamed = timed("one title changed", build_command(episodes, public))
    renamed_written = sorted(k for k, v in page_inodes(public).items() if before.get(k) != v)
    (first / "episode.md").write_text(text, encoding="utf-8")
    empty_trash(args.out)

    on = statistics.median(r.seconds for r in runs["on"])
    off = statistics.median(r.seconds for r in runs["off"])
    cpu_on = statistics.median(r.cpu_s for r in runs["on"])
    cpu_off = statistics.median(r.cpu_s for r in runs["off"])
    command = " ".join([".venv/bin/python bench/bench_site.py", *[a for a in argv if a != "--write"]])
    verdict = "met" if on / off <= GOAL_RATIO else "**missed**"
    report = "\n".join([
        f"Measured {time.strftime('%Y-%m-%d', time.gmtime())} on {machine()}, median of {args.rounds} "
        f"interleaved rounds, with `{command}`.",
        "",
        "| N | what | median wall-clock | CPU (user+sys) | peak RSS | ratio | goal |",
        "|---:|---|---:|---:|---:|---:|---|",
        f"| {args.n:,} | cold build, `site: false` (the baseline) | {off:.2f} s | {cpu_off:.2f} s | "
        f"{max(r.rss_mb for r in runs['off']):.0f} MB | 1.00 | |",
        f"| {args.n:,} | cold build, site on ({pages:,} pages) | {on:.2f} s | {cpu_on:.2f} s | "
        f"{max(r.rss_mb for r in runs['on']):.0f} MB | **{on / off:.2f}** (CPU {cpu_on / cpu_off:.2f}) | "
        f"<= {GOAL_RATIO} {verdict} |",
        f"| {args.n:,} | rebuild, nothing changed (site on) | {nochange.seconds:.2f} s | {nochange.cpu_s:.2f} s | "
        f"{nochange.rss_mb:.0f} MB | | writes nothing |",
        f"| {args.n:,} | rebuild, every file touched (site on) | {touched.seconds:.2f} s | {touched.cpu_s:.2f} s | "
        f"{touched.rss_mb:.0f} MB | | pages written: **{touched_written}** of {pages:,} |",
        f"| {args.n:,} | rebuild, one episode's title changed (site on) | {renamed.seconds:.2f} s | "
        f"{renamed.cpu_s:.2f} s | {renamed.rss_mb:.0f} MB | | pages written: {len(renamed_written)} "
        f"({', '.join(renamed_written)}) |",
    ])
    print()
    print(report)
    if args.write:
        write_doc(report, SECTION, "bench_site.py")
    return 0



if __name__ == "__main__":
    sys.exit(main())

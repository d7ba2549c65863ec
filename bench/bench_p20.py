#!/usr/bin/env python3
"""Benchmark: issue 13's tags cost (almost) nothing: `feedtool build` side by side with an older feedtool.

The same 3,000-episode catalogue (bench/make_catalogue.py) is built twice per round, in alternating
order: by the baseline (an older feedtool in its own virtualenv, --base-python; it knows none of
the new keys) on the plain catalogue, and by this feedtool on the same catalogue plus every tag of
issue 13 (``make_catalogue --p20``: value with a guest's time split, podroll, publisher, block,
socialInteract, chat, images, Spotify, an OP3 prefix, podping and WebSub, contentLink) and, from
the chapters every episode has, psc:chapters (20 per episode). For each: a cold build (no
public/, no cache, no guid ledger; earlier output renamed into a trash folder, as bench_build.py
does, so no inode is freed right before a cold build) and a no-change build right after.
Medians of --rounds; the feed sizes are printed too. On a machine whose ext4 file system others
keep busy, ``--out /dev/shm/... --tmpfs`` takes the file system's noise out of the comparison.

    git worktree add --detach /tmp/ft-base <commit> && python3 -m venv /tmp/ft-base/.venv \\
        && /tmp/ft-base/.venv/bin/pip install -q -e /tmp/ft-base
    .venv/bin/python bench/bench_p20.py --base-python /tmp/ft-base/.venv/bin/python --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_build import Run, empty_trash, make_cold, run_child, trash_dir
from make_catalogue import make_catalogue


def build(python: str, episodes: Path, public: Path) -> Run:
    # cwd outside the repository: `python -m feedtool` must import the feedtool of that virtualenv
    run = run_child([python, "-m", "feedtool", "build", "--episodes", str(episodes), "--out", str(public)],
                    cwd=Path("/"))
    if "Built" not in run.output and "up to date" not in run.output:
        raise SystemExit(f"the build failed:\n{run.output}")
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-python", required=True, help="python of the baseline's virtualenv")
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--plain", action="store_true",
                        help="this branch builds the plain catalogue too (what an unchanged show pays: psc:chapters, "
                             "the cover as podcast:image)")
    parser.add_argument("--tmpfs", action="store_true",
                        help="--out is a tmpfs (/dev/shm/...): earlier builds are deleted each round (no ext4 "
                             "inode penalty there), so memory holds at most one build per side")
    args = parser.parse_args(argv)

    plain = make_catalogue(args.n, args.out / f"catalogue-{args.n}")
    full = make_catalogue(args.n, args.out / f"catalogue-{args.n}-p20", p20=True)
    mine = ("this branch (plain catalogue: + psc:chapters, podcast:image)", plain) if args.plain else \
        ("this branch (every new tag + psc:chapters)", full)
    if args.plain:  # two builds of one catalogue must not share a public/: copy it aside
        import shutil

        other = args.out / f"catalogue-{args.n}-plain-copy" / "episodes"
        if not other.is_dir():
            shutil.copytree(plain, other, copy_function=os.link)
        mine = (mine[0], other)
    sides = {"baseline (plain catalogue)": (args.base_python, plain), mine[0]: (sys.executable, mine[1])}
    times: dict[str, dict[str, list[Run]]] = {name: {"cold": [], "nochange": []} for name in sides}
    empty_trash(args.out)
    for round_ in range(args.rounds):
        order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
        for name in order:
            python, episodes = sides[name]
            public = episodes.parent / "public"
            make_cold(episodes, public, trash_dir(args.out))
            times[name]["cold"].append(build(python, episodes, public))
            times[name]["nochange"].append(build(python, episodes, public))
            print(f"round {round_ + 1}: {name}: cold {times[name]['cold'][-1].seconds:.2f} s, "
                  f"no change {times[name]['nochange'][-1].seconds:.2f} s", flush=True)
            if args.tmpfs:
                empty_trash(args.out)
    empty_trash(args.out)

    print()
    print("| what | cold: wall (CPU) | no change: wall (CPU) | feed |")
    print("|---|---:|---:|---:|")
    medians = {}
    for name, (_, episodes) in sides.items():
        cold = statistics.median(r.seconds for r in times[name]["cold"])
        nochange = statistics.median(r.seconds for r in times[name]["nochange"])
        cold_cpu = statistics.median(r.cpu_s for r in times[name]["cold"])
        nochange_cpu = statistics.median(r.cpu_s for r in times[name]["nochange"])
        size = (episodes.parent / "public" / "feed.xml").stat().st_size / 1e6
        medians[name] = (cold, nochange, cold_cpu, nochange_cpu)
        print(f"| {name} | {cold:.2f} s ({cold_cpu:.2f} s) | {nochange:.3f} s ({nochange_cpu:.3f} s) | {size:.1f} MB |")
    base, new = medians.values()
    print(f"| ratio | {new[0] / base[0]:.3f} ({new[2] / base[2]:.3f}) | {new[1] / base[1]:.3f} ({new[3] / base[3]:.3f}) | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Benchmark: `feedtool build` on a synthetic catalogue, side by side with a plain feedgen script.

In one run, for each catalogue size N (3,000 by default), this times:

- cold:      `python -m feedtool build` with no cache, no public/ and no guid ledger (a first build:
             every episode loaded, every MP3 probed and tagged, every file written);
- no change: the same command again (the quick up-to-date check);
- touched:   the same command after every file in episodes/ got a new mtime, as in a fresh CI
             clone: the quick check fails, so this is the incremental path (load everything, reuse
             the cached probes, notes and tagged copies, write public/ again);
- baseline:  bench/baseline_feedgen.py writing the same feed with feedgen from data in memory
             (in-process, median of 5; only the writing is timed);
- --help:    `feedtool --help` as a subprocess (median of 10), plus the slowest imports.

Builds run as subprocesses under GNU time: wall-clock time around each, CPU time (user + system,
the build's worker processes included) and peak RSS of the largest process, interpreter start-up
included. Medians of --rounds runs are reported.

A cold build must start as it would on a fresh machine, and on this machine's file system that
takes care. ext4 without a journal (the root file system here; GitHub's runners have a journal)
skips, one by one, every free inode whose table block says it was freed less than 60 s ago, or
360 s while that block has not been written back, which a build's own new files keep it from
being: a cold build right after deleting the previous build spends seconds of system time in the
kernel's `recently_deleted()`. So this script never deletes a build before a cold build: it moves
the previous public/ and cache into bench/out/trash/ (a rename, nothing freed), runs every cold
build of every size first, then the no-change and touched rebuilds (whose swap does delete the old
tree), and empties the trash at the end. Before the first cold build it waits until 6 minutes have
passed since the last deletion it recorded (bench/out/.last-deletion), unless --no-wait.

    .venv/bin/python bench/bench_build.py                   # N = 3,000, 3 rounds
    .venv/bin/python bench/bench_build.py --also 10000      # and the linearity check
    .venv/bin/python bench/bench_build.py --write           # also update docs/benchmarks.md

FEEDTOOL_JOBS=1 in the environment makes the builds use one process (the default is one per core
for 100 episodes or more).

Catalogues are made by bench/make_catalogue.py under bench/out/ (gitignored) and reused.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from baseline_feedgen import time_baseline
from fs_floor import write_floor
from make_catalogue import make_catalogue

GOALS = {"cold": 3.0, "nochange": 1.0, "help": 0.2, "rss_mb": 250.0}
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Build"


@dataclass
class Run:
    seconds: float
    cpu_s: float  # user + system, the command and the workers it waited for
    rss_mb: float
    output: str


@dataclass
class SizeResult:
    n: int
    runs: dict[str, list[Run]] = field(default_factory=dict)
    baseline_s: float = 0.0
    feed_mb: float = 0.0
    items: int = 0
    tag_ms: float = 0.0
    floor: list[tuple[float, float]] = field(default_factory=list)  # (wall s, CPU s) per round

    def floor_median(self) -> tuple[float, float]:
        return (statistics.median(wall for wall, _ in self.floor),
                statistics.median(cpu for _, cpu in self.floor))

    def median(self, step: str) -> float:
        return statistics.median(run.seconds for run in self.runs[step])

    def cpu(self, step: str) -> float:
        return statistics.median(run.cpu_s for run in self.runs[step])

    def rss(self, step: str) -> float:
        return max(run.rss_mb for run in self.runs[step])


TIME = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)


def run_child(command: list[str], cwd: Path | None = None) -> Run:
    """Run a command; wall-clock seconds, CPU seconds, peak RSS (MB) and its output.

    The peak RSS comes from GNU time (/usr/bin/time), which forks the command from a tiny
    process: a child forked straight from this (larger) Python process would report this
    process's size as its own peak. Without GNU time, os.wait4's figure is used (an upper bound).
    """
    with tempfile.TemporaryDirectory() as temp:
        report = Path(temp) / "time.txt"
        timed = [TIME, "-f", "%M %U %S", "-o", str(report), *command] if TIME else command
        with (Path(temp) / "out.txt").open("w+b") as out:
            start = time.perf_counter()
            process = subprocess.Popen(timed, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
            _, status, usage = os.wait4(process.pid, 0)
            seconds = time.perf_counter() - start
            process.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            output = out.read().decode("utf-8", "replace")
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{output}")
        if TIME:
            rss_kb, user, system = report.read_text().split()[-3:]
            return Run(seconds=seconds, cpu_s=float(user) + float(system), rss_mb=int(rss_kb) / 1024,
                       output=output.strip())
    return Run(seconds=seconds, cpu_s=usage.ru_utime + usage.ru_stime, rss_mb=usage.ru_maxrss / 1024,
               output=output.strip())


def build_command(episodes: Path, public: Path) -> list[str]:
    return [sys.executable, "-m", "feedtool", "build", "--episodes", str(episodes), "--out", str(public)]


#: ext4 without a journal avoids reusing an inode for 60 s after it was freed, 360 s while its
#: inode table block is dirty; 6 minutes and a bit covers both.
FS_WINDOW_S = 365.0


def trash_dir(out_root: Path) -> Path:
    return out_root / "trash"


def make_cold(episodes: Path, public: Path, trash: Path) -> None:
    """Take away what a build leaves (public/, the cache, the guid ledger) without freeing inodes.

    The folders are renamed into ``trash`` (same file system), so the cold build that follows
    allocates files as on a fresh machine; empty_trash deletes them after the measurements.
    """
    trash.mkdir(parents=True, exist_ok=True)
    stamp = time.time_ns()
    leftovers = [public, episodes.parent / ".feedtool-cache", *public.parent.glob(f".{public.name}.*")]
    for index, path in enumerate(leftovers):
        if path.exists():
            os.rename(path, trash / f"{stamp}-{index}-{path.name.lstrip('.')}")
    (episodes / "feedtool.lock").unlink(missing_ok=True)


def deletion_stamp(out_root: Path) -> Path:
    return out_root / ".last-deletion"


def record_deletion(out_root: Path) -> None:
    """Note when this script last made the file system free many inodes."""
    deletion_stamp(out_root).write_text(f"{time.time():.0f}\n")


def empty_trash(out_root: Path) -> None:
    trash = trash_dir(out_root)
    if trash.exists():
        shutil.rmtree(trash)
        record_deletion(out_root)


def wait_for_file_system(out_root: Path) -> None:
    """Sleep until FS_WINDOW_S have passed since the last recorded deletion (see the docstring)."""
    try:
        last = float(deletion_stamp(out_root).read_text())
    except (OSError, ValueError):
        return
    wait = last + FS_WINDOW_S - time.time()
    if wait > 0:
        print(f"   waiting {wait:.0f} s: files were deleted less than {FS_WINDOW_S:.0f} s ago "
              "(see the docstring; --no-wait skips this)", flush=True)
        subprocess.run(["sync"], check=False)
        time.sleep(wait)


def touch_all(episodes: Path) -> int:
    """Give every file in episodes/ a new mtime (content unchanged), like a fresh git clone."""
    now = time.time()
    count = 0
    for dirpath, _dirnames, filenames in os.walk(episodes):
        for name in filenames:
            os.utime(os.path.join(dirpath, name), (now, now))
            count += 1
    return count


def catalogue_paths(n: int, out_root: Path) -> tuple[Path, Path]:
    catalogue = out_root / f"catalogue-{n}"
    print(f"\n== N = {n}: the catalogue in {catalogue}", flush=True)
    return make_catalogue(n, catalogue), catalogue / "public"


def timed_build(result: SizeResult, step: str, round_: int, episodes: Path, public: Path) -> None:
    run = run_child(build_command(episodes, public))
    result.runs[step].append(run)
    print(f"   round {round_} {step:9s} {run.seconds:7.3f} s  cpu {run.cpu_s:7.3f} s  "
          f"{run.rss_mb:6.1f} MB  | {run.output}", flush=True)


def bench_cold(n: int, rounds: int, out_root: Path) -> SizeResult:
    """The cold builds of one size: each after moving the previous build aside."""
    episodes, public = catalogue_paths(n, out_root)
    result = SizeResult(n=n, runs={"cold": [], "nochange": [], "touched": []})
    for round_ in range(1, rounds + 1):
        make_cold(episodes, public, trash_dir(out_root))
        subprocess.run(["sync"], check=False)
        timed_build(result, "cold", round_, episodes, public)
        # The same files with nothing else done, right after (see fs_floor.py), into the trash.
        wall, cpu = write_floor(episodes.parent, trash_dir(out_root) / f"floor-{time.time_ns()}",
                                workers=build_workers(n))
        result.floor.append((wall, cpu))
        print(f"   round {round_} fs floor  {wall:7.3f} s  cpu {cpu:7.3f} s", flush=True)
    return result


def build_workers(n: int) -> int:
    """The number of processes a build of n episodes uses (FEEDTOOL_JOBS is honoured)."""
    from feedtool.parallel import worker_count

    return worker_count(n)


def bench_rebuilds(result: SizeResult, rounds: int, out_root: Path) -> SizeResult:
    """No-change and touched rebuilds after the last cold build, the baseline, one tagging."""
    n = result.n
    catalogue = out_root / f"catalogue-{n}"  # made by bench_cold; making it again rewrites it
    episodes, public = catalogue / "episodes", catalogue / "public"
    print(f"\n== N = {n}: rebuilds", flush=True)
    for round_ in range(1, rounds + 1):
        timed_build(result, "nochange", round_, episodes, public)
        if "up to date" not in result.runs["nochange"][-1].output:
            raise SystemExit("the no-change rebuild did not report 'up to date'")
        touch_all(episodes)
        timed_build(result, "touched", round_, episodes, public)
        record_deletion(out_root)  # the touched build's swap removed the previous tree
    feed = public / "feed.xml"
    result.feed_mb = feed.stat().st_size / 1e6
    result.baseline_s, result.items, _ = time_baseline(feed, rounds=5)
    if result.items != n:
        raise SystemExit(f"the feed has {result.items} items, expected {n}")
    print(f"   baseline feedgen   {result.baseline_s:7.3f} s (median of 5, in-process)", flush=True)
    result.tag_ms = tag_cost_ms(episodes)
    print(f"   tagging one MP3    {result.tag_ms:7.2f} ms (write_tagged_copy, in-process, median)", flush=True)
    return result


def tag_cost_ms(episodes: Path, files: int = 100) -> float:
    """Median ms of write_tagged_copy for the first episode (20 chapters, the show's cover)."""
    from feedtool.audio import probe
    from feedtool.load import load_podcast
    from feedtool.tagging import metadata_for_episode, write_tagged_copy

    podcast = load_podcast(episodes)
    episode = podcast.episodes[0]
    meta = metadata_for_episode(podcast.show, episode, episode_dir=podcast.episode_dir(episode.slug))
    info = probe(episode.audio)
    times = []
    with tempfile.TemporaryDirectory(dir=episodes.parent) as temp:
        for index in range(files):
            start = time.perf_counter()
            write_tagged_copy(episode.audio, Path(temp) / f"{index}.mp3", meta, kind=info.kind,
                              duration_s=info.duration_s)
            times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def feedtool_command() -> list[str]:
    script = Path(sys.executable).parent / "feedtool"
    return [str(script)] if script.exists() else [sys.executable, "-m", "feedtool"]


def bench_help(rounds: int = 10) -> tuple[float, float]:
    command = [*feedtool_command(), "--help"]
    run_child(command)  # warm the page cache
    runs = [run_child(command) for _ in range(rounds)]
    return statistics.median(r.seconds for r in runs), max(r.rss_mb for r in runs)


def import_offenders(top: int = 6) -> list[tuple[str, float]]:
    """The slowest top-level imports of `feedtool --help` (cumulative ms, from -X importtime)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "feedtool", "--help"],
                          capture_output=True, text=True, check=True)
    found: list[tuple[str, float]] = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if match and len(match.group(3)) <= 1:  # depth 0: imported by feedtool's own start-up
            found.append((match.group(4), int(match.group(2)) / 1000))
    return sorted(found, key=lambda item: -item[1])[:top]


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} cores ({cpu or platform.machine()}), Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def mark(value: float, goal: float | None) -> str:
    if goal is None:
        return ""
    return f"{goal:g} {'met' if value <= goal else '**missed**'}"


def table(results: list[SizeResult], help_s: float, help_mb: float) -> str:
    rows = [
        "| N | what | median wall-clock | CPU (user+sys) | peak RSS | vs feedgen baseline | goal |",
        "|---:|---|---:|---:|---:|---:|---|",
    ]
    for res in results:
        base = res.baseline_s
        goals = res.n == 3000
        for step, label, goal in (("cold", "`feedtool build`, cold", GOALS["cold"]),
                                  ("nochange", "`feedtool build`, nothing changed", GOALS["nochange"]),
                                  ("touched", "`feedtool build`, every file touched", None)):
            seconds, rss = res.median(step), res.rss(step)
            goal_text = mark(seconds, goal if goals else None)
            if goals and step == "cold":
                goal_text += f"; RSS {mark(rss, GOALS['rss_mb'])}"
            rows.append(f"| {res.n:,} | {label} | {seconds:.2f} s | {res.cpu(step):.2f} s | {rss:.0f} MB | "
                        f"{seconds / base:.1f}x | {goal_text} |")
        if res.floor:
            floor_wall, floor_cpu = res.floor_median()
            rows.append(f"| {res.n:,} | file-system floor: the cold build's files written by a minimal "
                        f"script (bench/fs_floor.py), right after each cold build | {floor_wall:.2f} s | "
                        f"{floor_cpu:.2f} s | | | |")
        rows.append(f"| {res.n:,} | baseline: feedgen writing the same {res.feed_mb:.1f} MB feed from memory "
                    f"| {base:.2f} s | | | 1.0x | |")
        rows.append(f"| | tagging one MP3 (`write_tagged_copy`, in-process) | {res.tag_ms:.1f} ms | | | | |")
    rows.append(f"| | `feedtool --help` | {help_s:.3f} s | | {help_mb:.0f} MB | | {mark(help_s, GOALS['help'])} |")
    return "\n".join(rows)


def linearity(results: list[SizeResult]) -> str:
    """ms per episode at each size, wall-clock and CPU; growth 1.00 = exactly linear.

    CPU time is the steadier figure on a shared machine: other work stretches wall-clock time
    but not the CPU seconds the build itself uses.
    """
    if len(results) < 2:
        return ""
    first, last = results[0], results[-1]
    sizes = " | ".join(f"at {r.n:,}" for r in results)
    lines = ["", "Per episode (linearity check; growth = (time at the largest N / time at the smallest) / "
             "(ratio of the Ns), 1.00 is linear):", "",
             f"| step | wall ms/episode {sizes} | CPU ms/episode {sizes} | growth, wall | growth, CPU |",
             "|---|" + "---:|" * (2 * len(results) + 2)]
    scale = last.n / first.n
    for step in ("cold", "nochange", "touched"):
        wall = " | ".join(f"{1000 * r.median(step) / r.n:.2f}" for r in results)
        cpu = " | ".join(f"{1000 * r.cpu(step) / r.n:.2f}" for r in results)
        wall_growth = last.median(step) / first.median(step) / scale
        cpu_growth = last.cpu(step) / first.cpu(step) / scale
        lines.append(f"| {step} | {wall} | {cpu} | {wall_growth:.2f} | {cpu_growth:.2f} |")
    if all(r.floor for r in results):
        # The floor's cost per byte depends on the VM's memory history (see fs_floor.py), not on N.
        def own(r: SizeResult, index: int) -> float:
            return (r.median("cold") if index == 0 else r.cpu("cold")) - r.floor_median()[index]

        wall = " | ".join(f"{1000 * own(r, 0) / r.n:.2f}" for r in results)
        cpu = " | ".join(f"{1000 * own(r, 1) / r.n:.2f}" for r in results)
        lines.append(f"| cold minus the file-system floor | {wall} | {cpu} | "
                     f"{own(last, 0) / own(first, 0) / scale:.2f} | {own(last, 1) / own(first, 1) / scale:.2f} |")
    return "\n".join(lines)


def report(results: list[SizeResult], help_s: float, help_mb: float, offenders: list[tuple[str, float]],
           rounds: int, argv: list[str]) -> str:
    command = " ".join([".venv/bin/python bench/bench_build.py", *argv])
    imports = ", ".join(f"{name} {ms:.0f} ms" for name, ms in offenders)
    return "\n".join([
        f"Measured {time.strftime('%Y-%m-%d', time.gmtime())} on {machine()}, "
        f"median of {rounds} rounds, with `{command}`.",
        "",
        table(results, help_s, help_mb),
        linearity(results),
        "",
        f"Slowest imports of `feedtool --help` (cumulative): {imports}.",
    ])


def write_doc(text: str, section: str = SECTION, script: str = "bench_build.py") -> None:
    """Put generated figures into ``section`` of docs/benchmarks.md, between the start and end
    marks that ``script`` owns (replaced on every run; the section is made when missing)."""
    start, end = (f"<!-- {script}: {edge} of generated figures -->" for edge in ("start", "end"))
    block = f"{start}\n{text}\n{end}"
    doc = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    if start in doc and end in doc:
        before, rest = doc.split(start, 1)
        doc = before + block + rest.split(end, 1)[1]
    elif section + "\n" in doc:
        head, tail = doc.split(section + "\n", 1)
        doc = f"{head}{section}\n\n{block}\n{tail}"
    else:
        doc = doc.rstrip("\n") + f"\n\n{section}\n\n{block}\n"
    DOC.write_text(doc, encoding="utf-8")
    print(f"updated {DOC}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description="Time feedtool build against a plain feedgen script.")
    parser.add_argument("--n", type=int, default=3000, help="episodes in the catalogue (default 3000)")
    parser.add_argument("--also", type=int, action="append", default=[],
                        help="another catalogue size, for the linearity check (e.g. --also 10000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per size (default 3)")
    parser.add_argument("--out", type=Path, default=HERE / "out", help="where catalogues go")
    parser.add_argument("--no-wait", action="store_true",
                        help="start the cold builds even if files were deleted in the last 6 minutes "
                             "(ext4 without a journal is then slow to allocate inodes; see the docstring)")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args(argv)

    print(f"machine: {machine()}")
    sizes = [args.n, *args.also]
    empty_trash(args.out)
    if not args.no_wait:
        wait_for_file_system(args.out)
    results = [bench_cold(n, args.rounds, args.out) for n in sizes]  # every cold build first
    results = [bench_rebuilds(result, args.rounds, args.out) for result in results]
    empty_trash(args.out)
    help_s, help_mb = bench_help()
    offenders = import_offenders()
    text = report(results, help_s, help_mb, offenders, args.rounds,
                  [a for a in argv if a != "--write"])
    print()
    print(text)
    if args.write:
        write_doc(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

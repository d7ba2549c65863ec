#!/usr/bin/env python3
"""The file-system floor of a cold build: the same files, written with nothing else done.

A cold `feedtool build` of the benchmark catalogue writes one tagged MP3 per episode (the 60 KB
master behind a ~245 KB tag, most of it the show's cover), a chapters.json, an episode folder,
two hard links, the feed and the cache tables. On this machine (a 2-core VM) putting ~900 MB into
the page cache costs more CPU than everything else the build does per episode, and how much
depends on the state of the VM's memory, so the benchmark measures this floor side by side with
the cold builds: it tells how much of a build's time is feedtool's and how much the machine's.

``write_floor`` repeats the file work of a finished build (taken from its public/ tree: every
file's size, each master read and hashed once as build does) in as many forked processes as the
build uses, with no parsing, rendering or tagging: temporary file + fallocate + two writes +
rename into a cache folder, a folder per episode and hard links into it, then the feed.

    .venv/bin/python bench/fs_floor.py bench/out/catalogue-3000   # after a build of it
"""

from __future__ import annotations

import hashlib
import os
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class EpisodeFiles:
    slug: str
    master: Path
    audio_size: int
    chapters_size: int


def plan_from_build(catalogue: Path) -> tuple[list[EpisodeFiles], int]:
    """The files a build of ``catalogue`` wrote: per episode, and the feed's size."""
    public = catalogue / "public"
    episodes = []
    for folder in sorted(path for path in public.iterdir() if path.is_dir()):
        audio = next(path for path in folder.iterdir() if path.suffix == ".mp3")
        chapters = folder / "chapters.json"
        episodes.append(EpisodeFiles(
            slug=folder.name,
            master=catalogue / "episodes" / folder.name / "episode.mp3",
            audio_size=audio.stat().st_size,
            chapters_size=chapters.stat().st_size if chapters.exists() else 0,
        ))
    return episodes, (public / "feed.xml").stat().st_size


def _write_file(path: Path, head: bytes, body: bytes) -> None:
    """A new file written as the tagger writes one: temp name, fallocate, body, head, rename."""
    temp = path.with_name(f".tmp.{path.name}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        os.posix_fallocate(fd, 0, len(head) + len(body))
        os.pwrite(fd, body, len(head))
        os.pwrite(fd, head, 0)
    finally:
        os.close(fd)
    os.replace(temp, path)


def _work(plan: list[EpisodeFiles], root: Path) -> None:
    filler = bytes(1 << 20)
    for _index, episode in enumerate(plan):
        master = episode.master.read_bytes()
        hashlib.sha256(master).hexdigest()  # build hashes every master (its content key)
        body = master[: episode.audio_size]
        head = filler[: max(0, episode.audio_size - len(body))]
        tagged = root / "cache" / "tagged" / f"{episode.slug}.mp3"
        _write_file(tagged, head, body)
        folder = root / "staging" / episode.slug
        os.mkdir(folder)
        os.link(tagged, folder / "audio.mp3")
        if episode.chapters_size:
            stored = root / "cache" / "files" / f"{episode.slug}.json"
            _write_file(stored, b"", filler[: episode.chapters_size])
            os.link(stored, folder / "chapters.json")


def write_floor(catalogue: Path, root: Path, workers: int = 2) -> tuple[float, float]:
    """Do the file work of a build of ``catalogue`` under ``root`` (new); (wall s, CPU s)."""
    plan, feed_size = plan_from_build(catalogue)
    for folder in ("cache/tagged", "cache/files", "staging"):
        (root / folder).mkdir(parents=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    cpu_start = time.process_time()
    children = []
    for worker in range(workers):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            try:
                _work(plan[worker::workers], root)
            finally:
                os._exit(0)
        children.append(pid)
    for pid in children:
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit("a floor worker failed")
    (root / "staging" / "feed.xml").write_bytes(bytes(feed_size))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
           + time.process_time() - cpu_start)
    return time.perf_counter() - start, cpu


def main() -> int:
    catalogue = Path(sys.argv[1])
    root = catalogue.parent / "trash" / f"floor-{time.time_ns()}"
    wall, cpu = write_floor(catalogue, root)
    print(f"file-system floor of a cold build of {catalogue.name}: {wall:.2f} s wall-clock, "
          f"{cpu:.2f} s CPU (written under {root}; bench_build.py empties trash/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

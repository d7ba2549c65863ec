"""Benchmark: tagging a 100 MB MP3 and a 100 MB M4A against copying the same file.

Budget (issue 3): ``write_tagged_copy`` with 20 chapters and a ~300 KB cover takes at most 1.5x
the time of ``shutil.copyfile`` of the same master, measured side by side in one run, and its peak
memory stays under 64 MB (no whole-file reads).

The masters are made once with ffmpeg and cached in bench/out/ (gitignored): a 60 s pink-noise
clip encoded at 320 kbit/s, repeated by stream copy until the file is about 100 MB.

Run from the project root:

    .venv/bin/python bench/bench_tagging.py [--rounds 9]

Timing: copy and tag runs alternate, each going first in every other round (so both see the same
page cache and machine load); before each run the previous outputs are deleted and ``os.sync()``
flushes pending writes, so no run pays for another's write-back. The first round is a warm-up;
medians are reported. Memory: a child process that imports feedtool,
prepares the metadata, notes ``ru_maxrss`` (the baseline), tags once and reports ``ru_maxrss``
again (the peak of the whole process, tagging included).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "tagging"
sys.path.insert(0, str(ROOT))

TARGET_BYTES = 100 * 1000 * 1000
CLIP_SECONDS = 60
CODECS = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "320k"],
    "m4a": ["-c:a", "aac", "-b:a", "320k"],
}


def make_master(kind: str) -> Path:
    """A ~100 MB master of ``kind``, cached."""
    path = OUT / f"master-100mb.{kind}"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    clip = OUT / f"clip.{kind}"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"anoisesrc=color=pink:duration={CLIP_SECONDS}:sample_rate=44100:amplitude=0.3",
         "-ac", "2", *CODECS[kind], str(clip)],
        check=True,
    )
    repeats = max(1, round(TARGET_BYTES / clip.stat().st_size))
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-stream_loop", str(repeats - 1), "-i", str(clip),
         "-c", "copy", "-map_metadata", "-1", str(path)],
        check=True,
    )
    clip.unlink()
    return path


def make_cover() -> Path:
    """A ~300 KB JPEG (noise compresses badly, which is the point)."""
    path = OUT / "cover.jpg"
    if not path.exists():
        from PIL import Image

        side = 705
        image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=75)
        path.write_bytes(buffer.getvalue())
    return path


def metadata(cover: bytes, duration_s: float):  # -> TagMetadata
    from feedtool.model import Chapter
    from feedtool.tagging import TagMetadata

    step = duration_s / 20
    chapters = tuple(Chapter(start_s=round(i * step, 3), title=f"Chapter {i + 1}: a topic") for i in range(20))
    return TagMetadata(
        title="Benchmark episode", artist="Bench", album="Benchmarks", track=1, date="2024-01-01",
        cover=cover, cover_mime="image/jpeg", chapters=chapters,
    )


def time_pair(master: Path, rounds: int) -> tuple[list[float], list[float]]:
    from feedtool.audio import probe
    from feedtool.tagging import write_tagged_copy

    info = probe(master)
    meta = metadata(make_cover().read_bytes(), info.duration_s)
    copy_dest = OUT / f"copy{master.suffix}"
    tag_dest = OUT / f"tagged{master.suffix}"
    copies, tags = [], []

    def run_copy() -> float:
        started = time.perf_counter()
        shutil.copyfile(master, copy_dest)
        return time.perf_counter() - started

    def run_tag() -> float:
        started = time.perf_counter()
        write_tagged_copy(master, tag_dest, meta, kind=info.kind, duration_s=info.duration_s)
        return time.perf_counter() - started

    for round_ in range(rounds + 1):
        order = [(run_copy, copies), (run_tag, tags)]
        if round_ % 2:
            order.reverse()  # neither always runs second
        for run, results in order:
            for dest in (copy_dest, tag_dest):
                dest.unlink(missing_ok=True)
            os.sync()  # no write-back of the previous run's 100 MB during this one
            elapsed = run()
            if round_:  # the first round warms the page cache
                results.append(elapsed)
    copy_dest.unlink(missing_ok=True)
    tag_dest.unlink(missing_ok=True)
    return copies, tags


CHILD = """
import json, resource, sys
from pathlib import Path
sys.path.insert(0, {root!r})
sys.path.insert(0, {bench!r})
import bench_tagging as bench
from feedtool.audio import probe
import feedtool.tagging, feedtool.tagging.id3, feedtool.tagging.mp4, feedtool.tagging.mp4box
import mutagen.mp3, mutagen.mp4, mutagen.id3
master = Path({master!r})
info = probe(master)
meta = bench.metadata(bench.make_cover().read_bytes(), info.duration_s)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
import tracemalloc
tracemalloc.start()
feedtool.tagging.write_tagged_copy(master, bench.OUT / ("child" + master.suffix), meta,
                                   kind=info.kind, duration_s=info.duration_s)
python_peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
(bench.OUT / ("child" + master.suffix)).unlink()
print(json.dumps([before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, python_peak]))
"""


def peak_rss_mb(master: Path) -> tuple[float, float, float]:
    """(peak RSS before tagging, peak RSS of the whole child, Python heap peak while tagging), MiB."""
    code = CHILD.format(root=str(ROOT), bench=str(ROOT / "bench"), master=str(master))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    before, after, heap = json.loads(out.strip().splitlines()[-1])
    return before / 1024, after / 1024, heap / 2**20  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    rows = []
    for kind in ("mp3", "m4a"):
        master = make_master(kind)
        copies, tags = time_pair(master, args.rounds)
        copy_median, tag_median = statistics.median(copies), statistics.median(tags)
        rows.append({
            "kind": kind,
            "size_mb": master.stat().st_size / 1e6,
            "copy_s": copy_median,
            "tag_s": tag_median,
            "ratio": tag_median / copy_median,
            "tag_min_s": min(tags),
            "copy_min_s": min(copies),
        })
        rows[-1]["rss_baseline_mb"], rows[-1]["rss_mb"], rows[-1]["heap_mb"] = peak_rss_mb(master)
    print(f"{'file':<16}{'copyfile':>10}{'tag':>10}{'ratio':>8}{'peak RSS':>10}{'(before)':>10}"
          f"{'heap peak':>11}")
    for row in rows:
        label = f"{row['kind']} {row['size_mb']:.1f} MB"
        print(f"{label:<16}{row['copy_s']:>9.3f}s{row['tag_s']:>9.3f}s"
              f"{row['ratio']:>8.2f}{row['rss_mb']:>8.1f}MB{row['rss_baseline_mb']:>8.1f}MB"
              f"{row['heap_mb']:>9.1f}MB")
    print(json.dumps(rows))
    failed = [row["kind"] for row in rows if row["ratio"] > 1.5 or row["rss_mb"] >= 64]
    if failed:
        print(f"over budget: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()

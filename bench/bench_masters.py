"""Benchmark (issue 10): publish from a fresh clone with no audio, vs `aws s3 sync` of the same change.

A show of N episodes (bench/make_catalogue.py: episode.md with 20 chapters from timestamp lines,
a short real MP3 master each; episode 1's master is a 100 MB MP3) is built and published to
SeaweedFS from a "laptop" folder that has the masters (setup, not timed). Its episodes/ without
audio (text, artwork and the committed episodes/feedtool.lock) is the "origin" a CI job checks
out. Then, per run and interleaved, three changes:

- (a) notes: one episode's show notes edited (a line that is not a chapter);
- (b) new:   one new episode with a 50 MB master present in the clone (as a laptop adds it);
- (c) chapters: episode 1's chapter title edited (its 100 MB master is not in the clone).

feedtool: a fresh copy of origin (no audio, no .feedtool-cache, no public/), the change applied,
then ``python -m feedtool publish --format json --quiet`` timed as one new process (build and
validation included), the target and endpoint from FEEDTOOL_PUBLISH_TO / FEEDTOOL_ENDPOINT_URL /
FEEDTOOL_ADDRESSING_STYLE and credentials from the AWS environment, as the CI workflow runs it.
After each publish the changed episode's text and the updated lock file go back into origin (the
commit; the publish workflow commits feedtool.lock back), so the next run starts from what is live:
no episode vanishes and, for (a), every enclosure URL must stay as it was (checked in the live feed).

aws s3 sync (the baseline a podcaster would use by hand): the laptop makes the same change and
runs ``feedtool build`` (not timed: its time is printed apart), then ``aws s3 sync public/
s3://bucket/show --exclude '.feedtool/*' --exclude .feedtool-build`` is timed; it uploads every
file of public/ whose size or mtime changed (for (c) the whole re-tagged 100 MB copy).

Bytes sent are measured, not assumed: both tools talk to SeaweedFS through a counting TCP proxy
(request bytes client -> server, HTTP headers included); the tools' own figures are printed too
(feedtool's ``uploaded_bytes`` and media uploads from --format json, the sizes of aws's
``upload:`` lines).

    .venv/bin/python bench/bench_masters.py                           # 3,000 episodes, 3 runs
    .venv/bin/python bench/bench_masters.py --episodes 100 --runs 1   # a quick look

The 100 MB and 50 MB masters (pink noise, 320 kbit/s) are made once with ffmpeg into
bench/out/masters/ (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

from make_catalogue import episode_md, make_catalogue, master_tag
from seaweed_server import ACCESS_KEY, SECRET_KEY, start_seaweed

OUT = HERE / "out" / "masters"
AUDIO_SUFFIXES = (".mp3", ".m4a", ".ogg", ".opus", ".flac")
BIG_BYTES = 100 * 1000 * 1000  # episode 1's master, re-tagged in (c)
NEW_BYTES = 50 * 1000 * 1000  # the new episode's master in (b)
BUCKET_FT = "feedtool-show"
BUCKET_AWS = "aws-show"
BUCKET_MASTERS = "masters"
PREFIX = "show"


# --- masters (made once) ------------------------------------------------------------------------

def make_master(size: int) -> Path:
    """A real MP3 of about ``size`` bytes (60 s of pink noise at 320 kbit/s, looped), no tags."""
    path = OUT / f"master-{size // 1_000_000}mb.mp3"
    if path.is_file():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    clip = OUT / "clip.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "anoisesrc=color=pink:duration=60:sample_rate=44100:amplitude=0.3", "-ac", "2",
                    "-c:a", "libmp3lame", "-b:a", "320k", "-map_metadata", "-1", "-id3v2_version", "0",
                    str(clip)], check=True)
    repeats = max(1, round(size / clip.stat().st_size))
    partial = path.with_suffix(".part.mp3")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", str(repeats - 1), "-i", str(clip),
                    "-c", "copy", "-map_metadata", "-1", "-id3v2_version", "0", "-write_xing", "1",
                    str(partial)], check=True)
    clip.unlink()
    partial.replace(path)
    return path


def write_master(target: Path, frames: Path, number: int) -> None:
    """An episode's own master: a small ID3 tag of its own (as an editor exports) + the frames."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out, open(frames, "rb") as source:
        out.write(master_tag(number))
        shutil.copyfileobj(source, out, 1 << 20)


# --- a counting proxy ----------------------------------------------------------------------------

class RequestMeter:
    """Splits one connection's client -> server bytes into HTTP requests: bytes per object path.

    boto3 and awscli send a Content-Length with every body (also with Expect: 100-continue), so
    the stream is headers, then exactly that many body bytes, then the next request.
    """

    def __init__(self, totals: dict[str, int]) -> None:
        self.totals = totals
        self.buffer = b""
        self.path = ""
        self.remaining = 0

    def feed(self, data: bytes) -> None:
        while data:
            if self.remaining:
                take = min(self.remaining, len(data))
                self.totals[self.path] = self.totals.get(self.path, 0) + take
                self.remaining -= take
                data = data[take:]
                continue
            self.buffer += data
            data = b""
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head, data = self.buffer[:end + 4], self.buffer[end + 4:]
            self.buffer = b""
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            self.path = parts[1].split("?", 1)[0] if len(parts) > 1 else "?"
            self.totals[self.path] = self.totals.get(self.path, 0) + len(head)
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    self.remaining = int(value.strip())
                elif name.strip().lower() == "transfer-encoding":
                    self.path = "(chunked: not split)"


class CountingProxy:
    """A TCP relay 127.0.0.1:port -> upstream that counts the bytes clients send (and receive).

    Transparent to SigV4 (the Host header the client signs is what the server sees). ``by_path``
    splits what was sent by the object path of each request (media vs the rest).
    """

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.sent = 0
        self.received = 0
        self.by_path: dict[str, int] = {}
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        with self._lock:
            self.sent = self.received = 0
            self.by_path = {}

    def media_sent(self) -> int:
        """Bytes sent in requests on audio objects (PUT, multipart parts, their headers)."""
        with self._lock:
            return sum(size for path, size in self.by_path.items() if path.endswith(AUDIO_SUFFIXES))

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket, upstream: bool) -> None:
        meter = RequestMeter(self.by_path)
        try:
            while chunk := source.recv(1 << 18):
                target.sendall(chunk)
                with self._lock:
                    if upstream:
                        self.sent += len(chunk)
                        meter.totals = self.by_path  # reset() replaces the dict
                        meter.feed(chunk)
                    else:
                        self.received += len(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def close(self) -> None:
        self._listener.close()


# --- the show ------------------------------------------------------------------------------------

@dataclass
class Run:
    seconds: float
    sent: int  # bytes the tool sent to the service (proxy count)
    reported: int  # the tool's own figure (feedtool uploaded_bytes; aws: sizes of upload: lines)
    media: int  # of those, audio bytes (as the tool reports them)
    media_sent: int = 0  # of ``sent``, requests on audio objects (proxy count)
    ok: bool = True
    note: str = ""
    extra: dict = field(default_factory=dict)


def copy_text(source: Path, target: Path) -> None:
    """A checkout: episodes/ without audio (gitignored), with the lock file."""
    shutil.copytree(source, target, ignore=lambda _d, names: [n for n in names if n.endswith(AUDIO_SUFFIXES)])


def edit_notes(md: Path, tag: str) -> None:
    """Change a notes line that is not a chapter line (the first line after the front matter)."""
    text = md.read_text(encoding="utf-8")
    head, body = text.split("\n---\n", 1)
    first, rest = body.split("\n", 1)
    md.write_text(f"{head}\n---\n{first} (Correction {tag}.)\n{rest}", encoding="utf-8")


def edit_chapter(md: Path, tag: str) -> None:
    """Rename the second chapter (the `[00:03] ...` timestamp line of the show notes)."""
    text = md.read_text(encoding="utf-8")
    new, count = re.subn(r"^\[00:03\] .*$", f"[00:03] Renamed chapter {tag}", text, count=1, flags=re.M)
    assert count == 1, md
    md.write_text(new, encoding="utf-8")


def new_episode(episodes: Path, number: int, frames: Path | None, audio: str = "episode.mp3") -> Path:
    """An episode folder as the laptop adds it (frames: its master's audio, written next to it)."""
    folder = episodes / f"episode-{number:05d}"
    folder.mkdir()
    date = datetime(2015, 1, 5, 9, 0, tzinfo=UTC) + timedelta(hours=8 * number)
    text = episode_md(number, date, Random(number)).replace("\naudio: episode.mp3\n", f"\naudio: {audio}\n")
    (folder / "episode.md").write_text(text, encoding="utf-8")
    if frames is not None:
        write_master(folder / "episode.mp3", frames, number)
    return folder


class Bench:
    def __init__(self, work: Path, episodes: int, proxy: CountingProxy, env: dict[str, str]) -> None:
        self.work = work
        self.n = episodes
        self.proxy = proxy
        self.env = env
        self.laptop = work / "laptop"
        self.origin = work / "origin"
        aws = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
        if not aws:
            raise SystemExit("awscli is missing: pip install -e '.[bench]'")
        self.aws: str = aws
        self.laptop_builds: list[float] = []
        self.keep = False
        self.s3: Any = None  # a boto3 client straight to SeaweedFS (setup only)
        self.proxied: Any = None  # one through the proxy (the plain upload that goal (b) allows)
        self.added = 0

    # the tools, each a new process
    def feedtool(self, project: Path, *args: str, bucket: str = BUCKET_FT) -> subprocess.CompletedProcess[str]:
        env = dict(self.env, FEEDTOOL_PUBLISH_TO=f"s3://{bucket}/{PREFIX}",
                   FEEDTOOL_ENDPOINT_URL=self.proxy.endpoint_url, FEEDTOOL_ADDRESSING_STYLE="path")
        return subprocess.run([sys.executable, "-m", "feedtool", *args], env=env, cwd=project,
                              capture_output=True, text=True)

    def publish(self, project: Path, *options: str) -> Run:
        self.proxy.reset()
        start = time.perf_counter()
        done = self.feedtool(project, "publish", "--format", "json", "--quiet", *options)
        elapsed = time.perf_counter() - start
        sent, media_sent = self.proxy.sent, self.proxy.media_sent()
        if done.returncode != 0:
            message = (done.stderr.strip() or done.stdout.strip()).splitlines()
            return Run(elapsed, sent, 0, 0, media_sent, ok=False,
                       note=f"exit {done.returncode}: " + " / ".join(message[:4]))
        report = json.loads(done.stdout)
        # what publish says it sent: uploads, plus the copies it re-tagged inside the bucket
        retag = report.get("retagged_bytes_sent", 0)
        media = sum(u["size"] for u in report["uploaded"] if u["key"].endswith(AUDIO_SUFFIXES)) + retag
        return Run(elapsed, sent, report["uploaded_bytes"] + retag, media, media_sent,
                   extra={"uploads": len(report["uploaded"]), "report": report,
                          "retagged": [(r["key"], r.get("path"), r.get("bytes_sent")) for r in report.get("retagged", [])]})

    def build_laptop(self) -> float:
        start = time.perf_counter()
        done = self.feedtool(self.laptop, "build", "--quiet")
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"laptop build failed:\n{done.stdout}\n{done.stderr}")
        return elapsed

    def sync(self) -> Run:
        command = [self.aws, "--endpoint-url", self.proxy.endpoint_url, "s3", "sync", str(self.laptop / "public"),
                   f"s3://{BUCKET_AWS}/{PREFIX}", "--no-progress",
                   "--exclude", ".feedtool/*", "--exclude", ".feedtool-build"]
        self.proxy.reset()
        start = time.perf_counter()
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, cwd=self.laptop)
        elapsed = time.perf_counter() - start
        sent, media_sent = self.proxy.sent, self.proxy.media_sent()
        if done.returncode != 0:
            raise SystemExit(f"aws s3 sync failed:\n{done.stdout}\n{done.stderr}")
        paths = [Path(line[len("upload: "):].rsplit(" to s3://", 1)[0])
                 for line in done.stdout.splitlines() if line.startswith("upload: ")]
        sizes = [(p if p.is_absolute() else self.laptop / p).stat().st_size for p in paths]
        media = sum(s for p, s in zip(paths, sizes, strict=True) if p.name.endswith(AUDIO_SUFFIXES))
        keys = [f"{p.relative_to(self.laptop / 'public') if p.is_absolute() else p} ({s})"
                for p, s in zip(paths, sizes, strict=True)]
        return Run(elapsed, sent, sum(sizes), media, media_sent, extra={"uploads": len(paths), "keys": keys})

    # setup
    def setup(self, big: Path) -> None:
        t0 = time.perf_counter()
        make_catalogue(self.n, self.laptop)
        (self.laptop / "master.mp3").unlink()  # make_catalogue's frames, not part of the show
        (self.laptop / "catalogue.version").unlink()
        show = self.laptop / "episodes/podcast.yaml"  # publish refuses placeholder addresses
        show.write_text(show.read_text(encoding="utf-8").replace("example.com", "feedtool-bench.net"),
                        encoding="utf-8")
        write_master(self.laptop / "episodes/episode-00001/episode.mp3", big, 1)
        print(f"setup: show of {self.n} episodes written ({time.perf_counter() - t0:.1f} s)", flush=True)
        t0 = time.perf_counter()
        first = self.publish(self.laptop)
        if not first.ok:
            raise SystemExit(f"first publish from the laptop failed: {first.note}")
        print(f"setup: laptop build + first publish {time.perf_counter() - t0:.1f} s, "
              f"{first.extra['uploads']} files, {first.reported / 1e6:.1f} MB", flush=True)
        t0 = time.perf_counter()
        first_sync = self.sync()
        print(f"setup: first aws s3 sync {time.perf_counter() - t0:.1f} s, {first_sync.extra['uploads']} files, "
              f"{first_sync.reported / 1e6:.1f} MB", flush=True)
        copy_text(self.laptop / "episodes", self.origin / "episodes")

    def discard(self, clone: Path) -> None:
        if not self.keep:
            shutil.rmtree(clone)

    def clone(self, run: int, situation: str) -> Path:
        target = self.work / f"clone-{situation}-{run}"
        copy_text(self.origin / "episodes", target / "episodes")
        return target

    def breakdown(self) -> dict[str, float]:
        """Where (a)'s time goes: start-up, the cold build of the clone, publish of a built public/."""
        clone = self.clone(0, "breakdown")
        edit_notes(clone / "episodes" / f"episode-{max(1, self.n // 2):05d}/episode.md", "breakdown")
        parts = {}
        start = time.perf_counter()
        self.feedtool(clone, "--help")
        parts["start-up (`feedtool --help`)"] = time.perf_counter() - start
        start = time.perf_counter()
        done = self.feedtool(clone, "build", "--quiet")
        parts["`feedtool build` of the fresh clone (no cache, no public/)"] = time.perf_counter() - start
        if done.returncode == 0:
            start = time.perf_counter()
            self.feedtool(clone, "validate", "--format", "json")
            parts["`feedtool validate` of the built feed"] = time.perf_counter() - start
            run = self.publish(clone, "--no-build", "--no-validate")
            parts["`feedtool publish --no-build --no-validate` (list, compare, upload, target state)"] = run.seconds
        self.discard(clone)
        return parts

    def profile(self, top: int) -> str:
        """(a) once more under cProfile (one process: FEEDTOOL_JOBS=1): the heaviest feedtool calls."""
        import io
        import pstats

        clone = self.clone(0, "profile")
        edit_notes(clone / "episodes" / f"episode-{max(1, self.n // 2):05d}/episode.md", "profile")
        out = self.work / "publish.prof"
        env = dict(self.env, FEEDTOOL_JOBS="1", FEEDTOOL_PUBLISH_TO=f"s3://{BUCKET_FT}/{PREFIX}",
                   FEEDTOOL_ENDPOINT_URL=self.proxy.endpoint_url, FEEDTOOL_ADDRESSING_STYLE="path")
        subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), "-m", "feedtool", "publish", "--quiet"],
                       env=env, cwd=clone, capture_output=True, check=True)
        self.discard(clone)
        text = io.StringIO()
        stats = pstats.Stats(str(out), stream=text)
        stats.sort_stats("cumulative").print_stats(r"feedtool/(?!cli)", top)
        return text.getvalue()

    # the three changes
    def notes(self, run: int) -> tuple[Run, Run]:
        md = f"episode-{max(1, self.n // 2):05d}/episode.md"
        clone = self.clone(run, "notes")
        edit_notes(clone / "episodes" / md, f"r{run}")
        before = self.enclosures()
        ours = self.publish(clone)
        ours.extra["enclosures_kept"] = self.enclosures() == before
        if ours.ok:
            self.commit(clone, md.split("/")[0])
        self.discard(clone)
        edit_notes(self.laptop / "episodes" / md, f"r{run}")
        self.laptop_builds.append(self.build_laptop())
        return ours, self.sync()

    def plain_upload(self, path: Path) -> float:
        """Seconds boto3's upload_file takes for this file through the proxy (the 'upload' in goal (b))."""
        start = time.perf_counter()
        self.proxied.upload_file(str(path), BUCKET_MASTERS, "scratch/plain-upload.mp3")
        return time.perf_counter() - start

    def enclosures(self) -> list[bytes]:
        """The live feed's enclosure URLs (read straight from SeaweedFS, not through the proxy)."""
        feed = self.s3.get_object(Bucket=BUCKET_FT, Key=f"{PREFIX}/feed.xml")["Body"].read()
        return re.findall(rb'<enclosure url="([^"]+)"', feed)

    def commit(self, clone: Path, folder: str) -> None:
        """An episode's text and the lock file go into origin (the commit), so later runs start there."""
        shutil.rmtree(self.origin / "episodes" / folder, ignore_errors=True)
        copy_text(clone / "episodes" / folder, self.origin / "episodes" / folder)
        shutil.copyfile(clone / "episodes/feedtool.lock", self.origin / "episodes/feedtool.lock")

    def new(self, run: int, frames: Path) -> tuple[Run, Run | None]:
        number = self.n + 2 * run + 1
        clone = self.clone(run, "new")
        new_episode(clone / "episodes", number, frames)
        ours = self.publish(clone)
        ours.extra["upload_s"] = self.plain_upload(clone / "episodes" / f"episode-{number:05d}/episode.mp3")
        if ours.ok:
            self.commit(clone, f"episode-{number:05d}")
        self.discard(clone)
        new_episode(self.laptop / "episodes", number, frames)
        self.laptop_builds.append(self.build_laptop())
        return ours, self.sync()

    def new_s3(self, run: int, frames: Path) -> tuple[Run, Run | None]:
        """(b) with the master in a masters bucket (s3://, read with publish's settings) instead."""
        number = self.n + 2 * run + 2
        key = f"2026/episode-{number:05d}.mp3"
        staged = self.work / "staged.mp3"
        write_master(staged, frames, number)
        self.s3.upload_file(str(staged), BUCKET_MASTERS, key)  # direct, not through the proxy
        staged.unlink()
        clone = self.clone(run, "new-s3")
        new_episode(clone / "episodes", number, None, audio=f"s3://{BUCKET_MASTERS}/{key}")
        ours = self.publish(clone)
        ours.extra["fetched"] = self.proxy.received
        write_master(staged, frames, number)
        ours.extra["upload_s"] = self.plain_upload(staged)
        staged.unlink()
        if ours.ok:
            self.commit(clone, f"episode-{number:05d}")
        self.discard(clone)
        return ours, None

    def chapters(self, run: int) -> tuple[Run, Run]:
        md = "episode-00001/episode.md"
        clone = self.clone(run, "chapters")
        edit_chapter(clone / "episodes" / md, f"r{run}")
        ours = self.publish(clone)
        if ours.ok:  # the edit and the lock file (the workflow commits it back after a publish)
            self.commit(clone, md.split("/")[0])
        self.discard(clone)
        edit_chapter(self.laptop / "episodes" / md, f"r{run}")
        self.laptop_builds.append(self.build_laptop())
        return ours, self.sync()


def describe(ours: Run, theirs: Run | None) -> str:
    line = (f"feedtool {ours.seconds:.2f} s, sent {ours.sent / 1e6:.2f} MB, audio {ours.media_sent / 1e6:.2f} MB "
            f"(reported: uploaded {ours.reported / 1e6:.2f} MB, media {ours.media / 1e6:.2f} MB)")
    if "fetched" in ours.extra:
        line += f", received {ours.extra['fetched'] / 1e6:.2f} MB"
    for key, path, sent in ours.extra.get("retagged", []):
        line += f", re-tagged {key} ({path}, {(sent or 0) / 1e6:.2f} MB sent)"
    if "upload_s" in ours.extra:
        line += f", plain upload of the copy {ours.extra['upload_s']:.2f} s"
    if "enclosures_kept" in ours.extra:
        line += f", enclosure URLs {'unchanged' if ours.extra['enclosures_kept'] else 'CHANGED'}"
    if not ours.ok:
        line += " FAILED: " + ours.note
    if theirs is not None:
        line += (f" | aws {theirs.seconds:.2f} s, sent {theirs.sent / 1e6:.2f} MB, audio {theirs.media_sent / 1e6:.2f} MB"
                 f" ({theirs.extra['uploads']} files, {theirs.reported / 1e6:.2f} MB)")
    return line


LABELS = {
    "notes": "(a) one episode's notes edited",
    "new": "(b) one new episode, its 50 MB master in the clone",
    "new-s3": "(b') one new episode, its 50 MB master at s3://",
    "chapters": "(c) episode 1's chapters edited (100 MB master not in the clone)",
}


def goal(situation: str, runs: list[Run]) -> str:
    """The issue's goal for this change, and whether the medians meet it."""
    seconds = statistics.median(r.seconds for r in runs)
    if any(not r.ok for r in runs):
        return "not measurable: publish failed"
    if situation == "notes":
        media = max(r.media_sent for r in runs)
        kept = all(r.extra.get("enclosures_kept") for r in runs)
        met = seconds <= 2.0 and media == 0
        return (f"<= 2 s and 0 media bytes: {'met' if met else 'missed'} ({seconds:.2f} s, {media} audio bytes sent; "
                f"enclosure URLs {'unchanged' if kept else 'CHANGED'})")
    if situation in ("new", "new-s3"):
        upload = statistics.median(r.extra["upload_s"] for r in runs)
        met = seconds <= 2.0 + upload
        extra = " (+ the fetch, not in the goal)" if situation == "new-s3" else ""
        return (f"<= 2 s + the plain upload ({upload:.2f} s) = {2 + upload:.2f} s{extra}: "
                f"{'met' if met else 'missed'}")
    audio = statistics.median(r.media_sent for r in runs)
    sent = statistics.median(r.sent for r in runs)
    return (f"<= 10 MB sent: audio {audio / 1e6:.2f} MB {'met' if audio <= 10e6 else 'missed'}; "
            f"all requests {sent / 1e6:.2f} MB {'met' if sent <= 10e6 else 'missed'}")


def table(results: dict[str, list[tuple[Run, Run | None]]]) -> str:
    lines = ["| change | feedtool publish, fresh clone | aws s3 sync | ratio | sent: feedtool / aws | "
             "of which audio: feedtool / aws | goal |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for situation, runs in results.items():
        mine = [r for r, _ in runs]
        base = [t for _, t in runs if t is not None]
        ours_s = statistics.median(r.seconds for r in mine)
        ours_sent = statistics.median(r.sent for r in mine) / 1e6
        audio = f"{statistics.median(r.media_sent for r in mine) / 1e6:.2f} MB"
        if base:
            theirs_s = statistics.median(t.seconds for t in base)
            aws = f"{theirs_s:.2f} s | {ours_s / theirs_s:.2f}"
            sent = f"{ours_sent:.2f} MB / {statistics.median(t.sent for t in base) / 1e6:.2f} MB"
            audio += f" / {statistics.median(t.media_sent for t in base) / 1e6:.2f} MB"
        else:
            aws = "as (b) | -"
            sent = f"{ours_sent:.2f} MB / -"
        lines.append(f"| {LABELS[situation]} | {ours_s:.2f} s | {aws} | {sent} | {audio} | "
                     f"{goal(situation, mine)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=["notes", "new", "new-s3", "chapters"], action="append",
                        help="run only these changes (repeatable)")
    parser.add_argument("--verbose", action="store_true", help="list what each tool uploaded")
    parser.add_argument("--profile", type=int, metavar="N", default=0,
                        help="also profile (a) once in one process and print the N heaviest feedtool calls")
    parser.add_argument("--keep", action="store_true", help="keep the work folder and print its path")
    args = parser.parse_args()
    wall = time.perf_counter()

    big = make_master(BIG_BYTES)
    new_frames = make_master(NEW_BYTES)
    work = Path(tempfile.mkdtemp(prefix="feedtool-bench-masters-"))
    server = start_seaweed()
    upstream = server.endpoint_url.rsplit(":", 1)
    proxy = CountingProxy(("127.0.0.1", int(upstream[1])))
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=str(work / "none"),
               AWS_SHARED_CREDENTIALS_FILE=str(work / "none"))
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        env.pop(name, None)
    for bucket in (BUCKET_FT, BUCKET_AWS, BUCKET_MASTERS):
        server.client().create_bucket(Bucket=bucket)
    bench = Bench(work, args.episodes, proxy, env)
    bench.s3 = server.client()
    bench.proxied = server.client(endpoint_url=proxy.endpoint_url)
    bench.keep = args.keep
    situations: dict[str, Callable[[int], tuple[Run, Run | None]]] = {
        "notes": bench.notes,
        "new": lambda run: bench.new(run, new_frames),
        "new-s3": lambda run: bench.new_s3(run, new_frames),
        "chapters": bench.chapters,
    }
    chosen = [s for s in situations if not args.only or s in args.only]
    results: dict[str, list[tuple[Run, Run | None]]] = {s: [] for s in chosen}
    try:
        bench.setup(big)
        for run in range(args.runs):
            for situation in chosen:
                ours, theirs = situations[situation](run)
                results[situation].append((ours, theirs))
                print(f"run {run} {situation}: {describe(ours, theirs)}", flush=True)
                if args.verbose:
                    print("   feedtool uploaded:", ", ".join(
                        f"{u['key']} ({u['size']})" for u in ours.extra.get("report", {}).get("uploaded", [])))
                    if theirs is not None:
                        print("   aws uploaded:", ", ".join(theirs.extra["keys"]))
        parts = bench.breakdown() if "notes" in chosen else {}
        profile = bench.profile(args.profile) if args.profile else ""
    finally:
        proxy.close()
        server.stop()
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print()
    print(table(results))
    if parts:
        print("\nwhere (a)'s time goes (one fresh clone, one run each):")
        for what, seconds in parts.items():
            print(f"- {what}: {seconds:.2f} s")
    if profile:
        print("\n" + profile)
    if bench.laptop_builds:
        print(f"\nlaptop `feedtool build` before each aws s3 sync (not in the aws column): median "
              f"{statistics.median(bench.laptop_builds):.2f} s")
    print(f"medians of {args.runs} run(s), {args.episodes} episodes; each run a new process; SeaweedFS on "
          f"127.0.0.1 behind a counting proxy; whole bench {time.perf_counter() - wall:.0f} s")


if __name__ == "__main__":
    main()

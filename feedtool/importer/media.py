"""Audio and side files of an imported show, over HTTP with feedtool.net (the one HTTP client).

Remote audio (``--media remote``): what the lock records about each master (size, type, duration)
comes, per episode, from:

- the feed (enclosure length and type, itunes:duration) when it gives all three: import asks the
  host nothing (3,000 episodes would be 3,000 round trips; the facts are checked when the show is
  built from the remote master, which fetches it);
- else, or with ``--probe``, the host: a HEAD for size and type (a GET's headers where HEAD is
  refused), then the first bytes with a Range request (read and cut off after a few KB where Range
  is not supported): an MP3's Xing/Info or VBRI header gives its exact length, else its bitrate and
  size do (constant bitrate); an M4A's ``moov`` box gives its duration, fetched where it is, at the
  front or behind the ``mdat`` box. itunes:duration is the fallback. ``duration_from`` records
  which.

Downloads (``--media download``) stream into a ``.part`` file kept in ``.feedtool-import/`` beside
episodes/, so an interrupted import resumes with a Range request where it stopped; the size is
checked against the enclosure length (a mismatch is reported, not fatal: hosts often publish
wrong lengths), then the file is probed locally (feedtool.audio).
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from feedtool.errors import FeedtoolError
from feedtool.net import NetworkError, request, stream

#: Seconds for each request (connect, headers and a capped body).
DEFAULT_TIMEOUT_S = 30.0
SIDE_FILE_MAX = 20 * 1024 * 1024  # artwork, transcripts, chapters
_HEAD_BYTES = 64 * 1024
_MOOV_MAX = 8 * 1024 * 1024


class FetchProblem(FeedtoolError):
    """A file of the show that could not be fetched (reported as a warning; the import goes on)."""


class Hosts:
    """Hosts that did not answer in this run are not asked again (300 episodes on a dead host cost one timeout)."""

    def __init__(self) -> None:
        self.dead: set[str] = set()
        self._lock = threading.Lock()

    def check(self, url: str) -> None:
        from feedtool.importer.source import host_of

        if host_of(url) in self.dead:
            raise FetchProblem(f"{url}: not asked (the host did not answer earlier in this import)")

    def failed(self, url: str, error: NetworkError) -> FetchProblem:
        from feedtool.importer.source import host_of

        if error.unreachable:
            with self._lock:
                self.dead.add(host_of(url))
        return FetchProblem(str(error.message))


def fetch_bytes(url: str, hosts: Hosts, *, max_bytes: int = SIDE_FILE_MAX,
                timeout_s: float = DEFAULT_TIMEOUT_S) -> bytes:
    """A whole (small) file: artwork, a transcript, a chapters file."""
    hosts.check(url)
    try:
        response = request(url, max_body=max_bytes, deadline_s=timeout_s)
    except NetworkError as error:
        raise hosts.failed(url, error) from None
    if response.status != 200:
        raise FetchProblem(f"{url}: the server answered {response.status}")
    if response.too_big:
        raise FetchProblem(f"{url}: larger than {max_bytes // (1024 * 1024)} MB; not fetched")
    return response.body


# ----------------------------------------------------------------------------------- remote facts


@dataclass
class Facts:
    """What import records about one master in the lock (AUDIO.md's master entry)."""

    size: int | None
    mime: str
    kind: str | None
    duration_s: float | None
    duration_from: str  # "feed" (itunes:duration), "xing", "vbri", "bitrate", "moov", "file" (downloaded)
    bitrate: int | None = None
    sha256: str | None = None
    probed: bool = False


def kind_of(mime: str, extension: str) -> str | None:
    from feedtool.audio import EXTENSIONS

    kind = EXTENSIONS.get(extension)
    if kind is None and mime in ("audio/mpeg", "audio/mp3"):
        kind = "mp3"
    return kind


def probe_remote(url: str, *, mime: str, extension: str, hosts: Hosts,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> Facts:
    """Size, type and duration of a remote file from HEAD and its first bytes (never the whole file)."""
    hosts.check(url)
    try:
        head = request(url, method="HEAD", deadline_s=timeout_s)
    except NetworkError as error:
        raise hosts.failed(url, error) from None
    size = head.content_length if head.status == 200 else None
    content_type = head.content_type if head.status == 200 else ""
    first, total, served_type = _first_bytes(url, 0, _HEAD_BYTES, hosts, timeout_s)
    size = size or total
    content_type = content_type or served_type
    kind = kind_of(mime or content_type, extension)
    facts = Facts(size=size, mime=mime or content_type or "audio/mpeg", kind=kind, duration_s=None,
                  duration_from="", probed=True)
    try:
        if kind == "mp3":
            _mp3_duration(url, first, facts, hosts, timeout_s)
        elif kind in ("m4a", "mp4"):
            _mp4_duration(url, first, facts, hosts, timeout_s)
    except FetchProblem:
        pass  # the size and type stand; the duration comes from the feed, if it says one
    return facts


def _first_bytes(url: str, start: int, count: int, hosts: Hosts, timeout_s: float) -> tuple[bytes, int | None, str]:
    """``count`` bytes from ``start`` (a Range request; where Range is ignored, the body is read up to
    there and the connection closed), the file's total size if the answer says it, and its type."""
    try:
        with stream(url, headers={"Range": f"bytes={start}-{start + count - 1}"}, deadline_s=timeout_s,
                    idle_timeout_s=timeout_s) as answer:
            status = answer.response.status
            total = None
            if status == 206:
                span = answer.response.headers.get("content-range", "")
                tail = span.rsplit("/", 1)[-1]
                total = int(tail) if tail.isdigit() else None
                skip = 0
            elif status == 200:
                total = answer.response.content_length
                skip = start
            else:
                raise FetchProblem(f"{url}: the server answered {status}")
            if status == 200 and start > 4 * _HEAD_BYTES:
                raise FetchProblem(f"{url}: the host ignores Range requests; not read to byte {start}")
            data = bytearray()
            for chunk in answer.chunks(_HEAD_BYTES):
                data += chunk
                if len(data) >= skip + count:
                    break
            return bytes(data[skip:skip + count]), total, answer.response.content_type
    except NetworkError as error:
        raise hosts.failed(url, error) from None


def _id3_end(data: bytes) -> int:
    if data[:3] != b"ID3" or len(data) < 10:
        return 0
    raw = data[6:10]
    body = (raw[0] & 0x7F) << 21 | (raw[1] & 0x7F) << 14 | (raw[2] & 0x7F) << 7 | (raw[3] & 0x7F)
    return 10 + body + (10 if data[3] == 4 and data[5] & 0x10 else 0)


def mp3_facts(frames: bytes, audio_bytes: int | None) -> tuple[float | None, int | None, str]:
    """(duration, bitrate, how) from the start of an MP3's audio (after its ID3 tag).

    A Xing/Info or VBRI header counts the frames: exact. Without one the stream is taken to be
    constant bitrate and its length is its audio bytes over the bitrate (``audio_bytes`` = the
    file's size less the ID3 tag), the way players estimate it.
    """
    from mutagen import MutagenError
    from mutagen.mp3 import MPEGInfo

    try:
        info = MPEGInfo(io.BytesIO(frames), 0)
    except (MutagenError, ValueError, IndexError, OSError):
        return None, None, ""
    bitrate = int(info.bitrate) if info.bitrate else None
    header = frames[:200]
    if b"Xing" in header or b"Info" in header:
        return float(info.length), bitrate, "xing"
    if b"VBRI" in header:
        return float(info.length), bitrate, "vbri"
    if bitrate and audio_bytes:
        return audio_bytes * 8 / bitrate, bitrate, "bitrate"
    return None, bitrate, ""


def _mp3_duration(url: str, first: bytes, facts: Facts, hosts: Hosts, timeout_s: float) -> None:
    start = _id3_end(first)
    frames = first[start:]
    if len(frames) < 4096 and facts.size is not None and start < facts.size:
        frames, _, _ = _first_bytes(url, start, 16 * 1024, hosts, timeout_s)
    audio_bytes = facts.size - start if facts.size else None
    duration, bitrate, how = mp3_facts(frames, audio_bytes)
    if duration:
        facts.duration_s, facts.bitrate, facts.duration_from = duration, bitrate, how


def mp4_duration(moov: bytes) -> float | None:
    """The duration an MP4's ``moov`` box states (mvhd: duration / timescale)."""
    at = moov.find(b"mvhd")
    if at < 4 or len(moov) < at + 32:
        return None
    version = moov[at + 4]
    try:
        if version == 1:
            timescale, duration = struct.unpack(">IQ", moov[at + 24:at + 36])
        else:
            timescale, duration = struct.unpack(">II", moov[at + 16:at + 24])
    except struct.error:
        return None
    return duration / timescale if timescale and duration else None


def _mp4_duration(url: str, first: bytes, facts: Facts, hosts: Hosts, timeout_s: float) -> None:
    """Walk the top-level boxes to ``moov`` (in the first bytes, or a Range request behind ``mdat``)."""
    offset, data, data_at = 0, first, 0
    for _ in range(8):
        local = offset - data_at
        if local < 0 or local + 16 > len(data):
            if facts.size is not None and offset >= facts.size:
                return
            data, _, _ = _first_bytes(url, offset, 16, hosts, timeout_s)
            data_at, local = offset, 0
            if len(data) < 8:
                return
        size, name = struct.unpack(">I4s", data[local:local + 8])
        if size == 1:
            size = struct.unpack(">Q", data[local + 8:local + 16])[0]
        if size < 8:
            return
        if name == b"moov":
            if size > _MOOV_MAX:
                return
            moov = data[local:local + size]
            if len(moov) < size:
                moov, _, _ = _first_bytes(url, offset, size, hosts, timeout_s)
            duration = mp4_duration(moov)
            if duration:
                facts.duration_s, facts.duration_from = duration, "moov"
            return
        offset += size


# ----------------------------------------------------------------------------------- downloads


def part_name(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:32] + ".part"


def download(url: str, target: Path, parts: Path, hosts: Hosts, *,
             progress: Callable[[int, int | None], None] | None = None,
             timeout_s: float = DEFAULT_TIMEOUT_S) -> tuple[int, str]:
    """Download ``url`` to ``target`` through a resumable ``parts/<hash>.part``; returns (size, sha256).

    A ``.part`` left by an interrupted run is continued with a Range request; a server that
    answers 200 instead (no Range support) sends it all again, from the start.
    """
    hosts.check(url)
    parts.mkdir(parents=True, exist_ok=True)
    part = parts / part_name(url)
    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else None
    try:
        with stream(url, headers=headers, deadline_s=timeout_s, idle_timeout_s=max(timeout_s, 60.0)) as answer:
            status = answer.response.status
            if status == 416 and have:  # the part is already complete
                pass
            elif status not in (200, 206):
                raise FetchProblem(f"{url}: the server answered {status}")
            else:
                total = None
                if status == 206:
                    span = answer.response.headers.get("content-range", "")
                    tail = span.rsplit("/", 1)[-1]
                    total = int(tail) if tail.isdigit() else None
                    start = int(span.split(" ", 1)[-1].split("-", 1)[0] or 0) if span.startswith("bytes ") else have
                    if start != have:
                        have = 0
                else:
                    have = 0
                    total = answer.response.content_length
                with open(part, "r+b" if have else "wb") as out:
                    out.seek(have)
                    out.truncate()
                    done = have
                    if progress:
                        progress(done, total)
                    for chunk in answer.chunks():
                        out.write(chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, total)
                if total is not None and done != total:
                    raise FetchProblem(f"{url}: the transfer stopped at {done} of {total} bytes; "
                                       "run the import again to resume")
    except NetworkError as error:
        raise hosts.failed(url, error) from None
    size = part.stat().st_size
    with open(part, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(part, target)
    return size, digest

"""Is a master whole, and where are its audio bytes: cheap checks on a file's layout.

This is the probe step's byte-level half (feedtool.audio is the mutagen half); it imports nothing
from feedtool but its errors, so probe, the tagger and the master store can all use it.

- **Truncation.** mutagen trusts what a file's header promises: a LAME MP3 cut in half still
  reports its full duration, because the Xing/Info frame counts the frames the encoder wrote, not
  the ones that are left. Tagging such a file would publish a broken episode with a plausible
  length, so ``check_mp3`` and ``check_mp4`` compare the header's promise with the bytes there.
  They read a few kilobytes, never the audio.
- **Where an MP3's audio frames are** (``mp3_audio_span``): after the ID3v2 tag(s) at the start,
  before the ID3v1 and APEv2 tags at the end. The tagger copies exactly that span behind a new
  tag, and works it out through a ``read_at(offset, length)`` callback, so the same rule serves a
  local file and a remote object read with Range requests.
- **Git LFS pointers** (``lfs_pointer``): the small text file git leaves in place of a master
  when the LFS objects were not pulled. Said plainly, instead of "can't sync to MPEG frame".
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from feedtool.errors import AudioError

#: Tolerate this much missing at the end (a few frames' worth of rounding in odd encoders).
_SLACK = 0.01

#: ``read_at(offset, length)`` -> up to ``length`` bytes of a file from ``offset``.
ReadAt = Callable[[int, int], bytes]

#: An ID3v2 header: "ID3", version (2), flags, syncsafe size (4).
ID3V2_HEADER = 10
#: The end of an MP3 that can hold trailing tags' markers: an ID3v1 tag (128 bytes) and the 32-byte
#: APEv2 footer in front of it.
TAIL_BYTES = 128 + 32


# --------------------------------------------------------------------------------------------
# Where an MP3's audio frames are


@dataclass(frozen=True)
class AudioSpan:
    """Bytes ``start`` to ``end`` (exclusive) of an MP3 are its audio frames.

    ``id3v1`` says whether the file ends with an ID3v1 tag (the 128 bytes at ``end``, or after an
    APEv2 tag there). The tagger writes an ID3v1 tag into a copy exactly when its source had one,
    so a copy's span and ``id3v1`` equal its master's (shifted by the tag in front).
    """

    start: int
    end: int
    id3v1: bool

    @property
    def length(self) -> int:
        return self.end - self.start


def id3v2_tag_size(header: bytes) -> int:
    """Bytes an ID3v2 tag takes (header, body, v2.4 footer) from its 10-byte header; 0 if
    ``header`` is not one."""
    if len(header) < ID3V2_HEADER or header[:3] != b"ID3":
        return 0
    raw = header[6:10]
    body = (raw[0] & 0x7F) << 21 | (raw[1] & 0x7F) << 14 | (raw[2] & 0x7F) << 7 | (raw[3] & 0x7F)
    footer = ID3V2_HEADER if header[3] == 4 and header[5] & 0x10 else 0
    return ID3V2_HEADER + body + footer


def id3v2_size(read_at: ReadAt) -> int:
    """Bytes taken by ID3v2 tags at the start (0 when there are none; repeated tags summed, as
    FFmpeg skips them): one read of 10 bytes per tag, plus one after the last."""
    total = 0
    while tag := id3v2_tag_size(read_at(total, ID3V2_HEADER)):
        total += tag
    return total


def trailing_tags(tail: bytes, size: int) -> tuple[int, bool]:
    """(bytes of ID3v1 and APEv2 tags at the end, is there an ID3v1 tag) of a ``size``-byte file
    whose last ``TAIL_BYTES`` (or all, if shorter) bytes are ``tail``."""
    tail = tail[-TAIL_BYTES:]
    trailer = 0
    id3v1 = size >= 128 and len(tail) >= 128 and tail[-128:-125] == b"TAG"
    if id3v1:
        trailer = 128
    if size - trailer >= 32 and len(tail) >= trailer + 32:
        footer = tail[len(tail) - trailer - 32 : len(tail) - trailer]
        if footer[:8] == b"APETAGEX":
            ape_size, flags = struct.unpack("<I4xI", footer[12:24])
            trailer += ape_size + (32 if flags & 0x80000000 else 0)
    return trailer, id3v1


def mp3_audio_span(read_at: ReadAt, size: int, *, source: str | Path = "") -> AudioSpan:
    """Where the audio frames of an MP3 of ``size`` bytes start and end.

    Works for a master and for one of feedtool's tagged copies alike (a copy is a new ID3v2 tag,
    the master's span, and an ID3v1 tag if the master had one), from small reads only: the
    10-byte header of each ID3v2 tag at the start, the 10 bytes after the last one (which show
    that no further tag follows), and the last ``TAIL_BYTES``. For a copy that is three reads
    (10, 10 and 160 bytes): three Range GETs on a remote object, whatever its size.

    ``source`` names the file in the AudioError for an MP3 with no audio between its tags.
    """
    start = id3v2_size(read_at)
    tail_length = min(TAIL_BYTES, size)
    trailer, id3v1 = trailing_tags(read_at(size - tail_length, tail_length), size)
    end = size - trailer
    if end <= start:
        raise AudioError(
            "the MP3 has no audio between its tags (or its ID3 tag claims more bytes than the file has)",
            path=source or None,
            hint="the file is truncated or not really an MP3; export it again",
        )
    return AudioSpan(start, end, id3v1)


def file_reader(handle: BinaryIO) -> ReadAt:
    """``read_at`` for an open local file (seek and read: works on every system)."""

    def read_at(offset: int, length: int) -> bytes:
        handle.seek(offset)
        return handle.read(length)

    return read_at


def read_mp3_span(path: Path) -> AudioSpan:
    """``mp3_audio_span`` of a local file."""
    path = Path(path)
    with path.open("rb") as handle:
        return mp3_audio_span(file_reader(handle), path.stat().st_size, source=path)


# --------------------------------------------------------------------------------------------
# Git LFS pointers

#: Every Git LFS pointer file starts with this line (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md).
LFS_POINTER_START = b"version https://git-lfs.github.com/spec/"
#: The spec keeps pointer files under 1024 bytes.
LFS_POINTER_MAX = 1024


@dataclass(frozen=True)
class LfsPointer:
    """What a Git LFS pointer file says about the file it stands for."""

    oid: str | None  # "sha256:<hex>"
    size: int | None  # bytes of the real file


def lfs_pointer(first_bytes: bytes, size: int) -> LfsPointer | None:
    """The pointer, if a ``size``-byte file starting with ``first_bytes`` is a Git LFS pointer."""
    if size > LFS_POINTER_MAX or not first_bytes.startswith(LFS_POINTER_START):
        return None
    text = first_bytes.decode("utf-8", "replace")
    oid = re.search(r"^oid ([a-z0-9]+:[0-9a-f]+)$", text, re.MULTILINE)
    real = re.search(r"^size ([0-9]+)$", text, re.MULTILINE)
    return LfsPointer(oid=oid.group(1) if oid else None, size=int(real.group(1)) if real else None)


def lfs_pointer_error(pointer: LfsPointer, *, path: str | Path | None = None) -> AudioError:
    """The one message for a Git LFS pointer where audio was expected."""
    real = f" standing in for {pointer.size / 1e6:.1f} MB of audio" if pointer.size else ""
    return AudioError(
        f"this is a Git LFS pointer (a small text file{real}), not the audio itself",
        path=path,
        hint="run `git lfs pull` (in GitHub Actions: actions/checkout with `lfs: true`), or move the "
        "audio out of git and point `audio:` at an https:// or s3:// copy of it",
    )


def check_not_lfs_pointer(path: Path) -> None:
    """AudioError naming ``path`` when it is a Git LFS pointer file."""
    size = path.stat().st_size
    if size > LFS_POINTER_MAX:
        return
    with path.open("rb") as handle:
        pointer = lfs_pointer(handle.read(LFS_POINTER_MAX), size)
    if pointer is not None:
        raise lfs_pointer_error(pointer, path=path)


# --------------------------------------------------------------------------------------------
# Truncation


def check_mp3(path: Path) -> None:
    """Compare the byte count in a Xing/Info or VBRI header with the bytes actually present."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        read_at = file_reader(handle)
        start = id3v2_size(read_at)
        head = read_at(start, 4096)
        tail_length = min(TAIL_BYTES, size)
        trailer, _ = trailing_tags(read_at(size - tail_length, tail_length), size)
    sync = _first_frame(head)
    if sync < 0:
        return  # mutagen found frames further on; nothing we can compare
    promised, whole_file = _promised_bytes(head[sync:])
    if promised is None:
        return  # plain CBR without a header: duration comes from the size, so nothing is promised
    # Xing/Info counts the MPEG stream; VBRI's count may include tags, so compare it generously.
    present = size - trailer if whole_file else size - start - sync - trailer
    if present < promised * (1 - _SLACK):
        raise AudioError(
            f"the MP3 is truncated: its header promises {promised:,} bytes of audio but only "
            f"{present:,} are there",
            path=path,
            hint="the file was cut short (an interrupted copy or export); export it again",
        )


def check_mp4(path: Path) -> None:
    """Every top-level atom must fit in the file, and there must be exactly one moov."""
    size = path.stat().st_size
    seen: list[bytes] = []
    with path.open("rb") as handle:
        offset = 0
        while offset < size:
            handle.seek(offset)
            header = handle.read(16)
            if len(header) < 8:
                break
            length, name = struct.unpack(">I4s", header[:8])
            if length == 1:
                if len(header) < 16:
                    raise _truncated_mp4(path)
                length = struct.unpack(">Q", header[8:16])[0]
            elif length == 0:
                length = size - offset
            if length < 8:
                raise AudioError(
                    f"the MP4 structure is broken at byte {offset:,}",
                    path=path,
                    hint="the file is corrupt; export it again",
                )
            if offset + length > size:
                raise _truncated_mp4(path)
            seen.append(name)
            offset += length
    if b"moof" in seen:
        raise AudioError(
            "this is a fragmented MP4 (a streaming layout); podcast apps expect a regular one",
            path=path,
            hint="rewrite it without re-encoding: "
            f"ffmpeg -i {path.name} -c copy -movflags +faststart fixed{path.suffix}",
        )
    if b"moov" not in seen:
        raise AudioError(
            "the MP4 file has no 'moov' index (the recording was not finished or the file is cut)",
            path=path,
            hint="export the audio again",
        )


def looks_like_mp4(path: Path) -> bool:
    """The first atom is one an MP4 starts with (else probe names what the file really is)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError:
        return False
    return len(head) == 8 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"styp")


def _first_frame(data: bytes) -> int:
    """Offset of the first plausible MPEG audio frame header in ``data``, or -1."""
    for index in range(len(data) - 3):
        if data[index] == 0xFF and data[index + 1] & 0xE0 == 0xE0:
            version = (data[index + 1] >> 3) & 0x03
            layer = (data[index + 1] >> 1) & 0x03
            bitrate = data[index + 2] >> 4
            rate = (data[index + 2] >> 2) & 0x03
            if version != 1 and layer != 0 and bitrate not in (0, 15) and rate != 3:
                return index
    return -1


def _promised_bytes(frame: bytes) -> tuple[int | None, bool]:
    """(stream length a Xing/Info or VBRI header in the first frame promises, is it VBRI)."""
    for tag in (b"Xing", b"Info"):
        at = frame.find(tag, 4, 64)
        if at >= 0 and len(frame) >= at + 16:
            flags = struct.unpack(">I", frame[at + 4 : at + 8])[0]
            if not flags & 0x02:
                return None, False
            field = at + 8 + (4 if flags & 0x01 else 0)
            return int(struct.unpack(">I", frame[field : field + 4])[0]) or None, False
    at = frame.find(b"VBRI", 4, 64)
    if at >= 0 and len(frame) >= at + 14:
        return int(struct.unpack(">I", frame[at + 10 : at + 14])[0]) or None, True
    return None, False


def _truncated_mp4(path: Path) -> AudioError:
    return AudioError(
        "the MP4 file is truncated: an atom runs past the end of the file",
        path=path,
        hint="the file was cut short (an interrupted copy or export); export it again",
    )

"""Cheap checks that a master is whole before feedtool copies it.

mutagen trusts what a file's header promises: a LAME MP3 cut in half still reports its full
duration, because the Xing/Info frame counts the frames the encoder wrote, not the ones that are
left. Tagging such a file would publish a broken episode with a plausible length, so these checks
compare the header's promise with the bytes on disk. They read a few kilobytes, never the audio.
"""

from __future__ import annotations

import struct
from pathlib import Path

from feedtool.errors import AudioError

#: Tolerate this much missing at the end (a few frames' worth of rounding in odd encoders).
_SLACK = 0.01


def check(path: Path, kind: str) -> None:
    """Raise AudioError when ``path`` is missing, empty, not ``kind``, or visibly truncated.

    feedtool.audio.probe runs the truncation checks below as part of every probe.
    """
    from feedtool.audio import probe

    info = probe(path)  # missing, empty, unreadable, truncated, extension that lies
    if info.kind != kind and {info.kind, kind} != {"m4a", "mp4"}:
        raise AudioError(
            f"expected {kind.upper()} audio but the content is {info.kind.upper()}",
            path=path,
            hint=f"export the audio again as {kind.upper()}",
        )


def check_mp3(path: Path) -> None:
    """Compare the byte count in a Xing/Info or VBRI header with the bytes actually present."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        start = id3v2_size(handle)
        handle.seek(start)
        head = handle.read(4096)
        trailer = _trailing_tag_size(handle, size)
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


def id3v2_size(handle: object) -> int:
    """Bytes taken by ID3v2 tags at the start (0 when there are none; repeated tags summed)."""
    read = handle.read  # type: ignore[attr-defined]
    seek = handle.seek  # type: ignore[attr-defined]
    total = 0
    while True:
        seek(total)
        header = read(10)
        if len(header) < 10 or header[:3] != b"ID3":
            return total
        flags = header[5]
        raw = header[6:10]
        body = (raw[0] & 0x7F) << 21 | (raw[1] & 0x7F) << 14 | (raw[2] & 0x7F) << 7 | (raw[3] & 0x7F)
        total += 10 + body + (10 if header[3] == 4 and flags & 0x10 else 0)


def _trailing_tag_size(handle: object, size: int) -> int:
    """Bytes of ID3v1 and APEv2 tags at the end of the file."""
    read = handle.read  # type: ignore[attr-defined]
    seek = handle.seek  # type: ignore[attr-defined]
    trailer = 0
    if size >= 128:
        seek(size - 128)
        if read(3) == b"TAG":
            trailer = 128
    if size - trailer >= 32:
        seek(size - trailer - 32)
        footer = read(32)
        if footer[:8] == b"APETAGEX":
            ape_size, flags = struct.unpack("<I4xI", footer[12:24])
            trailer += ape_size + (32 if flags & 0x80000000 else 0)
    return trailer


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

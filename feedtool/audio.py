"""Probe audio files with mutagen: what kind they are, how long they last, what MIME type to serve.

mutagen is imported only here (and in feedtool/tagging/, which writes tags). The byte-level checks
that run with every probe (truncation, Git LFS pointers) are in feedtool/integrity.py. The MIME types come from
feedtool's own table, not from mutagen: mutagen says ``audio/mp3`` where apps want ``audio/mpeg``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from feedtool.errors import AudioError
from feedtool.integrity import (
    LFS_POINTER_MAX,
    check_mp3,
    check_mp4,
    check_not_lfs_pointer,
    id3v2_tag_size,
    looks_like_mp4,
)

#: container kind -> the enclosure type podcast apps and Apple expect.
MIME_TYPES: dict[str, str] = {
    "mp3": "audio/mpeg",
    "m4a": "audio/x-m4a",
    "mp4": "video/mp4",
    "ogg": "audio/ogg",
    "opus": "audio/opus",
    "flac": "audio/flac",
}

#: file extension -> the kind we expect to find inside.
EXTENSIONS: dict[str, str] = {
    ".mp3": "mp3",
    ".m4a": "m4a",
    ".mp4": "mp4",
    ".m4v": "mp4",
    ".ogg": "ogg",
    ".oga": "ogg",
    ".opus": "opus",
    ".flac": "flac",
}

SUPPORTED = ", ".join(sorted(EXTENSIONS))


@dataclass(frozen=True, kw_only=True)
class AudioInfo:
    """What feedtool needs to know about one audio file."""

    kind: str  # a key of MIME_TYPES
    mime: str
    duration_s: float
    size: int
    bitrate: int | None = None  # bits per second, where the container says


def kind_from_extension(path: Path) -> str:
    """The kind the file name promises, or an AudioError naming the formats we take."""
    kind = EXTENSIONS.get(path.suffix.lower())
    if kind is None:
        raise AudioError(
            f"'{path.suffix or path.name}' is not an audio format feedtool can publish",
            path=path,
            hint=f"use one of {SUPPORTED} (MP3 or M4A for Apple Podcasts)",
        )
    return kind


def _detect_kind(audio: object) -> str:
    """Map a mutagen file object to our kind (by class, since extensions can lie)."""
    name = type(audio).__name__
    if name in ("MP3", "EasyMP3"):
        return "mp3"
    if name in ("MP4", "EasyMP4"):
        return "m4a"
    if name == "OggVorbis":
        return "ogg"
    if name == "OggOpus":
        return "opus"
    if name == "FLAC":
        return "flac"
    return name.lower()


def _plain_mp3_info(path: Path):  # -> mutagen.mp3.MPEGInfo | None
    """mutagen's MPEG stream info for a file that is plainly MP3, else None.

    Plainly: no ID3v2 tag or exactly one, then an MPEG frame sync right after it. That is what
    mutagen.File would pick MP3 for, and MPEGInfo at the tag's end is what MP3 reads its length
    from; skipping format sniffing and the parse of the tag's frames (nothing here uses them)
    saves ~90 us per master. Anything else returns None: the general path decides, with its own
    messages.
    """
    from mutagen import MutagenError
    from mutagen.mp3 import MPEGInfo

    try:
        with open(path, "rb") as handle:
            header = handle.read(10)
            offset = id3v2_tag_size(header)
            handle.seek(offset)
            sync = handle.read(2)
            if len(sync) < 2 or sync[0] != 0xFF or sync[1] & 0xE0 != 0xE0:
                return None
            info = MPEGInfo(handle, offset)
    except (MutagenError, OSError, ValueError, IndexError):
        return None
    return info if info.length and info.length > 0 else None


def probe(path: Path) -> AudioInfo:
    """Read duration, kind and size; fail clearly on anything that is not usable audio."""
    import mutagen  # heavy-ish import kept off the CLI start-up path
    from mutagen.flac import FLAC
    from mutagen.mp3 import MP3
    from mutagen.mp4 import MP4
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis

    expected = kind_from_extension(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise AudioError(
            "audio file not found", path=path, hint="check the 'audio' field and the file name"
        ) from None
    if size == 0:
        raise AudioError("audio file is empty", path=path, hint="replace it with the real audio")
    if size <= LFS_POINTER_MAX:
        check_not_lfs_pointer(path)  # else mutagen says "can't sync to MPEG frame"

    if expected in ("m4a", "mp4") and looks_like_mp4(path):
        check_mp4(path)  # before mutagen, whose complaint about a cut MP4 is less helpful
    if expected == "mp3":
        info = _plain_mp3_info(path)
        if info is not None:  # plainly MP3: the same figures mutagen.File gives, at a third of the cost
            check_mp3(path)
            return AudioInfo(kind="mp3", mime=MIME_TYPES["mp3"], duration_s=float(info.length),
                             size=size, bitrate=info.bitrate or None)
    try:
        audio = mutagen.File(path, options=[MP3, MP4, OggVorbis, OggOpus, FLAC])
    except (mutagen.MutagenError, OSError, ValueError, IndexError) as error:
        raise AudioError(
            f"cannot read this audio file ({error})",
            path=path,
            hint="the file may be truncated or corrupt; export it again",
        ) from None
    if audio is None or audio.info is None:
        raise AudioError(
            "this file is not audio feedtool can read",
            path=path,
            hint=f"export it as one of {SUPPORTED}",
        )
    kind = _detect_kind(audio)
    if kind == "m4a" and expected == "mp4":
        kind = "mp4"  # same container; the extension decides audio vs video type
    if kind != expected:
        raise AudioError(
            f"the file name says {expected.upper()} but the content is {kind.upper()}",
            path=path,
            hint=f"rename it to .{kind} or export it again as {expected.upper()}",
        )
    duration = float(getattr(audio.info, "length", 0.0) or 0.0)
    if duration <= 0:
        raise AudioError(
            "the audio has no duration (no audio frames found)",
            path=path,
            hint="the file may be truncated; export it again",
        )
    if kind == "mp3":  # mutagen trusts the length in the header; this catches a file cut short
        check_mp3(path)
    bitrate = getattr(audio.info, "bitrate", None) or None
    return AudioInfo(kind=kind, mime=MIME_TYPES[kind], duration_s=duration, size=size, bitrate=bitrate)

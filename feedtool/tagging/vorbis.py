"""Ogg Vorbis, Opus and FLAC: Vorbis comments, with chapters as ``CHAPTERxxx`` comments.

The chapter form is Xiph's Chapter Extension: ``CHAPTER001=HH:MM:SS.mmm``, ``CHAPTER001NAME=...``,
``CHAPTER001URL=...``, numbered from 001 as in the extension's examples (ffmpeg and AntennaPod read
any three-digit number; ffmpeg itself happens to write from 000). The format has no end times: a
chapter ends where the next starts. Cover art is a FLAC picture block: a real METADATA_BLOCK_PICTURE
in FLAC, and the same block base64-encoded in a comment of that name in Ogg.

The master is copied with the kernel, then mutagen rewrites only the header pages/blocks of the
copy (Ogg pages after them are renumbered if the header grows, which mutagen does page by page).
"""

from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path

from feedtool.model import Chapter
from feedtool.tagging import Span, TagMetadata, chapter_spans, image_mime, master_error

#: The extension numbers chapters with three digits.
MAX_CHAPTERS = 999

_CHAPTER_KEY = re.compile(r"chapter(\d+)(name|url)?", re.IGNORECASE)


def write(master: Path, out: Path, meta: TagMetadata, *, kind: str, duration_s: float) -> None:
    """Copy the master to ``out`` and set our comments and picture on the copy."""
    from mutagen import MutagenError

    spans = chapter_spans(meta.chapters, duration_s, path=master, limit=MAX_CHAPTERS)
    shutil.copyfile(master, out)
    try:
        _set_tags(out, meta, spans, kind=kind)
    except MutagenError as error:
        raise master_error(error, master) from None


def _set_tags(out: Path, meta: TagMetadata, spans: list[Span], *, kind: str) -> None:
    audio = _open(out, kind)
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    for key in {key.lower() for key in tags.keys()}:  # noqa: SIM118 - iterating a VComment gives (key, value) pairs
        if _CHAPTER_KEY.fullmatch(key):
            del tags[key]
    tags["TITLE"] = meta.title
    tags["ARTIST"] = meta.artist
    tags["ALBUM"] = meta.album
    tags["GENRE"] = "Podcast"
    if meta.date:
        tags["DATE"] = meta.date
    if meta.track is not None:
        tags["TRACKNUMBER"] = str(meta.track)
    for number, span in enumerate(spans, start=1):
        tags[f"CHAPTER{number:03d}"] = format_time(span.start_ms)
        tags[f"CHAPTER{number:03d}NAME"] = span.chapter.title
        if span.chapter.url:
            tags[f"CHAPTER{number:03d}URL"] = span.chapter.url
    if meta.cover:
        picture = _picture(meta.cover, meta.cover_mime)
        for legacy in ("coverart", "coverartmime", "metadata_block_picture"):
            if legacy in tags:
                del tags[legacy]
        if kind == "flac":
            audio.clear_pictures()
            audio.add_picture(picture)
        else:
            tags["METADATA_BLOCK_PICTURE"] = base64.b64encode(picture.write()).decode("ascii")
    audio.save()


def read_chapters(path: Path, kind: str) -> list[Chapter]:
    """CHAPTERxxx comments in number order (000- or 001-based); ends are the next start."""
    audio = _open(path, kind)
    if audio.tags is None:
        return []
    found: dict[int, dict[str, str]] = {}
    for key, value in audio.tags:
        match = _CHAPTER_KEY.fullmatch(key)
        if match:
            found.setdefault(int(match.group(1)), {})[(match.group(2) or "start").lower()] = value
    chapters = []
    for number in sorted(found):
        entry = found[number]
        if "start" not in entry:
            continue
        chapters.append(
            Chapter(
                start_s=parse_time(entry["start"]),
                title=entry.get("name", ""),
                url=entry.get("url") or None,
            )
        )
    return chapters


def format_time(ms: int) -> str:
    """HH:MM:SS.mmm, as the Chapter Extension writes it."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def parse_time(text: str) -> float:
    """HH:MM:SS(.fff); an old ``start-->end`` value counts from its start."""
    start = text.split("-->")[0].strip()
    parts = start.split(":")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def _open(path: Path, kind: str):  # -> mutagen FileType
    from mutagen.flac import FLAC
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis

    return {"ogg": OggVorbis, "opus": OggOpus, "flac": FLAC}[kind](path)


def _picture(data: bytes, mime: str | None):  # -> mutagen.flac.Picture
    from mutagen.flac import Picture

    picture = Picture()
    picture.type = 3  # front cover
    picture.mime = mime or image_mime(data) or "image/jpeg"
    picture.desc = "Cover"
    picture.data = data
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            picture.width, picture.height = image.size
            picture.depth = {"1": 1, "L": 8, "P": 8, "RGB": 24, "RGBA": 32, "CMYK": 32}.get(image.mode, 24)
    except OSError:  # Pillow cannot read it (UnidentifiedImageError is an OSError): the sizes are
        pass  # informative only, readers use the data; load checks artwork with its own messages
    return picture

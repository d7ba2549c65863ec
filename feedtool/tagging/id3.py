"""MP3: ID3v2.3 tags with CHAP/CTOC chapters, in front of the source's untouched audio frames.

Why v2.3 and not v2.4 is in docs/tagging.md (short version: every player that reads v2.4 reads
v2.3, not the other way round, and CHAP/CTOC are defined for both).

A copy is ``head + source[audio span] + tail`` (feedtool.tagging.splice): the head is the tag
rendered here from the TagMetadata and the duration, the tail an ID3v1 tag made from the same
fields when the source ended with one. Nothing of the source's own tags is carried over (they
used to be), so a copy made from an earlier copy is byte for byte the copy made from the master:
the precondition for re-tagging inside a bucket without the master (docs/tagging.md, "What was in
the master").
"""

from __future__ import annotations

import re
from pathlib import Path

from feedtool.errors import TagError
from feedtool.model import Chapter
from feedtool.tagging import Span, TagMetadata, chapter_image, chapter_spans, image_mime
from feedtool.tagging.id3render import (
    ID3V1_PODCAST_GENRE,
    chapter_frame,
    cover_frame,
    id3v1,
    picture_frame,
    tag_header,
    text_frame,
    toc_frame,
    user_url_frame,
)
from feedtool.tagging.splice import AudioSpan, CopyPlan, read_mp3_span, write_copy

#: A CTOC lists its children with a one-byte count.
MAX_CHAPTERS = 255
#: Element ids are never shown; they only have to be unique.
TOC_ID = "toc"
#: Zero bytes after the frames: room for a tag editor to add a frame without moving the audio.
PADDING = bytes(1024)


def write(master: Path, out: Path, meta: TagMetadata, *, duration_s: float) -> None:
    """Write ``out`` = our ID3v2.3 tag + the master's audio frames (+ an ID3v1 tag if it had one)."""
    plan = plan_copy(meta, duration_s=duration_s, span=read_mp3_span(master), path=master)
    write_copy(plan, master, out)


def plan_copy(meta: TagMetadata, *, duration_s: float, span: AudioSpan, path: Path | str = "") -> CopyPlan:
    """The CopyPlan of a tagged MP3 whose source has its audio frames at ``span``.

    ``duration_s`` is the master's (probe's) duration: it goes into TLEN and ends the last
    chapter, so pass the recorded one when the source is an earlier copy. ``path`` only names the
    file in errors (a chapter after the end of the audio, too many chapters).
    """
    head = render_tag(meta, duration_s=duration_s, path=Path(path))
    tail = render_id3v1(meta) if span.id3v1 else b""
    return CopyPlan(head=tuple(head), source_start=span.start, source_end=span.end, tail=tail)


def render_tag(meta: TagMetadata, *, duration_s: float, path: Path) -> list[bytes]:
    """The whole ID3v2.3 tag as chunks (header, frames, padding), never joined: the cover frame
    is shared between episodes and may be hundreds of KB."""
    spans = chapter_spans(meta.chapters, duration_s, path=path, limit=MAX_CHAPTERS)
    frames = [data for data in own_frames(meta, spans, duration_s=duration_s) if data]
    try:
        header = tag_header(sum(len(data) for data in frames) + len(PADDING))
    except ValueError:
        raise TagError(
            "the ID3 tag would be larger than 256 MB",
            path=path,
            hint="use smaller cover and chapter images",
        ) from None
    return [header, *frames, PADDING]


def own_frames(meta: TagMetadata, spans: list[Span], *, duration_s: float) -> list[bytes]:
    """Every frame feedtool writes, in file order: the text frames, then the chapters (the table
    of contents, then each chapter in time order: FFmpeg lists CHAPs in file order), then the
    cover, the largest, last."""
    year, day_month = _date_parts(meta.date)
    frames = [
        text_frame("TIT2", meta.title),
        text_frame("TPE1", meta.artist),
        text_frame("TRCK", str(meta.track)) if meta.track is not None else b"",
        text_frame("TALB", meta.album),
        text_frame("TYER", year),
        text_frame("TDAT", day_month),
        text_frame("TCON", "Podcast"),
        # The length in ms: some readers end the last chapter there rather than scan the audio.
        text_frame("TLEN", str(max(1, round(duration_s * 1000)))),
    ]
    if spans:
        ids = [f"chp{index}" for index in range(len(spans))]
        frames.append(toc_frame(TOC_ID, 0x03, ids, [text_frame("TIT2", "Chapters")]))  # top-level | ordered
        frames.extend(_chapter(element_id, span, meta) for element_id, span in zip(ids, spans, strict=True))
    if meta.cover:
        frames.append(cover_frame(meta.cover, meta.cover_mime or image_mime(meta.cover) or "image/jpeg"))
    return frames


def _chapter(element_id: str, span: Span, meta: TagMetadata) -> bytes:
    """CHAP with its title, link (WXXX) and picture (APIC: the image, or a link to it)."""
    sub_frames = [text_frame("TIT2", span.chapter.title)]
    if span.chapter.url:
        sub_frames.append(user_url_frame("", ascii_url(span.chapter.url)))
    image = chapter_image(meta, span.chapter)
    if image is not None:
        sub_frames.append(picture_frame(image_mime(image) or "image/jpeg", 3, "", image))
    elif span.chapter.image and span.chapter.image.startswith(("http://", "https://")):
        # ID3v2 "link" picture: MIME type "-->" and the URL as data (AntennaPod reads it).
        sub_frames.append(picture_frame("-->", 3, "", ascii_url(span.chapter.image).encode("ascii")))
    return chapter_frame(element_id, span.start_ms, span.end_ms, sub_frames)


def render_id3v1(meta: TagMetadata) -> bytes:
    """The ID3v1.1 tag of a copy whose source had one: the same fields as the v2 tag, so the
    two never disagree."""
    year, _ = _date_parts(meta.date)
    return id3v1(title=meta.title, artist=meta.artist, album=meta.album, year=year, track=meta.track,
                 genre=ID3V1_PODCAST_GENRE)


def _date_parts(date: str) -> tuple[str, str]:
    """("YYYY", "DDMM") for TYER and TDAT (ID3v2.3 has no full date frame); ("", "") for no date."""
    if not date:
        return "", ""
    match = re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", date)
    if match is None or match.group(1) == "0000" or "00" in (match.group(2), match.group(3)):
        raise ValueError(f"TagMetadata.date must be YYYY-MM-DD, not {date!r}")
    year, month, day = match.groups()
    return year, day + month


def ascii_url(url: str) -> str:
    """A URL with its non-ASCII characters percent-encoded (as UTF-8): ID3v2.3 stores URLs in
    Latin-1, and an IRI written that way is the URI every client resolves it to."""
    from urllib.parse import quote

    return quote(url, safe=":/?#[]@!$&'()*+,;=%~")


def read_chapters(path: Path) -> list[Chapter]:
    """CHAP frames in the order of the top-level CTOC (then any others by start time)."""
    from mutagen.id3 import ID3, ID3NoHeaderError

    try:
        tags = ID3(path)
    except ID3NoHeaderError:
        return []
    frames = {frame.element_id: frame for frame in tags.getall("CHAP")}
    ordered: list[str] = []
    for toc in tags.getall("CTOC"):
        if toc.flags & 0x02:
            ordered = [child for child in toc.child_element_ids if child in frames]
    rest = sorted((key for key in frames if key not in ordered), key=lambda k: frames[k].start_time)
    chapters = []
    for key in ordered + rest:
        frame = frames[key]
        title = url = image = None
        for sub in frame.sub_frames.values():
            if sub.FrameID == "TIT2" and sub.text:
                title = str(sub.text[0])
            elif sub.FrameID == "WXXX":
                url = sub.url
            elif sub.FrameID == "APIC" and sub.mime == "-->":
                image = sub.data.decode("latin-1")  # a linked picture: its URL
        chapters.append(
            Chapter(
                start_s=frame.start_time / 1000,
                end_s=frame.end_time / 1000,
                title=title or "",
                url=url or None,
                image=image,
            )
        )
    return chapters

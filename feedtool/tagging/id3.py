"""MP3: ID3v2.3 tags with CHAP/CTOC chapters, written in front of the master's untouched audio.

Why v2.3 and not v2.4 is in docs/tagging.md (short version: every player that reads v2.4 reads
v2.3, not the other way round, and CHAP/CTOC are defined for both).

The copy is assembled, not edited: the new tag is rendered into memory (a few hundred KB with the
cover), the master's audio frames are copied after it, then the tag is written in front. The
master's ID3v2 tag is replaced as a whole; its frames are carried over unless feedtool sets them.
An ID3v1 tag at the end is rewritten from the new tag so the two never disagree.

Two renderers give the same bytes: ``_render_direct`` writes feedtool's own frames with id3render
(the cover frame rendered once per process) and leaves only the master's other frames to mutagen;
``_render_with_mutagen`` builds every frame as a mutagen object. The first is ~4x cheaper per file;
the second handles what the first declines (an ID3v1 tag to refresh, unknown v2.3 frames to carry,
a date that is not YYYY-MM-DD, text mutagen would refuse).
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

from feedtool.model import Chapter
from feedtool.tagging import Span, TagMetadata, chapter_image, chapter_spans, image_mime, limit_text
from feedtool.tagging.id3render import (
    chapter_frame,
    comment_frame,
    cover_frame,
    picture_frame,
    sort_key,
    syncsafe,
    text_frame,
    toc_frame,
    url_frame,
    user_url_frame,
)
from feedtool.tagging.integrity import id3v2_size
from feedtool.tagging.streamcopy import copy_range, preallocate

#: ID3 allows long COMM frames; players show a few lines. Apple's description limit is 4000.
DESCRIPTION_LIMIT = 4000
#: A CTOC lists its children with a one-byte count.
MAX_CHAPTERS = 255
#: Element ids are never shown; they only have to be unique.
TOC_ID = "toc"


def write(master: Path, out: Path, meta: TagMetadata, *, duration_s: float) -> None:
    """Write ``out`` = new ID3v2.3 tag + the master's audio (+ a refreshed ID3v1 if it had one)."""
    from mutagen.id3 import MakeID3v1

    tags = _load(master)
    size = master.stat().st_size
    with master.open("rb") as source:
        audio_start = id3v2_size(source)
        source.seek(max(size - 128, 0))
        has_v1 = size - audio_start >= 128 and source.read(3) == b"TAG"
        audio_end = size - 128 if has_v1 else size
        # The ID3v1 tag is made from the whole mutagen tag, so those (rare) files take mutagen's path.
        header = None
        if not has_v1:
            header = _render_direct(tags, meta, duration_s=duration_s, path=master)
            if header is None:
                tags = _load(master)  # the direct path may have dropped frames before giving up
        if header is None:
            header = [_render_with_mutagen(tags, meta, duration_s=duration_s, path=master)]
        v1 = MakeID3v1(tags) if has_v1 else b""
        header_size = sum(len(chunk) for chunk in header)
        with out.open("wb") as target:
            preallocate(target, header_size + audio_end - audio_start + len(v1))
            # The audio first, then the tags around it (one kernel copy, no byte through Python).
            copy_range(source, target, audio_start, audio_end - audio_start, at=header_size)
            if v1:
                target.write(v1)
            target.flush()
            _write_at(target.fileno(), header, 0)


def _write_at(fd: int, chunks: list[bytes], offset: int) -> None:
    """Write ``chunks`` back to back from ``offset`` without joining them (the cover is 100s of KB)."""
    import os

    pending = [memoryview(chunk) for chunk in chunks if chunk]
    while pending:
        written = os.pwritev(fd, pending[:512], offset)  # IOV_MAX is 1024 on Linux
        offset += written
        while pending and written >= len(pending[0]):
            written -= len(pending[0])
            pending.pop(0)
        if written:
            pending[0] = pending[0][written:]


def _render_with_mutagen(tags, meta: TagMetadata, *, duration_s: float, path: Path) -> bytes:
    """The whole tag through mutagen's frame objects: any case ``_render_direct`` leaves alone."""
    from mutagen.id3 import ID3, TLEN

    _set_text_frames(tags, meta)
    # The length in ms: some readers end the last chapter there rather than scan the audio.
    tags.setall("TLEN", [TLEN(encoding=3, text=[str(max(1, round(duration_s * 1000)))])])
    _set_chapters(tags, meta, duration_s=duration_s, path=path)
    tags.update_to_v23()
    rendered = io.BytesIO()
    ID3.save(tags, rendered, v1=0, v2_version=3, v23_sep="/")
    return chapters_in_time_order(rendered.getvalue())


#: What mutagen pads a tag rendered into an empty buffer with (PaddingInfo: 1 KiB + 0.1% of nothing).
PADDING = bytes(1024)


def _render_direct(tags, meta: TagMetadata, *, duration_s: float, path: Path) -> list[bytes] | None:
    """The same tag bytes as ``_render_with_mutagen``, as chunks, at a fraction of the cost.

    feedtool's own frames are rendered by id3render (the cover once per process); only the frames
    carried over from the master go through mutagen. Returns None, having perhaps dropped frames
    from ``tags``, for anything it does not reproduce exactly: the caller then uses mutagen.
    """
    try:
        from mutagen.id3._tags import save_frame
        from mutagen.id3._util import ID3SaveConfig
    except ImportError:  # a mutagen that moved its internals: the slow path still works
        return None
    if getattr(tags, "_unknown_v2_version", 4) == 3 and tags.unknown_frames:
        return None  # mutagen appends these raw after the sorted frames
    date = _plain_date(meta.date) if meta.date else ()
    if date is None:
        return None
    spans = chapter_spans(meta.chapters, duration_s, path=path, limit=MAX_CHAPTERS)
    try:
        ours = _own_frames(meta, spans, duration_s=duration_s, date=date)
    except (UnicodeError, ValueError, OverflowError, struct.error):
        return None  # mutagen raises its own error for these; let it
    _drop_replaced(tags, meta)
    try:
        tags.update_to_v23()
        config = ID3SaveConfig(3, "/")
        kept = [(f.FrameID, f.HashKey, save_frame(f, config=config)) for f in tags.values()]
    except Exception:  # noqa: BLE001 - issue 11.13: narrow this (it hides real errors)
        return None
    entries = [
        (sort_key(name, key, data, index), name, data) for index, (name, key, data) in enumerate(ours + kept)
    ]
    frames = [(name, data) for _, name, data in sorted(entries, key=lambda entry: entry[0]) if data]
    body = [data for _, data in _chapter_frames_in_time_order(frames)]
    try:
        size = syncsafe(sum(len(data) for data in body) + len(PADDING))
    except ValueError:
        return None
    return [b"ID3\x03\x00\x00" + size, *body, PADDING]


def _plain_date(date: str) -> tuple[str, str] | None:
    """(TYER, TDAT) for "YYYY-MM-DD", as mutagen derives them from TDRC; None for anything else."""
    import re

    match = re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", date)
    if match is None or match.group(1) == "0000" or "00" in (match.group(2), match.group(3)):
        return None
    year, month, day = match.groups()
    return year, day + month


def _own_frames(
    meta: TagMetadata, spans: list[Span], *, duration_s: float, date: tuple[str, ...]
) -> list[tuple[str, str, bytes]]:
    """(frame id, mutagen HashKey, bytes) of every frame feedtool sets, as ``_set_text_frames``,
    the TLEN line and ``_set_chapters`` would after ``update_to_v23``."""
    frames = [
        ("TIT2", "TIT2", text_frame("TIT2", meta.title)),
        ("TPE1", "TPE1", text_frame("TPE1", meta.artist)),
        ("TALB", "TALB", text_frame("TALB", meta.album)),
        ("TCON", "TCON", text_frame("TCON", "Podcast")),
        ("TLEN", "TLEN", text_frame("TLEN", str(max(1, round(duration_s * 1000))))),
    ]
    if meta.track is not None:
        frames.append(("TRCK", "TRCK", text_frame("TRCK", str(meta.track))))
    if date:
        frames.append(("TYER", "TYER", text_frame("TYER", date[0])))
        frames.append(("TDAT", "TDAT", text_frame("TDAT", date[1])))
    if meta.description:
        text = limit_text(meta.description, DESCRIPTION_LIMIT)
        frames.append(("COMM", "COMM::eng", comment_frame("eng", "", text)))
    if meta.link:
        frames.append(("WOAF", "WOAF", url_frame("WOAF", meta.link)))
    if meta.cover:
        mime = meta.cover_mime or image_mime(meta.cover) or "image/jpeg"
        frames.append(("APIC", "APIC:Cover", cover_frame(meta.cover, mime)))
    if not spans:
        return frames
    ids = []
    for index, span in enumerate(spans):
        element_id = f"chp{index}"
        ids.append(element_id)
        # mutagen's order inside a CHAP is TIT2, WXXX, APIC (priority, then size).
        sub_frames = [text_frame("TIT2", span.chapter.title)]
        if span.chapter.url:
            sub_frames.append(user_url_frame("", span.chapter.url))
        image = chapter_image(meta, span.chapter)
        if image is not None:
            sub_frames.append(picture_frame(image_mime(image) or "image/jpeg", 3, "", image))
        elif span.chapter.image and span.chapter.image.startswith(("http://", "https://")):
            sub_frames.append(picture_frame("-->", 3, "", _ascii_url(span.chapter.image), latin1=True))
        data = chapter_frame(element_id, span.start_ms, span.end_ms, sub_frames)
        frames.append(("CHAP", f"CHAP:{element_id}", data))
    toc = toc_frame(TOC_ID, 0x03, ids, [text_frame("TIT2", "Chapters")])  # top-level | ordered
    frames.append(("CTOC", f"CTOC:{TOC_ID}", toc))
    return frames


def _drop_replaced(tags, meta: TagMetadata) -> None:
    """Remove from the master's tags every frame ``_set_text_frames``/``_set_chapters`` replace."""
    for key in ("TIT2", "TPE1", "TALB", "TCON", "TLEN", "CHAP", "CTOC"):
        tags.delall(key)
    if meta.track is not None:
        tags.delall("TRCK")
    if meta.date:
        for key in ("TDRC", "TYER", "TDAT", "TIME", "TRDA"):
            tags.delall(key)
    if meta.description:
        tags.setall("COMM", [frame for frame in tags.getall("COMM") if frame.desc])
    if meta.link:
        tags.delall("WOAF")
    if meta.cover:
        tags.delall("APIC")


def chapters_in_time_order(tag: bytes) -> bytes:
    """Reorder the frames of a rendered ID3v2.3 tag: CTOC, then CHAP frames by start time.

    mutagen orders frames by size, and some readers (FFmpeg's among them) list chapters in file
    order rather than by time. The frame bytes are untouched; only their order changes, so the
    tag size and padding stay the same.
    """
    if tag[:4] != b"ID3\x03" or tag[5] & 0xC0:  # not v2.3, or unsynchronised/extended header
        return tag
    body_size = len(tag) - 10
    frames: list[tuple[bytes, bytes]] = []
    offset = 10
    while offset + 10 <= 10 + body_size and tag[offset : offset + 4] != b"\0\0\0\0":
        name = tag[offset : offset + 4]
        size = struct.unpack(">I", tag[offset + 4 : offset + 8])[0]
        frames.append((name, tag[offset : offset + 10 + size]))
        offset += 10 + size
    ordered = _chapter_frames_in_time_order(frames)
    if ordered is frames:
        return tag
    return tag[:10] + b"".join(f for _, f in ordered) + tag[offset:]


def _chapter_frames_in_time_order(frames: list) -> list:
    """[(frame id, frame bytes)] with CTOC then CHAPs (by start time) where the first of them was.

    Frame ids may be str or bytes; the list itself is returned when there are no chapters.
    """
    chapter_names = ("CHAP", "CTOC", b"CHAP", b"CTOC")
    if not any(name in chapter_names for name, _ in frames):
        return frames
    first = next(i for i, (name, _) in enumerate(frames) if name in chapter_names)
    others = [f for f in frames if f[0] not in chapter_names]

    def start_time(entry: tuple) -> int:
        frame = entry[1]
        element_end = frame.index(b"\0", 10)
        return struct.unpack(">I", frame[element_end + 1 : element_end + 5])[0]

    tocs = [f for f in frames if f[0] in ("CTOC", b"CTOC")]
    chaps = sorted((f for f in frames if f[0] in ("CHAP", b"CHAP")), key=start_time)
    return others[:first] + tocs + chaps + others[first:]


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


def _load(master: Path):  # -> mutagen.id3.ID3
    from mutagen.id3 import ID3, ID3NoHeaderError

    try:
        return ID3(master)
    except ID3NoHeaderError:
        return ID3()


def _set_text_frames(tags, meta: TagMetadata) -> None:  # tags: mutagen.id3.ID3
    from mutagen.id3 import APIC, COMM, TALB, TCON, TDRC, TIT2, TPE1, TRCK, WOAF

    tags.setall("TIT2", [TIT2(encoding=3, text=[meta.title])])
    tags.setall("TPE1", [TPE1(encoding=3, text=[meta.artist])])
    tags.setall("TALB", [TALB(encoding=3, text=[meta.album])])
    tags.setall("TCON", [TCON(encoding=3, text=["Podcast"])])
    if meta.track is not None:
        tags.setall("TRCK", [TRCK(encoding=3, text=[str(meta.track)])])
    if meta.date:
        for old in ("TDRC", "TYER", "TDAT", "TIME", "TRDA"):
            tags.delall(old)
        tags.setall("TDRC", [TDRC(encoding=3, text=[meta.date])])
    if meta.description:
        keep = [frame for frame in tags.getall("COMM") if frame.desc]  # e.g. iTunNORM, iTunSMPB
        keep.append(
            COMM(encoding=3, lang="eng", desc="", text=[limit_text(meta.description, DESCRIPTION_LIMIT)])
        )
        tags.setall("COMM", keep)
    if meta.link:
        tags.setall("WOAF", [WOAF(url=meta.link)])
    if meta.cover:
        mime = meta.cover_mime or image_mime(meta.cover) or "image/jpeg"
        tags.setall("APIC", [APIC(encoding=3, mime=mime, type=3, desc="Cover", data=meta.cover)])


def _set_chapters(tags, meta: TagMetadata, *, duration_s: float, path: Path) -> None:
    from mutagen.id3 import APIC, CHAP, CTOC, TIT2, WXXX, CTOCFlags, Frame

    tags.delall("CHAP")
    tags.delall("CTOC")
    spans = chapter_spans(meta.chapters, duration_s, path=path, limit=MAX_CHAPTERS)
    if not spans:
        return
    ids = []
    for index, span in enumerate(spans):
        element_id = f"chp{index}"
        ids.append(element_id)
        sub_frames: list[Frame] = [TIT2(encoding=3, text=[span.chapter.title])]
        if span.chapter.url:
            sub_frames.append(WXXX(encoding=3, desc="", url=span.chapter.url))
        image = chapter_image(meta, span.chapter)
        if image is not None:
            mime = image_mime(image) or "image/jpeg"
            sub_frames.append(APIC(encoding=3, mime=mime, type=3, desc="", data=image))
        elif span.chapter.image and span.chapter.image.startswith(("http://", "https://")):
            # ID3v2 "link" picture: MIME type "-->" and the URL as data (AntennaPod reads it).
            sub_frames.append(
                APIC(encoding=0, mime="-->", type=3, desc="", data=_ascii_url(span.chapter.image))
            )
        tags.add(
            CHAP(
                element_id=element_id,
                start_time=span.start_ms,
                end_time=span.end_ms,
                start_offset=0xFFFFFFFF,
                end_offset=0xFFFFFFFF,
                sub_frames=sub_frames,
            )
        )
    tags.add(
        CTOC(
            element_id=TOC_ID,
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=ids,
            sub_frames=[TIT2(encoding=3, text=["Chapters"])],
        )
    )


def _ascii_url(url: str) -> bytes:
    """A URL as Latin-1-safe bytes: non-ASCII characters percent-encoded."""
    from urllib.parse import quote

    return quote(url, safe=":/?#[]@!$&'()*+,;=%~").encode("ascii")

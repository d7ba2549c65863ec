"""MP3: ID3v2.3 tags with CHAP/CTOC chapters, written in front of the master's untouched audio.

Why v2.3 and not v2.4 is in docs/tagging.md (short version: every player that reads v2.4 reads
v2.3, not the other way round, and CHAP/CTOC are defined for both).

The copy is assembled, not edited: mutagen renders the new tag into memory (a few hundred KB with
the cover), then the kernel copies the master's audio frames after it. The master's ID3v2 tag is
replaced as a whole; its frames are carried over unless feedtool sets them. An ID3v1 tag at the end
is rewritten from the new tag so the two never disagree.
"""

from __future__ import annotations

import io
from pathlib import Path

from feedtool.model import Chapter
from feedtool.tagging import TagMetadata, chapter_image, chapter_spans, image_mime, limit_text
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
    from mutagen.id3 import ID3, MakeID3v1

    from mutagen.id3 import TLEN

    tags = _load(master)
    _set_text_frames(tags, meta)
    # The length in ms: some readers end the last chapter there rather than scan the audio.
    tags.setall("TLEN", [TLEN(encoding=3, text=[str(max(1, round(duration_s * 1000)))])])
    _set_chapters(tags, meta, duration_s=duration_s, path=master)
    tags.update_to_v23()
    rendered = io.BytesIO()
    ID3.save(tags, rendered, v1=0, v2_version=3, v23_sep="/")
    header = chapters_in_time_order(rendered.getvalue())

    size = master.stat().st_size
    with master.open("rb") as source, out.open("wb") as target:
        audio_start = id3v2_size(source)
        source.seek(max(size - 128, 0))
        has_v1 = size - audio_start >= 128 and source.read(3) == b"TAG"
        audio_end = size - 128 if has_v1 else size
        v1_size = 128 if has_v1 else 0
        preallocate(target, len(header) + audio_end - audio_start + v1_size)
        # The audio first, then the tags around it (one kernel copy, no byte through Python).
        copy_range(source, target, audio_start, audio_end - audio_start, at=len(header))
        if has_v1:
            target.write(MakeID3v1(tags))
        target.seek(0)
        target.write(header)


def chapters_in_time_order(tag: bytes) -> bytes:
    """Reorder the frames of a rendered ID3v2.3 tag: CTOC, then CHAP frames by start time.

    mutagen orders frames by size, and some readers (FFmpeg's among them) list chapters in file
    order rather than by time. The frame bytes are untouched; only their order changes, so the
    tag size and padding stay the same.
    """
    import struct

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
    chapter_frames = [f for f in frames if f[0] in (b"CHAP", b"CTOC")]
    if not chapter_frames:
        return tag
    first = next(i for i, f in enumerate(frames) if f[0] in (b"CHAP", b"CTOC"))
    others = [f for f in frames if f[0] not in (b"CHAP", b"CTOC")]

    def start_time(frame: bytes) -> int:
        element_end = frame.index(b"\0", 10)
        return struct.unpack(">I", frame[element_end + 1 : element_end + 5])[0]

    tocs = [f for name, f in chapter_frames if name == b"CTOC"]
    chaps = sorted((f for name, f in chapter_frames if name == b"CHAP"), key=start_time)
    ordered = [f for _, f in others[:first]] + tocs + chaps + [f for _, f in others[first:]]
    return tag[:10] + b"".join(ordered) + tag[offset:]


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
    from mutagen.id3 import APIC, CHAP, CTOC, TIT2, WXXX, CTOCFlags

    tags.delall("CHAP")
    tags.delall("CTOC")
    spans = chapter_spans(meta.chapters, duration_s, path=path, limit=MAX_CHAPTERS)
    if not spans:
        return
    ids = []
    for index, span in enumerate(spans):
        element_id = f"chp{index}"
        ids.append(element_id)
        sub_frames = [TIT2(encoding=3, text=[span.chapter.title])]
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

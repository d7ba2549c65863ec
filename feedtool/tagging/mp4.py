"""M4A/MP4: chapters as a QuickTime chapter track and a Nero ``chpl`` atom, iTunes-style tags.

mutagen can read Nero chapters but not write any. Two writers produce both kinds (the text track
Apple reads, the ``chpl`` atom AntennaPod reads):

- mp4box (the usual path): rewrites only the moov index, with a chapter track laid out exactly as
  FFmpeg's muxer writes it and the iTunes tags in it, puts it first ("fast start") and lets the
  kernel copy the media data.
- a PyAV stream-copy remux with ``set_chapters`` (FFmpeg's muxer itself), then mutagen for the
  tags, for layouts mp4box does not edit (chunk offsets outside any atom, a huge moov). Packets
  are moved, never decoded; about 7x slower than a copy.

Either way the master's own tags are carried over unless feedtool sets them (the moov is edited,
not rebuilt, so re-tagging an earlier copy keeps what it had).
"""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

from feedtool.errors import AudioError
from feedtool.model import Chapter
from feedtool.tagging import Span, TagMetadata, chapter_spans, image_mime, master_error

#: The Nero chpl atom counts its chapters in one byte.
MAX_CHAPTERS = 255


def write(master: Path, out: Path, meta: TagMetadata, *, duration_s: float, kind: str = "m4a") -> None:
    """Remux the master into ``out`` with our chapters, then set the tags on ``out``."""
    from feedtool.tagging import mp4box

    spans = chapter_spans(meta.chapters, duration_s, path=master, limit=MAX_CHAPTERS)
    try:
        mp4box.write(master, out, spans, ilst_items(meta))
    except mp4box.Unsupported:
        import av
        from mutagen import MutagenError

        try:
            remux_with_chapters(master, out, spans, muxer="mp4" if kind == "mp4" else "ipod")
            _write_tags(master, out, meta)
        except (av.error.FFmpegError, MutagenError) as error:
            raise master_error(error, master) from None


def ilst_items(meta: TagMetadata) -> dict[bytes, list[bytes]]:
    """Our iTunes tags as ilst key -> 'data' atom payloads (the same set ``set_tags`` writes)."""
    from feedtool.tagging.mp4box import data_atom

    def text(value: str) -> list[bytes]:
        return [data_atom(1, value.encode("utf-8"))]

    items = {
        b"\xa9nam": text(meta.title),
        b"\xa9ART": text(meta.artist),
        b"aART": text(meta.artist),
        b"\xa9alb": text(meta.album),
        b"\xa9gen": text("Podcast"),
    }
    if meta.date:
        items[b"\xa9day"] = text(meta.date)
    if meta.track is not None:
        items[b"trkn"] = [data_atom(0, struct.pack(">HHHH", 0, meta.track, 0, 0))]
    if meta.cover:
        png = (meta.cover_mime or image_mime(meta.cover)) == "image/png"
        items[b"covr"] = [data_atom(14 if png else 13, meta.cover)]
    return items


def remux_with_chapters(master: Path, out: Path, spans: list[Span], *, muxer: str) -> None:
    """Stream-copy the audio (and video) streams of ``master`` into ``out`` with ``spans``."""
    import av

    with av.open(str(master)) as source:
        streams = [
            stream
            for stream in source.streams
            if stream.type in ("audio", "video") and not stream.disposition & av.stream.Disposition.attached_pic
        ]
        with av.open(str(out), "w", format=muxer) as target:
            mapping = {stream.index: target.add_stream_from_template(stream) for stream in streams}
            target.set_chapters(
                [
                    {
                        "id": index + 1,
                        "start": span.start_ms,
                        "end": span.end_ms,
                        "time_base": Fraction(1, 1000),
                        "metadata": {"title": span.chapter.title},
                    }
                    for index, span in enumerate(spans)
                ]
            )
            for packet in source.demux(*streams):
                if packet.dts is None:  # the flush packet at the end of each stream
                    continue
                packet.stream = mapping[packet.stream.index]
                target.mux(packet)


def read_chapters(path: Path) -> list[Chapter]:
    """Chapters as FFmpeg sees them (QuickTime chapter track, else Nero chpl)."""
    import av

    try:
        with av.open(str(path)) as container:
            found = container.chapters()
    except av.error.FFmpegError as error:
        raise AudioError(
            f"cannot read the chapters in this file ({type(error).__name__}: {error})",
            path=path,
            hint="the file may be corrupt; export it again",
        ) from None
    chapters = []
    for entry in found:
        base = entry["time_base"] or Fraction(1, 1000)
        chapters.append(
            Chapter(
                start_s=float(entry["start"] * base),
                end_s=float(entry["end"] * base),
                title=entry["metadata"].get("title", ""),
            )
        )
    return chapters


def _write_tags(master: Path, out: Path, meta: TagMetadata) -> None:
    """After a remux: the master's tags (the remux dropped them) plus ours."""
    from mutagen.mp4 import MP4

    original = MP4(master).tags
    audio = MP4(out)
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    if original is not None:
        for key, value in original.items():
            if key != "©too":
                tags[key] = value
    set_tags(tags, meta)
    audio.save()


def set_tags(tags, meta: TagMetadata) -> None:  # tags: mutagen.mp4.MP4Tags
    """Our iTunes-style atoms; any others the file has stay."""
    from mutagen.mp4 import MP4Cover

    tags["©nam"] = [meta.title]
    tags["©ART"] = [meta.artist]
    tags["aART"] = [meta.artist]
    tags["©alb"] = [meta.album]
    tags["©gen"] = ["Podcast"]
    if meta.date:
        tags["©day"] = [meta.date]
    if meta.track is not None:
        tags["trkn"] = [(meta.track, 0)]
    if meta.cover:
        mime = meta.cover_mime or image_mime(meta.cover)
        image_format = MP4Cover.FORMAT_PNG if mime == "image/png" else MP4Cover.FORMAT_JPEG
        tags["covr"] = [MP4Cover(meta.cover, imageformat=image_format)]

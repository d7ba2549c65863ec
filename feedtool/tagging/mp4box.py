"""Add chapters to an MP4/M4A by rewriting its index (moov), never its media data.

A QuickTime chapter track is a disabled text track whose samples are the chapter titles, and
which the audio track points at through ``tref/chap``; Apple's players read it. The Nero ``chpl``
atom in ``moov/udta`` is a plain list of (start, title); AntennaPod reads that one. FFmpeg's MP4
muxer writes both, but going through it means remuxing every packet in Python (7x the time of a
file copy for a 100 MB episode). This module writes the same two structures, laid out the way
FFmpeg lays them out, around the untouched media data:

    ftyp | moov (new: chapter track, tref/chap, chpl, iTunes tags) | mdat (chapter titles, then
    the master's media data) | the master's other top-level atoms; every chunk offset moved to match.

The iTunes tags (ilst) are written here too rather than by mutagen, which would need a second pass
over the moov and spends longer on sorting a cover (by its repr) than the rest of the job.

The result is "fast start" (the index first), so players can begin before the whole file arrived.
Fragmented MP4 (moof) is not handled here; mp4.py falls back to the PyAV remux for it.
"""

from __future__ import annotations

import struct
from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from feedtool.tagging import Span

#: Boxes we open; everything else is carried as opaque bytes.
CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta", b"tref", b"edts"}
#: Top-level atoms that hold nothing a chunk offset may point into; dropped from the copy.
FILLER = {b"free", b"skip", b"wide"}
#: Largest moov we read into memory (a 10-hour AAC file's index is a few MB).
MAX_MOOV = 48 * 1024 * 1024
#: Nero chpl titles are length-prefixed by one byte.
CHPL_TITLE_LIMIT = 255


class Unsupported(Exception):
    """This layout needs the general remux (fragmented MP4, offsets outside any atom ...)."""


@dataclass
class TopAtom:
    name: bytes
    offset: int
    size: int
    header: int = 8  # 16 with a 64-bit size


@dataclass
class Box:
    """A box in the moov tree: a leaf with its payload, or a container with children.

    ``name == b""`` marks trailing bytes that are not a box (QuickTime's udta terminator).
    """

    name: bytes
    payload: bytes = b""
    children: list[Box] | None = None

    def render(self) -> bytes:
        if not self.name:
            return self.payload
        body = self.payload if self.children is None else b"".join(child.render() for child in self.children)
        if len(body) + 8 > 0xFFFFFFFF:
            return struct.pack(">I4sQ", 1, self.name, len(body) + 16) + body
        return struct.pack(">I4s", len(body) + 8, self.name) + body

    def size(self) -> int:
        if not self.name:
            return len(self.payload)
        body = len(self.payload) if self.children is None else sum(c.size() for c in self.children)
        return body + (16 if body + 8 > 0xFFFFFFFF else 8)

    def get(self, name: bytes) -> Box | None:
        return next((c for c in self.children or () if c.name == name), None)

    def all(self, name: bytes) -> list[Box]:
        return [c for c in self.children or () if c.name == name]


def parse_boxes(data: bytes | memoryview) -> list[Box]:
    """The boxes in ``data``; containers are opened, leaves keep their payload bytes."""
    view = memoryview(data)  # slices of a view do not copy; only leaves become bytes
    boxes: list[Box] = []
    offset = 0
    while offset < len(view):
        if len(view) - offset < 8:
            boxes.append(Box(b"", bytes(view[offset:])))
            break
        size, name = struct.unpack_from(">I4s", view, offset)
        header = 8
        if size == 1 and len(view) - offset >= 16:
            size = struct.unpack_from(">Q", view, offset + 8)[0]
            header = 16
        elif size == 0:
            size = len(view) - offset
        if size < header or offset + size > len(view):
            boxes.append(Box(b"", bytes(view[offset:])))  # not a box: keep the bytes as they are
            break
        body = view[offset + header : offset + size]
        if name in CONTAINERS:
            boxes.append(Box(name, children=parse_boxes(body)))
        else:
            boxes.append(Box(name, bytes(body)))
        offset += size
    return boxes


def top_level_atoms(handle: BinaryIO, file_size: int) -> list[TopAtom]:
    atoms = []
    offset = 0
    while offset + 8 <= file_size:
        handle.seek(offset)
        header = handle.read(16)
        size, name = struct.unpack(">I4s", header[:8])
        header_size = 8
        if size == 1:
            size = struct.unpack(">Q", header[8:16])[0]
            header_size = 16
        elif size == 0:
            size = file_size - offset
        if size < header_size or offset + size > file_size:
            raise Unsupported(f"atom '{name.decode('latin-1')}' at byte {offset} does not fit the file")
        atoms.append(TopAtom(name, offset, size, header_size))
        offset += size
    return atoms


# --------------------------------------------------------------------------------------------
# The rebuild


@dataclass
class _OffsetTable:
    stbl: Box
    box: Box
    offsets: list[int]  # as in the master


@dataclass
class Piece:
    """A stretch of the output after the head: literal bytes, or ``size`` bytes of the master."""

    data: bytes = b""
    offset: int = 0
    size: int = 0


@dataclass
class Plan:
    """What to write: the head (ftyp + moov), then the pieces (mdat headers, chapter titles, media)."""

    ftyp: bytes
    moov: Box
    chapter_data: bytes
    copied: list[TopAtom] = field(default_factory=list)
    pieces: list[Piece] = field(default_factory=list)

    def head(self) -> bytes:
        return self.ftyp + self.moov.render()


def plan(source: BinaryIO, file_size: int, spans: list[Span], items: dict[bytes, list[bytes]]) -> Plan:
    """Read the master's atoms and moov; build the new moov with our chapters and ``items``."""
    atoms = top_level_atoms(source, file_size)
    names = [atom.name for atom in atoms]
    if b"moof" in names or names.count(b"moov") != 1:
        raise Unsupported("fragmented MP4 or no single moov")
    moov_atom = atoms[names.index(b"moov")]
    if moov_atom.size > MAX_MOOV:
        raise Unsupported("moov too large to edit in memory")
    source.seek(moov_atom.offset)
    raw = source.read(moov_atom.size)
    moov = parse_boxes(raw)[0]
    ftyp = b""
    if b"ftyp" in names:
        ftyp_atom = atoms[names.index(b"ftyp")]
        source.seek(ftyp_atom.offset)
        ftyp = source.read(ftyp_atom.size)
    copied = [atom for atom in atoms if atom.name not in FILLER and atom.name not in (b"ftyp", b"moov")]

    mvhd = _required(moov, b"mvhd")
    version = mvhd.payload[0]
    if version == 1:
        movie_scale, movie_duration = struct.unpack(">IQ", mvhd.payload[20:32])
    else:
        movie_scale, movie_duration = struct.unpack(">II", mvhd.payload[12:20])
    if not movie_scale:
        raise Unsupported("mvhd has no timescale")
    movie_ms = movie_duration * 1000 // movie_scale

    tracks = moov.all(b"trak")
    ids = {_track_id(trak): trak for trak in tracks}
    old_chapter_ids = set()
    for trak in tracks:
        tref = trak.get(b"tref")
        chap = tref.get(b"chap") if tref else None
        if chap is not None:
            old_chapter_ids.update(array_u32(chap.payload))
    # Replace the old chapters: drop disabled tracks that served as chapters, and the links to them.
    old_samples: list[tuple[int, int]] = []  # where their titles sit in the master
    for track_id in old_chapter_ids:
        old_trak = ids.get(track_id)
        if old_trak is not None and not _track_flags(old_trak) & 1:
            moov.children.remove(old_trak)  # type: ignore[union-attr]
            old_samples.extend(_single_chunk(old_trak))
    tracks = moov.all(b"trak")
    for trak in tracks:
        tref = trak.get(b"tref")
        if tref is not None:
            tref.children = [c for c in tref.children or () if c.name != b"chap"]
            if not tref.children:
                trak.children.remove(tref)  # type: ignore[union-attr]
    udta = moov.get(b"udta")
    if udta is not None:
        udta.children = [c for c in udta.children or () if c.name != b"chpl"]

    tables = [
        _OffsetTable(stbl, box, _read_offsets(box))
        for trak in tracks
        for stbl in [_stbl(trak)]
        if stbl is not None
        for box in stbl.children or ()
        if box.name in (b"stco", b"co64")
    ]

    chapter_data = b""
    chapter_stco: Box | None = None
    if spans:
        new_id = max([_track_id(trak) for trak in tracks] + [0]) + 1
        samples = [_text_sample(span.chapter.title) for span in spans]
        chapter_data = b"".join(samples)
        chapter_trak, chapter_stco = _chapter_track(
            new_id, spans, [len(s) for s in samples], movie_scale, movie_ms
        )
        position = max(i for i, c in enumerate(moov.children or ()) if c.name == b"trak") + 1
        moov.children.insert(position, chapter_trak)  # type: ignore[union-attr]
        for trak in tracks:
            if _handler(trak) in (b"soun", b"vide"):
                tref = trak.get(b"tref")
                if tref is None:
                    tref = Box(b"tref", children=[])
                    trak.children.insert(_index_of(trak, b"mdia"), tref)  # type: ignore[union-attr]
                tref.children.append(Box(b"chap", struct.pack(">I", new_id)))  # type: ignore[union-attr]
        if udta is None:
            udta = Box(b"udta", children=[])
            moov.children.append(udta)  # type: ignore[union-attr]
        udta.children.insert(0, Box(b"chpl", _chpl(spans)))  # type: ignore[union-attr]
        _set_next_track_id(mvhd, new_id + 1)

    if items:
        set_items(moov, items)
    result = Plan(ftyp=ftyp, moov=moov, chapter_data=chapter_data, copied=copied)
    _place(result, tables, chapter_stco, old_samples)
    return result


def _place(
    result: Plan, tables: list[_OffsetTable], chapter_stco: Box | None, old_samples: list[tuple[int, int]]
) -> None:
    """Lay out what follows the moov and move every chunk offset to match.

    The chapter titles go at the start of the master's media data atom, as FFmpeg places them,
    so the file keeps a single mdat (some simple parsers expect one); with several mdat atoms they
    get one of their own in front. Old chapter titles found at that same place (a master written by
    FFmpeg or by feedtool) are left out, so tagging a tagged file again gives the same bytes.
    """
    mdats = [atom for atom in result.copied if atom.name == b"mdat"]
    host = mdats[0] if len(mdats) == 1 else None
    skip = 0
    if host is not None:
        payload_start = host.offset + host.header
        for start, length in sorted(old_samples):
            if start == payload_start + skip:
                skip += length
    if not result.chapter_data and not skip:
        host = None
    for _attempt in range(3):
        position = len(result.ftyp) + result.moov.size()
        pieces: list[Piece] = []
        ranges: list[tuple[int, int, int]] = []  # (start, end) in the master -> new start
        chapter_at = 0
        if result.chapter_data and host is None:
            pieces.append(Piece(data=_mdat_header(len(result.chapter_data)) + result.chapter_data))
            chapter_at = position + 8
            position += len(pieces[-1].data)
        for atom in result.copied:
            if atom is host:
                payload = atom.size - atom.header - skip
                header = _mdat_header(len(result.chapter_data) + payload)
                pieces.append(Piece(data=header + result.chapter_data))
                chapter_at = position + len(header)
                position += len(pieces[-1].data)
                kept_from = atom.offset + atom.header + skip
                pieces.append(Piece(offset=kept_from, size=payload))
                ranges.append((kept_from, atom.offset + atom.size, position))
                position += payload
            else:
                pieces.append(Piece(offset=atom.offset, size=atom.size))
                ranges.append((atom.offset, atom.offset + atom.size, position))
                position += atom.size
        if chapter_stco is not None:
            chapter_stco.payload = struct.pack(">III", 0, 1, chapter_at)
        ranges.sort()
        starts = [start for start, _, _ in ranges]
        widened = False
        for table in tables:
            moved = []
            for offset in table.offsets:
                index = bisect_right(starts, offset) - 1
                if index < 0 or offset >= ranges[index][1]:
                    raise Unsupported(f"chunk offset {offset} is outside the media atoms")
                moved.append(offset - ranges[index][0] + ranges[index][2])
            if table.box.name == b"stco" and moved and max(moved) > 0xFFFFFFFF:
                table.box.name = b"co64"
                widened = True
            table.box.payload = _write_offsets(moved, wide=table.box.name == b"co64")
        result.pieces = pieces
        if not widened:
            return
    raise Unsupported("chunk offsets do not settle")


def _mdat_header(payload: int) -> bytes:
    if payload + 8 <= 0xFFFFFFFF:
        return struct.pack(">I4s", payload + 8, b"mdat")
    return struct.pack(">I4sQ", 1, b"mdat", payload + 16)


def write(master: Path, out: Path, spans: list[Span], items: dict[bytes, list[bytes]]) -> None:
    """Write ``out``: the master with ``spans`` as chapters and ``items`` in its iTunes tags.

    ``items`` maps an ilst key (b"\xa9nam", b"covr" ...) to the payloads of its 'data' atoms;
    those keys are replaced, every other tag the master has is kept as it is.
    """
    from feedtool.tagging.streamcopy import copy_range, preallocate

    size = master.stat().st_size
    with master.open("rb") as source:
        try:
            layout = plan(source, size, spans, items)
        except (struct.error, IndexError) as error:  # a box shorter than its own layout says
            raise Unsupported(f"a malformed box in the moov ({error})") from None
        head = layout.head()
        with out.open("wb") as target:
            total = len(head) + sum(len(piece.data) + piece.size for piece in layout.pieces)
            preallocate(target, total)
            # The media first, then the small pieces around it.
            position = len(head)
            literals = [(0, head)]
            for piece in _merge(layout.pieces):
                if piece.data:
                    literals.append((position, piece.data))
                    position += len(piece.data)
                else:
                    copy_range(source, target, piece.offset, piece.size, at=position)
                    position += piece.size
            for at, data in literals:
                target.seek(at)
                target.write(data)


# --------------------------------------------------------------------------------------------
# iTunes tags: moov/udta/meta/ilst


def data_atom(kind: int, value: bytes) -> bytes:
    """The payload of one 'data' atom: type (1 UTF-8, 0 implicit, 13 JPEG, 14 PNG), locale, value."""
    return struct.pack(">II", kind, 0) + value


def set_items(moov: Box, items: dict[bytes, list[bytes]]) -> None:
    """Replace the ilst items named in ``items``, keeping all others (and their order)."""
    udta = moov.get(b"udta")
    if udta is None:
        udta = Box(b"udta", children=[])
        moov.children.append(udta)  # type: ignore[union-attr]
    meta = udta.get(b"meta")
    if meta is None:
        hdlr = Box(b"hdlr", struct.pack(">II4s4sII", 0, 0, b"mdir", b"appl", 0, 0) + b"\0")
        meta = Box(b"meta", struct.pack(">I", 0) + hdlr.render())
        udta.children.append(meta)  # type: ignore[union-attr]
    # iTunes writes meta as a full box (4 bytes of version/flags); QuickTime files may not.
    prefix = b"" if meta.payload[4:8] == b"hdlr" else meta.payload[:4]
    children = parse_boxes(meta.payload[len(prefix) :])
    ilst = next((child for child in children if child.name == b"ilst"), None)
    if ilst is None:
        ilst = Box(b"ilst")
        position = next((i + 1 for i, c in enumerate(children) if c.name == b"hdlr"), len(children))
        children.insert(position, ilst)
    entries = [entry for entry in parse_boxes(ilst.payload) if entry.name not in items]
    for key, payloads in items.items():
        entries.append(Box(key, b"".join(Box(b"data", payload).render() for payload in payloads)))
    ilst.payload = b"".join(entry.render() for entry in entries)
    meta.payload = prefix + b"".join(child.render() for child in children)


# --------------------------------------------------------------------------------------------
# The pieces, as FFmpeg's movenc writes them


def _chapter_track(
    track_id: int, spans: list[Span], sizes: list[int], movie_scale: int, movie_ms: int
) -> tuple[Box, Box]:
    """A disabled QuickTime text track, timescale 1000, one sample per chapter, all in one chunk.

    QuickTime chapters are back to back from time 0: each lasts until the next one starts, and
    the first one covers the time before its start (as FFmpeg does; the Nero list keeps the
    exact starts). The last one ends with the movie, whose duration (edit list applied) can be a
    priming delay shorter than the raw audio length mutagen reports.
    """
    durations = [spans[i + 1].start_ms - spans[i].start_ms for i in range(len(spans) - 1)]
    last_end = spans[-1].end_ms
    if spans[-1].start_ms < movie_ms < last_end:
        last_end = movie_ms
    durations.append(max(1, last_end - spans[-1].start_ms))
    durations[0] += spans[0].start_ms
    total_ms = sum(durations)
    movie_duration = round(total_ms * movie_scale / 1000)
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    tkhd = Box(
        b"tkhd",
        struct.pack(">I5I", 0x00000002, 0, 0, track_id, 0, movie_duration)
        + b"\0" * 8
        + struct.pack(">hhhH", 0, 0, 0, 0)
        + matrix
        + struct.pack(">II", 0, 0),
    )
    elst = Box(b"elst", struct.pack(">IIIiI", 0, 1, movie_duration, 0, 0x00010000))
    mdhd = Box(b"mdhd", struct.pack(">5IHH", 0, 0, 0, 1000, total_ms, 0, 0))
    hdlr = Box(b"hdlr", struct.pack(">II4s12x", 0, 0, b"text") + b"SubtitleHandler\0")
    gmhd = Box(
        b"gmhd",
        Box(b"gmin", struct.pack(">IH3HHH", 0, 0x40, 0x8000, 0x8000, 0x8000, 0, 0)).render()
        + Box(b"text", matrix).render(),
    )
    dinf = Box(b"dinf", Box(b"dref", struct.pack(">II", 0, 1) + Box(b"url ", struct.pack(">I", 1)).render()).render())
    text_description = (  # the same 51 bytes FFmpeg writes for its chapter track
        b"\0" * 6
        + struct.pack(">H", 1)  # data reference index
        + struct.pack(">II", 1, 0)  # display flags, justification
        + b"\0" * 14  # background colour, default text box
        + struct.pack(">H", 1)  # font number
        + b"\0" * 6  # font face, reserved, foreground colour (black), no font name
        + Box(b"ftab", struct.pack(">HHB", 1, 1, 0)).render()  # font table: font 1, no name
    )
    stsd = Box(b"stsd", struct.pack(">II", 0, 1) + Box(b"text", text_description).render())
    stts = Box(b"stts", struct.pack(">II", 0, len(durations)) + b"".join(struct.pack(">II", 1, d) for d in durations))
    stsc = Box(b"stsc", struct.pack(">IIIII", 0, 1, 1, len(sizes), 1))
    stsz = Box(b"stsz", struct.pack(">III", 0, 0, len(sizes)) + b"".join(struct.pack(">I", s) for s in sizes))
    stco = Box(b"stco", struct.pack(">III", 0, 1, 0))
    stbl = Box(b"stbl", children=[stsd, stts, stsc, stsz, stco])
    minf = Box(b"minf", children=[gmhd, dinf, stbl])
    mdia = Box(b"mdia", children=[mdhd, hdlr, minf])
    trak = Box(b"trak", children=[tkhd, Box(b"edts", children=[elst]), mdia])
    return trak, stco


def _text_sample(title: str) -> bytes:
    """A QuickTime text sample: 16-bit length, UTF-8 text, and an 'encd' atom saying UTF-8."""
    text = title.encode("utf-8")[:0xFFFF]
    return struct.pack(">H", len(text)) + text + struct.pack(">I4sI", 12, b"encd", 0x00000100)


def _chpl(spans: list[Span]) -> bytes:
    """Nero chapters: version 1, then (start in 100 ns units, Pascal-string title) per chapter."""
    entries = []
    for span in spans[:255]:
        title = span.chapter.title.encode("utf-8")
        if len(title) > CHPL_TITLE_LIMIT:
            title = title[:CHPL_TITLE_LIMIT].decode("utf-8", "ignore").encode("utf-8")
        entries.append(struct.pack(">QB", span.start_ms * 10_000, len(title)) + title)
    return struct.pack(">I4xB", 0x01000000, len(entries)) + b"".join(entries)


# --------------------------------------------------------------------------------------------
# Small readers


def array_u32(payload: bytes) -> list[int]:
    return list(struct.unpack(f">{len(payload) // 4}I", payload[: len(payload) // 4 * 4]))


def _read_offsets(box: Box) -> list[int]:
    count = struct.unpack(">I", box.payload[4:8])[0]
    kind = "Q" if box.name == b"co64" else "I"
    values = array(kind, box.payload[8 : 8 + count * (8 if kind == "Q" else 4)])
    if array("I", b"\0\0\0\1")[0] != 1:  # little-endian machine
        values.byteswap()
    return list(values)


def _write_offsets(offsets: list[int], *, wide: bool) -> bytes:
    values = array("Q" if wide else "I", offsets)
    if array("I", b"\0\0\0\1")[0] != 1:
        values.byteswap()
    return struct.pack(">II", 0, len(offsets)) + values.tobytes()


def _required(parent: Box, name: bytes) -> Box:
    box = parent.get(name)
    if box is None:
        raise Unsupported(f"no '{name.decode()}' in '{parent.name.decode()}'")
    return box


def _track_id(trak: Box) -> int:
    tkhd = _required(trak, b"tkhd").payload
    return struct.unpack(">I", tkhd[20:24] if tkhd[0] == 1 else tkhd[12:16])[0]


def _track_flags(trak: Box) -> int:
    return int.from_bytes(_required(trak, b"tkhd").payload[1:4], "big")


def _handler(trak: Box) -> bytes:
    mdia = trak.get(b"mdia")
    hdlr = mdia.get(b"hdlr") if mdia else None
    return hdlr.payload[8:12] if hdlr else b""


def _stbl(trak: Box) -> Box | None:
    mdia = trak.get(b"mdia")
    minf = mdia.get(b"minf") if mdia else None
    return minf.get(b"stbl") if minf else None


def _index_of(parent: Box, name: bytes) -> int:
    for index, child in enumerate(parent.children or ()):
        if child.name == name:
            return index
    return len(parent.children or ())


def _single_chunk(trak: Box) -> list[tuple[int, int]]:
    """(offset, length) of a track's samples when they sit in one chunk (as chapter tracks do)."""
    stbl = _stbl(trak)
    stco = stbl.get(b"stco") or stbl.get(b"co64") if stbl else None
    stsz = stbl.get(b"stsz") if stbl else None
    if stco is None or stsz is None:
        return []
    offsets = _read_offsets(stco)
    sample_size, count = struct.unpack(">II", stsz.payload[4:12])
    sizes = [sample_size] * count if sample_size else array_u32(stsz.payload[12 : 12 + 4 * count])
    if len(offsets) != 1 or not sizes:
        return []
    return [(offsets[0], sum(sizes))]


def _set_next_track_id(mvhd: Box, next_id: int) -> None:
    at = 108 if mvhd.payload[0] == 1 else 96
    current = struct.unpack(">I", mvhd.payload[at : at + 4])[0]
    if current < next_id:
        mvhd.payload = mvhd.payload[:at] + struct.pack(">I", next_id) + mvhd.payload[at + 4 :]


def _merge(pieces: list[Piece]) -> list[Piece]:
    """Adjacent ranges of the master as one, so each is copied in one go."""
    merged: list[Piece] = []
    for piece in pieces:
        last = merged[-1] if merged else None
        if last and not piece.data and not last.data and last.offset + last.size == piece.offset:
            merged[-1] = Piece(offset=last.offset, size=last.size + piece.size)
        else:
            merged.append(piece)
    return merged

"""ID3v2.3 frames and the ID3v1.1 tag, rendered straight to bytes with struct and str.encode.

feedtool writes a small, fixed set of frames (docs/tagging.md, "What is written"), so they are
rendered here rather than through mutagen's frame objects: for every field and every chapter
mutagen builds an object, validates it, copies it into a v2.3 twin and renders that, copying a
240 KB cover four or five times on the way (~2.7 ms per file for 20 chapters and a show cover,
half of a cold ``feedtool build``). The cover frame, identical for every episode of a show, is
rendered once per process and reused.

The bytes follow the ID3v2.3 specification the way mutagen (the reader the tests use as a
witness) writes it with ``ID3.save(v2_version=3)``: ASCII text as Latin-1 (encoding 0, what the
oldest readers handle), any other text as UTF-16 with a little-endian BOM (v2.3 has no UTF-8),
frame sizes as plain 32-bit integers, no frame flags, no unsynchronisation, and frames that would
hold empty text left out. The tests read every frame back with mutagen and check that mutagen,
re-saving the tag it read, renders the same frames.
"""

from __future__ import annotations

import struct

_BOM_LE = b"\xff\xfe"
_LATIN1 = b"\x00"  # encoding byte 0: ISO-8859-1, one zero byte ends a string
_UTF16 = b"\x01"  # encoding byte 1: UTF-16 with a BOM, two zero bytes end a string
_HEADER = struct.Struct(">4sIH")

#: Rendered cover frames: [(image bytes, mime, frame bytes)], newest first; a show has one cover.
_COVERS: list[tuple[bytes, str, bytes]] = []
_COVERS_KEPT = 4

#: The genre byte of an ID3v1 tag for "Podcast" (Winamp's extension of the ID3v1 genre list).
ID3V1_PODCAST_GENRE = 186


def frame(name: str, body: bytes) -> bytes:
    """One v2.3 frame: id, 32-bit size, no flags, body."""
    return _HEADER.pack(name.encode("ascii"), len(body), 0) + body


def encoded(text: str) -> tuple[bytes, bytes]:
    """(encoding byte, terminated string): Latin-1 for ASCII text, else UTF-16 with a BOM.

    A frame has one encoding byte for all its strings, so a frame with several (WXXX, APIC's
    description) encodes them together: see ``encoding_for``.
    """
    encoding = encoding_for(text)
    return encoding, terminated(text, encoding)


def encoding_for(*texts: str) -> bytes:
    return _LATIN1 if all(text.isascii() for text in texts) else _UTF16


def terminated(text: str, encoding: bytes) -> bytes:
    if encoding == _LATIN1:
        return text.encode("latin-1") + b"\0"
    return _BOM_LE + text.encode("utf-16-le") + b"\0\0"


def text_frame(name: str, text: str) -> bytes:
    """A T*** text frame; b"" for empty text (an empty frame is left out)."""
    if not text:
        return b""
    encoding, data = encoded(text)
    return frame(name, encoding + data)


def user_url_frame(desc: str, url: str) -> bytes:
    """WXXX: description, then the URL, which v2.3 always stores in Latin-1 (pass it ASCII)."""
    encoding = encoding_for(desc)
    return frame("WXXX", encoding + terminated(desc, encoding) + url.encode("latin-1") + b"\0")


def picture_frame(mime: str, picture_type: int, desc: str, data: bytes) -> bytes:
    """APIC: encoding, Latin-1 MIME type, picture type, description, the image (or, with MIME
    type "-->", its URL)."""
    encoding = encoding_for(desc)
    head = encoding + mime.encode("latin-1") + b"\0" + bytes([picture_type]) + terminated(desc, encoding)
    return frame("APIC", head + data)


def cover_frame(data: bytes, mime: str) -> bytes:
    """APIC type 3 "Cover": rendered once per distinct image, then reused.

    Build hands every episode the same bytes object for the show's cover, so the lookup is an
    identity test; another object with equal bytes (``feedtool tag``) costs one memcmp.
    """
    for index, (image, image_mime, rendered) in enumerate(_COVERS):
        if image_mime == mime and (image is data or image == data):
            if index:
                _COVERS.insert(0, _COVERS.pop(index))
            return rendered
    rendered = picture_frame(mime, 3, "Cover", data)
    _COVERS.insert(0, (data, mime, rendered))
    del _COVERS[_COVERS_KEPT:]
    return rendered


def chapter_frame(element_id: str, start_ms: int, end_ms: int, sub_frames: list[bytes]) -> bytes:
    """CHAP with unknown byte offsets (0xFFFFFFFF: readers use the times)."""
    return frame(
        "CHAP",
        element_id.encode("latin-1") + b"\0"
        + struct.pack(">IIII", start_ms, end_ms, 0xFFFFFFFF, 0xFFFFFFFF)
        + b"".join(sub_frames),
    )


def toc_frame(element_id: str, flags: int, children: list[str], sub_frames: list[bytes]) -> bytes:
    """CTOC: flags byte, child count byte, Latin-1 child ids, then sub-frames."""
    ids = b"".join(child.encode("latin-1") + b"\0" for child in children)
    return frame(
        "CTOC", element_id.encode("latin-1") + b"\0" + bytes([flags, len(children)]) + ids + b"".join(sub_frames)
    )


def syncsafe(value: int) -> bytes:
    """The tag size in the ID3v2 header: 4 bytes of 7 bits each."""
    if not 0 <= value < 1 << 28:
        raise ValueError("ID3v2 tag too large")
    return bytes([(value >> 21) & 0x7F, (value >> 14) & 0x7F, (value >> 7) & 0x7F, value & 0x7F])


def tag_header(body_size: int) -> bytes:
    """The 10-byte header of an ID3v2.3 tag whose frames and padding take ``body_size`` bytes."""
    return b"ID3\x03\x00\x00" + syncsafe(body_size)


def id3v1(*, title: str, artist: str, album: str, year: str, track: int | None, genre: int) -> bytes:
    """An ID3v1.1 tag (128 bytes): Latin-1 fields cut to 30 bytes, "?" for other characters,
    zero padding, the track number in the comment's last byte when it fits (1-255)."""

    def field(text: str, size: int) -> bytes:
        return text.encode("latin-1", "replace")[:size].ljust(size, b"\0")

    fits = track is not None and 0 < track < 256
    comment = bytes(29) + bytes([track or 0]) if fits else bytes(30)  # v1.1: a zero byte, the track
    return (
        b"TAG" + field(title, 30) + field(artist, 30) + field(album, 30) + field(year, 4) + comment
        + bytes([genre])
    )

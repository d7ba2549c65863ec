"""MP3 copies as head + the source's audio frames + tail (feedtool.tagging.splice).

The property the in-bucket re-tagging of issue 10 rests on: tagging an earlier tagged copy gives
exactly the bytes that tagging the master gives. Masters are built by construction (a tagless
ffmpeg MP3 with tags put around it by mutagen or by hand), so where their audio starts and ends
is known independently of the code under test; ffprobe and mutagen are the witnesses for what
players read.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from feedtool.audio import probe
from feedtool.errors import TagError
from feedtool.integrity import AudioSpan, mp3_audio_span, read_mp3_span
from feedtool.model import Chapter
from feedtool.tagging import TagMetadata, streamcopy, write_tagged_copy
from feedtool.tagging import id3 as id3_writer

COVER = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40  # JPEG magic; readers only carry the bytes


def meta(**changes: object) -> TagMetadata:
    values: dict[str, object] = dict(
        title="Episode 7: Ça va? 日本語", artist="Test Author", album="Test Show", track=7,
        date="2024-05-01", cover=COVER, cover_mime="image/jpeg",
        chapters=(Chapter(start_s=0.0, title="Intro"), Chapter(start_s=1.5, title="Main", url="https://e.com/ü"),
                  Chapter(start_s=3.0, title="Outro")),
    )
    values.update(changes)
    return TagMetadata(**values)  # type: ignore[arg-type]


#: Metadata changes a re-tag must reproduce: every field, and tags that shrink or grow.
CHANGES = [
    {"title": "A new title"},
    {"chapters": (Chapter(start_s=0.0, title="Only one chapter"),)},
    {"chapters": tuple(Chapter(start_s=i * 0.1, title=f"Chapter {i}" * 5) for i in range(40))},
    {"cover": None},
    {"cover": COVER * 3, "track": None, "date": ""},
    {"artist": "Another Author", "album": "Another Show"},
]


def _id3v2(frames: bytes, *, version: int = 3, footer: bool = False) -> bytes:
    """An ID3v2 tag by hand: header, frames, 100 bytes of padding, optional v2.4 footer."""
    body = frames + bytes(100)
    size = bytes([(len(body) >> shift) & 0x7F for shift in (21, 14, 7, 0)])
    flags = 0x10 if footer else 0
    tag = b"ID3" + bytes([version, 0, flags]) + size + body
    return tag + (b"3DI" + bytes([version, 0, flags]) + size if footer else b"")


def _frame(name: bytes, text: str) -> bytes:
    body = b"\x03" + text.encode("utf-8")
    return name + struct.pack(">I", len(body)) + b"\0\0" + body


def _v1(title: str) -> bytes:
    from mutagen.id3 import ID3, TIT2, MakeID3v1

    tags = ID3()
    tags.add(TIT2(encoding=3, text=[title]))
    return MakeID3v1(tags)


def _ape(audio: Path, tmp: Path) -> bytes:
    """An APEv2 tag (header and footer) as mutagen writes it, cut from a scratch file."""
    from mutagen.apev2 import APEv2

    scratch = tmp / "ape-scratch.mp3"
    shutil.copyfile(audio, scratch)
    tag = APEv2()
    tag["Title"] = "APE title"
    tag["ReplayGain_Track_Gain"] = "-3.2 dB"
    tag.save(scratch)
    return scratch.read_bytes()[audio.stat().st_size :]


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, AudioSpan]]:
    """name -> (master, where its audio frames are, known by construction)."""
    folder = tmp_path_factory.mktemp("layouts")
    audio = folder / "bare.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=5",
                    "-ac", "1", "-c:a", "libmp3lame", "-b:a", "48k", "-id3v2_version", "0",
                    "-map_metadata", "-1", str(audio)], check=True)
    frames = audio.read_bytes()
    v23 = _id3v2(_frame(b"TIT2", "Old title") + _frame(b"TCOM", "Keep?"))
    v24 = _id3v2(_frame(b"TIT2", "Old v2.4"), version=4, footer=True)
    ape = _ape(audio, folder)
    built = {
        "no tags": (b"", b""),
        "ID3v2.3": (v23, b""),
        "ID3v2.4 with a footer": (v24, b""),
        "two ID3v2 tags": (v24 + v23, b""),
        "ID3v1": (v23, _v1("Old title")),
        "APEv2 and ID3v1": (v23, ape + _v1("Old title")),
        "APEv2 only": (b"", ape),
    }
    made = {}
    for name, (head, tail) in built.items():
        path = folder / (name.replace(" ", "-") + ".mp3")
        path.write_bytes(head + frames + tail)
        made[name] = (path, AudioSpan(len(head), len(head) + len(frames), tail.endswith(_v1("Old title"))))
    return made


def tag(source: Path, dest: Path, data: TagMetadata, duration_s: float) -> bytes:
    write_tagged_copy(source, dest, data, kind="mp3", duration_s=duration_s)
    return dest.read_bytes()


def ffprobe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-show_format", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def decoded_md5(path: Path) -> str:
    return subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a", "-f", "md5", "-"],
                          capture_output=True, text=True, check=True).stdout.strip()


# --------------------------------------------------------------------------------------------
# Where the audio is


def test_audio_span_of_every_layout(layouts: dict[str, tuple[Path, AudioSpan]]) -> None:
    for name, (master, expected) in layouts.items():
        assert read_mp3_span(master) == expected, name


def test_a_copys_span_takes_three_small_reads(layouts: dict[str, tuple[Path, AudioSpan]], tmp_path: Path) -> None:
    """What a re-tag of a remote copy costs to locate its audio: three Range GETs of 10, 10 and
    160 bytes, whatever the size of the file."""
    master, span = layouts["ID3v1"]
    copy = tmp_path / "copy.mp3"
    data = tag(master, copy, meta(), probe(master).duration_s)
    reads: list[tuple[int, int]] = []

    def read_at(offset: int, length: int) -> bytes:
        reads.append((offset, length))
        return data[offset : offset + length]

    found = mp3_audio_span(read_at, len(data))
    plan = id3_writer.plan_copy(meta(), duration_s=probe(master).duration_s, span=span)
    assert found == plan.span_in_copy == AudioSpan(plan.head_size, plan.head_size + span.length, True)
    assert plan.size == len(data)
    assert reads == [(0, 10), (plan.head_size, 10), (len(data) - 160, 160)]


def test_an_mp3_with_no_audio_between_its_tags_is_refused(tmp_path: Path) -> None:
    from feedtool.errors import AudioError

    path = tmp_path / "only-a-tag.mp3"
    path.write_bytes(_id3v2(_frame(b"TIT2", "x")) + _v1("x"))
    with pytest.raises(AudioError, match="no audio between its tags") as caught:
        read_mp3_span(path)
    assert str(path) in str(caught.value)


# --------------------------------------------------------------------------------------------
# The property: a copy of a copy is the copy of the master


@pytest.mark.parametrize("layout", ["no tags", "ID3v2.3", "ID3v2.4 with a footer", "two ID3v2 tags", "ID3v1",
                                    "APEv2 and ID3v1", "APEv2 only"])
def test_retagging_a_copy_gives_the_bytes_tagging_the_master_gives(
    layout: str, layouts: dict[str, tuple[Path, AudioSpan]], tmp_path: Path
) -> None:
    master, span = layouts[layout]
    length = probe(master).duration_s
    first = tmp_path / "first.mp3"
    first_bytes = tag(master, first, meta(), length)
    assert first_bytes[len(first_bytes) - span.length - (128 if span.id3v1 else 0):][: span.length] == \
        master.read_bytes()[span.start : span.end]  # the audio frames, untouched
    assert tag(first, tmp_path / "same.mp3", meta(), length) == first_bytes  # re-tag, same data: same bytes
    for number, change in enumerate(CHANGES):
        from_master = tag(master, tmp_path / f"m{number}.mp3", meta(**change), length)
        from_copy = tag(first, tmp_path / f"c{number}.mp3", meta(**change), length)
        assert from_copy == from_master, change
        again = tag(tmp_path / f"c{number}.mp3", tmp_path / f"cc{number}.mp3", meta(), length)
        assert again == first_bytes  # and back


def test_a_retagged_copy_as_players_read_it(layouts: dict[str, tuple[Path, AudioSpan]], tmp_path: Path) -> None:
    """ffprobe reads the new chapters from a copy made from a copy; the audio decodes to the same
    samples and ffprobe and mutagen report the master's duration."""
    from mutagen.mp3 import MP3

    master, _ = layouts["APEv2 and ID3v1"]
    length = probe(master).duration_s
    first = tmp_path / "first.mp3"
    tag(master, first, meta(), length)
    second = tmp_path / "second.mp3"
    chapters = (Chapter(start_s=0.0, title="Neu: Anfang"), Chapter(start_s=2.5, title="Zweiter Teil"))
    tag(first, second, meta(chapters=chapters, title="Renamed"), length)

    seen = ffprobe(second)
    assert [(round(float(c["start_time"]), 3), round(float(c["end_time"]), 3), c["tags"]["title"])
            for c in seen["chapters"]] == [(0.0, 2.5, "Neu: Anfang"), (2.5, round(length, 3), "Zweiter Teil")]
    assert seen["format"]["tags"]["title"] == "Renamed"
    assert float(seen["format"]["duration"]) == pytest.approx(float(ffprobe(master)["format"]["duration"]), abs=1e-3)
    assert MP3(second).info.length == pytest.approx(MP3(master).info.length, abs=1e-6)
    assert decoded_md5(second) == decoded_md5(master)
    assert b"APETAGEX" not in second.read_bytes()  # the master's APE tag is not audio


def test_id3v1_tail_says_what_the_v2_tag_says(layouts: dict[str, tuple[Path, AudioSpan]], tmp_path: Path) -> None:
    from mutagen.id3 import ParseID3v1

    master, _ = layouts["ID3v1"]
    data = tag(master, tmp_path / "copy.mp3", meta(), probe(master).duration_s)
    assert data[-128:-125] == b"TAG"
    v1 = ParseID3v1(data[-128:])
    assert str(v1["TIT2"]) == "Episode 7: Ça va? ???"  # Latin-1 only; the rest becomes "?"
    assert (str(v1["TPE1"]), str(v1["TALB"]), str(v1["TRCK"])) == ("Test Author", "Test Show", "7")
    assert v1["TCON"].genres == ["Podcast"] and str(v1["TDRC"]) == "2024"
    assert b"Old title" not in data


def test_mutagen_rerenders_the_same_frames(layouts: dict[str, tuple[Path, AudioSpan]], tmp_path: Path) -> None:
    """mutagen, reading our tag and saving it again as v2.3, writes the same frames (order aside):
    the hand renderer writes ID3v2.3 the way the reference reader expects it."""
    from mutagen.id3 import ID3

    master, _ = layouts["no tags"]
    data = tag(master, tmp_path / "copy.mp3", meta(), probe(master).duration_s)
    tags = ID3(tmp_path / "copy.mp3")  # read (and translated to v2.4, as mutagen always does) ...
    tags.update_to_v23()  # ... and back, as mutagen's documentation says to save v2.3
    resaved = io.BytesIO()
    ID3.save(tags, resaved, v1=0, v2_version=3, v23_sep="/")
    assert sorted(_frames(data)) == sorted(_frames(resaved.getvalue()))


def _frames(tag: bytes) -> list[bytes]:
    size = tag[6] << 21 | tag[7] << 14 | tag[8] << 7 | tag[9]
    frames, offset = [], 10
    while offset < 10 + size and tag[offset] != 0:
        length = struct.unpack(">I", tag[offset + 4 : offset + 8])[0]
        frames.append(tag[offset : offset + 10 + length])
        offset += 10 + length
    return frames


# --------------------------------------------------------------------------------------------
# The portable copy loop, and errors that are not hidden


@pytest.mark.parametrize("kind", ["mp3", "m4a"])
def test_portable_copy_loop_gives_the_same_bytes(kind: str, tone, tmp_path: Path, monkeypatch) -> None:
    """The seek/read/write loop (Windows: no os.preadv/os.pwrite) and the positional one agree,
    also when the copy takes many buffer-fulls."""
    master = tone(kind, 5.0)
    info = probe(master)
    monkeypatch.setattr(streamcopy, "BUFFER", 4093)  # a prime: the last buffer is always partial
    results = {}
    for positional in (True, False):
        monkeypatch.setattr(streamcopy, "POSITIONAL", positional)
        dest = tmp_path / f"{positional}.{kind}"
        write_tagged_copy(master, dest, meta(), kind=kind, duration_s=info.duration_s)
        results[positional] = hashlib.sha256(dest.read_bytes()).hexdigest()
    assert results[True] == results[False]


def test_portable_loop_without_positional_io(tmp_path: Path, monkeypatch) -> None:
    """The portable loop really runs without os.preadv and os.pwrite (as on Windows)."""
    source = tmp_path / "source.bin"
    source.write_bytes(bytes(range(256)) * 1000)
    monkeypatch.setattr(streamcopy, "POSITIONAL", False)
    monkeypatch.delattr(streamcopy.os, "preadv")
    monkeypatch.delattr(streamcopy.os, "pwrite")
    with source.open("rb") as reader, (tmp_path / "out.bin").open("wb") as target:
        target.write(b"HEAD")
        streamcopy.copy_range(reader, target, 1000, 200_000, at=4)
        target.write(b"TAIL")
    assert (tmp_path / "out.bin").read_bytes() == b"HEAD" + source.read_bytes()[1000:201_000] + b"TAIL"
    with source.open("rb") as reader, (tmp_path / "short.bin").open("wb") as target, \
            pytest.raises(OSError, match="ended 1000 bytes early"):
        streamcopy.copy_range(reader, target, 1000, 256_000, at=0)


def test_a_bug_in_the_writer_is_not_reported_as_bad_audio(tone, tmp_path: Path, monkeypatch) -> None:
    """Issue 11.13: feedtool's own errors surface as themselves (a traceback to report), not as
    advice to export the audio again; and still nothing is left behind."""
    master = tone("mp3", 5.0)

    def broken(*args: object) -> bytes:
        raise TypeError("a bug in the renderer")

    monkeypatch.setattr(id3_writer, "text_frame", broken)
    out = tmp_path / "out"
    with pytest.raises(TypeError, match="a bug in the renderer"):
        write_tagged_copy(master, out / "copy.mp3", meta(), kind="mp3", duration_s=5.0)
    assert list(out.iterdir()) == []


def test_a_library_error_on_the_master_is_a_tag_error(tone, tmp_path: Path, monkeypatch) -> None:
    """What a library raises about the master (mutagen here) becomes a TagError naming it."""
    from mutagen import MutagenError

    from feedtool.tagging import vorbis

    master = tone("ogg", 5.0)

    def unreadable(*args: object) -> None:
        raise MutagenError("no appropriate stream found")

    monkeypatch.setattr(vorbis, "_open", unreadable)
    with pytest.raises(TagError, match="no appropriate stream found") as caught:
        write_tagged_copy(master, tmp_path / "copy.ogg", meta(), kind="ogg", duration_s=5.0)
    assert str(master) in str(caught.value) and "export it again" in str(caught.value)
    assert [p.name for p in tmp_path.iterdir()] == []

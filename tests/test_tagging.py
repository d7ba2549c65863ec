"""Tagging audio copies: chapters, titles and artwork inside MP3, M4A, Ogg Vorbis, Opus and FLAC.

The witnesses are independent readers: ffprobe (FFmpeg's demuxers) for chapters, duration and a
clean decode, and mutagen for the frames/atoms/comments themselves. The masters are real 5 s tones
made with ffmpeg once per session; every test writes into its own tmp_path.
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

from feedtool.errors import AudioError, FeedtoolError, TagError
from feedtool.model import Chapter
from feedtool.tagging import TagMetadata, read_chapters, tag_file, write_tagged_copy

FORMATS = ["mp3", "m4a", "ogg", "opus", "flac"]
ENCODERS = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "64k"],
    "m4a": ["-c:a", "aac", "-b:a", "64k"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "2"],
    "opus": ["-c:a", "libopus", "-b:a", "32k"],
    "flac": ["-c:a", "flac"],
}
CHAPTERS = (
    Chapter(start_s=0.0, title="Intro: ünïcödé 日本語"),
    Chapter(start_s=1.5, title="Hidden artwork change", toc=False, image="https://example.com/a.jpg"),
    Chapter(start_s=2.25, title="Main topic", url="https://example.com/main", image="chapter.png"),
    Chapter(start_s=4.0, title="Outro & credits"),
)
#: (start, end, title) that every reader must see: silent chapters stay out, ends are filled.
EXPECTED = [(0.0, 2.25, "Intro: ünïcödé 日本語"), (2.25, 4.0, "Main topic")]  # + last, per file


def _image(fmt: str, size: int = 64) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (30, 120, 200)).save(buffer, fmt)
    return buffer.getvalue()


COVER = _image("JPEG", 300)
CHAPTER_IMAGE = _image("PNG")


def meta(**changes: object) -> TagMetadata:
    values: dict[str, object] = dict(
        title="Episode 7: Ça va?",
        artist="Test Author",
        album="Test Show & Friends",
        track=7,
        date="2024-05-01",
        cover=COVER,
        cover_mime="image/jpeg",
        chapters=CHAPTERS,
        chapter_images={"chapter.png": CHAPTER_IMAGE},
    )
    values.update(changes)
    return TagMetadata(**values)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Fixtures: masters made once per session


def _ffmpeg(*args: str | Path) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *map(str, args)], check=True)


@pytest.fixture(scope="session")
def masters(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("masters")
    made = {}
    for kind, codec in ENCODERS.items():
        path = folder / f"tone.{kind}"
        _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=5", "-ac", "1",
                "-map_metadata", "-1", *codec, path)
        made[kind] = path
    return made


@pytest.fixture(scope="session")
def chaptered_masters(masters: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Masters that already carry three chapters of their own and a composer tag."""
    folder = tmp_path_factory.mktemp("chaptered")
    ffmeta = folder / "meta.txt"
    ffmeta.write_text(
        ";FFMETADATA1\ncomposer=Keep Me\n"
        + "".join(
            f"[CHAPTER]\nTIMEBASE=1/1000\nSTART={a}\nEND={b}\ntitle=Old {n}\n"
            for n, (a, b) in enumerate([(0, 1000), (1000, 3000), (3000, 5000)])
        ),
        encoding="utf-8",
    )
    made = {}
    for kind in ("mp3", "m4a", "opus"):
        path = folder / f"old.{kind}"
        _ffmpeg("-i", masters[kind], "-i", ffmeta, "-map_metadata", "1", "-map_chapters", "1",
                "-c", "copy", path)
        made[kind] = path
    for kind in ("ogg", "flac"):  # ffmpeg writes no chapters here; use the comments directly
        from mutagen.flac import FLAC
        from mutagen.oggvorbis import OggVorbis

        path = folder / f"old.{kind}"
        shutil.copyfile(masters[kind], path)
        audio = (OggVorbis if kind == "ogg" else FLAC)(path)
        if audio.tags is None:
            audio.add_tags()
        for n, start in enumerate(["00:00:00.000", "00:00:01.000", "00:00:03.000"]):
            audio.tags[f"CHAPTER{n:03d}"] = start
            audio.tags[f"CHAPTER{n:03d}NAME"] = f"Old {n}"
        audio.tags["COMPOSER"] = "Keep Me"
        audio.save()
        made[kind] = path
    return made


def ffprobe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_chapters", "-show_format", "-show_streams", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout
    return json.loads(out)


def probe_chapters(path: Path) -> list[tuple[float, float, str]]:
    return [
        (round(float(c["start_time"]), 3), round(float(c["end_time"]), 3), c["tags"].get("title", ""))
        for c in ffprobe(path)["chapters"]
    ]


def decoded_md5(path: Path) -> str:
    """MD5 of the decoded audio: equal for master and copy when not one sample changed."""
    return subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a", "-f", "md5", "-"],
                          capture_output=True, text=True, check=True).stdout.strip()


def duration(path: Path) -> float:
    return float(ffprobe(path)["format"]["duration"])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tag(master: Path, dest: Path, **changes: object) -> TagMetadata:
    from feedtool.audio import probe

    info = probe(master)
    data = meta(**changes)
    write_tagged_copy(master, dest, data, kind=info.kind, duration_s=info.duration_s)
    return data


# --------------------------------------------------------------------------------------------
# Every format: chapters as ffprobe sees them, decoding, duration, master untouched


@pytest.mark.parametrize("kind", FORMATS)
def test_chapters_in_every_format_as_ffprobe_reads_them(kind: str, masters: dict[str, Path], tmp_path: Path) -> None:
    master = masters[kind]
    before = sha256(master)
    dest = tmp_path / "public" / f"episode.{kind}"
    tag(master, dest)

    seen = probe_chapters(dest)
    assert seen[:2] == EXPECTED
    start, end, title = seen[2]
    assert (start, title) == (4.0, "Outro & credits")
    assert end == pytest.approx(duration(master), abs=0.03)  # the last chapter ends with the audio
    assert len(seen) == 3

    decoded = subprocess.run(["ffmpeg", "-v", "error", "-i", str(dest), "-f", "null", "-"],
                             capture_output=True, text=True)
    assert decoded.returncode == 0 and decoded.stderr == ""
    assert duration(dest) == pytest.approx(duration(master), abs=0.03)  # within one frame
    assert decoded_md5(dest) == decoded_md5(master)  # not one sample changed
    assert [s["codec_name"] for s in ffprobe(dest)["streams"] if s["codec_type"] == "audio"] == [
        s["codec_name"] for s in ffprobe(master)["streams"] if s["codec_type"] == "audio"
    ]
    assert sha256(master) == before
    assert sorted(p.name for p in dest.parent.iterdir()) == [dest.name]  # no temp file left
    assert [(c.start_s, c.title) for c in read_chapters(dest)] == [(0.0, EXPECTED[0][2]), (2.25, "Main topic"),
                                                                    (4.0, "Outro & credits")]


@pytest.mark.parametrize("kind", FORMATS)
def test_same_input_gives_the_same_bytes(kind: str, masters: dict[str, Path], tmp_path: Path) -> None:
    """A rebuild after a lost cache must not make publish upload every episode again."""
    tag(masters[kind], tmp_path / f"a.{kind}")
    tag(masters[kind], tmp_path / f"b.{kind}")
    assert sha256(tmp_path / f"a.{kind}") == sha256(tmp_path / f"b.{kind}")


@pytest.mark.parametrize("kind", FORMATS)
def test_tagging_a_tagged_file_again_changes_nothing(kind: str, masters: dict[str, Path], tmp_path: Path) -> None:
    """`feedtool tag --in-place` twice: no growth, no second chapter track, the same bytes."""
    once = tmp_path / f"once.{kind}"
    twice = tmp_path / f"twice.{kind}"
    tag(masters[kind], once)
    tag(once, twice)
    assert sha256(once) == sha256(twice)


@pytest.mark.parametrize("kind", FORMATS)
def test_existing_chapters_are_replaced_and_other_tags_kept_except_in_mp3(
    kind: str, chaptered_masters: dict[str, Path], tmp_path: Path
) -> None:
    """M4A and Vorbis copies keep the master's other tags; an MP3 copy carries only feedtool's
    frames, so that it can be remade from an earlier copy (docs/tagging.md)."""
    master = chaptered_masters[kind]
    assert [t for _, _, t in probe_chapters(master)] == ["Old 0", "Old 1", "Old 2"]
    dest = tmp_path / f"copy.{kind}"
    tag(master, dest)
    assert [t for _, _, t in probe_chapters(dest)] == [EXPECTED[0][2], "Main topic", "Outro & credits"]
    format_tags = ffprobe(dest)["format"].get("tags", {})
    stream_tags = ffprobe(dest)["streams"][0].get("tags", {})
    tags = {k.lower(): v for k, v in {**stream_tags, **format_tags}.items()}
    assert tags.get("composer") == (None if kind == "mp3" else "Keep Me")
    assert tags.get("title") == "Episode 7: Ça va?"


def test_no_chapters_removes_the_masters_own(chaptered_masters: dict[str, Path], tmp_path: Path) -> None:
    dest = tmp_path / "copy.mp3"
    tag(chaptered_masters["mp3"], dest, chapters=())
    assert probe_chapters(dest) == []


def test_explicit_chapter_end_is_kept(masters: dict[str, Path], tmp_path: Path) -> None:
    dest = tmp_path / "copy.mp3"
    chapters = (Chapter(start_s=0, title="A", end_s=1.0), Chapter(start_s=2, title="B"))
    tag(masters["mp3"], dest, chapters=chapters)
    assert probe_chapters(dest)[0] == (0.0, 1.0, "A")


# --------------------------------------------------------------------------------------------
# Per format: the frames, atoms and comments themselves (mutagen as the reader)


def test_mp3_frames_ctoc_flags_and_cover(masters: dict[str, Path], tmp_path: Path) -> None:
    from mutagen.id3 import ID3, CTOCFlags
    from mutagen.mp3 import MP3

    dest = tmp_path / "copy.mp3"
    tag(masters["mp3"], dest)
    tags = ID3(dest)
    assert tags.version[:2] == (2, 3)
    (toc,) = tags.getall("CTOC")
    assert toc.flags == CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    chaps = {c.element_id: c for c in tags.getall("CHAP")}
    assert list(toc.child_element_ids) == sorted(chaps, key=lambda k: chaps[k].start_time)
    assert len(set(chaps) | {toc.element_id}) == len(chaps) + 1  # ids unique across CHAP and CTOC
    main = chaps[toc.child_element_ids[1]]
    assert (main.start_time, main.end_time) == (2250, 4000)
    assert (main.start_offset, main.end_offset) == (0xFFFFFFFF, 0xFFFFFFFF)
    assert main.sub_frames.getall("WXXX")[0].url == "https://example.com/main"
    assert main.sub_frames.getall("APIC")[0].data == CHAPTER_IMAGE
    assert str(tags["TIT2"]) == "Episode 7: Ça va?"
    assert str(tags["TPE1"]) == "Test Author"
    assert str(tags["TALB"]) == "Test Show & Friends"
    assert str(tags["TRCK"]) == "7"
    assert str(tags["TCON"]) == "Podcast"
    assert str(tags["TLEN"]) == str(round(MP3(masters["mp3"]).info.length * 1000))
    assert str(ID3(dest, translate=False)["TYER"]) == "2024"  # v2.3 has TYER + TDAT, not TDRC
    assert str(tags["TDRC"]) == "2024-05-01"  # ... which readers turn back into the full date
    assert tags.getall("COMM") == [] and tags.getall("WOAF") == []  # text stays out of the audio
    assert sorted({frame.FrameID for frame in tags.values()}) == [
        "APIC", "CHAP", "CTOC", "TALB", "TCON", "TDRC", "TIT2", "TLEN", "TPE1", "TRCK"]
    (cover,) = tags.getall("APIC")
    assert (cover.type, cover.mime, cover.data) == (3, "image/jpeg", COVER)


def test_mp3_id3v1_tag_is_refreshed_not_duplicated(masters: dict[str, Path], tmp_path: Path) -> None:
    from mutagen.id3 import ID3, TIT2

    master = tmp_path / "v1.mp3"
    shutil.copyfile(masters["mp3"], master)
    old = ID3()
    old.add(TIT2(encoding=3, text=["Old title"]))
    old.save(master, v1=2)  # ID3v2 and ID3v1 tags, both saying "Old title"
    dest = tmp_path / "copy.mp3"
    tag(master, dest)
    data = dest.read_bytes()
    assert data[-128:-125] == b"TAG"
    assert data[-125:-95].rstrip(b"\0") == "Episode 7: Ça va?".encode("latin-1")
    assert b"Old title" not in data
    assert b"TAG" not in data[-256:-128]


def _atoms(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, int, int]]:
    """(name, offset, size) of the atoms in data[start:end]."""
    end = len(data) if end is None else end
    found = []
    while start + 8 <= end:
        size, name = struct.unpack(">I4s", data[start : start + 8])
        size = size or end - start
        found.append((name, start, size))
        start += size
    return found


def _child(data: bytes, parent: tuple[bytes, int, int], name: bytes, skip: int = 8) -> tuple[bytes, int, int]:
    return next(a for a in _atoms(data, parent[1] + skip, parent[1] + parent[2]) if a[0] == name)


def test_m4a_has_quicktime_chapter_track_nero_chapters_and_tags(masters: dict[str, Path], tmp_path: Path) -> None:
    from mutagen.mp4 import MP4

    dest = tmp_path / "copy.m4a"
    tag(masters["m4a"], dest)
    audio = MP4(dest)
    nero = [(round(c.start, 3), c.title) for c in audio.chapters]
    assert nero == [(0.0, EXPECTED[0][2]), (2.25, "Main topic"), (4.0, "Outro & credits")]
    assert audio.tags["©nam"] == ["Episode 7: Ça va?"]
    assert audio.tags["©ART"] == ["Test Author"]
    assert audio.tags["©alb"] == ["Test Show & Friends"]
    assert audio.tags["©gen"] == ["Podcast"]
    assert audio.tags["trkn"] == [(7, 0)]
    assert audio.tags["©day"] == ["2024-05-01"]
    assert bytes(audio.tags["covr"][0]) == COVER
    assert sorted(audio.tags) == ["aART", "covr", "trkn", "©ART", "©alb", "©day", "©gen", "©nam", "©too"]

    # The QuickTime chapter track: a disabled 'text' track that the audio track points at.
    data = dest.read_bytes()
    moov = next(a for a in _atoms(data) if a[0] == b"moov")
    tracks = [a for a in _atoms(data, moov[1] + 8, moov[1] + moov[2]) if a[0] == b"trak"]
    handlers = {}
    for trak in tracks:
        tkhd = _child(data, trak, b"tkhd")
        track_id = struct.unpack(">I", data[tkhd[1] + 20 : tkhd[1] + 24])[0]
        hdlr = _child(data, _child(data, trak, b"mdia"), b"hdlr")
        handlers[track_id] = (data[hdlr[1] + 16 : hdlr[1] + 20], trak)
    text_ids = [tid for tid, (handler, _) in handlers.items() if handler == b"text"]
    assert len(text_ids) == 1
    sound = next(trak for handler, trak in handlers.values() if handler == b"soun")
    chap = _child(data, _child(data, sound, b"tref"), b"chap")
    assert struct.unpack(">I", data[chap[1] + 8 : chap[1] + 12])[0] == text_ids[0]


def test_m4a_is_faststart(masters: dict[str, Path], tmp_path: Path) -> None:
    """moov before mdat: players can start streaming before the whole file has arrived."""
    dest = tmp_path / "copy.m4a"
    tag(masters["m4a"], dest)
    assert [name for name, _, _ in _atoms(masters["m4a"].read_bytes())] == [b"ftyp", b"free", b"mdat", b"moov"]
    # One mdat holding the chapter titles and then the audio, as FFmpeg's muxer lays it out.
    assert [name for name, _, _ in _atoms(dest.read_bytes())] == [b"ftyp", b"moov", b"mdat"]


def _text_traks(data: bytes) -> list[bytes]:
    """The bytes of every 'text' handler track in the file's moov."""
    moov = next(a for a in _atoms(data) if a[0] == b"moov")
    found = []
    for trak in (a for a in _atoms(data, moov[1] + 8, moov[1] + moov[2]) if a[0] == b"trak"):
        hdlr = _child(data, _child(data, trak, b"mdia"), b"hdlr")
        if data[hdlr[1] + 16 : hdlr[1] + 20] == b"text":
            found.append(data[trak[1] : trak[1] + trak[2]])
    return found


def test_m4a_chapter_track_is_the_one_ffmpeg_writes(masters: dict[str, Path], tmp_path: Path) -> None:
    """mp4box writes the chapter track byte for byte as FFmpeg's muxer does (but the offset)."""
    from feedtool.audio import probe
    from feedtool.tagging import chapter_spans, mp4

    master = masters["m4a"]
    ours = tmp_path / "ours.m4a"
    tag(master, ours)
    # mutagen's duration includes the encoder priming that the edit list hides; mp4box ends the
    # last chapter with the movie (ffprobe's duration), so hand FFmpeg that same end.
    spans = chapter_spans(CHAPTERS, duration(master), path=master)
    assert probe(master).duration_s > duration(master)
    theirs = tmp_path / "ffmpeg.m4a"
    mp4.remux_with_chapters(master, theirs, spans, muxer="ipod")

    def normalised(trak: bytes) -> bytes:
        at = trak.index(b"stco")
        return trak[: at + 12] + b"\0\0\0\0" + trak[at + 16 :]  # the one chunk offset differs

    (mine,) = _text_traks(ours.read_bytes())
    (reference,) = _text_traks(theirs.read_bytes())
    assert normalised(mine) == normalised(reference)
    assert probe_chapters(ours) == probe_chapters(theirs)


def test_m4a_old_chapter_track_is_replaced_not_added(chaptered_masters: dict[str, Path], tmp_path: Path) -> None:
    from mutagen.mp4 import MP4

    master = chaptered_masters["m4a"]
    assert len(_text_traks(master.read_bytes())) == 1
    dest = tmp_path / "copy.m4a"
    tag(master, dest)
    assert len(_text_traks(dest.read_bytes())) == 1
    assert [c.title for c in MP4(dest).chapters] == [EXPECTED[0][2], "Main topic", "Outro & credits"]
    assert b"Old 1" not in dest.read_bytes()  # FFmpeg's old chapter titles are not carried along


def test_m4a_master_in_fast_start_order(masters: dict[str, Path], tmp_path: Path) -> None:
    master = tmp_path / "master.m4a"
    _ffmpeg("-i", masters["m4a"], "-c", "copy", "-movflags", "+faststart", master)
    dest = tmp_path / "out" / "copy.m4a"
    tag(master, dest)
    assert [t for _, _, t in probe_chapters(dest)] == [EXPECTED[0][2], "Main topic", "Outro & credits"]
    decoded = subprocess.run(["ffmpeg", "-v", "error", "-i", str(dest), "-f", "null", "-"],
                             capture_output=True, text=True)
    assert decoded.returncode == 0 and decoded.stderr == ""
    assert duration(dest) == pytest.approx(duration(master), abs=0.03)


def _variant(master: Path, dest: Path, how: str) -> Path:
    """The master with a second (empty) mdat at the end, or with 64-bit chunk offsets (co64)."""
    import struct as st

    from feedtool.tagging.mp4box import Box, parse_boxes

    data = master.read_bytes()
    moov_at = next(offset for name, offset, _ in _atoms(data) if name == b"moov")
    if how == "two-mdat":
        dest.write_bytes(data + st.pack(">I4s", 8, b"mdat"))
        return dest
    (moov,) = parse_boxes(data[moov_at:])

    def widen(box: Box) -> None:
        for child in box.children or ():
            if child.name == b"stco":
                count = st.unpack(">I", child.payload[4:8])[0]
                offsets = st.unpack(f">{count}I", child.payload[8 : 8 + 4 * count])
                child.name, child.payload = b"co64", child.payload[:8] + st.pack(f">{count}Q", *offsets)
            widen(child)

    widen(moov)
    dest.write_bytes(data[:moov_at] + moov.render())  # moov is last: no offset moves
    return dest


@pytest.mark.parametrize("how", ["two-mdat", "co64"])
def test_m4a_less_common_layouts(how: str, masters: dict[str, Path], tmp_path: Path) -> None:
    master = _variant(masters["m4a"], tmp_path / "master.m4a", how)
    assert subprocess.run(["ffmpeg", "-v", "error", "-i", str(master), "-f", "null", "-"],
                          capture_output=True, text=True).stderr == ""
    dest = tmp_path / "out" / "copy.m4a"
    tag(master, dest)
    assert [t for _, _, t in probe_chapters(dest)] == [EXPECTED[0][2], "Main topic", "Outro & credits"]
    decoded = subprocess.run(["ffmpeg", "-v", "error", "-i", str(dest), "-f", "null", "-"],
                             capture_output=True, text=True)
    assert decoded.returncode == 0 and decoded.stderr == ""
    assert duration(dest) == pytest.approx(duration(master), abs=0.03)
    assert decoded_md5(dest) == decoded_md5(master)
    names = [name for name, _, _ in _atoms(dest.read_bytes())]
    assert names[:2] == [b"ftyp", b"moov"]
    if how == "co64":
        assert b"co64" in dest.read_bytes() and b"stco" in dest.read_bytes()  # audio co64, chapters stco


def test_fragmented_m4a_is_refused_with_a_fix(masters: dict[str, Path], tmp_path: Path) -> None:
    master = tmp_path / "frag.m4a"
    _ffmpeg("-i", masters["m4a"], "-c", "copy", "-movflags", "+frag_keyframe+empty_moov", master)
    out = tmp_path / "out"
    out.mkdir()
    _assert_refused(master, out, "m4a", AudioError, "fragmented")


def test_remux_fallback_writes_both_chapter_kinds(masters: dict[str, Path], tmp_path: Path) -> None:
    """The PyAV remux (used where mp4box cannot edit the layout) gives the same chapters and tags."""
    from mutagen.mp4 import MP4

    from feedtool.tagging import chapter_spans, mp4, mp4box

    master = masters["m4a"]
    dest = tmp_path / "remuxed.m4a"
    data = meta()

    def refuse(*args: object) -> None:
        raise mp4box.Unsupported("test")

    original = mp4box.write
    mp4box.write = refuse  # type: ignore[assignment]
    try:
        mp4.write(master, dest, data, duration_s=5.0, kind="m4a")
    finally:
        mp4box.write = original  # type: ignore[assignment]
    assert [t for _, _, t in probe_chapters(dest)] == [EXPECTED[0][2], "Main topic", "Outro & credits"]
    assert [c.title for c in MP4(dest).chapters] == [EXPECTED[0][2], "Main topic", "Outro & credits"]
    assert MP4(dest).tags["©nam"] == ["Episode 7: Ça va?"]
    assert len(chapter_spans(CHAPTERS, 5.0, path=master)) == 3


def test_mp4_video_keeps_its_video(tmp_path: Path) -> None:
    master = tmp_path / "video.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=5", "-f", "lavfi",
            "-i", "sine=duration=5", "-c:v", "mpeg4", "-c:a", "aac", "-shortest", master)
    dest = tmp_path / "out.mp4"
    tag(master, dest)
    streams = [(s["codec_type"], s["codec_name"]) for s in ffprobe(dest)["streams"]]
    assert ("video", "mpeg4") in streams and ("audio", "aac") in streams
    assert len(probe_chapters(dest)) == 3
    decoded = subprocess.run(["ffmpeg", "-v", "error", "-i", str(dest), "-f", "null", "-"],
                             capture_output=True, text=True)
    assert decoded.returncode == 0 and decoded.stderr == ""


@pytest.mark.parametrize("kind", FORMATS)
def test_mediainfo_reads_the_chapters_too(kind: str, masters: dict[str, Path], tmp_path: Path) -> None:
    """A second, independent reader (MediaInfoLib): a 'Menu' per chapter list it understands.

    MediaInfo reads no ID3 CHAP frames, so for MP3 it only confirms the tags; for M4A it must see
    both the QuickTime chapter track (tied to the audio track) and the Nero list.
    """
    if shutil.which("mediainfo") is None:
        pytest.fail("mediainfo is not installed: run `bash .ci/run` (it installs it with apt-get)")
    dest = tmp_path / f"copy.{kind}"
    tag(masters[kind], dest)
    out = subprocess.run(["mediainfo", "--Output=JSON", str(dest)], capture_output=True, text=True, check=True)
    tracks = json.loads(out.stdout)["media"]["track"]
    general = next(t for t in tracks if t["@type"] == "General")
    assert general.get("Title", general.get("Track")) == "Episode 7: Ça va?"
    menus = [t for t in tracks if t["@type"] == "Menu"]
    expected = [EXPECTED[0][2], "Main topic", "Outro & credits"]
    for menu in menus:
        assert [v for k, v in menu["extra"].items() if k.startswith("_")] == expected
    if kind == "m4a":
        assert len(menus) == 2 and menus[0]["Format"] == "Timed Text" and menus[0]["extra"]["Menu_For"] == "1"
        assert general["IsStreamable"] == "Yes"
    elif kind != "mp3":
        assert len(menus) == 1


@pytest.mark.parametrize("kind", ["ogg", "opus", "flac"])
def test_vorbis_comments_and_picture(kind: str, masters: dict[str, Path], tmp_path: Path) -> None:
    import base64

    from mutagen import File
    from mutagen.flac import Picture

    dest = tmp_path / f"copy.{kind}"
    tag(masters[kind], dest)
    audio = File(dest)
    tags = audio.tags
    assert tags["CHAPTER001"] == ["00:00:00.000"]
    assert tags["CHAPTER001NAME"] == [EXPECTED[0][2]]
    assert tags["CHAPTER002"] == ["00:00:02.250"]
    assert tags["CHAPTER002URL"] == ["https://example.com/main"]
    assert tags["CHAPTER003NAME"] == ["Outro & credits"]
    assert "CHAPTER004" not in tags and "CHAPTER000" not in tags
    assert tags["TITLE"] == ["Episode 7: Ça va?"]
    assert tags["ARTIST"] == ["Test Author"]
    assert tags["ALBUM"] == ["Test Show & Friends"]
    assert tags["DATE"] == ["2024-05-01"]
    assert {key.upper() for key, _ in tags} - {"ENCODER"} == {  # text stays out of the audio
        "TITLE", "ARTIST", "ALBUM", "GENRE", "DATE", "TRACKNUMBER", *(["METADATA_BLOCK_PICTURE"] if kind != "flac" else []),
        *(f"CHAPTER00{n}{part}" for n in (1, 2, 3) for part in ("", "NAME")), "CHAPTER002URL"}
    if kind == "flac":
        (picture,) = audio.pictures
    else:
        picture = Picture(base64.b64decode(tags["METADATA_BLOCK_PICTURE"][0]))
    assert (picture.type, picture.mime, picture.data) == (3, "image/jpeg", COVER)
    assert (picture.width, picture.height) == (300, 300)


# --------------------------------------------------------------------------------------------
# Fingerprint


def test_fingerprint_is_stable_and_changes_with_any_tag() -> None:
    base = meta()
    assert base.fingerprint() == meta().fingerprint()
    changed = [
        meta(title="Other"),
        meta(track=8),
        meta(cover=COVER + b"\0"),
        meta(chapters=CHAPTERS[:2]),
        meta(chapter_images={"chapter.png": CHAPTER_IMAGE + b"\0"}),
        meta(date="2024-05-02"),
        meta(artist="Someone else"),
        meta(album="Another show"),
    ]
    prints = {m.fingerprint() for m in changed}
    assert base.fingerprint() not in prints and len(prints) == len(changed)


# --------------------------------------------------------------------------------------------
# Text stays out of the audio: editing it changes no tagged copy


def _enclosures(feed: Path) -> dict[str, str]:
    from lxml import etree

    root = etree.fromstring(feed.read_bytes())
    return {item.findtext("guid"): item.find("enclosure").get("url") for item in root.iter("item")}


def _write_episode(folder: Path, *, title: str, notes: str, extra: str = "") -> None:
    from conftest import episode_md

    (folder / "episode.md").write_text(
        episode_md(title, number=1, date="2024-01-01T09:00:00Z", notes=notes, extra=extra), encoding="utf-8")


def test_editing_notes_summary_or_link_changes_no_tagged_copy(podcast) -> None:
    """Issue 10.3: a text edit must not re-tag, re-name or re-upload any audio; a title or
    chapter edit must (a new copy under a new URL)."""
    from feedtool.build import build_podcast

    first = podcast.episodes / "first"
    notes = "Notes about coffee.\n\n[00:00] Start\n[00:02] Middle\n"
    _write_episode(first, title="First & Foremost", notes=notes)
    build_podcast(podcast.episodes, podcast.public)
    before = _enclosures(podcast.public / "feed.xml")
    copies = {url: (podcast.public / url.split("/show/", 1)[1]).read_bytes() for url in before.values()}

    _write_episode(first, title="First & Foremost",
                   notes="Completely new notes, *rewritten*, with a [link](https://example.org/x).\n\n"
                         "[00:00] Start\n[00:02] Middle\n\nThanks for listening!\n",
                   extra="summary: A new summary\nlink: https://example.com/first-episode")
    podcast.set_show(description="A new show description.")
    result = build_podcast(podcast.episodes, podcast.public)
    assert result.tagged == 0 and result.reused == 2
    assert _enclosures(podcast.public / "feed.xml") == before  # same build keys, same URLs
    for url, data in copies.items():
        assert (podcast.public / url.split("/show/", 1)[1]).read_bytes() == data
    assert "A new summary" in (podcast.public / "feed.xml").read_text(encoding="utf-8")  # the feed did change

    for change in ({"title": "First, renamed", "notes": notes},
                   {"title": "First, renamed", "notes": notes.replace("[00:02] Middle", "[00:03] Middle")}):
        previous = _enclosures(podcast.public / "feed.xml")
        _write_episode(first, **change)
        result = build_podcast(podcast.episodes, podcast.public)
        after = _enclosures(podcast.public / "feed.xml")
        assert result.tagged == 1
        changed = {guid for guid in after if after[guid] != previous[guid]}
        assert len(changed) == 1 and "first" in after[changed.pop()]  # only that episode's audio


# --------------------------------------------------------------------------------------------
# Bad input: clear errors, nothing left behind, master untouched


def _lame_mp3(tmp_path: Path) -> Path:
    """A LAME-encoded MP3 with a Xing/Info header (what mutagen trusts for the duration).

    ffmpeg's libmp3lame writes the same LAME "Info" header as the lame program, and ffmpeg is
    what .ci/run installs.
    """
    path = tmp_path / "lame.mp3"
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=20", "-ac", "1",
            "-c:a", "libmp3lame", "-b:a", "64k", path)
    assert b"Info" in path.read_bytes()[:2048]  # the header this test is about
    return path


def _cut(source: Path, dest: Path, fraction: float) -> Path:
    data = source.read_bytes()
    dest.write_bytes(data[: int(len(data) * fraction)])
    return dest


def _assert_refused(master: Path, out_dir: Path, kind: str, error: type[Exception], words: str) -> None:
    before = master.read_bytes()
    with pytest.raises(error) as caught:
        write_tagged_copy(master, out_dir / f"copy.{kind}", meta(), kind=kind, duration_s=5.0)
    message = str(caught.value)
    assert str(master) in message and words in message
    assert "->" in message  # says what to do
    assert list(out_dir.iterdir()) == []
    assert master.read_bytes() == before


def test_truncated_mp3_is_refused(tmp_path: Path) -> None:
    from mutagen.mp3 import MP3

    whole = _lame_mp3(tmp_path)
    cut = _cut(whole, tmp_path / "cut.mp3", 0.5)
    assert MP3(cut).info.length == pytest.approx(MP3(whole).info.length)  # mutagen is fooled
    out = tmp_path / "out"
    out.mkdir()
    _assert_refused(cut, out, "mp3", AudioError, "truncated")
    write_tagged_copy(whole, out / "ok.mp3", meta(), kind="mp3", duration_s=20.0)  # the whole one is fine

    from mutagen.id3 import APIC, ID3

    big_tag = tmp_path / "big-tag.mp3"  # a tag much larger than the audio is not "missing audio"
    shutil.copyfile(whole, big_tag)
    tags = ID3()
    tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="", data=b"\xff\xd8\xff" + b"\0" * 1_000_000))
    tags.save(big_tag)
    write_tagged_copy(big_tag, out / "ok2.mp3", meta(), kind="mp3", duration_s=20.0)


def test_truncated_m4a_is_refused(masters: dict[str, Path], tmp_path: Path) -> None:
    cut = _cut(masters["m4a"], tmp_path / "cut.m4a", 0.6)
    out = tmp_path / "out"
    out.mkdir()
    _assert_refused(cut, out, "m4a", AudioError, "")


def test_extension_that_lies_is_refused(masters: dict[str, Path], tmp_path: Path) -> None:
    liar = tmp_path / "liar.m4a"
    shutil.copyfile(masters["mp3"], liar)
    out = tmp_path / "out"
    out.mkdir()
    _assert_refused(liar, out, "m4a", AudioError, "MP3")


def test_empty_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    out = tmp_path / "out"
    out.mkdir()
    _assert_refused(empty, out, "mp3", AudioError, "empty")


@pytest.mark.parametrize("suffix, codec", [(".wav", ["-c:a", "pcm_s16le"]), (".aac", ["-c:a", "aac", "-f", "adts"])])
def test_formats_without_chapters_say_convert(suffix: str, codec: list[str], podcast, tmp_path: Path) -> None:
    path = tmp_path / f"raw{suffix}"
    _ffmpeg("-f", "lavfi", "-i", "sine=duration=1", *codec, path)
    with pytest.raises(TagError) as caught:
        tag_file(path, podcast.episodes / "first")
    assert "cannot carry chapters" in str(caught.value) and "M4A" in str(caught.value)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("raw")) == [path.name]


def test_failure_midway_leaves_no_file(masters: dict[str, Path], tmp_path: Path, monkeypatch) -> None:
    from feedtool.tagging import id3

    def boom(*args: object, **kwargs: object) -> None:
        Path(args[1]).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(id3, "write", boom)
    out = tmp_path / "out"
    out.mkdir()
    (out / "copy.mp3").write_bytes(b"previous good copy")
    with pytest.raises(TagError, match="No space left"):
        write_tagged_copy(masters["mp3"], out / "copy.mp3", meta(), kind="mp3", duration_s=5.0)
    assert [p.name for p in out.iterdir()] == ["copy.mp3"]
    assert (out / "copy.mp3").read_bytes() == b"previous good copy"


def test_chapter_after_the_end_is_refused(masters: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(TagError, match="after the end of the audio"):
        tag(masters["mp3"], tmp_path / "x.mp3", chapters=(Chapter(start_s=0, title="A"), Chapter(start_s=9, title="B")))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", ["mp3", "m4a"])
def test_more_chapters_than_the_format_holds_is_refused(kind: str, masters: dict[str, Path], tmp_path: Path) -> None:
    many = tuple(Chapter(start_s=i * 0.01, title=f"C{i}") for i in range(256))
    with pytest.raises(TagError, match="at most 255"):
        tag(masters[kind], tmp_path / f"x.{kind}", chapters=many)
    assert list(tmp_path.iterdir()) == []
    tag(masters[kind], tmp_path / f"ok.{kind}", chapters=many[:255])
    assert len(probe_chapters(tmp_path / f"ok.{kind}")) == 255


def test_mp3_chapter_image_url_is_a_link_picture(masters: dict[str, Path], tmp_path: Path) -> None:
    from mutagen.id3 import ID3

    dest = tmp_path / "copy.mp3"
    chapters = (Chapter(start_s=0, title="A", image="https://example.com/ä.jpg"), Chapter(start_s=1, title="B"))
    tag(masters["mp3"], dest, chapters=chapters)
    first = next(c for c in ID3(dest).getall("CHAP") if c.start_time == 0)
    (picture,) = first.sub_frames.getall("APIC")
    assert (picture.mime, picture.data) == ("-->", b"https://example.com/%C3%A4.jpg")
    assert read_chapters(dest)[0].image == "https://example.com/%C3%A4.jpg"


def test_copy_onto_master_is_refused(masters: dict[str, Path], tmp_path: Path) -> None:
    master = tmp_path / "m.mp3"
    shutil.copyfile(masters["mp3"], master)
    with pytest.raises(FeedtoolError, match="overwrite the master"):
        write_tagged_copy(master, master, meta(), kind="mp3", duration_s=5.0)


# --------------------------------------------------------------------------------------------
# feedtool tag


def test_tag_command_writes_a_new_file_with_the_episodes_chapters(podcast, runner) -> None:
    from conftest import run_cli

    folder = podcast.episodes / "first"
    audio = folder / "audio.mp3"
    before = sha256(audio)
    result = run_cli(runner, "tag", audio, "--episode", folder)
    assert result.exit_code == 0, result.output
    written = folder / "audio.tagged.mp3"
    assert f"wrote {written}" in result.output
    assert [(s, t) for s, _, t in probe_chapters(written)] == [(0.0, "Start"), (2.0, "Middle")]
    assert sha256(audio) == before

    again = run_cli(runner, "tag", audio, "--episode", folder)
    assert again.exit_code == 2 and "already exists" in again.output and "--force" in again.output
    assert run_cli(runner, "tag", audio, "--episode", folder, "--force").exit_code == 0


def test_tag_command_output_and_in_place(podcast, runner, tmp_path: Path) -> None:
    from conftest import run_cli

    folder = podcast.episodes / "second"
    outside = tmp_path / "elsewhere" / "hosted.mp3"
    outside.parent.mkdir()
    shutil.copyfile(folder / "audio.mp3", outside)
    target = tmp_path / "upload" / "ep2.mp3"
    result = run_cli(runner, "tag", outside, "--episode", folder, "--output", target)
    assert result.exit_code == 0, result.output
    assert probe_chapters(target)[0][2] == "Start"

    result = run_cli(runner, "tag", outside, "--episode", folder, "--in-place")
    assert result.exit_code == 0, result.output
    assert [p.name for p in outside.parent.iterdir()] == ["hosted.mp3"]
    from mutagen.id3 import ID3

    assert str(ID3(outside)["TIT2"]) == "Second: ünïcödé 日本語 😀"


def test_tag_command_from_inside_the_episode_folder(podcast, runner, monkeypatch) -> None:
    from conftest import run_cli

    folder = podcast.episodes / "first"
    monkeypatch.chdir(folder)
    result = run_cli(runner, "tag", "audio.mp3", "--episode", ".", "-o", "out.mp3")
    assert result.exit_code == 0, result.output
    assert [t for _, _, t in probe_chapters(folder / "out.mp3")] == ["Start", "Middle"]


def test_tag_command_bad_episode_folder(podcast, runner, tmp_path: Path) -> None:
    from conftest import run_cli

    result = run_cli(runner, "tag", podcast.episodes / "first" / "audio.mp3", "--episode", tmp_path)
    assert result.exit_code == 2 and "episode.md" in result.output and "Traceback" not in result.output

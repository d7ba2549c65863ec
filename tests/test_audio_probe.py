"""probe() reads MP3s through a short path (no format sniffing, no tag parse) when a file is plainly
MP3; whatever it returns must be what mutagen.File says, and anything unusual takes the long path."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import mutagen
import pytest

from feedtool.audio import _plain_mp3_info, probe


def _ffmpeg(out: Path, *args: str) -> Path:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=330:duration=7.5",
         "-ac", "1", *args, str(out)],
        check=True,
    )
    return out


@pytest.fixture(scope="module")
def mp3s(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("mp3s")
    plain = _ffmpeg(folder / "no-tag.mp3", "-c:a", "libmp3lame", "-b:a", "32k", "-id3v2_version", "0")
    files = {
        "no tag, CBR with a Xing/Info frame": plain,
        "ID3v2.4 tag": _ffmpeg(folder / "v24.mp3", "-c:a", "libmp3lame", "-b:a", "32k",
                               "-metadata", "title=Tëst", "-id3v2_version", "4"),
        "ID3v2.3 tag and ID3v1": _ffmpeg(folder / "v23.mp3", "-c:a", "libmp3lame", "-b:a", "32k",
                                         "-metadata", "title=T", "-id3v2_version", "3",
                                         "-write_id3v1", "1"),
        "VBR": _ffmpeg(folder / "vbr.mp3", "-c:a", "libmp3lame", "-q:a", "6"),
        "no Xing frame": _ffmpeg(folder / "no-xing.mp3", "-c:a", "libmp3lame", "-b:a", "32k",
                                 "-write_xing", "0", "-id3v2_version", "0"),
    }
    tag = b"ID3\x03\x00\x00\x00\x00\x00\x0f" + b"TIT2\x00\x00\x00\x05\x00\x00\x00abcd"
    two_tags = folder / "two-tags.mp3"
    two_tags.write_bytes(tag + tag + plain.read_bytes())
    files["two ID3v2 tags"] = two_tags
    padded = folder / "padding-after-tag.mp3"
    padded.write_bytes(tag + bytes(64) + plain.read_bytes())
    files["zeros between tag and audio"] = padded
    return files


def test_probe_agrees_with_mutagen_on_every_mp3_shape(mp3s: dict[str, Path]) -> None:
    for shape, path in mp3s.items():
        reference = mutagen.File(path)
        info = probe(path)
        assert info.kind == "mp3", shape
        assert info.mime == "audio/mpeg", shape
        assert info.duration_s == pytest.approx(reference.info.length, abs=1e-9), shape
        assert info.bitrate == (reference.info.bitrate or None), shape
        assert info.size == path.stat().st_size, shape


def test_short_path_is_taken_only_for_plain_mp3(mp3s: dict[str, Path], tone: Callable[..., Path],
                                                tmp_path: Path) -> None:
    assert _plain_mp3_info(mp3s["ID3v2.4 tag"]) is not None
    assert _plain_mp3_info(mp3s["no tag, CBR with a Xing/Info frame"]) is not None
    assert _plain_mp3_info(mp3s["two ID3v2 tags"]) is None  # the general path reads those
    assert _plain_mp3_info(mp3s["zeros between tag and audio"]) is None
    renamed = tmp_path / "really-m4a.mp3"
    renamed.write_bytes(tone("m4a").read_bytes())
    assert _plain_mp3_info(renamed) is None
    with pytest.raises(Exception, match="content is M4A"):
        probe(renamed)


def test_imports_flow_one_way_probe_never_imports_the_tagger(tone: Callable[..., Path]) -> None:
    """Issue 11.14: probe (audio.py + integrity.py) comes before tag in the flow; probing a
    master must not import feedtool.tagging, and integrity.py needs nothing of feedtool but its
    errors (so probe, the tagger and the master store can all use it)."""
    import sys

    code = (
        "import sys; from pathlib import Path; import feedtool.integrity; "
        "print(sorted(m for m in sys.modules if m.startswith('feedtool')));"
        "from feedtool.audio import probe; probe(Path(sys.argv[1])); "
        "print(sorted(m for m in sys.modules if m.startswith('feedtool.tagging')))"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tone("mp3"))], capture_output=True, text=True, check=True)
    integrity_needs, tagging_loaded = done.stdout.splitlines()
    assert integrity_needs == "['feedtool', 'feedtool.errors', 'feedtool.integrity']"
    assert tagging_loaded == "[]"

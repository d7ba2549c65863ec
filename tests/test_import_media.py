"""Import's audio facts over HTTP (--media remote) and its downloads (--media download), against a local
server with and without HEAD and Range. Witness for durations: ffprobe."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from mutagen.id3 import APIC, ID3

from feedtool.importer.media import part_name
from feedtool.importer.run import Options, import_feed
from tests.import_feeds import feed, item
from tests.import_server import serve

SECONDS = 60.0


def _ffmpeg(out: Path, *args: str) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency=330:duration={SECONDS}",
                    "-ac", "1", "-map_metadata", "-1", *args, str(out)], check=True)
    return out


def _ffprobe_duration(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return float(json.loads(out)["format"]["duration"])


@pytest.fixture(scope="module")
def masters(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A minute of audio in four shapes hosts serve: MP3 with a Xing header behind a 100 KB cover,
    constant-bitrate MP3 without one, M4A with its index at the front, and at the end."""
    folder = tmp_path_factory.mktemp("masters")
    xing = _ffmpeg(folder / "xing.mp3", "-c:a", "libmp3lame", "-b:a", "64k")
    tags = ID3()
    tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="", data=b"\xff\xd8\xff" + bytes(100_000)))
    tags.save(xing)
    return {
        "xing.mp3": xing,
        "cbr.mp3": _ffmpeg(folder / "cbr.mp3", "-c:a", "libmp3lame", "-b:a", "64k", "-write_xing", "0"),
        "front.m4a": _ffmpeg(folder / "front.m4a", "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart"),
        "end.m4a": _ffmpeg(folder / "end.m4a", "-c:a", "aac", "-b:a", "64k"),
    }


def _lock(into: Path) -> dict:
    return json.loads((into / "episodes" / "feedtool.lock").read_text(encoding="utf-8"))["episodes"]


@pytest.mark.parametrize(("head", "ranges"), [(True, True), (False, True), (True, False), (False, False)],
                         ids=["head+range", "no-head", "no-range", "neither"])
def test_remote_facts_where_the_feed_is_silent(tmp_path, masters, head, ranges):
    files = {f"/media/{name}": path.read_bytes() for name, path in masters.items()}
    with serve(files=files, head=head, ranges=ranges) as site:
        items = [item(name, url=f"{site.url}media/{name}", length=None, duration=None,
                      kind="audio/mpeg" if name.endswith("mp3") else "audio/x-m4a") for name in masters]
        files["/feed.xml"] = feed(items).encode()
        site.files.update(files)
        import_feed(Options(source=site.url + "feed.xml", into=tmp_path / "show"))
        log = list(site.log)
    by_source = {entry["master"]["source"].rsplit("/", 1)[-1]: entry["master"] for entry in _lock(tmp_path / "show").values()}
    expected_from = {"xing.mp3": "xing", "cbr.mp3": "bitrate", "front.m4a": "moov", "end.m4a": "moov"}
    for name, path in masters.items():
        master = by_source[name]
        assert master["size"] == path.stat().st_size, name
        if name == "end.m4a" and not ranges:  # the index is behind the audio: not read without Range
            assert "duration_s" not in master
            continue
        assert master["duration_s"] == pytest.approx(_ffprobe_duration(path), abs=0.15), name
        assert master["duration_from"] == expected_from[name]
        assert "sha256" not in master  # not downloaded: its bytes are not known
        if ranges:  # only the first bytes (and the index) were read, never the whole file
            sent = sum(n for _, p, _, n in log if p == f"/media/{name}")
            assert 0 < sent < path.stat().st_size / 2, (name, sent)


def test_remote_asks_nothing_when_the_feed_says_it_all(tmp_path, masters):
    path = masters["xing.mp3"]
    with serve(files={"/media/a.mp3": path.read_bytes()}) as site:
        site.files["/feed.xml"] = feed([item("A", url=site.url + "media/a.mp3", length=path.stat().st_size,
                                             duration="1:00")]).encode()
        import_feed(Options(source=site.url + "feed.xml", into=tmp_path / "show"))
        assert site.requests("/media/a.mp3") == []
    master = next(iter(_lock(tmp_path / "show").values()))["master"]
    assert master == {"source": site.url + "media/a.mp3", "size": path.stat().st_size, "kind": "mp3",
                      "mime": "audio/mpeg", "duration_s": 60.0, "duration_from": "feed"}


def test_probe_flag_asks_the_host_and_reports_a_wrong_length(tmp_path, masters):
    path = masters["cbr.mp3"]
    with serve(files={"/a.mp3": path.read_bytes()}) as site:
        site.files["/feed.xml"] = feed([item("A", url=site.url + "a.mp3", length=12345, duration="60")]).encode()
        result = import_feed(Options(source=site.url + "feed.xml", into=tmp_path / "show", probe=True))
    master = next(iter(_lock(tmp_path / "show").values()))["master"]
    assert master["size"] == path.stat().st_size
    assert result.size_mismatches == 1
    assert any("12345 bytes" in w for w in result.notices.warnings)


@pytest.mark.parametrize("ranges", [True, False], ids=["range", "no-range"])
def test_download_resumes_a_partial_file_and_checks_the_length(tmp_path, masters, ranges):
    path = masters["xing.mp3"]
    data = path.read_bytes()
    with serve(files={"/ep/a.mp3": data}, ranges=ranges) as site:
        url = site.url + "ep/a.mp3"
        site.files["/feed.xml"] = feed([item("A", url=url, length=len(data) + 7, duration="60")]).encode()
        parts = tmp_path / "show" / ".feedtool-import" / "parts"
        parts.mkdir(parents=True)
        (parts / part_name(url)).write_bytes(data[:50_000])  # what an interrupted run left
        result = import_feed(Options(source=site.url + "feed.xml", into=tmp_path / "show", media="download"))
        asked = site.requests("/ep/a.mp3")
    folder = tmp_path / "show" / "episodes" / "a"
    assert (folder / "a.mp3").read_bytes() == data
    assert asked == [("GET", "bytes=50000-")]
    assert site.sent("/ep/a.mp3") == (len(data) - 50_000 if ranges else len(data))
    assert result.size_mismatches == 1  # the feed's length is 7 bytes off: reported, not fatal
    assert any("the download is" in w for w in result.notices.warnings)
    master = _lock(tmp_path / "show")["a"]["master"]
    assert master["source"] == "a.mp3" and master["size"] == len(data) and len(master["sha256"]) == 64
    assert master["duration_s"] == pytest.approx(SECONDS, abs=0.1)
    assert not (tmp_path / "show" / ".feedtool-import").exists()  # nothing left behind
    assert "audio: a.mp3" in (folder / "episode.md").read_text(encoding="utf-8")


def test_a_folder_that_is_not_empty_is_refused(tmp_path, masters):
    data = masters["cbr.mp3"].read_bytes()
    with serve(files={"/a.mp3": data}) as site:
        site.files["/feed.xml"] = feed([item("A", url=site.url + "a.mp3", length=len(data))]).encode()
        into = tmp_path / "show"
        (into / "episodes").mkdir(parents=True)
        (into / "episodes" / "mine.txt").write_text("the podcaster's own file")
        from feedtool.errors import InputError

        with pytest.raises(InputError, match="is not empty"):
            import_feed(Options(source=site.url + "feed.xml", into=into, media="download"))
    assert (into / "episodes" / "mine.txt").read_text() == "the podcaster's own file"
    assert sorted(p.name for p in (into / "episodes").iterdir()) == ["mine.txt"]


def test_a_failed_import_writes_nothing_and_keeps_partial_downloads(tmp_path, masters, monkeypatch):
    from feedtool.importer import run

    data = masters["cbr.mp3"].read_bytes()
    with serve(files={"/a.mp3": data, "/b.mp3": data}) as site:
        site.files["/feed.xml"] = feed([item("A", url=site.url + "a.mp3"), item("B", url=site.url + "b.mp3")]).encode()
        into = tmp_path / "show"
        parts = into / ".feedtool-import" / "parts"
        parts.mkdir(parents=True)
        (parts / part_name(site.url + "b.mp3")).write_bytes(data[:1000])

        def interrupted(*args, **kwargs):
            raise KeyboardInterrupt

        monkeypatch.setattr(run, "_check", interrupted)
        with pytest.raises(KeyboardInterrupt):
            import_feed(Options(source=site.url + "feed.xml", into=into, media="remote"))
    assert not (into / "episodes").exists()
    assert not (into / ".feedtool-import" / "episodes").exists()
    assert (parts / part_name(site.url + "b.mp3")).read_bytes() == data[:1000]

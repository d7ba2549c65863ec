"""Audio outside git (issue 10), the build side: a show builds from its text alone.

A "laptop" show (tmp_path/laptop) holds the masters; a "fresh clone" (tmp_path/clone) is a copy of
its episodes/ without any audio, without the build cache and without public/, as CI checks out a
show whose audio is gitignored. The publish side (copies made inside the bucket) is tested in
tests/test_publish_splice.py and end to end in tests/test_audio_outside_git_e2e.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PodcastFactory, run_cli
from range_server import RangeServer

AUDIO_SUFFIXES = (".mp3", ".m4a", ".ogg", ".opus", ".flac")


def build(root: Path, runner, *args: str):
    return run_cli(runner, "build", "--episodes", root / "episodes", "--out", root / "public", *args)


def clone(show: PodcastFactory, to: Path) -> Path:
    """episodes/ as git would check it out with audio gitignored: no masters, no cache, no public/."""
    shutil.copytree(show.episodes, to / "episodes",
                    ignore=lambda folder, names: [n for n in names if n.endswith(AUDIO_SUFFIXES)])
    return to


def enclosures(feed: bytes) -> list[str]:
    return re.findall(rb'<enclosure url="([^"]+)"', feed)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, text
    path.write_text(text.replace(old, new), encoding="utf-8")


def lock(root: Path) -> dict:
    return json.loads((root / "episodes/feedtool.lock").read_text(encoding="utf-8"))


@pytest.fixture
def show(tmp_path: Path, tone, artwork_jpg: Path) -> PodcastFactory:
    """A show with no episodes yet, on the "laptop" (tmp_path/laptop)."""
    return PodcastFactory(tmp_path / "laptop", tone, artwork_jpg)


@pytest.fixture
def laptop(show: PodcastFactory, runner) -> PodcastFactory:
    """Two episodes built where the masters are: the second has chapters in the notes."""
    show.add("ep1", number=1, notes="Plain notes.\n")
    show.add("ep2", number=2, notes="Notes.\n\n[00:00] Start\n[00:02] Middle\n")
    result = build(show.root, runner)
    assert result.exit_code == 0, result.output
    return show


def test_a_fresh_clone_without_audio_builds_the_same_feed_bytes(laptop: PodcastFactory, runner,
                                                                 tmp_path: Path) -> None:
    fresh = clone(laptop, tmp_path / "clone")
    result = build(fresh, runner)
    assert result.exit_code == 0, result.output
    assert "0 audio file(s) tagged" in result.output and "2 on the target already" in result.output
    assert (fresh / "public/feed.xml").read_bytes() == (laptop.public / "feed.xml").read_bytes()
    assert not [p for p in (fresh / "public").rglob("*") if p.suffix in AUDIO_SUFFIXES]
    assert lock(fresh) == lock(laptop.root)  # nothing new to record
    # validate does not call the copies missing: it says where they are
    report = run_cli(runner, "validate", fresh / "public/feed.xml", "--format", "json")
    findings = json.loads(report.output)["findings"]
    assert report.exit_code == 0, report.output
    assert [f["rule"] for f in findings if f["rule"].startswith("media.")] == ["media.elsewhere"] * 2


def test_a_notes_edit_changes_no_enclosure_and_needs_no_audio(laptop: PodcastFactory, runner,
                                                              tmp_path: Path) -> None:
    fresh = clone(laptop, tmp_path / "clone")
    edit(fresh / "episodes/ep1/episode.md", "Plain notes.", "Plain notes, with one word more.")
    edit(fresh / "episodes/podcast.yaml", "description: |\n", "description: |\n  New first line.\n")
    result = build(fresh, runner)
    assert result.exit_code == 0, result.output
    feed = (fresh / "public/feed.xml").read_bytes()
    assert b"one word more" in feed and feed != (laptop.public / "feed.xml").read_bytes()
    assert enclosures(feed) == enclosures((laptop.public / "feed.xml").read_bytes())
    assert not (fresh / "public/.feedtool/splices.json").exists()


def test_a_chapters_edit_without_the_master_is_a_splice_of_the_earlier_copy(laptop: PodcastFactory, runner,
                                                                            tmp_path: Path) -> None:
    """The new copy = new ID3 tag + the earlier copy's audio frames: byte for byte what a build
    with the master makes, and ffprobe reads the new chapters from it."""
    fresh = clone(laptop, tmp_path / "clone")
    edit(fresh / "episodes/ep2/episode.md", "[00:02] Middle", "[00:03] A new middle")
    result = build(fresh, runner)
    assert result.exit_code == 0, result.output
    assert "1 to re-tag inside the bucket at publish" in result.output
    splices = json.loads((fresh / "public/.feedtool/splices.json").read_text())["splices"]
    [(name, splice)] = splices.items()
    assert name.startswith("ep2/audio-") and not (fresh / "public" / name).exists()
    earlier = (laptop.public / splice["source"]["key"]).read_bytes()
    assert splice["source"]["size"] == len(earlier)
    head = (fresh / "public/.feedtool/heads" / splice["head"]).read_bytes()
    made = head + earlier[splice["source"]["start"]:splice["source"]["end"]]
    assert len(made) == splice["size"]
    # the witness: the same edit built where the master is
    shutil.copyfile(fresh / "episodes/ep2/episode.md", laptop.episodes / "ep2/episode.md")
    assert build(laptop.root, runner).exit_code == 0
    assert made == (laptop.public / name).read_bytes()
    assert (fresh / "public/feed.xml").read_bytes() == (laptop.public / "feed.xml").read_bytes()
    (tmp_path / "made.mp3").write_bytes(made)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(tmp_path / "made.mp3")],
                           capture_output=True, text=True, check=True)
    assert [c["tags"]["title"] for c in json.loads(probe.stdout)["chapters"]] == ["Start", "A new middle"]
    # recorded, so the next build without the master asks for the same copy from the same source
    tagged = lock(fresh)["episodes"]["ep2"]["master"]["tagged"]
    assert tagged["name"] == name and tagged["made_from"]["name"] == splice["source"]["key"]
    assert build(fresh, runner, "--force").exit_code == 0
    assert json.loads((fresh / "public/.feedtool/splices.json").read_text())["splices"] == splices


def test_a_changed_author_splices_every_episode(laptop: PodcastFactory, runner, tmp_path: Path) -> None:
    fresh = clone(laptop, tmp_path / "clone")
    edit(fresh / "episodes/podcast.yaml", "author: Test Author", "author: Someone Else")
    result = build(fresh, runner)
    assert result.exit_code == 0, result.output
    assert "2 to re-tag inside the bucket" in result.output


def test_a_tag_change_of_an_m4a_without_its_master_is_a_clear_error(show: PodcastFactory, runner,
                                                                    tmp_path: Path) -> None:
    show.add("ep1", number=1, kind="m4a")
    assert build(show.root, runner).exit_code == 0
    fresh = clone(show, tmp_path / "clone")
    assert build(fresh, runner).exit_code == 0  # nothing to re-tag: fine without the master
    built = (fresh / "public/feed.xml").read_bytes()
    edit(fresh / "episodes/ep1/episode.md", 'title: "Episode ep1"', 'title: "A better title"')
    result = build(fresh, runner)
    assert result.exit_code == 2 and "Traceback" not in result.output
    message = result.stderr
    assert "ep1/episode.md:4: audio: the master audio.m4a is not in the episode folder" in message
    assert "only an MP3's copy can be re-made without its master" in message
    assert "put the master next to episode.md" in message and "s3://" in message
    assert (fresh / "public/feed.xml").read_bytes() == built  # the previous build is left as it was


def test_a_master_that_was_never_built_and_is_not_here(laptop: PodcastFactory, runner, tmp_path: Path) -> None:
    fresh = clone(laptop, tmp_path / "clone")
    before = (fresh / "public").exists()
    (fresh / "episodes/ep3").mkdir()
    (fresh / "episodes/ep3/episode.md").write_text(
        '---\ntitle: "Three"\ndate: 2024-01-03T09:00:00Z\naudio: three.mp3\nepisode: 3\n---\nNotes.\n')
    result = build(fresh, runner)
    assert result.exit_code == 2, result.output
    assert "ep3/episode.md:4: audio: the master three.mp3 is not in the episode folder" in result.stderr
    assert "records nothing about it" in result.stderr
    assert (fresh / "public").exists() == before


@pytest.mark.parametrize(("value", "words"), [
    ("ftp://example.com/ep.mp3", "is not a master feedtool can fetch"),
    ("https://example.com/", "names no file"),
    ("s3://bucket/key.mp3?versionId=1", "s3://bucket/key, without '?' or '#'"),
])
def test_master_addresses_feedtool_cannot_fetch(show: PodcastFactory, runner, value: str, words: str) -> None:
    folder = show.add("ep1", number=1)
    edit(folder / "episode.md", "audio: audio.mp3", f"audio: {value}")
    result = build(show.root, runner)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "ep1/episode.md:4: audio:" in result.stderr and words in result.stderr, result.stderr


# ------------------------------------------------------------------------------------------------
# Masters at an https:// URL (a real TLS server on localhost) and in an s3:// bucket (moto)


@pytest.fixture
def https_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[RangeServer]:
    server = RangeServer(tls=True)
    assert server.ca_file is not None
    monkeypatch.setenv("SSL_CERT_FILE", server.ca_file)  # feedtool trusts the test's certificate
    yield server
    server.stop()


def url_show(show: PodcastFactory, server: RangeServer, kind: str = "mp3") -> tuple[str, bytes]:
    folder = show.add("ep1", number=1, kind=kind, notes="Notes.\n\n[00:00] Start\n[00:02] Middle\n")
    master = (folder / f"audio.{kind}").read_bytes()
    (folder / f"audio.{kind}").unlink()
    url = server.add(f"/masters/ep%201.{kind}", master, content_type="audio/mpeg")
    edit(folder / "episode.md", f"audio: audio.{kind}", f"audio: {url}")
    return url, master


def test_an_https_master_is_fetched_once_and_a_clone_builds_without_network(
        show: PodcastFactory, runner, https_server: RangeServer, tmp_path: Path) -> None:
    _, master = url_show(show, https_server)
    result = build(show.root, runner)
    assert result.exit_code == 0, result.output
    assert "1 master(s) fetched" in result.output
    assert https_server.sent == len(master)
    feed = (show.public / "feed.xml").read_bytes()
    assert enclosures(feed) == [b"https://cdn.example.com/show/ep1/ep-1-" + enclosures(feed)[0][-12:]]
    # a rebuild where the store is: no request at all
    requests = len(https_server.log)
    assert build(show.root, runner, "--force").exit_code == 0
    assert len(https_server.log) == requests
    # a fresh clone (no store) builds the same feed offline; a chapters edit is a splice, not a fetch
    fresh = clone(show, tmp_path / "clone")
    assert build(fresh, runner).exit_code == 0
    assert (fresh / "public/feed.xml").read_bytes() == feed
    edit(fresh / "episodes/ep1/episode.md", "[00:02] Middle", "[00:03] Later")
    assert build(fresh, runner).exit_code == 0
    assert (fresh / "public/.feedtool/splices.json").exists()
    assert len(https_server.log) == requests


def test_an_https_master_that_changed_since_it_was_recorded_is_refused(
        show: PodcastFactory, runner, https_server: RangeServer, tmp_path: Path, tone) -> None:
    _url, _ = url_show(show, https_server, kind="m4a")
    assert build(show.root, runner).exit_code == 0
    https_server.add("/masters/ep%201.m4a", tone("m4a", 3.0, frequency=550).read_bytes())
    fresh = clone(show, tmp_path / "clone")
    edit(fresh / "episodes/ep1/episode.md", 'title: "Episode ep1"', 'title: "New title"')  # needs the bytes
    result = build(fresh, runner)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "ep1/episode.md: audio:" in result.stderr and "localhost" in result.stderr
    assert "recorded for this master" in result.stderr and "put the original master back" in result.stderr
    assert not (fresh / "public").exists()


def test_an_unreachable_or_forbidden_master_names_the_episode(show: PodcastFactory, runner,
                                                              https_server: RangeServer) -> None:
    folder = show.add("ep1", number=1)
    edit(folder / "episode.md", "audio: audio.mp3", f"audio: {https_server.answer('/secret.mp3', 403)}")
    result = build(show.root, runner)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "ep1/episode.md: audio:" in result.stderr and "403" in result.stderr, result.stderr


def master_in_a_bucket(show: PodcastFactory, monkeypatch, tmp_path: Path, endpoint: str, bucket: str, key: str,
                       **variables: str) -> None:
    """Episode ep1 whose master is only at s3://<bucket>/<key> on moto, with the credentials in
    the environment as in CI (and any FEEDTOOL_* ``variables``)."""
    import boto3

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(tmp_path / "none"),
                        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), **variables}.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket=bucket)
    folder = show.add("ep1", number=1)
    client.put_object(Bucket=bucket, Key=key, Body=(folder / "audio.mp3").read_bytes())
    (folder / "audio.mp3").unlink()
    edit(folder / "episode.md", "audio: audio.mp3", f"audio: s3://{bucket}/{key}")


def test_an_s3_master_uses_publishs_settings_and_credentials(show: PodcastFactory, runner, tmp_path: Path,
                                                             moto_endpoint: str, monkeypatch) -> None:
    master_in_a_bucket(show, monkeypatch, tmp_path, moto_endpoint, "show-masters", "2024/ep one.mp3")
    show.set_show(publish=f"{{to: 's3://site/show', endpoint_url: '{moto_endpoint}', addressing_style: path}}")
    result = build(show.root, runner)
    assert result.exit_code == 0, result.output
    assert "1 master(s) fetched" in result.output
    assert next(p.name for p in (show.public / "ep1").glob("*.mp3")).startswith("ep-one-")
    recorded = lock(show.root)["episodes"]["ep1"]["master"]
    assert recorded["source"] == "s3://show-masters/2024/ep one.mp3" and recorded["kind"] == "mp3"


def test_a_plain_http_master_is_fetched_with_a_warning(show: PodcastFactory, runner) -> None:
    """An old host's http:// enclosure (feedtool import) works; build says what that risks."""
    server = RangeServer()
    try:
        folder = show.add("ep1", number=1)
        url = server.add("/ep1.mp3", (folder / "audio.mp3").read_bytes())
        (folder / "audio.mp3").unlink()
        edit(folder / "episode.md", "audio: audio.mp3", f"audio: {url}")
        result = build(show.root, runner)
        assert result.exit_code == 0, result.output
        assert "fetched over plain http://" in result.output and "1 master(s) fetched" in result.output
    finally:
        server.stop()


def test_a_renamed_folder_in_a_clone_without_audio_keeps_its_copy(laptop: PodcastFactory, runner,
                                                                   tmp_path: Path) -> None:
    """`git mv episodes/ep2 episodes/ep-two` in CI: same guid (the ledger), same copy and URL."""
    fresh = clone(laptop, tmp_path / "clone")
    (fresh / "episodes/ep2").rename(fresh / "episodes/ep-two")
    result = build(fresh, runner)
    assert result.exit_code == 0, result.output
    assert "2 on the target already" in result.output
    assert (fresh / "public/feed.xml").read_bytes().count(b"/ep2/audio-") == 1  # the enclosure kept its URL
    assert enclosures((fresh / "public/feed.xml").read_bytes()) == enclosures((laptop.public / "feed.xml").read_bytes())


def test_an_s3_master_reaches_the_endpoint_publish_is_given_in_the_environment(
        show: PodcastFactory, runner, tmp_path: Path, moto_endpoint: str, monkeypatch) -> None:
    """CI sets FEEDTOOL_ENDPOINT_URL (a repository variable) for publish, not publish: in podcast.yaml."""
    master_in_a_bucket(show, monkeypatch, tmp_path, moto_endpoint, "ci-masters", "ep1.mp3",
                       FEEDTOOL_ENDPOINT_URL=moto_endpoint, FEEDTOOL_ADDRESSING_STYLE="path")
    result = build(show.root, runner)
    assert result.exit_code == 0, result.output
    assert "1 master(s) fetched" in result.output

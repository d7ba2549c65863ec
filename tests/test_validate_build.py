"""Validation of feedtool's own build, in the podcaster's terms, and the checks before going live.

- The source map: findings name the episode (folder and number), the episode.md or podcast.yaml,
  the key to change and its line; GitHub annotations point there; the feed's line stays as detail;
  a map that does not match the feed is not used.
- Readiness: placeholder address, artwork and e-mail, and no episodes, are warnings in build and
  validate (so --strict fails), printed by publish to a folder, and refused by publish to S3.
- The live feed: an episode whose guid changed is one finding whose fix names its episode.md.
- podcast:locked carries the owner e-mail whenever one is known.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from conftest import PodcastFactory
from moto import mock_aws
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from feedtool.build import build_podcast
from feedtool.cli import cli
from feedtool.validation import validate_feed
from feedtool.validation.live import compare_feeds
from feedtool.validation.readiness import PLACEHOLDER_ARTWORK_MARKER, is_placeholder_artwork, placeholder_host

LONG_TITLE = "A title that goes on " * 14  # about 300 characters: Apple shows 255


def invoke(*args: str | Path) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args])


def line_of(path: Path, prefix: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(prefix))


def real_address(podcast: PodcastFactory) -> None:
    """Give the test show a real-looking address and e-mail instead of conftest's example.com ones."""
    podcast.set_show(base_url="https://cdn.testshow.fm/show/",
                     owner="{name: Test Owner, email: owner@testshow.fm}")


# --- the source map -------------------------------------------------------------------------------
@pytest.fixture
def built(podcast: PodcastFactory, monkeypatch: pytest.MonkeyPatch) -> PodcastFactory:
    """The two-episode test show plus a third with a 300-character title and a heading in its notes."""
    podcast.add("third-time", title=LONG_TITLE.strip(), number=3,
                notes="Intro.\n\n## Links\n\n[00:00] Start\n[00:02] Middle\n")
    build_podcast(podcast.episodes, podcast.public)
    monkeypatch.chdir(podcast.root)
    return podcast


def test_build_writes_a_source_map_for_its_feed(built: PodcastFactory) -> None:
    data = json.loads((built.public / ".feedtool" / "sources.json").read_text())
    assert data["version"] == 1 and data["feed"] == "feed.xml" and data["root"] == ".."
    import hashlib

    assert data["feed_sha256"] == hashlib.sha256((built.public / "feed.xml").read_bytes()).hexdigest()
    assert data["channel"]["path"] == "episodes/podcast.yaml"
    assert data["channel"]["lines"]["base_url"] == line_of(built.show_file, "base_url:")
    (third,) = [item for item in data["items"].values() if item["folder"] == "third-time"]
    episode_md = built.episodes / "third-time" / "episode.md"
    assert third["number"] == 3 and third["path"] == "episodes/third-time/episode.md"
    assert third["lines"]["title"] == line_of(episode_md, "title:")
    assert third["lines"]["audio"] == line_of(episode_md, "audio:")
    assert third["lines"]["notes"] == line_of(episode_md, "Intro.")
    from feedtool.publish import scan_public

    assert not [key for key in scan_public(built.public) if ".feedtool" in key], "publish never uploads it"


def test_findings_name_the_episode_file_key_and_line(built: PodcastFactory) -> None:
    result = invoke("validate", "public/feed.xml", "--format", "json")
    findings = json.loads(result.stdout)["findings"]
    feed_lines = (built.public / "feed.xml").read_text().splitlines()
    episode_md = "episodes/third-time/episode.md"

    (title,) = [f for f in findings if f["rule"] == "apple.text.length" and f["subject"] == "title"]
    assert title["episode"] == "third-time (#3)"
    assert (title["source_path"], title["source_field"]) == (episode_md, "title")
    assert title["source_line"] == line_of(built.episodes / "third-time" / "episode.md", "title:")
    assert "<title>" in feed_lines[title["line"] - 1], "the feed's own line is kept"

    (notes,) = [f for f in findings if f["rule"] == "apple.html.unsupported" and f["subject"] == "content:encoded"]
    assert (notes["source_path"], notes["source_field"]) == (episode_md, "notes")
    assert notes["source_line"] == line_of(built.episodes / "third-time" / "episode.md", "Intro.")

    (address,) = [f for f in findings if f["rule"] == "ready.base-url"]
    assert (address["source_path"], address["source_field"]) == ("episodes/podcast.yaml", "base_url")
    assert address["source_line"] == line_of(built.show_file, "base_url:")


def test_text_output_groups_by_episode_folder_and_shows_the_feed_line_second(built: PodcastFactory) -> None:
    text = invoke("validate", "public/feed.xml").stdout
    assert "third-time (#3): A title that goes on" in text and "(episodes/third-time/episode.md)" in text
    assert "Episode 1:" not in text and "Episode 3:" not in text
    title_line = line_of(built.episodes / "third-time" / "episode.md", "title:")
    assert re.search(rf"warning line {title_line}\s+title: <title> is \d+ characters", text)
    assert re.search(r"^\s+feed\.xml line \d+$", text, flags=re.M)
    assert "Channel (episodes/podcast.yaml)" in text


def test_github_annotations_point_at_the_podcasters_files(built: PodcastFactory) -> None:
    lines = invoke("validate", "--format", "github").stdout.splitlines()
    title_line = line_of(built.episodes / "third-time" / "episode.md", "title:")
    (annotation,) = [a for a in lines if "title=apple.text.length" in a and "::third-time (#3)" in a
                     and "title: <title>" in a]
    assert annotation.startswith(f"::warning file=episodes/third-time/episode.md,line={title_line},")
    assert re.search(r"\(feed\.xml line \d+\)$", annotation)
    (address,) = [a for a in lines if "title=ready.base-url" in a]
    assert address.startswith(f"::warning file=episodes/podcast.yaml,line={line_of(built.show_file, 'base_url:')},")


def test_a_source_map_for_other_bytes_is_not_used(built: PodcastFactory) -> None:
    feed = built.public / "feed.xml"
    feed.write_bytes(feed.read_bytes() + b"<!-- edited by hand after the build -->\n")
    report = validate_feed(feed, check_media=False)
    assert not report.sources
    assert all(f.source_path is None and f.episode is None for f in report.findings)
    assert "Episode 1:" in report.to_text()


def test_paths_are_shown_from_where_validate_runs(built: PodcastFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(built.public)
    report = validate_feed("feed.xml", check_media=False)
    paths = {f.source_path for f in report.findings if f.source_path}
    assert "../episodes/third-time/episode.md" in paths and "../episodes/podcast.yaml" in paths


# --- readiness -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("host", "placeholder"), [
    ("example.com", True), ("podcast.example.com", True), ("cdn.example.org", True), ("EXAMPLE.NET.", True),
    ("show.example", True), ("x.invalid", True), ("my.test", True), ("app.localhost", True), ("localhost", True),
    ("127.0.0.1", True), ("127.12.0.9", True), ("[::1]", True),
    ("example.co", False), ("myexample.com", False), ("example.com.au", False), ("cdn.testshow.fm", False),
    ("10.0.0.7", False), ("test.com", False), ("podcast.feedtool-corpus.net", False),
])
def test_placeholder_hosts(host: str, placeholder: bool) -> None:
    assert placeholder_host(host) is placeholder


def image_bytes(kind: str, *, marked: bool) -> bytes:
    image = Image.new("RGB", (1400, 1400), (32, 64, 96))
    out = io.BytesIO()
    if kind == "jpeg":
        image.save(out, "JPEG", quality=70, **({"comment": PLACEHOLDER_ARTWORK_MARKER} if marked else {}))
    else:
        info = PngInfo()
        if marked:
            info.add_text("Comment", PLACEHOLDER_ARTWORK_MARKER.decode())
        image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


@pytest.mark.parametrize("kind", ["jpeg", "png"])
def test_the_placeholder_artwork_is_known_by_its_marker(kind: str) -> None:
    assert is_placeholder_artwork(image_bytes(kind, marked=True))
    plain = image_bytes(kind, marked=False)
    assert not is_placeholder_artwork(plain)
    assert not is_placeholder_artwork(plain + PLACEHOLDER_ARTWORK_MARKER), "only metadata counts, not any bytes"


def test_build_and_validate_warn_about_placeholders(podcast: PodcastFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    (podcast.episodes / "artwork.jpg").write_bytes(image_bytes("jpeg", marked=True))
    monkeypatch.chdir(podcast.root)
    build = invoke("build")
    assert build.exit_code == 0, build.output
    for rule in ("ready.base-url", "ready.owner-email", "ready.artwork"):
        assert re.search(rf"Warning: not ready to publish: .*\[{re.escape(rule)}\]\n  -> \S", build.stderr), rule
    plain = invoke("validate", "--format", "json")
    assert plain.exit_code == 0
    found = {f["rule"]: f for f in json.loads(plain.stdout)["findings"] if f["rule"].startswith("ready.")}
    assert set(found) == {"ready.base-url", "ready.owner-email", "ready.artwork"}
    assert all(f["severity"] == "warning" and f["fix"] for f in found.values())
    assert found["ready.artwork"]["source_line"] == line_of(podcast.show_file, "artwork:")
    assert found["ready.owner-email"]["source_line"] == line_of(podcast.show_file, "owner:")
    assert invoke("validate", "--strict").exit_code == 1


def test_a_show_without_episodes_is_not_ready(tmp_path: Path, tone, artwork_jpg: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    show = PodcastFactory(tmp_path, tone, artwork_jpg)
    real_address(show)
    monkeypatch.chdir(tmp_path)
    build = invoke("build")
    assert build.exit_code == 0 and "[ready.episodes]" in build.stderr and "feedtool new" in build.stderr
    result = invoke("validate", "--strict", "--format", "json")
    assert result.exit_code == 1
    assert [f["rule"] for f in json.loads(result.stdout)["findings"] if f["severity"] != "info"] == ["ready.episodes"]


def test_a_ready_show_has_no_readiness_findings(podcast: PodcastFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    real_address(podcast)
    monkeypatch.chdir(podcast.root)
    assert "not ready" not in invoke("build").stderr
    assert not [f for f in validate_feed("public/feed.xml").findings if f.rule.startswith("ready.")]


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="show-bucket")
        yield client


def test_publish_previews_placeholders_locally_and_refuses_them_remotely(
        podcast: PodcastFactory, monkeypatch: pytest.MonkeyPatch, s3) -> None:
    monkeypatch.chdir(podcast.root)
    local = invoke("publish", "--to", "site")
    assert local.exit_code == 0, local.output
    assert (podcast.root / "site" / "feed.xml").is_file()
    assert "Warning: not ready to publish: episodes/podcast.yaml:" in local.stderr
    assert "[ready" not in local.stdout and "ready.base-url" in local.stderr

    remote = invoke("publish", "--to", "s3://show-bucket/show")
    assert remote.exit_code == 1
    assert "nothing was published" in remote.stderr
    assert f"episodes/podcast.yaml:{line_of(podcast.show_file, 'base_url:')} (base_url): ready.base-url" in remote.stderr
    assert "-> Set base_url in podcast.yaml" in remote.stderr and "ready.owner-email" in remote.stderr
    assert "Contents" not in s3.list_objects_v2(Bucket="show-bucket")

    real_address(podcast)
    ready = invoke("publish", "--to", "s3://show-bucket/show")
    assert ready.exit_code == 0, ready.output
    assert s3.get_object(Bucket="show-bucket", Key="show/feed.xml")["Body"].read()


# --- the live feed -----------------------------------------------------------------------------------
def guid_of(feed: Path, title_part: str) -> str:
    text = feed.read_text()
    item = next(chunk for chunk in text.split("<item>")[1:] if title_part in chunk.split("</title>")[0])
    return re.search(r"<guid[^>]*>([^<]+)</guid>", item)[1]


def test_a_changed_guid_is_one_finding_whose_fix_names_the_episode_file(built: PodcastFactory) -> None:
    feed = built.public / "feed.xml"
    new_guid = guid_of(feed, "Second")
    live = built.root / "live.xml"
    live.write_text(feed.read_text().replace(new_guid, "7e57ab1e-0000-4000-8000-000000000002"))
    result = invoke("validate", "public/feed.xml", "--no-check-media", "--against", str(live), "--format", "json")
    assert result.exit_code == 1
    (finding,) = [f for f in json.loads(result.stdout)["findings"] if f["rule"].startswith("live.")]
    assert finding["rule"] == "live.guid.changed"
    assert finding["message"].startswith(
        "the guid of 'Second: ünïcödé 日本語 😀' changed from 7e57ab1e-0000-4000-8000-000000000002 to " + new_guid)
    assert finding["fix"].startswith(
        "Put `guid: 7e57ab1e-0000-4000-8000-000000000002` in episodes/second/episode.md")
    assert finding["episode"] == "second (#2)" and finding["source_path"] == "episodes/second/episode.md"
    assert "<" not in finding["message"] + finding["fix"], "no raw XML"


def test_a_changed_guid_is_matched_by_url_or_title_never_by_length_alone() -> None:
    def feed(*items: tuple[str, str, str, int]) -> bytes:
        body = "".join(f'<item><title>{t}</title><guid>{g}</guid><enclosure url="{u}" length="{n}" '
                       'type="audio/mpeg"/></item>' for t, g, u, n in items)
        return f'<rss version="2.0"><channel><title>S</title>{body}</channel></rss>'.encode()

    live = feed(("Pilot", "g-1", "https://cdn.testshow.fm/pilot/a.mp3", 1000),
                ("Second", "g-2", "https://cdn.testshow.fm/second/b.mp3", 2000))
    # same enclosure URL, new guid and title: the same episode
    (finding,) = compare_feeds(live, feed(("Pilot, remastered", "g-9", "https://cdn.testshow.fm/pilot/a.mp3", 1000),
                                          ("Second", "g-2", "https://cdn.testshow.fm/second/b.mp3", 2000)))
    assert finding.rule == "live.guid.changed" and "changed from g-1 to g-9" in finding.message
    # the folder was renamed and re-encoded: the title is left
    retitled = feed(("Pilot", "g-9", "https://cdn.testshow.fm/ep-1/a2.mp3", 1500),
                    ("Second", "g-2", "https://cdn.testshow.fm/second/b.mp3", 2000))
    (finding,) = compare_feeds(live, retitled)
    assert finding.rule == "live.guid.changed" and finding.item_guid == "g-9"
    # another episode that happens to have the same length is not the old one under a new guid
    other = feed(("Bonus", "g-9", "https://cdn.testshow.fm/bonus/a.mp3", 1000),
                 ("Second", "g-2", "https://cdn.testshow.fm/second/b.mp3", 2000))
    (finding,) = compare_feeds(live, other)
    assert finding.rule == "live.episode.removed" and "'Pilot' (guid g-1)" in finding.message
    # gone for good
    (finding,) = compare_feeds(live, feed(("Second", "g-2", "https://cdn.testshow.fm/second/b.mp3", 2000)))
    assert finding.rule == "live.episode.removed" and "'Pilot' (guid g-1)" in finding.message
    assert "--allow-removals" in finding.fix


def test_publish_refuses_a_changed_guid_with_the_findings_own_fix(built: PodcastFactory) -> None:
    site = built.root / "site"
    assert invoke("publish", "--to", str(site)).exit_code == 0
    feed = built.public / "feed.xml"
    new_guid = guid_of(feed, "Second")
    (site / "feed.xml").write_text((site / "feed.xml").read_text().replace(new_guid, "published-guid-of-second"))
    before = (site / "feed.xml").read_bytes()
    (built.public / "feed.xml").write_bytes(feed.read_bytes())  # untouched build: same map
    feed.touch()
    result = invoke("publish", "--to", str(site), "--no-build")
    assert result.exit_code == 1
    assert "the guid of 'Second: ünïcödé 日本語 😀' changed from published-guid-of-second" in result.stderr
    assert "-> Put `guid: published-guid-of-second` in episodes/second/episode.md" in result.stderr
    hint = result.stderr.split("\n  -> ")[-1]
    assert hint.startswith("do what each finding says") and "--allow-removals" in hint
    assert (site / "feed.xml").read_bytes() == before


# --- podcast:locked owner ------------------------------------------------------------------------------
def locked(feed: Path) -> re.Match[str]:
    match = re.search(r"<podcast:locked(?: owner=\"([^\"]*)\")?>(\w+)</podcast:locked>", feed.read_text())
    assert match is not None
    return match


def test_build_writes_the_locked_owner_whenever_an_owner_is_known(podcast: PodcastFactory) -> None:
    build_podcast(podcast.episodes, podcast.public)
    assert locked(podcast.public / "feed.xml").groups() == ("owner@example.com", "no")
    podcast.set_show(locked_owner="lock@testshow.fm")
    build_podcast(podcast.episodes, podcast.public)
    assert locked(podcast.public / "feed.xml").groups() == ("lock@testshow.fm", "no")
    assert "podcast.locked.owner" not in validate_feed(podcast.public / "feed.xml", check_media=False).rule_ids()


def test_without_an_owner_validate_says_the_lock_is_ignored(podcast: PodcastFactory,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    podcast.show_file.write_text("\n".join(line for line in podcast.show_file.read_text().splitlines()
                                           if not line.startswith("owner:")) + "\n")
    build_podcast(podcast.episodes, podcast.public)
    assert locked(podcast.public / "feed.xml").groups() == (None, "no")
    monkeypatch.chdir(podcast.root)
    report = validate_feed("public/feed.xml", check_media=False)
    (finding,) = [f for f in report.findings if f.rule == "podcast.locked.owner"]
    assert finding.severity == "warning" and "Podcast Index ignores it" in finding.message
    assert (finding.source_path, finding.source_field) == ("episodes/podcast.yaml", "locked_owner")
    assert "locked_owner in podcast.yaml" in finding.fix


def test_every_source_field_is_a_key_podcasters_write() -> None:
    """The registry's element -> key table and each rule's own key name real podcast.yaml/episode.md keys."""
    from feedtool import load_p20
    from feedtool.load import EPISODE_KEYS, SHOW_KEYS
    from feedtool.validation.registry import RULES, SOURCE_FIELDS

    show_keys = set(SHOW_KEYS) | set(load_p20.SHOW_KEYS)
    episode_keys = set(EPISODE_KEYS) | set(load_p20.EPISODE_KEYS) | {"notes"}
    assert {key for keys in SOURCE_FIELDS["channel"].values() for key in keys} <= show_keys
    assert {key for keys in SOURCE_FIELDS["item"].values() for key in keys} <= episode_keys
    assert {r.field for r in RULES.values() if r.field} <= show_keys | episode_keys

"""Media checks: a local build's files, and URLs over HTTP against a real local server (with and without Range)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from click.testing import CliRunner
from PIL import Image

from feedtool.cli import cli
from feedtool.validation import validate_feed
from feedtool.validation.rules_podcast import podcast_guid_for

SHOW = "https://podcast.feedtool-corpus.net/show/"
CHAPTERS = {"version": "1.2.0", "chapters": [{"startTime": 0, "title": "Intro"}, {"startTime": 2, "title": "Middle"}]}
VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n<v Host>Hello and welcome.\n"


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 5-second MP3 with ID3 chapters at 0 s and 2 s, and a 1400 px RGB cover."""
    from mutagen.id3 import CHAP, CTOC, ID3, TIT2, CTOCFlags

    folder = tmp_path_factory.mktemp("sources")
    mp3 = folder / "ep1.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=5", "-ac", "1",
                    "-c:a", "libmp3lame", "-b:a", "32k", str(mp3)], check=True)
    tags = ID3()
    tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=["c0", "c1"]))
    tags.add(CHAP(element_id="c0", start_time=0, end_time=2000, sub_frames=[TIT2(text=["Intro"])]))
    tags.add(CHAP(element_id="c1", start_time=2000, end_time=5000, sub_frames=[TIT2(text=["Middle"])]))
    tags.save(mp3)
    Image.new("RGB", (1400, 1400), (200, 80, 40)).save(folder / "cover.jpg", "JPEG")
    return folder


def make_public(root: Path, sources: Path, *, base: str = SHOW, duration: str = "5", length: int | None = None,
                chapters: object = CHAPTERS, vtt: str = VTT, cover: str = "cover.jpg",
                enclosure: str | None = None) -> Path:
    """public/ laid out as served: feed.xml, cover.jpg, ep1/{ep1.mp3, chapters.json, transcript.vtt}."""
    public = root / "public"
    (public / "ep1").mkdir(parents=True, exist_ok=True)
    shutil.copy(sources / "ep1.mp3", public / "ep1" / "ep1.mp3")
    shutil.copy(sources / "cover.jpg", public / "cover.jpg")
    (public / "ep1" / "chapters.json").write_text(chapters if isinstance(chapters, str) else json.dumps(chapters))
    (public / "ep1" / "transcript.vtt").write_text(vtt)
    size = (public / "ep1" / "ep1.mp3").stat().st_size
    feed = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:podcast="https://podcastindex.org/namespace/1.0">
  <channel>
    <title>Media Test</title>
    <link>{base}</link>
    <description>Testing media checks.</description>
    <atom:link href="{base}feed.xml" rel="self" type="application/rss+xml"/>
    <language>en</language>
    <itunes:author>Tester</itunes:author>
    <itunes:image href="{base}{cover}"/>
    <itunes:category text="Technology"/>
    <itunes:explicit>false</itunes:explicit>
    <podcast:guid>{podcast_guid_for(base + "feed.xml")}</podcast:guid>
    <item>
      <title>One</title>
      <description><![CDATA[<p>Notes.</p><p>[00:00] Intro</p><p>[00:02] Middle</p>]]></description>
      <guid isPermaLink="false">0b7f9a52-5d1e-4f0c-8a4b-3c2d1e0f0001</guid>
      <enclosure url="{enclosure or base + 'ep1/ep1.mp3'}" length="{length if length is not None else size}" type="audio/mpeg"/>
      <pubDate>Mon, 29 Jan 2024 10:00:00 GMT</pubDate>
      <itunes:duration>{duration}</itunes:duration>
      <podcast:chapters url="{base}ep1/chapters.json" type="application/json+chapters"/>
      <podcast:transcript url="{base}ep1/transcript.vtt" type="text/vtt"/>
    </item>
  </channel>
</rss>
"""
    (public / "feed.xml").write_text(feed)
    return public / "feed.xml"


def media_rules(report) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted({f.rule for f in report.findings if f.severity != "info"})


# --- a local build -----------------------------------------------------------------------------
def test_a_good_build_passes_every_media_check(tmp_path: Path, sources: Path) -> None:
    report = validate_feed(make_public(tmp_path, sources))
    assert report.checked_media
    assert media_rules(report) == [], report.to_text()
    assert "media.not-checked" not in report.rule_ids()


def test_missing_files_are_reported(tmp_path: Path, sources: Path) -> None:
    feed = make_public(tmp_path, sources)
    for name in ("ep1/ep1.mp3", "ep1/chapters.json", "cover.jpg", "ep1/transcript.vtt"):
        (feed.parent / name).unlink()
    report = validate_feed(feed)
    missing = [f for f in report.findings if f.rule == "media.missing"]
    assert len(missing) == 4
    assert any("ep1/ep1.mp3" in f.message for f in missing)


def test_no_check_media_reads_no_files(tmp_path: Path, sources: Path) -> None:
    feed = make_public(tmp_path, sources)
    (feed.parent / "ep1" / "ep1.mp3").unlink()
    assert not [f for f in validate_feed(feed, check_media=False).findings if f.rule != "directory.owner-email"]


def test_enclosure_length_must_be_the_file_size(tmp_path: Path, sources: Path) -> None:
    feed = make_public(tmp_path, sources, length=12345)
    size = (feed.parent / "ep1" / "ep1.mp3").stat().st_size
    report = validate_feed(feed)
    (finding,) = [f for f in report.findings if f.rule == "media.length"]
    assert f"{size:,}" in finding.message and finding.fix == f'Set length="{size}" (or rebuild).'


def test_content_must_be_what_the_type_says(tmp_path: Path, sources: Path) -> None:
    feed = make_public(tmp_path, sources)
    audio = feed.parent / "ep1" / "ep1.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=duration=5", "-c:a", "aac",
                    "-f", "mp4", str(audio)], check=True)
    feed.write_text(re.sub(r'length="\d+"', f'length="{audio.stat().st_size}"', feed.read_text()))
    report = validate_feed(feed)
    assert "media.content" in media_rules(report)


def test_duration_must_match_the_audio(tmp_path: Path, sources: Path) -> None:
    report = validate_feed(make_public(tmp_path, sources, duration="600"))
    assert media_rules(report) == ["media.duration"]


def _image(path: Path, kind: str) -> None:
    if kind == "small":
        Image.new("RGB", (600, 600)).save(path, "JPEG")
    elif kind == "wide":
        Image.new("RGB", (2000, 1400)).save(path, "JPEG")
    elif kind == "cmyk":
        Image.new("CMYK", (1400, 1400)).save(path, "JPEG")
    elif kind == "png-named-jpg":
        Image.new("RGB", (1400, 1400)).save(path, "PNG")
    elif kind == "alpha":
        Image.new("RGBA", (1400, 1400)).save(path, "PNG")
    elif kind == "garbage":
        path.write_bytes(b"this is not an image")


@pytest.mark.parametrize(("kind", "name", "rule"), [
    ("small", "cover.jpg", "apple.artwork.size"),
    ("wide", "cover.jpg", "apple.artwork.size"),
    ("cmyk", "cover.jpg", "apple.artwork.format"),
    ("png-named-jpg", "cover.jpg", "apple.artwork.format"),
    ("alpha", "cover.png", "apple.artwork.alpha"),
    ("garbage", "cover.jpg", "apple.artwork.unreadable"),
])
def test_artwork_is_read_and_held_to_apples_rules(tmp_path: Path, sources: Path, kind: str, name: str,
                                                  rule: str) -> None:
    feed = make_public(tmp_path, sources, cover=name)
    _image(feed.parent / name, kind)
    assert media_rules(validate_feed(feed)) == [rule]


@pytest.mark.parametrize(("chapters", "rule"), [
    ("{not json", "chapters.unreadable"),
    ({"chapters": CHAPTERS["chapters"]}, "chapters.version"),
    ({"version": "1.2.0", "chapters": []}, "chapters.list"),
    ({"version": "1.2.0", "chapters": [{"startTime": -1, "title": "A"}, {"startTime": 2, "title": "B"}]},
     "chapters.start"),
    ({"version": "1.2.0", "chapters": [{"startTime": 2, "title": "B"}, {"startTime": 0, "title": "A"}]},
     "chapters.order"),
    ({"version": "1.2.0", "chapters": [{"startTime": 0, "title": "A"}, {"startTime": 2, "endTime": 1, "title": "B"}]},
     "chapters.end"),
    ({"version": "1.2.0", "chapters": [{"startTime": 0, "title": "A"}, {"startTime": 2, "title": "B"},
                                       {"startTime": 9, "title": "After the end"}]}, "chapters.duration"),
    ({"version": "1.2.0", "chapters": [{"startTime": 0, "title": "A"}, {"startTime": 2}]}, "chapters.title"),
    ({"version": "1.2.0", "chapters": [{"startTime": 0, "title": "A", "img": "http://x.example/a.jpg"},
                                       {"startTime": 2, "title": "B", "toc": "no"}]}, "chapters.field"),
    ({"version": "1.2.0", "chapters": [{"startTime": 0, "title": "A"}, {"startTime": 4, "title": "B"}]},
     "chapters.disagree"),
])
def test_chapters_files_are_read_and_checked(tmp_path: Path, sources: Path, chapters: object, rule: str) -> None:
    report = validate_feed(make_public(tmp_path, sources, chapters=chapters))
    assert rule in media_rules(report), report.to_text()
    assert all(r.startswith("chapters.") for r in media_rules(report))


def test_chapters_disagreeing_with_the_audio_tags_are_reported(tmp_path: Path, sources: Path) -> None:
    feed = make_public(tmp_path, sources)
    text = feed.read_text().replace("<p>[00:00] Intro</p><p>[00:02] Middle</p>", "")
    feed.write_text(text)
    assert media_rules(validate_feed(feed)) == []  # JSON and ID3 CHAP agree
    (feed.parent / "ep1" / "chapters.json").write_text(json.dumps(
        {"version": "1.2.0", "chapters": [{"startTime": 0, "title": "A"}, {"startTime": 1, "title": "B"},
                                          {"startTime": 3, "title": "C"}]}))
    (finding,) = [f for f in validate_feed(feed).findings if f.rule == "chapters.disagree"]
    assert "audio's chapter tags" in finding.message and "3 chapters against 2" in finding.message


def test_transcript_content_must_match_its_type(tmp_path: Path, sources: Path) -> None:
    report = validate_feed(make_public(tmp_path, sources, vtt="1\n00:00:00,000 --> 00:00:02,000\nHello\n"))
    assert media_rules(report) == ["transcript.content"]


SRT = "1\n00:00:00,000 --> 00:00:02,000\nHello and welcome.\n"


@pytest.mark.parametrize("mime", ["application/srt", "text/srt", "application/x-subrip"])
def test_a_subrip_transcript_is_checked_as_subrip_whichever_alias_names_it(tmp_path: Path, sources: Path,
                                                                           mime: str) -> None:
    feed = make_public(tmp_path, sources, vtt=SRT)
    feed.write_text(feed.read_text().replace('type="text/vtt"', f'type="{mime}"'))
    assert media_rules(validate_feed(feed)) == []
    (feed.parent / "ep1" / "transcript.vtt").write_text(VTT)
    (finding,) = [f for f in validate_feed(feed).findings if f.severity != "info"]
    assert finding.rule == "transcript.content" and "SubRip" in finding.message


def test_urls_outside_the_base_are_not_read(tmp_path: Path, sources: Path) -> None:
    secret = tmp_path / "secret.mp3"
    secret.write_bytes(b"x")
    feed = make_public(tmp_path, sources, enclosure=SHOW + "../secret.mp3")
    report = validate_feed(feed)
    assert "media.not-checked" in report.rule_ids()
    assert not [f for f in report.findings if f.rule.startswith("media.") and f.severity != "info"]


def test_base_url_option_maps_urls_when_the_self_link_is_elsewhere(tmp_path: Path, sources: Path) -> None:
    feed = make_public(tmp_path, sources, base="https://cdn.example.net/a/")
    feed.write_text(feed.read_text().replace('href="https://cdn.example.net/a/feed.xml"',
                                             'href="https://feeds.example.net/show.xml"'))
    assert "media.not-checked" in validate_feed(feed).rule_ids()
    report = validate_feed(feed, base_url="https://cdn.example.net/a/")
    assert "media.not-checked" not in report.rule_ids() and report.checked_media
    (feed.parent / "ep1" / "ep1.mp3").unlink()
    result = CliRunner().invoke(cli, ["validate", str(feed), "--base-url", "https://cdn.example.net/a/"])
    assert result.exit_code == 1 and "media.missing" in result.stdout


# --- over HTTP ---------------------------------------------------------------------------------
class Handler(BaseHTTPRequestHandler):
    """Serves ``root``; /hop/N/<path> redirects N times; behaviour switches are class attributes."""

    root: Path
    ranges = True
    bad_ranges = False
    head_allowed = True
    cors_and_etag = False
    types: dict[str, str] = {}

    def log_message(self, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, *, head: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        hop = re.match(r"^/hop/(\d+)(/.*)$", path)
        if hop:
            left = int(hop[1]) - 1
            self.send_response(302)
            self.send_header("Location", hop[2] if left == 0 else f"/hop/{left}{hop[2]}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        file = self.root / path.lstrip("/")
        if not file.is_file():
            self.send_error(404)
            return
        if head and not self.head_allowed:
            self.send_error(405)
            return
        data = file.read_bytes()
        ctype = self.types.get(file.suffix, {".mp3": "audio/mpeg", ".jpg": "image/jpeg", ".xml": "application/rss+xml",
                                             ".json": "application/json+chapters", ".vtt": "text/vtt"}
                               .get(file.suffix, "application/octet-stream"))
        wanted = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range", ""))
        if wanted and self.ranges:
            first, last = int(wanted[1]), min(int(wanted[2]), len(data) - 1)
            body = data[:last - first + 1] if self.bad_ranges else data[first:last + 1]
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {first}-{last}/{len(data)}")
        else:
            body = data
            self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if self.cors_and_etag:
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("ETag", f'"{len(data)}"')
        self.end_headers()
        if not head:
            self.wfile.write(body)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that stops reading after the bytes it asked for is normal here


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, type[Handler]]]:
    handler = type("TestHandler", (Handler,), {"root": tmp_path / "www", "types": {}})
    httpd = QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def served(tmp_path: Path, sources: Path, url: str, **kwargs: object) -> str:
    """Lay out public/ under www/show/ and return the feed URL."""
    make_public(tmp_path, sources, base=f"{url}/show/", **kwargs)  # type: ignore[arg-type]
    (tmp_path / "www").mkdir(exist_ok=True)
    (tmp_path / "public").rename(tmp_path / "www" / "show")
    return f"{url}/show/feed.xml"


def http_rules(report) -> list[str]:  # type: ignore[no-untyped-def]
    """Media errors and warnings only: the test server is plain http, which podcast.https rightly reports."""
    return sorted({f.rule for f in report.findings if f.severity != "info"
                   and f.rule.startswith(("media.", "apple.artwork", "chapters.", "transcript."))})


def test_a_url_with_a_server_that_supports_range_passes(tmp_path: Path, sources: Path, server) -> None:
    url, _ = server
    report = validate_feed(served(tmp_path, sources, url), check_media=True)
    assert http_rules(report) == [], report.to_text()
    assert report.checked_media and "rss.atom-self.mismatch" not in report.rule_ids()


def test_missing_cors_and_validators_are_noted(tmp_path: Path, sources: Path, server) -> None:
    url, handler = server
    feed = served(tmp_path, sources, url)
    report = validate_feed(feed, check_media=True)
    (cors,) = [f for f in report.findings if f.rule == "media.http.cors"]
    assert cors.message.startswith("2 chapters or transcript file(s)") and cors.severity == "info"
    assert "media.http.caching" in report.rule_ids()
    handler.cors_and_etag = True
    assert not {"media.http.cors", "media.http.caching"} & validate_feed(feed, check_media=True).rule_ids()


def test_a_url_is_not_media_checked_unless_asked(tmp_path: Path, sources: Path, server) -> None:
    url, handler = server
    feed = served(tmp_path, sources, url)
    handler.ranges = False
    assert not validate_feed(feed).checked_media


def test_a_server_without_range_support_is_an_error(tmp_path: Path, sources: Path, server) -> None:
    url, handler = server
    handler.ranges = False
    result = CliRunner().invoke(cli, ["validate", served(tmp_path, sources, url), "--check-media", "--format", "json"])
    assert result.exit_code == 1
    rules = {f["rule"] for f in json.loads(result.stdout)["findings"]}
    assert "media.http.range" in rules


def test_a_range_answer_with_the_wrong_bytes_is_an_error(tmp_path: Path, sources: Path, server) -> None:
    url, handler = server
    handler.bad_ranges = True
    report = validate_feed(served(tmp_path, sources, url), check_media=True)
    (finding,) = [f for f in report.findings if f.rule == "media.http.range"]
    assert "wrong bytes" in finding.message


def test_content_type_length_redirects_and_missing_files_over_http(tmp_path: Path, sources: Path, server) -> None:
    url, handler = server
    handler.types = {".mp3": "application/octet-stream"}
    feed = served(tmp_path, sources, url, length=999, enclosure=None)
    www = tmp_path / "www" / "show"
    (www / "ep1" / "transcript.vtt").unlink()
    text = (www / "feed.xml").read_text().replace(f'"{url}/show/ep1/ep1.mp3"', f'"{url}/hop/3/show/ep1/ep1.mp3"')
    (www / "feed.xml").write_text(text)
    report = validate_feed(feed, check_media=True)
    assert http_rules(report) == ["media.http.content-type", "media.http.redirects", "media.length", "media.missing"]


def test_head_must_be_answered(tmp_path: Path, sources: Path, server) -> None:
    url, handler = server
    handler.head_allowed = False
    report = validate_feed(served(tmp_path, sources, url), check_media=True)
    assert "media.http.status" in http_rules(report)


def test_artwork_over_http_is_read_too(tmp_path: Path, sources: Path, server) -> None:
    url, _ = server
    feed = served(tmp_path, sources, url)
    Image.new("RGB", (800, 800)).save(tmp_path / "www" / "show" / "cover.jpg", "JPEG")
    assert http_rules(validate_feed(feed, check_media=True)) == ["apple.artwork.size"]


def test_a_local_build_checks_other_hosts_only_with_check_media(tmp_path: Path, sources: Path, server) -> None:
    url, handler = server
    (tmp_path / "www").mkdir()
    shutil.copy(sources / "ep1.mp3", tmp_path / "www" / "ep1.mp3")
    handler.ranges = False
    feed = make_public(tmp_path, sources, enclosure=f"{url}/ep1.mp3")
    assert "media.not-checked" in validate_feed(feed).rule_ids()
    report = validate_feed(feed, check_media=True)
    assert "media.http.range" in report.rule_ids() and "media.not-checked" not in report.rule_ids()


def test_self_link_that_differs_from_the_url_read_is_a_warning(tmp_path: Path, sources: Path, server) -> None:
    url, _ = server
    feed = served(tmp_path, sources, url)
    report = validate_feed(feed.replace("127.0.0.1", "localhost"))
    assert "rss.atom-self.mismatch" in report.rule_ids()


def test_a_huge_feed_over_http_is_cut_off(tmp_path: Path, sources: Path, server) -> None:
    url, _ = server
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "big.xml").write_bytes(b"<rss>" + b" " * (3 * 1024 * 1024) + b"</rss>")
    result = CliRunner().invoke(cli, ["validate", f"{url}/big.xml", "--max-size", "1"])
    assert result.exit_code == 2 and "limit" in result.stderr


def test_a_local_feed_without_self_link_says_its_media_was_not_checked(tmp_path: Path, sources: Path) -> None:
    feed = make_public(tmp_path, sources)
    feed.write_text(re.sub(r"<atom:link[^>]*/>", "", feed.read_text()))
    (feed.parent / "ep1" / "ep1.mp3").unlink()
    report = validate_feed(feed)
    (note,) = [f for f in report.findings if f.rule == "media.not-checked"]
    assert "--base-url" in note.fix and not report.checked_media
    result = CliRunner().invoke(cli, ["validate", str(feed.parent), "--base-url", SHOW])  # a folder works too
    assert result.exit_code == 1 and "media.missing" in result.stdout


def test_a_silent_chapter_needs_no_title(tmp_path: Path, sources: Path) -> None:
    chapters = {"version": "1.2.0", "chapters": [
        {"startTime": 0, "title": "Intro"}, {"startTime": 1, "toc": False, "img": "https://example.com/a.jpg",
                                             "location": {"name": "Paris", "geo": "geo:48.85,2.29"}},
        {"startTime": 2, "title": "Middle"}]}
    feed = make_public(tmp_path, sources, chapters=chapters)
    assert media_rules(validate_feed(feed)) == []  # the silent chapter is in neither the notes nor the tags


def test_a_feed_served_as_html_is_an_error(tmp_path: Path, sources: Path, server) -> None:
    url, handler = server
    feed = served(tmp_path, sources, url)
    assert "media.http.content-type" not in validate_feed(feed).rule_ids()
    handler.types = {".xml": "text/html; charset=utf-8"}
    (finding,) = [f for f in validate_feed(feed).findings if f.rule == "media.http.content-type"]
    assert "text/html" in finding.message and finding.scope == "feed"


def test_an_enclosure_the_build_left_on_the_target_is_reported_where_it_is(podcast, tmp_path: Path) -> None:
    """A clone without the audio builds a feed whose copies are on the target, not in public/:
    "media.elsewhere" (a note) names them; a file that is simply gone is still "media.missing"."""
    from feedtool.build import build_podcast

    build_podcast(podcast.episodes, podcast.public)
    clone = tmp_path / "clone"
    shutil.copytree(podcast.episodes, clone / "episodes", ignore=shutil.ignore_patterns("*.mp3"))
    build_podcast(clone / "episodes", clone / "public")
    report = validate_feed(clone / "public" / "feed.xml")
    assert [f.rule for f in report.findings if f.rule.startswith("media.")] == ["media.elsewhere"] * 2
    assert report.errors == 0
    (clone / "public/.feedtool/remote-media.json").unlink()  # not a feedtool build's promise any more
    report = validate_feed(clone / "public" / "feed.xml")
    assert [f.rule for f in report.findings if f.rule.startswith("media.")] == ["media.missing"] * 2

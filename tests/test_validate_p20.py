"""validate on any feed: the value block, podroll, publisher, block, socialInteract, image, txt purposes,
psc:chapters (and their agreement with the other chapter sources), Spotify's tags, the owner e-mail,
the WebSub hub, analytics prefixes (followed to the file behind them) and the feed's size."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from test_validate_media import http_rules, make_public, served, server, sources  # noqa: F401 - fixtures used below

from feedtool.validation import validate_feed, validate_feed_bytes

FEEDS = Path(__file__).parent / "feeds"
NODE = "02d5c1bf8b940dc9cadca86d1b0a3c37fbe39cee4c7e839e33bef9174531d27f52"
OWNER = "<itunes:owner><itunes:name>Ex</itunes:name><itunes:email>ex@feedtool-corpus.net</itunes:email></itunes:owner>"


def feed(channel: str = "", item: str = "", *, owner: bool = True) -> bytes:
    text = (FEEDS / "good-base.xml").read_text()
    text = text.replace('version="2.0">', 'xmlns:psc="http://podlove.org/simple-chapters" '
                        'xmlns:spotify="http://www.spotify.com/ns/rss" version="2.0">', 1)
    text = text.replace("<!--CHANNEL-->", (OWNER if owner else "") + channel).replace("<!--ITEM2-->", item)
    return text.encode()


def rules(data: bytes) -> set[str]:
    return validate_feed_bytes(data, check_media=False).rule_ids()


def recipient(address: str = NODE, split: str = "100", kind: str = "node", fee: str = "") -> str:
    fee_attr = f' fee="{fee}"' if fee else ""
    return f'<podcast:valueRecipient name="R" type="{kind}" address="{address}" split="{split}"{fee_attr}/>'


def value(*recipients: str, inside: str = "") -> str:
    return f'<podcast:value type="lightning" method="keysend">{"".join(recipients)}{inside}</podcast:value>'


def test_the_base_feed_with_an_owner_is_clean() -> None:
    assert rules(feed()) == set()
    assert rules(feed(owner=False)) == {"directory.owner-email"}


@pytest.mark.parametrize("name", ["good-publisher-medium.xml", "good-musicl-list.xml"])
def test_a_publisher_or_list_feed_is_not_asked_for_an_owner_email(name: str) -> None:
    """No directory ingests a list of feeds as a show: YouTube's owner e-mail is a show's matter."""
    data = (FEEDS / name).read_bytes()
    assert b"itunes:email" not in data
    assert "directory.owner-email" not in rules(data)
    show = data.replace(b"<podcast:medium>", b"<podcast:oldmedium>").replace(b"</podcast:medium>",
                                                                          b"</podcast:oldmedium>")
    assert "directory.owner-email" in rules(show)  # the same channel as a show is asked


@pytest.mark.parametrize("channel, item, rule", [
    (value(recipient(split="60"), recipient("bob@getalby.com", "30", "lnaddress")), "", "podcast.value.split"),
    (value(recipient(split="95"), recipient(NODE, "100", fee="true")), "", "podcast.value.split"),
    (value(recipient("bob@getalby", "100", "lnaddress")), "", "podcast.value.recipient"),
    (value(recipient("02abc", "100")), "", "podcast.value.recipient"),
    (value(recipient(split="-5")), "", "podcast.value"),
    ("", value(recipient(), inside='<podcast:valueTimeSplit startTime="x" duration="30">'
                                   + recipient() + "</podcast:valueTimeSplit>"), "podcast.value.time-split"),
    ("", value(recipient(), inside='<podcast:valueTimeSplit startTime="1" duration="30"/>'),
     "podcast.value.time-split"),
    ("", value(recipient(), inside='<podcast:valueTimeSplit startTime="1" duration="3">'
                                   + recipient(split="40") + recipient("g@fountain.fm", "40", "lnaddress")
                                   + "</podcast:valueTimeSplit>"), "podcast.value.split"),
    ("", value(recipient(), inside='<podcast:valueTimeSplit startTime="1" duration="3">'
                                   '<podcast:remoteItem itemGuid="x"/></podcast:valueTimeSplit>'),
     "podcast.attribute.missing"),
    ('<podcast:podroll><podcast:remoteItem feedGuid="722b0c53-bcfe-5222-b627-2bb452462dc9"/></podcast:podroll>', "",
     "podcast.podroll.self"),
    ('<podcast:podroll><podcast:remoteItem feedGuid="917393e3-1b1e-5cef-ace4-edaa54e1f810" '
     'feedUrl="https://podcast.feedtool-corpus.net/show/feed.xml"/></podcast:podroll>', "", "podcast.podroll.self"),
    ('<podcast:podroll><podcast:remoteItem feedUrl="https://a.example/f.xml"/></podcast:podroll>', "",
     "podcast.attribute.missing"),
    ('<podcast:publisher><podcast:remoteItem feedGuid="003af0a0-6a45-55cf-b765-68e3d349551a"/></podcast:publisher>',
     "", "podcast.publisher"),
    ('<podcast:block id="applepodcasts">yes</podcast:block>', "", "podcast.block.id"),
    ('<podcast:socialInteract protocol="activitypub" uri="http://m.example/@a/1"/>', "", "podcast.social-interact"),
    ("", '<podcast:socialInteract protocol="atproto" uri="https://bsky.app/x"/>', ""),
    ('<podcast:image href="https://a.example/i.jpg" width="wide"/>', "", "podcast.image"),
    ('<podcast:image href="https://a.example/i.jpg" aspect-ratio="wide"/>', "", "podcast.image"),
    ("", '<podcast:txt purpose="verify">abc</podcast:txt>', "podcast.txt.purpose"),
    ('<podcast:txt purpose="ai-content">sometimes</podcast:txt>', "", "podcast.txt.purpose"),
    ('<podcast:txt purpose="applepodcastsverify">two words</podcast:txt>', "", "podcast.txt.purpose"),
    ('<podcast:podping usesPodping="yes"/>', "", "podcast.value"),
    ("", '<psc:chapters version="1.2"><psc:chapter start="1 min" title="A"/></psc:chapters>', "chapters.psc"),
    ("", '<psc:chapters version="1.2"><psc:chapter start="00:00:05" title="B"/>'
         '<psc:chapter start="00:00:01" title="A"/></psc:chapters>', "chapters.psc"),
    ("", '<psc:chapters version="1.2"><psc:chapter start="00:00:00.000"/></psc:chapters>', "chapters.psc"),
    ("", '<psc:chapters version="1.2"><psc:chapter start="0" title="A" href="/relative"/></psc:chapters>',
     "chapters.psc"),
    ('<spotify:limit recentCount="ten"/>', "", "directory.spotify"),
    ("<spotify:countryOfOrigin>USA</spotify:countryOfOrigin>", "", "directory.spotify"),
    ('<atom:link rel="hub" href="ftp://hub.example.com/"/>', "", "directory.websub-hub"),
])
def test_each_rule_fires_on_what_it_checks(channel: str, item: str, rule: str) -> None:
    found = rules(feed(channel, item))
    if rule:
        assert rule in found, found
        assert found <= {rule, "podcast.attribute.missing"}, found
    else:
        assert found == set(), found


def test_good_tags_raise_nothing() -> None:
    channel = (value(recipient(split="90"), recipient("bob@getalby.com", "10", "lnaddress"),
                     recipient(NODE, "1", fee="true"))
               + '<podcast:podroll><podcast:remoteItem feedGuid="917393e3-1b1e-5cef-ace4-edaa54e1f810"/>'
               '</podcast:podroll><podcast:publisher><podcast:remoteItem medium="publisher" '
               'feedGuid="003af0a0-6a45-55cf-b765-68e3d349551a" feedUrl="https://p.example/f.xml"/></podcast:publisher>'
               '<podcast:block>yes</podcast:block><podcast:block id="apple">no</podcast:block>'
               '<podcast:socialInteract protocol="disabled"/>'
               '<podcast:image href="https://a.example/i.jpg" width="3000" height="3000" aspect-ratio="1/1"/>'
               '<podcast:txt purpose="verify">S6lpp-7ZCn8</podcast:txt><podcast:podping usesPodping="true"/>'
               '<spotify:limit recentCount="10"/><spotify:countryOfOrigin>us gb</spotify:countryOfOrigin>'
               '<atom:link rel="hub" href="https://pubsubhubbub.appspot.com/"/>')
    item = (value(recipient(), inside='<podcast:valueTimeSplit startTime="60" duration="237" remotePercentage="95">'
                                      '<podcast:remoteItem feedGuid="a94f5cc9-8c58-55fc-91fe-a324087a655b" '
                                      'itemGuid="x"/></podcast:valueTimeSplit>')
            + '<podcast:contentLink href="https://youtube.com/watch?v=1">YouTube</podcast:contentLink>'
            '<psc:chapters version="1.2"><psc:chapter start="00:00:00.000" title="A"/>'
            '<psc:chapter start="01:02.5" title="B" href="https://a.example/b"/></psc:chapters>')
    assert rules(feed(channel, item)) == set()


def test_an_analytics_prefix_over_http_is_a_warning() -> None:
    data = feed().replace(b'url="https://podcast.feedtool-corpus.net/show/episode-2/episode-2.mp3"',
                          b'url="http://op3.dev/e/podcast.feedtool-corpus.net/show/episode-2/episode-2.mp3"')
    assert "directory.prefix" in rules(data)


def test_the_feed_size_is_reported_with_the_thresholds_that_matter() -> None:
    def padded(size: int) -> bytes:
        base = feed()
        return base.replace(b"<!--ITEM1-->", b"<!--" + b"x" * (size - len(base)) + b"-->")

    assert "directory.feed-size" not in rules(padded(900_000))
    report = validate_feed_bytes(padded(1_500_000), check_media=False)
    (note,) = [f for f in report.findings if f.rule == "directory.feed-size"]
    assert note.severity == "info" and "1.5 MB" in note.message and "max_items" in note.message
    report = validate_feed_bytes(padded(3_000_000), check_media=False)
    (warning,) = [f for f in report.findings if f.rule == "directory.feed-size.large"]
    assert warning.severity == "warning" and "2 MiB" in warning.message and "Pocket Casts" in warning.message


def test_a_feed_linking_archive_pages_that_are_not_there_is_an_error(tmp_path: Path) -> None:
    data = feed('<atom:link rel="prev-archive" href="https://podcast.feedtool-corpus.net/show/archive/feed-1.xml"/>')
    (tmp_path / "feed.xml").write_bytes(data)
    report = validate_feed(tmp_path / "feed.xml", check_media=False)
    assert [f.message for f in report.findings if f.rule == "directory.archive"] == [
        "the archive page https://podcast.feedtool-corpus.net/show/archive/feed-1.xml is missing"]
    page = feed().replace(b'<atom:link href="https://podcast.feedtool-corpus.net/show/feed.xml" rel="self"',
                          b'<atom:link href="https://podcast.feedtool-corpus.net/show/archive/feed-1.xml" rel="self"')
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive/feed-1.xml").write_bytes(page)
    messages = [f.message for f in validate_feed(tmp_path / "feed.xml", check_media=False).findings
                if f.rule == "directory.archive"]
    assert any("no <fh:archive/>" in m for m in messages) and any("rel=\"current\"" in m for m in messages)
    assert any("is in" in m and "and again in" in m for m in messages)  # the same guids twice


def test_an_archive_link_cannot_read_outside_the_feed_folder(tmp_path: Path) -> None:
    (tmp_path / "secret.xml").write_bytes(feed())
    (tmp_path / "show").mkdir()
    data = feed('<atom:link rel="prev-archive" href="https://podcast.feedtool-corpus.net/show/../secret.xml"/>')
    (tmp_path / "show/feed.xml").write_bytes(data.replace(b"show/feed.xml", b"show/feed.xml"))
    report = validate_feed(tmp_path / "show/feed.xml", check_media=False)
    (finding,) = [f for f in report.findings if f.rule == "directory.archive"]
    assert "outside" in finding.message or "not under" in finding.message


# --- chapters in four places ---------------------------------------------------------------------
def with_psc(feed_path: Path, starts: list[str]) -> None:
    chapters = "".join(f'<psc:chapter start="{s}" title="C{i}"/>' for i, s in enumerate(starts))
    text = feed_path.read_text().replace(
        'xmlns:podcast="https://podcastindex.org/namespace/1.0"',
        'xmlns:podcast="https://podcastindex.org/namespace/1.0" xmlns:psc="http://podlove.org/simple-chapters"')
    feed_path.write_text(text.replace("</item>", f'<psc:chapters version="1.2">{chapters}</psc:chapters></item>'))


def test_psc_chapters_must_agree_with_the_json_file_the_notes_and_the_audio(tmp_path: Path, sources: Path) -> None:  # noqa: F811
    path = make_public(tmp_path, sources)
    with_psc(path, ["00:00:00.000", "00:00:02.000"])
    assert [f for f in validate_feed(path).findings if f.rule == "chapters.disagree"] == []
    path = make_public(tmp_path, sources)
    with_psc(path, ["00:00:00.000", "00:00:04.000"])
    (finding,) = [f for f in validate_feed(path).findings if f.rule == "chapters.disagree"]
    assert finding.message.startswith("the JSON chapters file and the psc:chapters in the feed disagree")
    # without a JSON file, psc:chapters is the reference the notes and the audio are held to
    path = make_public(tmp_path, sources)
    text = path.read_text()
    path.write_text(text.replace('<podcast:chapters url="https://podcast.feedtool-corpus.net/show/ep1/chapters.json" '
                                 'type="application/json+chapters"/>', ""))
    with_psc(path, ["00:00:00.000", "00:00:01.000", "00:00:03.000"])
    messages = sorted(f.message for f in validate_feed(path).findings if f.rule == "chapters.disagree")
    assert [m.split(": ")[0] for m in messages] == [
        "the psc:chapters in the feed and the audio's chapter tags disagree",
        "the psc:chapters in the feed and the show notes' timestamps disagree"]


def test_notes_cut_short_are_compared_as_far_as_they_go(tmp_path: Path, sources: Path) -> None:  # noqa: F811
    path = make_public(tmp_path, sources)
    text = path.read_text().replace("<p>[00:02] Middle</p>", "<p>…</p>")
    path.write_text(text)
    assert [f for f in validate_feed(path).findings if f.rule == "chapters.disagree"] == []


# --- analytics prefixes, followed to the file behind them ------------------------------------------
@pytest.fixture
def prefix_service() -> Iterator[str]:
    """A stand-in for OP3/Podtrac: /e/<URL without scheme> answers 302 to http://<URL>."""

    class Redirect(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if not self.path.startswith("/e/"):
                self.send_error(404)
                return
            self.send_response(302)
            self.send_header("Location", "http://" + self.path[len("/e/"):])
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_HEAD = do_GET

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/e/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_check_media_follows_the_prefix_and_checks_the_file_behind_it(
        tmp_path: Path, sources: Path, server, prefix_service: str) -> None:  # noqa: F811
    url, _ = server
    real = f"{url}/show/ep1/ep1.mp3"
    feed_url = served(tmp_path, sources, url, enclosure=prefix_service + real.removeprefix("http://"))
    report = validate_feed(feed_url, check_media=True)
    assert http_rules(report) == [], report.to_text()
    size = (tmp_path / "www/show/ep1/ep1.mp3").stat().st_size
    shutil_feed = tmp_path / "www/show/feed.xml"
    shutil_feed.write_text(shutil_feed.read_text().replace(f'length="{size}"', 'length="999"'))
    (finding,) = [f for f in validate_feed(feed_url, check_media=True).findings if f.rule == "media.length"]
    assert f"{size:,}" in finding.message  # the real file's size, found behind the prefix
    (tmp_path / "www/show/ep1/ep1.mp3").unlink()
    assert "media.missing" in http_rules(validate_feed(feed_url, check_media=True))


def test_a_build_with_a_prefix_checks_its_own_files(tmp_path: Path, sources: Path) -> None:  # noqa: F811
    path = make_public(tmp_path, sources, enclosure="https://op3.dev/e/podcast.feedtool-corpus.net/show/ep1/ep1.mp3")
    report = validate_feed(path)
    assert "media.not-checked" not in report.rule_ids() and not [f for f in report.findings
                                                                  if f.severity == "error"]
    (path.parent / "ep1/ep1.mp3").unlink()
    assert "media.missing" in validate_feed(path).rule_ids()


def test_json_output_lists_the_new_findings(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from feedtool.cli import cli

    (tmp_path / "feed.xml").write_bytes(feed('<spotify:limit recentCount="0"/>', owner=False))
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "feed.xml"), "--no-check-media", "--format", "json"])
    found = {f["rule"]: f["severity"] for f in json.loads(result.stdout)["findings"]}
    assert found == {"directory.spotify": "warning", "directory.owner-email": "info"}
    assert result.exit_code == 0


# --- on feedtool's own build: the findings name the podcast.yaml / episode.md key (source map) --------------
@pytest.mark.parametrize("rule, scope, subject, written, expected", [
    # the key in the episode's own file when it is written there, else the show's (inherited)
    ("podcast.value.recipient", "item", "podcast:valueRecipient@address", {"value"}, ("episode.md", "value")),
    ("podcast.value.split", "item", "podcast:valueRecipient@split", set(), ("podcast.yaml", "value")),
    ("podcast.value.time-split", "item", "podcast:valueTimeSplit@startTime", {"value"}, ("episode.md", "value")),
    ("directory.prefix", "item", "enclosure@url", set(), ("podcast.yaml", "enclosure_prefix")),
    ("chapters.psc", "item", "psc:chapter@start", {"notes"}, ("episode.md", "notes")),
    ("podcast.image", "item", "podcast:image@width", {"images", "artwork"}, ("episode.md", "images")),
    ("podcast.social-interact", "channel", "podcast:socialInteract@uri", set(), ("podcast.yaml", "social_interact")),
    ("podcast.podroll.self", "channel", "podcast:podroll/podcast:remoteItem", set(), ("podcast.yaml", "podroll")),
    ("podcast.block.id", "channel", "podcast:block@id", set(), ("podcast.yaml", "block")),
    ("directory.spotify", "channel", "spotify:limit@recentCount", set(), ("podcast.yaml", "spotify")),
    ("directory.websub-hub", "channel", "atom:link@rel=hub", set(), ("podcast.yaml", "notify")),
    ("directory.owner-email", "channel", "itunes:owner", set(), ("podcast.yaml", "owner")),
    ("podcast.attribute.missing", "channel", "podcast:chat@server", set(), ("podcast.yaml", "chat")),
    ("podcast.https", "item", "podcast:contentLink@href", {"content_links"}, ("episode.md", "content_links")),
])
def test_the_new_rules_name_the_key_to_change(rule: str, scope: str, subject: str, written: set[str],
                                              expected: tuple[str, str]) -> None:
    from feedtool.validation.report import Finding
    from feedtool.validation.sourcemap import SourceFile, SourceMap, locate

    show_keys = ("value", "enclosure_prefix", "social_interact", "podroll", "block", "spotify", "notify", "owner",
                 "chat", "images", "artwork")
    show = SourceFile("episodes/podcast.yaml", {key: number for number, key in enumerate(show_keys, 1)})
    episode = SourceFile("episodes/ep/episode.md", {key: 40 + number for number, key in enumerate(sorted(written))},
                         "ep (#1)")
    finding = Finding.make(rule, "x", scope=scope, subject=subject, item_guid="g" if scope == "item" else None)
    (located,) = locate([finding], SourceMap(show, {"g": episode}))
    assert (located.source_path.rsplit("/", 1)[-1], located.source_field) == expected
    assert located.source_line is not None


def test_a_build_without_an_owner_email_is_told_where_to_add_it(podcast, monkeypatch: pytest.MonkeyPatch) -> None:
    from feedtool.build import build_podcast

    podcast.set_show(owner="null")
    build_podcast(podcast.episodes, podcast.public)
    monkeypatch.chdir(podcast.root)
    (finding,) = [f for f in validate_feed(podcast.public / "feed.xml").findings if f.rule == "directory.owner-email"]
    assert (finding.source_path, finding.source_field) == ("episodes/podcast.yaml", "owner")


def test_a_broken_feed_that_links_an_archive_page_still_gets_its_report(tmp_path: Path) -> None:
    """The archive chain is read only from a feed that parses; a broken one is reported as such."""
    broken = (b'<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
              b'<atom:link rel="prev-archive" href="archive/feed-1.xml"/><title>T</title><item><title>x</channel>')
    path = tmp_path / "feed.xml"
    path.write_bytes(broken)
    assert "xml.well-formed" in {f.rule for f in validate_feed(path).findings}

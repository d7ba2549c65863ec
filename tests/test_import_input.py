"""Bad and odd input to `feedtool import`: each a clear message (exit 2 where the input is unusable),
and nothing half-written."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from feedtool.cli import cli
from tests.import_feeds import feed, item
from tests.import_server import serve


def _run(*args: object):
    return CliRunner().invoke(cli, ["import", *[str(a) for a in args]], catch_exceptions=False)


def _front(path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("\n---\n")[0].split("---\n", 1)[1])


def _episodes(into) -> dict[str, dict]:
    return {md.parent.name: _front(md) for md in (into / "episodes").glob("*/episode.md")}


def test_not_a_podcast_is_refused_with_what_it_is(tmp_path):
    cases = {
        "page.html": ("<!DOCTYPE html><html><head><title>My show</title></head><body><p>hi</body></html>",
                      "web page"),
        "atom.xml": ('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>',
                     "Atom feed"),
        "blog.xml": (feed([item("Post", url=None)]), "not a podcast"),
        "empty.xml": (feed([]), "no episodes"),
    }
    for name, (text, expected) in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        result = _run(tmp_path / name, "--into", tmp_path / name.replace(".", "-"))
        assert result.exit_code == 2, name
        assert expected in result.output and "Traceback" not in result.output, (name, result.output)
        assert not (tmp_path / name.replace(".", "-") / "episodes").exists()


def test_entities_are_refused(tmp_path):
    text = feed([item("A", url="https://example.com/a.mp3")]).replace(
        "<rss", '<!DOCTYPE rss [<!ENTITY boom "aaaaaaaaaa">]>\n<rss', 1)
    (tmp_path / "feed.xml").write_text(text, encoding="utf-8")
    result = _run(tmp_path / "feed.xml", "--into", tmp_path / "show")
    assert result.exit_code == 2
    assert "entities" in result.output and "refuses" in result.output
    assert not (tmp_path / "show" / "episodes").exists()


def test_a_feed_over_the_cap_is_refused_with_the_way_to_raise_it(tmp_path):
    path = tmp_path / "huge.xml"
    with open(path, "wb") as handle:
        handle.write(feed([item("A", url="https://example.com/a.mp3")]).encode())
        handle.write(b"<!--" + b" " * (50 * 1024 * 1024) + b"-->")
    result = _run(path, "--into", tmp_path / "show")
    assert result.exit_code == 2
    assert "over the 32 MB limit" in result.output and "--max-size" in result.output


def test_encodings_declared_are_honoured_and_undeclared_bytes_refused(tmp_path):
    latin = feed([item("Café crème", url="https://example.com/a.mp3", description="<p>Ça va, naïve?</p>")],
                 encoding="ISO-8859-1")
    (tmp_path / "latin.xml").write_bytes(latin.encode("iso-8859-1"))
    result = _run(tmp_path / "latin.xml", "--into", tmp_path / "latin")
    assert result.exit_code == 0, result.output
    (episode,) = (tmp_path / "latin" / "episodes").glob("*/episode.md")
    text = episode.read_text(encoding="utf-8")
    assert "title: Café crème" in text and "Ça va, naïve?" in text

    undeclared = feed([item("Café", url="https://example.com/a.mp3")], encoding=None).encode("cp1252")
    (tmp_path / "cp1252.xml").write_bytes(undeclared)
    result = _run(tmp_path / "cp1252.xml", "--into", tmp_path / "bad")
    assert result.exit_code == 2
    assert "UTF-8" in result.output and "encoding=" in result.output
    assert not (tmp_path / "bad" / "episodes").exists()


def test_a_server_charset_is_honoured(tmp_path):
    body = feed([item("Größe", url="https://example.com/a.mp3")], encoding=None).encode("iso-8859-1")
    with serve(files={"/feed": body}) as site:
        from tests import import_server

        import_server.TYPES[""] = "application/rss+xml; charset=ISO-8859-1"
        try:
            result = _run(site.url + "feed", "--into", tmp_path / "show")
        finally:
            del import_server.TYPES[""]
    assert result.exit_code == 0, result.output
    assert [front["title"] for front in _episodes(tmp_path / "show").values()] == ["Größe"]


def test_items_without_audio_or_guid_and_duplicate_guids(tmp_path):
    items = [
        item("No audio", url=None),
        item("No guid", guid=None, url="https://cdn.example.com/no-guid.mp3"),
        item("First", guid="same", url="https://cdn.example.com/first.mp3"),
        item("Second", guid="same", url="https://cdn.example.com/second.mp3"),
        item("Second", guid="same", url="https://cdn.example.com/second.mp3"),  # same guid as First: kept apart
        item("Listed twice", guid="twice", url="https://cdn.example.com/twice.mp3"),
        item("Listed twice", guid="twice", url="https://cdn.example.com/twice.mp3"),
    ]
    (tmp_path / "feed.xml").write_text(feed(items), encoding="utf-8")
    result = _run(tmp_path / "feed.xml", "--into", tmp_path / "show")
    assert result.exit_code == 0, result.output
    episodes = _episodes(tmp_path / "show")
    guids = {front["title"]: front["guid"] for front in episodes.values()}
    assert guids == {"No guid": "https://cdn.example.com/no-guid.mp3", "First": "same",
                     "Second": "https://cdn.example.com/second.mp3", "Listed twice": "twice"}
    output = " ".join(result.output.split())
    assert "has no audio" in output and "skipped" in output
    assert "no guid" in output
    assert "same guid as 'First'" in output
    assert "imported once" in output
    no_guid = next(p for p in (tmp_path / "show" / "episodes").glob("*/episode.md") if "No guid" in p.read_text())
    assert "# the feed gives this episode no guid" in no_guid.read_text()  # flagged in the file itself
    lock = json.loads((tmp_path / "show" / "episodes" / "feedtool.lock").read_text())["episodes"]
    assert sorted(entry["guid"] for entry in lock.values()) == sorted(guids.values())


def test_relative_urls_are_resolved_against_the_feed_and_xml_base(tmp_path, tone):
    audio = tone("mp3", 5.0).read_bytes()
    with serve(files={"/show/media/a.mp3": audio, "/other/b.mp3": audio}) as site:
        items = [
            item("A", url="media/a.mp3", length=len(audio),
                 description='<p>See <a href="/notes/a">the notes</a>.</p>'),
            item("B", url="b.mp3", length=len(audio),
                 extra='<podcast:person href="people/ana">Ana</podcast:person>').replace(
                "<item>", f'<item xml:base="{site.url}other/">'),
        ]
        site.files["/show/feed.xml"] = feed(items).encode()
        result = _run(site.url + "show/feed.xml", "--into", tmp_path / "show")
        assert result.exit_code == 0, result.output
        episodes = {front["title"]: front for front in _episodes(tmp_path / "show").values()}
        assert episodes["A"]["audio"] == site.url + "show/media/a.mp3"
        assert episodes["B"]["audio"] == site.url + "other/b.mp3"
        assert episodes["B"]["people"] == [{"name": "Ana", "href": site.url + "other/people/ana"}]
        notes = next((tmp_path / "show" / "episodes").glob("a/episode.md")).read_text()
        assert f"[the notes]({site.url}notes/a)" in notes


def test_broken_html_becomes_readable_markdown(tmp_path):
    messy = ("<p>Broken <b>bold <i>both</p><p>Next &amp; last<br>line two<div>a div"
             "<script>alert(1)</script><ul><li>one<li>two</ul>")
    (tmp_path / "feed.xml").write_text(feed([item("A", url="https://x.example/a.mp3", description=messy)]),
                                       encoding="utf-8")
    assert _run(tmp_path / "feed.xml", "--into", tmp_path / "show").exit_code == 0
    notes = (tmp_path / "show" / "episodes" / "a" / "episode.md").read_text().split("\n---\n", 1)[1]
    assert "alert" not in notes and "<" not in notes
    assert "**bold *both***" in notes and "Next & last  \nline two" in notes and "- one\n- two" in notes


def test_retired_categories_are_mapped_and_the_old_feeds_move_is_reported(tmp_path):
    extra = ('<itunes:category text="Games &amp; Hobbies"><itunes:category text="Video Games"/></itunes:category>'
             '<itunes:category text="Science &amp; Medicine"/><itunes:category text="Not A Category"/>'
             '<itunes:new-feed-url>https://elsewhere.example.com/feed.xml</itunes:new-feed-url>'
             '<itunes:owner><itunes:name>Ow Ner</itunes:name><itunes:email>ow@example.org</itunes:email></itunes:owner>'
             '<podcast:locked owner="lock@example.org">yes</podcast:locked>')
    text = feed([item("A", url="https://x.example/a.mp3")], extra=extra,
                self_url="https://old.example.com/feed.xml").replace('<itunes:category text="Technology"/>', "")
    (tmp_path / "feed.xml").write_text(text, encoding="utf-8")
    result = _run(tmp_path / "feed.xml", "--into", tmp_path / "show")
    assert result.exit_code == 0, result.output
    show = yaml.safe_load((tmp_path / "show" / "episodes" / "podcast.yaml").read_text())
    assert show["categories"] == ["Leisure > Video Games", "Science"]
    output = " ".join(result.output.split())
    assert "'Games & Hobbies > Video Games' was retired by Apple in 2019; mapped to 'Leisure > Video Games'" in output
    assert "'Not A Category' is not in Apple's list" in output
    assert "moved to https://elsewhere.example.com/feed.xml" in output
    assert "new_feed_url" not in show  # the old feed's redirect is not ours to copy
    assert show["locked"] is True and show["locked_owner"] == "lock@example.org"
    assert show["owner"] == {"name": "Ow Ner", "email": "ow@example.org"}
    from feedtool.validation.rules_podcast import podcast_guid_for

    assert show["podcast_guid"] == podcast_guid_for("https://old.example.com/feed.xml")  # the index's guid, pinned
    assert "feedtool validate --against https://old.example.com/feed.xml" in output
    assert "podcast:locked (yes) and the owner e-mail (ow@example.org) were carried over" in output


def test_an_http_base_url_is_refused_before_anything_is_fetched(tmp_path) -> None:
    from feedtool.errors import InputError
    from feedtool.importer.run import Options, import_feed

    with pytest.raises(InputError, match="not https"):
        import_feed(Options(source=str(tmp_path / "missing.xml"), into=tmp_path / "show",
                            base_url="http://127.0.0.1:8000/"))
    assert not (tmp_path / "show").exists()

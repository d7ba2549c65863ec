"""`feedtool import --update`: new upstream episodes are added, unedited ones follow upstream, edited ones
are never touched; and the notes' Markdown renders back (feedtool.notes) into the same HTML."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from lxml import html as lxml_html

from feedtool.cli import cli
from feedtool.importer.markdown import to_markdown
from feedtool.notes import render_html
from tests.import_feeds import feed, item


def _run(*args: object):
    return CliRunner().invoke(cli, ["import", *[str(a) for a in args]], catch_exceptions=False)


def test_update_adds_new_refreshes_unedited_and_keeps_edits(tmp_path):
    source = tmp_path / "feed.xml"
    into = tmp_path / "show"
    first = [item("One", url="https://x.example/1.mp3", description="<p>one</p>"),
             item("Two", url="https://x.example/2.mp3", description="<p>two</p>"),
             item("Three", url="https://x.example/3.mp3", description="<p>three</p>")]
    source.write_text(feed(first), encoding="utf-8")
    assert _run(source, "--into", into).exit_code == 0
    episodes = into / "episodes"
    assert _run(source, "--into", into).exit_code == 2  # not empty: refused without --update

    edited = episodes / "two" / "episode.md"
    edited.write_text(edited.read_text().replace("two\n", "two, as the podcaster rewrote it\n"))
    (episodes / "podcast.yaml").write_text((episodes / "podcast.yaml").read_text().replace(
        "base_url: https://podcast.example.com/", "base_url: https://new.example.org/"))
    untouched = (episodes / "three" / "episode.md").read_text()

    later = [item("Four", url="https://x.example/4.mp3", description="<p>four</p>"),
             item("One", url="https://x.example/1.mp3", description="<p>one, corrected upstream</p>"),
             item("Two", url="https://x.example/2.mp3", description="<p>two, corrected upstream</p>"),
             item("Three", url="https://x.example/3.mp3", description="<p>three</p>")]
    source.write_text(feed(later), encoding="utf-8")
    result = _run(source, "--into", into, "--update")
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "1 new episode(s), 1 refreshed from upstream, 1 unchanged" in output
    assert "Kept your edits of 1 episode(s) that also changed upstream: two" in output
    assert "one, corrected upstream" in (episodes / "one" / "episode.md").read_text()
    assert "as the podcaster rewrote it" in edited.read_text() and "corrected" not in edited.read_text()
    assert (episodes / "three" / "episode.md").read_text() == untouched
    assert (episodes / "four" / "episode.md").is_file()
    assert "base_url: https://new.example.org/" in (episodes / "podcast.yaml").read_text()  # the show is theirs
    lock = json.loads((episodes / "feedtool.lock").read_text())["episodes"]
    assert {slug: entry["guid"] for slug, entry in lock.items()} == {
        "one": "guid-One", "two": "guid-Two", "three": "guid-Three", "four": "guid-Four"}
    assert not (into / ".feedtool-import").exists()

    source.write_text(feed(later[:2]), encoding="utf-8")  # two episodes gone upstream: reported, kept
    result = _run(source, "--into", into, "--update")
    assert "2 imported episode(s) are no longer in the feed; kept: three, two" in " ".join(result.output.split())
    assert (episodes / "three" / "episode.md").is_file()


def test_update_needs_a_show(tmp_path):
    (tmp_path / "feed.xml").write_text(feed([item("A", url="https://x.example/a.mp3")]), encoding="utf-8")
    result = _run(tmp_path / "feed.xml", "--into", tmp_path / "nothing", "--update")
    assert result.exit_code == 2 and "nothing to update" in result.output


def _shape(fragment: str) -> list[tuple[str, str, str]]:
    """HTML as (tag, href, text) of every element, whitespace normalised: what a reader sees.

    A bare web address is a link once rendered (cmark-gfm links them, as apps do): not a difference.
    """
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    shape = []
    for el in root.iter():
        if el is root or not isinstance(el.tag, str):
            continue
        tag = {"b": "strong", "i": "em"}.get(el.tag, el.tag)
        if tag in ("br", "span", "div"):
            continue
        text = " ".join(" ".join(el.itertext()).split())
        href = el.get("href") or el.get("src") or ""
        if tag == "a" and text and href.rstrip("/").endswith(text.removeprefix("www.")):
            continue
        shape.append((tag, href, text))
    return shape


NOTES = [
    "<p>Plain paragraph with <strong>bold</strong>, <em>emphasis</em> and <a href='https://e.com/a_b?x=1&y=2'>a link"
    "</a>.</p><p>Second paragraph.</p>",
    "<h2>Guests</h2><ul><li>Ana <a href='https://e.com/ana'>site</a></li><li>Bo</li></ul><ol><li>first</li>"
    "<li>second</li></ol>",
    "<p>AT&amp;T, 5 * 3 = 15, snake_case and _under_, a literal &lt;b&gt; and &amp;copy;, `ticks`, ~~not struck~~, "
    "[not](a link), #hashtag, 100% sure</p>",
    "<p># not a heading</p><p>1. not a list</p><p>- not a bullet</p><p>&gt; not a quote</p>",
    "<p>Timestamps:<br>[00:00] Intro<br>[01:24] Topic one<br>1:02:03 - Topic two</p>",
    "<p>Bare address https://twitter.com/some_user_name and www.example.com/path</p>",
    "<blockquote><p>A quote with <em>style</em></p></blockquote><p>after</p>",
    "<p>Text <b>bold <i>both</i></b> <img src='https://e.com/i.png' alt='pic'></p>",
]


@pytest.mark.parametrize("html", NOTES)
def test_notes_markdown_renders_back_to_the_same_html(html):
    markdown = to_markdown(html)
    assert _shape(render_html(markdown)) == _shape(html), markdown

"""notes.describe/apple_description/plain_text give byte-identical output to the HTMLParser version.

notes.py reads cmark-gfm's own HTML with a regex split and leaves everything else to HTMLParser.
The oracle below is a frozen copy of the implementation before that change (HTMLParser only);
every input here must give the same strings from both, whichever path the new code takes.
"""

from __future__ import annotations

import html
import random
import re
import sys
from datetime import UTC
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedtool import notes
from feedtool.load import split_front_matter

ROOT = Path(__file__).resolve().parent.parent

# --- Oracle: feedtool/notes.py as of commit 4af3457 (HTMLParser for every input), frozen. --------

APPLE_DESCRIPTION_LIMIT = 4000  # bytes
_BLOCK_TAGS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "tr"}


class _AppleSubset(HTMLParser):
    """Rewrite HTML into Apple's subset: keep p/ol/ul/li/a[href], turn other blocks into <p>.

    Apple: "rich text formatting and some HTML (<p>, <ol>, <ul>, <li>, <a>)" in description.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []  # finished top-level blocks
        self.current: list[str] = []  # the block being built
        self.stack: list[str] = []  # open list tags
        self.in_link = False

    def _text_open(self) -> None:
        if not self.stack and not self.current:
            self.current.append("<p>")

    def _close_paragraph(self) -> None:
        if self.current and not self.stack:
            if self.current != ["<p>"]:
                self.blocks.append("".join(self.current) + "</p>")
            self.current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("ul", "ol"):
            self._close_paragraph()
            self.stack.append(tag)
            self.current.append(f"<{tag}>")
        elif tag == "li" and self.stack:
            self.current.append("<li>")
        elif tag == "a":
            href = dict(attrs).get("href")
            if href:
                self._text_open()
                self.current.append(f'<a href="{html.escape(href, quote=True)}">')
                self.in_link = True
        elif tag == "br":
            if self.stack:
                self.current.append(" ")
            else:
                self._close_paragraph()
        elif tag in _BLOCK_TAGS:
            self._close_paragraph()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ul", "ol") and self.stack:
            self.stack.pop()
            self.current.append(f"</{tag}>")
            if not self.stack:
                self.blocks.append("".join(self.current))
                self.current = []
        elif tag == "li" and self.stack:
            self.current.append("</li>")
        elif tag == "a" and self.in_link:
            self.current.append("</a>")
            self.in_link = False
        elif tag in _BLOCK_TAGS:
            self._close_paragraph()

    def handle_data(self, data: str) -> None:
        if not data.strip() and not self.current:
            return
        if self.stack and not self.current:
            return
        self._text_open()
        self.current.append(html.escape(data, quote=False))

    def result(self) -> list[str]:
        self._close_paragraph()
        if self.current:
            self.blocks.append("".join(self.current))
        return [_tidy(block) for block in self.blocks if block.strip()]


def _tidy(block: str) -> str:
    """Collapse the source's line breaks and indentation inside one block."""
    block = re.sub(r"\s+", " ", block)
    block = re.sub(r"(<(?:p|ul|ol|li|/li)>) ", r"\1", block)
    return re.sub(r" (</(?:p|ul|ol|li)>|<li>)", r"\1", block)


def old_apple_description(html_text: str, *, limit: int = APPLE_DESCRIPTION_LIMIT) -> str:
    """Apple's subset of ``html_text``, cut at a block boundary to fit ``limit`` UTF-8 bytes.

    The full notes stay in content:encoded; a cut description ends with an ellipsis paragraph.
    """
    parser = _AppleSubset()
    parser.feed(html_text)
    parser.close()
    return _fit(parser.result(), limit)


def _fit(blocks: list[str], limit: int) -> str:
    """Apple-subset blocks joined, cut at a block boundary to fit ``limit`` UTF-8 bytes."""
    out: list[str] = []
    used = 0
    ellipsis = "<p>…</p>"
    for block in blocks:
        size = len(block.encode("utf-8"))
        if used + size > limit - len(ellipsis.encode("utf-8")):
            if used + size <= limit and block is blocks[-1]:
                out.append(block)
                return "".join(out)
            if not out:  # one huge first paragraph: cut its text instead
                text = old_plain_text(block)
                room = limit - len(ellipsis.encode()) - len("<p></p>") - 8
                cut = text.encode("utf-8")[:room].decode("utf-8", "ignore")
                out.append(f"<p>{html.escape(cut, quote=False)}…</p>")
                return "".join(out)
            out.append(ellipsis)
            return "".join(out)
        out.append(block)
        used += size
    return "".join(out)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "li") or tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def old_plain_text(html_text: str) -> str:
    """Readable plain text of some HTML (for audio tags and summaries)."""
    parser = _Text()
    parser.feed(html_text)
    parser.close()
    return _joined(parser.parts)


def _joined(parts: list[str]) -> str:
    lines = [" ".join(line.split()) for line in "".join(parts).splitlines()]
    text = "\n".join(line for line in lines if line)
    return text.strip()


class _Both(HTMLParser):
    """One pass of the HTML parser feeding both _AppleSubset and _Text (parsing is the cost)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.apple = _AppleSubset()
        self.text = _Text()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.apple.handle_starttag(tag, attrs)
        self.text.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self.apple.handle_endtag(tag)
        self.text.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        self.apple.handle_data(data)
        self.text.handle_data(data)


def old_describe(html_text: str, *, limit: int = APPLE_DESCRIPTION_LIMIT) -> tuple[str, str]:
    """(apple_description(html_text), plain_text(html_text)), parsing the HTML once."""
    parser = _Both()
    parser.feed(html_text)
    parser.close()
    return _fit(parser.apple.result(), limit), _joined(parser.text.parts)


# --- Inputs ----------------------------------------------------------------------------------


def _example_notes() -> list[str]:
    notes_texts = []
    for episode_md in sorted((ROOT / "episodes").glob("*/episode.md")):
        _, body, _ = split_front_matter(episode_md.read_text(encoding="utf-8"), path=episode_md)
        notes_texts.append(body)
    notes_texts.append((ROOT / "tests" / "data" / "seed-notes.txt").read_text(encoding="utf-8"))
    return notes_texts


def _catalogue_notes(count: int) -> list[str]:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from make_catalogue import episode_md
    finally:
        sys.path.remove(str(ROOT / "bench"))
    from datetime import datetime

    rng = random.Random(2024)
    start = datetime(2015, 1, 5, 9, tzinfo=UTC)
    return [episode_md(n, start, rng).split("\n---\n", 1)[1] for n in range(1, count + 1)]


#: Raw HTML and odd text as authors write it (fed to describe() directly and through Markdown).
TRICKY = [
    "",
    " ",
    "\n\n",
    "plain text, no tags",
    "<p></p>",
    "<p> </p><p>\n</p>",
    "<p>a &amp; b &lt;c&gt; &quot;d&quot; &#39;e&#39; &copy; &nbsp; &#x1F600; &#128512; &#0; &#1; &bogus; &amp</p>",
    "<p>AT&T &ampersand; &notit; &notin; &#xZZ; &#; & ; &</p>",
    "<p>😀 Ünïcödé 日本語 العربية עברית</p>",
    "<p>a < b > c</p>",
    "<p>x <span>y</span> z</p>",
    "<P>upper</P><BR><Br/>",
    "<p>a<br>b<br/>c<br />d</p>",
    "<ul><li>one<br>two</li><li>three<ul><li>deep<ol><li>deeper</li></ol></li></ul></li></ul>tail",
    "<ul><li>unclosed<li>items</ul></ol></ul>text after",
    "<ol start=\"3\"><li>a</li></ol><ul></ul><ol></ol>",
    "<li>item outside list</li><li>another</li>",
    "</ul></li></p></a>stray end tags",
    "<a>no href</a> <a href=\"\">empty</a> <a href=\"x\" href=\"y\">twice</a> <a href>bare</a>",
    "<a href=\"https://e.com/?a=1&amp;b=2&c=3\" title=\"t &quot;q&quot;\">odd href</a>",
    "<a href='single'>s</a> <a href=unquoted>u</a> <a href=\"javascript:alert(1)\">js</a>",
    "<a href=\"&#1;\">invalid charref href</a><a href=\"a&quot;b<c>\">quote</a>",
    "<p><a href=\"x\">link <a href=\"y\">nested</a> after</a></p>",
    "<p>text<a href=\"u\" />self-closed link</p>",
    "<p>x</p><!-- a comment --><p>y</p><!-- unclosed",
    "<!DOCTYPE html><html><head><title>T &amp; t</title></head><body><p>b</p></body></html>",
    "<script>var a = '<p>not</p>';</script><style>p { x: '<' }</style>after",
    "<![CDATA[ <p>cdata</p> ]]> after <?php echo 1 ?>",
    "<p>unterminated <a href=\"x",
    "<p>broken <a href=\"x\"\n title=\"y\">multi-line tag</a></p>",
    "<div><h2>Head</h2><blockquote><p>quoted</p></blockquote><pre><code>x &lt; 1\n  y</code></pre></div>",
    "<table><tr><td>1</td><td>2</td></tr><tr><td>3</td></tr></table>",
    "<img src=\"a.png\" alt=\"alt &amp; text\" /><hr /><input type=\"checkbox\" checked=\"\" disabled=\"\" />",
    "<p>\x00nul\x00 and \x1c\x1d\x1e\x1f\x85\xa0\u2028\u2029 separators</p><p>\r\n crlf \r</p>",
    "<p>" + "word " * 1200 + "</p>",
    "<p>" + "é😀" * 1500 + "</p><p>second</p>",
    "".join(f"<p>[{i // 60:02d}:{i % 60:02d}] line {i} &amp; more</p>" for i in range(400)),
    "<ul>" + "".join(f"<li><a href=\"https://e.com/{i}\">link {i}</a></li>" for i in range(300)) + "</ul>",
    "<p>a</p>\n<ul>\n<li>\n<p>loose item</p>\n</li>\n<li>\n<p>second</p>\n</li>\n</ul>\n<p>end</p>",
    "<p>line one<br />\n[00:00] intro<br />\n[01:00] next</p>",
    "<p>price 5¤ and ¤¤</p><p>b ¤</p><ul><li>¤</li></ul>",
    "<p>a  b\t c\xa0d \u3000e</p>\n<ul>\n<li> x <br /> y </li>\n</ul>\n  <p>\n</p> ",
    "\n<p>lead</p>\n",
    "<ul>\n<li>unclosed list at the end  \n",
    "text<pre lang=\"python\"><code>code</code></pre>after<div class=\"c\">div</div><p align=\"x\">p</p>",
    "<ul><li class=\"task\">one</li><li class=\"task\">two</li></ul><br class=\"x\" />tail",
]

TRICKY_MARKDOWN = [
    "# Title\n\nText with *em*, **strong**, ~~del~~, `code <x>` and a [link](http://a.b/?q=1&r=2 \"t\").",
    "- a\n  - b\n    - c\n      1. d\n      2. e\n- f",
    "1. one\n2. two\n\n   para in item\n3. three",
    "[00:00] Intro\n[01:02] Topic\n- 1:02:03 Deep\n(12:30) Paren",
    "Bare URL https://example.com/path?x=1&y=2 and www.example.com and mail@example.com",
    "<span>raw</span> <b>bold</b> <!-- hidden --> <script>x</script> <iframe src=x></iframe>",
    "<div>\nblock html\n</div>\n\nafter",
    "| a | b |\n|---|:-:|\n| 1 | 2 |",
    "- [ ] task\n- [x] done",
    "```python\nx < 1\n```\n\n    indented code",
    "> quote  \n> hard break\\\n> and more",
    "![image](p.png \"title\") and [empty]() and [ref][r]\n\n[r]: http://r.example \"R\"",
    "&amp; &copy; &#x1F600; &bogus; & < > \"",
    "Header\n======\n\nSub\n---\n\n***",
    "Footnote[^1].\n\n[^1]: The note.",
    "😀 Ünïcödé 日本語 " * 300,
    "\n".join(f"[{i // 60:02d}:{i % 60:02d}] A fairly long chapter title number {i}" for i in range(300)),
]


def _outcome(function, *args, **kwargs) -> tuple[str, object]:
    """What a call gives: its result, or the type of the error it raises (lone surrogates do)."""
    try:
        return "returned", function(*args, **kwargs)
    except Exception as error:
        return "raised", type(error)


def _assert_same(html_text: str) -> None:
    __tracebackhide__ = True
    for limit in (notes.APPLE_DESCRIPTION_LIMIT, 300, 40):
        new, old = _outcome(notes.describe, html_text, limit=limit), _outcome(old_describe, html_text, limit=limit)
        assert new == old, (html_text, limit)
    assert _outcome(notes.apple_description, html_text) == _outcome(old_apple_description, html_text), html_text
    assert _outcome(notes.plain_text, html_text) == _outcome(old_plain_text, html_text), html_text


# --- Tests -----------------------------------------------------------------------------------


def test_example_episode_notes_are_unchanged_and_take_the_fast_path():
    for markdown in _example_notes():
        rendered = notes.render_html(markdown)
        assert notes._fast_tokens(rendered) is not None  # the speed-up applies to real notes
        _assert_same(rendered)


def test_catalogue_notes_are_unchanged_and_take_the_fast_path():
    for markdown in _catalogue_notes(200):
        rendered = notes.render_html(markdown)
        assert notes._fast_tokens(rendered) is not None
        _assert_same(rendered)


@pytest.mark.parametrize("html_text", TRICKY)
def test_tricky_html_is_unchanged(html_text):
    _assert_same(html_text)


@pytest.mark.parametrize("markdown", TRICKY_MARKDOWN)
def test_tricky_markdown_is_unchanged(markdown):
    _assert_same(notes.render_html(markdown))


def test_raw_html_outside_cmark_spelling_takes_the_htmlparser_path():
    for raw in ("<font>x</font>", "<!-- c -->", "a < b", "<P>x</P>", "<br/>", "<a href='x'>y</a>",
                "<script>x</script>", "<p class=x>y</p>", "</p >"):
        assert notes._fast_tokens(raw) is None, raw


# Markdown pieces that make cmark produce every construct, plus raw HTML and entity fragments.
_MARKDOWN_PIECES = [
    "- ", "* ", "1. ", "2) ", "  ", "    ", "\n", "\n\n", "[00:12] ", "(1:02:03) ", "# ", "## ", "> ",
    "[x](http://a.b/?q=1&r=2)", "[t](<u v> \"ti\")", "<https://x.y/z>", "**", "*", "_", "`", "~~", "|",
    "---", "***", "```\n", "\\", "![i](p.png)", "[ ] ", "[x] ", "www.example.com", "a@b.co",
    "&amp;", "&#x1F600;", "&copy;", "&bogus;", "&", ";", "#", "<", ">", "\"", "'", "\t",
    "<br>", "<span>", "</span>", "<p>", "</p>", "<!--", "-->", "<a>", "<a href=\"h\">", "</a>",
    "<ul>", "<li>", "</ul>", "<div>", "</div>", "<script>", "<b>",
    "word", "two words", "é", "😀", "日本", "\x00", "\u2028",
]
_HTML_PIECES = [
    "<p>", "</p>", "<br />", "<br>", "<br/>", "<ul>", "</ul>", "<ol>", "</ol>", "<ol start=\"2\">",
    "<li>", "</li>", "<a href=\"", "\">", "</a>", "<a>", "<a href=\"\">", "<a href=\"h&amp;i\">",
    "<a title=\"t\" href=\"u\">", "<a href=\"x\" />", "<h2>", "</h2>", "<em>", "</em>", "<strong>",
    "<blockquote>", "</blockquote>", "<pre>", "<code>", "</code>", "</pre>", "<table>", "<tr>", "</tr>",
    "<td>", "</td>", "<div>", "</div>", "<pre lang=\"py\">", "<div class=\"x\">", "<p align=\"c\">",
    "<li class=\"t\">", "<br class=\"b\" />", "<h3 id=\"h\">", "<tr class=\"r\">", "<hr />", "<img src=\"a\" alt=\"b\" />", "<p />", "<ul />",
    "<input type=\"checkbox\" checked=\"\" disabled=\"\" />", "<span>", "</span>", "<P>", "</LI>",
    "<!-- c -->", "<!--", "<script>", "</script>", "<style>", "<![CDATA[", "]]>", "<?x?>", "<!x>",
    "&amp;", "&lt;", "&gt;", "&quot;", "&#1;", "&#0;", "&#x1F600;", "&amp", "&copy", "&", ";",
    " ", "  ", "\n", "\t", "word", "two words", "é", "😀", "日本", "\"", "'", "<", ">", "/", "=",
    "\x00", "\x85", "\xa0", "\r", "\x0b", "\x1c", "\x1f", "\u2028", "\u3000", "\xa4", "¤ ",
]
# Only cmark-gfm's own spelling: every string made of these takes the fast path.
_CMARK_PIECES = [
    piece for piece in _HTML_PIECES
    if "<" not in piece or (notes._fast_tokens(piece) is not None and piece.count("<") == 1)
]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(_MARKDOWN_PIECES), st.text(max_size=8)), max_size=60))
def test_generated_markdown_is_unchanged(pieces):
    _assert_same(notes.render_html("".join(pieces)))


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(_HTML_PIECES), st.text(max_size=6)), max_size=60))
def test_generated_html_is_unchanged(pieces):
    _assert_same("".join(pieces))


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(_CMARK_PIECES), st.text(alphabet=st.characters(
    blacklist_characters="<"), max_size=6)), max_size=80))
def test_generated_cmark_spelled_html_takes_the_fast_path_and_is_unchanged(pieces):
    html_text = "".join(pieces)
    assert notes._fast_tokens(html_text) is not None
    _assert_same(html_text)

"""Show notes: Markdown to the HTML apps show, and to the smaller HTML Apple allows.

Podcasters write notes the way they write a YouTube description: one line per timestamp, bare
URLs. So a timestamp line (``chapters.timestamp_lines``, the same lines the chapters come from)
keeps a line of its own, where Markdown would join it to the next; other text is GitHub-flavoured
Markdown (cmark-gfm: tables, strikethrough, bare URLs become links). The HTML is then sanitised
(feedtool/sanitize.py: an allow-list of tags, attributes and http(s)/mailto links), and that is
what ``content:encoded`` gets.

``description`` gets Apple's subset of it (p, ol, ul, li, a) within 4,000 bytes. Apple has no
``<br>``, so every line of the HTML becomes a ``<p>`` of its own (in a list item: a ``<p>`` inside
the ``<li>``): Apple still sees one timestamp per line and builds its description chapters.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from feedtool.chapters import markdown_lines, timestamp_lines
from feedtool.sanitize import DROPPED_WITH_CONTENT, clean_html, is_safe_link, without_control_characters

APPLE_DESCRIPTION_LIMIT = 4000  # bytes

#: Bumped whenever the HTML made from the same Markdown changes: cached renderings are keyed by it.
RENDERING_VERSION = 2

# --- Markdown to HTML ------------------------------------------------------------------------

#: The Markdown hard break that keeps a timestamp line on its own line. Two trailing spaces, not
#: a trailing backslash: both break a line inside a paragraph, but where no break can be (the
#: last line of a list item, of a quote, of a paragraph before a heading), a backslash is printed
#: as a stray "\" while trailing spaces are dropped.
_HARD_BREAK = "  "


#: "[00:00]: Intro" at the start of a paragraph is a Markdown link reference definition, which
#: prints nothing; its "[" escaped, it prints as written (the quote, bullet or number before it kept).
_REFERENCE_DEFINITION = re.compile(r"((?:[ \t]*>)*[ \t]*(?:[-*+][ \t]+|\d{1,9}[.)][ \t]+)?[ \t]*)\[(?=[^\]]*\]:)")


def _keep_timestamp_lines(markdown_text: str) -> str:
    """The Markdown with a hard break after every timestamp line and after the line before one."""
    lines = markdown_lines(markdown_text)
    breaks: set[int] = set()
    for index, _ in timestamp_lines(lines):
        breaks.update((index - 1, index))
        if "]:" in lines[index]:
            lines[index] = _REFERENCE_DEFINITION.sub(r"\1\\[", lines[index], count=1)
    for index in sorted(breaks):
        line = lines[index] if index >= 0 else ""
        if line.strip():
            lines[index] = _without_backslash_break(line.rstrip()) + _HARD_BREAK
    return "\n".join(lines)


def _without_backslash_break(line: str) -> str:
    """The line without a final backslash break of the author's (which, like ours would, prints
    as a stray "\\" at the end of a list item); an escaped one ("\\\\", a backslash) stays."""
    trailing = len(line) - len(line.rstrip("\\"))
    return line[:-1].rstrip() if trailing % 2 == 1 else line


def _markdown_to_html(markdown_text: str) -> str:
    """cmark-gfm, the C renderer behind GitHub's and PyPI's pages: well under a millisecond per
    episode (a pure-Python renderer was the largest single cost of a cold build of a big catalogue).
    Raw HTML passes through to the sanitiser, which decides what stays (so no "tagfilter", which
    would print a filtered tag as text); no "tasklist" either, which would make form inputs of
    "[ ]" (the sanitiser drops inputs, and the brackets would vanish with them).
    """
    from cmarkgfm.cmark import Options, markdown_to_html_with_extensions

    return markdown_to_html_with_extensions(
        _NONCHARACTER_REFERENCE.sub("", markdown_text), options=Options.CMARK_OPT_UNSAFE,
        extensions=["table", "autolink", "strikethrough"],
    )


#: "&#xFFFE;" / "&#65535;": cmark-gfm writes these two code points as the single bytes 0xFE / 0xFF,
#: which are not UTF-8 (the binding then raises UnicodeDecodeError). XML forbids both anyway.
_NONCHARACTER_REFERENCE = re.compile(r"&#(?:[xX]0{0,2}[fF]{3}[eEfF]|0{0,2}6553[45]);")


def render_html(markdown_text: str) -> str:
    """Markdown show notes to the sanitised HTML of content:encoded (timestamp lines kept)."""
    return clean_html(_markdown_to_html(_keep_timestamp_lines(markdown_text))).strip()


def cache_key(markdown_text: str) -> str:
    """A key for the renderings of ``markdown_text``: it changes when the notes, these rules, the
    sanitiser or the renderer change, so a cache never serves HTML made by older rules."""
    digest = hashlib.sha256(_rules_id().encode())
    digest.update(markdown_text.encode("utf-8"))
    return digest.hexdigest()


@cache
def _rules_id() -> str:
    from importlib.metadata import version

    return f"notes {RENDERING_VERSION}, nh3 {version('nh3')}, cmarkgfm {version('cmarkgfm')}\0"


# --- HTML to Apple's subset and to plain text --------------------------------------------------
#
# One reading of the (sanitised) HTML gives both: a list of blocks, each a paragraph (one line of
# text and links) or a list (items holding paragraphs and lists). Apple's subset and the plain
# text are two ways of writing those blocks out.

#: Tags that end a line: what a reader sees as a new line or block.
_LINE_TAGS = frozenset({
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "caption", "thead",
    "tbody", "tfoot", "tr", "hr", "br", "dl", "dt", "dd", "figure", "figcaption",
})
_LISTS = ("ul", "ol")
_TEXT, _LINK_OPEN, _LINK_CLOSE = range(3)


@dataclass
class _Paragraph:
    """One line of text: (_TEXT, text) and (_LINK_OPEN, href) / (_LINK_CLOSE, "") pieces."""

    pieces: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class _List:
    tag: str  # "ul" or "ol"
    items: list[list[_Paragraph | _List]] = field(default_factory=list)


_Block = _Paragraph | _List


class _Reader:
    """Turns the start, text and end of each element into blocks; unknown tags are transparent
    (their text is kept), the text of <script>, <style> and the like is not."""

    def __init__(self) -> None:
        self.blocks: list[_Block] = []
        self.container: list[_Block] = self.blocks  # where the next paragraph goes
        self.lists: list[tuple[_List, list[_Block]]] = []  # open lists and the container around each
        self.line: _Paragraph | None = None
        self.in_link = False
        self.in_pre = 0
        self.hidden = 0  # inside <script>, <style> ...: their text is no show note

    def end_line(self) -> None:
        line = self.line
        if line is not None:
            if self.in_link:
                line.pieces.append((_LINK_CLOSE, ""))
                self.in_link = False  # the rest of the link's text is plain text
            if any(kind == _TEXT and text.strip() for kind, text in line.pieces):
                self.container.append(line)
            self.line = None

    def add(self, kind: int, value: str) -> None:
        if self.line is None:
            if kind == _TEXT and not value.strip():
                return  # white space between blocks
            self.line = _Paragraph()
        self.line.pieces.append((kind, value))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self.hidden += 1
        elif tag in _LISTS:
            self.end_line()
            block = _List(tag)
            self.container.append(block)
            self.lists.append((block, self.container))
        elif tag == "li" and self.lists:
            self.end_line()
            item: list[_Block] = []
            self.lists[-1][0].items.append(item)
            self.container = item
        elif tag == "a":
            href = dict(attrs).get("href")
            if href and not self.in_link:
                self.add(_LINK_OPEN, href)
                self.in_link = True
        elif tag in ("td", "th"):
            self.add(_TEXT, " ")
        elif tag in _LINE_TAGS or tag == "li":
            self.end_line()
            if tag == "pre":
                self.in_pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _LISTS and self.lists and self.lists[-1][0].tag == tag:
            self.end_line()
            _, self.container = self.lists.pop()
        elif tag == "a":
            if self.in_link and self.line is not None:
                self.line.pieces.append((_LINK_CLOSE, ""))
            self.in_link = False
        elif tag in _LINE_TAGS or tag == "li":
            self.end_line()
            if tag == "pre":
                self.in_pre = max(0, self.in_pre - 1)

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        if not self.in_pre:
            self.add(_TEXT, data)
            return
        first, *more = data.split("\n")  # in code, each line is a line
        self.add(_TEXT, first)
        for text in more:
            self.end_line()
            self.add(_TEXT, text)

    def result(self) -> list[_Block]:
        self.end_line()
        return self.blocks


def _read(html_text: str) -> list[_Block]:
    """The blocks of some HTML, parsed by libxml2 through lxml (C: a fraction of the time of the
    standard library's HTMLParser, which was most of the cost of this step in a cold build),
    walked in document order without recursion, so no depth of nesting exhausts Python's stack."""
    from lxml import etree

    text = without_control_characters(html_text)
    if not text.strip():
        return []
    try:
        root = etree.fromstring(text, _html_parser())
    except ValueError:  # "&#1;" written as a reference: lxml refuses the character it stands for
        root = etree.fromstring(clean_html(text) or "<p></p>", _html_parser())
    reader = _Reader()
    if root is None:
        return []
    element: Any
    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""  # "" for a comment
        if event == "start":
            reader.handle_starttag(tag, element.items())
            if element.text and tag:
                reader.handle_data(element.text)
        else:
            reader.handle_endtag(tag)
            if element.tail and element is not root:
                reader.handle_data(element.tail)
    return reader.result()


@cache
def _html_parser() -> Any:
    """libxml2's HTML parser: no network, no comments or processing instructions kept."""
    from lxml import etree

    return etree.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)


def _line_html(paragraph: _Paragraph) -> str:
    """A line's text (escaped, white space collapsed, trimmed) and links, as Apple-subset HTML.

    A link with no text is left out (nothing to click); white space before a link goes before it.
    """
    out: list[str] = []
    space = False  # white space since the last text written
    opening: str | None = None  # a link's <a href>, written with its first text
    in_link = False  # an <a> is open in ``out``
    for kind, value in paragraph.pieces:
        if kind == _TEXT:
            text = " ".join(value.split())
            if not text:
                space = space or bool(value)
                continue
            if (space or value[0].isspace()) and out:
                out.append(" ")
            if opening:
                out.append(opening)
                opening, in_link = None, True
            out.append(html.escape(text, quote=False))
            space = value[-1].isspace()
        elif kind == _LINK_OPEN:
            opening = f'<a href="{html.escape(value, quote=True)}">' if is_safe_link(value) else None
        elif in_link:
            out.append("</a>")
            in_link = False
        else:
            opening = None
    return "".join(out)


def _line_text(paragraph: _Paragraph) -> str:
    return " ".join("".join(text for kind, text in paragraph.pieces if kind == _TEXT).split())


def _item_html(item: list[_Block]) -> str:
    """One list item: a single line as it is, several lines each in a <p> (Apple has no <br>)."""
    several = sum(isinstance(block, _Paragraph) for block in item) > 1
    parts = []
    for block in item:
        if isinstance(block, _List):
            parts.append(_block_html(block))
        else:
            parts.append(f"<p>{_line_html(block)}</p>" if several else _line_html(block))
    return f"<li>{''.join(parts)}</li>"


def _block_html(block: _Block) -> str:
    if isinstance(block, _Paragraph):
        return f"<p>{_line_html(block)}</p>"
    items = "".join(_item_html(item) for item in block.items if item)
    return f"<{block.tag}>{items}</{block.tag}>" if items else ""


def _text_lines(blocks: list[_Block]) -> list[str]:
    lines = []
    for block in blocks:
        if isinstance(block, _Paragraph):
            lines.append(_line_text(block))
        else:
            for item in block.items:
                lines.extend(_text_lines(item))
    return lines


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


_ELLIPSIS = "<p>…</p>"


def _fit(blocks: list[_Block], limit: int) -> str:
    """The blocks in Apple's subset, cut between blocks (or list items) to fit ``limit`` bytes.

    A cut description ends with an ellipsis paragraph; the full notes stay in content:encoded.
    A list is cut between its items, so a long list of timestamps keeps the ones that fit.
    """
    rendered = [(block, text) for block in blocks if (text := _block_html(block))]
    whole = "".join(text for _, text in rendered)
    if _size(whole) <= limit:
        return whole
    room = limit - _size(_ELLIPSIS)
    out: list[str] = []
    used = 0
    for block, text in rendered:
        if used + _size(text) <= room:
            out.append(text)
            used += _size(text)
            continue
        first_items = _first_items(block, room - used) if isinstance(block, _List) else ""
        if first_items:
            out.append(first_items)
        elif not out:  # not even the first block fits: cut its text
            return _cut_paragraph(block, limit)
        break
    out.append(_ELLIPSIS)
    return "".join(out)


def _first_items(block: _List, room: int) -> str:
    """The list with as many of its first items as fit in ``room`` bytes, or "" if none does."""
    items: list[str] = []
    for item in block.items:
        if item:
            if _size(f"<{block.tag}>{''.join(items)}{_item_html(item)}</{block.tag}>") > room:
                break
            items.append(_item_html(item))
    return f"<{block.tag}>{''.join(items)}</{block.tag}>" if items else ""


def _cut_paragraph(block: _Block, limit: int) -> str:
    """The text of ``block`` as one paragraph, cut to fit ``limit`` bytes and ending in "…"."""
    text = " ".join(" ".join(_text_lines([block])).split())
    budget = limit - _size("<p>…</p>")
    while True:
        cut = text.encode("utf-8")[:budget].decode("utf-8", "ignore")
        paragraph = f"<p>{html.escape(cut, quote=False)}…</p>"
        if _size(paragraph) <= limit:
            return paragraph
        budget -= _size(paragraph) - limit


def apple_description(html_text: str, *, limit: int = APPLE_DESCRIPTION_LIMIT) -> str:
    """Apple's subset of ``html_text`` (p, ol, ul, li, a href), cut to fit ``limit`` UTF-8 bytes.

    Safe for any HTML: only those tags are written, text escaped, links only where
    ``sanitize.is_safe_link`` allows, no control characters (normally it reads render_html's
    output, which the sanitiser has cleaned already).
    """
    return without_control_characters(_fit(_read(html_text), limit))


def plain_text(html_text: str) -> str:
    """Readable plain text of some HTML: one line per line of the HTML, white space collapsed."""
    return without_control_characters("\n".join(filter(None, _text_lines(_read(html_text)))))


def describe(html_text: str, *, limit: int = APPLE_DESCRIPTION_LIMIT) -> tuple[str, str]:
    """(apple_description(html_text), plain_text(html_text)), reading the HTML once."""
    blocks = _read(html_text)
    text = "\n".join(filter(None, _text_lines(blocks)))
    return without_control_characters(_fit(blocks, limit)), without_control_characters(text)

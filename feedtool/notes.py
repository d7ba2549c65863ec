"""Show notes: Markdown to the HTML apps show, and to the smaller HTML Apple allows.

Podcasters write notes the way they write a YouTube description: one line per timestamp, bare
URLs. So a line that starts with a timestamp keeps its own line (a hard break, where Markdown would
join it to the next), other text is GitHub-flavoured Markdown (cmark-gfm: tables, strikethrough,
bare URLs become links, and script/iframe-like tags are filtered). ``content:encoded`` gets that HTML; ``description`` gets Apple's subset (p, ol, ul, li, a)
within 4,000 bytes, where each line of a paragraph becomes its own ``<p>`` so that Apple still
sees one timestamp per line and builds its description chapters.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

APPLE_DESCRIPTION_LIMIT = 4000  # bytes
_BLOCK_TAGS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "tr"}

#: A line that starts with a timestamp ("[00:00] Intro", "- 1:02:03 Topic", "(12:30) ...").
_TIMESTAMP_LINE = re.compile(r"^\s*(?:[-*+]\s+|\d+[.)]\s+)?[\[(]?\d{1,2}:\d{2}(?::\d{2})?[\])]?(?:\s|$)")


def _keep_timestamp_lines(markdown_text: str) -> str:
    """Hard-break the lines around timestamp lines, so each timestamp keeps a line of its own."""
    lines = markdown_text.split("\n")
    for index in range(len(lines) - 1):
        line = lines[index]
        starts_or_ends_a_timestamp = _TIMESTAMP_LINE.match(line) or _TIMESTAMP_LINE.match(lines[index + 1])
        if starts_or_ends_a_timestamp and line.strip() and lines[index + 1].strip() and not line.endswith("\\"):
            lines[index] = line.rstrip() + "\\"
    return "\n".join(lines)


def render_html(markdown_text: str) -> str:
    """Markdown show notes to HTML for content:encoded (timestamp lines kept, bare URLs linked).

    cmark-gfm (GitHub's C implementation of CommonMark, the renderer behind PyPI's project pages)
    renders a typical episode's notes in well under a millisecond: a pure-Python renderer was the
    largest single cost of a cold build of a big catalogue. Raw HTML the author writes is kept,
    as in any Markdown, except the tags GitHub filters (script, iframe, style ...).
    """
    import cmarkgfm
    from cmarkgfm.cmark import Options

    rendered = cmarkgfm.github_flavored_markdown_to_html(
        _keep_timestamp_lines(markdown_text), options=Options.CMARK_OPT_UNSAFE
    )
    return rendered.strip()


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


def apple_description(html_text: str, *, limit: int = APPLE_DESCRIPTION_LIMIT) -> str:
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
                text = plain_text(block)
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


def plain_text(html_text: str) -> str:
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


def describe(html_text: str, *, limit: int = APPLE_DESCRIPTION_LIMIT) -> tuple[str, str]:
    """(apple_description(html_text), plain_text(html_text)), parsing the HTML once."""
    parser = _Both()
    parser.feed(html_text)
    parser.close()
    return _fit(parser.apple.result(), limit), _joined(parser.text.parts)

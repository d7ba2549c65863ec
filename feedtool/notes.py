"""Show notes: Markdown to the HTML apps show, and to the smaller HTML Apple allows.

Podcasters write notes the way they write a YouTube description: one line per timestamp, bare
URLs. So a line that starts with a timestamp keeps its own line (a hard break, where Markdown would
join it to the next), other text is GitHub-flavoured Markdown (cmark-gfm: tables, strikethrough,
bare URLs become links, and script/iframe-like tags are filtered). ``content:encoded`` gets that HTML;
``description`` gets Apple's subset (p, ol, ul, li, a)
within 4,000 bytes, where each line of a paragraph becomes its own ``<p>`` so that Apple still
sees one timestamp per line and builds its description chapters. Reading cmark-gfm's HTML back
for those takes a regex split, not HTMLParser, unless the author wrote other raw HTML (see "Fast
path" below).
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
    pieces = _fast_tokens(html_text)
    if pieces is not None:
        return _fit(_fast_describe(pieces)[0], limit)
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
    pieces = _fast_tokens(html_text)
    if pieces is not None:
        return _fast_joined(_fast_text(pieces))
    parser = _Text()
    parser.feed(html_text)
    parser.close()
    return _joined(parser.parts)


def _joined(parts: list[str]) -> str:
    lines = [" ".join(line.split()) for line in "".join(parts).splitlines()]
    text = "\n".join(filter(None, lines))
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


# --- Fast path -------------------------------------------------------------------------------
#
# HTMLParser tokenizes in pure Python: it was most of describe()'s time (about 1 s of a cold build
# of 3,000 episodes). cmark-gfm's own output is a small regular language: lowercase tag names,
# attributes written ` name="value"`, empty tags written `<br />`, every `<` of the text escaped
# as `&lt;`. When the HTML is made only of that (every `<` in it starts such a tag, with one of
# the plain tag names below), one regex split finds exactly the tags and text runs HTMLParser
# would report, and one loop applies the _AppleSubset and _Text rules to them. Anything else
# (raw HTML the author wrote in another spelling or with other tags, comments, doctypes, script,
# a stray `<`) takes the HTMLParser path above, so the output is the same either way:
# tests/test_notes_speed_equivalence.py compares both with a frozen copy of the HTMLParser-only code.

#: Tags HTMLParser treats as plain tags (never script/style, whose content it does not parse).
_FAST_TAG_NAMES = (
    "a", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "input", "li", "ol", "p", "pre", "s", "section", "span", "strong",
    "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
)
_FAST_NAME = "(?:" + "|".join(sorted(_FAST_TAG_NAMES, key=len, reverse=True)) + ")"
#: One tag in cmark-gfm's spelling: `</name>`, or `<name>` with ` attribute="value"`s and ` /`.
_FAST_TAG = re.compile(rf'(</{_FAST_NAME}>|<{_FAST_NAME}(?: [a-z][a-z-]*="[^"<>]*")*(?: /)?>)')
_FAST_ATTRIBUTES = re.compile(r' ([a-z][a-z-]*)="([^"<>]*)"')

# What one tag does: (starts a line of plain text, start event, its markup, end event, its markup).
_NOTHING, _BREAK, _BLOCK, _ITEM, _LIST, _LINK = range(6)
_Action = tuple[bool, int, str, int, str]


def _action(tag: str) -> _Action:
    """The _AppleSubset/_Text events HTMLParser reports for one tag matched by ``_FAST_TAG``."""
    if tag[1] == "/":
        name = tag[2:-1]
        kind = _EVENT_KIND.get(name, _NOTHING)
        return False, _NOTHING, "", (_NOTHING if kind == _BREAK else kind), f"</{name}>"
    opened = re.match(r"<([a-z0-9]+)", tag)
    name = opened[1] if opened else ""
    kind = _EVENT_KIND.get(name, _NOTHING)
    opening = f"<{name}>"
    if kind == _LINK:
        href = dict(_FAST_ATTRIBUTES.findall(tag)).get("href")  # HTMLParser: the last one wins
        href = html.unescape(href) if href else href
        kind, opening = (_LINK, f'<a href="{html.escape(href, quote=True)}">') if href else (_NOTHING, "")
    closed = tag.endswith(" />")  # `<x />`: HTMLParser reports the start and then the end of x
    end_kind = _EVENT_KIND.get(name, _NOTHING) if closed else _NOTHING
    return name in _TEXT_BREAK_TAGS, kind, opening, (_NOTHING if end_kind == _BREAK else end_kind), f"</{name}>"


_EVENT_KIND = {"ul": _LIST, "ol": _LIST, "li": _ITEM, "a": _LINK, "br": _BREAK}
_EVENT_KIND.update((tag, _BLOCK) for tag in _BLOCK_TAGS)
_TEXT_BREAK_TAGS = frozenset({"br", "li"} | _BLOCK_TAGS)
#: The actions of every attribute-less tag (nearly all tags in notes); others are worked out per use.
_ACTIONS = {
    tag: _action(tag) for name in _FAST_TAG_NAMES for tag in (f"<{name}>", f"</{name}>", f"<{name} />")
}

#: _tidy's second and third passes as one (spaces are single by then, and removing one never
#: makes another match): a space after an opening tag or before a closing one.
_SPACE_BY_TAG = re.compile(
    r" (?:(?<=> )(?:(?<=<p> )|(?<=<ul> )|(?<=<ol> )|(?<=<li> )|(?<=</li> ))|(?=<(?:/p>|/ul>|/ol>|/li>|li>)))"
)
_BLOCK_SEPARATOR = "\xa4"  # "¤": printable, not whitespace, in no tidy pattern, rare, Latin-1


def _fast_tokens(html_text: str) -> list[str] | None:
    """[text, tag, text, ..., text] split at ``_FAST_TAG``, or None if some ``<`` is not such a tag."""
    pieces = _FAST_TAG.split(html_text)
    if html_text.count("<") != len(pieces) // 2:
        return None  # a `<` in a text run: markup the fast path does not read like HTMLParser
    return pieces


def _tidy_all(blocks: list[str]) -> list[str]:
    """``[_tidy(block) for block in blocks]``, with str methods on all blocks at once.

    _tidy's ``re.sub(r"\\s+", " ", ...)`` changes nothing but line breaks when " " is the only
    other whitespace and never comes twice (str.isprintable() is false for every other whitespace
    character); otherwise it is what " ".join(text.split()) does inside the text (both split at
    str.isspace() characters). The separator between blocks is neither whitespace nor in a pattern.
    """
    if not blocks:
        return []
    joined = _BLOCK_SEPARATOR.join(blocks)
    tidied = joined.replace("\n", " ")
    if not tidied.isprintable() or "  " in tidied:
        tidied = " ".join(joined.split())
        if joined[0].isspace():
            tidied = " " + tidied
        if joined[-1].isspace():
            tidied += " "
    tidied_blocks = _SPACE_BY_TAG.sub("", tidied).split(_BLOCK_SEPARATOR)
    if len(tidied_blocks) != len(blocks):  # a block held the separator itself
        return [_tidy(block) for block in blocks]
    return tidied_blocks


def _close_paragraph(current: list[str], blocks: list[str]) -> list[str]:
    """_AppleSubset._close_paragraph for _fast_describe: the open paragraph becomes a block (an
    empty "<p>" is dropped); returns the new, empty, current block."""
    if len(current) > 1 or current[0] != "<p>":
        blocks.append("".join(current) + "</p>")
    return []


def _fast_describe(pieces: list[str]) -> tuple[list[str], list[str]]:
    """(_AppleSubset.result(), _Text.parts) for HTML split by ``_fast_tokens``.

    The _AppleSubset and _Text handlers, applied in one loop to the events HTMLParser would report.
    """
    blocks: list[str] = []
    current: list[str] = []
    stack: list[str] = []
    in_link = False
    parts: list[str] = []
    actions = _ACTIONS
    tokens = iter([*pieces, None])  # (text, tag) pairs; the last text comes with no tag
    for raw, tag in zip(tokens, tokens, strict=False):
        if raw:  # handle_data
            if "&" in raw:
                data = html.unescape(raw)
                escaped = html.escape(data, quote=False)
            else:
                data = raw
                escaped = raw.replace(">", "&gt;")  # the same str when there is none
            parts.append(data)
            if current:
                current.append(escaped)
            elif not stack and data.strip():
                current.append("<p>")
                current.append(escaped)
        if tag is None:
            break
        text_break, start, opening, end, closing = actions.get(tag) or _action(tag)
        if text_break:
            parts.append("\n")
        if start:  # handle_starttag
            if start == _BREAK:
                if stack:
                    current.append(" ")
                elif current:
                    current = _close_paragraph(current, blocks)
            elif start == _BLOCK:
                if current and not stack:
                    current = _close_paragraph(current, blocks)
            elif start == _ITEM:
                if stack:
                    current.append("<li>")
            elif start == _LIST:
                if current and not stack:
                    current = _close_paragraph(current, blocks)
                stack.append(opening)
                current.append(opening)
            else:  # _LINK with an href
                if not stack and not current:
                    current.append("<p>")
                current.append(opening)
                in_link = True
        if end:  # handle_endtag
            if end == _BLOCK:
                if current and not stack:
                    current = _close_paragraph(current, blocks)
            elif end == _ITEM:
                if stack:
                    current.append("</li>")
            elif end == _LIST:
                if stack:
                    stack.pop()
                    current.append(closing)
                    if not stack:
                        blocks.append("".join(current))
                        current = []
            elif in_link:  # _LINK
                current.append("</a>")
                in_link = False
    if current and not stack:  # result()
        current = _close_paragraph(current, blocks)
    if current:
        blocks.append("".join(current))
    return _tidy_all([block for block in blocks if block.strip()]), parts


def _fast_text(pieces: list[str]) -> list[str]:
    """_Text.parts for HTML split by ``_fast_tokens`` (plus empty strings, which join to nothing)."""
    parts = pieces[:]
    parts[0::2] = [html.unescape(text) if "&" in text else text for text in pieces[0::2]]
    line_of = _LINE_OF_TAG
    parts[1::2] = [line_of[tag] if tag in line_of else _line_of(tag) for tag in pieces[1::2]]
    return parts


def _line_of(tag: str) -> str:
    """"\n" for a tag _Text starts a line at, else ""."""
    return "\n" if _action(tag)[0] else ""


_LINE_OF_TAG = {tag: _line_of(tag) for tag in _ACTIONS}


def _fast_joined(parts: list[str]) -> str:
    """``_joined(parts)``, with str methods on the whole text when it is simple.

    When " " and "\n" are its only whitespace (str.isprintable() is false for every other
    whitespace character, line breaks included) and " " never comes twice, _joined's
    " ".join(line.split()) is line.strip() and "\n" the only line break.
    """
    text = "".join(parts)
    if "  " in text or not text.replace("\n", " ").isprintable():
        return _joined(parts)
    return "\n".join(filter(None, map(str.strip, text.split("\n"))))


def describe(html_text: str, *, limit: int = APPLE_DESCRIPTION_LIMIT) -> tuple[str, str]:
    """(apple_description(html_text), plain_text(html_text)), parsing the HTML once."""
    pieces = _fast_tokens(html_text)
    if pieces is not None:
        blocks, parts = _fast_describe(pieces)
        return _fit(blocks, limit), _fast_joined(parts)
    parser = _Both()
    parser.feed(html_text)
    parser.close()
    return _fit(parser.apple.result(), limit), _joined(parser.text.parts)

"""Show notes from a feed (HTML) into the Markdown of episode.md.

The conversion itself is html-to-markdown's (a maintained converter with a Rust core, MIT licensed;
it parses broken HTML the way browsers do, with html5ever). It is behind this module alone. We
chose it over markdownify (the same output style, pure Python on BeautifulSoup) for speed: a
3,000-episode catalogue converts in well under a second instead of about ten (figures in
docs/benchmarks.md), and import has a budget of three times podcastparser's parse.

What this module adds is what makes the Markdown say the same thing when feedtool renders it back
(``feedtool.notes.render_html``, cmark-gfm): the few characters in the notes' *text* that Markdown
would read as markup are escaped before conversion (a literal ``<b>`` typed in the notes, a
literal ``&copy;``, backticks, ``~~``, ``[text](url)``), and timestamps are left as people wrote
them, so ``[00:00] Intro`` stays a chapter line. Relative links are resolved against the item's
base URL by the converter. tests/test_import_markdown.py renders the result back and compares.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

#: The text between tags (group 2), and the tags (group 1). A "<" that starts no tag is text.
_TEXT = re.compile(r"(<[^>]*>)|([^<]+|<)")
_LITERAL_TAG = re.compile(r"&(?:lt|#60|#x3[cC]);(?=[A-Za-z/!?])")
_LITERAL_ENTITY = re.compile(r"&(?:amp|#38|#x26);(?=#?[A-Za-z0-9]+;)")
_BACKTICK = re.compile(r"`|&#96;|&#x60;")
_TILDES = re.compile(r"~~")
_LINK_LIKE = re.compile(r"\]\(")
#: Web addresses written as text: cmark-gfm links them, and a backslash inside one would end up in the link.
_URLISH = re.compile(r"(?:https?://|www\.)[^\s<]+")
_ASTERISK = re.compile(r"\*")
#: An underscore that could open or close emphasis: not between two letters or digits (snake_case is safe).
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_CODE = re.compile(r"<(?:code|pre)\b", re.I)
#: Control characters that XML 1.0 cannot carry and episode.md may not contain.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
#: Stands for a backslash while the converter runs (it would escape a real one); a private-use
#: character no notes contain (any that do lose it).
_MARK = "\ue000"


def _escape_plain(text: str) -> str:
    text = _LITERAL_TAG.sub(_MARK + "&lt;", text)
    text = _LITERAL_ENTITY.sub(_MARK + "&amp;", text)
    text = _BACKTICK.sub(_MARK + "`", text)
    text = _TILDES.sub(_MARK + "~" + _MARK + "~", text)
    text = _ASTERISK.sub(_MARK + "*", text)
    text = _UNDERSCORE.sub(_MARK + "_", text)
    return _LINK_LIKE.sub("]" + _MARK + "(", text)


_SPECIAL = re.compile(r"[*_`~\]]|&(?:lt|amp|#)")


def _escape_text(text: str) -> str:
    """Mark the characters of one text run that Markdown would read as markup (not inside addresses)."""
    if not _SPECIAL.search(text):
        return text
    parts = []
    last = 0
    for match in _URLISH.finditer(text):
        parts.append(_escape_plain(text[last:match.start()]))
        parts.append(match.group())
        last = match.end()
    parts.append(_escape_plain(text[last:]))
    return "".join(parts)


def _protect(html: str) -> str:
    """Mark the markup-like characters of the text between tags (not inside code)."""
    html = html.replace(_MARK, "")
    if _CODE.search(html):
        return html  # a backslash inside code would be shown: code is rare in notes, keep it exact
    return "".join(tag or _escape_text(text) for tag, text in _TEXT.findall(html))


@lru_cache(maxsize=64)
def _options(base_url: str | None) -> Any:
    """The converter's options, made once per base URL (and, where the binding allows, turned into
    its native form once: doing that on every call cost more than the conversion itself)."""
    from html_to_markdown import ConversionOptions

    options = ConversionOptions(
        heading_style="atx",
        bullets="-",
        strong_em_symbol="*",
        escape_asterisks=False,  # done by _protect, which leaves web addresses alone
        escape_underscores=False,
        escape_misc=False,  # it would also escape [ ] and break "[00:00] Intro" chapter lines
        autolinks=True,
        extract_metadata=False,
        newline_style="spaces",
        base_url=base_url,
    )
    native = _native()
    return native[1](options) if native else options


@lru_cache(maxsize=1)
def _native() -> tuple[Any, Any] | None:
    """(convert, options converter) of the binding itself, when this version has them; else None."""
    try:
        from html_to_markdown import _html_to_markdown, api

        return _html_to_markdown.convert, api._to_rust_conversion_options
    except (ImportError, AttributeError):
        return None


def looks_like_html(text: str) -> bool:
    """True when a description is HTML (any tag or entity), not plain text with line breaks."""
    return ("<" in text and ">" in text) or ("&" in text and ";" in text)


def to_markdown(html: str, *, base_url: str | None = None) -> str:
    """Markdown for notes written as HTML (or as plain text: its line breaks are kept)."""
    from html_to_markdown import convert

    text = _CONTROL.sub("", html.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not text:
        return ""
    if not looks_like_html(text):
        # plain text: keep each line a line (a timestamp list stays one chapter per line)
        text = "<p>" + "</p><p>".join(
            "<br>".join(_escape_html(line) for line in block.split("\n"))
            for block in re.split(r"\n\s*\n", text)
        ) + "</p>"
    native = _native()
    if native is not None:
        result = native[0](html=_protect(text), options=_options(base_url), visitor=None)
    else:
        result = convert(_protect(text), _options(base_url))
    markdown = getattr(result, "content", result) or ""
    return _CONTROL.sub("", str(markdown)).replace(_MARK, "\\").strip() + "\n"


def _escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

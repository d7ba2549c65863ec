"""The one HTML sanitiser: what show notes may put into the feed (and the website).

Show notes are Markdown, and Markdown lets an author write raw HTML. Podcast apps and web pages
show that HTML, so anything that runs code or changes the page must go: event handlers
(``onerror``, ``onload`` ...), ``style``, ``<script>``, ``<svg>``, ``<iframe>``, forms,
``<meta http-equiv=refresh>``, and links or pictures with any scheme but http(s) (``javascript:``,
``data:``, relative URLs that no feed reader can resolve). This is an allow-list, not a block-list:
what is not named below is removed, and only what podcasters use in show notes is named
(paragraphs, headings, lists, links, emphasis, code, quotes, tables and pictures).

The work is done by nh3, the Python binding of ammonia (Rust): it parses the HTML the way a
browser's HTML5 parser does, so no spelling of a tag or of ``java&#x09;script:`` slips past a
pattern, and it writes well-formed HTML back. Its output is what feedtool publishes, everywhere
it publishes show notes: content:encoded, the Apple description (made from this HTML) and the
site.

Control characters are removed here too (whether written raw or as ``&#1;``): XML 1.0 forbids
most of them, so lxml refuses to write a feed holding one, and no app shows them.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import nh3

#: Tags kept in content:encoded. Anything else is dropped, its text kept.
TAGS = frozenset({
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code", "kbd", "samp",
    "strong", "b", "em", "i", "u", "s", "del", "ins", "mark", "small", "sub", "sup", "abbr", "cite", "q",
    "ul", "ol", "li", "dl", "dt", "dd", "a", "img", "figure", "figcaption",
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "span", "div",
})
#: Attributes kept, per tag: no event handlers, no style, no class or id (they reach into the page).
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start", "reversed"},
    "li": {"value"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "td": {"align", "colspan", "rowspan"},
    "abbr": {"title"},
    "q": {"cite"},
    "blockquote": {"cite"},
}
#: The only URL schemes kept in href and src; relative URLs are dropped (no base in a feed).
URL_SCHEMES = frozenset({"http", "https", "mailto"})
#: Tags removed together with what is inside them (their text is no show note).
DROPPED_WITH_CONTENT = frozenset({
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "noscript",
    "noembed", "noframes", "template", "svg", "math", "title", "textarea", "select", "xmp",
})

#: Characters that are never published: C0 and C1 controls but tab, line feed and carriage return,
#: and the code points XML 1.0 forbids (U+FFFE, U+FFFF, lone surrogates).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


def without_control_characters(text: str) -> str:
    """``text`` without the characters feedtool never publishes (see ``_CONTROL``)."""
    return text if text.isprintable() else _CONTROL.sub("", text)  # no control is printable


def is_safe_link(url: str) -> bool:
    """True for a URL that feedtool may publish as a link: one of ``URL_SCHEMES``, spelled plainly.

    For code that writes links itself (Apple's description, chapters): the same rule nh3 applies
    in ``clean_html``, as a positive prefix check, so no spelling of another scheme passes.
    """
    return url.lstrip().lower().startswith(tuple(f"{scheme}:" for scheme in sorted(URL_SCHEMES)))


@cache
def _cleaner() -> nh3.Cleaner:
    import nh3

    return nh3.Cleaner(
        tags=set(TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        url_relative="deny",
        link_rel=None,  # no rel="noopener noreferrer" on every link: no link opens a window
        strip_comments=True,
    )


def clean_html(html: str) -> str:
    """``html`` with only the allowed tags, attributes and URLs, and no control characters.

    The result is well-formed HTML (every tag closed, attributes quoted), the same for the same
    input. Cleaning it again changes nothing.
    """
    return without_control_characters(_cleaner().clean(html))

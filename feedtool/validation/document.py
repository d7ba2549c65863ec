"""The parsed feed as the checks see it, and the context they report findings to.

Each <item> is indexed once (its child elements by tag) so that the rules over 3,000 episodes do
dictionary look-ups instead of XPath searches; that is what keeps validation faster than parsing
with podcastparser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from feedtool.validation.report import Finding
from feedtool.validation.xmlsafe import PODCAST_NS as PODCAST
from feedtool.validation.xmlsafe import PODCAST_NS_OLD as PODCAST_ALT

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
ATOM = "http://www.w3.org/2005/Atom"
__all__ = ["ATOM", "CONTENT", "ITUNES", "PODCAST", "PODCAST_ALT", "Context", "Node", "Options", "it", "pc"]


def it(name: str) -> str:
    return "{" + ITUNES + "}" + name


def pc(name: str) -> str:
    return "{" + PODCAST + "}" + name


class Node:
    """A channel or an item: its element and its child elements grouped by (Clark) tag.

    Elements of the old Podcasting 2.0 namespace URI are already in the current one (xmlsafe.parse
    renames them), so a look-up by ``pc(name)`` finds either.
    """

    __slots__ = ("_guid", "_title", "children", "el", "index")

    def __init__(self, el: Any, index: int | None) -> None:
        self.el = el
        self.index = index
        children: dict[str, list[Any]] = {}
        for child in el:
            tag = child.tag
            if tag.__class__ is not str:  # comments, processing instructions
                continue
            bucket = children.get(tag)
            if bucket is None:
                children[tag] = [child]
            else:
                bucket.append(child)
        self.children = children
        self._title: str | None = None
        self._guid: str | None = None

    def all(self, tag: str) -> list[Any]:
        return self.children.get(tag, [])

    def first(self, tag: str) -> Any | None:
        found = self.children.get(tag)
        return found[0] if found else None

    def text(self, tag: str) -> str | None:
        """The text of the first child with this tag (None when absent)."""
        found = self.children.get(tag)
        if not found:
            return None
        return found[0].text or ""

    @property
    def title(self) -> str:
        if self._title is None:
            self._title = (self.text("title") or "").strip()
        return self._title

    @property
    def guid(self) -> str:
        if self._guid is None:
            self._guid = (self.text("guid") or "").strip()
        return self._guid


@dataclass
class Options:
    """What the caller asked for, and what the feed's location implies."""

    feed_url: str | None = None  # the URL the feed is served at (self link, or the URL read)
    source_url: str | None = None  # the URL the feed was read from, if any
    base_url: str | None = None  # URLs under this map to files under base_dir
    base_dir: Path | None = None
    local_media: bool = False  # check files under base_dir
    http_media: bool = False  # check other URLs over HTTP
    max_bytes: int = 100 * 1024 * 1024
    now_ts: float | None = None  # for the future-date rule; None = time.time()
    timeout_s: float = 30.0  # per HTTP request: connect, headers and body together
    #: which hosts answered or not in this run (media.HostGate; made by the first request)
    hosts: object | None = None


@dataclass
class Context:
    """Collects findings; each finding names the rule, and the channel or episode it is about."""

    options: Options
    findings: list[Finding] = field(default_factory=list)
    channel: Node | None = None
    items: list[Node] = field(default_factory=list)
    #: enclosures a feedtool build left out of public/ (validation.media reads them once)
    elsewhere_media: dict[str, tuple[int, str]] | None = None

    def emit(self, rule_id: str, message: str, *, node: Node | None = None, el: Any = None,
             line: int | None = None, fix: str | None = None, subject: str | None = None,
             scope: str | None = None) -> None:
        if line is None and el is not None:
            line = el.sourceline
        if line is None and node is not None:
            line = node.el.sourceline
        if node is not None and node.index is not None:
            self.findings.append(Finding.make(rule_id, message, fix=fix, line=line, scope="item",
                                              item_index=node.index, item_title=node.title or None,
                                              item_guid=node.guid or None, subject=subject))
        else:
            self.findings.append(Finding.make(rule_id, message, fix=fix, line=line,
                                              scope=scope or "channel", subject=subject))

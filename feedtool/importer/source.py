"""Read the feed to import: fetch it (feedtool.net), parse it safely (xmlsafe), check it is a podcast.

The feed is someone else's file: it may be huge, hostile (entities, DTDs), not UTF-8, not RSS at
all (an Atom feed, the show's web page), or a podcast feed with relative URLs. Everything here
either hands back a parsed ``<channel>`` with what is needed to resolve its URLs, or raises a
``FeedReadError`` (exit 2) that says what the input is and what to give instead.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from feedtool.errors import FeedReadError

ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST_NS = "https://podcastindex.org/namespace/1.0"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
ATOM_NS = "http://www.w3.org/2005/Atom"
PSC_NS = "http://podlove.org/simple-chapters"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
#: Spellings of the iTunes namespace that apps accept although they are not Apple's (case, https).
_ITUNES_ALIASES = (
    "http://www.itunes.com/DTDs/Podcast-1.0.dtd",
    "https://www.itunes.com/dtds/podcast-1.0.dtd",
    "http://www.itunes.com/DTDs/podcast-1.0.dtd",
)

#: Import refuses feeds larger than this unless --max-size raises it: a 3,000-episode feed with full
#: show notes is 12-15 MB; a feed several times that is more likely a mistake (or an attack).
DEFAULT_MAX_MB = 32


@dataclass(frozen=True)
class Feed:
    """A parsed podcast feed: its <channel>, where it came from, and the URL its links are relative to."""

    channel: Any  # lxml element
    name: str  # what the user gave (for messages)
    url: str | None  # the feed's own URL: the final URL after redirects, or atom:link rel=self for a file
    redirected_from: str | None  # the URL the user gave, when the server redirected elsewhere
    size: int

    def resolve(self, el: Any, value: str | None) -> str | None:
        """``value`` (a URL written in ``el``) made absolute against xml:base and the feed's URL.

        Returns None for an empty value, and the value unchanged when there is no base to resolve
        a relative one against (the caller reports it).
        """
        if value is None:
            return None
        value = value.strip()
        if not value:
            return None
        if value.startswith(("http://", "https://")):
            return value
        base = self.base_of(el)
        return urljoin(base, value) if base else value

    def base_of(self, el: Any) -> str | None:
        """The base URL in effect at ``el``: the feed URL, then each xml:base from the root down."""
        bases = []
        node = el
        while node is not None:
            declared = node.get(XML_BASE)
            if declared:
                bases.append(declared.strip())
            node = node.getparent()
        base = self.url
        for declared in reversed(bases):
            base = urljoin(base, declared) if base else declared
        return base


def read_feed(source: str, *, max_bytes: int, timeout_s: float) -> Feed:
    """Fetch or open the feed, parse it and check that it is an RSS podcast feed."""
    from feedtool.validation.xmlsafe import NotWellFormed, parse, read_source

    data, where = read_source(source, max_bytes=max_bytes, timeout_s=timeout_s)
    name = where.name
    data = _as_utf8(data, name, where.headers)
    try:
        root = parse(data, name)
    except NotWellFormed as broken:
        raise FeedReadError(
            f"not a feed that can be read: {broken.message}",
            path=name,
            line=broken.line,
            hint=_not_well_formed_hint(data, broken.rule),
        ) from None
    channel = _podcast_channel(root, name)
    _normalise_itunes_namespace(channel)
    url = where.url
    redirected = None
    if url is not None and url != source:
        redirected = source
    if url is None:  # a file: its own address is what it says it is
        for link in channel.iterfind(f"{{{ATOM_NS}}}link"):
            if (link.get("rel") or "") == "self" and (link.get("href") or "").startswith(("http://", "https://")):
                url = link.get("href").strip()
                break
    return Feed(channel=channel, name=name, url=url, redirected_from=redirected, size=len(data))


def _as_utf8(data: bytes, name: str, headers: dict[str, str] | None) -> bytes:
    """The bytes as UTF-8 where the feed says (XML declaration, else HTTP charset) it is not.

    lxml honours an XML declaration itself; a feed without one whose server says
    ``charset=iso-8859-1`` is recoded here, since XML alone would read it as UTF-8.
    """
    from feedtool.validation.xmlsafe import declared_encoding

    if declared_encoding(data) is not None or data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return data
    charset = ""
    content_type = (headers or {}).get("content-type", "")
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset":
            charset = value.strip().strip("\"'")
    if not charset:
        return data
    try:
        codec = codecs.lookup(charset)
    except LookupError:
        return data
    if codec.name == "utf-8":
        return data
    try:
        data.decode("utf-8")
        return data  # already valid UTF-8: the header is wrong, the bytes are right
    except UnicodeDecodeError:
        pass
    try:
        return data.decode(codec.name).encode("utf-8")
    except UnicodeDecodeError:
        raise FeedReadError(f"the server says the feed is {charset}, but it is not", path=name,
                            hint="save the feed as a file, fix its encoding, and import the file") from None


def _not_well_formed_hint(data: bytes, rule: str) -> str:
    if rule == "xml.encoding":
        return ("the feed is not UTF-8 and does not say what it is: download it, add "
                "<?xml version=\"1.0\" encoding=\"windows-1252\"?> (or its real encoding) as the first line, "
                "and import the file")
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "this is a web page, not a feed: give the address of the show's RSS feed (often linked as 'RSS')"
    return ("the old host's feed is broken at that line: ask the host to fix it, or download it, fix it "
            "and import the file")


def _podcast_channel(root: Any, name: str) -> Any:
    """The <channel> of an RSS 2.0 feed, or a message that says what the document is instead."""
    tag = root.tag if isinstance(root.tag, str) else ""
    local = tag.rsplit("}", 1)[-1].lower()
    if local == "html":
        raise FeedReadError("this is a web page, not a podcast feed", path=name,
                            hint="give the address of the show's RSS feed (the host shows it as 'RSS feed')")
    if tag == f"{{{ATOM_NS}}}feed":
        raise FeedReadError("this is an Atom feed; podcast apps and feedtool import RSS 2.0 podcast feeds",
                            path=name, hint="give the show's RSS feed (the one Apple Podcasts is given)")
    if local != "rss":
        raise FeedReadError(f"this is not an RSS feed (its root element is <{local or tag}>)", path=name,
                            hint="give the address of the show's RSS feed")
    channel = root.find("channel")
    if channel is None:
        raise FeedReadError("the feed has no <channel>", path=name, hint="give the show's RSS feed")
    items = channel.findall("item")
    if not any(item.find("enclosure") is not None for item in items):
        what = "no episodes" if not items else f"{len(items)} item(s), none with audio (an <enclosure>)"
        raise FeedReadError(f"this RSS feed is not a podcast: it has {what}", path=name,
                            hint="give the podcast's feed (the one with the episodes' audio)")
    return channel


def _normalise_itunes_namespace(channel: Any) -> None:
    """Rename elements of the iTunes namespace's wrong spellings into the right one (apps accept both)."""
    for alias in _ITUNES_ALIASES:
        prefix = "{" + alias + "}"
        for el in list(channel.iter(prefix + "*")):
            el.tag = "{" + ITUNES_NS + "}" + el.tag[len(prefix):]


def host_of(url: str) -> str:
    return urlsplit(url).netloc.lower()


def is_file_source(source: str) -> bool:
    return not source.startswith(("http://", "https://")) and Path(source).exists()

"""Which published objects a feed points at: every URL under the show's base URL, as a key.

Used twice: before a feed goes live, every object it references must exist on the target with
the right size; and ``--delete`` keeps every object a recently live feed referenced. The feed is
read with the safe parser (no DTD, no network). Every attribute and text that starts with the
base URL counts (enclosures, alternate enclosures, images, chapters, transcripts, whatever a
later tag adds), and so do the URLs inside the chapters files it references (chapter images).
A feed paged with RFC 5005 archive pages (``feed: {max_items: N}``, feedtool.archive) links only
its newest page; each page links the next older one. The pages are part of the feed: what they
reference (the archived episodes' media, chapters, ...) and the older pages they link count too,
so a page is verified before the feed goes live and kept for the grace period like media.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from feedtool.errors import FeedtoolError

ATOM = "{http://www.w3.org/2005/Atom}"
#: RFC 5005 marks an archive page with <fh:archive/> in its channel
FH_ARCHIVE = "{http://purl.org/syndication/history/1.0}archive"


def base_url_of(root: Any, feed_key: str) -> str | None:
    """The URL public/ is served under, from the feed's own ``atom:link rel="self"``."""
    for link in root.iter(f"{ATOM}link"):
        if link.get("rel") == "self" and link.get("href"):
            href = str(link.get("href"))
            if href.endswith("/" + feed_key):
                return href[: -len(feed_key)]
            return href.rsplit("/", 1)[0] + "/"
    return None


def key_of(url: str, base: str) -> str | None:
    """The key a URL names under ``base`` (None if it points elsewhere, or at a folder)."""
    if not url.startswith(base):
        return None
    path = urlsplit(url[len(base) :]).path
    key = unquote(path)
    if not key or key.endswith("/") or key.startswith("/"):
        return None
    return key


def _urls(root: Any) -> Iterable[str]:
    for element in root.iter():
        for value in element.attrib.values():
            yield str(value).strip()
        if element.text and "://" in element.text:
            yield element.text.strip()


def feed_references(
    data: bytes,
    feed_key: str,
    *,
    base_url: str | None = None,
    read_side_file: Callable[[str], bytes | None] | None = None,
) -> set[str]:
    """The keys a feed references (an unreadable feed references nothing we can name).

    ``read_side_file(key)`` gives the bytes of a referenced chapters file, whose own URLs
    (chapter images) count too, or of a referenced archive page (an ``.xml`` key), whose own
    references count too, page after page (None: not available, only the key itself counts).
    """
    root = _parse(data, feed_key)
    if root is None:
        return set()
    base = base_url or base_url_of(root, feed_key)
    if not base:
        return set()
    keys = _keys(root, base, feed_key)
    if read_side_file is None:
        return keys
    done: set[str] = set()
    while todo := sorted(k for k in keys - done if k.endswith((".json", ".xml"))):
        for key in todo:
            done.add(key)
            side = read_side_file(key)
            if not side:
                continue
            if key.endswith(".json"):
                keys |= json_references(side, base)
            elif (page := _parse(side, key)) is not None and page.find(f"channel/{FH_ARCHIVE}") is not None:
                keys |= _keys(page, base, feed_key)  # an RFC 5005 archive page (not another show's feed)
    return keys


def _parse(data: bytes, name: str) -> Any:
    from feedtool.validation.xmlsafe import NotWellFormed, parse

    try:
        return parse(data, name)
    except (FeedtoolError, NotWellFormed, ValueError):
        return None


def _keys(root: Any, base: str, feed_key: str) -> set[str]:
    keys = {key for url in _urls(root) if (key := key_of(url, base)) is not None and key != feed_key}
    return keys | _stylesheet_keys(root, base, feed_key)


def _stylesheet_keys(root: Any, base: str, feed_key: str) -> set[str]:
    """The files of ``<?xml-stylesheet href=".."?>`` lines before the root (the website's view of
    the feed in a browser): a cached feed still links them, so they are kept like media."""
    found: set[str] = set()
    for node in root.itersiblings(preceding=True):
        if getattr(node, "target", None) != "xml-stylesheet" or not hasattr(node, "get"):
            continue
        href = (node.get("href") or "").strip()
        if not href or href.startswith("/"):
            continue
        if "://" in href:
            key = key_of(href, base)
        else:
            key = posixpath.normpath(posixpath.join(posixpath.dirname(feed_key), href))
            key = None if key.startswith("..") else key
        if key:
            found.add(key)
    return found


def json_references(data: bytes, base: str) -> set[str]:
    """Keys named by URLs anywhere in a JSON document (a chapters file's images)."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return set()
    found: set[str] = set()
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and (key := key_of(item.strip(), base)) is not None:
            found.add(key)
    return found

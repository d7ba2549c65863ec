"""RFC 5005 archive pages: follow a feed's prev-archive links, so that no episode is missed.

A feed that keeps only its newest episodes (``feed: {max_items: N}``) links to archive pages with
``atom:link rel="prev-archive"``; each page links to the next older one. `feedtool validate`
follows the chain to check it and to see every guid (``--against`` compares all of them with the
live feed's, pages included), and `feedtool publish` does the same before it replaces the live
feed. The same limits hold as for any fetch: http(s) only through feedtool.net, at most
``max_bytes`` per page, at most MAX_PAGES pages, and a page seen twice ends the walk (a loop).
A page of a local build is the file at the same place under the feed's folder, never outside it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from feedtool.errors import FeedReadError
from feedtool.validation.document import ATOM
from feedtool.validation.report import Finding
from feedtool.validation.xmlsafe import NotWellFormed, parse

FH = "{http://purl.org/syndication/history/1.0}"
MAX_PAGES = 1000
#: reads one page: its bytes, or None when it is not there
Reader = Callable[[str], bytes | None]


@dataclass
class Chain:
    """The archive pages behind a feed, newest first, and what went wrong on the way."""

    pages: list[tuple[str, bytes]] = field(default_factory=list)  # (url, bytes)
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.problems


def links(data: bytes, name: str) -> dict[str, str]:
    """The channel's atom:link hrefs by rel (the first of each), and 'fh:archive' when marked."""
    try:
        root = parse(data, name)
    except NotWellFormed as broken:
        raise FeedReadError(f"not a feed: {broken.message}", path=name, line=broken.line) from None
    channel = root.find("channel")
    found: dict[str, str] = {}
    if channel is None:
        return found
    for el in channel.iterfind("{" + ATOM + "}link"):
        rel, href = (el.get("rel") or "").strip(), (el.get("href") or "").strip()
        if rel and href and rel not in found:
            found[rel] = href
    if channel.find(FH + "archive") is not None:
        found["fh:archive"] = "yes"
    return found


def follow(data: bytes, name: str, read: Reader, *, feed_url: str | None = None,
           max_pages: int = MAX_PAGES) -> Chain:
    """Walk prev-archive from the feed ``data``; each page is checked as RFC 5005 asks."""
    chain = Chain()
    seen = {feed_url} if feed_url else set()
    base = feed_url or name
    href = links(data, name).get("prev-archive")
    while href:
        url = urljoin(base, href)
        if url in seen:
            chain.problems.append(f"the archive pages loop: {url} is linked twice")
            break
        if len(chain.pages) >= max_pages:
            chain.problems.append(f"more than {max_pages} archive pages; the rest were not read")
            break
        seen.add(url)
        try:
            page = read(url)
        except FeedReadError as error:
            chain.problems.append(f"the archive page {url} cannot be read: {error.message}")
            break
        if page is None:
            chain.problems.append(f"the archive page {url} is missing")
            break
        try:
            page_links = links(page, url)
        except FeedReadError as error:
            chain.problems.append(f"the archive page {url} is not a feed: {error.message}")
            break
        chain.pages.append((url, page))
        if "fh:archive" not in page_links:
            chain.problems.append(f"the archive page {url} has no <fh:archive/> (RFC 5005 marks archive pages so)")
        if feed_url and page_links.get("current") and urljoin(url, page_links["current"]) != feed_url:
            chain.problems.append(f"the archive page {url} names {page_links['current']} as the current feed, "
                                  f"not {feed_url}")
        elif "current" not in page_links:
            chain.problems.append(f"the archive page {url} has no atom:link rel=\"current\" back to the feed")
        base, href = url, page_links.get("prev-archive")
    return chain


def local_reader(folder: Path, base_url: str, *, max_bytes: int) -> Reader:
    """Pages of a build (or a published folder): URLs under ``base_url`` are files under ``folder``."""
    root = os.path.abspath(folder)

    def read(url: str) -> bytes | None:
        if not url.startswith(base_url):
            raise FeedReadError(f"it is not under {base_url}, where this feed's files are")
        path = os.path.normpath(os.path.join(root, unquote(urlsplit(url[len(base_url):]).path)))
        if not path.startswith(root.rstrip(os.sep) + os.sep):
            raise FeedReadError("it points outside the feed's folder")
        try:
            if os.path.getsize(path) > max_bytes:
                raise FeedReadError(f"it is over {max_bytes // (1024 * 1024)} MB")
            with open(path, "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise FeedReadError(error.strerror or str(error)) from None

    return read


def http_reader(*, max_bytes: int, deadline_s: float = 30.0) -> Reader:
    """Pages over HTTP through feedtool.net (http and https only, capped, one deadline each)."""
    from feedtool.net import NetworkError, request

    def read(url: str) -> bytes | None:
        try:
            response = request(url, max_body=max_bytes, deadline_s=deadline_s)
        except NetworkError as error:
            raise FeedReadError(error.reason) from None
        if response.status in (404, 410):
            return None
        if response.status != 200:
            raise FeedReadError(f"the server answered {response.status}")
        if response.too_big:
            raise FeedReadError(f"it is over {max_bytes // (1024 * 1024)} MB")
        return response.body

    return read


def reader_for(path: Path | None, data: bytes, name: str, *, base_url: str | None, max_bytes: int,
               deadline_s: float = 30.0) -> tuple[Reader, str | None]:
    """How to read the pages of a feed read from ``path`` (a file) or a URL, and the feed's own URL."""
    self_url = links(data, name).get("self")
    if path is None:
        return http_reader(max_bytes=max_bytes, deadline_s=deadline_s), self_url or name
    base = base_url or (self_url.rsplit("/", 1)[0] + "/" if self_url else None)
    if base is None:
        def nowhere(url: str) -> bytes | None:
            raise FeedReadError("the feed has no atom:link rel=\"self\", so its folder's URL is unknown (pass "
                                "--base-url)")
        return nowhere, None
    if not base.endswith("/"):
        base += "/"
    return local_reader(path.parent, base, max_bytes=max_bytes), self_url


def findings(data: bytes, chain: Chain, name: str) -> list[Finding]:
    """directory.archive findings: a broken chain, and a guid in more than one document."""
    from feedtool.validation.live import episodes

    result = [Finding.make("directory.archive", problem, scope="feed", subject="atom:link@rel=prev-archive")
              for problem in chain.problems]
    where: dict[str, str] = {}
    for url, page in [(name, data), *chain.pages]:
        try:
            found = episodes(page, url)
        except FeedReadError:
            continue
        for episode in found:
            if not episode.guid:
                continue
            other = where.setdefault(episode.guid, url)
            if other != url:
                result.append(Finding.make(
                    "directory.archive", f"the guid {episode.guid} is in {other} and again in {url}: apps would "
                    "show the episode twice", scope="feed", subject="guid"))
    return result


def chain_of(data: bytes, name: str, path: Path | None, *, base_url: str | None, max_bytes: int,
             timeout_s: float = 30.0) -> Chain | None:
    """The archive chain of a feed read from ``path`` or a URL; None when it links no archive page.

    ``timeout_s`` bounds each page's request (validate --timeout)."""
    head = data.find(b"<item")
    if b"prev-archive" not in (data if head == -1 else data[:head]):
        return None
    try:
        read, feed_url = reader_for(path, data, name, base_url=base_url, max_bytes=max_bytes,
                                    deadline_s=timeout_s)
        return follow(data, name, read, feed_url=feed_url)
    except FeedReadError:
        return None  # a feed that does not parse: its document findings (xml.well-formed) say why


def target_reader(get_bytes: Callable[[str], bytes | None], data: bytes, name: str) -> Reader:
    """Pages of a live feed on a publish target: URLs under the feed's folder are keys next to it."""
    from feedtool.errors import InputError
    from feedtool.storage import check_relative_key

    def read(url: str) -> bytes | None:
        self_url = links(data, name).get("self")  # read lazily: an unreadable live feed is the caller's to report
        base = self_url.rsplit("/", 1)[0] + "/" if self_url else None
        if base is None or not url.startswith(base):
            raise FeedReadError(f"it is not under {base or 'the feed folder'}, so it is not on this target")
        key = unquote(urlsplit(url[len(base):]).path)
        try:
            check_relative_key(key)
        except InputError as error:
            raise FeedReadError(error.message) from None
        return get_bytes(key)

    return read


def pages_for_compare(data: bytes, name: str, read: Reader) -> list[bytes]:
    """Every archive page behind ``data`` for the removal guard; FeedReadError if the chain is broken."""
    head = data.find(b"<item")
    if b"prev-archive" not in (data if head == -1 else data[:head]):
        return []
    chain = follow(data, name, read, feed_url=links(data, name).get("self"))
    if chain.problems:
        raise FeedReadError(f"{name}: {chain.problems[0]}")
    return [page for _, page in chain.pages]

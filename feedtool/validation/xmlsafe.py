"""Read a feed (file or URL) and parse it safely, whoever wrote it.

A feed is untrusted input: it may declare entities that expand to gigabytes (billion laughs), point
an external entity at a local file (XXE), or simply be huge. So: the size is checked before parsing
(a stat for files, a counted read for URLs), a document type with entity declarations is refused
before the parser sees it, and lxml runs with entity resolution, DTD loading and network access
off and libxml2's size limits on. Anything unusable raises FeedReadError (exit 2) with a clear
message; a document that is merely not well-formed is a finding, because that is the answer a
podcaster wants from a validator.
"""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feedtool.errors import FeedReadError

#: The default size cap: a 3,000-episode feed is about 15 MB; Apple's crawler gives up far sooner.
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
USER_AGENT = "feedtool-validate/1 (+https://github.com/)"
TIMEOUT_S = 20.0  # per socket operation
DEADLINE_S = 120.0  # for a whole body

_ENCODING_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


@dataclass(frozen=True)
class FeedSource:
    """Where a feed came from: a local file (path) or a URL."""

    name: str  # what the user gave, for messages
    path: Path | None = None
    url: str | None = None  # the final URL after redirects, for URL sources
    headers: dict[str, str] | None = None  # the response headers (lower-case names), for URL sources

    @property
    def is_url(self) -> bool:
        return self.url is not None


def is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def read_source(source: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[bytes, FeedSource]:
    """The bytes of a feed file or URL, refusing anything over ``max_bytes``."""
    text = str(source)
    if is_url(text):
        data, final_url, headers = fetch_url(text, max_bytes=max_bytes, what="feed")
        return data, FeedSource(name=text, url=final_url, headers=headers)
    path = Path(source)
    if path.is_dir() and (path / "feed.xml").is_file():
        path = path / "feed.xml"  # `feedtool validate public/`
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise FeedReadError("no such file", path=path,
                            hint="run `feedtool build` first, or give the path or URL of a feed") from None
    except OSError as error:
        raise FeedReadError(f"cannot read the feed: {error.strerror}", path=path) from None
    if path.is_dir():
        raise FeedReadError("is a folder, not a feed file", path=path, hint="give the path of feed.xml")
    if size > max_bytes:
        raise FeedReadError(_too_big(size, max_bytes), path=path, hint=_TOO_BIG_HINT)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise FeedReadError(f"cannot read the feed: {error.strerror}", path=path) from None
    return data, FeedSource(name=str(path), path=path)


_MB = 1024 * 1024
_TOO_BIG_HINT = "raise the limit with --max-size if this really is a feed"


def _too_big(size: int, cap: int) -> str:
    return f"the feed is {size / _MB:.1f} MB, over the {cap / _MB:.0f} MB limit"


def fetch_url(url: str, *, max_bytes: int, what: str = "file",
              timeout: float = TIMEOUT_S) -> tuple[bytes, str, dict[str, str]]:
    """GET a URL with a size cap; returns the body, the final URL after redirects and the headers."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FeedReadError(f"{url}: {_too_big(int(declared), max_bytes)}", hint=_TOO_BIG_HINT)
            data = read_limited(response, max_bytes, url=url)
            if data is None:
                raise FeedReadError(f"{url}: the {what} is over the {max_bytes / _MB:.0f} MB limit",
                                    hint=_TOO_BIG_HINT)
            return data, response.geturl(), {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        raise FeedReadError(f"{url}: the server answered {error.code} {error.reason}",
                            hint=f"check the {what} URL; it must be publicly readable") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise FeedReadError(f"{url}: cannot fetch the {what}: {reason}",
                            hint="check the URL and your network connection") from None


def read_limited(response: Any, max_bytes: int, *, url: str, deadline_s: float = DEADLINE_S) -> bytes | None:
    """Read a response body; None when it is over ``max_bytes``; FeedReadError when it takes too long.

    The socket timeout bounds each read, not the whole body: a server that trickles a byte every
    few seconds would otherwise keep us waiting for ever.
    """
    started = time.monotonic()
    chunks: list[bytes] = []
    total = 0
    while chunk := response.read1(1 << 16) if hasattr(response, "read1") else response.read(1 << 16):
        total += len(chunk)
        if total > max_bytes:
            return None
        chunks.append(chunk)
        if time.monotonic() - started > deadline_s:
            raise FeedReadError(f"{url}: the server is too slow (no complete answer in {deadline_s:.0f} s)",
                                hint="try again later, or check the server")
    return b"".join(chunks)


class NotWellFormed(Exception):
    """The bytes are not a well-formed UTF-8 XML document; carries the rule id, message and line."""

    def __init__(self, rule: str, message: str, line: int | None) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.line = line


def refuse_entities(data: bytes, name: str) -> None:
    """Refuse a document type that declares entities (billion laughs, XXE) before parsing.

    XML writes the keyword in upper case and puts it before the root element (after any comments),
    so a "<!DOCTYPE" after "<rss" is show-notes text, not a document type.
    """
    start = data.find(b"<!DOCTYPE")
    if start == -1:
        return
    root = data.find(b"<rss")
    if root != -1 and root < start:
        return
    # the internal subset is everything up to the first "]>" after the DOCTYPE; a feed never needs one
    end = data.find(b"]>", start)
    subset = data[start: end if end != -1 else len(data)]
    if b"<!ENTITY" in subset:
        line = data.count(b"\n", 0, start) + 1
        raise FeedReadError("the feed declares XML entities in its DOCTYPE; feedtool refuses to expand them "
                            "(they can read local files or blow up to gigabytes)", path=name, line=line,
                            hint="remove the <!DOCTYPE ...> block; an RSS feed needs none")


def declared_encoding(data: bytes) -> str | None:
    match = _ENCODING_DECL.match(data[:200])
    return match.group(1).decode("ascii") if match else None


def parse(data: bytes, name: str):  # -> lxml.etree._Element
    """Parse a feed with lxml, safely. Raises FeedReadError (hostile) or NotWellFormed (broken)."""
    from lxml import etree

    refuse_entities(data, name)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise NotWellFormed("xml.encoding", "the feed is UTF-16; Apple requires UTF-8", 1)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_blank_text=False, collect_ids=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        line = error.lineno or None
        bad = _first_bad_utf8(data) if declared_encoding(data) in (None, "UTF-8", "utf-8", "utf8", "UTF8") else None
        if bad is not None:
            raise NotWellFormed("xml.encoding", f"the feed is not valid UTF-8 (first bad byte on line {bad})",
                                bad) from None
        if "Namespace prefix" in error.msg:
            raise NotWellFormed("rss.namespace", f"an undeclared namespace prefix: {error.msg}", line) from None
        raise NotWellFormed("xml.well-formed", f"not well-formed XML: {error.msg}", line) from None
    if root.getroottree().docinfo.internalDTD is not None:
        dtd = root.getroottree().docinfo.internalDTD
        if any(True for _ in dtd.iterentities()):
            raise FeedReadError("the feed declares XML entities; feedtool refuses to expand them", path=name,
                                hint="remove the <!DOCTYPE ...> block; an RSS feed needs none")
    return root


def _first_bad_utf8(data: bytes) -> int | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return data.count(b"\n", 0, error.start) + 1
    return None

"""Read a feed (file or URL) and parse it safely, whoever wrote it.

A feed is untrusted input: it may declare entities that expand to gigabytes (billion laughs), point
an external entity or its DOCTYPE at a local file or a URL (XXE: `<!DOCTYPE rss SYSTEM
"/etc/passwd">`), or simply be huge. So: the size is checked before parsing (a stat for files, a
capped read for URLs through feedtool.net), a document type with entity declarations is refused
before the parser sees it, and lxml runs with entity resolution, DTD loading and network access off,
libxml2's size limits on, and a resolver that answers every request for an outside resource (a DTD,
an entity) with nothing: while parsing, no file is opened and no connection made. Anything
unusable raises FeedReadError (exit 2) with a clear message; a document that is merely not
well-formed is a finding, because that is the answer a podcaster wants from a validator.

This module's ``parse`` is the one place feedtool parses XML (tests/test_validate_safety.py checks
that no other module builds an XML parser).

The Podcasting 2.0 namespace was first published under its GitHub URL; feeds written then still
use it. ``parse`` renames those elements into the current namespace, so every rule (and every
reader of the tree) sees one namespace; the declaration itself stays, for the rule that warns
about it.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feedtool.errors import FeedReadError

#: The default size cap: a 3,000-episode feed is about 15 MB; Apple's crawler gives up far sooner.
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
#: Seconds for each request (connect, headers and body together), the feed's and each media check's.
DEFAULT_TIMEOUT_S = 30.0
#: The Podcasting 2.0 namespace, and the GitHub URL it was first published under (still common).
PODCAST_NS = "https://podcastindex.org/namespace/1.0"
PODCAST_NS_OLD = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"

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


def read_source(source: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES,
                timeout_s: float = DEFAULT_TIMEOUT_S) -> tuple[bytes, FeedSource]:
    """The bytes of a feed file or URL, refusing anything over ``max_bytes``.

    A file must be a regular file (a FIFO or a device would block or never end); a URL is
    fetched with feedtool.net within ``timeout_s``.
    """
    text = str(source)
    if is_url(text):
        data, final_url, headers = fetch_url(text, max_bytes=max_bytes, what="feed", timeout_s=timeout_s)
        return data, FeedSource(name=text, url=final_url, headers=headers)
    path = Path(source)
    if path.is_dir() and (path / "feed.xml").is_file():
        path = path / "feed.xml"  # `feedtool validate public/`
    try:
        info = path.stat()
    except FileNotFoundError:
        raise FeedReadError("no such file", path=path,
                            hint="run `feedtool build` first, or give the path or URL of a feed") from None
    except OSError as error:
        raise FeedReadError(f"cannot read the feed: {error.strerror}", path=path) from None
    size = info.st_size
    if stat.S_ISDIR(info.st_mode):
        raise FeedReadError("is a folder, not a feed file", path=path, hint="give the path of feed.xml")
    if not stat.S_ISREG(info.st_mode):
        raise FeedReadError("is not a regular file (a pipe or a device would never end)", path=path,
                            hint="give the path of a feed file, or its URL")
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
              timeout_s: float = DEFAULT_TIMEOUT_S) -> tuple[bytes, str, dict[str, str]]:
    """GET a URL with feedtool.net (http(s) only, also on redirects; one deadline; a size cap).

    Returns the body, the final URL after redirects and the headers; anything else is a
    FeedReadError that says what went wrong.
    """
    from feedtool.net import NetworkError, request

    try:
        response = request(url, max_body=max_bytes, deadline_s=timeout_s)
    except NetworkError as error:
        raise FeedReadError(f"{url}: cannot fetch the {what}: {error.reason}", hint=error.hint) from None
    if response.status != 200:
        raise FeedReadError(f"{url}: the server answered {response.status}",
                            hint=f"check the {what} URL; it must be publicly readable")
    if response.too_big:
        size = response.content_length
        told = (_too_big(size, max_bytes) if size is not None
                else f"the {what} is over the {max_bytes / _MB:.0f} MB limit")
        raise FeedReadError(f"{url}: {told}", hint=_TOO_BIG_HINT)
    return response.body, response.final_url, response.headers


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


def _parser() -> Any:
    """An lxml parser that reads nothing but the bytes it is given.

    Entity expansion, DTD loading and network access are off. ``collect_ids`` stays at its
    default: turning it off makes libxml2 load the external DTD subset (`<!DOCTYPE rss SYSTEM
    "/etc/passwd">` would open that file). And whatever libxml2 still asks for goes to a
    resolver that answers with an empty document, so no file or URL is ever opened.
    """
    from lxml import etree

    class _NothingOutside(etree.Resolver):
        def resolve(self, system_url: str | None, public_id: str | None, context: Any) -> Any:
            return self.resolve_string("", context)

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             attribute_defaults=False, huge_tree=False, remove_blank_text=False)
    parser.resolvers.add(_NothingOutside())
    return parser


def parse(data: bytes, name: str):  # -> lxml.etree._Element
    """Parse a feed with lxml, safely. Raises FeedReadError (hostile) or NotWellFormed (broken)."""
    from lxml import etree

    refuse_entities(data, name)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise NotWellFormed("xml.encoding", "the feed is UTF-16; Apple requires UTF-8", 1)
    parser = _parser()
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
    if _OLD_NS_BYTES in data:
        _rename_old_podcast_namespace(root)
    return root


_OLD_NS_BYTES = PODCAST_NS_OLD.encode()


def _rename_old_podcast_namespace(root: Any) -> None:
    """Move elements of the old Podcasting 2.0 namespace URI into the current one (same tags)."""
    old = "{" + PODCAST_NS_OLD + "}"
    for el in list(root.iter(old + "*")):
        el.tag = "{" + PODCAST_NS + "}" + el.tag[len(old):]


def _first_bad_utf8(data: bytes) -> int | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return data.count(b"\n", 0, error.start) + 1
    return None

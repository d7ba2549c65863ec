"""Is the show ready to go live? Placeholders left from `feedtool init`, and a feed with no episodes.

`feedtool init` starts a show with a placeholder base URL, a placeholder owner e-mail and a
generated cover (marked with the text ``feedtool-placeholder-artwork`` in a JPEG comment or a PNG
text chunk). Each of those builds and validates, which is what a preview needs, and each is wrong
for a show that goes live: apps would fetch episodes from example.com, Apple would send ownership
checks to nobody, and the cover would be the placeholder. Apple also rejects a show with no
episodes.

These are the ``ready.*`` rules. They are warnings for `feedtool validate` and `feedtool build`
(so `validate --strict` fails on them), and errors for `feedtool publish` to a remote target (a
publish to a local folder is a preview: it prints them). The checks are here once; the feed
validator and build both call them, so both say the same thing.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from feedtool.model import Show
    from feedtool.validation.document import Context

#: What `feedtool init` writes into its generated cover (JPEG COM segment or PNG tEXt chunk).
PLACEHOLDER_ARTWORK_MARKER = b"feedtool-placeholder-artwork"
#: Second-level domains reserved for examples (RFC 2606), with all their subdomains.
_EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")
#: Top-level domains reserved for tests and examples, never resolvable (RFC 2606, RFC 6761).
_RESERVED_TLDS = ("example", "invalid", "test", "localhost")


@dataclass(frozen=True, slots=True)
class Problem:
    """One readiness finding: the rule id, what is wrong, and the element it is about."""

    rule: str
    message: str
    subject: str | None = None


def placeholder_host(host: str) -> bool:
    """True for a host no listener can reach: example.com/.org/.net (and subdomains), the reserved
    TLDs .example/.invalid/.test/.localhost, localhost, and loopback addresses (127.0.0.0/8, ::1)."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if not name:
        return False
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    if name == "localhost" or name.rsplit(".", 1)[-1] in _RESERVED_TLDS:
        return True
    return any(name == domain or name.endswith("." + domain) for domain in _EXAMPLE_DOMAINS)


def placeholder_url(url: str) -> str | None:
    """The placeholder host of a URL, or None when the URL is somewhere real (or not a URL)."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host if host and placeholder_host(host) else None


def placeholder_email(address: str) -> bool:
    """True for an e-mail address at a placeholder domain (you@example.com)."""
    _, at, domain = address.strip().rpartition("@")
    return bool(at) and placeholder_host(domain)


def is_placeholder_artwork(data: bytes) -> bool:
    """True when the image carries feedtool init's marker (JPEG COM segment, PNG tEXt/iTXt chunk).

    Only the metadata segments before the image data are read, so a photo that happens to
    contain the bytes in its pixels is not mistaken for the placeholder.
    """
    if data[:2] == b"\xff\xd8":
        return _jpeg_comment_has_marker(data)
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return _png_text_has_marker(data)
    return False


def _jpeg_comment_has_marker(data: bytes) -> bool:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return False
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            pos += 2
            continue
        if marker in (0xDA, 0xD9):  # start of scan / end of image: no more metadata
            return False
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if marker == 0xFE and PLACEHOLDER_ARTWORK_MARKER in data[pos + 4:pos + 2 + length]:
            return True
        pos += 2 + length
    return False


def _png_text_has_marker(data: bytes) -> bool:
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT" or kind == b"IEND":
            return False
        if kind in (b"tEXt", b"iTXt") and PLACEHOLDER_ARTWORK_MARKER in data[pos + 8:pos + 8 + length]:
            return True
        pos += 12 + length
    return False


# --- the checks, one each ----------------------------------------------------------------------------
def episodes_problem(count: int) -> Problem | None:
    if count:
        return None
    return Problem("ready.episodes", "the feed has no episodes; Apple rejects a show without one", "item")


def address_problem(feed_url: str | None, media_urls: Iterable[str]) -> Problem | None:
    """The feed's own URL, else the first media URL, on a placeholder host."""
    if feed_url:
        host = placeholder_url(feed_url)
        if host:
            return Problem("ready.base-url", f"the feed is to be served at {feed_url}, a placeholder address "
                           f"({host}) that no app can reach", "atom:link@href")
    for url in media_urls:
        host = placeholder_url(url)
        if host:
            return Problem("ready.base-url", f"the media are at a placeholder address ({host}), e.g. {url}; no app "
                           "can download them", "enclosure@url")
    return None


def email_problem(address: str, what: str = "the owner e-mail") -> Problem | None:
    if not placeholder_email(address):
        return None
    return Problem("ready.owner-email", f"{what} {address} is at a placeholder domain; Apple and directories "
                   "send ownership checks there", "itunes:owner")


def artwork_problem(data: bytes, what: str = "the show artwork") -> Problem | None:
    if not is_placeholder_artwork(data):
        return None
    return Problem("ready.artwork", f"{what} is the placeholder picture `feedtool init` made", "itunes:image@href")


# --- for the validator ---------------------------------------------------------------------------------
def check_feed(ctx: Context, *, listing: bool) -> None:
    """The readiness rules on a parsed feed (the artwork's marker is checked with the media files)."""
    from feedtool.validation.document import ATOM, it, pc

    channel = ctx.channel
    if channel is None:
        return
    found: list[tuple[Problem | None, object]] = []
    if not listing:
        found.append((episodes_problem(len(ctx.items)), channel.el))
    self_link = next((el for el in channel.all("{" + ATOM + "}link") if el.get("rel") == "self"), None)
    feed_url = (self_link.get("href") or "").strip() if self_link is not None else None
    enclosures = (item.first("enclosure") for item in ctx.items)
    media = ((el.get("url") or "").strip() for el in enclosures if el is not None)
    problem = address_problem(feed_url, media)
    found.append((problem, self_link if problem and problem.subject == "atom:link@href" else None))
    owner = channel.first(it("owner"))
    email_el = None
    if owner is not None:
        email_el = next((child for child in owner if child.tag == it("email")), None)
    if email_el is not None and email_el.text:
        found.append((email_problem(email_el.text.strip()), email_el))
    locked = channel.first(pc("locked"))
    locked_owner = (locked.get("owner") or "").strip() if locked is not None else ""
    if locked_owner and (email_el is None or (email_el.text or "").strip() != locked_owner):
        found.append((email_problem(locked_owner, "the podcast:locked owner"), locked))
    for problem_or_none, el in found:
        if problem_or_none is not None:
            ctx.emit(problem_or_none.rule, problem_or_none.message, el=el, subject=problem_or_none.subject)


# --- for build --------------------------------------------------------------------------------------
def show_problems(show: Show, episodes: int) -> list[Problem]:
    """The readiness problems of a show about to be built with ``episodes`` episodes in its feed."""
    from feedtool.validation.rules_podcast import is_list_medium

    found: list[Problem | None] = []
    if not is_list_medium(show.medium):
        found.append(episodes_problem(episodes))
    found.append(address_problem(show.feed_url, ()))
    emails = [show.owner.email] if show.owner else []
    if show.locked_owner and show.locked_owner not in emails:
        emails.append(show.locked_owner)
    found.extend(email_problem(email) for email in emails)
    try:
        found.append(artwork_problem(show.artwork.read_bytes()))
    except OSError:
        pass  # build reports an unreadable cover itself
    return [problem for problem in found if problem is not None]


def build_warnings(show: Show, episodes: int) -> list[str]:
    """Readiness problems as the lines `feedtool build` prints (what is wrong, the rule, the fix)."""
    from feedtool.validation.registry import rule

    return [f"not ready to publish: {p.message} [{p.rule}]\n  -> {rule(p.rule).fix}"
            for p in show_problems(show, episodes)]

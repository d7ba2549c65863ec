"""Rules for what reaches apps and directories beyond phase 3 of Podcasting 2.0.

The value block (splits that add up, recipient addresses of the right form, time splits), podroll
and publisher remote items, podcast:block ids, socialInteract URIs, podcast:image attributes,
podcast:txt purposes, Podlove Simple Chapters (psc:chapters, which Spotify reads), Spotify's own
tags, the owner e-mail YouTube needs, the WebSub hub link, analytics prefixes in front of
enclosures, the feed's size and its RFC 5005 archive links.

The small ``*_problem`` functions are the rules themselves: ``feedtool.load_p20`` calls them on
podcast.yaml and episode.md (a problem there is an error that names the file and field), and the
checks below call them on any feed (a finding). One implementation for both.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

from feedtool.validation.document import ATOM, ITUNES, PODCAST, Context, Node

PSC = "http://podlove.org/simple-chapters"
SPOTIFY = "http://www.spotify.com/ns/rss"
_P = "{" + PODCAST + "}"

#: PN serviceslugs.txt (HEAD c0ff5ca): the ids podcast:block may name.
SERVICE_SLUGS = (
    "acast", "amazon", "anchor", "apple", "audible", "audioboom", "backtracks", "bitcoin", "blubrry",
    "buzzsprout", "captivate", "castos", "castopod", "facebook", "fireside", "fyyd", "google", "gpodder",
    "hypercatcher", "kasts", "libsyn", "mastodon", "megafono", "megaphone", "omnystudio", "overcast",
    "paypal", "pinecast", "podbean", "podcastaddict", "podcastguru", "podcastindex", "podcasts",
    "podchaser", "podcloud", "podfriend", "podiant", "podigee", "podnews", "podomatic", "podserve",
    "podverse", "redcircle", "relay", "resonaterecordings", "rss", "shoutengine", "simplecast", "slack",
    "soundcloud", "spotify", "spreaker", "tiktok", "transistor", "twitter", "whooshkaa", "youtube",
    "zencast",
)
#: PN docs/examples/value: value types (valueslugs.txt) and the methods value.md names.
VALUE_TYPES = ("lightning", "bitcoin")
VALUE_METHODS = ("keysend", "amp", "lnaddress", "default")
#: PN value-recipient.md and valueslugs.txt: what a recipient's address is.
RECIPIENT_TYPES = ("node", "lnaddress", "wallet", "keysend")
#: podcast:txt purposes platforms read from the channel only (PN txt.md; Apple's guide).
CHANNEL_ONLY_PURPOSES = ("verify", "applepodcastsverify")
SPLIT_TOTAL = 100

#: A Lightning node id: a compressed secp256k1 public key, 33 bytes in hex (02/03 + 64 hex digits).
NODE_PUBKEY = re.compile(r"^0[23][0-9a-fA-F]{64}$")
#: A Lightning Address (LUD-16): name@domain, the name in a-z 0-9 - _ . (lower case), a real domain.
LIGHTNING_ADDRESS = re.compile(r"^[a-z0-9._+-]+@(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
ASPECT_RATIO = re.compile(r"^\s*\d+(\.\d+)?\s*/\s*\d+(\.\d+)?\s*$")
#: Normal Play Time as Podlove Simple Chapters writes it: [[HH:]MM:]SS[.mmm], or seconds.
_NPT = re.compile(r"^(?:(?:(\d+):)?([0-5]?\d):)?([0-5]?\d|\d+)(?:\.(\d{1,3}))?$")

#: Feed sizes where apps and aggregators start to struggle (shared/reference/distribution.md).
FEED_SIZE_NOTE = 1_000_000  # FeedBurner cut feeds at 1 MB
FEED_SIZE_WARN = 2 * 1024 * 1024  # some readers cap at 2 MiB; Pocket Casts reported trouble past ~3 MB
#: Analytics prefix services and how to recognise their URLs (host, path start).
PREFIX_SERVICES = (
    ("OP3", "op3.dev", "/e"), ("Podtrac", "dts.podtrac.com", "/redirect"),
    ("Podtrac", "www.podtrac.com", "/pts/redirect"), ("Chartable", "chrt.fm", "/track/"),
    ("Chartable", "chtbl.com", "/track/"), ("Podsights", "pdst.fm", "/e/"), ("Blubrry", "media.blubrry.com", "/"),
    ("Podscribe", "pscrb.fm", "/rss/p/"), ("Claritas", "claritaspod.com", "/measure/"), ("Magellan", "mgln.ai", "/e/"),
    ("Spotify Ad Analytics", "prfx.byspotify.com", "/e/"), ("Podroll", "arttrk.com", "/p/"),
)


# --- the rules, as plain functions (load_p20 uses them too) ----------------------------------------
def recipient_address_problem(kind: str, address: str) -> str | None:
    """Why ``address`` is not a valid address of recipient type ``kind`` (None when it is)."""
    address = address.strip()
    if not address:
        return "the address is empty"
    if kind in ("node", "keysend") and not NODE_PUBKEY.match(address):
        return (f"'{address[:80]}' is not a Lightning node id (66 hexadecimal digits starting 02 or 03)"
                + ("; it looks like a Lightning Address: use type lnaddress" if "@" in address else ""))
    if kind == "lnaddress" and not LIGHTNING_ADDRESS.match(address):
        hint = " (Lightning Addresses are lower case)" if LIGHTNING_ADDRESS.match(address.lower()) else ""
        return f"'{address[:80]}' is not a Lightning Address like name@wallet.example{hint}"
    return None


def splits_problem(recipients: Iterable[tuple[int, bool]], what: str = "the recipients") -> str | None:
    """Splits of (split, fee) pairs: the non-fee shares add up to 100, fees stay below 100."""
    items = list(recipients)
    if any(split < 0 for split, _ in items):
        return f"a split of {what} is negative"
    shares = sum(split for split, fee in items if not fee)
    fees = sum(split for split, fee in items if fee)
    if not any(not fee for _, fee in items):
        return f"{what} are all fees: at least one recipient must be paid"
    if shares != SPLIT_TOTAL:
        return f"the splits of {what} add up to {shares}, not {SPLIT_TOTAL} (fees not counted)"
    if fees >= SPLIT_TOTAL:
        return f"the fee splits of {what} add up to {fees}%: a fee takes a percentage off the top, below 100"
    return None


def txt_problem(purpose: str | None, value: str, *, level: str) -> str | None:
    """podcast:txt: verification tokens belong to the channel; ai-content is true or false."""
    key = (purpose or "").strip().lower()
    if key in CHANNEL_ONLY_PURPOSES and level == "item":
        return (f"a txt with purpose '{purpose}' is read from the channel (the platform checks the show's feed "
                "for its token), not from an episode")
    if key in CHANNEL_ONLY_PURPOSES and not re.fullmatch(r"\S+", value.strip()):
        return f"the '{purpose}' token must be one word, as the platform gave it (no spaces)"
    if key == "ai-content" and value.strip().lower() not in ("true", "false"):
        return f"a txt with purpose 'ai-content' holds true or false, not '{value.strip()[:40]}'"
    return None


def block_slug_problem(slug: str) -> str | None:
    if slug not in SERVICE_SLUGS:
        import difflib

        close = difflib.get_close_matches(slug.lower(), SERVICE_SLUGS, n=1, cutoff=0.6)
        return (f"'{slug}' is not in the Podcasting 2.0 service slug list"
                + (f" (did you mean '{close[0]}'?)" if close else ""))
    return None


def social_uri_problem(protocol: str, uri: str | None) -> str | None:
    """The root post's URI: https for web protocols, at:// for atproto, nostr: or https for nostr."""
    if protocol == "disabled":
        return None if not uri else "protocol 'disabled' takes no uri"
    if not uri or not uri.strip():
        return "the uri of the root post is required"
    allowed = {"atproto": ("at://", "https://"), "nostr": ("nostr:", "https://")}.get(protocol, ("https://",))
    if not uri.startswith(allowed):
        return f"'{uri[:80]}' must start with {' or '.join(allowed)} for protocol {protocol}"
    return None


def country_problem(code: str) -> str | None:
    if re.fullmatch(r"[a-z]{2}", code):
        return None
    return f"'{code}' is not a two-letter ISO 3166 country code in lower case"


@functools.lru_cache(maxsize=4096)
def npt(seconds: float) -> str:
    """Seconds as Normal Play Time the way Podlove Simple Chapters writes it: HH:MM:SS.mmm.

    Cached: a big catalogue repeats the same start times (00:00:00.000 in every episode).
    """
    from feedtool.chapters import format_timestamp

    return format_timestamp(seconds, millis=True)


def parse_npt(text: str) -> float | None:
    """Normal Play Time (HH:MM:SS.mmm, MM:SS, seconds) -> seconds; None when it is not one."""
    match = _NPT.match(text.strip())
    if match is None:
        return None
    hours, minutes, secs, fraction = match.groups()
    value = int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(secs)
    return value + (int(fraction.ljust(3, "0")) / 1000 if fraction else 0.0)


def prefix_service(url: str) -> str | None:
    """The analytics service whose prefix ``url`` starts with (OP3, Podtrac ...), or None."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    for name, host, path in PREFIX_SERVICES:
        if parts.hostname == host and parts.path.startswith(path):
            return name
    return None


def prefixed(url: str, prefixes: Iterable[str]) -> str:
    """``url`` behind analytics prefixes, the way the services document it: each prefix, then the
    URL without its scheme (https://op3.dev/e/ + cdn.example.com/show/ep.mp3). The first prefix is
    the outermost (the first service the app reaches)."""
    inner = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", url)
    chain = list(prefixes)
    if not chain:
        return url
    for prefix in reversed(chain[1:]):
        inner = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", prefix) + inner
    return chain[0] + inner


def unprefixed(url: str, base_url: str) -> str | None:
    """The URL under ``base_url`` that a prefixed URL leads to (a build's own enclosure), or None."""
    if url.startswith(base_url):
        return url
    bare = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", base_url)
    for marker in (base_url, "/" + bare):
        at = url.find(marker, 1)
        if at > 0:
            return base_url + url[at + len(marker):]
    return None


# --- checks on any feed ----------------------------------------------------------------------------
def check_channel(ctx: Context, ch: Node, *, listing: bool = False) -> None:
    """``listing``: a publisher or list feed (podcast:medium publisher, mixed, ...L), which no directory
    ingests as a show, so the owner e-mail YouTube asks of a show is not asked of it."""
    for el in ch.all(_P + "value"):
        _check_value(ctx, el, None)
    guid = (ch.text(_P + "guid") or "").strip().lower()
    self_url = (ctx.options.feed_url or "").strip()
    podroll = ch.first(_P + "podroll")
    if podroll is not None:
        for remote in podroll.iterfind(_P + "remoteItem"):
            feed_guid = (remote.get("feedGuid") or "").strip().lower()
            feed_url = (remote.get("feedUrl") or "").strip()
            if (guid and feed_guid == guid) or (self_url and feed_url == self_url):
                ctx.emit("podcast.podroll.self", "the podroll recommends this very show (its feedGuid or feedUrl is "
                         "this feed's)", el=remote, subject="podcast:podroll/podcast:remoteItem")
    publisher = ch.first(_P + "publisher")
    if publisher is not None:
        remotes = publisher.findall(_P + "remoteItem")
        if len(remotes) != 1 or (remotes[0].get("medium") or "") != "publisher":
            ctx.emit("podcast.publisher", "podcast:publisher must hold exactly one <podcast:remoteItem "
                     "medium=\"publisher\"> (the publisher feed)", el=publisher, subject="podcast:publisher")
        elif not remotes[0].get("feedUrl"):
            ctx.emit("podcast.publisher", "the publisher's remoteItem has no feedUrl (recommended: apps that cannot "
                     "look up a feedGuid use it)", el=remotes[0], subject="podcast:publisher/podcast:remoteItem",
                     fix="Add feedUrl=\"<the publisher feed's URL>\".")
    for el in ch.all(_P + "block"):
        slug = el.get("id")
        if slug is not None:
            problem = block_slug_problem(slug)
            if problem:
                ctx.emit("podcast.block.id", f"<podcast:block id=\"{slug}\">: {problem}", el=el,
                         subject="podcast:block@id")
    _check_common(ctx, ch, None, "channel")
    podping = ch.first(_P + "podping")
    if podping is not None and (podping.get("usesPodping") or "").strip() not in ("true", "false"):
        ctx.emit("podcast.value", f"<podcast:podping usesPodping=\"{podping.get('usesPodping')}\"> is not true or "
                 "false", el=podping, subject="podcast:podping@usesPodping")
    _check_spotify(ctx, ch)
    if not listing:
        _check_owner(ctx, ch)
    for link in ch.all("{" + ATOM + "}link"):
        if (link.get("rel") or "") == "hub":
            href = (link.get("href") or "").strip()
            if not re.match(r"^https?://[^\s/]+", href):
                ctx.emit("directory.websub-hub", f"the WebSub hub link '{href[:80]}' is not an absolute http(s) URL",
                         el=link, subject="atom:link@rel=hub")


def check_item(ctx: Context, item: Node) -> None:
    for el in item.all(_P + "value"):
        _check_value(ctx, el, item)
    _check_common(ctx, item, item, "item")
    _check_psc(ctx, item)
    enclosure = item.first("enclosure")
    url = (enclosure.get("url") or "").strip() if enclosure is not None else ""
    if url.startswith("http://") and prefix_service(url):
        ctx.emit("directory.prefix", f"the enclosure goes through {prefix_service(url)}'s prefix over http, not "
                 "https", node=item, el=enclosure, subject="enclosure@url")


def _check_common(ctx: Context, node: Node, item: Node | None, level: str) -> None:
    for el in node.all(_P + "txt"):
        problem = txt_problem(el.get("purpose"), el.text or "", level=level)
        if problem:
            ctx.emit("podcast.txt.purpose", problem, node=item, el=el, subject="podcast:txt@purpose")
    for el in node.all(_P + "socialInteract"):
        problem = social_uri_problem((el.get("protocol") or "").strip(), el.get("uri"))
        if problem and el.get("protocol") and (el.get("uri") or el.get("protocol") == "disabled"):
            ctx.emit("podcast.social-interact",
                     f"<podcast:socialInteract protocol=\"{el.get('protocol')}\">: {problem}", node=item, el=el,
                     subject="podcast:socialInteract@uri")
    for el in node.all(_P + "image"):
        for attr in ("width", "height"):
            value = el.get(attr)
            if value is not None and not re.fullmatch(r"[1-9]\d*", value.strip()):
                ctx.emit("podcast.image", f"<podcast:image {attr}=\"{value}\"> is not a number of pixels", node=item,
                         el=el, subject=f"podcast:image@{attr}")
        ratio = el.get("aspect-ratio")
        if ratio is not None and not ASPECT_RATIO.match(ratio):
            ctx.emit("podcast.image", f"<podcast:image aspect-ratio=\"{ratio}\"> is not a ratio like 16/9", node=item,
                     el=el, subject="podcast:image@aspect-ratio")
        if len(el.get("purpose") or "") > 128:
            ctx.emit("podcast.image", "<podcast:image purpose> is over 128 characters", node=item, el=el,
                     subject="podcast:image@purpose")


def _check_value(ctx: Context, el: Any, item: Node | None) -> None:
    """Recipient addresses fit their type; splits add up, in the block and in each time split."""
    recipients = el.findall(_P + "valueRecipient")
    _check_recipients(ctx, recipients, item, "the value block's recipients")
    for index, split in enumerate(el.iterfind(_P + "valueTimeSplit"), 1):
        subject = "podcast:valueTimeSplit"
        for attr in ("startTime", "duration"):
            value = split.get(attr)
            if value is None or not re.fullmatch(r"\d+(\.\d+)?", value.strip()):
                ctx.emit("podcast.value.time-split", f"time split {index} has {attr}=\"{value or ''}\"; it needs a "
                         "number of seconds", node=item, el=split, subject=f"{subject}@{attr}")
        remotes = split.findall(_P + "remoteItem")
        own = split.findall(_P + "valueRecipient")
        if (remotes and own) or len(remotes) > 1 or not (remotes or own):
            ctx.emit("podcast.value.time-split", f"time split {index} must hold either recipients or exactly one "
                     "remoteItem", node=item, el=split, subject=subject)
        for remote in remotes:
            if not (remote.get("feedGuid") or "").strip():
                ctx.emit("podcast.attribute.missing", f"the remoteItem of time split {index} has no feedGuid",
                         node=item, el=remote, subject=f"{subject}/podcast:remoteItem@feedGuid")
        percentage = split.get("remotePercentage")
        if percentage is not None and not (re.fullmatch(r"\d+(\.\d+)?", percentage.strip())
                                           and float(percentage) <= 100):
            ctx.emit("podcast.value.time-split", f"time split {index} has remotePercentage=\"{percentage}\"; "
                     "use 0 to 100", node=item, el=split, subject=f"{subject}@remotePercentage")
        if own:
            _check_recipients(ctx, own, item, f"time split {index}'s recipients")


def _check_recipients(ctx: Context, recipients: list[Any], item: Node | None, what: str) -> None:
    pairs: list[tuple[int, bool]] = []
    for el in recipients:
        kind = (el.get("type") or "").strip()
        problem = recipient_address_problem(kind, el.get("address") or "") if kind in RECIPIENT_TYPES else None
        if problem:
            ctx.emit("podcast.value.recipient", f"recipient '{el.get('name') or '?'}': {problem}", node=item, el=el,
                     subject="podcast:valueRecipient@address")
        split = (el.get("split") or "").strip()
        if not re.fullmatch(r"\d+", split):
            return  # podcast.value reports a split that is not a whole number
        pairs.append((int(split), (el.get("fee") or "").strip().lower() == "true"))
    if len(pairs) > 1:
        problem = splits_problem(pairs, what)
        if problem:
            ctx.emit("podcast.value.split", problem, node=item, el=recipients[0].getparent(),
                     subject="podcast:valueRecipient@split")


def _check_psc(ctx: Context, item: Node) -> None:
    blocks = item.all("{" + PSC + "}chapters")
    if len(blocks) > 1:
        ctx.emit("chapters.psc", "the episode has more than one <psc:chapters>", node=item, el=blocks[1],
                 subject="psc:chapters")
    for block in blocks[:1]:
        previous = -1.0
        for number, chapter in enumerate(block.iterfind("{" + PSC + "}chapter"), 1):
            start = parse_npt(chapter.get("start") or "")
            if start is None:
                ctx.emit("chapters.psc", f"psc:chapter {number} has start=\"{chapter.get('start') or ''}\"; "
                         "write it as HH:MM:SS.mmm", node=item, el=chapter, subject="psc:chapter@start")
                continue
            if start < previous:
                ctx.emit("chapters.psc", f"psc:chapter {number} starts before the chapter above it", node=item,
                         el=chapter, subject="psc:chapter@start")
            previous = start
            if not (chapter.get("title") or "").strip():
                ctx.emit("chapters.psc", f"psc:chapter {number} has no title", node=item, el=chapter,
                         subject="psc:chapter@title")
            for attr in ("href", "image"):
                value = chapter.get(attr)
                if value is not None and not re.match(r"^https?://", value.strip()):
                    ctx.emit("chapters.psc", f"psc:chapter {number} has {attr}=\"{value[:80]}\", not an absolute URL",
                             node=item, el=chapter, subject=f"psc:chapter@{attr}")


def psc_starts(item: Node) -> list[float] | None:
    """The start times of an item's psc:chapters (None when it has none or one is unreadable)."""
    block = item.first("{" + PSC + "}chapters")
    if block is None:
        return None
    starts = [parse_npt(c.get("start") or "") for c in block.iterfind("{" + PSC + "}chapter")]
    if not starts or any(s is None for s in starts):
        return None
    return [s for s in starts if s is not None]


def _check_spotify(ctx: Context, ch: Node) -> None:
    limit = ch.first("{" + SPOTIFY + "}limit")
    if limit is not None and not re.fullmatch(r"[1-9]\d*", (limit.get("recentCount") or "").strip()):
        ctx.emit("directory.spotify", f"<spotify:limit recentCount=\"{limit.get('recentCount') or ''}\"> is not a "
                 "whole number of episodes", el=limit, subject="spotify:limit@recentCount")
    country = ch.first("{" + SPOTIFY + "}countryOfOrigin")
    if country is not None:
        codes = (country.text or "").split()
        bad = [problem for code in codes if (problem := country_problem(code))]
        if bad or not codes:
            ctx.emit("directory.spotify", bad[0] if bad else "<spotify:countryOfOrigin> is empty", el=country,
                     subject="spotify:countryOfOrigin")


def _check_owner(ctx: Context, ch: Node) -> None:
    owner = ch.first("{" + ITUNES + "}owner")
    email = (owner.findtext("{" + ITUNES + "}email") or "").strip() if owner is not None else ""
    if not email:
        ctx.emit("directory.owner-email", "the feed has no owner e-mail (<itunes:owner><itunes:email>): YouTube's "
                 "RSS ingestion refuses such a feed (\"Missing Owner Email\") and sends its verification code there; "
                 "Apple no longer needs it", el=owner, subject="itunes:owner")


def check_size(ctx: Context, size: int, *, archived: bool) -> None:
    """The feed's byte size against the limits apps and aggregators have shown."""
    shown = f"{size / 1_000_000:.1f} MB"
    advice = ("" if archived else " Keep the newest notes in full and move old episodes to archive pages "
              "(feed: {full_notes: N, max_items: N} in podcast.yaml).")
    if size > FEED_SIZE_WARN:
        ctx.emit("directory.feed-size.large", f"the feed is {shown}: some readers stop at 2 MiB, Pocket Casts has been "
                 "reported to struggle past about 3 MB and Castro to time out on very large feeds." + advice,
                 scope="feed", subject="feed")
    elif size > FEED_SIZE_NOTE:
        ctx.emit("directory.feed-size", f"the feed is {shown}: over 1 MB, where FeedBurner cut feeds and some "
                 "aggregators begin to give up (2 MiB is a common hard limit)." + advice, scope="feed", subject="feed")

"""RSS 2.0 rules: the document, required channel elements, dates, guids, enclosures, self link."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlsplit

from feedtool.validation.dates import DateProblem, parse_rfc2822
from feedtool.validation.document import ATOM, CONTENT, ITUNES, PODCAST, PODCAST_ALT, Context, Node

#: the namespaces whose exact URI matters, by the prefix people use for them
KNOWN_NAMESPACES = {"itunes": ITUNES, "content": CONTENT, "atom": ATOM, "podcast": PODCAST}

#: enclosure extension -> the types Apple accepts for it (the first is the one to write)
ENCLOSURE_TYPES: dict[str, tuple[str, ...]] = {
    "mp3": ("audio/mpeg",),
    "m4a": ("audio/x-m4a", "audio/mp4"),
    "mp4": ("video/mp4", "audio/mp4"),
    "m4v": ("video/x-m4v", "video/mp4"),
    "mov": ("video/quicktime",),
    "pdf": ("application/pdf",),
}
APPLE_TYPES = frozenset(t for types in ENCLOSURE_TYPES.values() for t in types)
FUTURE_SLACK_S = 86400
_IT = "{" + ITUNES + "}"
CHANNEL_SINGLETONS = ("title", "link", "description", "language", "pubDate", "lastBuildDate", _IT + "author",
                      _IT + "explicit", _IT + "type", _IT + "image", _IT + "title", _IT + "block", _IT + "complete",
                      _IT + "new-feed-url")
ITEM_SINGLETONS = ("title", "guid", "pubDate", "description", "link", "{" + CONTENT + "}encoded", _IT + "duration",
                   _IT + "episode", _IT + "season", _IT + "episodeType", _IT + "explicit", _IT + "image",
                   _IT + "title", _IT + "block")
_SPACE = re.compile(r"\s")


def is_http_url(value: str | None) -> bool:
    return value is not None and value.startswith(("https://", "http://")) and len(value) > 8


def url_problem(value: str) -> str | None:
    """Why a URL would trouble Apple (spaces, non-ASCII); None when it is fine."""
    if not is_http_url(value):
        return "is not an absolute http(s) URL"
    if not value.isascii():
        return "has non-ASCII characters (percent-encode them or rename the file)"
    if _SPACE.search(value):
        return "has spaces (percent-encode them as %20 or rename the file)"
    return None


def extension(url: str) -> str:
    path = urlsplit(url).path
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


# --- the document ------------------------------------------------------------------------------
def check_document(ctx: Context, root: Any) -> Any | None:
    """Check root, version and namespaces; return the <channel> element (None when there is none)."""
    if root.tag != "rss":
        kind = "an Atom feed" if root.tag == "{" + ATOM + "}feed" else f"<{root.tag}>"
        ctx.emit("rss.version", f"the document is {kind}, not RSS 2.0", el=root, scope="feed")
        return None
    version = root.get("version")
    if version != "2.0":
        ctx.emit("rss.version", f"<rss version=\"{version}\"> should be version=\"2.0\"" if version
                 else "<rss> has no version=\"2.0\"", el=root, scope="feed")
    channels = [c for c in root if c.tag == "channel"]
    declared: dict[str | None, str] = dict(root.nsmap)
    if channels:
        declared.update(channels[0].nsmap)
    exact = set(KNOWN_NAMESPACES.values())
    for prefix, uri in sorted(declared.items(), key=lambda kv: (kv[0] or "", kv[1])):
        if uri == PODCAST_ALT:  # xmlsafe.parse already reads its tags as the current namespace's
            ctx.emit("podcast.namespace", f"xmlns:{prefix} uses the namespace's first URI ({uri}); its tags are "
                     "read here, but apps that know only the current URI ignore them", el=root, scope="feed")
            continue
        if uri in exact:
            continue
        wanted = KNOWN_NAMESPACES.get(prefix or "")
        near = next((u for u in exact if u.lower().rstrip("/") == uri.lower().rstrip("/")), None)
        if near or wanted:
            right = near or wanted
            ctx.emit("rss.namespace", f"xmlns:{prefix}=\"{uri}\" should be \"{right}\"; apps ignore every "
                     f"{prefix}: tag until it is exact", el=root, scope="feed")
    if len(channels) != 1:
        ctx.emit("rss.version", f"<rss> has {len(channels)} <channel> elements; it needs exactly one", el=root,
                 scope="feed")
    return channels[0] if channels else None


# --- channel -----------------------------------------------------------------------------------
def _check_singletons(ctx: Context, node: Node, tags: tuple[str, ...]) -> None:
    children = node.children
    item = node if node.index is not None else None
    for tag in tags:
        found = children.get(tag)
        if found is not None and len(found) > 1:
            name = tag if tag[0] != "{" else ("itunes:" if tag.startswith(_IT) else "content:") + tag.split("}")[1]
            ctx.emit("rss.element.duplicate", f"<{name}> appears {len(found)} times", node=item, el=found[1],
                     subject=name)


def check_channel(ctx: Context, ch: Node) -> None:
    _check_singletons(ctx, ch, CHANNEL_SINGLETONS)
    for name in ("title", "link", "description"):
        value = ch.text(name)
        if value is None:
            ctx.emit("rss.channel.required", f"the channel has no <{name}>", node=ch, subject=name)
        elif not value.strip():
            ctx.emit("rss.channel.required", f"the channel's <{name}> is empty", el=ch.first(name), subject=name)
    link = ch.text("link")
    if link and link.strip() and not is_http_url(link.strip()):
        ctx.emit("rss.url", f"the channel <link> '{link.strip()}' is not an absolute http(s) URL",
                 el=ch.first("link"), subject="link")
    for name in ("pubDate", "lastBuildDate"):
        el = ch.first(name)
        if el is not None:
            _check_date(ctx, el, name, None)
    selfs = [el for el in ch.all("{" + ATOM + "}link") if el.get("rel") == "self"]
    if not selfs:
        ctx.emit("rss.atom-self.missing", "the channel has no <atom:link rel=\"self\">", node=ch)
    else:
        href = (selfs[0].get("href") or "").strip()
        source = ctx.options.source_url
        if not is_http_url(href):
            ctx.emit("rss.url", f"the atom:link rel=\"self\" href '{href}' is not an absolute http(s) URL",
                     el=selfs[0], subject="atom:link@href")
        elif source and href.rstrip("/") != source.rstrip("/"):
            ctx.emit("rss.atom-self.mismatch", f"the self link is {href} but the feed was read from {source}",
                     el=selfs[0], subject="atom:link@href")


def _check_date(ctx: Context, el: Any, name: str, node: Node | None) -> float | None:
    text = (el.text or "").strip()
    try:
        value = parse_rfc2822(text)
    except DateProblem as problem:
        rule = "rss.pubdate.weekday" if problem.weekday else "rss.pubdate.format"
        ctx.emit(rule, f"<{name}> {problem}", node=node, el=el, subject=name)
        return None
    return value.timestamp()


# --- items -------------------------------------------------------------------------------------
def check_item(ctx: Context, item: Node) -> None:
    _check_singletons(ctx, item, ITEM_SINGLETONS)
    link = item.text("link")
    if link is not None and link.strip() and not is_http_url(link.strip()):
        ctx.emit("rss.url", f"the episode <link> '{link.strip()}' is not an absolute http(s) URL", node=item,
                 el=item.first("link"), subject="link")
    title_el = item.first("title")
    if title_el is None or not (title_el.text or "").strip():
        ctx.emit("rss.item.title", "the episode has no title" if title_el is None else "the episode's title is empty",
                 node=item, el=title_el, subject="title")

    date_el = item.first("pubDate")
    if date_el is None:
        ctx.emit("rss.pubdate.missing", "the episode has no <pubDate>", node=item, subject="pubDate")
    else:
        ts = _check_date(ctx, date_el, "pubDate", item)
        now = ctx.options.now_ts if ctx.options.now_ts is not None else time.time()
        if ts is not None and ts > now + FUTURE_SLACK_S:
            ctx.emit("rss.pubdate.future", f"<pubDate> {date_el.text.strip()} is in the future", node=item,
                     el=date_el, subject="pubDate")

    enclosures = item.all("enclosure")
    enclosure_url = _check_enclosure(ctx, item, enclosures)
    _check_guid(ctx, item, enclosure_url)


def _check_guid(ctx: Context, item: Node, enclosure_url: str | None) -> None:
    el = item.first("guid")
    raw = (el.text or "") if el is not None else ""
    guid = raw.strip()
    if not guid:
        ctx.emit("rss.guid.missing", "the episode has no guid" if el is None else "the episode's guid is empty",
                 node=item, el=el, subject="guid")
        return
    assert el is not None  # a non-empty guid has an element
    perma = el.get("isPermaLink")
    if perma not in (None, "true", "false"):
        ctx.emit("rss.guid.permalink", f"isPermaLink=\"{perma}\" must be true or false", node=item, el=el,
                 subject="guid@isPermaLink")
    elif perma != "false" and not is_http_url(guid):
        ctx.emit("rss.guid.permalink", f"the guid '{guid}' is not a URL, but isPermaLink is "
                 f"{'true' if perma else 'not set (so true)'}", node=item, el=el, subject="guid@isPermaLink")
    if enclosure_url and guid == enclosure_url:
        ctx.emit("rss.guid.unstable", "the guid is the enclosure URL; it changes if the file ever moves",
                 node=item, el=el, subject="guid")
    elif guid.isdigit() and len(guid) < 9:
        ctx.emit("rss.guid.unstable", f"the guid '{guid}' is a short number; other feeds use the same values",
                 node=item, el=el, subject="guid")
    elif raw != guid or _SPACE.search(guid):
        ctx.emit("rss.guid.unstable", "the guid has spaces or line breaks; some apps trim them and see a new guid",
                 node=item, el=el, subject="guid")


def _check_enclosure(ctx: Context, item: Node, enclosures: list[Any]) -> str | None:
    if not enclosures:
        ctx.emit("rss.enclosure.missing", "the episode has no <enclosure>", node=item, subject="enclosure")
        return None
    if len(enclosures) > 1:
        ctx.emit("rss.enclosure.multiple", f"the episode has {len(enclosures)} enclosures; apps use only the first",
                 node=item, el=enclosures[1], subject="enclosure")
    el = enclosures[0]
    url = el.get("url")
    length = el.get("length")
    mime = el.get("type")
    ext = ""
    if url is None or not url.strip():
        ctx.emit("apple.enclosure.url", "the enclosure has no url", node=item, el=el, subject="enclosure@url")
    else:
        problem = url_problem(url)
        if problem:
            ctx.emit("apple.enclosure.url", f"the enclosure url '{url}' {problem}", node=item, el=el,
                     subject="enclosure@url")
        ext = extension(url)
        if ext not in ENCLOSURE_TYPES:
            ending = "." + ext if ext else "(no extension)"
            ctx.emit("apple.enclosure.extension", f"the enclosure url ends in '{ending}'"
                     "; Apple lists only .mp3, .m4a, .mp4, .m4v, .mov and .pdf", node=item, el=el,
                     subject="enclosure@url")
    if length is None:
        ctx.emit("apple.enclosure.length", "the enclosure has no length", node=item, el=el, subject="enclosure@length")
    elif not length.strip().isdigit():
        ctx.emit("apple.enclosure.length", f"the enclosure length '{length}' is not a whole number of bytes",
                 node=item, el=el, subject="enclosure@length")
    elif int(length) == 0:
        ctx.emit("apple.enclosure.length", "the enclosure length is 0; it must be the file size in bytes",
                 node=item, el=el, subject="enclosure@length")
    if mime is None or not mime.strip():
        ctx.emit("apple.enclosure.type", "the enclosure has no type", node=item, el=el, subject="enclosure@type")
    elif mime not in APPLE_TYPES:
        want = f"; for .{ext} write {ENCLOSURE_TYPES[ext][0]}" if ext in ENCLOSURE_TYPES else ""
        ctx.emit("apple.enclosure.type", f"the enclosure type '{mime}' is not one Apple accepts{want}", node=item,
                 el=el, subject="enclosure@type")
    elif ext in ENCLOSURE_TYPES and mime not in ENCLOSURE_TYPES[ext]:
        ctx.emit("apple.enclosure.type", f"the enclosure type '{mime}' does not match the .{ext} file; "
                 f"write {ENCLOSURE_TYPES[ext][0]}", node=item, el=el, subject="enclosure@type")
    return url.strip() if url else None


# --- across items ------------------------------------------------------------------------------
def check_feed(ctx: Context) -> None:
    seen_guids: dict[str, Node] = {}
    seen_urls: dict[str, Node] = {}
    for item in ctx.items:
        guid = item.guid
        if guid:
            first = seen_guids.get(guid)
            if first is None:
                seen_guids[guid] = item
            else:
                ctx.emit("rss.guid.duplicate", f"the guid '{guid}' is also used by episode {(first.index or 0) + 1} "
                         f"('{first.title}')", node=item, el=item.first("guid"), subject="guid")
        enclosure = item.first("enclosure")
        url = (enclosure.get("url") or "").strip() if enclosure is not None else ""
        if url:
            first = seen_urls.get(url)
            if first is None:
                seen_urls[url] = item
            else:
                ctx.emit("apple.enclosure.duplicate",
                         f"the enclosure URL is also used by episode {(first.index or 0) + 1} ('{first.title}'); "
                         "Apple ignores the duplicate", node=item, el=enclosure, subject="enclosure@url")

"""Podcasting 2.0 rules (PN 1.0): required attributes, allowed values, https URLs, lengths, podcast:guid.

One table describes each tag; the checks read it, so adding a tag is adding a row. All attributes
are required unless the spec marks them optional (PN 1.0.md), so the table lists the required ones.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from feedtool.validation.dates import DateProblem, parse_rfc2822
from feedtool.validation.document import PODCAST, Context, Node

PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
#: the form podcast:guid must have; load.py checks podcast.yaml's podcast_guid with it
UUID_FORM = _UUID
_DECIMAL = re.compile(r"^\d+(\.\d+)?$")
_INTEGER = re.compile(r"^\d+$")
_PREFIX = "{" + PODCAST + "}"

#: transcript types as feeds write them -> the type they mean. The spec lists its types "such as";
#: SubRip has no registered type, and hosts write it several ways.
TRANSCRIPT_TYPES: dict[str, str] = {
    "text/vtt": "text/vtt", "application/x-subrip": "application/x-subrip",
    "application/srt": "application/x-subrip", "text/srt": "application/x-subrip",
    "application/x-srt": "application/x-subrip", "text/x-srt": "application/x-subrip",
    "text/html": "text/html", "text/plain": "text/plain", "application/json": "application/json",
}
CHAPTERS_TYPE = "application/json+chapters"
#: the spec prefers application/json+chapters; its own example.xml writes application/json
CHAPTERS_TYPES = (CHAPTERS_TYPE, "application/json")
MEDIUMS = ("podcast", "music", "video", "film", "audiobook", "newsletter", "blog", "publisher", "course", "mixed")
MEDIUMS_ALL = MEDIUMS[:-1] + tuple(m + "L" for m in MEDIUMS[:-1]) + ("mixed",)


def transcript_type(mime: str) -> str | None:
    """The transcript type a feed's type attribute means (aliases resolved); None when unknown."""
    return TRANSCRIPT_TYPES.get(mime.strip().lower())


def is_list_medium(medium: str | None) -> bool:
    """Publisher and list feeds (publisher, mixed, podcastL, musicL ...) hold remote items, not episodes."""
    value = (medium or "").strip()
    return value in ("publisher", "mixed") or (value.endswith("L") and value[:-1] in MEDIUMS)
SOCIAL_PROTOCOLS = ("disabled", "activitypub", "twitter", "lightning", "atproto", "hive", "matrix", "nostr")
CHAT_PROTOCOLS = ("irc", "xmpp", "nostr", "matrix")


@dataclass(frozen=True)
class TagSpec:
    parents: tuple[str, ...]  # "channel", "item"
    required: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()  # attributes that hold URLs (https only)
    once: bool = False
    text: str | None = None  # "required", "int", "decimal", or None (free / empty)
    text_max: int | None = None
    text_values: tuple[str, ...] = ()
    attr_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    attr_max: dict[str, int] = field(default_factory=dict)
    decimals: tuple[str, ...] = ()
    integers: tuple[str, ...] = ()
    children: tuple[str, ...] = ()  # at least one child of one of these tags


CH, IT = ("channel",), ("item",)
BOTH = ("channel", "item")
SPECS: dict[str, TagSpec] = {
    "transcript": TagSpec(IT, required=("url", "type"), urls=("url",)),
    "chapters": TagSpec(IT, required=("url", "type"), urls=("url",), once=True),
    "locked": TagSpec(CH, once=True, text="required", text_values=("yes", "no")),
    "funding": TagSpec(BOTH, required=("url",), urls=("url",), text_max=128),
    "soundbite": TagSpec(IT, required=("startTime", "duration"), decimals=("startTime", "duration"), text_max=128),
    "person": TagSpec(BOTH, urls=("img", "href"), text="required", text_max=128),
    "location": TagSpec(BOTH, text="required", text_max=128),
    "season": TagSpec(IT, once=True, text="int", attr_max={"name": 128}),
    "episode": TagSpec(IT, once=True, text="decimal", attr_max={"display": 32}),
    "trailer": TagSpec(CH, required=("url", "pubdate"), urls=("url",), text="required", text_max=128,
                       integers=("length", "season")),
    "license": TagSpec(BOTH, once=True, urls=("url",), text="required", text_max=128),
    "alternateEnclosure": TagSpec(IT, required=("type",), integers=("length",), decimals=("bitrate", "height"),
                                  attr_max={"title": 32, "rel": 32}, children=("source",)),
    "guid": TagSpec(CH, once=True),
    "value": TagSpec(BOTH, required=("type", "method"), children=("valueRecipient",)),
    "medium": TagSpec(CH, once=True, text="required", text_values=MEDIUMS_ALL),
    "images": TagSpec(BOTH, once=True, required=("srcset",)),
    "image": TagSpec(BOTH, required=("href",), urls=("href",)),
    "liveItem": TagSpec(CH, required=("status", "start"), attr_values={"status": ("pending", "live", "ended")}),
    "contentLink": TagSpec(IT, required=("href",), urls=("href",)),
    # uri: https, at:// (atproto) or nostr: -- checked by rules_p20.social_uri_problem
    "socialInteract": TagSpec(BOTH, required=("protocol",), attr_values={"protocol": SOCIAL_PROTOCOLS}),
    "block": TagSpec(CH, text="required", text_values=("yes", "no")),
    "txt": TagSpec(BOTH, text="required", text_max=4000, attr_max={"purpose": 128}),
    "remoteItem": TagSpec(CH, required=("feedGuid",)),
    "podroll": TagSpec(CH, once=True, children=("remoteItem",)),
    "updateFrequency": TagSpec(CH, once=True, text="required", text_max=128),
    "podping": TagSpec(CH, once=True),
    "publisher": TagSpec(CH, once=True, children=("remoteItem",)),
    "chat": TagSpec(BOTH, once=True, required=("server", "protocol"), attr_values={"protocol": CHAT_PROTOCOLS}),
}
#: children checked inside their parents
CHILD_SPECS: dict[str, TagSpec] = {
    "source": TagSpec(("alternateEnclosure",), required=("uri",)),
    "integrity": TagSpec(("alternateEnclosure",), required=("type", "value"),
                         attr_values={"type": ("sri", "pgp-signature")}),
    "valueRecipient": TagSpec(("value",), required=("type", "address", "split"), integers=("split",),
                              attr_values={"type": ("node", "lnaddress", "wallet", "keysend")}),
    "remoteItem": TagSpec(("podroll", "publisher"), required=("feedGuid",)),
}


def podcast_guid_for(feed_url: str) -> str:
    """The podcast:guid of a feed URL: UUIDv5 of the URL without scheme and trailing slashes (PN guid.md)."""
    seed = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", feed_url.strip()).rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, seed))


def check_channel(ctx: Context, ch: Node) -> None:
    _check_tags(ctx, ch, None, "channel")
    locked = ch.first(_PREFIX + "locked")
    if locked is not None and not (locked.get("owner") or "").strip():
        ctx.emit("podcast.locked.owner", "<podcast:locked> has no owner e-mail, so the Podcast Index ignores it",
                 el=locked, subject="podcast:locked@owner")
    medium = ch.text(_PREFIX + "medium")
    if is_list_medium(medium) and not ch.all(_PREFIX + "remoteItem"):
        ctx.emit("podcast.list.remote-items", f"the feed is a {(medium or '').strip()} feed but lists no "
                 "<podcast:remoteItem>", el=ch.first(_PREFIX + "medium"), subject="podcast:medium")
    guid = ch.first(_PREFIX + "guid")
    if guid is None:
        ctx.emit("podcast.guid.missing", "the channel has no <podcast:guid>", node=ch, subject="podcast:guid")
        return
    value = (guid.text or "").strip()
    if not _UUID.match(value):
        ctx.emit("podcast.guid.format", f"<podcast:guid> '{value}' is not a UUID", el=guid, subject="podcast:guid")
        return
    feed_url = ctx.options.feed_url
    if feed_url:
        expected = podcast_guid_for(feed_url)
        if value.lower() != expected:
            ctx.emit("podcast.guid.feed-url", f"<podcast:guid> is {value}, but the UUIDv5 of {feed_url} is {expected}",
                     el=guid, subject="podcast:guid",
                     fix=f"If this feed never moved, write {expected}; if it moved, keep the old value.")


def check_item(ctx: Context, item: Node) -> None:
    _check_tags(ctx, item, item, "item")


def _check_tags(ctx: Context, node: Node, item: Node | None, parent: str) -> None:
    for tag, elements in node.children.items():
        if not tag.startswith(_PREFIX):
            continue
        local = tag[len(_PREFIX):]
        spec = SPECS.get(local)
        if spec is None or parent not in spec.parents:
            continue
        if spec.once and len(elements) > 1:
            ctx.emit("podcast.duplicate", f"<podcast:{local}> appears {len(elements)} times; it may appear once",
                     node=item, el=elements[1], subject=f"podcast:{local}")
        for el in elements:
            _check_element(ctx, el, local, spec, item)
            if local == "transcript":
                mime = el.get("type")
                if mime is not None and mime.strip() and transcript_type(mime) is None:
                    ctx.emit("podcast.transcript.type", f"<podcast:transcript type=\"{mime}\"> is not a transcript "
                             "type apps know (text/vtt, application/x-subrip, text/html, text/plain, "
                             "application/json)", node=item, el=el, subject="podcast:transcript@type")
            elif local == "chapters":
                mime = el.get("type")
                if mime is not None and mime.strip() and mime.strip().lower() not in CHAPTERS_TYPES:
                    ctx.emit("podcast.chapters.type", f"<podcast:chapters type=\"{mime}\"> is not a chapters type "
                             f"apps know; write {CHAPTERS_TYPE}", node=item, el=el, subject="podcast:chapters@type")
            elif local == "trailer" and el.get("pubdate"):
                try:
                    parse_rfc2822(el.get("pubdate"))
                except DateProblem as problem:
                    ctx.emit("podcast.value", f"<podcast:trailer pubdate> {problem}", node=item, el=el,
                             subject="podcast:trailer@pubdate")


def _check_element(ctx: Context, el: Any, local: str, spec: TagSpec, item: Node | None) -> None:
    name = f"podcast:{local}"
    attrib = el.attrib
    for attr in spec.required:
        if not (attrib.get(attr) or "").strip():
            if local == "socialInteract" and attr == "uri":
                continue
            ctx.emit("podcast.attribute.missing", f"<{name}> has no {attr} attribute", node=item, el=el,
                     subject=f"{name}@{attr}")
    if local == "socialInteract" and attrib.get("protocol") != "disabled" and not attrib.get("uri"):
        ctx.emit("podcast.attribute.missing", f"<{name}> has no uri attribute", node=item, el=el, subject=f"{name}@uri")
    for attr in spec.urls:
        value = attrib.get(attr)
        if value is not None and value.strip() and not value.strip().startswith("https://"):
            ctx.emit("podcast.https", f"<{name} {attr}=\"{value}\"> is not an https URL", node=item, el=el,
                     subject=f"{name}@{attr}")
    for attr, allowed in spec.attr_values.items():
        value = attrib.get(attr)
        if value is not None and value not in allowed:
            ctx.emit("podcast.value", f"<{name} {attr}=\"{value}\"> is not one of {', '.join(allowed)}", node=item,
                     el=el, subject=f"{name}@{attr}")
    for attr in spec.decimals:
        value = attrib.get(attr)
        if value is not None and not _DECIMAL.match(value.strip()):
            ctx.emit("podcast.value", f"<{name} {attr}=\"{value}\"> is not a number", node=item, el=el,
                     subject=f"{name}@{attr}")
    for attr in spec.integers:
        value = attrib.get(attr)
        if value is not None and not _INTEGER.match(value.strip()):
            ctx.emit("podcast.value", f"<{name} {attr}=\"{value}\"> is not a whole number", node=item, el=el,
                     subject=f"{name}@{attr}")
    for attr, limit in spec.attr_max.items():
        value = attrib.get(attr)
        if value is not None and len(value) > limit:
            ctx.emit("podcast.length", f"<{name} {attr}> is {len(value)} characters; the limit is {limit}",
                     node=item, el=el, subject=f"{name}@{attr}")
    text = (el.text or "").strip()
    if spec.text == "required" and not text:
        ctx.emit("podcast.value", f"<{name}> is empty", node=item, el=el, subject=name)
    elif spec.text == "int" and not _INTEGER.match(text):
        ctx.emit("podcast.value", f"<{name}> is '{text}'; it must be a whole number", node=item, el=el, subject=name)
    elif spec.text == "decimal" and not _DECIMAL.match(text):
        ctx.emit("podcast.value", f"<{name}> is '{text}'; it must be a number", node=item, el=el, subject=name)
    if spec.text_values and text and text not in spec.text_values:
        shown = ", ".join(spec.text_values[:10]) + (" ..." if len(spec.text_values) > 10 else "")
        ctx.emit("podcast.value", f"<{name}> is '{text}'; use one of {shown}", node=item, el=el, subject=name)
    if spec.text_max and len(text) > spec.text_max:
        ctx.emit("podcast.length", f"<{name}> is {len(text)} characters; the limit is {spec.text_max}", node=item,
                 el=el, subject=name)
    if spec.children:
        kids = [c for c in el if isinstance(c.tag, str) and c.tag.startswith(_PREFIX)]
        if not any(c.tag[len(_PREFIX):] in spec.children for c in kids):
            wanted = " or ".join(f"<podcast:{c}>" for c in spec.children)
            ctx.emit("podcast.attribute.missing", f"<{name}> has no {wanted} inside", node=item, el=el, subject=name)
        for child in kids:
            child_local = child.tag[len(_PREFIX):]
            child_spec = CHILD_SPECS.get(child_local)
            if child_spec is not None and local in child_spec.parents:
                _check_element(ctx, child, child_local, child_spec, item)

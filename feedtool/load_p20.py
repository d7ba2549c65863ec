"""The podcast.yaml and episode.md keys that reach apps and directories beyond phase 3.

Podcasting 2.0's value block (with time splits for a guest's segment), podroll and publisher,
per-platform block, socialInteract, chat, podcast:image, contentLink, txt purposes; Spotify's
channel tags; the feed's size budget (``feed:``), analytics prefixes (``enclosure_prefix:``) and
who publish notifies (``notify:``). load.py calls ``show_fields`` and ``episode_fields`` and
passes what they return to Show and Episode; everything here reads through load.py's ``Fields``,
so a mistake is an InputError naming the file, line and field. The rules themselves are the
validator's (feedtool.validation.rules_p20), so a show that builds passes ``feedtool validate``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from feedtool.files import ShowFolder
from feedtool.load import ARTWORK_TYPES, Fields, _file_name, _local_file, _seconds
from feedtool.model import (
    Chat,
    ContentLink,
    FeedLayout,
    Image,
    NotifySettings,
    PlatformBlock,
    RemoteItem,
    SocialInteract,
    Spotify,
    Value,
    ValueRecipient,
    ValueTimeSplit,
)
from feedtool.validation import rules_p20 as rules
from feedtool.validation.rules_podcast import UUID_FORM

SHOW_KEYS = ("value", "podroll", "publisher", "social_interact", "chat", "images", "spotify", "feed",
             "enclosure_prefix", "notify")
EPISODE_KEYS = ("value", "social_interact", "chat", "images", "content_links")
DEFAULT_HUB = "https://pubsubhubbub.appspot.com/"
_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def show_fields(fields: Fields, *, episodes_dir: Path, files: ShowFolder, feed_url: str,
                podcast_guid: str) -> dict[str, Any]:
    """Show(...) keyword arguments for the keys of SHOW_KEYS (and the per-platform form of ``block``).

    ``files`` is load's ShowFolder: a local picture is checked by it like every file of the show."""
    check_txt(fields, level="channel")
    itunes_block, blocks = platform_blocks(fields)
    value = _value(fields, "value", inherited=None) if fields.has("value") else None
    return {
        "value": value,
        "podroll": _podroll(fields, feed_url=feed_url, podcast_guid=podcast_guid),
        "publisher": _publisher(fields),
        "block": itunes_block,
        "platform_blocks": blocks,
        "social_interact": _social(fields),
        "chat": _chat(fields),
        "images": _images(fields, episodes_dir, files),
        "spotify": _spotify(fields),
        "layout": _layout(fields),
        "enclosure_prefixes": _prefixes(fields),
        "notify": _notify(fields),
    }


def episode_fields(fields: Fields, folder: Path, show: Any, files: ShowFolder) -> dict[str, Any]:
    """Episode(...) keyword arguments for the keys of EPISODE_KEYS."""
    check_txt(fields, level="item")
    value = None
    if fields.has("value"):
        value = _value(fields, "value", inherited=show.value)
    return {
        "value": value,
        "social_interact": _social(fields),
        "chat": _chat(fields),
        "images": _images(fields, folder, files),
        "content_links": _content_links(fields),
    }


# --- txt purposes and block ------------------------------------------------------------------------
def check_txt(fields: Fields, *, level: str) -> None:
    """podcast:txt entries whose purpose has a rule (verify tokens on the channel, ai-content true/false)."""
    for index, item in enumerate(fields.items("txt")):
        if isinstance(item, dict):
            value, purpose = str(item.get("value", "")), item.get("purpose")
            problem = rules.txt_problem(str(purpose) if purpose is not None else None, value, level=level)
            if problem:
                hint = "put it in podcast.yaml" if level == "item" and "channel" in problem else None
                raise fields.error("txt", f"txt[{index}]: {problem}", hint)


def platform_blocks(fields: Fields) -> tuple[bool, tuple[PlatformBlock, ...]]:
    """``block``: true (every platform), a list of platforms to block, or {except: [...]}.

    Returns (itunes:block, the podcast:block tags): Apple is blocked when ``apple`` is blocked.
    """
    value = fields.raw("block")
    if value is None:
        return False, ()
    if isinstance(value, (bool, str)):
        blocked = fields.bool_("block", False)
        return blocked, ((PlatformBlock(platform=None, blocked=True),) if blocked else ())
    if isinstance(value, list):
        slugs = _slugs(fields, "block", value)
        return "apple" in slugs, tuple(PlatformBlock(platform=slug, blocked=True) for slug in slugs)
    sub = fields.sub("block", value)
    sub.check_known(("except",))
    allowed = _slugs(sub, "except", sub.items("except"))
    if not allowed:
        raise sub.error("except", "name the platforms that may list the show, e.g. except: [apple, spotify]")
    return "apple" not in allowed, (PlatformBlock(platform=None, blocked=True),
                                    *(PlatformBlock(platform=slug, blocked=False) for slug in allowed))


def _slugs(fields: Fields, key: str, values: list[Any]) -> list[str]:
    slugs = []
    for item in values:
        slug = str(item).strip().lower()
        problem = rules.block_slug_problem(slug)
        if problem:
            raise fields.error(key, problem, "see serviceslugs.txt of the Podcasting 2.0 namespace")
        if slug not in slugs:
            slugs.append(slug)
    return slugs


# --- value -------------------------------------------------------------------------------------------
def _value(fields: Fields, key: str, *, inherited: Value | None) -> Value:
    """podcast:value. In an episode, what is not given comes from the show's (the recipients too)."""
    sub = fields.sub(key, fields.raw(key))
    sub.check_known(("type", "method", "suggested", "recipients", "time_splits"))
    kind = sub.choice("type", rules.VALUE_TYPES, inherited.type if inherited else "lightning")
    method = sub.choice("method", rules.VALUE_METHODS, inherited.method if inherited else "keysend")
    suggested = _suggested(sub) if sub.has("suggested") else (inherited.suggested if inherited else None)
    if sub.has("recipients"):
        recipients = _recipients(sub, "recipients", "value.recipients")
    elif inherited is not None:
        recipients = inherited.recipients
    else:
        raise sub.error("recipients", "is required: who gets paid",
                        "add recipients: [{name: You, address: you@getalby.com, split: 100}]")
    splits = tuple(_time_split(sub, item, index) for index, item in enumerate(sub.items("time_splits")))
    if splits and fields.path.name != "episode.md":
        raise sub.error("time_splits", "time splits belong to an episode (they name seconds of its audio)",
                        "move them to the episode's front matter")
    previous_end = 0.0
    for split in sorted(splits, key=lambda s: s.start_s):
        if split.start_s < previous_end - 1e-6:
            raise sub.error("time_splits", f"the time split at {split.start_s:g} s overlaps the one before it")
        previous_end = split.start_s + split.duration_s
    return Value(type=kind, method=method, suggested=suggested, recipients=recipients, time_splits=splits)


def _suggested(sub: Fields) -> str:
    raw = sub.raw("suggested")
    try:
        amount = Decimal(str(raw).strip()) if not isinstance(raw, bool) else None
    except InvalidOperation:
        amount = None
    if amount is None or amount <= 0:
        raise sub.error("suggested", f"must be an amount above 0 (in BTC for lightning), not {raw!r}",
                        "e.g. suggested: '0.00000005000' (5 sats)")
    return format(amount, "f")


def _recipients(sub: Fields, key: str, what: str) -> tuple[ValueRecipient, ...]:
    result = []
    for index, item in enumerate(sub.items(key)):
        rsub = sub.sub(key, item, index)
        rsub.check_known(("name", "type", "address", "split", "fee", "custom_key", "custom_value"))
        address = rsub.req("address")
        default_type = "lnaddress" if "@" in address else "node"
        kind = rsub.choice("type", rules.RECIPIENT_TYPES, default_type)
        problem = rules.recipient_address_problem(kind, address)
        if problem:
            raise rsub.error("address", problem, "copy the address from the wallet; a Lightning Address looks "
                             "like name@wallet.example, a node id is 66 hex digits")
        if rsub.raw("split") is None:
            raise rsub.error("split", "is required", "the splits of a value block's recipients add up to 100")
        split = rsub.int_("split", minimum=0)
        assert split is not None
        custom_key, custom_value = rsub.text_("custom_key"), rsub.text_("custom_value")
        if (custom_key is None) != (custom_value is None):
            raise rsub.error("custom_key", "custom_key and custom_value go together")
        result.append(ValueRecipient(name=rsub.text_("name"), type=kind, address=address, split=split,
                                     fee=rsub.bool_("fee", False), custom_key=custom_key, custom_value=custom_value))
    if not result:
        raise sub.error(key, "needs at least one recipient")
    problem = rules.splits_problem(((r.split, r.fee) for r in result), what)
    if problem:
        raise sub.error(key, problem, "give each recipient who is not a fee a percentage; together they make 100")
    return tuple(result)


def _time_split(sub: Fields, item: Any, index: int) -> ValueTimeSplit:
    tsub = sub.sub("time_splits", item, index)
    tsub.check_known(("start", "duration", "recipients", "remote_item", "remote_start", "remote_percentage"))
    try:
        start = _seconds(tsub.raw("start"))
        duration = _seconds(tsub.raw("duration"))
    except (TypeError, ValueError):
        raise tsub.error("start", "start and duration must be seconds or HH:MM:SS") from None
    if start < 0 or duration <= 0:
        raise tsub.error("duration", "the segment must start at 0 s or later and last more than 0 s")
    has_recipients, has_remote = tsub.has("recipients"), tsub.has("remote_item")
    if has_recipients == has_remote:
        raise tsub.error("recipients", "a time split has either recipients or a remote_item (the guest's own "
                         "feed item), not both and not neither")
    remote = None
    recipients: tuple[ValueRecipient, ...] = ()
    remote_start = percentage = None
    if has_remote:
        remote = _remote_item(tsub, "remote_item", tsub.raw("remote_item"), None)
        if tsub.has("remote_start"):
            try:
                remote_start = _seconds(tsub.raw("remote_start"))
            except (TypeError, ValueError):
                raise tsub.error("remote_start", "must be seconds or HH:MM:SS") from None
        if tsub.has("remote_percentage"):
            percentage = tsub.int_("remote_percentage", minimum=0)
            if percentage is not None and percentage > 100:
                raise tsub.error("remote_percentage", f"must be 0 to 100, not {percentage}")
    else:
        recipients = _recipients(tsub, "recipients", f"time_splits[{index}].recipients")
    return ValueTimeSplit(start_s=start, duration_s=duration, recipients=recipients, remote_item=remote,
                          remote_start_s=remote_start, remote_percentage=percentage)


def check_time_splits(episode: Any, duration_s: float) -> None:
    """Time splits inside the audio (build calls this once the duration is known)."""
    from feedtool.errors import InputError

    if episode.value is None:
        return
    for split in episode.value.time_splits:
        if split.start_s + split.duration_s > duration_s + 1.0:
            raise InputError(
                f"a value time split runs from {split.start_s:g} s to {split.start_s + split.duration_s:g} s, "
                f"past the end of the audio ({duration_s:.0f} s)", path=episode.source, field="value.time_splits",
                hint="check start and duration against the episode's length")


# --- remote items: podroll, publisher ------------------------------------------------------------------
def _remote_item(fields: Fields, key: str, item: Any, index: int | None) -> RemoteItem:
    if isinstance(item, str):
        item = {"feed_guid": item}
    sub = fields.sub(key, item, index)
    sub.check_known(("feed_guid", "feed_url", "item_guid", "medium", "title"))
    feed_guid = sub.text_("feed_guid")
    if feed_guid is None:
        raise sub.error("feed_guid", "is required: apps find the remote feed by its podcast:guid",
                        "look the show up on podcastindex.org; its page shows the GUID")
    if not UUID_FORM.match(feed_guid):
        raise sub.error("feed_guid", f"{feed_guid!r} is not a podcast:guid (a UUID)")
    medium = sub.text_("medium")
    from feedtool.validation.rules_podcast import MEDIUMS_ALL

    if medium is not None and medium not in MEDIUMS_ALL:
        raise sub.error("medium", f"{medium!r} is not a podcast:medium", "use podcast, music, video ...")
    return RemoteItem(feed_guid=feed_guid.lower(), feed_url=sub.url("feed_url"), item_guid=sub.text_("item_guid"),
                      medium=medium, title=sub.text_("title"))


def _podroll(fields: Fields, *, feed_url: str, podcast_guid: str) -> tuple[RemoteItem, ...]:
    result = []
    for index, item in enumerate(fields.items("podroll")):
        remote = _remote_item(fields, "podroll", item, index)
        if remote.feed_guid == podcast_guid.lower() or remote.feed_url == feed_url:
            raise fields.error("podroll", f"podroll[{index}] is this show's own feed",
                               "a podroll recommends other shows; remove this entry")
        result.append(remote)
    return tuple(result)


def _publisher(fields: Fields) -> RemoteItem | None:
    if not fields.has("publisher"):
        return None
    remote = _remote_item(fields, "publisher", fields.raw("publisher"), None)
    if remote.medium not in (None, "publisher"):
        raise fields.error("publisher", "the publisher's feed has medium publisher")
    return RemoteItem(feed_guid=remote.feed_guid, feed_url=remote.feed_url, item_guid=remote.item_guid,
                      medium="publisher", title=remote.title)


# --- socialInteract, chat, images, content links --------------------------------------------------------
def _social(fields: Fields) -> tuple[SocialInteract, ...]:
    value = fields.raw("social_interact")
    if value is None:
        return ()
    if isinstance(value, str) and value.strip() == "disabled":
        return (SocialInteract(protocol="disabled"),)
    result = []
    for index, item in enumerate(fields.items("social_interact")):
        sub = fields.sub("social_interact", item, index)
        sub.check_known(("protocol", "uri", "account_id", "account_url", "priority"))
        from feedtool.validation.rules_podcast import SOCIAL_PROTOCOLS

        protocol = sub.choice("protocol", SOCIAL_PROTOCOLS, "activitypub")
        uri = sub.text_("uri")
        problem = rules.social_uri_problem(protocol, uri)
        if problem:
            raise sub.error("uri", problem, "the URL of the post where listeners comment")
        result.append(SocialInteract(protocol=protocol, uri=uri, account_id=sub.text_("account_id"),
                                     account_url=sub.url("account_url", https=True),
                                     priority=sub.int_("priority", minimum=0)))
    return tuple(result)


def _chat(fields: Fields) -> Chat | None:
    if not fields.has("chat"):
        return None
    from feedtool.validation.rules_podcast import CHAT_PROTOCOLS

    sub = fields.sub("chat", fields.raw("chat"))
    sub.check_known(("server", "protocol", "account_id", "space"))
    server = sub.req("server")
    if not re.fullmatch(r"[A-Za-z0-9.-]+(:\d+)?", server):
        raise sub.error("server", f"{server!r} is not a host name", "write the server's name, e.g. irc.libera.chat")
    if not sub.has("protocol"):
        raise sub.error("protocol", "is required", "one of " + ", ".join(CHAT_PROTOCOLS))
    return Chat(server=server, protocol=sub.choice("protocol", CHAT_PROTOCOLS, "irc"),
                account_id=sub.text_("account_id"), space=sub.text_("space"))


def _images(fields: Fields, folder: Path, files: ShowFolder) -> tuple[Image, ...]:
    result = []
    for index, item in enumerate(fields.items("images")):
        if isinstance(item, str):
            item = {"href": item} if item.startswith(("http://", "https://")) else {"file": item}
        sub = fields.sub("images", item, index)
        sub.check_known(("file", "href", "alt", "aspect_ratio", "width", "height", "type", "purpose"))
        if sub.has("file") == sub.has("href"):
            raise sub.error("file", "give either file (a picture next to this file) or href (an https URL)")
        path = None
        if sub.has("file"):
            path = _local_file(sub, "file", _file_name(sub, "file", sub.raw("file")), folder, files)
            if path.suffix.lower() not in (*ARTWORK_TYPES, ".webp", ".gif", ".mp4"):
                raise sub.error("file", "must be a .jpg, .png, .webp, .gif or .mp4 file")
            if sub.has("width") or sub.has("height"):
                raise sub.error("width", "feedtool measures a local picture itself; leave width and height out")
        ratio = sub.text_("aspect_ratio")
        if ratio is not None and not rules.ASPECT_RATIO.match(ratio):
            raise sub.error("aspect_ratio", f"{ratio!r} is not a ratio", "write it like 16/9 or 1/1")
        purpose = sub.text_("purpose")
        if purpose is not None and len(purpose) > 128:
            raise sub.error("purpose", "must be 128 characters or fewer")
        result.append(Image(path=path, href=sub.url("href", https=True), alt=sub.text_("alt"), aspect_ratio=ratio,
                            width=sub.int_("width"), height=sub.int_("height"), type=sub.text_("type"),
                            purpose=purpose))
    return tuple(result)


def _content_links(fields: Fields) -> tuple[ContentLink, ...]:
    result = []
    for index, item in enumerate(fields.items("content_links")):
        if isinstance(item, str):
            item = {"href": item}
        sub = fields.sub("content_links", item, index)
        sub.check_known(("href", "text"))
        href = sub.url("href", required=True, https=True) or ""
        result.append(ContentLink(href=href, text=sub.text_("text") or "Watch or listen elsewhere"))
    return tuple(result)


# --- Spotify, feed size, prefixes, notifications ----------------------------------------------------------
def _spotify(fields: Fields) -> Spotify | None:
    if not fields.has("spotify"):
        return None
    sub = fields.sub("spotify", fields.raw("spotify"))
    sub.check_known(("limit", "country_of_origin"))
    raw = sub.raw("country_of_origin")
    codes = raw.split() if isinstance(raw, str) else [str(c) for c in sub.items("country_of_origin")]
    countries = []
    for code in codes:
        code = code.strip().lower()
        problem = rules.country_problem(code)
        if problem:
            raise sub.error("country_of_origin", problem, "e.g. country_of_origin: [us, gb]")
        countries.append(code)
    return Spotify(limit=sub.int_("limit"), countries=tuple(countries))


def _layout(fields: Fields) -> FeedLayout:
    if not fields.has("feed"):
        return FeedLayout()
    sub = fields.sub("feed", fields.raw("feed"))
    sub.check_known(("full_notes", "max_items", "page_size"))
    max_items, page_size = sub.int_("max_items"), sub.int_("page_size")
    if page_size is not None and max_items is None:
        raise sub.error("page_size", "archive pages hold what max_items leaves out: set max_items too")
    return FeedLayout(full_notes=sub.int_("full_notes", minimum=0), max_items=max_items, page_size=page_size)


def _prefixes(fields: Fields) -> tuple[str, ...]:
    result = []
    for index, item in enumerate(fields.items("enclosure_prefix")):
        text = str(item).strip()
        where = "enclosure_prefix" + (f"[{index}]" if isinstance(fields.raw("enclosure_prefix"), list) else "")
        if not re.match(r"^https://[^\s/?#]+(/[^\s?#]*)?$", text):
            raise fields.error("enclosure_prefix", f"{where}: {text!r} is not an https:// prefix",
                               "use the https form the service documents, e.g. https://op3.dev/e/")
        result.append(text if text.endswith("/") else text + "/")
    return tuple(result)


def _service(sub: Fields, name: str, settings: dict[str, Any], *, secret: bool) -> None:
    """``name: true|false`` or ``name: {url: ...}`` (a service at another address)."""
    value = sub.raw(name)
    if isinstance(value, dict):
        service = sub.sub(name, value)
        service.check_known(("url",))
        settings[name] = True
        settings[f"{name}_url"] = _endpoint(service, "url", secret=secret)
    elif value is not None:
        settings[name] = sub.bool_(name, False)


def _notify(fields: Fields) -> NotifySettings | None:
    value = fields.raw("notify")
    if value is None:
        return None
    if isinstance(value, list):
        value = {str(name): True for name in value}
    sub = fields.sub("notify", value)
    sub.check_known(("podping", "websub", "podcastindex", "timeout"))
    settings: dict[str, Any] = {}
    _service(sub, "podping", settings, secret=True)
    websub = sub.raw("websub")
    if isinstance(websub, dict):
        wsub = sub.sub("websub", websub)
        wsub.check_known(("hub",))
        settings["websub_hub"] = _hub(wsub, "hub")
    elif isinstance(websub, bool) or websub in ("yes", "no", "true", "false"):
        settings["websub_hub"] = DEFAULT_HUB if sub.bool_("websub", False) else None
    elif websub is not None:
        settings["websub_hub"] = _hub(sub, "websub")
    _service(sub, "podcastindex", settings, secret=False)
    if sub.has("timeout"):
        timeout = sub.raw("timeout")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 120:
            raise sub.error("timeout", f"must be seconds between 0 and 120, not {timeout!r}")
        settings["timeout_s"] = float(timeout)
    return NotifySettings(**settings)


def _hub(sub: Fields, key: str) -> str:
    text = str(sub.raw(key)).strip()
    if not re.match(r"^https?://[^\s/?#]+", text):
        raise sub.error(key, f"{text!r} is not an http(s) URL of a WebSub hub",
                        f"e.g. {DEFAULT_HUB} (Google's public hub)")
    return text


def _endpoint(sub: Fields, key: str, *, secret: bool) -> str:
    """A service URL: https, or http only to this machine (tests). A token never travels in the clear."""
    from urllib.parse import urlsplit

    text = sub.req(key)
    parts = urlsplit(text)
    if parts.scheme == "https" and parts.hostname:
        return text
    if parts.scheme == "http" and parts.hostname in _LOOPBACK:
        return text
    what = "the token would travel in the clear" if secret else "use https"
    raise sub.error(key, f"{text!r} must be an https:// URL ({what})")

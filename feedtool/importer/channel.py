"""The feed's <channel> -> podcast.yaml (every key feedtool has; docs/format.md), without any network.

Decisions that keep subscribers:

- ``podcast_guid`` is the feed's podcast:guid exactly as written. A feed without one has the guid
  the Podcast Index computes from its URL, so that one is pinned (the new feed URL would give
  another: the show would look new to the index).
- ``locked`` and its owner e-mail, and ``owner`` (name and e-mail), are carried over: after the
  move, directories still reach the owner, and the lock keeps other platforms from importing it.
- ``new_feed_url`` of the OLD feed is not copied: it is where that feed says it moved to, not what
  our feed should say. If it points elsewhere, the show has moved before: the podcaster is told.
- categories are mapped onto Apple's current list (feedtool.importer.categories).
- ``base_url`` is where the new feed will be served: unknown until the podcaster says, so a
  placeholder (the readiness check flags it) unless ``--base-url`` was given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from feedtool.importer import fields as f
from feedtool.importer.categories import map_category
from feedtool.importer.fields import IT, PC, Notices
from feedtool.importer.markdown import to_markdown
from feedtool.importer.source import Feed

PLACEHOLDER_BASE = "https://podcast.example.com/"
MEDIUMS_KNOWN = ("podcast", "music", "video", "film", "audiobook", "newsletter", "blog", "publisher",
                 "course", "mixed")
#: podcast: tags of a channel that feedtool writes; the others are counted as left out.
CHANNEL_TAGS = {"guid", "locked", "funding", "person", "license", "location", "medium", "txt", "updateFrequency",
                "trailer"}


@dataclass
class Channel:
    show: dict[str, Any]  # podcast.yaml, keys in docs/format.md's order (artwork filled in later)
    artwork_url: str | None
    moved_to: str | None  # the old feed's itunes:new-feed-url, when it points elsewhere
    title: str


def map_channel(feed: Feed, notices: Notices, *, base_url: str | None) -> Channel:
    ch = feed.channel
    where = "the show"
    show: dict[str, Any] = {}
    title = f.text(ch, "title") or f.text(ch, IT + "title")
    if not title:
        notices.warn("the feed has no show title; wrote 'Untitled show': set 'title' in podcast.yaml")
        title = "Untitled show"
    show["title"] = title
    author = f.text(ch, IT + "author") or f.text(ch, "{http://www.google.com/schemas/play-podcasts/1.0}author")
    owner_el = ch.find(IT + "owner")
    owner_name = f.text(owner_el, IT + "name") if owner_el is not None else None
    owner_email = f.text(owner_el, IT + "email") if owner_el is not None else None
    if not author:
        author = owner_name or title
        notices.warn(f"the feed has no itunes:author; wrote {author!r}: check 'author' in podcast.yaml")
    show["author"] = author
    description_html = f.text(ch, "description") or f.text(ch, IT + "summary") or ""
    description = to_markdown(description_html, base_url=feed.base_of(ch)).strip()
    if not description:
        notices.warn("the feed has no show description; wrote the title: set 'description' in podcast.yaml")
        description = title
    show["description"] = description
    language = (f.text(ch, "language") or "").replace("_", "-")
    if not language:
        notices.warn("the feed gives no language; wrote 'en': set 'language' in podcast.yaml")
        language = "en"
    show["language"] = language
    link = f.http_url(feed, ch, f.text(ch, "link"))
    if not link:
        link = feed.url.rsplit("/", 1)[0] + "/" if feed.url else PLACEHOLDER_BASE
        notices.warn(f"the feed has no website <link>; wrote {link}: set 'link' in podcast.yaml")
    show["link"] = link
    show["base_url"] = base_url or PLACEHOLDER_BASE
    show["artwork"] = None  # the file name, once fetched
    show["categories"] = _categories(ch, notices)
    explicit = f.flag(f.text(ch, IT + "explicit"))
    if explicit is None:
        notices.warn("the feed does not say whether the show is explicit; wrote 'explicit: false'")
        explicit = False
    show["explicit"] = explicit
    kind = (f.text(ch, IT + "type") or "episodic").lower()
    if kind in ("episodic", "serial"):
        show["type"] = kind
    if owner_email and "@" in owner_email:
        show["owner"] = {"name": owner_name or author, "email": owner_email}
    elif owner_el is not None:
        notices.warn("itunes:owner has no e-mail address; left out (feedtool needs both name and e-mail)")
    copyright_ = f.text(ch, "copyright")
    if copyright_:
        show["copyright"] = copyright_
    if f.flag(f.text(ch, IT + "block")):
        show["block"] = True
    if f.flag(f.text(ch, IT + "complete")):
        show["complete"] = True
    moved_to = _moved_to(feed, ch, notices)
    itunes_title = f.text(ch, IT + "title")
    if itunes_title and itunes_title != title:
        show["itunes_title"] = itunes_title
    show["podcast_guid"] = _podcast_guid(feed, ch, notices)
    locked_el = ch.find(PC + "locked")
    if locked_el is not None:
        locked = f.flag("".join(locked_el.itertext()))
        if locked is not None:
            show["locked"] = locked
        if locked:
            notices.warn("the feed is podcast:locked: it asks other platforms not to import it. Import it only "
                         "if the show is yours; the lock is carried over")
        lock_owner = (locked_el.get("owner") or "").strip()
        if lock_owner and "@" in lock_owner and lock_owner != owner_email:
            show["locked_owner"] = lock_owner
    for key, value in (("funding", f.funding(feed, ch, notices, where)),
                       ("people", f.people(feed, ch, notices, where)),
                       ("license", f.license_(feed, ch)),
                       ("location", f.location(ch))):
        if value:
            show[key] = value
    medium = (f.text(ch, PC + "medium") or "").strip().lower()
    if medium:
        if medium in MEDIUMS_KNOWN:
            if medium != "podcast":
                show["medium"] = medium
        else:
            notices.warn(f"podcast:medium {medium!r} is not one feedtool writes; left out (default: podcast)")
    records = f.txt(ch)
    if records:
        show["txt"] = records
    frequency = _update_frequency(ch)
    if frequency is not None:
        show["update_frequency"] = frequency
    trailers = _trailers(feed, ch, notices)
    if trailers:
        show["trailers"] = trailers
    for el in ch:
        if isinstance(el.tag, str) and el.tag.startswith(PC) and el.tag[len(PC):] not in CHANNEL_TAGS:
            notices.leave_out(f"podcast:{el.tag[len(PC):]}")
    artwork = ch.find(IT + "image")
    artwork_url = f.http_url(feed, artwork, artwork.get("href")) if artwork is not None else None
    if not artwork_url:
        image = ch.find("image")
        artwork_url = f.http_url(feed, image, f.text(image, "url")) if image is not None else None
    return Channel(show=show, artwork_url=artwork_url, moved_to=moved_to, title=title)


def _categories(ch: Any, notices: Notices) -> list[str]:
    found: list[str] = []
    for el in ch.iterfind(IT + "category"):
        top = (el.get("text") or "").strip()
        if not top:
            continue
        subs = [(sub.get("text") or "").strip() for sub in el.iterfind(IT + "category")]
        for sub in [s for s in subs if s] or [None]:
            mapped, warning = map_category(top, sub)
            if warning:
                notices.warn(warning)
            if mapped and mapped not in found:
                found.append(mapped)
    if not found:
        notices.warn("no category of Apple's list could be carried over; wrote 'Technology': "
                     "set 'categories' in podcast.yaml")
        found = ["Technology"]
    return found


def _podcast_guid(feed: Feed, ch: Any, notices: Notices) -> str | None:
    from feedtool.validation.rules_podcast import podcast_guid_for

    written = f.text(ch, PC + "guid")
    if written:
        import uuid

        try:
            uuid.UUID(written)
        except ValueError:
            notices.warn(f"podcast:guid {written!r} is not a UUID; feedtool cannot keep it. Find the show's guid "
                         "at podcastindex.org and set 'podcast_guid' in podcast.yaml")
            return None
        return written
    if feed.url:
        return podcast_guid_for(feed.url)
    notices.warn("the feed has no podcast:guid and no address of its own (atom:link rel=self): set "
                 "'podcast_guid' in podcast.yaml to the one the Podcast Index has for the show")
    return None


def _moved_to(feed: Feed, ch: Any, notices: Notices) -> str | None:
    moved = f.http_url(feed, ch, f.text(ch, IT + "new-feed-url"))
    if not moved or not feed.url or moved.rstrip("/") == feed.url.rstrip("/"):
        return None
    if feed.redirected_from and moved.rstrip("/") == feed.redirected_from.rstrip("/"):
        return None
    notices.warn(f"the feed says it has moved to {moved} (itunes:new-feed-url): apps follow that address. "
                 "If that is the current feed, import from there instead")
    return moved


def _update_frequency(ch: Any) -> str | dict[str, Any] | None:
    el = ch.find(PC + "updateFrequency")
    if el is None:
        return None
    label = "".join(el.itertext()).strip()
    if not label:
        return None
    result: dict[str, Any] = {"text": label}
    for key in ("rrule", "dtstart"):
        value = (el.get(key) or "").strip()
        if value:
            result[key] = value
    complete = f.flag(el.get("complete"))
    if complete is not None:
        result["complete"] = complete
    return result if len(result) > 1 else label


def _trailers(feed: Feed, ch: Any, notices: Notices) -> list[dict[str, Any]]:
    result = []
    for el in ch.iterfind(PC + "trailer"):
        url = f.http_url(feed, el, el.get("url"))
        date = f.feed_date(el.get("pubdate"))
        name = "".join(el.itertext()).strip()
        if not url or not url.startswith("https://") or date is None or not name:
            notices.warn("a podcast:trailer without title, https url or pubdate was left out")
            continue
        trailer: dict[str, Any] = {"title": name, "url": url, "pubdate": f.iso(date)}
        length = f.whole_number(el.get("length"), minimum=0)
        if length is not None:
            trailer["length"] = length
        if el.get("type"):
            trailer["type"] = el.get("type").strip()
        season = f.whole_number(el.get("season"))
        if season is not None:
            trailer["season"] = season
        result.append(trailer)
    return result

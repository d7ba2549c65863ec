"""The feed's items -> one plan per episode (front matter, notes, what to fetch), without any network.

Identity first: an episode's guid is what every app knows it by, so it is kept exactly as the feed
writes it (surrounding white space aside, which every parser strips). An item without a guid is
known to apps by its enclosure URL, so that URL becomes its guid (flagged). Two items with one guid
are kept apart: apps showed only one of them, so the first keeps the guid and the other is known by
its enclosure URL from now on (reported); the same guid *and* audio twice is one episode listed
twice, imported once. Items without audio are not episodes (reported, skipped).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from feedtool.importer import fields as f
from feedtool.importer.fields import IT, PC, Notices
from feedtool.importer.markdown import to_markdown
from feedtool.importer.source import CONTENT_NS, PSC_NS, Feed

#: podcast: tags of an item that feedtool writes; the others are counted as left out.
ITEM_TAGS = {"chapters", "transcript", "person", "season", "episode", "soundbite", "funding", "license", "location",
             "txt", "alternateEnclosure"}
#: enclosure type -> the file extension feedtool reads it by (when the URL has none).
EXTENSION_FOR_TYPE = {
    "audio/mpeg": ".mp3", "audio/mp3": ".mp3", "audio/x-mp3": ".mp3", "audio/mpeg3": ".mp3",
    "audio/x-m4a": ".m4a", "audio/m4a": ".m4a", "audio/mp4": ".m4a", "audio/aac": ".m4a", "audio/x-aac": ".m4a",
    "video/mp4": ".mp4", "video/x-m4v": ".m4v", "audio/ogg": ".ogg", "audio/opus": ".opus",
    "audio/flac": ".flac", "audio/x-flac": ".flac",
}
TRANSCRIPT_EXTENSIONS = {
    "text/vtt": ".vtt", "application/x-subrip": ".srt", "application/srt": ".srt", "text/srt": ".srt",
    "text/html": ".html", "text/plain": ".txt", "application/json": ".json",
}


@dataclass
class Media:
    """One audio file of an episode as the feed describes it."""

    url: str
    length: int | None  # the enclosure's length attribute, when it is a plausible size
    mime: str
    duration_s: float | None  # itunes:duration (only the enclosure has one)

    @property
    def extension(self) -> str:
        from feedtool.audio import EXTENSIONS

        name = unquote(urlsplit(self.url).path).rsplit("/", 1)[-1]
        suffix = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
        if suffix in EXTENSIONS:
            return suffix
        return EXTENSION_FOR_TYPE.get(self.mime.lower(), suffix or ".mp3")

    @property
    def file_name(self) -> str:
        """A safe local file name for the download: the URL's last path segment, ASCII, right extension."""
        from feedtool.build_output import ascii_name

        name = unquote(urlsplit(self.url).path).rstrip("/").rsplit("/", 1)[-1]
        stem = name.rsplit(".", 1)[0] if "." in name else name
        stem = ascii_name(stem)[:80].lower() or "audio"
        if stem in ("episode", "chapters", "transcript", "cover"):
            stem = "audio"
        return stem + self.extension


@dataclass
class Transcript:
    url: str
    mime: str
    language: str | None
    rel: str | None


@dataclass
class EpisodePlan:
    """Everything known about one episode before anything is fetched."""

    index: int  # position in the feed (0 = first item)
    slug: str
    guid: str
    title: str
    front: dict[str, Any]  # episode.md front matter, in docs/format.md's order (audio etc. filled in later)
    notes: str  # Markdown
    media: list[Media]  # the enclosure, then alternate enclosures
    item_sha256: str  # the item's XML: tells --update whether it changed upstream
    artwork_url: str | None = None
    transcripts: list[Transcript] = field(default_factory=list)
    chapters_url: str | None = None
    psc_chapters: list[dict[str, Any]] = field(default_factory=list)
    duration_s: float | None = None
    flags: list[str] = field(default_factory=list)  # written as comments above the front matter


def item_key(item: Any) -> str:
    from lxml import etree

    return hashlib.sha256(etree.tostring(item)).hexdigest()


def plan_items(feed: Feed, notices: Notices, *, show_artwork: str | None, taken: set[str] | None = None,
               known: dict[str, str] | None = None) -> list[EpisodePlan]:
    """A plan for every item with audio; ``taken`` folder names are not reused (``--update``).

    ``known`` maps guids already imported to their folders, so an update keeps their folder.
    """
    from feedtool.load import slugify

    slugs: set[str] = set(taken or ())
    by_guid: dict[str, EpisodePlan] = {}
    plans: list[EpisodePlan] = []
    numbers: dict[tuple[int | None, int], str] = {}
    for index, item in enumerate(feed.channel.iterfind("item")):
        label = _label(item, index)
        media = _media(feed, item, notices, label)
        if media is None:
            continue
        guid, flag = _guid(item, media[0].url)
        if flag:
            notices.warn(f"{label}: {flag}")
        twin = by_guid.get(guid)
        if twin is not None:
            if twin.media[0].url == media[0].url:
                notices.warn(f"{label} repeats the item before it (same guid {guid!r}, same audio): imported once")
                continue
            new_guid = media[0].url
            notices.warn(f"{label} has the same guid as '{twin.title}' ({guid!r}); apps showed only one of "
                         f"them. '{twin.title}' keeps it; this one is known by its audio URL from now on, "
                         "and appears in apps as a new episode")
            flag = f"the feed gave this episode the same guid as '{twin.title}' ({guid}); it now uses its audio URL"
            guid = new_guid
            if guid in by_guid:
                notices.warn(f"{label}: its audio URL is another episode's guid as well; left out")
                continue
        plan = _plan(feed, item, index, guid, media, notices, label, show_artwork)
        if flag:
            plan.flags.append(flag)
        existing = (known or {}).get(guid)
        if existing is not None:
            plan.slug = existing
        else:
            base = slugify(plan.title)
            slug, n = base, 2
            while slug in slugs:
                slug, n = f"{base}-{n}", n + 1
            plan.slug = slug
            slugs.add(slug)
        number = plan.front.get("episode")
        if isinstance(number, int) and plan.front.get("episode_type", "full") == "full":
            key = (plan.front.get("season"), number)
            if key in numbers:
                notices.warn(f"{label}: episode number {number} is also used by '{numbers[key]}'; left out here "
                             "(feedtool needs each full episode's number to be its own)")
                del plan.front["episode"]
                plan.front.pop("episode_display", None)
            else:
                numbers[key] = plan.title
        by_guid[guid] = plan
        plans.append(plan)
    return plans


def _label(item: Any, index: int) -> str:
    title = f.text(item, "title") or f.text(item, IT + "title")
    from feedtool.errors import excerpt

    return f"item {index + 1} ('{excerpt(title)}')" if title else f"item {index + 1}"


def _media(feed: Feed, item: Any, notices: Notices, label: str) -> list[Media] | None:
    enclosure = item.find("enclosure")
    if enclosure is None:
        notices.warn(f"{label} has no audio (no <enclosure>): not an episode, skipped")
        return None
    raw = enclosure.get("url")
    url = f.http_url(feed, enclosure, raw)
    if not url:
        notices.warn(f"{label}: its audio URL {raw!r} is not an http(s) address (nor relative to one): skipped")
        return None
    mime = (enclosure.get("type") or "").strip().lower()
    length = f.whole_number(enclosure.get("length"), minimum=0)
    first = Media(url=url, length=length if length and length > 1 else None, mime=mime,
                  duration_s=f.duration_seconds(f.text(item, IT + "duration")))
    if not mime:
        first.mime = _type_for(first.extension)
    media = [first]
    for alternate in item.iterfind(PC + "alternateEnclosure"):
        if f.flag(alternate.get("default")):
            continue  # the enclosure itself, listed again
        source = alternate.find(PC + "source")
        alt_url = f.http_url(feed, source, source.get("uri")) if source is not None else None
        if not alt_url or alt_url == url:
            continue
        alt_length = f.whole_number(alternate.get("length"), minimum=0)
        alt = Media(url=alt_url, length=alt_length or None, mime=(alternate.get("type") or "").strip().lower(),
                    duration_s=None)
        if not alt.mime:
            alt.mime = _type_for(alt.extension)
        media.append(alt)
    return media


def _type_for(extension: str) -> str:
    from feedtool.audio import EXTENSIONS, MIME_TYPES

    kind = EXTENSIONS.get(extension)
    return MIME_TYPES[kind] if kind else "audio/mpeg"


def _guid(item: Any, enclosure_url: str) -> tuple[str, str | None]:
    el = item.find("guid")
    value = (el.text or "").strip() if el is not None else ""
    if value:
        return value, None
    return enclosure_url, ("the feed gives this episode no guid; apps know it by its audio URL, so that URL is "
                           "its guid (keep the address, or keep this guid)")


def _plan(feed: Feed, item: Any, index: int, guid: str, media: list[Media], notices: Notices, label: str,
          show_artwork: str | None) -> EpisodePlan:
    base = feed.base_of(item)
    title = f.text(item, "title") or f.text(item, IT + "title")
    if not title:
        title = f"Episode {index + 1}"
        notices.warn(f"{label} has no title; wrote {title!r}")
    front: dict[str, Any] = {"title": title}
    date = f.feed_date(f.text(item, "pubDate")) or f.feed_date(f.text(item, "{http://purl.org/dc/elements/1.1/}date"))
    if date is None:
        date = datetime(1970, 1, 1, tzinfo=UTC)
        notices.warn(f"{label} has no readable pubDate; wrote 1970-01-01: set its 'date'")
    front["date"] = f.iso(date)
    front["audio"] = None  # filled in when the media is known
    number = f.whole_number(f.text(item, IT + "episode")) or f.whole_number(f.text(item, PC + "episode"))
    if number is not None:
        front["episode"] = number
    pc_episode = item.find(PC + "episode")
    if pc_episode is not None and (pc_episode.get("display") or "").strip():
        display = pc_episode.get("display").strip()
        if len(display) <= 32:
            front["episode_display"] = display
    season = f.whole_number(f.text(item, IT + "season")) or f.whole_number(f.text(item, PC + "season"))
    if season is not None:
        front["season"] = season
    pc_season = item.find(PC + "season")
    if pc_season is not None and (pc_season.get("name") or "").strip():
        front["season_name"] = pc_season.get("name").strip()
    episode_type = (f.text(item, IT + "episodeType") or "full").lower()
    if episode_type in ("trailer", "bonus"):
        front["episode_type"] = episode_type
    explicit = f.flag(f.text(item, IT + "explicit"))
    if explicit is not None:
        front["explicit"] = explicit
    if f.flag(f.text(item, IT + "block")):
        front["block"] = True
    link = f.http_url(feed, item, f.text(item, "link"))
    if link:
        front["link"] = link
    itunes_title = f.text(item, IT + "title")
    if itunes_title and itunes_title != title:
        front["itunes_title"] = itunes_title
    front["guid"] = guid
    content = f.text(item, f"{{{CONTENT_NS}}}encoded")
    description = f.text(item, "description") or f.text(item, IT + "summary") or f.text(item, IT + "subtitle")
    notes = to_markdown(content or description or "", base_url=base)
    if content and description and description.strip() != content.strip():
        summary = to_markdown(description, base_url=base)
        if not _same_start(summary, notes):
            front["summary"] = summary.strip()
    plan = EpisodePlan(index=index, slug="", guid=guid, title=title, front=front, notes=notes, media=media,
                       item_sha256=item_key(item), duration_s=media[0].duration_s)
    image = item.find(IT + "image")
    artwork = f.http_url(feed, image, image.get("href")) if image is not None else None
    if artwork and artwork != show_artwork:
        plan.artwork_url = artwork
    for key, value in (("people", f.people(feed, item, notices, label)),
                       ("funding", f.funding(feed, item, notices, label)),
                       ("license", f.license_(feed, item)),
                       ("location", f.location(item)),
                       ("txt", f.txt(item)),
                       ("soundbites", _soundbites(item))):
        if value:
            front[key] = value
    for el in item.iterfind(PC + "transcript"):
        url = f.http_url(feed, el, el.get("url"))
        mime = (el.get("type") or "").strip().lower()
        if url and mime in TRANSCRIPT_EXTENSIONS:
            plan.transcripts.append(Transcript(url=url, mime=mime, language=(el.get("language") or "").strip() or None,
                                               rel=(el.get("rel") or "").strip() or None))
        else:
            notices.warn(f"{label}: a podcast:transcript of type {mime or 'none'!r} was left out "
                         "(feedtool takes VTT, SRT, HTML, plain text and JSON transcripts)")
    chapters = item.find(PC + "chapters")
    if chapters is not None:
        plan.chapters_url = f.http_url(feed, chapters, chapters.get("url"))
    psc = item.find("{" + PSC_NS + "}chapters")
    if psc is not None:
        plan.psc_chapters = _psc(feed, psc)
    for el in item:
        if isinstance(el.tag, str) and el.tag.startswith(PC) and el.tag[len(PC):] not in ITEM_TAGS:
            notices.leave_out(f"podcast:{el.tag[len(PC):]}")
    return plan


_NOT_WORD = re.compile(r"[^\w\s]+")


def _same_start(summary: str, notes: str) -> bool:
    """True when the description says nothing the notes do not (it is their beginning, or all of them)."""
    def words(text: str) -> str:
        return " ".join(_NOT_WORD.sub("", text).split())

    short = words(summary.rstrip().rstrip(".…").rstrip())
    return words(notes).startswith(short)


def _soundbites(item: Any) -> list[dict[str, Any]]:
    result = []
    for el in item.iterfind(PC + "soundbite"):
        try:
            start = float(el.get("startTime", ""))
            duration = float(el.get("duration", ""))
        except ValueError:
            continue
        if start < 0 or duration <= 0:
            continue
        bite: dict[str, Any] = {"start": _number(start), "duration": _number(duration)}
        title = "".join(el.itertext()).strip()
        if title:
            bite["title"] = title
        result.append(bite)
    return result


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def _psc(feed: Feed, psc: Any) -> list[dict[str, Any]]:
    """psc:chapters -> front-matter chapters [{start, title, url?, image?}] (unreadable ones skipped)."""
    from feedtool.chapters import parse_timestamp

    result = []
    for el in psc.iterfind("{" + PSC_NS + "}chapter"):
        try:
            start = parse_timestamp((el.get("start") or "").strip())
        except ValueError:
            continue
        chapter: dict[str, Any] = {"start": _clock(start), "title": (el.get("title") or "").strip()}
        url = f.http_url(feed, el, el.get("href"))
        if url:
            chapter["url"] = url
        image = f.http_url(feed, el, el.get("image"))
        if image:
            chapter["image"] = image
        result.append(chapter)
    return result


def _clock(seconds: float) -> str:
    from feedtool.chapters import format_timestamp

    return format_timestamp(seconds, millis=not float(seconds).is_integer())

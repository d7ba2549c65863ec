"""Model -> RSS bytes, with feedgen and feedtool's own iTunes and Podcasting 2.0 extensions.

feedgen writes the RSS 2.0 core (title, link, description, atom:link self, items, enclosure,
guid, pubDate). The ``itunes:`` and ``podcast:`` tags come from the two extensions below, not
from feedgen's bundled ``podcast`` extension: that one knows only the pre-2019 categories, refuses
Apple's true/false for explicit, and drops artwork URLs that don't end in .jpg/.png.

Output is deterministic: lastBuildDate is the newest episode's date (never "now"), items are
sorted newest first with stable tie-breaks, and every element and attribute is written in a fixed
order. The same input gives the same bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from feedtool import __version__
from feedtool.model import Episode, RemoteItem, Show, Transcript, Value

ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST_NS = "https://podcastindex.org/namespace/1.0"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
ATOM_NS = "http://www.w3.org/2005/Atom"
PSC_NS = "http://podlove.org/simple-chapters"
SPOTIFY_NS = "http://www.spotify.com/ns/rss"
FH_NS = "http://purl.org/syndication/history/1.0"
GENERATOR = f"feedtool {__version__}"


@dataclass(frozen=True, kw_only=True)
class MediaFile:
    """A file as served: its URL, byte size, MIME type (and for audio, length and bitrate)."""

    url: str
    length: int
    mime: str
    duration_s: float = 0.0
    bitrate: int | None = None


@dataclass(frozen=True, kw_only=True)
class ImageRef:
    """A podcast:image as served: its URL and what apps choose by (width, height, type, purpose)."""

    href: str
    width: int | None = None
    height: int | None = None
    type: str | None = None
    alt: str | None = None
    aspect_ratio: str | None = None
    purpose: str | None = None


@dataclass(frozen=True, kw_only=True)
class PageLinks:
    """RFC 5005 links of one feed document: the main feed or one archive page."""

    self_url: str
    prev_archive: str | None = None  # the next older archive page
    next_archive: str | None = None  # the next newer archive page (archive pages only)
    current: str | None = None  # the main feed (archive pages only)
    archive: bool = False  # an archive page: carries <fh:archive/>


@dataclass(frozen=True, kw_only=True)
class EpisodeEntry:
    """One item as it goes into the feed: the episode plus where its files are served."""

    episode: Episode
    guid: str
    enclosure: MediaFile
    alternates: tuple[MediaFile, ...] = ()
    chapters_url: str | None = None
    transcripts: tuple[tuple[Transcript, str], ...] = ()
    artwork_url: str | None = None
    notes_html: str = ""
    description_html: str = ""
    page_url: str | None = None  # the episode's page on the show's website (feedtool/site/)
    chapter_image_urls: tuple[str | None, ...] = ()  # one per episode.chapters: the served picture
    extras_xml: str | None = None  # item_extras_xml(...), made ahead of time; None: made when rendered
    images: tuple[ImageRef, ...] = ()  # podcast:image (the episode's artwork first)


def rfc2822(moment: datetime) -> str:
    """'Wed, 15 Jun 2022 19:00:00 GMT': English names, right weekday, always GMT."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _sub(parent: Any, tag: str, text: str | None = None, /, **attrs: str | None) -> Any:
    """A child element; attributes whose value is None are left out (``text_`` -> text, ``a__b`` -> a-b)."""
    element = _subelement()(parent, tag, {_attribute_name(name): value for name, value in attrs.items()
                                          if value is not None})
    if text is not None:
        element.text = text
    return element


def _subelement() -> Any:
    """lxml's SubElement, imported on first use (``feedtool --help`` never loads lxml)."""
    global _SUBELEMENT
    if _SUBELEMENT is None:
        from lxml.etree import SubElement

        _SUBELEMENT = SubElement
    return _SUBELEMENT


_SUBELEMENT: Any = None
_ATTRIBUTE_NAMES: dict[str, str] = {}


def _attribute_name(name: str) -> str:
    found = _ATTRIBUTE_NAMES.get(name)
    if found is None:
        found = _ATTRIBUTE_NAMES[name] = name.rstrip("_").replace("__", "-")
    return found


def _itunes(parent: Any, name: str, text: str | None = None, /, **attrs: str | None) -> Any:
    return _sub(parent, f"{{{ITUNES_NS}}}{name}", text, **attrs)


def _podcast(parent: Any, name: str, text: str | None = None, /, **attrs: str | None) -> Any:
    return _sub(parent, f"{{{PODCAST_NS}}}{name}", text, **attrs)


def _cdata(html: str) -> Any:
    """HTML as a CDATA section (what Apple asks for), or escaped text if it contains ']]>'."""
    from lxml import etree

    return html if "]]>" in html else etree.CDATA(html)


def _yes_no(value: bool) -> str:
    return "true" if value else "false"


def seconds_attr(value: float) -> str:
    """Decimal seconds as the namespace wants them: '84', '12.5'."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


# ------------------------------------------------------------------------------- extensions
# feedgen calls extend_ns() for the namespace map and extend_rss() with the <rss> element
# (channel level) or the <item> element (entry level). Our data is attached before rendering.


class _Extension:
    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_atom(self, feed: Any) -> Any:
        return feed


class ItunesExtension(_Extension):
    """Channel-level itunes: tags (Apple's current guide; owner kept, as it is harmless)."""

    show: Show
    artwork_url: str

    def extend_ns(self) -> dict[str, str]:
        return {"itunes": ITUNES_NS}

    def extend_rss(self, rss: Any) -> Any:
        channel = rss.find("channel")
        show = self.show
        description = channel.find("description")
        description.text = _cdata(description.text)  # Apple: HTML only inside CDATA
        if show.itunes_title:
            _itunes(channel, "title", show.itunes_title)
        _itunes(channel, "author", show.author)
        _itunes(channel, "image", None, href=self.artwork_url)
        for category in show.categories:
            element = _itunes(channel, "category", None, text_=category.name)
            if category.sub:
                _itunes(element, "category", None, text_=category.sub)
        _itunes(channel, "explicit", _yes_no(show.explicit))
        _itunes(channel, "type", show.type)
        if show.owner:
            owner = _itunes(channel, "owner")
            _itunes(owner, "name", show.owner.name)
            _itunes(owner, "email", show.owner.email)
        if show.block:
            _itunes(channel, "block", "Yes")
        if show.complete:
            _itunes(channel, "complete", "Yes")
        if show.new_feed_url:
            _itunes(channel, "new-feed-url", show.new_feed_url)
        return rss


class ItunesEntryExtension(_Extension):
    """Item-level itunes: tags."""

    entry: EpisodeEntry
    show: Show

    def extend_ns(self) -> dict[str, str]:
        return {"itunes": ITUNES_NS}

    def extend_rss(self, item: Any) -> Any:
        episode = self.entry.episode
        # Apple wants the HTML description in CDATA; feedgen writes it escaped.
        description = item.find("description")
        if description is not None:
            description.text = _cdata(self.entry.description_html)
        if episode.itunes_title:
            _itunes(item, "title", episode.itunes_title)
        _itunes(item, "duration", str(round(self.entry.enclosure.duration_s)))
        if self.entry.artwork_url:
            _itunes(item, "image", None, href=self.entry.artwork_url)
        explicit = episode.explicit if episode.explicit is not None else self.show.explicit
        _itunes(item, "explicit", _yes_no(explicit))
        if episode.number is not None:
            _itunes(item, "episode", str(episode.number))
        if episode.season is not None:
            _itunes(item, "season", str(episode.season))
        _itunes(item, "episodeType", episode.episode_type)
        if episode.block:
            _itunes(item, "block", "Yes")
        return item


class PodcastIndexExtension(_Extension):
    """Channel-level Podcasting 2.0 tags (https://podcastindex.org/namespace/1.0)."""

    show: Show
    images: tuple[ImageRef, ...] = ()

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def extend_rss(self, rss: Any) -> Any:
        channel = rss.find("channel")
        show = self.show
        _podcast(channel, "guid", show.podcast_guid)
        # The Podcast Index's parser ignores podcast:locked without an owner: write one whenever known.
        locked_owner = show.locked_owner or (show.owner.email if show.owner else None)
        _podcast(channel, "locked", "yes" if show.locked else "no", owner=locked_owner)
        _podcast(channel, "medium", show.medium)
        for funding in show.funding:
            _podcast(channel, "funding", funding.text, url=funding.url)
        for person in show.people:
            _person(channel, person)
        if show.license:
            _podcast(channel, "license", show.license.identifier, url=show.license.url)
        if show.location:
            _location(channel, show.location)
        for txt in show.txt:
            _podcast(channel, "txt", txt.value, purpose=txt.purpose)
        if show.update_frequency:
            frequency = show.update_frequency
            _podcast(
                channel,
                "updateFrequency",
                frequency.text,
                rrule=frequency.rrule,
                dtstart=frequency.dtstart,
                complete=None if frequency.complete is None else _yes_no(frequency.complete),
            )
        for trailer in show.trailers:
            _podcast(
                channel,
                "trailer",
                trailer.title,
                url=trailer.url,
                pubdate=rfc2822(trailer.pubdate),
                length=None if trailer.length is None else str(trailer.length),
                type=trailer.type,
                season=None if trailer.season is None else str(trailer.season),
            )
        if show.value:
            _value(channel, show.value)
        if show.podroll:
            podroll = _podcast(channel, "podroll")
            for remote in show.podroll:
                _remote_item(podroll, remote)
        if show.publisher:
            _remote_item(_podcast(channel, "publisher"), show.publisher)
        for block in show.platform_blocks:
            _podcast(channel, "block", _yes_no_word(block.blocked), id=block.platform)
        _social_and_chat(channel, show.social_interact, show.chat)
        for image in self.images:
            _image(channel, image)
        if show.notify and show.notify.podping:
            _podcast(channel, "podping", usesPodping="true")
        return rss


def _yes_no_word(value: bool) -> str:
    return "yes" if value else "no"


def _tag(parent: Any, local: str, attributes: dict[str, str | None], text: str | None = None) -> Any:
    """A podcast: element from a plain dict (None values left out): the fast form of ``_podcast`` for the
    tags a big feed repeats in every item."""
    element = _subelement()(parent, _PODCAST_TAGS[local], {k: v for k, v in attributes.items() if v is not None})
    if text is not None:
        element.text = text
    return element


_PODCAST_TAGS = {name: f"{{{PODCAST_NS}}}{name}" for name in (
    "value", "valueRecipient", "valueTimeSplit", "remoteItem", "socialInteract", "chat", "image", "contentLink")}


def _remote_item(parent: Any, remote: RemoteItem) -> None:
    _tag(parent, "remoteItem", {"feedGuid": remote.feed_guid, "feedUrl": remote.feed_url,
                                "itemGuid": remote.item_guid, "medium": remote.medium, "title": remote.title})


def _recipient(parent: Any, recipient: Any) -> None:
    _tag(parent, "valueRecipient", {
        "name": recipient.name, "type": recipient.type, "address": recipient.address, "split": str(recipient.split),
        "fee": "true" if recipient.fee else None, "customKey": recipient.custom_key,
        "customValue": recipient.custom_value})


def _value(parent: Any, value: Value) -> None:
    block = _tag(parent, "value", {"type": value.type, "method": value.method, "suggested": value.suggested})
    for recipient in value.recipients:
        _recipient(block, recipient)
    for split in value.time_splits:
        element = _tag(block, "valueTimeSplit", {
            "startTime": seconds_attr(split.start_s), "duration": seconds_attr(split.duration_s),
            "remoteStartTime": None if split.remote_start_s is None else seconds_attr(split.remote_start_s),
            "remotePercentage": None if split.remote_percentage is None else str(split.remote_percentage)})
        if split.remote_item is not None:
            _remote_item(element, split.remote_item)
        for recipient in split.recipients:
            _recipient(element, recipient)


def _social_and_chat(parent: Any, social: Any, chat: Any) -> None:
    for item in social:
        _tag(parent, "socialInteract", {"protocol": item.protocol, "uri": item.uri, "accountId": item.account_id,
                                        "accountUrl": item.account_url,
                                        "priority": None if item.priority is None else str(item.priority)})
    if chat:
        _tag(parent, "chat", {"server": chat.server, "protocol": chat.protocol, "accountId": chat.account_id,
                              "space": chat.space})


def _image(parent: Any, image: ImageRef) -> None:
    _tag(parent, "image", {"href": image.href, "alt": image.alt, "aspect-ratio": image.aspect_ratio,
                           "width": None if image.width is None else str(image.width),
                           "height": None if image.height is None else str(image.height), "type": image.type,
                           "purpose": image.purpose})


def _person(parent: Any, person: Any) -> None:
    _podcast(parent, "person", person.name, role=person.role, group=person.group,
             img=person.img, href=person.href)


def _location(parent: Any, location: Any) -> None:
    _podcast(parent, "location", location.name, rel=location.rel, geo=location.geo,
             osm=location.osm, country=location.country)


class PodcastIndexEntryExtension(_Extension):
    """Item-level Podcasting 2.0 tags (and Podlove Simple Chapters, from the same chapter list)."""

    entry: EpisodeEntry
    prefixes: tuple[str, ...] = ()
    slots: list[str] | None = None  # render_feed's fast path: item_extras go here as text

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def extend_rss(self, item: Any) -> Any:
        entry = self.entry
        episode = entry.episode
        if entry.chapters_url:
            _podcast(item, "chapters", url=entry.chapters_url, type="application/json+chapters")
        for transcript, url in entry.transcripts:
            _podcast(item, "transcript", url=url, type=transcript.mime,
                     language=transcript.language, rel=transcript.rel)
        if episode.season is not None:
            _podcast(item, "season", str(episode.season), name=episode.season_name)
        if episode.number is not None:
            _podcast(item, "episode", str(episode.number), display=episode.number_display)
        for person in episode.people:
            _person(item, person)
        for soundbite in episode.soundbites:
            _podcast(item, "soundbite", soundbite.title, startTime=seconds_attr(soundbite.start_s),
                     duration=seconds_attr(soundbite.duration_s))
        for funding in episode.funding:
            _podcast(item, "funding", funding.text, url=funding.url)
        if episode.license:
            _podcast(item, "license", episode.license.identifier, url=episode.license.url)
        if episode.location:
            _location(item, episode.location)
        for txt in episode.txt:
            _podcast(item, "txt", txt.value, purpose=txt.purpose)
        for index, media in enumerate((entry.enclosure, *entry.alternates)):
            if not entry.alternates:
                break
            alternate = _podcast(
                item,
                "alternateEnclosure",
                type=media.mime,
                length=str(media.length),
                bitrate=str(media.bitrate) if media.bitrate else None,
                default="true" if index == 0 else None,
            )
            _podcast(alternate, "source", uri=prefixed(media.url, self.prefixes))
        slots = self.slots
        if slots is None:
            item_extras(item, entry)
        else:
            xml = entry.extras_xml if entry.extras_xml is not None else item_extras_xml(entry)
            if xml:
                slots.append(xml)
                _subelement()(item, "feedtool-slot", {"n": str(len(slots) - 1)})
        return item


def item_extras(item: Any, entry: EpisodeEntry, *, chapters: bool = True) -> None:
    """The item's tags of issue 13: value, socialInteract, chat, podcast:image, contentLink, psc:chapters.

    They are the bulk of a big feed's elements (psc:chapters alone: 60,000 in a 3,000-episode feed),
    so build serializes them in its worker processes (``item_extras_xml``) and render_feed splices
    that text in (``_fill_slots``); this function is the one place they are made either way.
    """
    episode = entry.episode
    if episode.value:
        _value(item, episode.value)
    _social_and_chat(item, episode.social_interact, episode.chat)
    for image in entry.images:
        _image(item, image)
    for link in episode.content_links:
        _tag(item, "contentLink", {"href": link.href}, link.text)
    if chapters:
        _psc_chapters(item, entry)


def item_extras_xml(entry: EpisodeEntry) -> str:
    """``item_extras`` serialized as lxml writes them in the feed, indented for an item at the top.

    psc:chapters (20 elements an episode, say) are written as text directly, escaped as lxml
    escapes attributes: a third of the cost of making and serializing elements.
    """
    from lxml import etree

    holder = etree.Element("item", nsmap={"podcast": PODCAST_NS})
    item_extras(holder, entry, chapters=False)
    text = ""
    if len(holder):
        text = etree.tostring(holder, pretty_print=True, encoding="unicode")
        text = text[text.index("\n") + 1:text.rindex("\n", 0, len(text) - 1)]  # the children's lines
    chapters = _psc_lines(entry)
    if chapters:
        block = "\n".join(('  <psc:chapters version="1.2">', *chapters, "  </psc:chapters>"))
        text = f"{text}\n{block}" if text else block
    return text


def _psc_lines(entry: EpisodeEntry) -> list[str]:
    """The ``<psc:chapter/>`` lines ``_psc_chapters`` would make, as text (indented inside an item's child)."""
    from feedtool.validation.rules_p20 import npt

    chapters = entry.episode.chapters
    images = entry.chapter_image_urls or (None,) * len(chapters)
    lines = []
    for chapter, image in zip(chapters, images, strict=False):
        if chapter.toc:
            line = f'    <psc:chapter start="{npt(chapter.start_s)}" title="{escape_attribute(chapter.title)}"'
            if chapter.url:
                line += f' href="{escape_attribute(chapter.url)}"'
            if image:
                line += f' image="{escape_attribute(image)}"'
            lines.append(line + "/>")
    return lines


_ATTRIBUTE_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                                    "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def escape_attribute(value: str) -> str:
    """An attribute value escaped the way lxml serializes it (inside double quotes)."""
    return value.translate(_ATTRIBUTE_ESCAPES)


def _psc_chapters(item: Any, entry: EpisodeEntry) -> None:
    """Podlove Simple Chapters 1.2 (Spotify and Podlove players read them): the chapters of the table of
    contents, from the same list as the JSON file and the audio's tags."""
    from feedtool.validation.rules_p20 import npt

    chapters = entry.episode.chapters
    if not any(chapter.toc for chapter in chapters):
        return
    images = entry.chapter_image_urls or (None,) * len(chapters)
    subelement = _subelement()
    block = subelement(item, _PSC_CHAPTERS, {"version": "1.2"})
    for chapter, image in zip(chapters, images, strict=False):
        if chapter.toc:
            attributes = {"start": npt(chapter.start_s), "title": chapter.title}
            if chapter.url:
                attributes["href"] = chapter.url
            if image:
                attributes["image"] = image
            subelement(block, _PSC_CHAPTER, attributes)


_SLOT = re.compile(rb'(\n[ \t]*)<feedtool-slot n="(\d+)"/>')
_MARKUP_LINE = re.compile(r"^  (?=\s*<)", re.M)  # a line that starts an element (text never does: < is &lt;)


def _fill_slots(data: bytes, slots: list[str]) -> bytes | None:
    """The serialized feed with each placeholder replaced by its item's extras, indented as lxml
    indents them; None when the placeholders found are not exactly the ones made (then the caller
    renders the plain way)."""
    filled: set[int] = set()

    def extras(match: re.Match[bytes]) -> bytes:
        indent = match.group(1).decode()
        number = int(match.group(2))
        filled.add(number)
        return b"\n" + _MARKUP_LINE.sub(indent[1:], slots[number]).encode()

    try:
        result, count = _SLOT.subn(extras, data)
    except IndexError:  # a slot number that was never made
        return None
    if count != len(slots) or len(filled) != len(slots):
        return None
    return result


_PSC_CHAPTERS = f"{{{PSC_NS}}}chapters"
_PSC_CHAPTER = f"{{{PSC_NS}}}chapter"


def prefixed(url: str, prefixes: tuple[str, ...]) -> str:
    """The enclosure URL apps get: behind the show's analytics prefixes, if any."""
    if not prefixes:
        return url
    from feedtool.validation.rules_p20 import prefixed as behind

    return behind(url, prefixes)


class ReachExtension(_Extension):
    """Channel tags for directories and feed readers: Spotify's, the WebSub hub, RFC 5005 archive links."""

    show: Show
    links: PageLinks
    chapters: bool = False  # some item has psc:chapters: declare the namespace

    def extend_ns(self) -> dict[str, str]:
        namespaces = {}
        if self.chapters:
            namespaces["psc"] = PSC_NS
        if self.show.spotify:
            namespaces["spotify"] = SPOTIFY_NS
        if self.links.archive:
            namespaces["fh"] = FH_NS
        return namespaces

    def extend_rss(self, rss: Any) -> Any:
        channel = rss.find("channel")
        show, links = self.show, self.links
        notify = show.notify
        if notify and notify.websub_hub:
            _sub(channel, f"{{{ATOM_NS}}}link", None, rel="hub", href=notify.websub_hub)
        if links.current:
            _sub(channel, f"{{{ATOM_NS}}}link", None, rel="current", href=links.current, type="application/rss+xml")
        if links.prev_archive:
            _sub(channel, f"{{{ATOM_NS}}}link", None, rel="prev-archive", href=links.prev_archive,
                 type="application/rss+xml")
            # paged-feed readers (AntennaPod) follow rel=next to older episodes: the same page
            _sub(channel, f"{{{ATOM_NS}}}link", None, rel="next", href=links.prev_archive, type="application/rss+xml")
        if links.next_archive:
            _sub(channel, f"{{{ATOM_NS}}}link", None, rel="next-archive", href=links.next_archive,
                 type="application/rss+xml")
        if links.archive:
            _sub(channel, f"{{{FH_NS}}}archive")
        if show.spotify:
            if show.spotify.limit is not None:
                _sub(channel, f"{{{SPOTIFY_NS}}}limit", None, recentCount=str(show.spotify.limit))
            if show.spotify.countries:
                _sub(channel, f"{{{SPOTIFY_NS}}}countryOfOrigin", " ".join(show.spotify.countries))
        return rss


# ------------------------------------------------------------------------------- rendering


def sort_entries(entries: list[EpisodeEntry]) -> list[EpisodeEntry]:
    """Newest first; equal dates by episode number (higher first), then folder name."""
    return sorted(
        entries,
        key=lambda e: (e.episode.date, e.episode.number or 0, e.episode.slug),
        reverse=True,
    )


def render_feed(
    show: Show, *, artwork_url: str, description_html: str, entries: list[EpisodeEntry],
    images: tuple[ImageRef, ...] = (), links: PageLinks | None = None, presorted: bool = False,
    fast: bool = True, stylesheets: list[tuple[str, str]] | None = None,
) -> bytes:
    """The whole feed as UTF-8 bytes (deterministic for the same arguments).

    ``images`` are the channel's podcast:image tags; ``links`` make the document the main feed or an
    archive page of a paged feed (feedtool.archive); ``presorted``: ``entries`` are already sorted.
    ``fast=False`` makes the items' issue-13 tags as lxml elements instead of splicing them in as text
    (the same bytes; see ``item_extras``). ``stylesheets``: (type, href) pairs written as
    ``<?xml-stylesheet?>`` lines after the XML declaration, what a browser uses to show the feed as a
    page (apps ignore them).
    """
    from feedgen.feed import FeedGenerator

    ordered_entries = entries if presorted else sort_entries(entries)
    links = links or PageLinks(self_url=show.feed_url)
    generator = FeedGenerator()
    generator.register_extension("itunes", ItunesExtension, ItunesEntryExtension, atom=False)
    generator.register_extension(
        "podcastindex", PodcastIndexExtension, PodcastIndexEntryExtension, atom=False
    )
    generator.register_extension("reach", ReachExtension, None, atom=False)
    generator.itunes.show = show
    generator.itunes.artwork_url = artwork_url
    generator.podcastindex.show = show
    generator.podcastindex.images = images
    generator.reach.show = show
    generator.reach.links = links
    generator.reach.chapters = any(chapter.toc for entry in ordered_entries for chapter in entry.episode.chapters)

    generator.title(show.title)
    generator.link(href=links.self_url, rel="self", type="application/rss+xml")
    generator.link(href=show.link, rel="alternate")  # last: feedgen's <link> is the last link
    generator.description(description_html)
    generator.language(show.language)
    generator.generator(GENERATOR)
    generator.docs("https://www.rssboard.org/rss-specification")
    if show.copyright:
        generator.copyright(show.copyright)
    generator.image(url=artwork_url, title=show.title, link=show.link)
    ordered = ordered_entries
    dates = [entry.episode.date for entry in ordered] + [t.pubdate for t in show.trailers]
    last = max(dates) if dates else datetime(2000, 1, 1, tzinfo=UTC)
    generator.lastBuildDate(last)
    generator.pubDate(last)

    slots: list[str] | None = [] if fast else None
    for entry in ordered:
        episode = entry.episode
        item = generator.add_entry(order="append")
        item.title(episode.title)
        if episode.link or entry.page_url:
            item.link(href=episode.link or entry.page_url)
        item.guid(entry.guid, permalink=False)
        item.pubDate(episode.date)
        item.description(entry.description_html or episode.title)
        if entry.notes_html:
            item.content(entry.notes_html, type=None if "]]>" in entry.notes_html else "CDATA")
        item.enclosure(prefixed(entry.enclosure.url, show.enclosure_prefixes), str(entry.enclosure.length),
                       entry.enclosure.mime)
        item.itunes.entry = entry
        item.itunes.show = show
        item.podcastindex.entry = entry
        item.podcastindex.prefixes = show.enclosure_prefixes
        item.podcastindex.slots = slots

    data = bytes(generator.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True))
    if slots:
        filled = _fill_slots(data, slots)
        if filled is None:  # a placeholder's text also in the notes: render the plain way
            return render_feed(show, artwork_url=artwork_url, description_html=description_html, entries=entries,
                               images=images, links=links, presorted=presorted, fast=False, stylesheets=stylesheets)
        data = filled
    return with_stylesheets(data, stylesheets or [])


def with_stylesheets(feed: bytes, stylesheets: list[tuple[str, str]]) -> bytes:
    """The feed with ``<?xml-stylesheet type=".." href=".."?>`` lines after its XML declaration."""
    from html import escape

    if not stylesheets:
        return feed
    end = feed.index(b"?>") + 2  # lxml always writes the declaration first
    lines = b"".join(
        f'\n<?xml-stylesheet type="{escape(kind)}" href="{escape(href)}"?>'.encode() for kind, href in stylesheets
    )
    return feed[:end] + lines + feed[end:]

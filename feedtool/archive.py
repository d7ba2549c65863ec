"""A feed that stays readable as the show grows: full notes for the newest episodes, RFC 5005 archive pages.

``feed: {full_notes: N}`` keeps content:encoded for the newest N episodes (the others keep their
description, Apple's HTML subset of the notes). ``feed: {max_items: N}`` keeps the newest N
episodes in the main feed and moves the older ones to archive pages (RFC 5005 "archived feeds"):

    feed.xml                               newest N; atom:link rel=prev-archive -> the newest page
    archive/feed-3-<sha8>.xml              fh:archive; rel=current -> feed.xml, prev-archive -> page 2,
    archive/feed-2-<sha8>.xml                          next-archive -> the next newer page
    archive/feed-1-<sha8>.xml              the oldest episodes

Pages are filled from the oldest episode up, ``page_size`` (default: ``max_items``) per page, so a
page stays the same as new episodes arrive until the newest page fills up. A page is named by its
content, like media: RFC 5005 asks that the entries at an archive URL never change, and a failed
publish can never leave the live feed pointing at a page whose bytes changed. Each document also
carries rel=next to the next older one, which paged-feed readers (AntennaPod) follow.

Archive pages live in ``archive/``: publish uploads them with the other files, before the feed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from feedtool.feed import EpisodeEntry, ImageRef, PageLinks, render_feed, sort_entries
from feedtool.model import Show
from feedtool.storage.headers import ARCHIVE_FOLDER

ARCHIVE_DIR = ARCHIVE_FOLDER  # storage.headers serves what is in it like the feed
#: Stand-ins for the two links a page cannot know before its own bytes are hashed.
_SELF = "https://feedtool.invalid/archive-self"
_NEXT = "https://feedtool.invalid/archive-next"


@dataclass(frozen=True)
class Document:
    """One feed document to write: its path under public/ and its bytes."""

    relative: str
    data: bytes
    items: int


def apply_full_notes(ordered: list[EpisodeEntry], full_notes: int | None) -> list[EpisodeEntry]:
    """Newest first in, newest first out: content:encoded only for the newest ``full_notes`` episodes."""
    if full_notes is None:
        return ordered
    return [entry if index < full_notes or not entry.notes_html else dataclasses.replace(entry, notes_html="")
            for index, entry in enumerate(ordered)]


def split_pages(ordered: list[EpisodeEntry], max_items: int | None,
                page_size: int | None) -> tuple[list[EpisodeEntry], list[list[EpisodeEntry]]]:
    """(the main feed's entries, the archive pages oldest first), each newest first."""
    if max_items is None or len(ordered) <= max_items:
        return ordered, []
    size = page_size or max_items
    older = ordered[max_items:][::-1]  # oldest first
    pages = [older[start:start + size][::-1] for start in range(0, len(older), size)]
    return ordered[:max_items], pages


def render_documents(show: Show, entries: list[EpisodeEntry], *, artwork_url: str, description_html: str,
                     images: tuple[ImageRef, ...], url: Callable[[str], str],
                     stylesheets: list[tuple[str, str]] | None = None) -> list[Document]:
    """The main feed and its archive pages (the main feed first), as the show's ``feed:`` asks.

    ``stylesheets`` go into the main feed only (their hrefs are relative to it)."""
    layout = show.layout
    ordered = apply_full_notes(sort_entries(entries), layout.full_notes)
    main, pages = split_pages(ordered, layout.max_items, layout.page_size)

    def render(page_entries: list[EpisodeEntry], links: PageLinks,
               page_stylesheets: list[tuple[str, str]] | None = None) -> bytes:
        return render_feed(show, artwork_url=artwork_url, description_html=description_html, entries=page_entries,
                           images=images, links=links, presorted=True, stylesheets=page_stylesheets)

    stem = show.feed_name.rsplit(".", 1)[0]
    drafts: list[tuple[str, bytes]] = []  # (name, bytes with stand-ins), oldest first
    previous_url: str | None = None
    for number, page in enumerate(pages, 1):
        # The name hashes the page without its own URL and its next link (the newest page gets one later)
        links = PageLinks(self_url=_SELF, prev_archive=previous_url, current=show.feed_url, archive=True,
                          next_archive=_NEXT)
        data = render(page, links)
        name = f"{ARCHIVE_DIR}/{stem}-{number}-{hashlib.sha256(data).hexdigest()[:8]}.xml"
        drafts.append((name, data))
        previous_url = url(name)
    documents = [Document(show.feed_name, render(main, PageLinks(self_url=show.feed_url, prev_archive=previous_url),
                                                 stylesheets), len(main))]
    for index, (name, data) in enumerate(drafts):
        next_url = url(drafts[index + 1][0]) if index + 1 < len(drafts) else None
        final = _fill_links(data, self_url=url(name), next_url=next_url)
        if final is None:  # a stand-in also appears in the channel text: render again with the real links
            links = PageLinks(self_url=url(name), prev_archive=url(drafts[index - 1][0]) if index else None,
                              next_archive=next_url, current=show.feed_url, archive=True)
            final = render(pages[index], links)
        documents.append(Document(name, final, len(pages[index])))
    return documents


def _fill_links(data: bytes, *, self_url: str, next_url: str | None) -> bytes | None:
    """Put the real self and next-archive URLs in place of the stand-ins (in the channel head only)."""
    from feedtool.feed import escape_attribute

    def quoteattr(value: str) -> str:  # as lxml writes an attribute: the stand-ins match, the URLs look the same
        return '"' + escape_attribute(value) + '"'

    head_end = data.find(b"<item>")
    head, tail = (data, b"") if head_end == -1 else (data[:head_end], data[head_end:])
    self_attr = f"href={quoteattr(_SELF)}".encode()
    next_attr = f"href={quoteattr(_NEXT)}".encode()
    if head.count(self_attr) != 1 or head.count(next_attr) != 1:
        return None
    head = head.replace(self_attr, f"href={quoteattr(self_url)}".encode())
    if next_url:
        return head.replace(next_attr, f"href={quoteattr(next_url)}".encode()) + tail
    link = re.compile(rb"\n[ \t]*<atom:link rel=\"next-archive\" " + re.escape(next_attr) + rb"[^>]*/>")
    head, count = link.subn(b"", head)
    return head + tail if count == 1 else None

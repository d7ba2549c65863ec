#!/usr/bin/env python3
"""The baseline for bench_build.py: a plain feedgen script writing the same feed from memory.

It is what a podcaster's hand-written script does once everything is known: one FeedGenerator,
feedgen's own ``podcast`` extension for the itunes: tags, one add_entry per episode with title,
link, guid, pubDate, description, content:encoded, enclosure, duration, episode and season.
No files are read, probed, tagged or hashed while it runs, so it is the floor for rendering.

The data comes from a feed feedtool built (same items, same enclosures, same HTML), read into
plain dicts before timing starts:

    .venv/bin/python bench/baseline_feedgen.py bench/out/catalogue-3000/public/feed.xml [--rounds 5]

Podcasting 2.0 tags (podcast:chapters, podcast:person, ...) are not written: feedgen has no
extension for them. So the baseline does a little less than feedtool's renderer.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"


@dataclass(frozen=True)
class Item:
    title: str
    link: str | None
    guid: str
    date: datetime
    description: str
    content: str | None
    url: str
    length: str
    mime: str
    duration: str
    episode: str | None
    season: str | None


@dataclass(frozen=True)
class Channel:
    title: str
    link: str
    self_url: str
    description: str
    language: str
    author: str
    image: str
    explicit: bool
    items: list[Item]


def read_feed(path: Path) -> Channel:
    """A feedtool feed -> plain data (done before timing: this is 'data already in memory')."""
    from lxml import etree

    channel = etree.parse(str(path)).getroot().find("channel")

    def text(parent: etree._Element, tag: str) -> str | None:
        found = parent.find(tag)
        return None if found is None else found.text

    items = []
    for item in channel.iterfind("item"):
        enclosure = item.find("enclosure")
        items.append(Item(
            title=text(item, "title") or "",
            link=text(item, "link"),
            guid=text(item, "guid") or "",
            date=parsedate_to_datetime(text(item, "pubDate") or ""),
            description=text(item, "description") or "",
            content=text(item, f"{CONTENT}encoded"),
            url=enclosure.get("url"),
            length=enclosure.get("length"),
            mime=enclosure.get("type"),
            duration=text(item, f"{ITUNES}duration") or "0",
            episode=text(item, f"{ITUNES}episode"),
            season=text(item, f"{ITUNES}season"),
        ))
    atom_self = channel.find("{http://www.w3.org/2005/Atom}link")
    return Channel(
        title=text(channel, "title") or "",
        link=text(channel, "link") or "",
        self_url=atom_self.get("href") if atom_self is not None else "",
        description=text(channel, "description") or "",
        language=text(channel, "language") or "en",
        author=text(channel, f"{ITUNES}author") or "",
        image=channel.find(f"{ITUNES}image").get("href"),
        explicit=text(channel, f"{ITUNES}explicit") == "true",
        items=items,
    )


def write_feed(channel: Channel) -> bytes:
    """The feed as bytes, written by feedgen with its podcast extension (the timed part)."""
    from feedgen.feed import FeedGenerator

    generator = FeedGenerator()
    generator.load_extension("podcast")
    generator.title(channel.title)
    generator.link(href=channel.self_url, rel="self")
    generator.link(href=channel.link, rel="alternate")
    generator.description(channel.description)
    generator.language(channel.language)
    generator.podcast.itunes_author(channel.author)
    generator.podcast.itunes_image(channel.image)
    generator.podcast.itunes_explicit("yes" if channel.explicit else "no")
    generator.podcast.itunes_category("Technology")
    for item in channel.items:
        entry = generator.add_entry(order="append")
        entry.title(item.title)
        if item.link:
            entry.link(href=item.link)
        entry.guid(item.guid, permalink=False)
        entry.pubDate(item.date)
        entry.description(item.description)
        if item.content:
            entry.content(item.content, type="CDATA")
        entry.enclosure(item.url, item.length, item.mime)
        entry.podcast.itunes_duration(item.duration)
        if item.episode:
            entry.podcast.itunes_episode(item.episode)
        if item.season:
            entry.podcast.itunes_season(item.season)
        entry.podcast.itunes_episode_type("full")
    return bytes(generator.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True))


def time_baseline(feed: Path, rounds: int = 5) -> tuple[float, int, int]:
    """(median seconds of write_feed over ``rounds``, items, bytes written)."""
    channel = read_feed(feed)
    write_feed(channel)  # warm-up: imports, lxml's first allocations
    times = []
    size = 0
    for _ in range(rounds):
        start = time.perf_counter()
        data = write_feed(channel)
        times.append(time.perf_counter() - start)
        size = len(data)
    return statistics.median(times), len(channel.items), size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time feedgen writing a feed from memory.")
    parser.add_argument("feed", type=Path, help="a feed.xml made by feedtool build")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    seconds, items, size = time_baseline(args.feed, args.rounds)
    print(f"feedgen wrote {items} items ({size / 1e6:.1f} MB) in {seconds:.3f} s (median of {args.rounds})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What each page shows, as plain data (the templates' context), from the feed's entries.

Every value here is JSON-friendly and every URL is already made: relative to the page for what
lives in public/ (so the site works from any host, ``feedtool serve`` included), absolute for
what leaves it (canonical URLs, Open Graph, the feed's address). The data of a page, hashed with
the theme, is its cache key (render.py), so nothing that changes a page may live outside it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from feedtool.feed import EpisodeEntry, seconds_attr
from feedtool.model import Show
from feedtool.site.subscribe import subscribe_links

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
PAGE_FOLDER = "page"  # page/2/index.html, page/3/index.html ...
SUMMARY_CHARS = 280  # of an episode's description on the index
META_CHARS = 200  # of a meta description


def date_text(moment: datetime) -> str:
    """'5 June 2024': the same on every machine (no locale)."""
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def clock(seconds: float) -> str:
    """'04:05', '1:02:03': a position in the audio."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def duration_text(seconds: float) -> str:
    """'1 h 5 min', '42 min', '50 s'."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    hours, minutes = divmod(round(whole / 60), 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def size_text(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{max(1, round(size / 1e3))} KB"


def shorten(text: str, limit: int) -> str:
    """Plain text cut at a word boundary, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",.;:-–—")
    return cut + "…"


class Urls:
    """Turns the build's absolute URLs into links relative to one page."""

    def __init__(self, base_url: str, root: str) -> None:
        self.base_url = base_url
        self.root = root  # '' for index.html, '../' for <slug>/index.html ...

    def link(self, url: str) -> str:
        return self.root + url[len(self.base_url):] if url.startswith(self.base_url) else url

    def page(self, relative_folder: str) -> str:
        """A folder in public/ ('' is the home page), as a link ending in '/' (or './')."""
        return (self.root + quote(relative_folder)) or "./"


def page_folder(number: int) -> str:
    return "" if number == 1 else f"{PAGE_FOLDER}/{number}/"


def show_context(show: Show, *, artwork_url: str, description_html: str) -> dict[str, Any]:
    """What every page shows of the show (absolute URLs; the templates make none)."""
    return {
        "title": show.title,
        "author": show.author,
        "language": show.language,
        "description_html": description_html,
        "artwork_url": artwork_url,
        "artwork": artwork_url[len(show.base_url):] if artwork_url.startswith(show.base_url) else artwork_url,
        "site_url": show.base_url,
        "feed_url": show.feed_url,
        "link": show.link if show.link.rstrip("/") != show.base_url.rstrip("/") else None,
        "copyright": show.copyright,
        "funding": [{"url": f.url, "text": f.text} for f in show.funding],
        "subscribe": [{"app": link.app, "url": link.url, "key": link.key} for link in subscribe_links(show)],
        "verification": [list(pair) for pair in show.site.verification],
        "rel_me": list(show.site.rel_me),
        "explicit": show.explicit,
    }


def people(entry: EpisodeEntry) -> list[dict[str, Any]]:
    return [{"name": p.name, "role": p.role, "href": p.href} for p in entry.episode.people]


def episode_inputs(entry: EpisodeEntry, *, base_url: str, summary: str, newer: EpisodeEntry | None,
                   older: EpisodeEntry | None, transcripts: list[dict[str, Any]]) -> dict[str, Any]:
    """The data of <slug>/index.html (transcript lines are added by render.py, see there)."""
    episode = entry.episode
    urls = Urls(base_url, "../")
    audio = urls.link(entry.enclosure.url)
    chapters = [
        {"start": seconds_attr(c.start_s), "clock": clock(c.start_s), "title": c.title, "url": c.url,
         "href": f"{audio}#t={seconds_attr(c.start_s)}"}
        for c in episode.chapters if c.toc
    ]
    return {
        "root": urls.root,
        "canonical": entry.page_url,
        "title": episode.title,
        "slug": episode.slug,
        "date_iso": episode.date.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "date_text": date_text(episode.date),
        "duration": duration_text(entry.enclosure.duration_s),
        "number": episode.number_display or (str(episode.number) if episode.number is not None else None),
        "season": episode.season_name or (str(episode.season) if episode.season is not None else None),
        "episode_type": episode.episode_type,
        "summary": shorten(summary, META_CHARS),
        "notes_html": entry.notes_html,
        "people": people(entry),
        "artwork": urls.link(entry.artwork_url) if entry.artwork_url else None,
        "artwork_url": entry.artwork_url,
        "audio": {"src": audio, "url": entry.enclosure.url, "mime": entry.enclosure.mime,
                  "size": size_text(entry.enclosure.length), "kind": audio.rsplit(".", 1)[-1].upper()},
        "alternates": [{"src": urls.link(m.url), "mime": m.mime, "size": size_text(m.length),
                        "kind": m.url.rsplit(".", 1)[-1].upper()} for m in entry.alternates],
        "chapters": chapters,
        "chapters_json": urls.link(entry.chapters_url) if entry.chapters_url else None,
        "transcripts": transcripts,
        "link": episode.link if episode.link and episode.link != entry.page_url else None,
        "newer": _neighbour(newer, urls),
        "older": _neighbour(older, urls),
    }


def _neighbour(entry: EpisodeEntry | None, urls: Urls) -> dict[str, str] | None:
    if entry is None:
        return None
    return {"title": entry.episode.title, "href": urls.page(entry.episode.slug + "/")}


def index_inputs(entries: list[EpisodeEntry], summaries: list[str], *, base_url: str, number: int,
                 pages: int) -> dict[str, Any]:
    """The data of one page of the episode list (newest first)."""
    folder = page_folder(number)
    urls = Urls(base_url, "../" * folder.count("/"))
    return {
        "root": urls.root,
        "canonical": base_url + folder,
        "number": number,
        "pages": pages,
        "newer": urls.page(page_folder(number - 1)) if number > 1 else None,
        "older": urls.page(page_folder(number + 1)) if number < pages else None,
        "page_links": [{"number": n, "href": urls.page(page_folder(n)), "current": n == number}
                       for n in range(1, pages + 1)] if pages > 1 else [],
        "episodes": [
            {"title": e.episode.title, "href": urls.page(e.episode.slug + "/"),
             "date_iso": e.episode.date.strftime("%Y-%m-%dT%H:%M:%SZ"), "date_text": date_text(e.episode.date),
             "duration": duration_text(e.enclosure.duration_s),
             "number": e.episode.number_display or (str(e.episode.number) if e.episode.number is not None else None),
             "summary": shorten(summary, SUMMARY_CHARS)}
            for e, summary in zip(entries, summaries, strict=True)
        ],
    }

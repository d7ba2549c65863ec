"""The site built into the staging tree: assets, then every page, rendering only what changed.

Each page's data (pages.py) is hashed with the theme and feedtool's version; the hash maps, in
the build cache's ``site.json``, to the content-named file in ``.feedtool-cache/files/`` that
holds the page. An unchanged page is therefore neither rendered nor written again: the staging
tree gets a hard link to the file it already has (``OutputTree.place_file``), as chapters.json
does. A transcript enters the hash by its sha256 and is only read when its page is rendered.

A show of 100 episodes or more renders on every core (forked workers, as build's episode pass):
the workers write pages into the cache and the staging tree and send back only what they added
to the cache tables.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feedtool import __version__
from feedtool.cache import JsonTable
from feedtool.errors import InputError
from feedtool.feed import EpisodeEntry, seconds_attr, sort_entries
from feedtool.site import pages
from feedtool.site.theme import Theme
from feedtool.site.transcript import is_timed, read_transcript

if TYPE_CHECKING:
    from feedtool.build import _Builder

#: Bump when pages.py or this module change what a page holds for the same data and theme.
SITE_LAYOUT = "1"
MEMO_FILE = "site.json"


class SiteBuild:
    """The website of one build (see feedtool/site/__init__.py for how build.py uses it)."""

    def __init__(self, builder: _Builder, entries: list[EpisodeEntry], *, artwork_url: str) -> None:
        from feedtool.build_output import content_name
        from feedtool.notes import render_html

        self.builder = builder
        self.show = builder.show
        self.theme = Theme(builder.root)
        self.entries = [replace(entry, page_url=builder.url(entry.episode.slug + "/")) for entry in entries]
        self.ordered = sort_entries(self.entries)
        per_page = self.show.site.per_page
        self.page_count = max(1, math.ceil(len(self.ordered) / per_page))
        self.show_context = pages.show_context(self.show, artwork_url=artwork_url,
                                               description_html=render_html(self.show.description))
        self.files: dict[str, bytes] = {}  # assets: public name -> bytes
        self.assets: dict[str, str] = {}  # template name -> public name
        style = self.show.site.feed_stylesheet
        for name in ("style.css", "player.js", *(("feed.css",) if style != "none" else ())):
            self._asset(name, self.theme.assets[name], content_name)
        self._asset("icon.png", _icon(self.show.artwork), content_name)
        if style == "xslt":
            xsl = self.theme.render("feed.xsl", {"show": self.show_context, "assets": self.assets})
            self._asset("feed.xsl", xsl.encode("utf-8"), content_name)
        self._check_names()
        self.memo = JsonTable(builder.cache.root / MEMO_FILE)
        #: What every page shares, hashed once: each page's key adds only its own data.
        self.shared_key = hashlib.sha256(json.dumps(
            [SITE_LAYOUT, __version__, self.theme.digest, self.show_context, self.assets],
            sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
        self.rendered = 0
        self.reused = 0

    def _asset(self, name: str, data: bytes, content_name: Any) -> None:
        public = content_name(Path(name), hashlib.sha256(data).hexdigest())
        self.assets[name] = public
        self.files[public] = data

    @property
    def stylesheets(self) -> list[tuple[str, str]]:
        """(type, href) of the feed's ``<?xml-stylesheet?>`` lines: XSL first, CSS as the fallback."""
        result = []
        if "feed.xsl" in self.assets:
            result.append(("text/xsl", self.assets["feed.xsl"]))
        if "feed.css" in self.assets:
            result.append(("text/css", self.assets["feed.css"]))
        return result

    def _check_names(self) -> None:
        """An episode folder must not take a name the site needs at the top of public/."""
        taken = {"index.html", "404.html", *self.files}
        if self.page_count > 1:
            taken.add(pages.PAGE_FOLDER)
        for entry in self.ordered:
            if entry.episode.slug in taken:
                raise InputError(
                    f"the episode folder name '{entry.episode.slug}' is one the website needs",
                    path=entry.episode.source.parent,
                    hint="rename the folder, or turn the website off with 'site: false' in podcast.yaml",
                )

    # ------------------------------------------------------------------------------ writing

    def write(self) -> None:
        """Assets and every page into the staging tree; the render cache saved."""
        from feedtool.parallel import forked_runs, worker_count

        for public, data in sorted(self.files.items()):
            self.builder.output.place_bytes(data, public)
        jobs = ([("index", number) for number in range(1, self.page_count + 1)]
                + [("episode", index) for index in range(len(self.ordered))] + [("404", 0)])
        workers = worker_count(len(jobs))
        if workers <= 1:
            for job in jobs:
                self._page(*job)
        else:
            tables = self._tables()
            for changes, rendered in forked_runs(lambda start, end: self._run(jobs[start:end]), len(jobs), workers):
                for table, (added, used) in zip(tables, changes, strict=True):
                    table.merge(added, used)
                self.rendered += rendered
            self.reused = len(jobs) - self.rendered
        self.memo.prune()
        self.memo.save()

    def _tables(self) -> list[JsonTable]:
        cache = self.builder.cache
        return [self.memo, cache.files, cache.digests, cache.notes]

    def _run(self, jobs: list[tuple[str, int]]) -> tuple[list[tuple[dict[str, Any], set[str]]], int]:
        """In a worker: some pages, and what they added to the cache tables."""
        tables = self._tables()
        for table in tables:
            table.take_changes()  # this process's copy: report only what these pages add
        before = self.rendered
        for job in jobs:
            self._page(*job)
        return [table.take_changes() for table in tables], self.rendered - before

    def _summary(self, entry: EpisodeEntry) -> str:
        episode = entry.episode
        return episode.summary or self.builder.notes(episode)["text"]

    def _page(self, kind: str, index: int) -> None:
        base = self.show.base_url
        if kind == "episode":
            entry = self.ordered[index]
            newer = self.ordered[index - 1] if index > 0 else None
            older = self.ordered[index + 1] if index + 1 < len(self.ordered) else None
            transcripts = self._transcripts(entry)
            data = pages.episode_inputs(entry, base_url=base, summary=self._summary(entry), newer=newer,
                                        older=older, transcripts=transcripts)
            template, relative = "episode.html", f"{entry.episode.slug}/index.html"
        elif kind == "index":
            per_page = self.show.site.per_page
            chunk = self.ordered[(index - 1) * per_page: index * per_page]
            data = pages.index_inputs(chunk, [self._summary(e) for e in chunk], base_url=base, number=index,
                                      pages=self.page_count)
            template, relative = "index.html", pages.page_folder(index) + "index.html"
        else:  # a host shows 404.html at any depth: absolute links only
            data = {"root": base, "canonical": None}
            template, relative = "404.html", "404.html"
        key = hashlib.sha256(json.dumps([self.shared_key, template, data], sort_keys=True, ensure_ascii=False,
                                        separators=(",", ":")).encode("utf-8")).hexdigest()[:40]
        if self._reuse(key, relative):
            return
        if kind == "episode":
            data = {**data, "transcript": self._timed_lines(self.ordered[index], data)}
        html = self.theme.render(template, {"show": self.show_context, "assets": self.assets, "page": data})
        self.memo.put(key, self.builder.output.place_bytes(html.encode("utf-8"), relative))
        self.rendered += 1

    def _reuse(self, key: str, relative: str) -> bool:
        """Link the page rendered for this key before, if the cache still holds it."""
        name = self.memo.get(key)
        if not isinstance(name, str) or self.builder.cache.files.get(name) is None:
            return False
        stored = self.builder.cache.files_dir / name
        if not stored.is_file():
            return False
        self.builder.output.place_file(stored, relative)
        self.reused += 1
        return True

    def _transcripts(self, entry: EpisodeEntry) -> list[dict[str, Any]]:
        urls = pages.Urls(self.show.base_url, "../")
        result = []
        for transcript, url in entry.transcripts:
            timed = is_timed(transcript.mime)
            result.append({
                "href": urls.link(url),
                "name": url.rsplit("/", 1)[-1],
                "mime": transcript.mime,
                "language": transcript.language,
                "timed": timed,
                "sha256": self.builder.probes.file_digest(transcript.path) if timed else None,
            })
        return result

    def _timed_lines(self, entry: EpisodeEntry, data: dict[str, Any]) -> list[dict[str, Any]]:
        """The first timed transcript's paragraphs, each with a link that seeks."""
        for transcript, _url in entry.transcripts:
            if is_timed(transcript.mime):
                audio = data["audio"]["src"]
                previous: str | None = None
                lines = []
                for line in read_transcript(transcript.path, transcript.mime):
                    start = seconds_attr(line.start_s)
                    lines.append({"start": start, "clock": pages.clock(line.start_s),
                                  "href": f"{audio}#t={start}", "text": line.text,
                                  "speaker": line.speaker if line.speaker != previous else None})
                    previous = line.speaker
                return lines
        return []


ICON_PX = 180  # what iOS asks for a home-screen icon; browsers scale it for the tab


def _icon(artwork: Path) -> bytes:
    """The show's artwork as a small PNG: the pages' icon (without one, browsers ask for /favicon.ico)."""
    import io

    from PIL import Image

    with Image.open(artwork) as image:
        small = image.convert("RGB").resize((ICON_PX, ICON_PX), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, "PNG")
    return out.getvalue()

"""``feedtool import``: read a feed, plan the show, fetch what it needs, write it, move it into place.

Order: read and map everything without network (source, channel, items); then per episode, on a
few threads, fetch its artwork, transcripts and JSON chapters, find its audio facts (or download
it), choose its chapters and write its folder; then check the result with feedtool's own loader;
then move it into place. All of it is written into ``.feedtool-import/episodes`` next to the
target and moved to ``episodes/`` only when complete, so a failed import leaves nothing
half-written (a download's ``.part`` file stays in ``.feedtool-import/parts`` to be resumed).

``--update`` reads the lock: an episode whose guid is known is left alone when its item did not
change upstream, refreshed when it changed upstream and the podcaster has not edited its
episode.md since import wrote it (the lock keeps that file's sha256), and never touched otherwise.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from feedtool.errors import ChapterError, FeedtoolError, InputError, excerpt
from feedtool.importer.channel import PLACEHOLDER_BASE, Channel, map_channel
from feedtool.importer.fields import Notices
from feedtool.importer.items import TRANSCRIPT_EXTENSIONS, EpisodePlan, Media, plan_items
from feedtool.importer.media import (
    DEFAULT_TIMEOUT_S,
    Facts,
    FetchProblem,
    Hosts,
    download,
    fetch_bytes,
    kind_of,
    probe_remote,
)
from feedtool.importer.source import DEFAULT_MAX_MB, Feed, read_feed
from feedtool.importer.writer import (
    dump_yaml,
    episode_text,
    image_file,
    lock_bytes,
    read_lock,
    sha256_text,
)

WORK_DIR = ".feedtool-import"
LOCK_NAME = "feedtool.lock"
#: Threads fetching side files and probing hosts (network-bound; the CPU work is done before).
FETCH_THREADS = 8

Progress = Callable[[str, int, int | None], None]


@dataclass
class Options:
    source: str
    into: Path
    media: str = "remote"  # or "download"
    update: bool = False
    base_url: str | None = None
    probe: bool = False  # ask the host about every enclosure, not only where the feed is silent
    max_bytes: int = DEFAULT_MAX_MB * 1024 * 1024
    timeout_s: float = DEFAULT_TIMEOUT_S
    progress: Progress | None = None  # a download's (file name, bytes done, bytes total)
    threads: int = FETCH_THREADS


@dataclass
class Result:
    episodes_dir: Path
    feed: Feed
    channel: Channel
    notices: Notices = field(default_factory=Notices)
    added: list[str] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)
    kept_edited: list[str] = field(default_factory=list)
    unchanged: int = 0
    gone_upstream: list[str] = field(default_factory=list)
    chapters_from: dict[str, int] = field(default_factory=dict)
    facts_from: dict[str, int] = field(default_factory=dict)
    downloaded: int = 0
    size_mismatches: int = 0

    def count(self, table: dict[str, int], key: str) -> None:
        table[key] = table.get(key, 0) + 1

    @property
    def placeholder_base(self) -> bool:
        return str(self.channel.show.get("base_url", "")).startswith(PLACEHOLDER_BASE)


class _Run:
    """One import: the options, the host bookkeeping, caches shared by the episode threads."""

    def __init__(self, options: Options, feed: Feed, result: Result, parts: Path) -> None:
        self.options = options
        self.feed = feed
        self.result = result
        self.parts = parts
        self.hosts = Hosts()
        self._lock = threading.Lock()
        self._images: dict[str, bytes | FetchProblem] = {}
        self.texts: dict[str, str] = {}  # slug -> the episode.md written (read back by _check without a file read)

    def image(self, url: str) -> bytes:
        """Artwork bytes, fetched once per URL (many hosts give every episode the same picture)."""
        with self._lock:
            cached = self._images.get(url)
        if cached is None:
            try:
                cached = fetch_bytes(url, self.hosts, timeout_s=self.options.timeout_s)
            except FetchProblem as problem:
                cached = problem
            with self._lock:
                self._images[url] = cached
        if isinstance(cached, FetchProblem):
            raise cached
        return cached

    def asks_network(self, plan: EpisodePlan) -> bool:
        """Whether making this episode fetches anything (its artwork not yet fetched, side files, audio)."""
        if self.options.media == "download" or plan.transcripts or plan.chapters_url:
            return True
        if plan.artwork_url and plan.artwork_url not in self._images:
            return True
        return any(self.options.probe or media.length is None or (index == 0 and media.duration_s is None)
                   for index, media in enumerate(plan.media))

    # ------------------------------------------------------------------------------ one episode

    def make_episode(self, plan: EpisodePlan, folder: Path, notices: Notices,
                     previous: Path | None = None) -> dict[str, Any]:
        """Write one episode folder; returns its lock entry. ``previous`` is its old folder (refresh)."""
        folder.mkdir(parents=True, exist_ok=True)
        front = dict(plan.front)
        label = f"'{excerpt(plan.title)}'"
        if plan.artwork_url:
            self._episode_artwork(plan.artwork_url, folder, front, notices, label)
        self._transcripts(plan, folder, front, notices, label)
        values, facts = [], []
        for index, media in enumerate(plan.media):
            value, fact = self._media(plan, index, media, folder, notices, label, previous)
            values.append(value)
            facts.append(fact)
        front["audio"] = values[0] if len(values) == 1 else values
        self._chapters(plan, folder, front, notices, label, facts[0].duration_s)
        text = episode_text(front, plan.notes, plan.flags)
        (folder / "episode.md").write_text(text, encoding="utf-8")
        self.texts[plan.slug] = text
        entry: dict[str, Any] = {"guid": plan.guid, "number": front.get("episode"),
                                 "master": _master(values[0], facts[0])}
        if len(values) > 1:
            entry["alternates"] = [_master(value, fact) for value, fact in zip(values[1:], facts[1:], strict=True)]
        entry["imported"] = {"feed": self.feed.url or self.feed.name, "item_sha256": plan.item_sha256,
                             "episode_md_sha256": sha256_text(text)}
        return entry

    def _episode_artwork(self, url: str, folder: Path, front: dict[str, Any], notices: Notices, label: str) -> None:
        from feedtool.validation.media import artwork_problems

        try:
            name, data, converted = image_file(self.image(url), "cover")
        except (FetchProblem, ValueError) as problem:
            notices.warn(f"{label}: its artwork was not imported ({problem}); it shows the show's artwork")
            return
        (folder / name).write_bytes(data)
        errors = [message for _, severity, message in artwork_problems(folder / name, what="episode artwork")
                  if severity == "error"]
        if errors:
            (folder / name).unlink()
            notices.warn(f"{label}: its artwork breaks Apple's rules ({errors[0]}); left out, the episode shows "
                         "the show's artwork")
            return
        if converted:
            notices.warn(f"{label}: its artwork was {converted}")
        front["artwork"] = name

    def _transcripts(self, plan: EpisodePlan, folder: Path, front: dict[str, Any], notices: Notices,
                     label: str) -> None:
        written: list[dict[str, str]] = []
        used: set[str] = set()
        for transcript in plan.transcripts:
            extension = TRANSCRIPT_EXTENSIONS[transcript.mime]
            stem = "transcript" + (f"-{transcript.language.lower()}" if transcript.language else "")
            stem = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in stem)
            name, n = stem + extension, 2
            while name in used:
                name, n = f"{stem}-{n}{extension}", n + 1
            try:
                data = fetch_bytes(transcript.url, self.hosts, timeout_s=self.options.timeout_s)
            except FetchProblem as problem:
                notices.warn(f"{label}: a transcript was not imported ({problem})")
                continue
            used.add(name)
            (folder / name).write_bytes(data)
            entry = {"file": name}
            if transcript.language:
                entry["language"] = transcript.language
            if transcript.rel:
                entry["rel"] = transcript.rel
            written.append(entry)
        if written:
            front["transcript"] = written

    def _media(self, plan: EpisodePlan, index: int, media: Media, folder: Path, notices: Notices, label: str,
               previous: Path | None) -> tuple[str, Facts]:
        duration = media.duration_s if index == 0 else None
        feed_facts = Facts(size=media.length, mime=media.mime, kind=kind_of(media.mime, media.extension),
                           duration_s=duration, duration_from="feed" if duration else "")
        if self.options.media == "download":
            try:
                return media.file_name, self._download(media, folder, notices, label, previous)
            except (FetchProblem, FeedtoolError) as problem:
                notices.warn(f"{label}: its audio was not downloaded ({problem}); 'audio:' keeps its URL. "
                             "Run the import with --update to try again")
                self.result.count(self.result.facts_from, "feed")
                return media.url, feed_facts
        wanted = self.options.probe or media.length is None or (index == 0 and duration is None)
        if not wanted:
            self.result.count(self.result.facts_from, "feed")
            return media.url, feed_facts
        try:
            facts = probe_remote(media.url, mime=media.mime, extension=media.extension, hosts=self.hosts,
                                 timeout_s=self.options.timeout_s)
        except FetchProblem as problem:
            notices.warn(f"{label}: its audio could not be asked about ({problem}); the feed's facts are kept")
            self.result.count(self.result.facts_from, "feed")
            return media.url, feed_facts
        if facts.duration_s is None and duration:
            facts.duration_s, facts.duration_from = duration, "feed"
        if media.length and facts.size and media.length != facts.size:
            notices.warn(f"{label}: the feed says its audio is {media.length} bytes, the host serves {facts.size}; "
                         "the host's size is recorded")
            self.result.size_mismatches += 1
        self.result.count(self.result.facts_from, "host")
        return media.url, facts

    def _download(self, media: Media, folder: Path, notices: Notices, label: str, previous: Path | None) -> Facts:
        from feedtool.audio import probe
        from feedtool.files import sha256_file

        target = folder / media.file_name
        old = previous / media.file_name if previous is not None else None
        if old is not None and old.is_file():
            shutil.copyfile(old, target)  # a refreshed episode keeps the audio it has
            size, digest = target.stat().st_size, sha256_file(target)
        else:
            progress = self.options.progress

            def report(done: int, total: int | None) -> None:
                if progress is not None:
                    progress(media.file_name, done, total)

            size, digest = download(media.url, target, self.parts, self.hosts, progress=report,
                                    timeout_s=self.options.timeout_s)
        if media.length and media.length != size:
            notices.warn(f"{label}: the feed says its audio is {media.length} bytes, the download is {size} "
                         "(hosts often publish wrong lengths; the new feed will say the real size)")
            self.result.size_mismatches += 1
        self.result.downloaded += 1
        self.result.count(self.result.facts_from, "file")
        info = probe(target)
        return Facts(size=size, mime=info.mime, kind=info.kind, duration_s=info.duration_s, duration_from="file",
                     bitrate=info.bitrate, sha256=digest)

    def _chapters(self, plan: EpisodePlan, folder: Path, front: dict[str, Any], notices: Notices, label: str,
                  duration: float | None) -> None:
        """Choose the richest chapters that feedtool can use: JSON, psc:chapters or the notes' timestamps."""
        from feedtool import chapters as chapter_io

        candidates: list[tuple[str, list[Any]]] = []
        path = folder / "episode.md"
        if plan.chapters_url:
            try:
                data = fetch_bytes(plan.chapters_url, self.hosts, timeout_s=self.options.timeout_s)
                (folder / "chapters.json").write_bytes(data)
                found = chapter_io.read_chapters_file(folder / "chapters.json")
                found = [_absolute_image(chapter, plan.chapters_url) for chapter in found]
                chapter_io.check_chapters(found, duration_s=duration, path=path, source="podcast:chapters")
                candidates.append(("podcast:chapters", found))
            except (FetchProblem, ChapterError) as problem:
                notices.warn(f"{label}: its podcast:chapters file was not used ({_short(problem)})")
            finally:
                (folder / "chapters.json").unlink(missing_ok=True)
        if plan.psc_chapters:
            try:
                found = chapter_io.from_front_matter(plan.psc_chapters, path=path, line=None)
                chapter_io.check_chapters(found, duration_s=duration, path=path, source="psc:chapters")
                candidates.append(("psc:chapters", found))
            except ChapterError as problem:
                notices.warn(f"{label}: its psc:chapters were not used ({_short(problem)})")
        in_notes = chapter_io.from_show_notes(plan.notes)
        if in_notes:
            try:
                chapter_io.check_chapters(in_notes, duration_s=duration, path=path, source="the show notes")
                candidates.append(("show notes", in_notes))
            except ChapterError as problem:
                if not candidates:
                    notices.warn(f"{label}: the timestamps in its notes are not chapters feedtool can use "
                                 f"({_short(problem)}); wrote 'chapters: []' (fix them in episode.md to get chapters)")
                    front["chapters"] = []
        if not candidates:
            return

        def richness(candidate: tuple[str, list[Any]]) -> tuple[int, int]:
            found = candidate[1]
            return len(found), sum(bool(c.url) + bool(c.image) + (c.end_s is not None) for c in found)

        source, chosen = max(candidates, key=richness)  # the first of equals: JSON, then psc, then notes
        self.result.count(self.result.chapters_from, source)
        if source == "podcast:chapters":
            (folder / "chapters.json").write_bytes(chapter_io.to_json(chosen))
            front.pop("chapters", None)
        elif source == "psc:chapters":
            front["chapters"] = plan.psc_chapters


def _short(problem: Exception) -> str:
    return str(getattr(problem, "message", problem)).split("\n")[0]


def _absolute_image(chapter: Any, base: str) -> Any:
    from dataclasses import replace

    changes = {}
    for key in ("image", "url"):
        value = getattr(chapter, key)
        if value and not value.startswith(("http://", "https://")):
            changes[key] = urljoin(base, value)
    return replace(chapter, **changes) if changes else chapter


def _master(value: str, facts: Facts) -> dict[str, Any]:
    """A lock entry's master facts (AUDIO.md): sha256 only for bytes import actually had."""
    entry: dict[str, Any] = {"source": value}
    for key, item in (("sha256", facts.sha256), ("size", facts.size), ("kind", facts.kind), ("mime", facts.mime),
                      ("duration_s", round(facts.duration_s, 3) if facts.duration_s else None),
                      ("bitrate", facts.bitrate), ("duration_from", facts.duration_from or None)):
        if item is not None:
            entry[key] = item
    return entry


# ------------------------------------------------------------------------------------ the import


def _check_base_url(value: str) -> None:
    """--base-url goes into podcast.yaml, so it must pass what load asks of base_url there."""
    from feedtool.validation.rules_rss import url_problem

    problem = url_problem(value) or (None if value.startswith("https://") else "is not https://")
    if problem is not None:
        raise InputError(f"--base-url {value!r} {problem}", field="--base-url",
                         hint="the https:// folder URL the new feed will be served from, "
                              "e.g. https://cdn.example.org/show/")


def import_feed(options: Options) -> Result:
    """Import the feed into ``options.into``/episodes (or add what is new there, with ``update``)."""
    into = options.into
    episodes_dir = into / "episodes"
    if options.base_url is not None:
        _check_base_url(options.base_url)
    existing: dict[str, dict[str, Any]] = {}
    if options.update:
        if not (episodes_dir / "podcast.yaml").is_file():
            raise InputError("nothing to update: there is no show here", path=episodes_dir,
                             hint="run feedtool import without --update to import the show")
        existing = read_lock(episodes_dir / LOCK_NAME)
    elif episodes_dir.exists() and (not episodes_dir.is_dir() or any(episodes_dir.iterdir())):
        raise InputError("is not empty: import writes a new show there and never over one", path=episodes_dir,
                         hint="use --update to add new episodes to a show imported there, or --into another folder")
    feed = read_feed(options.source, max_bytes=options.max_bytes, timeout_s=options.timeout_s)
    notices = Notices()
    channel = map_channel(feed, notices, base_url=options.base_url)
    known = {entry["guid"]: slug for slug, entry in existing.items()}
    taken = {child.name for child in episodes_dir.iterdir()} if options.update else set()
    plans = plan_items(feed, notices, show_artwork=channel.artwork_url, taken=taken | set(existing), known=known)
    result = Result(episodes_dir=episodes_dir, feed=feed, channel=channel, notices=notices)

    work = into / WORK_DIR
    staging = work / "episodes"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    run = _Run(options, feed, result, work / "parts")
    try:
        if not options.update:
            _write_show(run, channel, staging, notices)
        todo, entries = _what_to_write(plans, existing, episodes_dir, result)
        made = _make_all(run, todo, staging, episodes_dir, notices)
        entries.update(made)
        if options.update:
            seen = {plan.guid for plan in plans}
            result.gone_upstream = sorted(slug for slug, entry in existing.items()
                                          if entry.get("imported") and entry["guid"] not in seen)
        (staging / LOCK_NAME).write_bytes(lock_bytes(entries))
        _check(staging if not options.update else None, staging, [plan for plan, _ in todo], options, run.texts)
        _move_into_place(staging, episodes_dir, [plan.slug for plan, _ in todo], update=options.update)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _tidy(work, into)
    return result


def _write_show(run: _Run, channel: Channel, staging: Path, notices: Notices) -> None:
    from feedtool.scaffold import placeholder_artwork
    from feedtool.validation.media import artwork_problems

    show = dict(channel.show)
    name = "artwork.jpg"
    try:
        if not channel.artwork_url:
            raise FetchProblem("the feed names no artwork")
        name, data, converted = image_file(run.image(channel.artwork_url), "artwork")
        (staging / name).write_bytes(data)
        if converted:
            notices.warn(f"the show's artwork was {converted}")
        errors = [message for _, severity, message in artwork_problems(staging / name, what="show artwork")
                  if severity == "error"]
        if errors:
            notices.warn(f"the show's artwork breaks Apple's rules ({errors[0]}): feedtool build will refuse it "
                         f"until you replace episodes/{name}")
    except (FetchProblem, ValueError) as problem:
        name = "artwork.jpg"
        (staging / name).write_bytes(placeholder_artwork(channel.title))
        notices.warn(f"the show's artwork was not imported ({problem}); wrote a placeholder: replace "
                     f"episodes/{name}")
    show["artwork"] = name
    if show.get("podcast_guid") is None:
        show.pop("podcast_guid", None)
    header = (f"# Imported by `feedtool import` from {run.feed.url or run.feed.name} on "
              f"{datetime.now(UTC):%Y-%m-%d}.\n"
              "# base_url is where public/ will be served; set it before you publish (docs/moving.md).\n")
    (staging / "podcast.yaml").write_text(header + dump_yaml(show), encoding="utf-8")


def _what_to_write(plans: list[EpisodePlan], existing: dict[str, dict[str, Any]], episodes_dir: Path,
                   result: Result) -> tuple[list[tuple[EpisodePlan, Path | None]], dict[str, dict[str, Any]]]:
    """The plans to write (with the old folder of a refresh) and the lock entries kept as they are."""
    from feedtool.files import sha256_file

    entries = dict(existing)
    todo: list[tuple[EpisodePlan, Path | None]] = []
    for plan in plans:
        entry = existing.get(plan.slug)
        if entry is None or entry.get("guid") != plan.guid:
            todo.append((plan, None))
            result.added.append(plan.slug)
            continue
        imported = entry.get("imported")
        if not isinstance(imported, dict):
            continue  # an episode made here, not by import: never touched
        if imported.get("item_sha256") == plan.item_sha256:
            result.unchanged += 1
            continue
        current = episodes_dir / plan.slug / "episode.md"
        if not current.is_file() or sha256_file(current) != imported.get("episode_md_sha256"):
            result.kept_edited.append(plan.slug)
            continue
        todo.append((plan, episodes_dir / plan.slug))
        result.refreshed.append(plan.slug)
    return todo, entries


def _make_all(run: _Run, todo: list[tuple[EpisodePlan, Path | None]], staging: Path, episodes_dir: Path,
              notices: Notices) -> dict[str, dict[str, Any]]:
    """Every folder of ``todo`` made in staging (on threads when nothing is downloaded: fetches overlap)."""
    def one(job: tuple[EpisodePlan, Path | None]) -> tuple[str, dict[str, Any], Notices]:
        plan, previous = job
        own = Notices()
        entry = run.make_episode(plan, staging / plan.slug, own, previous)
        return plan.slug, entry, own

    threads = 1 if run.options.media == "download" else max(1, run.options.threads)
    networked = [job for job in todo if run.asks_network(job[0])]
    done: dict[str, tuple[str, dict[str, Any], Notices]] = {}
    if threads > 1 and len(networked) > 1:  # only fetches overlap; the rest is CPU work, done here
        with ThreadPoolExecutor(threads) as pool:
            for outcome in pool.map(one, networked):
                done[outcome[0]] = outcome
    results = [done.get(job[0].slug) or one(job) for job in todo]
    made: dict[str, dict[str, Any]] = {}
    for slug, entry, own in results:  # in feed order, whatever order the threads finished in
        made[slug] = entry
        notices.extend(own)
    return made


def _check(show_dir: Path | None, staging: Path, plans: list[EpisodePlan], options: Options,
           texts: dict[str, str]) -> None:
    """Read what was written back with feedtool's own loader: the show, and each episode as far as
    this feedtool can (an episode whose audio is a URL is checked for its front matter and guid)."""
    from feedtool.load import EPISODE_KEYS, load_episode, load_show, parse_yaml, split_front_matter

    try:
        show = load_show(show_dir) if show_dir is not None else load_show(options.into / "episodes")
        for plan in plans:
            folder = staging / plan.slug
            path = folder / "episode.md"
            text = texts.get(plan.slug) or path.read_text(encoding="utf-8")
            front, _, _ = split_front_matter(text, path=path)
            data = parse_yaml(front, path=path, first_line=2)
            unknown = set(data) - set(EPISODE_KEYS)
            if unknown or data.get("guid") != plan.guid:
                raise InputError(f"front matter does not read back (guid {data.get('guid')!r}, keys {unknown})",
                                 path=path)
            audio = data.get("audio")
            if isinstance(audio, str) and not audio.startswith(("http://", "https://")):
                load_episode(folder, show)
    except InputError as error:
        raise FeedtoolError(f"the imported show does not read back: {error}",
                            hint="this is a bug in feedtool import; please report it with the feed") from None


def _move_into_place(staging: Path, episodes_dir: Path, slugs: list[str], *, update: bool) -> None:
    if not update:
        if episodes_dir.exists():
            episodes_dir.rmdir()  # empty (checked before the import started)
        os.rename(staging, episodes_dir)
        return
    for slug in slugs:
        target = episodes_dir / slug
        old = staging / f".{slug}.old"
        if target.exists():
            os.rename(target, old)
        os.rename(staging / slug, target)
        if old.exists():
            shutil.rmtree(old)
    from feedtool.files import write_atomic

    write_atomic(episodes_dir / LOCK_NAME, (staging / LOCK_NAME).read_bytes())
    shutil.rmtree(staging)


def _tidy(work: Path, into: Path) -> None:
    """Remove the work folder (when no partial download is left in it) and make sure git ignores it."""
    parts = work / "parts"
    if parts.exists() and not any(parts.iterdir()):
        parts.rmdir()
    if work.exists() and not any(work.iterdir()):
        work.rmdir()
    ignore = into / ".gitignore"
    if not ignore.exists():
        ignore.write_text("public/\nsite/\n.feedtool-cache/\n.feedtool-import/\n", encoding="utf-8")

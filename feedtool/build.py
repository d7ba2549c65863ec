"""feedtool build: episodes/ -> public/, laid out exactly as it will be served.

    public/feed.xml
    public/<artwork>-<sha8>.jpg            show artwork; the name changes with the content
    public/<slug>/<audio>-<sha8>.mp3       the tagged copy of the master (new bytes, new URL)
    public/<slug>/chapters-<sha8>.json     JSON chapters (application/json+chapters)
    public/<slug>/<transcript>-<sha8>.vtt|.srt
    public/<slug>/<artwork>-<sha8>.jpg     episode artwork, chapter images
    public/.feedtool/files.json            every file of this build with its size (never published)

Every file the feed references has its content's hash in its name, chapters and transcripts
too: a publish that fails half-way can then never leave the live feed pointing at a file that
changed under the same URL.

One build at a time per output folder and cache (feedtool.locking): a second one waits
``wait_s`` seconds, then stops with a message naming the first.

Order: load and check everything, probe, tag, then render the feed from the files as they will
be served (the enclosure length is the tagged copy's size). The new tree is built in a staging
folder next to public/ and swapped in only when complete, so a failed build leaves the previous
public/ untouched. Nothing in episodes/ is modified, except that new guids are recorded in
episodes/feedtool.lock.

A catalogue of 100 episodes or more is loaded and built on every core (forked worker processes;
results are taken in episode order, so the first problem reported is the same as in one process).
FEEDTOOL_JOBS=N in the environment sets the number of processes (1: no workers).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feedtool import __version__
from feedtool.audio import AudioInfo
from feedtool.build_output import OutputTree, ascii_name, has_size
from feedtool.build_probe import Probes
from feedtool.cache import BuildCache
from feedtool.errors import FeedtoolError, InputError
from feedtool.feed import EpisodeEntry, ImageRef, MediaFile, item_extras_xml
from feedtool.files import ShowFolder, check_name_lengths, write_atomic
from feedtool.guids import MasterFacts as LedgerMaster
from feedtool.locking import DEFAULT_WAIT_S, hold_output
from feedtool.master_records import (
    MasterRecord,
    Splice,
    TaggedRecord,
    copy_stem,
    copy_suffix,
    made_from,
    master_missing,
    record_into,
    recorded_master,
    splice_of,
    why_needed,
    write_remote_media,
    write_splices,
)
from feedtool.masters import MasterFacts
from feedtool.model import Episode, Image, Master, Show
from feedtool.parallel import forked_runs, worker_count

if TYPE_CHECKING:
    from feedtool.masters import MasterStore
    from feedtool.tagging import TagMetadata

CACHE_DIR_NAME = ".feedtool-cache"
#: A file in every build output, so build never replaces a folder it did not make.
MARKER = ".feedtool-build"
STATE_FILE = "build-state.json"
#: Build metadata inside the output (a hidden folder: publish never uploads hidden names).
META_DIR = ".feedtool"
#: Every file of the build with its size, so "up to date" can check what it trusts.
FILES_LIST = f"{META_DIR}/files.json"


@dataclass
class BuildResult:
    out_dir: Path
    feed_path: Path
    episodes: int = 0
    drafts_left_out: int = 0
    future_left_out: int = 0
    tagged: int = 0
    reused: int = 0
    remote: int = 0  # copies the lock file records, on the target already: not in public/
    spliced: int = 0  # copies publish makes inside the bucket (public/.feedtool/splices.json)
    masters_fetched: int = 0  # masters fetched from https:// or s3:// into the master store
    up_to_date: bool = False
    archive_pages: int = 0  # RFC 5005 archive pages next to the feed (feed: {max_items: N})
    warnings: list[str] = field(default_factory=list)
    #: The earliest future-dated episode left out (folder name and date): when the feed next changes
    #: without a commit. The publish workflow's summary reports it.
    next_due: datetime | None = None
    next_due_episode: str | None = None


def default_cache_dir(episodes_dir: Path) -> Path:
    return episodes_dir.resolve().parent / CACHE_DIR_NAME


# ----------------------------------------------------------------------------- up-to-date check


def _inputs_fingerprint(episodes_dir: Path, out_dir: Path, options: str) -> str:
    """A hash over every input file's name, size and mtime, the options and feedtool's version.

    A link counts by its target (shared artwork changes, the fingerprint changes); a link that
    points to nothing (an editor's lock file, ``.#episode.md -> user@host.1234``) or anything
    else stat() cannot follow counts by the link itself, and by where it points.
    """
    digest = hashlib.sha256(f"{__version__}\0{options}\0".encode())
    for dirpath, dirnames, filenames in os.walk(episodes_dir):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            try:
                stat = os.stat(path)
                digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode("utf-8", "surrogateescape"))
            except OSError:
                try:
                    target = os.readlink(path)
                except OSError:
                    target = ""
                digest.update(f"{path}\0link\0{target}\0".encode("utf-8", "surrogateescape"))
    marker = out_dir / MARKER
    try:
        digest.update(marker.read_bytes())
    except OSError:
        digest.update(b"no build")
    return digest.hexdigest()


def _outputs_intact(out_dir: Path) -> bool:
    """Is every file the last build wrote still there with its size? (One stat per file.)

    The input fingerprint says nothing about public/: files deleted or truncated there (by hand,
    by a crashed tool, by an older feedtool running two builds at once) would otherwise be
    trusted as "up to date" and published with a feed that points at them.
    """
    try:
        listed = json.loads((out_dir / FILES_LIST).read_text(encoding="utf-8"))["files"]
        for relative, size in listed.items():
            if os.stat(out_dir / relative).st_size != size:
                return False
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    return True


def _list_files(root: Path) -> dict[str, int]:
    """Every file under root (relative '/'-separated path -> size), for FILES_LIST."""
    found: dict[str, int] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root).replace(os.sep, "/")
        dirnames[:] = [d for d in dirnames if not (rel == "." and d == META_DIR)]
        for name in filenames:
            key = name if rel == "." else f"{rel}/{name}"
            found[key] = os.stat(os.path.join(dirpath, name)).st_size
    return found


def _options(base_url: str | None, drafts: bool, out_dir: Path) -> str:
    return json.dumps([base_url, drafts, str(out_dir.resolve())])


def _read_state(cache_dir: Path) -> dict[str, object]:
    try:
        data = json.loads((cache_dir / STATE_FILE).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def is_stale(
    episodes_dir: Path,
    out_dir: Path,
    *,
    base_url: str | None = None,
    drafts: bool = False,
    cache_dir: Path | None = None,
    now: datetime | None = None,
) -> bool:
    """True when a build would change public/ (inputs changed, or an episode came due)."""
    now = now or datetime.now(UTC)
    cache_dir = cache_dir or default_cache_dir(episodes_dir)
    state = _read_state(cache_dir)
    if not (out_dir / MARKER).is_file() or not state:
        return True
    fingerprint = _inputs_fingerprint(episodes_dir, out_dir, _options(base_url, drafts, out_dir))
    if state.get("fingerprint") != fingerprint or not _outputs_intact(out_dir):
        return True
    next_due = state.get("next_due")
    return isinstance(next_due, str) and datetime.fromisoformat(next_due) <= now


# ----------------------------------------------------------------------------- the build


class _Builder:
    """One build: holds the show, the options, the cache and the staging folder while files are made."""

    def __init__(self, root: Path, show: Show, staging: Path, cache: BuildCache, result: BuildResult,
                 progress: Callable[[str], None], *, drafts: bool, now: datetime,
                 recorded: dict[str, dict[str, Any]] | None = None) -> None:
        self.root = root  # episodes/
        #: episode folder -> its entry in episodes/feedtool.lock (read only): what was recorded of
        #: each master and its tagged copy, so a master that is not here need not be (issue 10)
        self.recorded = recorded or {}
        self.output = OutputTree(staging, cache)  # placing files in the staging tree
        self.probes = Probes(cache)  # digests and audio facts, once per content
        self.files = ShowFolder(root)  # what every file read from the show passes (load checks)
        self.show = show
        self.drafts = drafts
        self.now = now
        self.staging = staging
        self.cache = cache
        self.result = result
        self.progress = progress
        self._show_cover: tuple[bytes, str] | None = None
        self._show_cover_digest: str | None = None

    def url(self, relative: str) -> str:
        from urllib.parse import quote

        return self.show.base_url + quote(relative)

    def notes(self, episode: Episode) -> dict[str, str]:
        """The notes as HTML, as Apple's description subset and as plain text (cached)."""
        from feedtool.notes import cache_key, describe, render_html

        key = cache_key(episode.notes)  # changes with the notes and with the rules that render them
        cached = self.cache.notes.get(key)
        if not isinstance(cached, dict):
            html = render_html(episode.notes)
            apple, text = describe(html)  # apple_description(html), plain_text(html)
            cached = {"html": html, "apple": apple, "text": text}
            self.cache.notes.put(key, cached)
        return cached

    def cover(self, episode: Episode) -> tuple[bytes, str]:
        if episode.artwork is not None:
            path = episode.artwork
            return path.read_bytes(), _image_mime(path)
        return self.cover_of_show()

    def _bytes_digest(self, data: bytes) -> str:
        """sha256 of image bytes; the show's cover (one object for all episodes) is hashed once."""
        if self._show_cover is not None and data is self._show_cover[0]:
            if self._show_cover_digest is None:
                self._show_cover_digest = hashlib.sha256(data).hexdigest()
            return self._show_cover_digest
        return hashlib.sha256(data).hexdigest()

    def tag_fingerprint(self, meta: TagMetadata) -> str:
        """meta.fingerprint(), without hashing the same cover once per episode."""
        return meta.fingerprint(image_digest=self._bytes_digest)

    def tag_metadata(self, episode: Episode) -> TagMetadata:
        """What goes into the audio's tags: only what players show from the file (issue 10.3)."""
        from feedtool import tagging

        cover, cover_mime = self.cover(episode)
        return tagging.TagMetadata(
            title=episode.title,
            artist=self.show.author,
            album=self.show.title,
            track=episode.number,
            date=episode.date.strftime("%Y-%m-%d"),
            cover=cover,
            cover_mime=cover_mime,
            chapters=episode.chapters,
            chapter_images={name: path.read_bytes() for name, path in episode.chapter_images.items()},
        )

    def master_facts(self, episode: Episode, index: int, master: Master) -> tuple[MasterFacts, Path | None]:
        """What the build needs of a master, and its bytes when they are on this machine.

        A local file is probed (cached by content). A master that is not here is known from the
        lock file's record, with no network; failing that, an https:// or s3:// master is fetched
        into the master store (feedtool.masters), once.
        """
        if master.path is not None:
            return self.probes.master(master.path), master.path
        record = recorded_master(self.recorded_entry(episode), index, master.source)
        if record is not None:
            return record.facts, self.masters().find(record.facts.sha256, size=record.facts.size)
        if master.remote:
            stored = self.fetch(episode, master, None)
            return self.probes.master(stored), stored
        raise master_missing(episode, master, "feedtool.lock records nothing about it (it was never built)")

    def recorded_entry(self, episode: Episode) -> dict[str, Any] | None:
        """The episode's lock entry; for a renamed folder (its old folder gone), the old one.

        The guid ledger carries a renamed folder's guid over (feedtool.guids); without the
        master here, its facts must come along too: the entry of a gone folder with the same
        'audio:' value and the same guid or episode number. The copy keeps its old name (and
        URL), so nothing moves.
        """
        entry = self.recorded.get(episode.slug)
        if entry is not None or not episode.masters:
            return entry
        source = episode.masters[0].source
        found = [
            other for slug, other in self.recorded.items()
            if isinstance(other.get("master"), dict) and other["master"].get("source") == source
            and not (self.root / slug).is_dir()
            and (other.get("guid") == episode.guid if episode.guid else other.get("number") == episode.number)
        ]
        return found[0] if len(found) == 1 else None

    def masters(self) -> MasterStore:
        from feedtool.masters import MasterStore, default_store_dir

        return MasterStore(default_store_dir(self.cache.root), s3=self.show.publish)

    def fetch(self, episode: Episode, master: Master, facts: MasterFacts | None) -> Path:
        self.progress(f"fetching the master of {episode.slug} ({master.source})")
        stored = self.masters().fetch(master.source, sha256=facts.sha256 if facts else None,
                                      size=facts.size if facts else None, episode=episode.source)
        self.result.masters_fetched += 1
        return stored.path

    def master_copy(self, episode: Episode, index: int, master: Master, *,
                    resolved: tuple[MasterFacts, Path | None] | None = None,
                    ) -> _Copy:
        """The tagged copy of one master: made (or taken from the cache) when its bytes are here,
        else the copy the lock file records (already on the target), else a splice of it, else the
        master fetched from where it lives. Also what to record about it, and the splice if any."""
        from feedtool.audio import AudioInfo

        facts, local = resolved or self.master_facts(episode, index, master)
        info = AudioInfo(kind=facts.kind, mime=facts.mime, duration_s=facts.duration_s, size=facts.size,
                         bitrate=facts.bitrate)
        meta = self.tag_metadata(episode)
        suffix = copy_suffix(master, facts)
        key = tagged_copy_key(facts.sha256, suffix, info, self.tag_fingerprint(meta))
        name = f"{episode.slug}/{ascii_name(copy_stem(master))}-{key[:8]}{suffix}"
        cached_file = self.cache.tagged_dir / f"{key}{suffix}"
        cached = self.cache.tagged.get(key)
        record = recorded_master(self.recorded_entry(episode), index, master.source)
        earlier = record.tagged if record is not None and record.facts.sha256 == facts.sha256 else None
        splice, remote = None, False
        if cached is not None and has_size(cached_file, cached.get("size")):
            self.result.reused += 1
            size = int(cached["size"])
            self.output.place_file(cached_file, name)
        elif local is not None:
            size = self.write_copy(local, cached_file, meta, info, key)
            self.output.place_file(cached_file, name)
        elif earlier is not None and earlier.key == key and earlier.made_from is None:
            self.result.remote += 1  # on the target already: nothing to place, the feed names it
            size, name, remote = earlier.size, earlier.name, True
        elif earlier is not None and facts.kind == "mp3" and facts.audio_span is not None:
            splice = splice_of(meta, facts, earlier, name, same_key=earlier.key == key, path=episode.source)
            self.result.spliced += 1
            size = splice.size
        elif master.remote:
            size = self.write_copy(self.fetch(episode, master, facts), cached_file, meta, info, key)
            self.output.place_file(cached_file, name)
        else:
            raise master_missing(episode, master, why_needed(earlier, facts))
        tagged = TaggedRecord(key=key, name=name, size=size, made_from=made_from(splice))
        media = MediaFile(url=self.url(name), length=size, mime=info.mime, duration_s=info.duration_s,
                          bitrate=info.bitrate)
        return _Copy(media, MasterRecord(master.source, facts, tagged), splice, remote)

    def write_copy(self, path: Path, cached_file: Path, meta: TagMetadata, info: AudioInfo, key: str) -> int:
        """Tag ``path`` (the master, here or in the store) into the build cache; the copy's size."""
        from feedtool import tagging

        tagging.write_tagged_copy(path, cached_file, meta, kind=info.kind, duration_s=info.duration_s,
                                  master_checked=True)
        size = cached_file.stat().st_size
        self.cache.tagged.put(key, {"size": size})
        self.result.tagged += 1
        return size

    def episode_parts(self, episode: Episode) -> _EntryParts:
        """Everything of one feed item that takes work: probe, tag, chapters, notes, files."""
        from feedtool import chapters as chapter_io
        from feedtool.notes import apple_description, render_html

        folder = f"{episode.slug}/"
        (self.staging / folder).mkdir(exist_ok=True)
        assert episode.masters  # goes_in_feed leaves out a draft without its audio
        first = self.master_facts(episode, 0, episode.masters[0])
        duration_s = first[0].duration_s
        if episode.chapters:
            chapter_io.check_chapters(list(episode.chapters), duration_s=duration_s,
                                      path=episode.source, source=episode.chapters_source)
        if episode.value is not None:
            from feedtool.load_p20 import check_time_splits

            check_time_splits(episode, duration_s)
        notes = self.notes(episode)
        copies = [self.master_copy(episode, index, master, resolved=first if index == 0 else None)
                  for index, master in enumerate(episode.masters)]
        enclosure = copies[0].media
        alternates = [copy.media for copy in copies[1:]]

        artwork_url = None
        images: list[ImageRef] = []
        if episode.artwork is not None:
            check_artwork(episode.artwork, what="episode artwork", source=episode.source,
                          field="artwork", result=None)
            artwork_url = self.url(self.output.place_content_named(episode.artwork, folder))
            images.append(artwork_image(episode.artwork, artwork_url))
        images.extend(self.images(episode.images, folder))
        chapters_url = None
        chapter_image_urls: tuple[str | None, ...] = ()
        if episode.chapters:
            chapter_images: dict[str, str] = {}
            for chapter in episode.chapters:
                source = episode.chapter_images.get(chapter.image or "")  # checked and resolved by load
                if chapter.image and source is not None:
                    chapter_images[chapter.image] = self.url(self.output.place_content_named(source, folder))
            data = chapter_io.to_json(
                list(episode.chapters), title=episode.title, podcast_name=self.show.title,
                author=self.show.author, file_name=enclosure.url.rsplit("/", 1)[-1],
                image_url=lambda name: chapter_images.get(name, name),
            )
            relative = f"{folder}chapters-{hashlib.sha256(data).hexdigest()[:8]}.json"
            self.output.place_bytes(data, relative)
            chapters_url = self.url(relative)
            chapter_image_urls = tuple(chapter_images.get(c.image, c.image) if c.image else None
                                       for c in episode.chapters)
        transcript_urls = []
        for transcript in episode.transcripts:
            transcript_urls.append(self.url(self.output.place_content_named(transcript.path, folder)))
        summary_html = episode.summary and render_html(episode.summary)
        description_html = apple_description(summary_html) if summary_html else notes["apple"]
        parts = _EntryParts(
            enclosure=enclosure,
            alternates=tuple(alternates),
            chapters_url=chapters_url,
            transcript_urls=tuple(transcript_urls),
            artwork_url=artwork_url,
            notes_html=notes["html"],
            description_html=description_html or episode.title,
            master=LedgerMaster(source=episode.audio_name, sha256=copies[0].record.facts.sha256,
                                size=copies[0].record.facts.size),
            records=tuple(copy.record for copy in copies),
            splices=tuple(copy.splice for copy in copies if copy.splice is not None),
            remote_media=tuple((copy.record.tagged.name, copy.record.tagged.size) for copy in copies
                               if copy.remote and copy.record.tagged is not None),
            chapter_image_urls=chapter_image_urls,
            images=tuple(images),
        )
        # psc:chapters, value blocks ... serialized here, on every core, not in the parent's render
        return dataclasses.replace(parts, extras_xml=item_extras_xml(parts.entry(episode, guid="")))

    def images(self, images: tuple[Image, ...], folder: str) -> list[ImageRef]:
        """podcast:image tags: local pictures served under content names and measured; URLs as given."""
        refs = []
        for image in images:
            if image.path is not None:
                href = self.url(self.output.place_content_named(image.path, folder))
                width, height = _measure(image.path)
                mime = image.type or IMAGE_TYPES.get(image.path.suffix.lower())
            else:
                href, width, height, mime = image.href or "", image.width, image.height, image.type
            refs.append(ImageRef(href=href, width=width, height=height, type=mime, alt=image.alt,
                                 aspect_ratio=image.aspect_ratio, purpose=image.purpose))
        return refs

    def goes_in_feed(self, episode: Episode) -> bool:
        return goes_in_feed(episode, drafts=self.drafts, now=self.now)

    def load_and_build(self, folder: Path) -> tuple[Episode, _EntryParts | None]:
        """One episode folder read and checked, and, if it goes in the feed, its parts made."""
        from feedtool.load import load_episode

        episode = load_episode(folder, self.show, self.files)
        return episode, (self.episode_parts(episode) if self.goes_in_feed(episode) else None)

    def all_episodes(self, folders: list[Path]) -> list[tuple[Episode, _EntryParts | None]]:
        """load_and_build for every folder, in order; on every core when there are many.

        Loading and building happen in one pass (one fork, each episode handled start to finish
        by one worker): what spans episodes (numbers, guids) is checked afterwards, so a build
        that fails there has done work for nothing, which a failing build may.
        """
        workers = worker_count(len(folders))
        if workers <= 1:
            done = []
            for index, folder in enumerate(folders, 1):
                self.progress(f"[{index}/{len(folders)}] {folder.name}")
                done.append(self.load_and_build(folder))
            return done
        return self._all_in_workers(folders, workers)

    def _all_in_workers(
        self, folders: list[Path], workers: int
    ) -> list[tuple[Episode, _EntryParts | None]]:
        """load_and_build in forked workers; what they cached is merged here.

        Workers inherit this builder (fork) and send back each Episode, the small parts of its
        entry, their cache changes and counters; results come in folder order, so the first
        problem reported is the one a single process would have met first.
        """
        self.cover_for_workers()
        for table in self.cache.tables:
            table.take_changes()  # workers report only what they add
        done: list[tuple[Episode, _EntryParts | None]] = []
        for run, changes, tagged, reused in forked_runs(
            lambda start, end: self._run_in_worker(folders[start:end]), len(folders), workers
        ):
            for table, (added, used) in zip(self.cache.tables, changes, strict=False):
                table.merge(added, used)
            self.result.tagged += tagged
            self.result.reused += reused
            for item in run:
                done.append(item)
                self.progress(f"[{len(done)}/{len(folders)}] {folders[len(done) - 1].name}")
        return done

    def _run_in_worker(
        self, folders: list[Path]
    ) -> tuple[list[tuple[Episode, _EntryParts | None]], list[tuple[dict[str, Any], set[str]]], int, int]:
        """In a worker: some episodes loaded and built, the cache changes and the counters."""
        before = (self.result.tagged, self.result.reused)
        done = [self.load_and_build(folder) for folder in folders]
        changes = [table.take_changes() for table in self.cache.tables]
        return done, changes, self.result.tagged - before[0], self.result.reused - before[1]

    def cover_for_workers(self) -> None:
        """Read the show's cover (and hash it) once, before the workers fork."""
        cover, _ = self.cover_of_show()
        self._bytes_digest(cover)

    def cover_of_show(self) -> tuple[bytes, str]:
        if self._show_cover is None:
            self._show_cover = (self.show.artwork.read_bytes(), _image_mime(self.show.artwork))
        return self._show_cover


@dataclass(frozen=True)
class _Copy:
    """One master's tagged copy as build settled it (_Builder.master_copy)."""

    media: MediaFile
    record: MasterRecord  # what the lock file records
    splice: Splice | None  # made by publish from an earlier copy
    remote: bool  # on the target already, not in public/


@dataclass(frozen=True, kw_only=True)
class _EntryParts:
    """What a worker sends back for one episode (the Episode itself stays in the parent)."""

    enclosure: MediaFile
    alternates: tuple[MediaFile, ...]
    chapters_url: str | None
    transcript_urls: tuple[str, ...]
    artwork_url: str | None
    notes_html: str
    description_html: str
    master: LedgerMaster  # what the guid ledger matches renamed folders by (feedtool.guids)
    records: tuple[MasterRecord, ...] = ()  # what the lock file records of each master (master_records)
    splices: tuple[Splice, ...] = ()  # copies publish makes from earlier ones on the target
    remote_media: tuple[tuple[str, int], ...] = ()  # copies on the target already: (name, size)
    chapter_image_urls: tuple[str | None, ...] = ()
    images: tuple[ImageRef, ...] = ()
    extras_xml: str | None = None  # feed.item_extras_xml, made in the worker (see entry())

    def entry(self, episode: Episode, guid: str) -> EpisodeEntry:
        return EpisodeEntry(
            episode=episode,
            guid=guid,
            enclosure=self.enclosure,
            alternates=self.alternates,
            chapters_url=self.chapters_url,
            transcripts=tuple(zip(episode.transcripts, self.transcript_urls, strict=False)),
            artwork_url=self.artwork_url,
            notes_html=self.notes_html,
            description_html=self.description_html,
            chapter_image_urls=self.chapter_image_urls,
            images=self.images,
            extras_xml=self.extras_xml,
        )


def check_artwork(path: Path, *, what: str, source: Path, field: str,
                  result: BuildResult | None) -> None:
    """Stop on artwork Apple rejects (with the file's name); keep its warnings for the report.

    Episode artwork is checked in worker processes, whose warnings would be lost: only its
    errors count here (feedtool validate reports the rest).
    """
    from feedtool.validation.media import artwork_problems

    for rule_id, severity, message in artwork_problems(path, what=what):
        if severity == "error":
            raise InputError(f"{path.name}: {message}", path=source, field=field,
                             hint="Apple needs a square JPEG or PNG, 1400 to 3000 px, RGB "
                             f"(rule {rule_id} in docs/validate.md)")
        if result is not None:
            result.warnings.append(f"{path}: {message} [{rule_id}]")


def _image_mime(path: Path) -> str:
    return "image/png" if path.suffix.lower() == ".png" else "image/jpeg"


IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
               ".gif": "image/gif", ".mp4": "video/mp4"}


def _measure(path: Path) -> tuple[int | None, int | None]:
    """A picture's width and height from its header (None for a video or an unreadable file)."""
    if path.suffix.lower() == ".mp4":
        return None, None
    from PIL import Image as PILImage

    try:
        with PILImage.open(path) as picture:
            width, height = picture.size
    except Exception:  # noqa: BLE001 - Pillow raises many types; the size is only a hint to apps
        return None, None
    return int(width), int(height)


def artwork_image(path: Path, url: str) -> ImageRef:
    """The cover as podcast:image: apps that read the newer tag learn its size without fetching it."""
    width, height = _measure(path)
    return ImageRef(href=url, width=width, height=height, type=_image_mime(path), purpose="artwork")


def tagged_copy_key(master_digest: str, suffix: str, info: AudioInfo, tag_fingerprint: str) -> str:
    """What a tagged copy is made from, hashed: it names the copy in the cache and in public/.

    The master's content (not its path or mtime: a fresh clone reuses its copies), the kind and
    duration the tag is written for, and every tag field (tag_fingerprint holds the tag layout
    version, bumped whenever the writer's bytes change). The same key always gives the same bytes,
    so naming the served file by it keeps "new bytes, new URL" without reading the copy back to
    hash it.
    """
    identity = f"{master_digest}|{suffix}|{info.kind}|{info.duration_s!r}|{tag_fingerprint}"
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


def left_out_because(episode: Episode, *, drafts: bool, now: datetime) -> str | None:
    """Why an episode stays out of the feed ("draft", "scheduled", "no audio"), or None.

    Drafts and episodes dated later than now stay out unless the build asks for drafts; a draft
    whose audio is not there yet stays out even then (an item without an enclosure is no
    episode to Apple or the Podcast Index).
    """
    if not drafts and episode.draft:
        return "draft"
    if not drafts and episode.date > now:
        return "scheduled"
    if not episode.masters:
        return "no audio"
    return None


def goes_in_feed(episode: Episode, *, drafts: bool, now: datetime) -> bool:
    return left_out_because(episode, drafts=drafts, now=now) is None


def select_episodes(episodes: tuple[Episode, ...], *, drafts: bool, now: datetime,
                    result: BuildResult) -> tuple[list[Episode], datetime | None]:
    """The episodes that go into the feed, and when the next held-back one comes due."""
    chosen = []
    next_due = None
    for episode in episodes:
        reason = left_out_because(episode, drafts=drafts, now=now)
        if reason == "draft":
            result.drafts_left_out += 1
        elif reason == "scheduled":
            result.future_left_out += 1
            if next_due is None or episode.date < next_due:
                next_due = episode.date
                result.next_due, result.next_due_episode = episode.date, episode.slug
        elif reason == "no audio":
            result.warnings.append(
                f"{episode.source}: draft '{episode.slug}' has no audio yet, so it is left out of the feed "
                "(name the file in 'audio:' and put it next to episode.md)")
        else:
            chosen.append(episode)
    return chosen, next_due


def build_podcast(
    episodes_dir: Path,
    out_dir: Path,
    *,
    base_url: str | None = None,
    drafts: bool = False,
    cache_dir: Path | None = None,
    now: datetime | None = None,
    force: bool = False,
    progress: Callable[[str], None] = lambda message: None,
    wait_s: float = DEFAULT_WAIT_S,
) -> BuildResult:
    """Build public/ from episodes/ (or report that it is up to date), holding the output lock."""
    cache_dir = cache_dir or default_cache_dir(episodes_dir)
    # Before the lock file is named after out_dir: `.feedtool-<out>.lock.owner` is its longest name.
    check_name_lengths(episodes_dir, what="episodes folder")
    check_name_lengths(out_dir, what="output folder", reserve=len(".feedtool-" ".lock.owner"))
    check_name_lengths(cache_dir, what="cache folder")
    with hold_output(out_dir, cache_dir, wait_s=wait_s):
        try:
            return _build_locked(episodes_dir, out_dir, base_url=base_url, drafts=drafts, cache_dir=cache_dir,
                                 now=now, force=force, progress=progress)
        except OSError as error:
            raise _write_error(error, out_dir) from error


def _write_error(error: OSError, out_dir: Path) -> FeedtoolError:
    """A full disk, a file-size limit, a read-only or forbidden folder: one message, exit 2."""
    import errno

    where = error.filename or out_dir
    reason = error.strerror or str(error)
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return FeedtoolError(f"cannot write {where}: {reason}; the previous {out_dir} was left as it was",
                             hint="free some disk space (or raise the quota / file size limit) and build again")
    return FeedtoolError(f"cannot build into {out_dir}: {where}: {reason}",
                         hint="check that the folder is writable and the disk is not full; "
                              "the previous output was left as it was")


def _build_locked(
    episodes_dir: Path,
    out_dir: Path,
    *,
    base_url: str | None,
    drafts: bool,
    cache_dir: Path,
    now: datetime | None,
    force: bool,
    progress: Callable[[str], None],
) -> BuildResult:
    from feedtool.archive import render_documents
    from feedtool.guids import GuidLedger
    from feedtool.load import check_across_episodes, episode_folders, load_show
    from feedtool.notes import apple_description, render_html
    from feedtool.site import SiteBuild
    from feedtool.validation.readiness import build_warnings
    from feedtool.validation.sourcemap import write_source_map

    now = now or datetime.now(UTC)
    result = BuildResult(out_dir=out_dir, feed_path=out_dir / "feed.xml")
    state = _read_state(cache_dir)
    if not force and not is_stale(episodes_dir, out_dir, base_url=base_url, drafts=drafts,
                                  cache_dir=cache_dir, now=now):
        summary = state.get("result", {})
        result.episodes = int(summary.get("episodes", 0)) if isinstance(summary, dict) else 0
        result.feed_path = out_dir / str(state.get("feed_name", "feed.xml"))
        result.up_to_date = True
        next_due = state.get("next_due")
        if isinstance(next_due, str):
            result.next_due = datetime.fromisoformat(next_due)
            result.next_due_episode = str(state.get("next_due_episode") or "") or None
        return result

    _check_out_dir(out_dir, episodes_dir)
    show = load_show(episodes_dir, base_url=base_url)
    folders = episode_folders(episodes_dir)
    result.feed_path = out_dir / show.feed_name

    cache = BuildCache(cache_dir)
    staging = out_dir.parent / f".{out_dir.name}.staging"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        ledger = GuidLedger.load(episodes_dir)
        builder = _Builder(episodes_dir, show, staging, cache, result, progress,
                           drafts=drafts, now=now, recorded=ledger.entries)
        check_artwork(show.artwork, what="show artwork", source=show.source, field="artwork",
                      result=result)
        artwork_url = builder.url(builder.output.place_content_named(show.artwork, ""))
        loaded = builder.all_episodes(folders)
        all_episodes = tuple(episode for episode, _ in loaded)
        check_across_episodes(show, all_episodes)
        episodes, next_due = select_episodes(all_episodes, drafts=drafts, now=now, result=result)
        result.warnings.extend(show.warnings)
        for episode in episodes:
            result.warnings.extend(episode.warnings)
        guids = ledger.assign(show, episodes, present={episode.slug for episode in all_episodes},
                              masters={episode.slug: parts.master for episode, parts in loaded if parts})
        result.warnings.extend(ledger.notes)
        for episode, parts in loaded:
            if parts is not None:
                record_into(ledger.entries[episode.slug], parts.records)
        splices = [splice for _, parts in loaded if parts for splice in parts.splices]
        write_splices(staging, splices)
        write_remote_media(staging, {name: size for _, parts in loaded if parts for name, size in parts.remote_media},
                           splices)
        entries = [
            parts.entry(episode, guids[episode.slug])
            for episode, parts in loaded
            if parts is not None
        ]
        site = SiteBuild(builder, entries, artwork_url=artwork_url) if show.site.enabled else None
        show_images = (artwork_image(show.artwork, artwork_url), *builder.images(show.images, ""))
        documents = render_documents(show, site.entries if site else entries, artwork_url=artwork_url,
                                     description_html=apple_description(render_html(show.description)),
                                     images=show_images, url=builder.url,
                                     stylesheets=site.stylesheets if site else None)
        feed = documents[0].data
        for document in documents:
            target = staging / document.relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(document.data)
        result.archive_pages = len(documents) - 1
        # for validate's messages; every entry, archived ones too (--against names their episode.md)
        write_source_map(staging, feed, show=show, entries=entries, out_dir=out_dir)
        result.warnings.extend(build_warnings(show, len(entries)))  # placeholders, no episodes
        if site is not None:
            site.write()  # the website: pages and assets (feedtool/site/)
        (staging / MARKER).write_text(
            json.dumps({"feedtool": __version__, "feed": show.feed_name,
                        "feed_sha256": hashlib.sha256(feed).hexdigest()}, sort_keys=True) + "\n",
            encoding="utf-8",
        )
        write_atomic(staging / FILES_LIST, json.dumps(
            {"version": 1, "files": _list_files(staging)}, sort_keys=True).encode())
        _swap_into_place(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    result.episodes = len(entries)
    if ledger.changed:
        ledger.save()
    cache.save()
    fingerprint = _inputs_fingerprint(episodes_dir, out_dir, _options(base_url, drafts, out_dir))
    write_atomic(cache_dir / STATE_FILE, json.dumps({
        "fingerprint": fingerprint,
        "feed_name": show.feed_name,
        "next_due": next_due.isoformat() if next_due else None,
        "next_due_episode": result.next_due_episode,
        "result": {"episodes": result.episodes},
    }, sort_keys=True).encode())
    return result


def _check_out_dir(out_dir: Path, episodes_dir: Path) -> None:
    """Refuse to replace a folder that is not a feedtool build (or that holds the sources)."""
    resolved = out_dir.resolve()
    sources = episodes_dir.resolve()
    if resolved == sources or sources.is_relative_to(resolved) or resolved.is_relative_to(sources):
        raise FeedtoolError(
            "the output folder overlaps the episodes folder",
            path=out_dir,
            hint="pick an output folder outside episodes/, e.g. --out public",
        )
    if out_dir.exists():
        if not out_dir.is_dir():
            raise FeedtoolError("the output path exists and is not a folder", path=out_dir)
        if any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
            raise FeedtoolError(
                "the output folder is not empty and was not made by feedtool build; "
                "it would be replaced",
                path=out_dir,
                hint="choose another --out folder, or empty this one first",
            )


def _swap_into_place(staging: Path, out_dir: Path) -> None:
    """Replace out_dir with the finished staging tree (the old tree is kept until the swap)."""
    old = out_dir.parent / f".{out_dir.name}.previous"
    if old.exists():
        shutil.rmtree(old)
    if out_dir.exists():
        os.rename(out_dir, old)
    try:
        os.rename(staging, out_dir)
    except OSError:
        if old.exists():
            os.rename(old, out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)

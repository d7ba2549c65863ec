"""Write an episode's chapters, titles and artwork into a copy of its audio file.

Podcast apps that read the file itself (Apple Podcasts, Overcast, Pocket Casts, AntennaPod, car
stereos) show what the audio's own tags say. ``write_tagged_copy`` takes the master in episodes/ and
the metadata feedtool already knows, and writes a tagged copy somewhere else; the master is only
ever read. Only what players show from the file goes in (title, show, author, episode number,
date, cover, chapters): show notes, descriptions and links live in the feed alone, so editing them
never changes the audio or its URL. One adapter per container family does the work:

- ``id3``: MP3, ID3v2.3 with CHAP/CTOC chapters, laid out as ``splice.CopyPlan`` (head + the
  source's audio frames + tail), so a copy can be re-tagged from an earlier copy;
- ``mp4``: M4A/MP4, a QuickTime chapter track plus a Nero ``chpl`` atom, iTunes-style tags;
- ``vorbis``: Ogg Vorbis, Opus and FLAC, ``CHAPTERxxx`` comments.

What is written per format, and why, is in docs/tagging.md.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from feedtool.errors import AudioError, FeedtoolError, TagError
from feedtool.files import new_temp_file
from feedtool.model import Chapter

if TYPE_CHECKING:
    from feedtool.model import Episode, Show

#: Bump when what the adapters write changes, so build re-tags copies made by an older feedtool.
#: 2: no description or link in the tags; MP3 copies no longer carry the master's own ID3 frames.
TAG_LAYOUT_VERSION = 2

#: Kinds this module can tag (feedtool.audio kinds).
KINDS = ("mp3", "m4a", "mp4", "ogg", "opus", "flac")


@dataclass(frozen=True, kw_only=True)
class TagMetadata:
    """Everything that goes into one tagged copy; ``fingerprint`` tells build when to re-tag.

    Only what players show from the file itself (docs/design.md, "Text stays out of the audio"):
    no description and no link, which apps read from the feed, so editing them re-tags nothing.
    """

    title: str  # episode title
    artist: str  # show author
    album: str  # show title
    track: int | None  # episode number
    date: str  # "YYYY-MM-DD", or "" for none
    cover: bytes | None  # JPEG or PNG: the episode's artwork, else the show's
    cover_mime: str | None  # "image/jpeg" | "image/png"
    chapters: tuple[Chapter, ...]
    chapter_images: Mapping[str, bytes] = field(default_factory=dict)  # chapter.image -> bytes

    def fingerprint(self, image_digest: Callable[[bytes], str] | None = None) -> str:
        """sha256 over every field (images by their own sha256) and the tag layout version.

        ``image_digest`` may stand in for hashing each picture (build hashes the show's cover,
        which every episode carries, once per build rather than once per episode).
        """
        image_sha256 = image_digest or (lambda data: hashlib.sha256(data).hexdigest())

        def digest(data: bytes | None) -> str | None:
            return None if data is None else image_sha256(data)

        document = {
            "layout": TAG_LAYOUT_VERSION,
            "title": self.title,
            "artist": self.artist,
            "album": self.album,
            "track": self.track,
            "date": self.date,
            "cover": digest(self.cover),
            "cover_mime": self.cover_mime,
            "chapters": [
                [c.start_s, c.title, c.url, c.image, c.toc, c.end_s] for c in self.chapters
            ],
            "chapter_images": {name: digest(data) for name, data in sorted(self.chapter_images.items())},
        }
        text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_tagged_copy(
    master: Path, dest: Path, meta: TagMetadata, *, kind: str, duration_s: float,
    master_checked: bool = False,
) -> None:
    """Write ``dest``: the master's audio, untouched, with ``meta`` in its tags.

    The master is opened read-only. ``dest`` appears only when complete: the copy is built in a
    temporary file in dest's folder and moved into place with ``os.replace``; on any failure the
    temporary file is removed and a TagError says what to do. ``master_checked=True`` skips the
    checks of the master (kind, truncation) when the caller has just run them: build probes every
    master with feedtool.audio.probe, which runs the same checks.
    """
    master, dest = Path(master), Path(dest)
    if kind not in KINDS:
        raise TagError(
            f"feedtool cannot write chapters into {kind.upper()} audio",
            path=master,
            hint="convert it to M4A (AAC) or MP3, which carry chapters and artwork",
        )
    if dest.exists() and master.exists() and os.path.samefile(master, dest):
        raise TagError(
            "the tagged copy would overwrite the master",
            path=dest,
            hint="write the copy to another file; the master is never modified",
        )
    if not master_checked:
        _check_source(master, kind)
    _write_atomically(master, dest, meta, kind=kind, duration_s=duration_s)


def _write_atomically(master: Path, dest: Path, meta: TagMetadata, *, kind: str, duration_s: float) -> None:
    """Build the copy in a temporary file next to ``dest``, then move it over ``dest``."""
    handle, temp = new_temp_file(dest.parent, "tmp", dest.suffix)  # readable: mode 0o666 less umask
    os.close(handle)
    try:
        _adapter_write(master, temp, meta, kind=kind, duration_s=duration_s)
        os.replace(temp, dest)
    except FeedtoolError:
        temp.unlink(missing_ok=True)
        raise
    except OSError as error:  # the destination side: disk full, no permission ...
        temp.unlink(missing_ok=True)
        raise TagError(
            f"could not write the tagged copy ({error.strerror or error})",
            path=dest,
            hint="check the free space and the permissions of that folder",
        ) from None
    except BaseException:  # a bug, KeyboardInterrupt: still leave nothing behind, hide nothing
        temp.unlink(missing_ok=True)
        raise


def master_error(error: Exception, master: Path) -> TagError:
    """The TagError for a master a library (mutagen, PyAV) could not handle while tagging.

    Adapters convert exactly their library's error types with this (never a bare Exception, which
    would turn feedtool's own bugs into advice about the audio).
    """
    return TagError(
        f"could not write the tagged copy ({type(error).__name__}: {error})",
        path=master,
        hint="check that the audio plays and is not truncated, then export it again",
    )


#: Formats people try to tag that have no place for chapters, and what to convert them to.
NO_CHAPTERS = {
    ".wav": "WAV",
    ".aac": "AAC in ADTS (a raw .aac stream)",
    ".aif": "AIFF",
    ".aiff": "AIFF",
    ".wma": "WMA",
}


def tag_file(
    audio: Path,
    episode_dir: Path,
    *,
    output: Path | None = None,
    in_place: bool = False,
    force: bool = False,
) -> tuple[Path, TagMetadata]:
    """``feedtool tag``: write an episode's tags into any audio file; returns (written file, meta).

    By default the result is a new file next to ``audio`` (``name.tagged.ext``); ``in_place``
    replaces ``audio`` itself, atomically. An existing output is only overwritten with ``force``.
    """
    from feedtool.audio import probe
    from feedtool.errors import InputError

    audio, episode_dir = Path(audio), Path(episode_dir)
    kind_name = NO_CHAPTERS.get(audio.suffix.lower())
    if kind_name is not None:
        raise TagError(
            f"{kind_name} files cannot carry chapters or artwork in their tags",
            path=audio,
            hint="convert it to M4A (AAC) or MP3 first, e.g. "
            f"ffmpeg -i {audio.name} -c:a aac -b:a 128k {audio.stem}.m4a",
        )
    if in_place and output is not None:
        raise InputError("--in-place and --output exclude each other", hint="use one of them")
    if in_place:
        dest = audio
    elif output is not None:
        dest = Path(output)
    else:
        dest = audio.with_name(f"{audio.stem}.tagged{audio.suffix}")
    if not in_place and dest.exists():
        if audio.exists() and os.path.samefile(audio, dest):
            raise TagError(
                "the output is the input file",
                path=dest,
                hint="use --in-place to change the file itself, or choose another --output",
            )
        if not force:
            raise TagError(
                "the output file already exists",
                path=dest,
                hint="pass --force to overwrite it, or choose another --output",
            )
    show, episode = _load_episode(episode_dir)
    meta = metadata_for_episode(show, episode, episode_dir=episode.source.parent)
    info = probe(audio)
    _write_atomically(audio, dest, meta, kind=info.kind, duration_s=info.duration_s)
    return dest, meta


def _load_episode(episode_dir: Path) -> tuple[Show, Episode]:
    """The show and the one episode, without loading (or failing on) the other episodes."""
    from feedtool.errors import InputError
    from feedtool.load import load_episode, load_show

    if episode_dir.name in ("", ".."):  # "." or ".." has no usable parent: the show is above it
        episode_dir = episode_dir.resolve()
    if not (episode_dir / "episode.md").is_file():
        raise InputError(
            "no episode.md in this folder",
            path=episode_dir,
            hint="pass the episode's folder (the one with episode.md) to --episode",
        )
    show = load_show(episode_dir.parent)
    return show, load_episode(episode_dir, show)


def read_chapters(path: Path) -> list[Chapter]:
    """The chapters stored in the file's own tags (empty when it has none).

    The container is recognised by content, so an .m4b audiobook or a misnamed file still works.
    """
    path = Path(path)
    kind = content_kind(path)
    from mutagen import MutagenError

    try:
        if kind == "mp3":
            from feedtool.tagging import id3

            return id3.read_chapters(path)
        if kind in ("m4a", "mp4"):
            from feedtool.tagging import mp4

            return mp4.read_chapters(path)
        from feedtool.tagging import vorbis

        return vorbis.read_chapters(path, kind)
    except MutagenError as error:  # mp4.read_chapters says itself what PyAV could not read
        raise AudioError(
            f"cannot read the chapters in this file ({type(error).__name__}: {error})",
            path=path,
            hint="the file may be corrupt; export it again",
        ) from None


def content_kind(path: Path) -> str:
    """mp3, m4a, ogg, opus or flac, from the file's content; AudioError for anything else."""
    import mutagen
    from mutagen.flac import FLAC
    from mutagen.mp3 import MP3
    from mutagen.mp4 import MP4
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis

    kinds = {MP3: "mp3", MP4: "m4a", OggVorbis: "ogg", OggOpus: "opus", FLAC: "flac"}
    try:
        found = mutagen.File(path, options=list(kinds))
    except FileNotFoundError:
        raise AudioError("audio file not found", path=path, hint="check the file name") from None
    except (mutagen.MutagenError, OSError, ValueError, IndexError) as error:
        raise AudioError(
            f"cannot read this audio file ({error})", path=path, hint="the file may be corrupt"
        ) from None
    if found is None:
        raise AudioError(
            "this file is not MP3, M4A/MP4, Ogg Vorbis, Opus or FLAC audio",
            path=path,
            hint="convert it to M4A (AAC) or MP3",
        )
    return kinds[type(found)]


def metadata_for_episode(show: Show, episode: Episode, *, episode_dir: Path) -> TagMetadata:
    """The TagMetadata build would write for this episode (used by ``feedtool tag``)."""
    from feedtool.files import ShowFolder

    files = ShowFolder(episode_dir.parent)  # every file read from the show passes its check
    artwork = episode.artwork or show.artwork
    cover = mime = None
    if artwork is not None:
        cover = _read_file(files.file(artwork, source=episode.source, field="artwork"), what="artwork")
        mime = image_mime(cover)
        if mime is None:
            raise TagError(
                "the artwork is neither JPEG nor PNG",
                path=artwork,
                hint="export the artwork as a JPEG or PNG file",
            )
    images: dict[str, bytes] = {}
    for chapter in episode.chapters:
        if not chapter.image or chapter.image.startswith(("http://", "https://")):
            continue
        if ".." in Path(chapter.image).parts or Path(chapter.image).is_absolute():
            raise TagError(
                f"chapter image '{chapter.image}' is outside the episode folder",
                path=episode.source,
                field="chapters",
                hint="put chapter images next to episode.md",
            )
        image_path = files.file(episode.chapter_images.get(chapter.image, episode_dir / chapter.image),
                                source=episode.source, field="chapters")
        images[chapter.image] = _read_file(image_path, what="chapter image")
    return TagMetadata(
        title=episode.title,
        artist=show.author,
        album=show.title,
        track=episode.number,
        date=episode.date.strftime("%Y-%m-%d"),
        cover=cover,
        cover_mime=mime,
        chapters=episode.chapters,
        chapter_images=images,
    )


# --------------------------------------------------------------------------------------------
# Helpers shared by the adapters


@dataclass(frozen=True)
class Span:
    """One chapter as it is written into audio: whole milliseconds, end filled in."""

    start_ms: int
    end_ms: int
    chapter: Chapter


def chapter_spans(
    chapters: tuple[Chapter, ...], duration_s: float, *, path: Path, limit: int | None = None
) -> list[Span]:
    """Chapters listed in the table of contents, in time order, each with an end.

    Silent chapters (``toc=False``, artwork changes) stay in the JSON chapters only: a chapter in
    an audio file is always listed by players. A chapter ends where the source says, else at the
    next chapter's start; the last one at the end of the audio.
    """
    duration_ms = max(1, round(duration_s * 1000))
    listed = sorted((c for c in chapters if c.toc), key=lambda c: c.start_s)
    if limit is not None and len(listed) > limit:
        raise TagError(
            f"{len(listed)} chapters do not fit in {path.suffix.lstrip('.').upper() or 'this'} "
            f"audio tags (at most {limit})",
            path=path,
            hint="merge some chapters; the JSON chapters file has no such limit",
        )
    spans: list[Span] = []
    for index, chapter in enumerate(listed):
        start = round(chapter.start_s * 1000)
        if start >= duration_ms:
            raise TagError(
                f"chapter '{chapter.title}' starts at {chapter.start_s:.3f} s, after the end of "
                f"the audio ({duration_s:.3f} s)",
                path=path,
                hint="fix the chapter times or use the right audio file",
            )
        next_start = round(listed[index + 1].start_s * 1000) if index + 1 < len(listed) else duration_ms
        end = round(chapter.end_s * 1000) if chapter.end_s is not None else next_start
        end = min(max(end, start), duration_ms)
        spans.append(Span(start, end, chapter))
    return spans


def image_mime(data: bytes) -> str | None:
    """image/jpeg or image/png from the magic bytes; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def chapter_image(meta: TagMetadata, chapter: Chapter) -> bytes | None:
    """The bytes of a chapter's local image, if it has one and build passed it."""
    if not chapter.image or chapter.image.startswith(("http://", "https://")):
        return None
    return meta.chapter_images.get(chapter.image)


def _adapter_write(master: Path, temp: Path, meta: TagMetadata, *, kind: str, duration_s: float) -> None:
    if kind == "mp3":
        from feedtool.tagging import id3

        id3.write(master, temp, meta, duration_s=duration_s)
    elif kind in ("m4a", "mp4"):
        from feedtool.tagging import mp4

        mp4.write(master, temp, meta, duration_s=duration_s, kind=kind)
    else:
        from feedtool.tagging import vorbis

        vorbis.write(master, temp, meta, kind=kind, duration_s=duration_s)


def _check_source(master: Path, kind: str) -> None:
    """Refuse masters that are missing, empty, truncated or not what ``kind`` says."""
    from feedtool.audio import probe

    info = probe(master)  # missing, empty, unreadable, truncated, an LFS pointer, an extension that lies
    if info.kind != kind and {info.kind, kind} != {"m4a", "mp4"}:
        raise AudioError(
            f"expected {kind.upper()} audio but the content is {info.kind.upper()}",
            path=master,
            hint=f"export the audio again as {kind.upper()}",
        )


def _read_file(path: Path, *, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise TagError(
            f"cannot read the {what} ({error.strerror})",
            path=path,
            hint=f"check that the {what} file exists and is readable",
        ) from None

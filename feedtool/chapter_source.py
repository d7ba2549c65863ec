"""Where `feedtool chapters SOURCE` finds chapters: an episode, show notes, a chapters file, or audio.

SOURCE is recognised by what it is, not only by its name:

- a folder, or a Markdown file that starts with front matter (``---``): an episode. Its chapters
  come from the same place a build takes them (front matter list, chapters file, show-note
  timestamps: load.py's precedence), and are checked against the audio's length when the audio
  is there; when it is not, they are still shown, and the report says the end-of-audio check was
  skipped;
- any other Markdown file (``.md``, ``.markdown``): show notes, read for their timestamp lines;
- an audio file: the chapters in its tags;
- anything else: a chapters file (JSON chapters, "HH:MM:SS Title" lines, Audacity labels).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from feedtool.errors import InputError, excerpt
from feedtool.model import Chapter

AUDIO_SUFFIXES = {".mp3", ".m4a", ".mp4", ".m4b", ".ogg", ".oga", ".opus", ".flac"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}


@dataclass
class ChapterReport:
    """What `feedtool chapters` shows: the chapters, where they came from, and what to know."""

    chapters: list[Chapter]
    origin: str
    duration_s: float | None = None
    notices: list[str] = field(default_factory=list)  # said on stderr, after the count


def read_chapters_from(source: Path) -> ChapterReport:
    """The chapters of any chapter source (see the module's docstring), checked as a build would."""
    from feedtool import chapters as chapter_io

    if source.is_dir():
        episode_file = source / "episode.md"
        if not episode_file.is_file():
            raise InputError("no episode.md in this folder", path=source,
                             hint="pass an episode folder, an episode.md, show notes, a chapters file or audio")
        return _from_episode(episode_file)
    suffix = source.suffix.lower()
    if suffix in MARKDOWN_SUFFIXES:
        from feedtool.load import read_text

        text = read_text(source)
        if source.name == "episode.md" or text.lstrip("\ufeff").split("\n", 1)[0].strip() == "---":
            return _from_episode(source)
        return _from_notes(text, origin=f"the timestamps in {source}", path=source)
    if suffix in AUDIO_SUFFIXES:
        from feedtool.tagging import read_chapters

        return ChapterReport(read_chapters(source), f"the tags of {source}")
    notices: list[str] = []
    found = chapter_io.read_chapters_file(source, notices=notices)
    return ChapterReport(found, str(source), notices=notices)


def _from_notes(notes: str, *, origin: str, path: Path) -> ChapterReport:
    from feedtool import chapters as chapter_io

    found = chapter_io.from_show_notes(notes)
    if not found:
        return ChapterReport([], f"{path} (no chapters: fewer than two timestamp lines)")
    chapter_io.check_chapters(found, duration_s=None, path=path, source=origin)
    return ChapterReport(found, origin)


def _from_episode(path: Path) -> ChapterReport:
    """An episode file's chapters by the build's precedence, checked against its audio if present.

    Uses load.py's own reading of the front matter and its ``_episode_chapters`` (the precedence
    rule lives there, once), but not ``load_episode``, which refuses an episode whose audio is
    missing: showing the chapters of an episode still being edited is what this command is for.
    """
    from feedtool import chapters as chapter_io
    from feedtool.files import ShowFolder
    from feedtool.load import Fields, _chapter_image, _episode_chapters, parse_yaml, read_text, split_front_matter

    files = ShowFolder(path.absolute().parent.parent)  # the show: every file read must stay inside it
    path = files.file(path)
    front, notes, _ = split_front_matter(read_text(path), path=path)
    fields = Fields(parse_yaml(front, path=path, first_line=2), path=path, text=front, first_line=2)
    notices: list[str] = []
    found, origin = _episode_chapters(fields, path.parent, notes, files)
    if not found:
        return ChapterReport([], f"{path} (no chapters found)")
    for chapter in found:  # the same check a build makes of the pictures it would embed and serve
        if chapter.image and not chapter.image.startswith(("http://", "https://")):
            _chapter_image(chapter.image, path.parent, files, path=path, source=origin)
    if Path(origin).is_file():  # a chapters file (checked above): say what in it is not published
        chapter_io.read_chapters_file(files.file(Path(origin)), notices=notices)
    duration = None
    audio_names = fields.items("audio")
    first = str(audio_names[0]).strip() if audio_names else ""
    audio = path.parent / first if first and "://" not in first else None
    if "://" in first:  # a master outside git: not fetched just to show chapters
        notices.append(f"end-of-audio check skipped: the master is at {excerpt(first)} (not fetched)")
    elif audio is not None and audio.is_file():
        from feedtool.audio import probe

        duration = probe(files.file(audio, source=path, field="audio")).duration_s
    else:
        missing = f"the audio file {audio} is missing" if audio is not None else "the episode names no audio"
        notices.append(f"end-of-audio check skipped: {missing}")
    chapter_io.check_chapters(found, duration_s=duration, path=path, source=origin)
    return ChapterReport(found, origin, duration, notices)

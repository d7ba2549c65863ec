"""Where `feedtool chapters SOURCE` finds chapters: an episode, a chapters file, or audio tags."""

from __future__ import annotations

from pathlib import Path

from feedtool.errors import InputError
from feedtool.model import Chapter

AUDIO_SUFFIXES = {".mp3", ".m4a", ".mp4", ".m4b", ".ogg", ".oga", ".opus", ".flac"}


def read_chapters_from(source: Path) -> tuple[list[Chapter], str, float | None]:
    """(chapters, where they came from, audio duration if known) for any chapter source."""
    from feedtool import chapters as chapter_io

    if source.is_dir() or source.name == "episode.md":
        from feedtool.audio import probe
        from feedtool.load import load_episode, load_show

        folder = source if source.is_dir() else source.parent
        if not (folder / "episode.md").is_file():
            raise InputError("no episode.md in this folder", path=folder,
                             hint="pass an episode folder, an episode.md, a chapters file or audio")
        show = load_show(folder.parent)
        episode = load_episode(folder, show)
        duration = probe(episode.audio).duration_s if episode.audio is not None else None  # a draft
        found = list(episode.chapters)
        if found and duration is not None:
            chapter_io.check_chapters(found, duration_s=duration, path=episode.source,
                                      source=episode.chapters_source)
        return found, episode.chapters_source or f"{episode.source} (no chapters found)", duration
    if source.suffix.lower() in AUDIO_SUFFIXES:
        from feedtool.tagging import read_chapters

        return read_chapters(source), f"the tags of {source}", None
    return chapter_io.read_chapters_file(source), str(source), None

"""The source map: which podcast.yaml or episode.md line each part of a built feed comes from.

A podcaster edits episodes/, not public/feed.xml. So `feedtool build` writes, next to the feed,
``public/.feedtool/sources.json`` (a hidden folder: publish never uploads it)::

    {"version": 1, "feed": "feed.xml", "feed_sha256": "...", "root": "..",
     "channel": {"path": "episodes/podcast.yaml", "lines": {"title": 6, "base_url": 14, ...}},
     "items": {"<guid>": {"folder": "coffee-sessions-29", "number": 29,
                          "path": "episodes/coffee-sessions-29/episode.md",
                          "lines": {"title": 2, "audio": 4, ..., "notes": 12}}}}

Paths are relative to the project root (the folder that holds episodes/); ``root`` is that folder
relative to public/. ``lines`` holds the line of each top-level key (``notes``: the first line of
the show notes below the front matter). `feedtool validate` uses the map only when its
``feed_sha256`` is the feed it reads: then each finding names the file, the key to change and its
line (``locate``), and episodes are named by folder and number, e.g. ``coffee-sessions-29 (#29)``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feedtool.validation.registry import source_fields
from feedtool.validation.report import Finding

if TYPE_CHECKING:
    from feedtool.feed import EpisodeEntry
    from feedtool.model import Show

#: Where the map lives, relative to the build's output folder.
MAP_PATH = Path(".feedtool") / "sources.json"
VERSION = 1


# --- writing (build) ---------------------------------------------------------------------------------
def write_source_map(out: Path, feed: bytes, *, show: Show, entries: Iterable[EpisodeEntry], out_dir: Path) -> None:
    """Write ``out``/.feedtool/sources.json for ``feed`` (``out`` is the staging copy of ``out_dir``)."""
    from feedtool.files import write_atomic

    episodes_dir = show.source.parent
    project_root = episodes_dir.resolve().parent
    episodes_rel = Path(os.path.relpath(episodes_dir.resolve(), project_root)).as_posix()

    def relative(path: Path) -> str:
        if path.parent.parent == episodes_dir:  # <episodes>/<slug>/episode.md: no file-system call
            return f"{episodes_rel}/{path.parent.name}/{path.name}"
        return Path(os.path.relpath(path.resolve(), project_root)).as_posix()

    items: dict[str, Any] = {}
    for entry in entries:
        episode = entry.episode
        items[entry.guid] = {"folder": episode.slug, "number": episode.number, "path": relative(episode.source),
                             "lines": _episode_lines(episode.source)}
    data = {
        "version": VERSION,
        "feed": show.feed_name,
        "feed_sha256": hashlib.sha256(feed).hexdigest(),
        "root": Path(os.path.relpath(project_root, out_dir.absolute())).as_posix(),
        "channel": {"path": relative(show.source), "lines": _show_lines(show.source)},
        "items": items,
    }
    target = out / MAP_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    # compact: json's C encoder (an indent would switch to the Python one, 10x slower at 3,000 episodes)
    write_atomic(target, (json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
                          + "\n").encode())


def _show_lines(path: Path) -> dict[str, int]:
    from feedtool.errors import InputError
    from feedtool.load import key_lines, read_text

    try:
        return key_lines(read_text(path))
    except (OSError, InputError):  # loaded a moment ago; if it changed since, the map just has no lines
        return {}


def _episode_lines(path: Path) -> dict[str, int]:
    from feedtool.errors import InputError
    from feedtool.load import key_lines, read_text, split_front_matter

    try:
        front, _, body_line = split_front_matter(read_text(path), path=path)
    except (OSError, InputError):
        return {}
    lines = key_lines(front, 2)
    lines["notes"] = body_line
    return lines


# --- reading (validate) ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SourceFile:
    """A podcast.yaml or episode.md: its path as shown to the user and the line of each key."""

    path: str
    lines: dict[str, int]
    label: str | None = None  # an episode: "coffee-sessions-29 (#29)"


@dataclass(frozen=True, slots=True)
class SourceMap:
    channel: SourceFile
    items: dict[str, SourceFile]  # by guid


def load_source_map(feed_path: Path, data: bytes) -> SourceMap | None:
    """The map next to a built feed, when it was written for exactly these bytes; else None."""
    try:
        raw = json.loads((feed_path.parent / MAP_PATH).read_text(encoding="utf-8"))
        if (not isinstance(raw, dict) or raw.get("version") != VERSION or raw.get("feed") != feed_path.name
                or raw.get("feed_sha256") != hashlib.sha256(data).hexdigest()):
            return None
        root = (feed_path.parent / str(raw.get("root", ".."))).resolve()
        channel = raw["channel"]
        items = {
            str(guid): SourceFile(_shown(root, item["path"]), _lines(item.get("lines")),
                                  _label(str(item["folder"]), item.get("number")))
            for guid, item in dict(raw["items"]).items()
        }
        return SourceMap(SourceFile(_shown(root, channel["path"]), _lines(channel.get("lines"))), items)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # no map, or not one this version wrote: findings stay in the feed's terms


def _shown(root: Path, relative: str) -> str:
    """A source path as the user would type it from here (relative to the working folder)."""
    path = root / relative
    try:
        return Path(os.path.relpath(path)).as_posix()
    except ValueError:  # another drive (Windows)
        return path.as_posix()


def _lines(value: object) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, int) and not isinstance(v, bool)}


def _label(folder: str, number: object) -> str:
    return f"{folder} (#{number})" if isinstance(number, int) and not isinstance(number, bool) else folder


def episode_of(sources: SourceMap | None, guid: str | None) -> SourceFile | None:
    """The episode.md an item of the feed comes from (by its guid)."""
    if sources is None or not guid:
        return None
    return sources.items.get(guid)


def locate(findings: Iterable[Finding], sources: SourceMap) -> list[Finding]:
    """The findings, each placed in the file and at the key the podcaster edits (where there is one)."""
    return [_locate(finding, sources) for finding in findings]


def _locate(finding: Finding, sources: SourceMap) -> Finding:
    if finding.scope == "item":
        episode = sources.items.get(finding.item_guid or "")
        if episode is None:
            return finding
        fields = source_fields(finding.rule, "item", finding.subject)
        path, line, field = _find(fields, episode, sources.channel)
        return dataclasses.replace(finding, episode=episode.label, source_path=path, source_line=line,
                                   source_field=field)
    if finding.scope == "channel":
        fields = source_fields(finding.rule, "channel", finding.subject)
        path, line, field = _find(fields, sources.channel, None)
        return dataclasses.replace(finding, source_path=path, source_line=line, source_field=field)
    return finding


def _find(fields: tuple[str, ...], own: SourceFile,
          fallback: SourceFile | None) -> tuple[str, int | None, str | None]:
    """The first key the podcaster wrote in their own file, else in the show file (inherited
    values such as explicit or people), else their own file without a line."""
    for source in (own, fallback):
        if source is None:
            continue
        for field in fields:
            line = source.lines.get(field)
            if line is not None:
                return source.path, line, field
    return own.path, None, fields[0] if fields else None

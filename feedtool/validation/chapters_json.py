"""JSON chapters files (PN jsonChapters.md 1.2) as apps read them, and comparing chapter lists."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeGuard

#: start times closer than this are the same chapter (show notes give whole seconds)
SAME_START_S = 1.5


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_chapters_json(emit: Callable[..., None], data: bytes, *, item: Any, el: Any, url: str,
                        duration: float | None) -> tuple[list[float], list[float]] | None:
    """Check one chapters file; return the start times of all chapters and of those in the table of
    contents (silent toc=false chapters excluded), for the agreement check, when usable."""
    subject = "podcast:chapters@url"

    def say(rule: str, message: str) -> None:
        emit(rule, f"{url}: {message}", node=item, el=el, subject=subject)

    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        say("chapters.unreadable", f"not JSON ({error})")
        return None
    if not isinstance(doc, dict):
        say("chapters.unreadable", "the file is not a JSON object")
        return None
    if not isinstance(doc.get("version"), str) or not doc["version"].strip():
        say("chapters.version", "no \"version\" string")
    chapters = doc.get("chapters")
    if not isinstance(chapters, list) or not chapters:
        say("chapters.list", "no \"chapters\" list" if not isinstance(chapters, list) else "the chapters list is empty")
        return None
    starts: list[float] = []
    toc_starts: list[float] = []
    previous: float | None = None
    for number, chapter in enumerate(chapters, start=1):
        if not isinstance(chapter, dict):
            say("chapters.list", f"chapter {number} is not an object")
            continue
        start = chapter.get("startTime")
        if not _is_number(start) or start < 0:
            say("chapters.start", f"chapter {number} has startTime {json.dumps(start)}; it must be a number >= 0")
            continue
        starts.append(float(start))
        if chapter.get("toc") is not False:
            toc_starts.append(float(start))
        if previous is not None and start < previous:
            say("chapters.order", f"chapter {number} starts at {start} s, before chapter {number - 1} ({previous} s)")
        previous = start
        title = chapter.get("title")
        if (not isinstance(title, str) or not title.strip()) and chapter.get("toc") is not False:
            say("chapters.title", f"chapter {number} (at {start} s) has no title")
        end = chapter.get("endTime")
        if end is not None:
            if not _is_number(end) or end <= start:
                say("chapters.end", f"chapter {number} ends at {json.dumps(end)}, not after its start {start}")
            elif duration is not None and end > duration + 1:
                say("chapters.duration", f"chapter {number} ends at {end} s, after the end of the episode "
                    f"({duration:.0f} s)")
        if duration is not None and start >= duration:
            say("chapters.duration", f"chapter {number} starts at {start} s, at or after the end of the episode "
                f"({duration:.0f} s)")
        for key in ("img", "url"):
            value = chapter.get(key)
            if value is not None and not (isinstance(value, str) and value.startswith("https://")):
                say("chapters.field", f"chapter {number} has {key} {json.dumps(value)}; use an absolute https URL")
        if "toc" in chapter and not isinstance(chapter["toc"], bool):
            say("chapters.field", f"chapter {number} has toc {json.dumps(chapter['toc'])}; use true or false")
        location = chapter.get("location")
        if location is not None and not (isinstance(location, dict) and isinstance(location.get("name"), str)
                                         and isinstance(location.get("geo"), str)):
            say("chapters.field", f"chapter {number} has a location without both name and geo")
    return (starts, toc_starts) if starts else None


def compare_chapter_lists(a: list[float], b: list[float]) -> str | None:
    """Why two lists of chapter starts are not the same chapters; None when they agree."""
    if len(a) != len(b):
        return f"{len(a)} chapters against {len(b)}"
    for number, (x, y) in enumerate(zip(a, b, strict=True), start=1):
        if abs(x - y) > SAME_START_S:
            return f"chapter {number} starts at {_clock(x)} in one and {_clock(y)} in the other"
    return None


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"

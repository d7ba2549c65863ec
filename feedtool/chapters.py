"""Chapters: timestamps <-> ``Chapter`` lists, and the JSON chapters file apps fetch.

Chapters reach feedtool in four shapes: timestamp lines in the show notes (the way YouTube and most
podcasters write them), a chapters file next to the episode (JSON chapters, ``HH:MM:SS Title`` text,
or Audacity labels), or an explicit list in the episode's front matter. Each reader turns its shape
into plain ``Chapter`` objects; ``check_chapters`` then decides whether they fit the audio, so every
source gets the same rules and the same kind of message. ``to_json`` writes the Podcasting 2.0 JSON
chapters file (version 1.2.0) byte-for-byte reproducibly, so an unchanged episode never re-uploads.

Only the standard library is used here (and feedtool.sanitize's rule for control characters).
"""

from __future__ import annotations

import functools
import json
import json.decoder
import json.scanner
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeGuard

from feedtool.errors import ChapterError, excerpt
from feedtool.model import Chapter, Location
from feedtool.sanitize import without_control_characters

__all__ = [
    "check_chapters",
    "format_timestamp",
    "from_front_matter",
    "from_show_notes",
    "markdown_lines",
    "parse_chapter_line",
    "parse_timestamp",
    "read_chapters_file",
    "timestamp_lines",
    "to_json",
    "with_end_times",
]

JSON_CHAPTERS_VERSION = "1.2.0"

#: Slack allowed between a chapter's end and the audio's duration (encoders pad and round).
END_TOLERANCE_S = 0.5

# --------------------------------------------------------------------------------------------
# Timestamps
# --------------------------------------------------------------------------------------------

_TIMESTAMP = re.compile(
    r"""
    (?:(?P<h>\d+):(?P<hm>[0-5]\d):(?P<hs>[0-5]\d)   # H:MM:SS, HH:MM:SS
      |(?P<m>\d+):(?P<ms>[0-5]\d)                   # M:SS, MM:SS (MM may be >= 60)
      |(?P<s>\d+)                                   # plain seconds
    )
    (?P<frac>[.,]\d+)?
    """,
    re.VERBOSE,
)


def parse_timestamp(text: str) -> float:
    """Seconds from ``HH:MM:SS(.mmm)``, ``H:MM:SS``, ``MM:SS``, ``M:SS`` or plain seconds ``93.5``.

    Minutes of 60 or more are accepted in the two-part form (``75:10`` is 1:15:10), as people
    write long episodes that way. A comma works as the decimal mark too (SubRip style).
    Raises ``ValueError`` for anything else, including negative times.
    """
    match = _TIMESTAMP.fullmatch(text.strip())
    if not match:
        raise ValueError(f"not a timestamp: {text!r} (expected HH:MM:SS, MM:SS or seconds)")
    if match["h"] is not None:
        whole = int(match["h"]) * 3600 + int(match["hm"]) * 60 + int(match["hs"])
    elif match["m"] is not None:
        whole = int(match["m"]) * 60 + int(match["ms"])
    else:
        whole = int(match["s"])
    frac = (match["frac"] or "").replace(",", ".")
    # Building the decimal text and converting once gives the float nearest to the written value,
    # the same one ``ms / 1000`` gives, so timestamps survive a format/parse round trip exactly.
    return float(f"{whole}{frac}")


def format_timestamp(seconds: float, *, millis: bool = False) -> str:
    """``HH:MM:SS`` (or ``HH:MM:SS.mmm``) for a time in seconds; without millis it truncates.

    Truncating keeps a chapter at 3723.5 s labelled 01:02:03, where the listener hears it begin.
    """
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"cannot format {seconds!r} as a timestamp")
    total_ms = round(seconds * 1000)
    whole, ms = divmod(total_ms, 1000)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{text}.{ms:03d}" if millis else text


# --------------------------------------------------------------------------------------------
# One chapter line: "[00:00] Title", "00:00 - Title", "**1:02:03** Title", "(12:30) Title" ...
# --------------------------------------------------------------------------------------------

# A clock time as people write it in text: H:MM:SS / HH:MM:SS, or M:SS up to MMM:SS; never part of
# a longer number or a longer clock ("10:30:45:12" is not one).
_CLOCK = r"(?:\d{1,2}:[0-5]\d:[0-5]\d|\d{1,3}:[0-5]\d)(?:\.\d{1,3})?(?!\d|:\d|\.\d)"
_EM = r"[*_]{0,3}"
_DASH = r"\s*[-\u2013\u2014]\s*"

#: Quote, list bullet or number before the timestamp: "> ", "- ", "* ", "+ ", "• ", "1. ", "2) ".
_PREFIX = re.compile(r"(?:>\s*)*(?:[-*+\u2022]\s+|\d{1,3}[.)]\s+)?")

#: The timestamp a chapter line starts with, optionally a range ("00:00 - 05:00"), optionally in
#: brackets or parentheses, optionally emphasised, optionally the text of a link ("[00:00](url)").
_LEAD = re.compile(
    rf"""
    (?P<em>{_EM})
    (?P<open>[\[(]?)
    {_EM}
    (?P<start>{_CLOCK})
    (?:{_DASH}(?P<end>{_CLOCK}))?
    {_EM}
    (?P<close>[\])]?)
    (?:(?<=\])\((?P<link>[^)\s]*)\))?
    (?P<em_after>{_EM})
    """,
    re.VERBOSE,
)

#: A further timestamp inside a chapter line, in brackets or parentheses ("... [39:37] Next").
_BRACKETED = re.compile(
    rf"(?<!\S){_EM}(?P<open>[\[(]){_EM}(?P<start>{_CLOCK}){_EM}(?P<close>[\])])"
    rf"(?:(?<=\])\([^)\s]*\))?{_EM}(?=$|\s)"
)
#: A further bare timestamp, separated by whitespace ("00:00 Intro 05:00 Topic").
_BARE = re.compile(rf"(?<!\S){_EM}(?P<start>{_CLOCK}){_EM}(?=$|\s|[:|\-\u2013\u2014](?:\s|$))")

#: Spans in which a time is part of an address, not a chapter: URLs and Markdown link targets.
_URLISH = re.compile(r"https?://\S+|www\.\S+|\]\([^)]*\)")

#: A Markdown link; its URL may hold balanced parentheses, as Wikipedia's do ("Foo_(bar)").
_LINK = re.compile(r"\[(?P<text>[^\]]*)\]\((?P<url>(?:[^()\s]|\([^()\s]*\))+)(?:\s+\"[^\"]*\")?\)")
_LEADING_SEPARATOR = re.compile(r"^[-\u2013\u2014:|]\s*")
_TRAILING_SEPARATOR = re.compile(r"\s*[-\u2013\u2014:|,;]$")
_PAIRS = {"": "", "[": "]", "(": ")"}
_SEPARATORS = "-\u2013\u2014:|,;"


@dataclass(frozen=True)
class _Lead:
    start_s: float
    end_s: float | None
    bare: bool  # written without brackets: further bare times on the line split it too
    rest: str  # the text after the timestamp
    open_emphasis: str  # emphasis opened before the time and not closed right after it


def _match_lead(line: str) -> _Lead | None:
    """The timestamp a chapter line starts with, or None when the line is not a chapter line."""
    prefix = _PREFIX.match(line)
    pos = prefix.end() if prefix else 0
    match = _LEAD.match(line, pos)
    if not match or _PAIRS[match["open"]] != match["close"]:
        return None
    rest = line[match.end() :]
    if not match["open"] and rest and not (rest[0].isspace() or rest[0] in _SEPARATORS):
        return None  # "10:30am", "12:30pm": a time of day in prose, not a chapter
    start = parse_timestamp(match["start"])
    end = parse_timestamp(match["end"]) if match["end"] else None
    em = match["em"]
    open_emphasis = "" if match["em_after"] == em[::-1] else em
    return _Lead(start, end, bare=not match["open"], rest=rest, open_emphasis=open_emphasis)


def _split_points(rest: str, *, bare: bool) -> list[re.Match[str]]:
    """Further timestamps in the text after a chapter's timestamp, outside any URL."""
    if ":" not in rest:  # no clock without a colon
        return []
    masked = _URLISH.sub(lambda m: " " * len(m.group()), rest)
    found = [m for m in _BRACKETED.finditer(masked) if _PAIRS[m["open"]] == m["close"]]
    if bare:
        taken = [(m.start(), m.end()) for m in found]
        found += [
            m
            for m in _BARE.finditer(masked)
            if not any(a <= m.start() < b for a, b in taken)
        ]
    return sorted(found, key=lambda m: m.start())


def _make_chapter(
    start_s: float, text: str, *, end_s: float | None = None, more_follows: bool = False,
    open_emphasis: str = "",
) -> Chapter:
    """A chapter from the text after its timestamp: separators trimmed, a Markdown link unpacked."""
    title = text.strip()
    if open_emphasis and title.endswith(open_emphasis[::-1]):
        title = title[: -len(open_emphasis)].rstrip()
    title = _LEADING_SEPARATOR.sub("", title, count=1).strip()
    if title.endswith("\\"):  # a Markdown hard line break
        title = title[:-1].rstrip()
    if more_follows:
        title = _TRAILING_SEPARATOR.sub("", title).strip()
    url = None
    if "](" in title:  # a Markdown link: its text stays in the title, its URL is the chapter's
        links = list(_LINK.finditer(title))
        url = links[0]["url"] if len(links) == 1 and _is_absolute_url(links[0]["url"]) else None
        title = _LINK.sub(lambda m: m["text"], title)
    title = without_control_characters(title).strip()
    return Chapter(start_s=start_s, title=title, url=url, end_s=end_s)


def parse_chapter_line(line: str, *, split: bool = True) -> list[Chapter]:
    """The chapters on one line of text, or [] when the line does not start with a timestamp.

    This is THE definition of a timestamp line: show notes (``timestamp_lines``), and through
    them the HTML of the notes (notes.py keeps each such line on a line of its own), and text
    chapters files all ask this function. With ``split``, a line holding several timestamps
    ("[37:43] Annotation [39:37] Next") gives one chapter for each. Bracketed timestamps always
    split; bare ones only when the line itself starts with a bare timestamp, so
    "[12:00] We met at 10:30" stays one chapter.
    """
    if ":" not in line:  # every timestamp has one; most lines of notes have none
        return []
    return list(_chapters_on_line(line.strip(), split))


@lru_cache(maxsize=4096)
def _chapters_on_line(text: str, split: bool) -> tuple[Chapter, ...]:
    """``parse_chapter_line``'s work, remembered: a build reads every line of the notes twice (for
    the chapters when it loads the episode, for the line breaks when it renders the notes)."""
    lead = _match_lead(text)
    if lead is None:
        return ()
    points = _split_points(lead.rest, bare=lead.bare) if split else []
    chapters: list[Chapter] = []
    start_s, end_s, text_from = lead.start_s, lead.end_s, 0
    for point in points:
        chapters.append(
            _make_chapter(
                start_s, lead.rest[text_from : point.start()], end_s=end_s, more_follows=True,
                open_emphasis=lead.open_emphasis,
            )
        )
        start_s, end_s, text_from = parse_timestamp(point["start"]), None, point.end()
    chapters.append(
        _make_chapter(start_s, lead.rest[text_from:], end_s=end_s, open_emphasis=lead.open_emphasis)
    )
    return tuple(chapters)


# --------------------------------------------------------------------------------------------
# Show notes
# --------------------------------------------------------------------------------------------

#: A fenced code block's opening or closing line: ``` or ~~~ (3 or more), also indented (in a list
#: item) or quoted.
_FENCE = re.compile(r"(?:[ \t]*>)*[ \t]*(`{3,}|~{3,})(.*)")
#: Line endings as CommonMark counts them (not the vertical tab, form feed or U+2028 that
#: ``str.splitlines`` would also split at).
_LINE_END = re.compile(r"\r\n|\r|\n")


def markdown_lines(text: str) -> list[str]:
    """The lines of a Markdown text, split where a Markdown renderer starts a new line."""
    return _LINE_END.split(text)


def timestamp_lines(lines: list[str]) -> Iterator[tuple[int, list[Chapter]]]:
    """(index, chapters) for every line of Markdown show notes that is a timestamp line.

    ``lines`` are ``markdown_lines(notes)``. A line is a timestamp line when ``parse_chapter_line``
    finds a chapter on it (after an optional quote, bullet, number, emphasis or bracket); a time
    in the middle of prose or inside a URL (``&t=5s``, ``?t=1:23``) is not one. Lines inside a
    fenced code block are never timestamp lines. Both ``from_show_notes`` and the notes' HTML
    (notes.py) take their timestamp lines from here, so the chapters apps read and the lines
    Apple sees in the description always agree.
    """
    fence: str | None = None  # the opening fence while inside a fenced code block
    for index, line in enumerate(lines):
        fenced = _FENCE.match(line)
        if fence is not None:
            if fenced and fenced[1].startswith(fence) and not fenced[2].strip():
                fence = None  # a closing fence: the same character, at least as long, nothing after
            continue
        if fenced and not (fenced[1][0] == "`" and "`" in fenced[2]):
            fence = fenced[1]
            continue
        found = parse_chapter_line(line)
        if found:
            yield index, found


def from_show_notes(text: str) -> list[Chapter]:
    """Chapters from the timestamp lines of Markdown show notes; [] when fewer than two are found.

    All timestamp lines (see ``timestamp_lines``) are taken, in order of appearance; whether they
    make sense together is for ``check_chapters`` to say.
    """
    chapters = [chapter for _, found in timestamp_lines(markdown_lines(text)) for chapter in found]
    return chapters if len(chapters) >= 2 else []


# --------------------------------------------------------------------------------------------
# Chapters files
# --------------------------------------------------------------------------------------------

_FORMATS_HINT = (
    "use JSON chapters ({\"version\": \"1.2.0\", \"chapters\": [{\"startTime\": 0, \"title\": \"Intro\"}]}), "
    "one \"HH:MM:SS Title\" line per chapter, or an Audacity label export (start<TAB>end<TAB>label)"
)
#: "{" or a JSON array opening; "[00:00] Intro" is a text line, not JSON.
_LOOKS_LIKE_JSON = re.compile(r"\s*(?:\{|\[\s*(?:[{\]\[]|$))")
_AUDACITY_LINE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\t(\d+(?:[.,]\d+)?)(?:\t(.*))?$")


def read_chapters_file(path: Path, *, notices: list[str] | None = None) -> list[Chapter]:
    """Chapters from a file next to the episode: JSON chapters, timestamp lines or Audacity labels.

    The format is recognised from the content (a ``.json`` name or a leading ``{`` means JSON; tab
    separated seconds mean Audacity labels; anything else is read as ``HH:MM:SS Title`` lines).
    Errors name the file, the line and what to change, quoting at most a short excerpt of a line.
    What a JSON file holds that feedtool does not publish is said in ``notices``, if given.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ChapterError(
            f"cannot read chapters file: {err.strerror or err}", path=path,
            hint="check that the file exists and is readable",
        ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise ChapterError(
            f"chapters file is not UTF-8 (byte 0x{data[err.start]:02x} cannot be decoded)",
            path=path, line=line, hint="save the file as UTF-8 in your editor and build again",
        ) from None
    if "\0" in text:  # never quote such a file: it may be /proc/self/environ behind a link
        raise ChapterError(
            "chapters file is not a text file (it holds NUL bytes)", path=path,
            hint="point to a JSON chapters file, \"HH:MM:SS Title\" lines or Audacity labels",
        )
    if path.suffix.lower() == ".json" or _LOOKS_LIKE_JSON.match(text):
        return _read_json(text, path, notices)
    lines = _data_lines(text)
    if not lines:
        raise ChapterError("chapters file has no chapters", path=path, hint=_FORMATS_HINT)
    if "\t" in lines[0][1] and _AUDACITY_LINE.match(lines[0][1]):
        return _read_audacity(lines, path)
    return _read_text(lines, path)


def _data_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) for every line that is not blank and not a # comment."""
    return [
        (number, line.rstrip("\r\n"))
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _read_text(lines: list[tuple[int, str]], path: Path) -> list[Chapter]:
    chapters = []
    for number, line in lines:
        found = parse_chapter_line(line, split=False)
        if not found:
            raise ChapterError(
                f"not a chapter line: \"{excerpt(line)}\"", path=path, line=number,
                hint="start the line with the chapter's time, e.g. \"00:01:24 Title\" or \"01:24 Title\"; "
                "put comments after a #",
            )
        chapters.extend(found)
    return chapters


def _read_audacity(lines: list[tuple[int, str]], path: Path) -> list[Chapter]:
    chapters = []
    for number, line in lines:
        if line.startswith("\\"):  # Audacity's spectral-selection line under a label
            continue
        match = _AUDACITY_LINE.match(line)
        if not match:
            raise ChapterError(
                f"not an Audacity label line: \"{excerpt(line)}\"", path=path, line=number,
                hint="each line must be start<TAB>end<TAB>label with times in seconds "
                "(Audacity: File > Export > Export Labels)",
            )
        start = float(match[1].replace(",", "."))
        end = float(match[2].replace(",", "."))
        chapters.append(Chapter(start_s=start, title=without_control_characters(match[3] or "").strip(),
                                end_s=end if end > start else None))
    return chapters


class _LocatedDict(dict[str, Any]):
    """A JSON object that remembers the line it started on, for messages about its contents."""

    line: int = 0


def _located_decoder(text: str) -> json.JSONDecoder:
    """A JSON decoder whose objects carry their line numbers and which refuses NaN/Infinity."""

    def reject_constant(name: str) -> None:
        raise ValueError(f"{name} is not allowed in JSON chapters")

    decoder = json.JSONDecoder(parse_constant=reject_constant)

    def parse_object(s_and_end: tuple[str, int], *args: Any) -> tuple[_LocatedDict, int]:
        s, end = s_and_end
        obj, new_end = json.decoder.JSONObject(s_and_end, *args)  # type: ignore[attr-defined]
        located = _LocatedDict(obj)
        located.line = s.count("\n", 0, end) + 1
        return located, new_end

    decoder.parse_object = parse_object  # type: ignore[attr-defined]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    return decoder


def _line_of(obj: object) -> int | None:
    return obj.line if isinstance(obj, _LocatedDict) else None


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


#: Keys of a chapter in JSON chapters 1.2, all of them read and written back.
_JSON_CHAPTER_KEYS = ("startTime", "endTime", "title", "img", "url", "toc", "location")
#: Top-level keys feedtool writes itself (from the show and the episode), whatever the file says.
_JSON_HEADER_KEYS = ("version", "chapters", "title", "podcastName", "author", "fileName")


def _quoted(value: object) -> str:
    """A value from a chapters source, for a message: short and escaped (feedtool.errors.excerpt)."""
    return excerpt(repr(dict(value)) if isinstance(value, _LocatedDict) else repr(value))


def _read_json(text: str, path: Path, notices: list[str] | None = None) -> list[Chapter]:
    try:
        doc = _located_decoder(text).decode(text)
    except json.JSONDecodeError as err:
        raise ChapterError(
            f"chapters file is not valid JSON: {err.msg} (column {err.colno})",
            path=path, line=err.lineno, hint="fix the JSON syntax (a JSON linter shows where)",
        ) from None
    except ValueError as err:
        raise ChapterError(f"chapters file is not valid JSON: {err}", path=path, hint=_FORMATS_HINT) from None

    def shape_error(message: str, obj: object, hint: str = _FORMATS_HINT) -> ChapterError:
        return ChapterError(message, path=path, line=_line_of(obj), hint=hint)

    def notice(message: str, obj: object) -> None:
        if notices is not None:
            line = _line_of(obj)
            notices.append(f"{path}{f':{line}' if line else ''}: {message}")

    if not isinstance(doc, dict):
        raise shape_error("JSON chapters must be an object with \"version\" and \"chapters\"", doc)
    items = doc.get("chapters")
    if not isinstance(items, list):
        raise shape_error("JSON chapters have no \"chapters\" list", doc)
    if not items:
        raise shape_error("JSON chapters file has an empty \"chapters\" list", doc)
    for key in doc:
        if key not in _JSON_HEADER_KEYS:
            notice(f"\"{excerpt(key)}\" is not published (feedtool writes the file's header itself)", doc)
    chapters = []
    for number, item in enumerate(items, start=1):
        where = f"chapter {number}"
        if not isinstance(item, dict):
            raise shape_error(f"{where} is not an object", doc)
        start = item.get("startTime")
        if not _is_number(start) or float(start) < 0:
            raise shape_error(
                f"{where}: \"startTime\" must be a number of seconds >= 0, not {_quoted(start)}", item,
                hint="write the start in seconds, e.g. \"startTime\": 84.5 for 00:01:24.5",
            )
        title = item.get("title", "")
        if not isinstance(title, str):
            raise shape_error(f"{where}: \"title\" must be a string, not {_quoted(title)}", item)
        for key in ("img", "url"):
            if item.get(key) is not None and not isinstance(item[key], str):
                raise shape_error(f"{where}: \"{key}\" must be a URL string, not {_quoted(item[key])}", item)
        url = item.get("url") or None
        if url is not None and not _is_absolute_url(url):
            raise shape_error(
                f"{where}: \"url\" must be an http(s) URL, not {_quoted(url)}", item,
                hint="write the whole address, e.g. \"url\": \"https://example.com/page\"",
            )
        toc = item.get("toc", True)
        if not isinstance(toc, bool):
            raise shape_error(f"{where}: \"toc\" must be true or false, not {_quoted(toc)}", item)
        end = item.get("endTime")
        if end is not None and not _is_number(end):
            raise shape_error(f"{where}: \"endTime\" must be a number of seconds, not {_quoted(end)}", item)
        location = _json_location(item.get("location"), where, shape_error, item)
        for key in item:
            if key not in _JSON_CHAPTER_KEYS:
                notice(f"{where}: \"{excerpt(key)}\" is not a JSON chapters key and is not published "
                       f"(a chapter may have: {', '.join(_JSON_CHAPTER_KEYS)})", item)
        chapters.append(
            Chapter(
                start_s=float(start), title=without_control_characters(title), url=url, image=item.get("img"),
                toc=toc, end_s=float(end) if end is not None else None, location=location,
            )
        )
    return chapters


def _json_location(
    value: object, where: str, shape_error: Callable[..., ChapterError], item: object
) -> Location | None:
    """A chapter's ``location``: {"name": ..., "geo": "geo:lat,lon", "osm": ...} (name and geo required)."""
    if value is None:
        return None
    hint = 'write e.g. "location": {"name": "Austin, TX", "geo": "geo:30.2672,-97.7431", "osm": "R113314"}'
    if not isinstance(value, dict):
        raise shape_error(f"{where}: \"location\" must be an object, not {_quoted(value)}", item, hint)
    name, geo, osm = value.get("name"), value.get("geo"), value.get("osm")
    if not isinstance(name, str) or not name.strip():
        raise shape_error(f"{where}: \"location\" needs a \"name\" (text)", item, hint)
    if not isinstance(geo, str) or not geo.startswith("geo:"):
        raise shape_error(f"{where}: \"location\" needs a \"geo\" URI (\"geo:latitude,longitude\"), "
                          f"not {_quoted(geo)}", item, hint)
    if osm is not None and not isinstance(osm, str):
        raise shape_error(f"{where}: \"location\" \"osm\" must be text, not {_quoted(osm)}", item, hint)
    return Location(name=without_control_characters(name).strip(), geo=geo, osm=osm)


# --------------------------------------------------------------------------------------------
# Front matter
# --------------------------------------------------------------------------------------------

_FRONT_MATTER_KEYS = {"start", "title", "url", "image", "toc", "end"}


def _front_matter_time(value: object, *, what: str, path: Path, line: int | None, field: str) -> float:
    """Seconds from a front-matter time: a timestamp string or a number of seconds.

    PyYAML follows YAML 1.1, where an unquoted ``1:24`` is the base-60 integer 84, which is the
    right number of seconds, so numbers are taken as seconds.
    """
    if _is_number(value):
        if value < 0:
            raise ChapterError(f"{what} is negative", path=path, line=line, field=field)
        return float(value)
    if isinstance(value, str):
        try:
            return parse_timestamp(value)
        except ValueError:
            pass
    raise ChapterError(
        f"{what} {_quoted(value)} is not a time", path=path, line=line, field=field,
        hint="write it as \"HH:MM:SS\" (quoted), e.g. start: \"00:01:24\", or as seconds, e.g. start: 84",
    )


def from_front_matter(items: list[Any], *, path: Path, line: int | None) -> list[Chapter]:
    """The explicit ``chapters:`` list of episode.md's front matter.

    Each item is either ``{start, title, url?, image?, toc?, end?}`` or a string "00:01:24 Title".
    """
    if not isinstance(items, list):
        raise ChapterError(
            "chapters must be a list", path=path, line=line, field="chapters",
            hint="write one item per chapter, e.g.\n     chapters:\n       - {start: \"00:00\", title: Intro}"
            "\n       - \"00:01:24 Main topic\"",
        )
    chapters = []
    for index, item in enumerate(items):
        field = f"chapters[{index}]"
        if isinstance(item, str):
            found = parse_chapter_line(item, split=False)
            if not found:
                raise ChapterError(
                    f"{_quoted(item)} does not start with a time", path=path, line=line, field=field,
                    hint="write \"HH:MM:SS Title\", e.g. \"00:01:24 Main topic\"",
                )
            chapters.extend(found)
            continue
        if not isinstance(item, dict):
            raise ChapterError(
                f"a chapter must be a mapping or a \"HH:MM:SS Title\" string, not {_quoted(item)}",
                path=path, line=line, field=field,
                hint="e.g. - {start: \"00:01:24\", title: Main topic}",
            )
        unknown = sorted(str(key) for key in item if key not in _FRONT_MATTER_KEYS)
        if unknown:
            raise ChapterError(
                f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}",
                path=path, line=line, field=field,
                hint="a chapter may have: " + ", ".join(sorted(_FRONT_MATTER_KEYS)),
            )
        if "start" not in item:
            raise ChapterError(
                "chapter has no start", path=path, line=line, field=field,
                hint="add start: \"HH:MM:SS\"",
            )
        start = _front_matter_time(item["start"], what="start", path=path, line=line, field=f"{field}.start")
        end = (
            _front_matter_time(item["end"], what="end", path=path, line=line, field=f"{field}.end")
            if item.get("end") is not None
            else None
        )
        title = item.get("title")
        if isinstance(title, (int, float)) and not isinstance(title, bool):
            title = str(title)
        if not isinstance(title, str):
            raise ChapterError(
                f"title must be text, not {_quoted(title)}", path=path, line=line, field=f"{field}.title",
                hint="add a title, in quotes if it looks like a number, yes/no or a date",
            )
        optional: dict[str, str | None] = {}
        for key in ("url", "image"):
            value = item.get(key)
            if value is not None and not isinstance(value, str):
                raise ChapterError(
                    f"{key} must be text, not {_quoted(value)}", path=path, line=line, field=f"{field}.{key}",
                )
            if key == "url" and value is not None and not _is_absolute_url(value):
                raise ChapterError(
                    f"url must be an http(s) URL, not {_quoted(value)}", path=path, line=line,
                    field=f"{field}.url", hint="write the whole address, e.g. url: https://example.com/page",
                )
            optional[key] = value
        toc = item.get("toc", True)
        if not isinstance(toc, bool):
            raise ChapterError(
                f"toc must be true or false, not {_quoted(toc)}", path=path, line=line, field=f"{field}.toc",
            )
        chapters.append(
            Chapter(start_s=start, title=without_control_characters(title).strip(), url=optional["url"],
                    image=optional["image"], toc=toc, end_s=end)
        )
    return chapters


# --------------------------------------------------------------------------------------------
# Checking
# --------------------------------------------------------------------------------------------


def _describe(number: int, chapter: Chapter) -> str:
    stamp = format_timestamp(chapter.start_s, millis=chapter.start_s % 1 != 0) if chapter.start_s >= 0 else (
        f"{chapter.start_s:g} s"
    )
    return f"chapter {number} ({stamp} \"{chapter.title}\")"


def check_chapters(
    chapters: list[Chapter], *, duration_s: float | None, path: Path, source: str
) -> None:
    """Refuse chapters that apps would show wrongly or not at all; say which one and what to do.

    Rules: at least one chapter; the first at 0; starts strictly ascending; every start before the
    end of the audio; titles not empty; an end (if given) after its start and not past the audio.
    """

    def fail(message: str, hint: str) -> ChapterError:
        return ChapterError(f"{message} (in {source})", path=path, hint=hint)

    if not chapters:
        raise fail("no chapters", "add at least one chapter starting at 00:00:00, or remove the chapters source")
    # The texts of the messages are made only for a chapter that fails (this runs per episode).
    def length() -> str:
        return format_timestamp(duration_s, millis=True) if duration_s is not None else ""

    previous: Chapter | None = None
    for number, chapter in enumerate(chapters, start=1):
        this = functools.partial(_describe, number, chapter)
        if not math.isfinite(chapter.start_s) or chapter.start_s < 0:
            raise fail(f"{this()} has a negative start", "give the chapter a start of 00:00:00 or later")
        if previous is None and chapter.start_s != 0:
            raise fail(
                f"{this()} is the first chapter but does not start at 00:00:00",
                "add a first chapter at 00:00 (e.g. \"00:00 Intro\") or move this one to 00:00",
            )
        if previous is not None and chapter.start_s == previous.start_s:
            raise fail(
                f"{this()} starts at the same time as {_describe(number - 1, previous)}",
                "give every chapter its own start time, or merge the two",
            )
        if previous is not None and chapter.start_s < previous.start_s:
            raise fail(
                f"{this()} starts before {_describe(number - 1, previous)}",
                "list the chapters in order of their start times, and check the times for typos",
            )
        if duration_s is not None and chapter.start_s >= duration_s:
            raise fail(
                f"{this()} starts after the end of the audio ({length()})",
                "check the time for a typo, or remove the chapter if it belongs to a longer cut",
            )
        if not chapter.title.strip():
            raise fail(f"{this()} has no title", "write a title after the chapter's time")
        if chapter.end_s is not None:
            if not chapter.end_s > chapter.start_s:
                raise fail(
                    f"{this()} ends at {format_timestamp(max(chapter.end_s, 0), millis=True)}, "
                    "not after its start",
                    "give the chapter an end after its start, or leave the end out",
                )
            if duration_s is not None and chapter.end_s > duration_s + END_TOLERANCE_S:
                raise fail(
                    f"{this()} ends at {format_timestamp(chapter.end_s, millis=True)}, "
                    f"after the end of the audio ({length()})",
                    "shorten the chapter's end to the audio's length, or leave the end out",
                )
        previous = chapter


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _json_seconds(seconds: float) -> int | float:
    """Seconds for JSON: an integer when whole, else rounded to the millisecond."""
    rounded = round(seconds, 3)
    return int(rounded) if rounded == int(rounded) else rounded


def _is_absolute_url(text: str) -> bool:
    """An http(s) URL: the only links a chapter may carry (apps open them; the same rule as the
    notes' HTML, feedtool/sanitize.py)."""
    return text.lower().startswith(("https://", "http://"))


def to_json(
    chapters: list[Chapter],
    *,
    title: str | None = None,
    podcast_name: str | None = None,
    author: str | None = None,
    file_name: str | None = None,
    image_url: Callable[[str], str] | None = None,
) -> bytes:
    """The Podcasting 2.0 JSON chapters file (version 1.2.0), as deterministic UTF-8 bytes.

    Key order is fixed, optional keys that are None are left out, and ``"toc": false`` appears
    only on silent chapters. ``image_url`` turns a local chapter image into its public URL.
    """
    doc: dict[str, object] = {"version": JSON_CHAPTERS_VERSION}
    for key, value in (("title", title), ("podcastName", podcast_name), ("author", author),
                       ("fileName", file_name)):
        if value is not None:
            doc[key] = value
    items = []
    for chapter in chapters:
        item: dict[str, object] = {"startTime": _json_seconds(chapter.start_s), "title": chapter.title}
        if chapter.image is not None:
            local = not _is_absolute_url(chapter.image)
            item["img"] = image_url(chapter.image) if image_url is not None and local else chapter.image
        if chapter.url is not None:
            item["url"] = chapter.url
        if not chapter.toc:
            item["toc"] = False
        if chapter.end_s is not None:
            item["endTime"] = _json_seconds(chapter.end_s)
        if chapter.location is not None:
            item["location"] = {key: value for key, value in (
                ("name", chapter.location.name), ("geo", chapter.location.geo), ("osm", chapter.location.osm),
            ) if value is not None}
        items.append(item)
    doc["chapters"] = items
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def with_end_times(chapters: list[Chapter], duration_s: float) -> list[Chapter]:
    """Chapters with every end filled in: the next chapter's start, the last one's the duration.

    Audio tag formats (ID3 CHAP, MP4 chapter tracks) need ends; an end the source gave is kept.
    """
    filled = []
    for index, chapter in enumerate(chapters):
        if chapter.end_s is not None:
            filled.append(chapter)
            continue
        end = chapters[index + 1].start_s if index + 1 < len(chapters) else duration_s
        filled.append(replace(chapter, end_s=end))
    return filled

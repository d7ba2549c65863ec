"""Transcripts (WebVTT, SRT, Podcasting 2.0 JSON) -> timed paragraphs for the episode page.

Caption files cut speech into cues of a few seconds, and JSON transcripts often hold one word
per segment; read line by line that is hard to follow. So cues are joined into paragraphs: a new
one starts when the speaker changes, or after 30 s at the end of a sentence (60 s at most). Each
paragraph keeps the start time of its first cue, which the page turns into a link that seeks.

A file that is not what its name says (no ``WEBVTT`` header, a broken timing line, JSON without
segments) is an error with its line: players would fail on it too. HTML and plain-text
transcripts have no times; the page links to them instead.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

from feedtool.errors import InputError

TIMED_TYPES = ("text/vtt", "application/x-subrip", "application/srt", "application/json")
PARAGRAPH_S = 30.0
PARAGRAPH_MAX_S = 60.0

_VTT_TIME = r"(?:(\d+):)?([0-5]\d):([0-5]\d)[.,](\d{3})"
_VTT_TIMING = re.compile(rf"^\s*{_VTT_TIME}\s+-->\s+{_VTT_TIME}(?:\s.*)?$")
_SRT_TIME = r"(\d+):([0-5]\d):([0-5]\d)[,.](\d{1,3})"
_SRT_TIMING = re.compile(rf"^\s*{_SRT_TIME}\s*-->\s*{_SRT_TIME}(?:\s.*)?$")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
_TAG = re.compile(r"<[^>]*>|\{\\[^}]*\}")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")


@dataclass(frozen=True)
class Line:
    """A paragraph of the transcript: when it starts, who speaks (if known), what is said."""

    start_s: float
    speaker: str | None
    text: str


def is_timed(mime: str) -> bool:
    return mime in TIMED_TYPES


def read_transcript(path: Path, mime: str) -> list[Line]:
    """The paragraphs of a timed transcript file (see the module docstring)."""
    from feedtool.load import read_text

    text = read_text(path)
    if mime == "text/vtt":
        cues = _vtt(text, path)
    elif mime == "application/json":
        cues = _json(text, path)
    else:
        cues = _srt(text, path)
    return paragraphs(cues)


def _seconds(groups: tuple[str | None, ...]) -> float:
    hours, minutes, seconds, fraction = groups
    whole = int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(seconds or 0)
    return whole + int(fraction or 0) / 10 ** len(fraction or "0")


def _cue_text(lines: list[str]) -> tuple[str | None, str]:
    joined = " ".join(line.strip() for line in lines if line.strip())
    voice = _VOICE.search(joined)
    speaker = html.unescape(voice.group(1).strip()) if voice else None
    return speaker, html.unescape(_TAG.sub("", joined)).strip()


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Blank-line separated blocks with the (1-based) line number of their first line."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    first = 0
    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        if line.strip():
            if not current:
                first = number
            current.append(line)
        elif current:
            blocks.append((first, current))
            current = []
    if current:
        blocks.append((first, current))
    return blocks


def _timing_line(lines: list[str]) -> int:
    """Where a cue's timing line is: first, or second after a cue id or number (never holds '-->')."""
    return 1 if len(lines) > 1 and "-->" not in lines[0] and "-->" in lines[1] else 0


def _vtt(text: str, path: Path) -> list[Line]:
    blocks = _blocks(text)
    if not blocks or not re.match(r"^WEBVTT(?:[ \t].*)?$", blocks[0][1][0]):
        raise InputError("a WebVTT transcript must start with a 'WEBVTT' line", path=path, line=1,
                         hint="add WEBVTT as the first line, or name the file .srt if it is SubRip")
    cues = [(first, lines) for first, lines in blocks[1:] if not lines[0].startswith(("NOTE", "STYLE", "REGION"))]
    return _timed_lines(cues, _VTT_TIMING, path,
                        "this cue has no valid timing line (like 00:01:02.500 --> 00:01:05.000)")


def _srt(text: str, path: Path) -> list[Line]:
    return _timed_lines(_blocks(text.lstrip("\ufeff")), _SRT_TIMING, path,
                        "this subtitle has no valid timing line (like 00:01:02,500 --> 00:01:05,000)")


def _timed_lines(blocks: list[tuple[int, list[str]]], timing_re: re.Pattern[str], path: Path,
                 no_timing: str) -> list[Line]:
    """The lines of WebVTT cues or SubRip subtitles (each block: its first line number, its lines)."""
    cues = []
    for first, lines in blocks:
        timing_at = _timing_line(lines)
        timing = timing_re.match(lines[timing_at])
        if timing is None:
            raise InputError(no_timing, path=path, line=first + timing_at)
        speaker, said = _cue_text(lines[timing_at + 1:])
        if said:
            cues.append(Line(start_s=_seconds(timing.groups()[:4]), speaker=speaker, text=said))
    return cues


def _json(text: str, path: Path) -> list[Line]:
    """Podcasting 2.0 JSON: {"version": ..., "segments": [{"speaker", "startTime", "body"}, ...]}."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise InputError(f"not valid JSON ({error.args[0].split(':')[0]})", path=path,
                         line=getattr(error, "lineno", None)) from None
    segments = data.get("segments") if isinstance(data, dict) else None
    if not isinstance(segments, list):
        raise InputError("a JSON transcript needs a \"segments\" list", path=path,
                         hint="see the Podcasting 2.0 transcript format (version, segments)")
    cues = []
    for index, segment in enumerate(segments):
        start = segment.get("startTime") if isinstance(segment, dict) else None
        body = segment.get("body") if isinstance(segment, dict) else None
        if isinstance(start, bool) or not isinstance(start, (int, float)) or not isinstance(body, str):
            raise InputError(f"segment {index + 1} needs a number startTime and a text body", path=path)
        speaker = segment.get("speaker")
        cues.append(Line(start_s=float(start), speaker=speaker if isinstance(speaker, str) and speaker else None,
                         text=body.strip()))
    return [cue for cue in cues if cue.text]


def paragraphs(cues: list[Line]) -> list[Line]:
    """Join cues into paragraphs (a new one per speaker, after 30 s at a sentence end, or 60 s)."""
    result: list[Line] = []
    start = 0.0
    speaker: str | None = None
    words: list[str] = []
    for cue in cues:
        if words:
            length = cue.start_s - start
            sentence_done = bool(_SENTENCE_END.search(words[-1]))
            if ((cue.speaker is not None and cue.speaker != speaker)
                    or (length >= PARAGRAPH_S and sentence_done) or length >= PARAGRAPH_MAX_S):
                result.append(Line(start_s=start, speaker=speaker, text=" ".join(words)))
                words = []
        if not words:
            start, speaker = cue.start_s, cue.speaker if cue.speaker is not None else speaker
        words.append(cue.text)
    if words:
        result.append(Line(start_s=start, speaker=speaker, text=" ".join(words)))
    return result

"""The fast chapter-line parser gives exactly what the parser it replaced gave, for every input.

``feedtool.chapters`` parses the dominant line shapes ("[12:30] Title", "- 1:02:03 - Title") with
one pattern and turns away lines that cannot be chapter lines before any regex work. The ORACLE
below is a frozen copy of the line parsing of feedtool/chapters.py as it was before that change
(commit 4af3457), kept verbatim; every test here compares the new functions with it, results
compared by ``repr`` so that even 0 vs 0.0 would show.
"""

from __future__ import annotations

import importlib.util
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedtool import chapters as new
from feedtool.model import Chapter

REPO = Path(__file__).resolve().parent.parent

# ==============================================================================================
# ORACLE: verbatim copy of feedtool/chapters.py (4af3457), timestamps and show-notes parsing.
# ==============================================================================================

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

_LINK = re.compile(r"\[(?P<text>[^\]]*)\]\((?P<url>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
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
    links = list(_LINK.finditer(title))
    url = links[0]["url"] if len(links) == 1 else None
    title = _LINK.sub(lambda m: m["text"], title).strip()
    return Chapter(start_s=start_s, title=title, url=url, end_s=end_s)


def parse_chapter_line(line: str, *, split: bool = True) -> list[Chapter]:
    """The chapters on one line of text, or [] when the line does not start with a timestamp.

    With ``split``, a line holding several timestamps ("[37:43] Annotation [39:37] Next") gives one
    chapter for each. Bracketed timestamps always split; bare ones only when the line itself starts
    with a bare timestamp, so "[12:00] We met at 10:30" stays one chapter.
    """
    lead = _match_lead(line.strip())
    if lead is None:
        return []
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
    return chapters


# --------------------------------------------------------------------------------------------
# Show notes
# --------------------------------------------------------------------------------------------

_FENCE = re.compile(r"^\s*(```|~~~)")


def from_show_notes(text: str) -> list[Chapter]:
    """Chapters from the timestamp lines of Markdown show notes; [] when fewer than two are found.

    A chapter line starts with a timestamp (after an optional bullet, number or bracket); a time
    in the middle of prose or inside a URL (``&t=5s``, ``?t=1:23``) is not a chapter. Lines in
    fenced code blocks are skipped. All timestamp lines are taken, in order of appearance; whether
    they make sense together is for ``check_chapters`` to say.
    """
    chapters: list[Chapter] = []
    in_fence = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            chapters.extend(parse_chapter_line(line))
    return chapters if len(chapters) >= 2 else []


# ==============================================================================================
# Inputs
# ==============================================================================================


def _load_module(path: Path, name: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def catalogue_notes(n: int = 3000) -> list[str]:
    """The show notes of bench/make_catalogue.py's episodes 1..n (front matter cut off)."""
    make_catalogue = _load_module(REPO / "bench" / "make_catalogue.py", "_bench_make_catalogue")
    rng = random.Random(2024)
    start = datetime(2015, 1, 5, 9, 0, tzinfo=UTC)
    notes = []
    for number in range(1, n + 1):
        text = make_catalogue.episode_md(number, start + timedelta(hours=8 * number), rng)
        notes.append(text.split("\n---\n", 1)[1])
    return notes


def example_notes() -> str:
    text = (REPO / "episodes" / "coffee-sessions-29" / "episode.md").read_text(encoding="utf-8")
    return text.split("\n---\n", 1)[1]


def strings_in_chapter_tests() -> list[str]:
    """Every string among the parameters of tests/test_chapters.py, one line at a time."""
    module = _load_module(Path(__file__).with_name("test_chapters.py"), "_test_chapters_cases")
    found: set[str] = set()

    def collect(value: object) -> None:
        if isinstance(value, str):
            found.add(value)
            found.update(value.splitlines())
        elif isinstance(value, (list, tuple)):
            for item in value:
                collect(item)

    for name in dir(module):
        for mark in getattr(getattr(module, name), "pytestmark", []):
            if mark.name == "parametrize":
                collect(list(mark.args[1]))
    for name in ("FRONT_MATTER", "SEED_CHAPTERS"):
        collect(getattr(module, name))
    return sorted(found)


TRICKY = [
    # the common shapes
    "[00:00] Title", "00:00 Title", "(1:02:03) - Title", "- 00:00 Intro", "1. [00:00] Intro",
    "12) (05:00) Intro", "* 00:00 Intro", "+ 00:00 Intro", "\u2022 00:00 Intro", "\u2022\t00:00\tIntro",
    "[00:00]\tTitle", "00:00  -  Title", "00:00 \u2013 Title", "00:00 \u2014Title", "00:00 | Title",
    "00:00 : Title", "00:00: Title", "00:00 - - Title", "00:00 -- Title", "00:00 -Title", "00:00 - ",
    "00:00", "[00:00]", "[00:00] ", "(00:00)", "00:00 -", "00:00 a", "00:00 \u00a0Title",
    "00:00\u00a0Title", "00:00 Title\u00a0", "\u00a000:00 Title", "00:00 Ti\u00a0tle",
    # ranges
    "00:00 - 05:00 Intro", "00:00-05:00 Intro", "[00:00 - 05:00] Intro", "(00:00\u201305:00) Intro",
    "00:00 - 05:00", "00:00 \u2014 1:02:03 Intro", "00:00 - 2020 in review", "00:00 - 20:20 vision",
    # links
    "[00:00](https://youtu.be/x?t=0) Intro", "[00:00](url) Intro", "[00:00]( url) Intro",
    "00:00 [Intro](https://e.com)", "00:00 Intro [a](https://a.com) and [b](https://b.com)",
    "00:00 [Intro](https://e.com \"t 12:30\")", "00:00 see [x] here", "00:00 a ](b) c",
    # emphasis
    "**[00:00]** Title", "**00:00** Title", "**00:00 Title**", "*00:00* Title", "__00:00__ Title",
    "_00:00_ Title", "***00:00*** Title", "[**00:00**] Title", "**[00:00] Title**", "*[00:00]* Title",
    "00:00 **Title**", "00:00 *Title", "00:00 _Title_", "**00:00**Title", "**00:00 Title",
    # several timestamps
    "[37:43] Annotation [39:37] Next", "00:00 Intro 05:00 Topic", "00:00 Intro, 05:00 - Topic",
    "(00:00) A (01:00) B (02:00) C", "[00:00] We met at 10:30", "00:00 Intro 10:30am", "00:00 A 05:00",
    "00:00 A [05:00]", "00:00 A [05:00](u) B", "00:00 A 05:00: B", "00:00 A 05:00| B", "00:00 A|05:00 B",
    "00:00 A; 05:00 B;", "00:00 A - 05:00 - B -", "[00:00] A 05:00 B", "00:00 A **[05:00]** B",
    # times in URLs, prose, times of day
    "00:00 https://youtu.be/x?t=1:23 then 05:00 B", "00:00 see www.e.com/12:30 05:00 B",
    "https://www.youtube.com/watch?v=x&t=5s Title", "&t=5s", "10:30am", "10:30 am we met", "10:30pm",
    "10:30, we met", "10:30. We met", "10:30: we met", "we met at 10:30", "At 1:02:03 Jet says",
    "00:00 Title http://e.com", "00:00 Title www.e.com", "[00:00] Title https://e.com/a:b",
    # bullets, quotes, numbers
    "> 00:00 Intro", ">> 00:00 Intro", "> > 00:00 Intro", ">00:00 Intro", "-00:00 Intro", "- - 00:00 Intro",
    "1.00:00 Intro", "1. 00:00 Intro", "123. 00:00 Intro", "1234. 00:00 Intro", "1) 00:00 Intro",
    "1: 00:00 Intro", "* * 00:00 Intro", "-  [00:00]  Intro", "- 00:00", "\u2022 [00:00] Intro",
    "1. **00:00** Intro", "2) 00:00 - 05:00 Intro", "12. [00:00](u) Intro", "> 1. 00:00 Intro",
    "3) *00:00* Intro", "- **[00:00]** Intro", "+ 00:00 A 05:00 B", "\u2022 00:00 A [05:00] B",
    "> - 00:00 A: B", "_ 00:00 Intro", "( 00:00) Intro", "[ 00:00] Intro", "- Guest: https://e.com",
    # backslashes, unicode dashes, fractions, long forms
    "00:00 Intro\\", "00:00 Intro \\", "00:00 In\\tro", "[00:00] Intro\\\\", "00:00 \u2013 \u2014 Intro",
    "1:02:03 Title", "01:02:03 Title", "123:45 Title", "1234:45 Title", "75:10 Title", "99:59:59 Title",
    "100:00:00 Title", "1:2:3 Title", "1:02 Title", "00:00.5 Title", "00:00.500 Title", "00:00.5000 Title",
    "00:00,5 Title", "1:02:03.250 Title", "[00:00.5] Title", "00:00. Title", "00:00.5.5 Title",
    "12:60 Title", "12:59 Title", "1:60:00 Title", "10:30:45:12 timecode", "00:00:00:00 Title",
    "\u0660\u0660:\u0660\u0665 Arabic-Indic", "\uff10\uff10:\uff10\uff10 fullwidth", "[\u0661:\u0660\u0662] Title",
    "\u0661. 00:00 Title", "00:0\u0665 Title", "00:00.\u0665 Title", "\u00b9:00 Title",
    # odd spaces and empties
    "", " ", "\t", ":", "[", "(", "-", "1.", "[]", "()", "[00:00)", "(00:00]", "00:00) Title", "00:00] Title",
    "   [00:00]   Title   ", "\t00:00\tTitle\t", "00:00\u2003Title", "00:00\x0bTitle", "00:00 Ti\ntle",
    "00:00 Title\x1c", "00:00 caf\u00e9 \u270c\ufe0f", "00:00 \U0001f600",
]

FENCED_NOTES = [
    "00:00 Intro\n```\n12:00:01 INFO\n```\n05:00 Topic\n",
    "00:00 Intro\n  ~~~python\n01:00 x\n~~~\n05:00 Topic\n10:00 End",
    "```\n00:00 A\n00:01 B\n",
    "00:00 A\n``\n00:01 B\n",
    "00:00 A\n \t```\n00:01 B\n```  \n00:02 C",
    "\u00a0```\n00:00 A\n```\n00:01 B\n00:02 C",
    "00:00 A\r\n00:01 B\r\n",
    "00:00 A\x1c00:01 B\u2028",
    "no clock here",
    "00:00 only one",
    "Timestamps:\n[00:00] A\nprose: 10:30\n- link: https://e.com?t=1:23\n[00:05] B",
]


def same(got: object, expected: object) -> bool:
    return repr(got) == repr(expected)


def check_line(line: str) -> None:
    for split in (True, False):
        got, expected = new.parse_chapter_line(line, split=split), parse_chapter_line(line, split=split)
        assert same(got, expected), (line, split, got, expected)


def check_notes(text: str) -> None:
    got, expected = new.from_show_notes(text), from_show_notes(text)
    assert same(got, expected), (text, got, expected)


# ==============================================================================================
# Tests
# ==============================================================================================


def test_example_episode_gives_its_23_chapters_as_before() -> None:
    notes = example_notes()
    chapters = new.from_show_notes(notes)
    assert len(chapters) == 23 and chapters[17] == Chapter(start_s=2263.0, title="Annotation")
    assert same(chapters, from_show_notes(notes))
    for line in notes.splitlines():
        check_line(line)


def test_catalogue_notes_as_before() -> None:
    notes = catalogue_notes()
    assert all(len(new.from_show_notes(text)) == 20 for text in notes[:10])
    for text in notes:
        check_notes(text)


def test_seed_notes_as_before() -> None:
    text = (REPO / "tests" / "data" / "seed-notes.txt").read_text(encoding="utf-8")
    check_notes(text)
    for line in text.splitlines():
        check_line(line)


def test_chapters_file_lines_as_before() -> None:
    for line in (REPO / "tests" / "data" / "chapters" / "chapters.txt").read_text(encoding="utf-8").splitlines():
        check_line(line)


@pytest.mark.parametrize("line", strings_in_chapter_tests())
def test_cases_of_test_chapters_as_before(line: str) -> None:
    check_line(line)
    check_notes(line)


@pytest.mark.parametrize("line", TRICKY)
def test_tricky_lines_as_before(line: str) -> None:
    check_line(line)
    check_notes(f"{line}\n{line}")


@pytest.mark.parametrize("text", FENCED_NOTES)
def test_fences_and_line_ends_as_before(text: str) -> None:
    check_notes(text)


def test_tricky_lines_together_as_notes_as_before() -> None:
    check_notes("\n".join(TRICKY))


def test_the_fast_path_is_taken_for_the_common_shapes() -> None:
    """Not a result check (the others are): guards against the fast path silently never matching."""
    for line in ("[00:00] Title", "(1:02:03) - Title", "- 12:30 \u2013 Title", "1. 00:00.5 Title"):
        assert new._simple_chapter(line) is not None, line
    for line in ("[37:43] A [39:37] B", "00:00 - 05:00 Intro", "**00:00** A", "00:00 [a](b)", "10:30am x"):
        assert new._simple_chapter(line) is None, line


# Hypothesis: lines glued together from the fragments that steer the parser.
FRAGMENTS = [
    "", " ", "  ", "\t", "\u00a0", "> ", ">", "- ", "-", "* ", "*", "**", "***", "_", "__", "+ ", "\u2022 ",
    "1. ", "12) ", "1.", "[", "]", "(", ")", "](", "](https://e.com/x?t=1:23)", "[a](https://a.com)",
    "00:00", "0:00", "1:02:03", "01:02:03", "123:45", "75:10", "00:05.5", "00:00:05.250", "12:75", "1:60:00",
    "10:30:45:12", "\u0660\u0660:\u0661\u0662", "9:5", ":", ":30", ".5", ",5", ".", "am", "pm",
    " - ", "-", " \u2013 ", "\u2014", ": ", " | ", "|", ", ", "; ", ";",
    "Intro", "Title", "Kung fu's", "\"Quoted\"", "caf\u00e9", "2020", "10:30am", "https://youtu.be/x?t=90",
    "http://e.com/12:30", "www.e.com/1:02:03", "&t=5s", "\\", "\\\\", "```", "~~~",
]


@st.composite
def glued_lines(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=10))
    return "".join(parts)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(glued_lines())
def test_generated_lines_as_before(line: str) -> None:
    check_line(line)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.from_regex(
    r"[ >\-*+\u2022_\[(]{0,4}\d{1,3}(:[0-5]\d){1,2}(\.\d{1,4})?[\])*_]{0,3}[ \t\-\u2013:|]{0,3}[\w :\[\]()*_\\|\-]{0,20}",
    fullmatch=True,
))
def test_lines_near_the_simple_shape_as_before(line: str) -> None:
    check_line(line)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(glued_lines(), max_size=12))
def test_generated_notes_as_before(lines: list[str]) -> None:
    check_notes("\n".join(lines))

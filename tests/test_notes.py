"""Show notes to HTML: timestamp lines keep their own line, in content:encoded and in Apple's
description, exactly when they give chapters; no stray characters from the mechanism that does it.

"Kept on its own line" is read by lxml's HTML parser (an independent witness): a line ends at
every block element and every <br>.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

from feedtool.chapters import from_show_notes, markdown_lines, parse_chapter_line, timestamp_lines
from feedtool.notes import apple_description, describe, plain_text, render_html

DATA = Path(__file__).parent / "data"

_BLOCKS = {"p", "div", "li", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6",
           "table", "tr", "hr", "br", "dl", "dt", "dd"}


def visual_lines(html_text: str) -> list[str]:
    """The lines a reader sees in some HTML, white space collapsed (parsed by lxml)."""
    parts: list[str] = []

    def walk(element) -> None:
        block = isinstance(element.tag, str) and element.tag in _BLOCKS
        if block:
            parts.append("\n")
        if element.text and isinstance(element.tag, str):
            parts.append(" ".join(element.text.split(" ")).replace("\n", " "))
        for child in element:
            walk(child)
            if child.tail:
                parts.append(child.tail.replace("\n", " "))
        if block:
            parts.append("\n")

    root = lxml_html.fragment_fromstring(html_text or "<p></p>", create_parent="div")
    walk(root)
    return [" ".join(line.split()) for line in "".join(parts).split("\n") if line.strip()]


def rendered(notes: str) -> tuple[list[str], list[str]]:
    """(lines of content:encoded, lines of the Apple description) for some Markdown notes."""
    content = render_html(notes)
    return visual_lines(content), visual_lines(apple_description(content))


# --- every shape of timestamp line chapters.py accepts ---------------------------------------

#: (line, the text a reader sees): every shape of chapter line, after prose it would join.
SHAPES = [
    ("[00:01] Title", "[00:01] Title"),
    ("00:01 Title", "00:01 Title"),
    ("(00:01) Title", "(00:01) Title"),
    ("00:01 - Title", "00:01 - Title"),
    ("00:01 \u2013 Title", "00:01 \u2013 Title"),
    ("00:01 \u2014 Title", "00:01 \u2014 Title"),
    ("00:01: Title", "00:01: Title"),
    ("00:01 | Title", "00:01 | Title"),
    ("0:01 Title", "0:01 Title"),
    ("1:00:01 Title", "1:00:01 Title"),
    ("01:00:01 Title", "01:00:01 Title"),
    ("00:00:01.500 Title", "00:00:01.500 Title"),
    ("- 00:01 Title", "00:01 Title"),
    ("* 00:01 Title", "00:01 Title"),
    ("+ 00:01 Title", "00:01 Title"),
    ("\u2022 00:01 Title", "\u2022 00:01 Title"),
    ("1. 00:01 Title", "00:01 Title"),
    ("1) 00:01 Title", "00:01 Title"),
    ("12. 00:01 Title", "12. 00:01 Title"),  # a list starting at 12 cannot interrupt a paragraph
    ("> 00:01 Title", "00:01 Title"),
    ("> > 00:01 Title", "00:01 Title"),
    ("> - 00:01 Title", "00:01 Title"),
    ("**00:01** Title", "00:01 Title"),
    ("*00:01* Title", "00:01 Title"),
    ("__00:01__ Title", "00:01 Title"),
    ("_00:01_ Title", "00:01 Title"),
    ("[**00:01**] Title", "[00:01] Title"),
    ("**[00:01]** Title", "[00:01] Title"),
    ("**00:01 Title**", "00:01 Title"),
    ("- **00:01** - Title", "00:01 - Title"),
    ("[00:01](https://example.com/t) Title", "00:01 Title"),
    ("00:01 - 05:00 Title", "00:01 - 05:00 Title"),
    ("[00:01] A [00:02] B", "[00:01] A [00:02] B"),
    ("00:01 [Title](https://example.com)", "00:01 Title"),
    ("00:01 Title with a trailing backslash\\", "00:01 Title with a trailing backslash"),
    ("  00:01 Indented a little", "00:01 Indented a little"),
]

#: Lines with a time that are not timestamp lines: prose, a time of day, a URL, code, HTML.
NOT_SHAPES = [
    "We met at 00:01 today",
    "00:01am breakfast",
    "https://youtu.be/abc?t=1:23 the video",
    "Call +1 555 12:30",
    "10:30:45:12 timecode",
    "`00:01` in code",
    "<b>00:01</b> in HTML",
    "12:75 not a time",
]


@pytest.mark.parametrize(("line", "seen"), SHAPES)
def test_every_timestamp_shape_gives_a_chapter_and_keeps_its_line(line: str, seen: str) -> None:
    chapters = from_show_notes(f"[00:00] Start\n{line}")
    assert len(chapters) >= 2 and chapters[1].start_s > 0
    notes = f"Before the line\n{line}\nAfter the line"
    for lines in rendered(notes):
        assert lines == ["Before the line", seen, "After the line"]


@pytest.mark.parametrize("line", NOT_SHAPES)
def test_a_time_in_prose_gives_no_chapter_and_joins_its_paragraph(line: str) -> None:
    assert from_show_notes(f"[00:00] Start\n{line}") == []
    for lines in rendered(f"Before the line\n{line}\nAfter the line"):
        assert len(lines) == 1 and lines[0].startswith("Before the line ") and lines[0].endswith(" After the line")


_PREFIXES = ["", "\u2022 ", "12. ", "- ", "* ", "1. ", "2) ", "> ", "> - "]
_JOINING_PREFIXES = {"", "\u2022 ", "12. "}  # the others start a list or a quote of their own
_EMPHASIS = ["", "*", "**", "_", "__"]
_CLOCKS = st.one_of(
    st.builds(lambda m, s: f"{m:02d}:{s:02d}", st.integers(0, 99), st.integers(0, 59)),
    st.builds(lambda m, s: f"{m}:{s:02d}", st.integers(0, 9), st.integers(0, 99)),
    st.builds(lambda h, m, s: f"{h}:{m:02d}:{s:02d}", st.integers(0, 12), st.integers(0, 59), st.integers(0, 59)),
    st.builds(lambda m, s, f: f"{m:02d}:{s:02d}.{f}", st.integers(0, 59), st.integers(0, 59), st.integers(0, 999)),
)
_TITLES = st.text(alphabet="abc XYZ:|-–*_[]()!?.,&'\"\\#1290", max_size=30)


@st.composite
def lines_with_a_time(draw: st.DrawFn) -> tuple[str, str]:
    prefix = draw(st.sampled_from(_PREFIXES))
    emphasis = draw(st.sampled_from(_EMPHASIS))
    opening, closing = draw(st.sampled_from([("", ""), ("[", "]"), ("(", ")"), ("[", ")")]))
    after = draw(st.sampled_from(["", "", " ", " - ", ": ", " | ", "am ", ","]))
    line = f"{prefix}{emphasis}{opening}{draw(_CLOCKS)}{closing}{draw(st.sampled_from(['', emphasis]))}"
    return prefix, line + after + draw(_TITLES)


@settings(max_examples=400, deadline=None)
@given(lines_with_a_time())
def test_chapters_found_exactly_when_the_line_is_kept_separate(case: tuple[str, str]) -> None:
    """Both ways, for generated lines: a chapter line is a line of its own in content:encoded and
    in the description; a line that gives no chapter (and starts no list or quote) is not."""
    prefix, line = case
    found = bool(parse_chapter_line(line))
    assert found == bool(from_show_notes(f"{line}\n[99:00] End"))
    content, description = rendered(f"Before the line\n{line}\nAfter the line")
    for lines in (content, description):
        separate = lines[0] == "Before the line" and lines[-1] == "After the line" and len(lines) >= 3
        if found:
            assert separate, (line, lines)
        elif prefix in _JOINING_PREFIXES and not line.endswith(("\\", "  ")):  # the author's own break
            assert not separate and len(lines) == 1, (line, lines)


def test_seed_notes_keep_every_timestamp_line() -> None:
    notes = (DATA / "seed-notes.txt").read_text(encoding="utf-8")
    lines = markdown_lines(notes)
    stamped = [" ".join(lines[index].split()) for index, _ in timestamp_lines(lines)]
    assert len(stamped) == 22 and len(from_show_notes(notes)) == 23
    content, description = rendered(notes)
    assert [line for line in content if line.startswith("[")] == stamped
    assert [line for line in description if line.startswith("[")] == stamped
    assert "Timestamps:" in content and "Timestamps:" in description  # the line before keeps its own


def test_seed_notes_prose_still_joins_as_markdown_does() -> None:
    content, _ = rendered((DATA / "seed-notes.txt").read_text(encoding="utf-8"))
    # Markdown joins the lines of a paragraph that holds no timestamp: the YouTube links block.
    assert any("Charlie You https://youtu.be/J36xHc05z-M Manoj https://www.youtube.com" in line for line in content)


# --- the hard break leaves nothing behind ----------------------------------------------------


@pytest.mark.parametrize(
    "notes",
    [
        "- 00:00 Intro\n- 01:00 Next",
        "* 00:00 Intro\n* 01:00 Next\n\nAfter",
        "1. 00:00 Intro\n2. 01:00 Next",
        "- Topics\n  - 00:00 Intro\n  - 01:00 Next\n- More",
        "- 00:00 Intro\n  - nested\n- 01:00 Next",
        "> 00:00 Intro\n> 01:00 Next",
        "> - 00:00 Intro\n> - 01:00 Next\n\nAfter",
        "**00:00** Intro\n**01:00** Next",
        "_00:00 Intro_\n_01:00 Next_",
        "00:00 Intro\n# Heading\n01:00 Next",
        "00:00 Intro\n---\n01:00 Next",
        "00:00 Intro\n```\ncode\n```\n01:00 Next",
        "| time | topic |\n|---|---|\n| 00:00 | Intro |\n\n00:00 Intro\n01:00 Next",
        "00:00 Intro\n<div>html block</div>\n01:00 Next",
        "Text\n00:00 Intro",
        "00:00 Intro\r\n01:00 Windows line ends\r\n",
        "[00:00]: Intro\n[01:00]: Next",  # would be link reference definitions, printing nothing
        "- 00:00 Intro\\\n- 01:00 Next\\",  # the author's own backslash breaks, where none can be
    ],
)
def test_timestamps_in_any_markdown_context_leave_no_stray_backslash(notes: str) -> None:
    content = render_html(notes)
    description, text = describe(content)
    for out in (content, description, text):
        assert "\\" not in out
    for out in (content, description):
        assert any("00:00" in line and "Intro" in line and "Next" not in line for line in visual_lines(out))


def test_list_of_timestamps_stays_a_list() -> None:
    content = render_html("- 00:00 Intro\n- 01:00 Next\n")
    assert content == "<ul>\n<li>00:00 Intro</li>\n<li>01:00 Next</li>\n</ul>"
    assert apple_description(content) == "<ul><li>00:00 Intro</li><li>01:00 Next</li></ul>"


def test_lines_inside_a_list_item_become_paragraphs_in_the_description() -> None:
    """Apple's subset has no <br>: two lines of one list item are two <p> in its <li>."""
    content = render_html("- Chapters:\n  00:00 Intro\n  01:00 Next\n- Other\n")
    assert apple_description(content) == (
        "<ul><li><p>Chapters:</p><p>00:00 Intro</p><p>01:00 Next</p></li><li>Other</li></ul>"
    )


def test_an_authors_own_hard_breaks_are_kept() -> None:
    for notes in ("Intro\\\n00:00 Start\n01:00 Next", "Intro  \n00:00 Start\n01:00 Next"):
        assert visual_lines(render_html(notes)) == ["Intro", "00:00 Start", "01:00 Next"]


def test_prose_lines_still_join() -> None:
    assert visual_lines(render_html("One line\nand the next\n\n00:00 Intro\n01:00 Next")) == [
        "One line and the next", "00:00 Intro", "01:00 Next",
    ]


def test_timestamps_in_code_are_not_touched() -> None:
    content = render_html("```\n00:00 log line\n00:01 another\n```\n")
    assert content == "<pre><code>00:00 log line\n00:01 another\n</code></pre>"


# --- Apple's description -----------------------------------------------------------------------


def test_apple_description_keeps_only_allowed_tags() -> None:
    content = render_html("# Heading\n\n**Bold** and _it_ [link](https://a.b/?q=1&r=2) `code`\n\n"
                          "- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n> quoted\n")
    description = apple_description(content)
    assert description == (
        '<p>Heading</p><p>Bold and it <a href="https://a.b/?q=1&amp;r=2">link</a> code</p>'
        "<ul><li>one</li><li>two</li></ul><p>a b</p><p>1 2</p><p>quoted</p>"
    )


def test_apple_description_fits_4000_bytes_at_a_block_boundary() -> None:
    description = apple_description(render_html("\n\n".join(f"Paragraph {n} " + "é" * 300 for n in range(40))))
    assert len(description.encode()) <= 4000
    assert description.endswith("<p>…</p>")
    assert description.count("<p>") == description.count("</p>")


def test_a_long_list_of_timestamps_is_cut_between_items() -> None:
    notes = "\n".join(f"- {minute:02d}:00 A chapter with a reasonably long title, number {minute}"
                      for minute in range(90))
    description = apple_description(render_html(notes))
    assert len(description.encode()) <= 4000
    assert description.startswith("<ul><li>00:00 A chapter") and description.endswith("</li></ul><p>…</p>")
    lines = visual_lines(description)
    assert len(lines) > 40 and all(line.endswith(f"number {n}") for n, line in enumerate(lines[:-1]))


def test_one_huge_paragraph_is_cut_in_its_text() -> None:
    description = apple_description(render_html("word & " * 2000))
    assert len(description.encode()) <= 4000 and description.startswith("<p>word &amp; word")
    assert description.endswith("…</p>") and description.count("<p>") == 1


def test_plain_text_has_one_line_per_line() -> None:
    text = plain_text(render_html("Intro *here*\n\n- 00:00 One\n- 01:00 Two\n\n> quote\n"))
    assert text == "Intro here\n00:00 One\n01:00 Two\nquote"


def test_same_notes_same_bytes() -> None:
    notes = (DATA / "seed-notes.txt").read_text(encoding="utf-8")
    assert render_html(notes) == render_html(notes)
    assert describe(render_html(notes)) == describe(render_html(notes))

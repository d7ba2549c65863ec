"""Chapters from show notes, chapters files and front matter; checks; the JSON chapters file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from feedtool.chapters import (
    check_chapters,
    format_timestamp,
    from_front_matter,
    from_show_notes,
    parse_chapter_line,
    parse_timestamp,
    read_chapters_file,
    to_json,
    with_end_times,
)
from feedtool.errors import ChapterError
from feedtool.model import Chapter

DATA = Path(__file__).parent / "data"
CHAPTERS_DATA = DATA / "chapters"


def starts_and_titles(chapters: list[Chapter]) -> list[tuple[str, str]]:
    return [(format_timestamp(c.start_s, millis=c.start_s % 1 != 0), c.title) for c in chapters]


# --- timestamps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("00:00:00", 0),
        ("01:02:03", 3723),
        ("01:02:03.500", 3723.5),
        ("01:02:03,5", 3723.5),
        ("1:02:03", 3723),
        ("10:00:00", 36000),
        ("01:24", 84),
        ("1:24", 84),
        ("75:10", 4510),
        ("00:00.250", 0.25),
        ("93.5", 93.5),
        ("93", 93),
        ("  00:05  ", 5),
    ],
)
def test_parse_timestamp(text: str, seconds: float) -> None:
    assert parse_timestamp(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "abc", "1:2", "01:60", "01:60:00", "-5", "1e3", "1:02:03:04", "12:30pm", "nan", ":30", "5."]
)
def test_parse_timestamp_rejects_junk(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(text)


@pytest.mark.parametrize(
    ("seconds", "millis", "text"),
    [
        (0, False, "00:00:00"),
        (3723.5, False, "01:02:03"),
        (3723.5, True, "01:02:03.500"),
        (59.9999, True, "00:01:00.000"),
        (36000 * 10, False, "100:00:00"),
        (0.001, True, "00:00:00.001"),
    ],
)
def test_format_timestamp(seconds: float, millis: bool, text: str) -> None:
    assert format_timestamp(seconds, millis=millis) == text


@pytest.mark.parametrize("seconds", [-1, float("nan"), float("inf")])
def test_format_timestamp_refuses_impossible_times(seconds: float) -> None:
    with pytest.raises(ValueError):
        format_timestamp(seconds)


@given(st.integers(min_value=0, max_value=200 * 3600 * 1000))
def test_timestamp_round_trip(total_ms: int) -> None:
    seconds = total_ms / 1000
    assert parse_timestamp(format_timestamp(seconds, millis=True)) == seconds
    assert parse_timestamp(format_timestamp(seconds)) == total_ms // 1000


# --- one chapter line in show notes -----------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "start", "title"),
    [
        ("[00:00] Title", 0, "Title"),
        ("00:00 Title", 0, "Title"),
        ("1:02:03 - Title", 3723, "Title"),
        ("01:02:03 Title", 3723, "Title"),
        ("(12:30) Title", 750, "Title"),
        ("12:30 \u2013 Title", 750, "Title"),
        ("12:30 \u2014 Title", 750, "Title"),
        ("12:30: Title", 750, "Title"),
        ("12:30 | Title", 750, "Title"),
        ("- 00:00 Intro", 0, "Intro"),
        ("* [00:00] Intro", 0, "Intro"),
        ("+ 00:00 Intro", 0, "Intro"),
        ("1. 00:00 Intro", 0, "Intro"),
        ("12) 00:00 Intro", 0, "Intro"),
        ("> 00:00 Intro", 0, "Intro"),
        ("**00:00** Intro", 0, "Intro"),
        ("*00:00* Intro", 0, "Intro"),
        ("__[00:00]__ Intro", 0, "Intro"),
        ("[**00:00**] Intro", 0, "Intro"),
        ("**00:00 Intro**", 0, "Intro"),
        ("- **01:24** - Jet's take", 84, "Jet's take"),
        ("[00:00](https://www.youtube.com/watch?v=x&t=0s) Intro", 0, "Intro"),
        ("75:10 Long episode", 4510, "Long episode"),
        ("00:00:05.250 With millis", 5.25, "With millis"),
        ('[39:37] "Patterntastic"', 2377, '"Patterntastic"'),
        ("00:00 Intro  ", 0, "Intro"),
        ("00:00 Intro\\", 0, "Intro"),
        ("[12:00] We met at 10:30 for coffee", 720, "We met at 10:30 for coffee"),
    ],
)
def test_show_notes_line_forms(line: str, start: float, title: str) -> None:
    assert parse_chapter_line(line) == [Chapter(start_s=start, title=title)]


def test_markdown_link_in_title_gives_title_and_url() -> None:
    (chapter,) = parse_chapter_line("05:00 - [Satalia](https://satalia.com) and culture")
    assert (chapter.title, chapter.url) == ("Satalia and culture", "https://satalia.com")


def test_time_in_a_link_title_does_not_split_the_line() -> None:
    (chapter,) = parse_chapter_line('00:00 Intro [talk](https://example.com/t "from 12:30 on")')
    assert (chapter.title, chapter.url) == ("Intro talk", "https://example.com/t")


def test_time_range_gives_an_end() -> None:
    assert parse_chapter_line("00:00 - 05:00 Intro") == [Chapter(start_s=0, title="Intro", end_s=300)]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('[37:43] Annotation [39:37] "Patterntastic"', [(2263, "Annotation"), (2377, '"Patterntastic"')]),
        ("(00:00) Intro (01:00) Topic (02:00) End", [(0, "Intro"), (60, "Topic"), (120, "End")]),
        ("00:00 Intro 05:00 Topic | 10:00 End", [(0, "Intro"), (300, "Topic"), (600, "End")]),
        ("00:00 Intro, 05:00 - Topic", [(0, "Intro"), (300, "Topic")]),
        ("00:00 Intro [05:00] Topic", [(0, "Intro"), (300, "Topic")]),
        ("- 00:00 See https://youtu.be/abc?t=1:23 then 05:00 Topic", [
            (0, "See https://youtu.be/abc?t=1:23 then"), (300, "Topic"),
        ]),
    ],
)
def test_several_timestamps_on_one_line(line: str, expected: list[tuple[float, str]]) -> None:
    assert [(c.start_s, c.title) for c in parse_chapter_line(line)] == expected


@pytest.mark.parametrize(
    "line",
    [
        "https://www.youtube.com/watch?v=vH7UFZZdja8&t=5s Lak design patterns",
        "https://youtu.be/abc?t=90",
        "Watch it at https://www.youtube.com/watch?v=x&t=1:23",
        "https://example.com/?t=1:23 Title",
        "[talk](https://youtu.be/abc?t=12:30)",
        "<https://youtu.be/abc?t=1:02:03>",
    ],
)
def test_times_in_urls_are_not_chapters(line: str) -> None:
    assert parse_chapter_line(line) == []


@pytest.mark.parametrize(
    "line",
    [
        "we met at 10:30 yesterday",
        "Recorded on 2024-05-01 at 14:00.",
        "10:30am we started",
        "At 1:02:03 Jet says",
        "Call us: +1 555 12:30",
        "10:30:45:12 timecode",
        "12:75 not a time",
    ],
)
def test_prose_times_are_not_chapters(line: str) -> None:
    assert parse_chapter_line(line) == []


# --- show notes as a whole ---------------------------------------------------------------------

SEED_CHAPTERS = [
    ("00:00:00", "Introduction to Jet Basrawi"),
    ("00:01:24", "Jet's take on MLOps"),
    ("00:02:00", '"MLOps - the real Kung fu\'s in the future" Jet'),
    ("00:02:35", 'Jet\'s different opinion on "Tooling is the biggest piece in MLOps".'),
    ("00:04:23", "MLOps is a way of life. It's a lifestyle. It's not just tooling."),
    ("00:04:38", "Why do you have to move over to the cultural side and where feel things fail culturally "
                 "when it comes to machine learning?"),
    ("00:05:47", "What you refer to as an orthodox perspective on DevOps and how that place out in your "
                 "perspective on MLOps?"),
    ("00:06:37", "Why do you believe that the separate terminology is coming about and do you believe that "
                 "this is ultimately harmful to organizations to have this confusion or do you think things "
                 "should be simplified?"),
    ("00:09:05", "As soon as you go down and you're not looking at the big picture. You go down one level "
                 "and they divert completely, is that your thought too?"),
    ("00:12:30", "How do you go about educating yourself and then figuring out how to articulate MLOps or "
                 "constitutes in your organization?"),
    ("00:16:16", "How to do things differently? What are some of your preferred tactics? How to encourage "
                 "culture change?"),
    ("00:19:02", '"Management is NOT Leadership"'),
    ("00:20:13", "Why are people stuck in their agile approach?"),
    ("00:23:57", "Someone's trying to pick something up for the 1st time and then put it into production, "
                 "how dangerous that can be?"),
    ("00:25:53", "Accepting failure"),
    ("00:29:11", "What are some of your principles that helped you communicate to the developers?"),
    ("00:35:33", '"It has to dumb down."'),
    ("00:37:43", "Annotation"),
    ("00:39:37", '"Patterntastic"'),
    ("00:41:24", '"MLOps is a people problem."'),
    ("00:43:50", "Sprint are adequate for machine learning?"),
    ("00:47:03", '"Software development is a social activity"'),
    ("00:48:03", '"We are all juniors in this field."'),
]


def test_seed_show_notes_give_exactly_the_timestamps_block() -> None:
    notes = (DATA / "seed-notes.txt").read_text(encoding="utf-8")
    chapters = from_show_notes(notes)
    assert len(SEED_CHAPTERS) == 23  # 22 lines, one of which holds two timestamps
    assert starts_and_titles(chapters) == SEED_CHAPTERS
    assert all(c.url is None and c.end_s is None and c.toc for c in chapters)
    check_chapters(chapters, duration_s=49 * 60, path=Path("episode.md"), source="show notes")


def test_seed_youtube_links_give_no_chapters() -> None:
    notes = (DATA / "seed-notes.txt").read_text(encoding="utf-8")
    links = notes[notes.index("//Show Notes") :]
    assert "&t=5s" in links and "&t=109" in links
    assert from_show_notes(links) == []
    assert from_show_notes(links + "\n" + links) == []


def test_fewer_than_two_timestamps_give_no_chapters() -> None:
    assert from_show_notes("Intro\n\n00:00 The only timestamp\n\nBye") == []
    assert from_show_notes("") == []


def test_separate_timestamp_lines_are_all_taken_in_order() -> None:
    notes = "# Episode\n\n00:00 Intro\n\nSome prose at 10:30 here.\n\n- 05:00 Topic\n\nMore.\n\n[10:00] End\n"
    assert starts_and_titles(from_show_notes(notes)) == [
        ("00:00:00", "Intro"), ("00:05:00", "Topic"), ("00:10:00", "End"),
    ]


def test_timestamps_in_code_blocks_are_not_chapters() -> None:
    notes = "00:00 Intro\n```\n12:00:01 INFO server started\n12:00:02 INFO ready\n```\n05:00 Topic\n"
    assert starts_and_titles(from_show_notes(notes)) == [("00:00:00", "Intro"), ("00:05:00", "Topic")]


# --- chapters files ----------------------------------------------------------------------------


def test_read_text_chapters_file() -> None:
    chapters = read_chapters_file(CHAPTERS_DATA / "chapters.txt")
    assert starts_and_titles(chapters) == [
        ("00:00:00", "Introduction"),
        ("00:01:24.500", "Jet's take on MLOps"),
        ("00:02:00", '"MLOps - the real Kung fu\'s in the future"'),
        ("00:02:35", "Tooling is not the biggest piece"),
        ("01:02:03", "Late chapter"),
    ]


def test_text_chapters_file_keeps_later_times_in_the_title(tmp_path: Path) -> None:
    path = tmp_path / "chapters.txt"
    path.write_text("00:00 Intro [01:00] still the intro\n10:00 Topic\n", encoding="utf-8")
    assert starts_and_titles(read_chapters_file(path)) == [
        ("00:00:00", "Intro [01:00] still the intro"), ("00:10:00", "Topic"),
    ]


@pytest.mark.parametrize("name", ["chapters.txt", "chapters", "chapters.md"])
def test_text_chapters_file_may_start_with_a_bracketed_time(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("[00:00] Intro\n[01:00] Topic\n", encoding="utf-8")
    assert starts_and_titles(read_chapters_file(path)) == [("00:00:00", "Intro"), ("00:01:00", "Topic")]


def test_read_audacity_labels() -> None:
    assert read_chapters_file(CHAPTERS_DATA / "audacity-labels.txt") == [
        Chapter(start_s=0, title="Intro"),
        Chapter(start_s=84.5, title="Jet's take on MLOps"),
        Chapter(start_s=120, title="Kung fu", end_s=150.25),
    ]


def test_read_json_chapters() -> None:
    assert read_chapters_file(CHAPTERS_DATA / "chapters.json") == [
        Chapter(start_s=0, title="Introduction"),
        Chapter(start_s=84.5, title="Jet's take on MLOps", image="https://example.com/jet.jpg",
                url="https://example.com/jet"),
        Chapter(start_s=120, title="Artwork change", image="https://example.com/art.png", toc=False),
        Chapter(start_s=155, title="Kung f\u00fc \u270c\ufe0f", end_s=300.25),
    ]


def test_json_chapters_are_recognised_by_content(tmp_path: Path) -> None:
    path = tmp_path / "chapters"
    path.write_text('\ufeff  {"version": "1.2.0", "chapters": [{"startTime": 0, "title": "A"}]}', encoding="utf-8")
    assert read_chapters_file(path) == [Chapter(start_s=0, title="A")]


@pytest.mark.parametrize(
    ("content", "line", "words"),
    [
        ('{"version": "1.2.0",\n "chapters": [\n  {"startTime": 0, "title": "A"},\n]}', 4, "not valid JSON"),
        ('{"version": "1.2.0", "chapters": [{"startTime": NaN}]}', None, "NaN"),
        ('[{"startTime": 0, "title": "A"}]', None, "must be an object"),
        ('[\n]', None, "must be an object"),
        ('{"version": "1.2.0"}', 1, 'no "chapters" list'),
        ('{"version": "1.2.0", "chapters": {}}', 1, 'no "chapters" list'),
        ('{"version": "1.2.0", "chapters": []}', 1, "empty"),
        ('{"version": "1.2.0",\n "chapters": [\n  {"startTime": 0, "title": "A"},\n  {"title": "B"}\n]}', 4,
         'chapter 2: "startTime"'),
        ('{"version": "1.2.0",\n "chapters": [\n  {"startTime": "00:01:24", "title": "A"}]}', 3, '"startTime"'),
        ('{"version": "1.2.0",\n "chapters": [\n  {"startTime": -1, "title": "A"}]}', 3, '"startTime"'),
        ('{"version": "1.2.0",\n "chapters": [\n  {"startTime": true, "title": "A"}]}', 3, '"startTime"'),
        ('{"version": "1.2.0",\n "chapters": [\n  {"startTime": 0, "title": 5}]}', 3, '"title"'),
        ('{"version": "1.2.0",\n "chapters": [\n  {"startTime": 0, "title": "A", "toc": "no"}]}', 3, '"toc"'),
        ('{"version": "1.2.0",\n "chapters": [\n  {"startTime": 0, "title": "A", "img": 1}]}', 3, '"img"'),
        ('{"version": "1.2.0",\n "chapters": [\n  {"startTime": 0, "title": "A", "endTime": "x"}]}', 3,
         '"endTime"'),
        ('{"version": "1.2.0", "chapters": [3]}', 1, "chapter 1 is not an object"),
    ],
)
def test_bad_json_chapters_name_file_and_line(tmp_path: Path, content: str, line: int | None, words: str) -> None:
    path = tmp_path / "chapters.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ChapterError) as caught:
        read_chapters_file(path)
    err = caught.value
    assert err.path == str(path) and err.line == line and words in err.message and err.hint
    assert str(err).startswith(f"{path}:{line}: " if line else f"{path}: ")


def test_non_utf8_chapters_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "chapters.txt"
    path.write_bytes("00:00 Intro\n01:00 Caf\u00e9\n".encode("latin-1"))
    with pytest.raises(ChapterError) as caught:
        read_chapters_file(path)
    assert (caught.value.path, caught.value.line) == (str(path), 2)
    assert "UTF-8" in caught.value.message and "UTF-8" in caught.value.hint


@pytest.mark.parametrize(
    ("content", "line", "words"),
    [
        ("00:00 Intro\n\n# fine\nIntro to part two\n", 4, "not a chapter line"),
        ("00:00\tIntro\nOutro 10:00\n", 2, "not a chapter line"),
        ("0.0\t0.0\tIntro\n5.0 Topic\n", 2, "not an Audacity label line"),
        ("\n# only a comment\n", None, "no chapters"),
    ],
)
def test_bad_text_chapters_name_file_and_line(tmp_path: Path, content: str, line: int | None, words: str) -> None:
    path = tmp_path / "chapters.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ChapterError) as caught:
        read_chapters_file(path)
    assert (caught.value.path, caught.value.line) == (str(path), line)
    assert words in caught.value.message and caught.value.hint


def test_missing_chapters_file(tmp_path: Path) -> None:
    with pytest.raises(ChapterError, match="cannot read"):
        read_chapters_file(tmp_path / "nope.json")


# --- front matter ------------------------------------------------------------------------------

FRONT_MATTER = """\
chapters:
  - {start: 0, title: Intro}
  - {start: 1:24, title: Unquoted sexagesimal}
  - {start: "00:02:00", title: Quoted, url: "https://example.com", image: art.png}
  - {start: 150.5, title: Seconds, toc: false, end: "00:03:00"}
  - "00:04:00 As a string"
  - {start: 1:05:00, title: Late}
"""


def test_front_matter_chapters_through_pyyaml() -> None:
    items = yaml.safe_load(FRONT_MATTER)["chapters"]
    assert items[1]["start"] == 84  # what PyYAML (YAML 1.1) makes of an unquoted 1:24
    assert from_front_matter(items, path=Path("episode.md"), line=3) == [
        Chapter(start_s=0, title="Intro"),
        Chapter(start_s=84, title="Unquoted sexagesimal"),
        Chapter(start_s=120, title="Quoted", url="https://example.com", image="art.png"),
        Chapter(start_s=150.5, title="Seconds", toc=False, end_s=180),
        Chapter(start_s=240, title="As a string"),
        Chapter(start_s=3900, title="Late"),
    ]


@pytest.mark.parametrize(
    ("items", "field", "words"),
    [
        ("00:00 Intro", "chapters", "must be a list"),
        ([{"title": "No start"}], "chapters[0]", "no start"),
        ([{"start": "soon", "title": "A"}], "chapters[0].start", "not a time"),
        ([{"start": True, "title": "A"}], "chapters[0].start", "not a time"),
        ([{"start": -3, "title": "A"}], "chapters[0].start", "negative"),
        ([{"start": 0, "title": None}], "chapters[0].title", "title"),
        ([{"start": 0, "title": "A", "toc": "no"}], "chapters[0].toc", "toc"),
        ([{"start": 0, "title": "A", "url": 3}], "chapters[0].url", "url"),
        ([{"start": 0, "tilte": "A"}], "chapters[0]", "unknown key tilte"),
        (["Intro at 00:00"], "chapters[0]", "does not start with a time"),
        ([["00:00", "Intro"]], "chapters[0]", "mapping"),
    ],
)
def test_bad_front_matter_chapters(items: object, field: str, words: str) -> None:
    with pytest.raises(ChapterError) as caught:
        from_front_matter(items, path=Path("episodes/x/episode.md"), line=7)  # type: ignore[arg-type]
    err = caught.value
    assert (err.path, err.line, err.field) == ("episodes/x/episode.md", 7, field)
    assert words in err.message


# --- checks ------------------------------------------------------------------------------------

OK = [Chapter(start_s=0, title="Intro"), Chapter(start_s=60, title="Topic"), Chapter(start_s=120, title="End")]


def test_good_chapters_pass() -> None:
    check_chapters(OK, duration_s=180, path=Path("e.md"), source="show notes of e.md")
    check_chapters(OK, duration_s=None, path=Path("e.md"), source="show notes of e.md")
    check_chapters([Chapter(start_s=0, title="A", end_s=180.4)], duration_s=180, path=Path("e.md"), source="x")


@pytest.mark.parametrize(
    ("chapters", "duration", "words"),
    [
        ([], 180, "no chapters"),
        ([Chapter(start_s=5, title="Intro"), *OK[1:]], 180, 'chapter 1 (00:00:05 "Intro") is the first chapter'),
        ([OK[0], OK[2], OK[1]], 180, 'chapter 3 (00:01:00 "Topic") starts before chapter 2 (00:02:00 "End")'),
        ([OK[0], OK[1], Chapter(start_s=60, title="Again")], 180,
         'chapter 3 (00:01:00 "Again") starts at the same time as chapter 2 (00:01:00 "Topic")'),
        (OK, 100, 'chapter 3 (00:02:00 "End") starts after the end of the audio (00:01:40.000)'),
        (OK, 120, 'chapter 3 (00:02:00 "End") starts after the end'),
        ([OK[0], Chapter(start_s=60, title="  ")], 180, 'chapter 2 (00:01:00 "  ") has no title'),
        ([OK[0], Chapter(start_s=60.5, title="T", end_s=30)], 180, 'chapter 2 (00:01:00.500 "T") ends at'),
        ([OK[0], Chapter(start_s=60, title="T", end_s=60)], 180, "not after its start"),
        ([OK[0], Chapter(start_s=60, title="T", end_s=181)], 180, "after the end of the audio"),
        ([Chapter(start_s=-1, title="T")], 180, "negative"),
    ],
)
def test_check_chapters_failures_name_the_chapter_and_source(
    chapters: list[Chapter], duration: float, words: str
) -> None:
    with pytest.raises(ChapterError) as caught:
        check_chapters(chapters, duration_s=duration, path=Path("episodes/x/episode.md"),
                       source="show notes of episodes/x/episode.md")
    err = caught.value
    assert words in err.message
    assert "show notes of episodes/x/episode.md" in err.message
    assert err.path == "episodes/x/episode.md" and err.hint


# --- JSON out ----------------------------------------------------------------------------------

RICH = [
    Chapter(start_s=0, title="Intro"),
    Chapter(start_s=84.5, title="Kung f\u00fc \u270c\ufe0f", url="https://example.com/k", image="art.png"),
    Chapter(start_s=120.0004, title="Silent", image="https://cdn.example.com/a.jpg", toc=False),
    Chapter(start_s=150, title="Ends", end_s=300.25),
]


def test_to_json_layout() -> None:
    data = to_json(RICH, title="Ep", podcast_name="Show", author="Me", file_name="ep.mp3",
                   image_url=lambda name: f"https://example.com/ep/{name}")
    assert data.endswith(b"}\n") and "f\u00fc".encode() in data  # UTF-8, not \u escapes
    doc = json.loads(data)
    assert list(doc) == ["version", "title", "podcastName", "author", "fileName", "chapters"]
    assert doc["version"] == "1.2.0"
    assert doc["chapters"] == [
        {"startTime": 0, "title": "Intro"},
        {"startTime": 84.5, "title": "Kung f\u00fc \u270c\ufe0f", "img": "https://example.com/ep/art.png",
         "url": "https://example.com/k"},
        {"startTime": 120, "title": "Silent", "img": "https://cdn.example.com/a.jpg", "toc": False},
        {"startTime": 150, "title": "Ends", "endTime": 300.25},
    ]
    assert list(doc["chapters"][1]) == ["startTime", "title", "img", "url"]
    assert b'"startTime": 0,' in data and b'"startTime": 120,' in data  # ints, not 0.0


def test_to_json_minimal() -> None:
    assert to_json([Chapter(start_s=0, title="A")]) == (
        b'{\n  "version": "1.2.0",\n  "chapters": [\n    {\n      "startTime": 0,\n      "title": "A"\n'
        b"    }\n  ]\n}\n"
    )


def test_to_json_bytes_are_deterministic() -> None:
    first = to_json(RICH, title="Ep", image_url=lambda name: "https://e.com/" + name)
    again = to_json(list(RICH), title="Ep", image_url=lambda name: "https://e.com/" + name)
    assert first == again
    assert to_json(RICH) != to_json(RICH[:3])


def test_json_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "chapters.json"
    path.write_bytes(to_json(RICH, image_url=lambda name: "https://example.com/" + name))
    back = read_chapters_file(path)
    assert back[0] == RICH[0] and back[3] == RICH[3]
    assert back[1] == Chapter(start_s=84.5, title=RICH[1].title, url=RICH[1].url,
                              image="https://example.com/art.png")
    assert back[2].start_s == 120 and back[2].toc is False
    assert to_json(back) == path.read_bytes()


def test_text_file_round_trips_through_json(tmp_path: Path) -> None:
    chapters = read_chapters_file(CHAPTERS_DATA / "chapters.txt")
    path = tmp_path / "chapters.json"
    path.write_bytes(to_json(chapters))
    assert read_chapters_file(path) == chapters


# --- ends for audio tags -----------------------------------------------------------------------


def test_with_end_times() -> None:
    chapters = [Chapter(start_s=0, title="A"), Chapter(start_s=60, title="B", end_s=90), Chapter(start_s=120, title="C")]
    assert [c.end_s for c in with_end_times(chapters, 200.5)] == [60, 90, 200.5]
    assert with_end_times([], 10) == []


# --- what a JSON chapters file holds is kept, or said ----------------------------------------

LOCATED = """{
  "version": "1.2.0",
  "waypoints": true,
  "chapters": [
    {"startTime": 0, "title": "Start",
     "location": {"name": "Austin, TX", "geo": "geo:30.2672,-97.7431", "osm": "R113314"}},
    {"startTime": 60, "title": "On the road", "location": {"name": "Sea", "geo": "geo:0,0"}, "colour": "red"}
  ]
}"""


def test_json_chapter_location_is_kept_and_written_back(tmp_path: Path) -> None:
    from feedtool.model import Location

    path = tmp_path / "chapters.json"
    path.write_text(LOCATED, encoding="utf-8")
    chapters = read_chapters_file(path)
    assert chapters[0].location == Location(name="Austin, TX", geo="geo:30.2672,-97.7431", osm="R113314")
    assert chapters[1].location == Location(name="Sea", geo="geo:0,0")
    written = json.loads(to_json(chapters))
    assert written["chapters"][0]["location"] == {"name": "Austin, TX", "geo": "geo:30.2672,-97.7431",
                                                  "osm": "R113314"}
    assert written["chapters"][1]["location"] == {"name": "Sea", "geo": "geo:0,0"}
    again = tmp_path / "again.json"
    again.write_bytes(to_json(chapters))
    assert read_chapters_file(again) == chapters


def test_json_keys_that_are_not_published_are_said(tmp_path: Path) -> None:
    path = tmp_path / "chapters.json"
    path.write_text(LOCATED, encoding="utf-8")
    notices: list[str] = []
    read_chapters_file(path, notices=notices)
    assert len(notices) == 2
    assert notices[0].startswith(f"{path}:1: ") and '"waypoints" is not published' in notices[0]
    assert notices[1].startswith(f"{path}:7: ") and 'chapter 2: "colour"' in notices[1]


@pytest.mark.parametrize(
    ("location", "words"),
    [
        ('"Austin"', '"location" must be an object'),
        ('{"geo": "geo:1,2"}', '"name"'),
        ('{"name": "Austin"}', '"geo"'),
        ('{"name": "Austin", "geo": "30.2,-97.7"}', '"geo"'),
        ('{"name": "Austin", "geo": "geo:1,2", "osm": 5}', '"osm"'),
    ],
)
def test_bad_json_chapter_location(tmp_path: Path, location: str, words: str) -> None:
    path = tmp_path / "chapters.json"
    path.write_text('{"version": "1.2.0", "chapters": [\n {"startTime": 0, "title": "A", "location": '
                    + location + "}]}", encoding="utf-8")
    with pytest.raises(ChapterError) as caught:
        read_chapters_file(path)
    assert caught.value.line == 2 and words in caught.value.message and "geo:" in caught.value.hint


# --- links and characters that are never published ---------------------------------------------


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "/relative", "ftp://example.com/"])
def test_chapter_links_must_be_http(tmp_path: Path, url: str) -> None:
    path = tmp_path / "chapters.json"
    path.write_text(json.dumps({"version": "1.2.0", "chapters": [{"startTime": 0, "title": "A", "url": url}]}),
                    encoding="utf-8")
    with pytest.raises(ChapterError, match="http"):
        read_chapters_file(path)
    with pytest.raises(ChapterError, match="http"):
        from_front_matter([{"start": 0, "title": "A", "url": url}], path=Path("episode.md"), line=3)
    (chapter,) = parse_chapter_line(f"00:00 [A]({url})")
    assert chapter.title == "A" and chapter.url is None  # as the notes' HTML drops the link


def test_control_characters_never_reach_chapter_titles(tmp_path: Path) -> None:
    path = tmp_path / "chapters.json"
    path.write_text('{"version": "1.2.0", "chapters": [{"startTime": 0, "title": "A\\u0001B\\u001b\\u0085"}]}',
                    encoding="utf-8")
    assert read_chapters_file(path)[0].title == "AB"
    assert parse_chapter_line("00:00 Del\x7f and C1\x85")[0].title == "Del and C1"


# --- messages quote at most a short excerpt -----------------------------------------------------


def test_a_bad_line_is_quoted_short_and_escaped(tmp_path: Path) -> None:
    path = tmp_path / "chapters.txt"
    path.write_text("00:00 Intro\nSECRET=" + "x" * 500 + "\x1b[31m\n", encoding="utf-8")
    with pytest.raises(ChapterError) as caught:
        read_chapters_file(path)
    message = str(caught.value)
    assert "x" * 61 not in message and "\x1b" not in message and "SECRET=xxx" in message


def test_a_bad_json_value_is_quoted_short(tmp_path: Path) -> None:
    path = tmp_path / "chapters.json"
    path.write_text(json.dumps({"version": "1.2.0", "chapters": [{"startTime": "y" * 5000, "title": "A"}]}),
                    encoding="utf-8")
    with pytest.raises(ChapterError) as caught:
        read_chapters_file(path)
    assert "y" * 61 not in str(caught.value) and len(str(caught.value)) < 400


def test_a_file_with_nul_bytes_is_refused_without_quoting_it(tmp_path: Path) -> None:
    path = tmp_path / "chapters.txt"
    path.write_bytes(b"AWS_SECRET_ACCESS_KEY=abc\x00HOME=/root\x00")
    with pytest.raises(ChapterError) as caught:
        read_chapters_file(path)
    assert "NUL" in caught.value.message and "AWS_SECRET" not in str(caught.value)


def test_a_link_with_parentheses_in_its_url() -> None:
    (chapter,) = parse_chapter_line("12:00 [Lambda](https://en.wikipedia.org/wiki/Lambda_(disambiguation)) talk")
    assert (chapter.title, chapter.url) == ("Lambda talk", "https://en.wikipedia.org/wiki/Lambda_(disambiguation)")

"""What load accepts: the same values validate accepts, control characters written as YAML
escapes, drafts without audio, dangling links and very long names."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import PodcastFactory, run_cli
from lxml import etree

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"


def pc(name: str) -> str:
    return f"{{{PODCAST_NS}}}{name}"


def it(name: str) -> str:
    return f"{{{ITUNES_NS}}}{name}"


# ----------------------------------------------------------------------------- build <-> validate

def _child(parent: Any, tag: str) -> Any:
    found = parent.find(tag)
    return found if found is not None else etree.SubElement(parent, tag)


def channel_text(tag: str) -> Callable[[Any, str], None]:
    def mutate(channel: Any, value: str) -> None:
        _child(channel, tag).text = value
    return mutate


def channel_attr(tag: str, attribute: str, text: str = "x") -> Callable[[Any, str], None]:
    def mutate(channel: Any, value: str) -> None:
        element = _child(channel, tag)
        element.text = element.text or text
        element.set(attribute, value)
    return mutate


def category(channel: Any, value: str) -> None:
    for old in channel.findall(it("category")):
        channel.remove(old)
    top, _, sub = (part.strip() for part in value.partition(">"))
    element = etree.SubElement(channel, it("category"), text=top)
    if sub:
        etree.SubElement(element, it("category"), text=sub)


def item_text(tag: str) -> Callable[[Any, str], None]:
    def mutate(channel: Any, value: str) -> None:
        _child(channel.find("item"), tag).text = value
    return mutate


def soundbite_start(channel: Any, value: str) -> None:
    from feedtool.feed import seconds_attr

    element = _child(channel.find("item"), pc("soundbite"))
    element.text = "Bite"
    element.set("startTime", seconds_attr(float(value)))
    element.set("duration", "5")


# (show or episode, key, YAML value, the same value in the feed's XML)
PARITY: list[tuple[str, str, str, Callable[[Any, str], None]]] = [
    ("show", "language", "en", channel_text("language")),
    ("show", "language", "en-us", channel_text("language")),
    ("show", "language", "pt-BR", channel_text("language")),
    ("show", "language", "fil", channel_text("language")),
    ("show", "language", "xx", channel_text("language")),  # the case: built, then refused by publish
    ("show", "language", "english", channel_text("language")),
    ("show", "language", "zz-ZZ", channel_text("language")),
    ("show", "medium", "music", channel_text(pc("medium"))),
    ("show", "medium", "audiobook", channel_text(pc("medium"))),
    ("show", "medium", "radio", channel_text(pc("medium"))),
    ("show", "podcast_guid", "ead4c236-bf58-58c6-a2c6-a6b28d128cb6", channel_text(pc("guid"))),
    ("show", "podcast_guid", "EAD4C236-BF58-58C6-A2C6-A6B28D128CB6", channel_text(pc("guid"))),
    ("show", "podcast_guid", "ead4c236bf5858c6a2c6a6b28d128cb6", channel_text(pc("guid"))),
    ("show", "podcast_guid", "'{ead4c236-bf58-58c6-a2c6-a6b28d128cb6}'", channel_text(pc("guid"))),
    ("show", "funding", "https://example.com/support", channel_attr(pc("funding"), "url")),
    ("show", "funding", "http://example.com/support", channel_attr(pc("funding"), "url")),
    ("show", "people", "[{name: Ann, href: 'https://example.com/ann'}]", channel_attr(pc("person"), "href")),
    ("show", "people", "[{name: Ann, href: 'http://example.com/ann'}]", channel_attr(pc("person"), "href")),
    ("show", "license", "{identifier: CC-BY-4.0, url: 'http://example.com/l'}", channel_attr(pc("license"), "url")),
    ("show", "categories", "[Technology]", category),
    ("show", "categories", "['News > Tech News']", category),
    ("show", "categories", "[Tech]", category),
    ("show", "categories", "['Technology > Tech News']", category),
    ("show", "type", "serial", channel_text(it("type"))),
    ("show", "type", "Serial", channel_text(it("type"))),
    ("episode", "episode", "3", item_text(it("episode"))),
    ("episode", "episode", "0", item_text(it("episode"))),
    ("episode", "episode_type", "bonus", item_text(it("episodeType"))),
    ("episode", "episode_type", "extra", item_text(it("episodeType"))),
    ("episode", "soundbites", "[{start: 0, duration: 5}]", soundbite_start),
    ("episode", "soundbites", "[{start: -1, duration: 5}]", soundbite_start),
]


def _xml_value(key: str, yaml_value: str) -> str:
    """What the feed holds for a YAML value (the URL or number inside a structured value)."""
    import yaml

    value = yaml.safe_load(f"v: {yaml_value}")["v"]
    if key == "funding":
        return str(value)
    if key == "people":
        return value[0]["href"]
    if key == "license":
        return value["url"]
    if key == "categories":
        return value[0]
    if key == "soundbites":
        return str(value[0]["start"])
    return str(value)


@pytest.fixture(scope="module")
def built_feed(tmp_path_factory: pytest.TempPathFactory, tone, artwork_jpg) -> bytes:
    from feedtool.build import build_podcast

    factory = PodcastFactory(tmp_path_factory.mktemp("parity"), tone, artwork_jpg)
    factory.add("first", number=1, seconds=3)
    build_podcast(factory.episodes, factory.public)
    return (factory.public / "feed.xml").read_bytes()


def _validator_errors(feed: bytes) -> list[str]:
    from feedtool.validation import validate_feed_bytes

    report = validate_feed_bytes(feed, check_media=False)
    return [f"{f.rule}: {f.message}" for f in report.findings if f.severity == "error"]


def test_the_built_example_has_no_errors(built_feed: bytes) -> None:
    assert _validator_errors(built_feed) == []


@pytest.mark.parametrize("where, key, value, mutate", PARITY,
                         ids=[f"{c[1]}={c[2]}" for c in PARITY])
def test_build_accepts_a_value_exactly_when_validate_does(
    where: str, key: str, value: str, mutate, built_feed: bytes, tmp_path: Path, tone, artwork_jpg
) -> None:
    """Every field value both check: load refuses it if and only if validate reports an error for
    it in the feed (so a show that builds never fails publish's validation, and the reverse)."""
    from feedtool.errors import InputError
    from feedtool.load import load_episode, load_show

    factory = PodcastFactory(tmp_path, tone, artwork_jpg)
    factory.add("first", number=1, seconds=3)
    if where == "show":
        factory.set_show(**{key: value})
    else:
        path = factory.episodes / "first/episode.md"
        path.write_text(path.read_text().replace("episode: 1\n", "" if key == "episode" else "episode: 1\n")
                        .replace("---\n", f"---\n{key}: {value}\n", 1), encoding="utf-8")
    try:
        show = load_show(factory.episodes)
        load_episode(factory.episodes / "first", show)
        loads, why = True, ""
    except InputError as error:
        loads, why = False, str(error)

    root = etree.fromstring(built_feed)
    mutate(root.find("channel"), _xml_value(key, value))
    errors = _validator_errors(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    assert loads == (not errors), f"load: {why or 'accepted'}; validate: {errors or 'accepted'}"


def test_language_xx_is_refused_with_the_validators_words(podcast, runner) -> None:
    podcast.set_show(language="xx")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 2
    assert "podcast.yaml:" in result.stderr and "language" in result.stderr
    assert "'xx' is not an ISO 639-1 language code" in result.stderr


def test_only_an_apple_listed_type_may_be_the_enclosure(podcast, runner, tone) -> None:
    shutil.copyfile(tone("opus", 5), podcast.episodes / "second/audio.opus")
    md = podcast.episodes / "second/episode.md"
    md.write_text(md.read_text().replace("audio: audio.mp3", "audio: [audio.opus, audio.mp3]"), encoding="utf-8")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 2
    assert "second/episode.md:4" in result.stderr and "Apple lists no .opus enclosure" in result.stderr
    md.write_text(md.read_text().replace("[audio.opus, audio.mp3]", "[audio.mp3, audio.opus]"), encoding="utf-8")
    assert run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public).exit_code == 0


def test_lengths_validate_only_warns_about_are_build_warnings(podcast, runner) -> None:
    md = podcast.episodes / "second/episode.md"
    md.write_text(md.read_text().replace("episode: 2", "episode: 2\nepisode_display: " + "D" * 40 + "\n"
                                         "funding: [{url: 'https://example.com/', text: " + "t" * 200 + "}]"),
                  encoding="utf-8")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 0, result.output
    assert "episode_display: is 40 characters; apps may cut it after 32" in result.stderr
    assert "funding[0].text: is 200 characters; apps may cut it after 128" in result.stderr


def test_base_url_must_be_https_and_ascii(podcast, runner) -> None:
    podcast.set_show(base_url="http://cdn.example.com/show/")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 2 and "base_url" in result.stderr and "https://" in result.stderr
    podcast.set_show(base_url="https://cdn.example.com/my show/")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 2 and "has spaces" in result.stderr
    podcast.set_show(base_url="https://cdn.example.com/show/")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public,
                     "--base-url", "http://127.0.0.1:8000/")
    assert result.exit_code == 0 and "--base-url http://127.0.0.1:8000/ is not https://" in result.stderr


# ----------------------------------------------------------------------------- drafts

def test_a_draft_without_audio_is_left_out_of_a_drafts_build_with_a_warning(podcast, runner) -> None:
    folder = podcast.episodes / "idea"
    folder.mkdir()
    (folder / "episode.md").write_text("---\ntitle: An idea\ndate: 2024-02-01\ndraft: true\n---\nLater.\n",
                                       encoding="utf-8")
    later = podcast.add("later", number=3, extra="draft: true")
    (later / "audio.mp3").unlink()  # named in 'audio:', not recorded yet
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public, "--drafts")
    assert result.exit_code == 0, result.output
    assert "draft 'idea' has no audio yet" in result.stderr
    assert "draft 'later' has no audio yet" in result.stderr
    feed = etree.parse(str(podcast.public / "feed.xml"))
    assert len(feed.findall("channel/item")) == 2
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 0 and "left out 2 draft(s)" in result.output and "no audio yet" not in result.stderr


def test_a_draft_keeps_the_alternates_that_are_there(podcast, runner, tone) -> None:
    md = podcast.episodes / "second/episode.md"
    md.write_text(md.read_text().replace("audio: audio.mp3", "audio: [audio.mp3, audio.opus]\ndraft: true"),
                  encoding="utf-8")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public, "--drafts")
    assert result.exit_code == 0, result.output
    assert "audio: audio.opus is not there yet" in result.stderr
    assert len(etree.parse(str(podcast.public / "feed.xml")).findall("channel/item")) == 2


def test_a_published_episode_without_audio_is_still_an_error(podcast, runner) -> None:
    md = podcast.episodes / "second/episode.md"
    md.write_text(md.read_text().replace("audio: audio.mp3\n", ""), encoding="utf-8")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public, "--drafts")
    assert result.exit_code == 2 and "audio: is required" in result.stderr


# ----------------------------------------------------------------------------- control characters

@pytest.mark.parametrize("where, old, new, expected", [
    ("second/episode.md", 'title: "Second: ünïcödé 日本語 😀"', 'title: "A\\x01B"',
     ["second/episode.md:2: title:", "U+0001", "escape"]),
    ("second/episode.md", "episode: 2", 'episode: 2\npeople:\n  - {name: "Ann\\a", role: guest}',
     ["second/episode.md:", "people[0].name:", "U+0007"]),
    ("second/episode.md", "episode: 2", 'episode: 2\nsummary: "a\\0b"', ["second/episode.md:6: summary:", "U+0000"]),
    ("second/episode.md", "episode: 2", 'episode: 2\nitunes_title: "\\uFFFE\\e"', ["itunes_title:", "U+FFFE"]),
    ("podcast.yaml", "author: Test Author", 'author: "\\u001b[31mred"', ["podcast.yaml:2: author:", "U+001B"]),
])
def test_control_characters_written_as_yaml_escapes_are_refused(podcast, runner, where: str, old: str, new: str,
                                                                expected: list[str]) -> None:
    path = podcast.episodes / where
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for fragment in expected:
        assert fragment in result.stderr, f"{fragment!r} not in {result.stderr!r}"


def test_tabs_and_newlines_written_as_escapes_are_fine(podcast, runner) -> None:
    md = podcast.episodes / "second/episode.md"
    md.write_text(md.read_text().replace("episode: 2", 'episode: 2\nsummary: "one\\ttwo\\nthree \\\\ four"'),
                  encoding="utf-8")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 0, result.output


# ----------------------------------------------------------------------------- dangling links, long names

def test_dangling_editor_lock_files_do_not_stop_a_build(podcast, runner) -> None:
    os.symlink("user@host.1234:1700000000", podcast.episodes / "second/.#episode.md")
    os.symlink("user@host.1234:1700000000", podcast.episodes / ".#podcast.yaml")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 0, result.output
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 0 and "up to date" in result.output
    (podcast.episodes / "second/.#episode.md").unlink()  # the editor closes: a change, not a crash
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 0 and "up to date" not in result.output


def test_long_file_names_get_short_output_names(podcast, runner, artwork_jpg) -> None:
    long_audio = "a" * 246 + ".mp3"  # 250 bytes: a name the file system takes
    long_picture = "p" * 250 + ".jpg"
    os.rename(podcast.episodes / "second/audio.mp3", podcast.episodes / "second" / long_audio)
    shutil.copyfile(artwork_jpg, podcast.episodes / "second" / long_picture)
    md = podcast.episodes / "second/episode.md"
    md.write_text(md.read_text().replace("audio: audio.mp3", f"audio: {long_audio}\nartwork: {long_picture}"),
                  encoding="utf-8")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 0, result.output
    names = [path.name for path in (podcast.public / "second").iterdir()]
    assert any(name.startswith("a" * 50) and name.endswith(".mp3") for name in names)
    assert any(name.startswith("p" * 50) and name.endswith(".jpg") for name in names)
    assert all(len(name.encode()) <= 120 for name in names)


@pytest.mark.parametrize("how", ["front-matter", "out", "episodes"])
def test_names_longer_than_the_file_system_takes_are_clear_errors(podcast, runner, how: str) -> None:
    too_long = "x" * 300
    args = ["build", "--episodes", podcast.episodes, "--out", podcast.public]
    if how == "front-matter":
        md = podcast.episodes / "second/episode.md"
        md.write_text(md.read_text().replace("audio: audio.mp3", f"audio: {too_long}.mp3"), encoding="utf-8")
        expected = "second/episode.md:4: audio: the file name is too long"
    elif how == "out":
        args[4] = podcast.root / too_long
        expected = "the output folder has a name of 300 bytes"
    else:
        args[2] = podcast.root / too_long
        expected = "the episodes folder has a name of 300 bytes"
    result = run_cli(runner, *args)
    assert result.exit_code == 2, result.output
    assert expected in result.stderr and "Traceback" not in result.output


def test_a_show_using_every_key_builds_and_validates_without_errors(podcast, runner, artwork_jpg) -> None:
    """The other half of the parity: whatever load accepts, written into the feed, passes validate."""
    from feedtool.validation import validate_feed

    podcast.set_show(
        medium="music", locked="true", locked_owner="owner@example.com", copyright="'© 2024'",
        funding="[{url: 'https://example.com/support', text: Support}]",
        people="[{name: Ann, role: host, href: 'https://example.com/ann', img: 'https://example.com/a.jpg'}]",
        license="{identifier: CC-BY-4.0, url: 'https://creativecommons.org/licenses/by/4.0/'}",
        location="{name: Austin, geo: 'geo:30.2672,-97.7431', country: us}",
        txt="[{value: verify-me, purpose: applepodcastsverify}]",
        update_frequency="{text: Weekly, rrule: FREQ=WEEKLY}",
        trailers="[{title: Coming soon, url: 'https://example.com/t.mp3', pubdate: 2024-01-01, length: 100, "
                 "type: audio/mpeg, season: 1}]",
        new_feed_url="https://example.com/new.xml", itunes_title="The Show", language="pt-BR")
    folder = podcast.episodes / "second"
    for name, body in (("t.vtt", "WEBVTT\n\n00:00.000 --> 00:01.000\nHi\n"), ("t.srt", "1\n00:00:00,000 --> 00:00:01,000\nHi\n"),
                       ("t.html", "<p>Hi</p>"), ("t.txt", "Hi"), ("t.json", '{"version": "1.0.0", "segments": []}')):
        (folder / name).write_text(body, encoding="utf-8")
    shutil.copyfile(artwork_jpg, folder / "pic.jpg")
    md = folder / "episode.md"
    md.write_text(md.read_text().replace("episode: 2", """episode: 2
season: 1
season_name: First
episode_display: Two
episode_type: full
explicit: true
link: https://example.com/2
artwork: pic.jpg
itunes_title: Second
summary: A short summary.
guid: urn:example:second
transcript: [t.vtt, t.srt, t.html, t.txt, {file: t.json, language: en, rel: captions}]
chapters:
  - {start: 0, title: Start, image: pic.jpg, url: 'https://example.com/c'}
  - {start: 2, title: Middle}
soundbites: [{start: 1, duration: 2.5, title: Bite}]
funding: [{url: 'https://example.com/f', text: Tip}]
location: Home
txt: [note]"""), encoding="utf-8")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 0, result.output
    report = validate_feed(podcast.public / "feed.xml")
    errors = [f"{f.rule}: {f.message}" for f in report.findings if f.severity == "error"]
    assert errors == []

"""Bad input: every case gets exit code 2, a message naming file/field/line and what to do,
no traceback, and the previous public/ left exactly as it was."""

from __future__ import annotations

import shutil
from collections.abc import Callable

import pytest
from conftest import PodcastFactory, run_cli


def set_episode(text: str) -> Callable[[PodcastFactory], None]:
    def apply(podcast: PodcastFactory) -> None:
        (podcast.episodes / "second/episode.md").write_text(text, encoding="utf-8")
    return apply


def edit_episode(old: str, new: str) -> Callable[[PodcastFactory], None]:
    def apply(podcast: PodcastFactory) -> None:
        path = podcast.episodes / "second/episode.md"
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return apply


def edit_show(**changes: str) -> Callable[[PodcastFactory], None]:
    return lambda podcast: podcast.set_show(**changes)


def write_bytes(relative: str, data: bytes) -> Callable[[PodcastFactory], None]:
    return lambda podcast: (podcast.episodes / relative).write_bytes(data)


def add_episode(**kwargs: object) -> Callable[[PodcastFactory], None]:
    return lambda podcast: podcast.add("third", **kwargs)


def truncate_audio(podcast: PodcastFactory) -> None:
    path = podcast.episodes / "second/audio.mp3"
    path.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x10" + b"\x00" * 40)


def cut_audio_in_half(podcast: PodcastFactory) -> None:
    path = podcast.episodes / "second/audio.mp3"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def small_artwork(podcast: PodcastFactory) -> None:
    from PIL import Image

    Image.new("RGB", (800, 800), (0, 0, 0)).save(podcast.episodes / "artwork.jpg", "JPEG")


def png_named_jpg(podcast: PodcastFactory) -> None:
    from PIL import Image

    Image.new("RGB", (1400, 1400), (0, 0, 0)).save(podcast.episodes / "artwork.jpg", "PNG")


def remove_show_file(podcast: PodcastFactory) -> None:
    (podcast.episodes / "podcast.yaml").unlink()


def wav_audio(podcast: PodcastFactory) -> None:
    shutil.copyfile(podcast.episodes / "second/audio.mp3", podcast.episodes / "second/audio.wav")
    edit_episode("audio: audio.mp3", "audio: audio.wav")(podcast)


def lying_extension(podcast: PodcastFactory) -> None:
    shutil.copyfile(podcast.tone("ogg", 5), podcast.episodes / "second/audio.m4a")
    edit_episode("audio: audio.mp3", "audio: audio.m4a")(podcast)


# (case id, how to break the podcast, what the message must contain)
CASES = [
    ("bad-yaml", set_episode("---\ntitle: [unclosed\ndate: 2024-01-01\n---\nnotes\n"),
     ["second/episode.md:", "invalid YAML"]),
    ("no-front-matter", set_episode("Just notes, no front matter.\n"),
     ["second/episode.md:1", "must start with a '---' line"]),
    ("unclosed-front-matter", set_episode("---\ntitle: x\n"), ["second/episode.md", "not closed"]),
    ("unknown-key-suggests", edit_episode("episode: 2", "episode: 2\ntilte: Oops"),
     ["second/episode.md:", "tilte", "did you mean 'title'?"]),
    ("wrong-type-episode", edit_episode("episode: 2", "episode: two"),
     ["second/episode.md:5", "episode", "whole number"]),
    ("episode-zero", edit_episode("episode: 2", "episode: 0"), ["episode", "must be 1 or more"]),
    ("missing-audio-file", edit_episode("audio: audio.mp3", "audio: missing.mp3"),
     ["second/episode.md:4", "audio", "missing.mp3 is not in the episode folder", "records nothing"]),
    ("audio-not-audio", write_bytes("second/audio.mp3", b"<html>not audio</html>" * 50),
     ["second/audio.mp3", "cannot read this audio file"]),
    ("audio-truncated-to-header", truncate_audio, ["second/audio.mp3"]),
    ("audio-cut-short", cut_audio_in_half, ["second/audio.mp3", "truncated"]),
    ("lying-extension", lying_extension, ["second/audio.m4a", "content is OGG"]),
    ("wav-not-publishable", wav_audio, ["second/audio.wav", ".wav", "MP3 or M4A"]),
    ("audio-escapes-folder", edit_episode("audio: audio.mp3", "audio: ../first/audio.mp3"),
     ["second/episode.md", "inside the episode folder"]),
    ("bad-date", edit_episode("date: 2024-01-02T09:00:00Z", "date: 2024-13-45"),
     ["second/episode.md:3", "date", "is not a date", "2024-05-01T09:00:00Z"]),
    ("missing-title", edit_episode('title: "Second: ünïcödé 日本語 😀"\n', ""),
     ["second/episode.md", "title", "is required"]),
    ("bad-episode-type", edit_episode("episode: 2", "episode: 2\nepisode_type: Full"),
     ["episode_type", "'Full' is not allowed", "did you mean 'full'?"]),
    ("unknown-category", edit_show(categories="[Tech]"),
     ["podcast.yaml", "categories", "'Tech' is not an Apple Podcasts category"]),
    ("wrong-subcategory", edit_show(categories="['Technology > Tech News']"),
     ["podcast.yaml", "is not an Apple Podcasts category", "News > Tech News"]),
    ("explicit-not-bool", edit_show(explicit="clean"),
     ["podcast.yaml:", "explicit", "true or false"]),
    ("bad-language", edit_show(language="english"), ["podcast.yaml", "language", "en-us"]),
    ("show-file-missing", remove_show_file, ["no podcast.yaml", "feedtool init"]),
    ("chapters-out-of-order",
     edit_episode("[00:00] Start\n[00:02] Middle", "[00:00] Start\n[00:03] Later\n[00:02] Middle"),
     ["chapter 3", "Middle", "show notes of", "second/episode.md"]),
    ("chapter-past-the-end", edit_episode("[00:02] Middle", "[00:02] Middle\n[09:00] After the end"),
     ["After the end", "audio"]),
    ("chapters-not-from-zero", edit_episode("[00:00] Start", "[00:01] Start"), ["chapter 1", "0"]),
    ("duplicate-guid", lambda p: (edit_episode("episode: 2", "episode: 2\nguid: same")(p),
                                  p.add("third", number=3, extra="guid: same")),
     ["guid 'same' is also used by", "episode.md"]),
    ("duplicate-episode-number", add_episode(number=2),
     ["episode number 2 is also used by", "second/episode.md"]),
    ("non-utf8-episode", write_bytes("second/episode.md", "---\ntitle: café\n---\n".encode("latin-1")),
     ["second/episode.md:2", "not UTF-8", "save the file as UTF-8"]),
    ("non-ascii-folder", lambda p: p.add("épisode", number=3),
     ["épisode", "ASCII", "rename the folder"]),
    ("bad-person", edit_episode("episode: 2", "episode: 2\npeople:\n  - {role: guest}"),
     ["people[0].name", "is required"]),
    ("http-funding-url", edit_episode("episode: 2", "episode: 2\nfunding: [{url: 'ftp://x', text: Hi}]"),
     ["funding[0].url", "is not an absolute http(s) URL"]),
    ("serial-without-numbers", lambda p: (edit_show(type="serial")(p), p.add("third", number=None)),
     ["third/episode.md", "serial show needs an episode number"]),
    ("chapter-image-escapes", edit_episode("episode: 2", "episode: 2\nchapters:\n  - {start: 0, title: A, image: ../../secret.jpg}"),
     ["chapter image '../../secret.jpg'", "inside the episode folder"]),
    ("chapter-image-missing", edit_episode("episode: 2", "episode: 2\nchapters:\n  - {start: 0, title: A, image: nope.png}"),
     ["chapter image 'nope.png'", "file not found"]),
    ("artwork-too-small", small_artwork, ["podcast.yaml", "artwork", "800x800", "1400"]),
    ("artwork-type-lies", png_named_jpg, ["podcast.yaml", "artwork.jpg", "PNG"]),
    ("artwork-not-an-image", write_bytes("artwork.jpg", b"not an image"),
     ["podcast.yaml", "artwork.jpg", "cannot be read as an image"]),
    ("credentials-in-show-file", edit_show(publish="{to: 's3://b', aws_secret_access_key: x}"),
     ["publish.aws_secret_access_key", "unknown key"]),
]


@pytest.mark.parametrize("case_id, breakage, expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_reported_clearly_and_leaves_public_intact(
    podcast: PodcastFactory, runner, case_id: str, breakage, expected: list[str]
) -> None:
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 0, result.output
    before = {p: p.read_bytes() for p in podcast.public.rglob("*") if p.is_file()}

    breakage(podcast)
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)

    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith("Error: ")
    for fragment in expected:
        assert fragment in result.stderr, f"{fragment!r} not in {result.stderr!r}"
    assert {p: p.read_bytes() for p in podcast.public.rglob("*") if p.is_file()} == before


def test_error_excerpts_are_short_and_printable() -> None:
    from feedtool.errors import EXCERPT_LIMIT, excerpt

    assert excerpt("  00:00 Intro  ") == "00:00 Intro"
    long = excerpt("AWS_SECRET_ACCESS_KEY=" + "x" * 500)
    assert len(long) == EXCERPT_LIMIT and long.endswith("…")
    assert excerpt("a\x00b\x1bc") == "a\\x00b\\x1bc"

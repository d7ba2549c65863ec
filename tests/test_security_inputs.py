"""Hostile shows: nothing a show folder holds may publish a file from outside it.

A show folder is often a git checkout that others send pull requests to, and git stores symbolic
links. Each case below builds a show with one hostile file through the real CLI, in a separate
process whose environment holds a secret (as a CI build step holds cloud credentials), and checks:
exit 2, a message naming the link and where it points, and the secret in no output and no file
under public/ or the build cache. The alias bomb runs under a memory limit and a time bound.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import PodcastFactory

SECRET = "AKIAFEEDTOOLTEST-9f3e1c-secret-value"
#: a file outside the show, with the secret in it (a stand-in for ~/.aws/credentials)
OUTSIDE_NAME = "credentials"


@pytest.fixture
def show(tmp_path: Path, tone, artwork_jpg) -> PodcastFactory:
    """A one-episode show under tmp_path/project, and a secret file next to the project."""
    (tmp_path / OUTSIDE_NAME).write_text(f"aws_secret_access_key = {SECRET}\n", encoding="utf-8")
    factory = PodcastFactory(tmp_path / "project", tone, artwork_jpg)
    factory.add("ep1", number=1, seconds=3, notes="Notes.\n")
    return factory


def feedtool(show: PodcastFactory, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The real CLI in its own process, with the secret in its environment."""
    env = {**os.environ, "AWS_SECRET_ACCESS_KEY": SECRET, "FEEDTOOL_JOBS": "1"}
    return subprocess.run([sys.executable, "-m", "feedtool", *args], cwd=show.root, env=env,
                          capture_output=True, text=True, timeout=timeout)


def build(show: PodcastFactory) -> subprocess.CompletedProcess[str]:
    return feedtool(show, "build", "--episodes", "episodes", "--out", "public")


def assert_secret_nowhere(show: PodcastFactory, result: subprocess.CompletedProcess[str]) -> None:
    assert SECRET not in result.stdout and SECRET not in result.stderr
    for folder in (show.public, show.root / ".feedtool-cache"):
        if folder.exists():
            for path in folder.rglob("*"):
                if path.is_file() and not path.is_symlink():
                    assert SECRET.encode() not in path.read_bytes(), path


def edit(show: PodcastFactory, old: str, new: str) -> None:
    path = show.episodes / "ep1/episode.md"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def link(show: PodcastFactory, name: str, target: str) -> None:
    os.symlink(target, show.episodes / name)


ENVIRON = "/proc/self/environ"


def chapter_image_to_environ(show: PodcastFactory) -> None:
    link(show, "ep1/pic.jpg", ENVIRON)
    (show.episodes / "ep1/chapters.json").write_text(
        '{"version": "1.2.0", "chapters": [{"startTime": 0, "title": "A", "img": "pic.jpg"}]}', encoding="utf-8")


def front_matter_chapter_image_outside(show: PodcastFactory) -> None:
    link(show, "ep1/pic.jpg", f"../../../{OUTSIDE_NAME}")
    edit(show, "episode: 1", "episode: 1\nchapters:\n  - {start: 0, title: A, image: pic.jpg}")


def transcript_to_environ(show: PodcastFactory) -> None:
    link(show, "ep1/transcript.vtt", ENVIRON)


def named_transcript_outside(show: PodcastFactory) -> None:
    link(show, "ep1/words.srt", str(show.root.parent / OUTSIDE_NAME))
    edit(show, "episode: 1", "episode: 1\ntranscript: words.srt")


def chapters_txt_to_environ(show: PodcastFactory) -> None:
    link(show, "ep1/chapters.txt", ENVIRON)


def named_chapters_file_outside(show: PodcastFactory) -> None:
    link(show, "ep1/marks.txt", f"../../../{OUTSIDE_NAME}")
    edit(show, "episode: 1", "episode: 1\nchapters: marks.txt")


def episode_artwork_outside(show: PodcastFactory) -> None:
    link(show, "ep1/cover.jpg", f"../../../{OUTSIDE_NAME}")
    edit(show, "episode: 1", "episode: 1\nartwork: cover.jpg")


def show_artwork_to_environ(show: PodcastFactory) -> None:
    (show.episodes / "artwork.jpg").unlink()
    link(show, "artwork.jpg", ENVIRON)


def audio_to_environ(show: PodcastFactory) -> None:
    (show.episodes / "ep1/audio.mp3").unlink()
    link(show, "ep1/audio.mp3", ENVIRON)


def alternate_audio_outside(show: PodcastFactory) -> None:
    link(show, "ep1/audio.ogg", f"../../../{OUTSIDE_NAME}")
    edit(show, "audio: audio.mp3", "audio: [audio.mp3, audio.ogg]")


def episode_file_outside(show: PodcastFactory) -> None:
    outside = show.root.parent / "elsewhere.md"
    outside.write_text((show.episodes / "ep1/episode.md").read_text() + f"\n{SECRET}\n", encoding="utf-8")
    (show.episodes / "ep1/episode.md").unlink()
    link(show, "ep1/episode.md", str(outside))


def show_file_outside(show: PodcastFactory) -> None:
    outside = show.root.parent / "elsewhere.yaml"
    outside.write_text(show.show_file.read_text() + f"copyright: {SECRET}\n", encoding="utf-8")
    show.show_file.unlink()
    link(show, "podcast.yaml", str(outside))


def episode_folder_outside(show: PodcastFactory) -> None:
    outside = show.root.parent / "other-episode"
    shutil.copytree(show.episodes / "ep1", outside)
    (outside / "transcript.vtt").write_text(f"WEBVTT\n\n00:00.000 --> 00:01.000\n{SECRET}\n", encoding="utf-8")
    link(show, "ep2", str(outside))


def chapters_json_is_a_folder(show: PodcastFactory) -> None:
    link(show, "ep1/chapters.json", "..")


def artwork_is_a_folder(show: PodcastFactory) -> None:
    (show.episodes / "ep1/cover.jpg").mkdir()
    edit(show, "episode: 1", "episode: 1\nartwork: cover.jpg")


def transcript_is_a_fifo(show: PodcastFactory) -> None:
    os.mkfifo(show.episodes / "ep1/transcript.vtt")


def chapters_txt_is_a_fifo(show: PodcastFactory) -> None:
    os.mkfifo(show.episodes / "ep1/chapters.txt")


def artwork_is_a_device(show: PodcastFactory) -> None:
    link(show, "ep1/cover.jpg", "/dev/zero")
    edit(show, "episode: 1", "episode: 1\nartwork: cover.jpg")


def dangling_artwork(show: PodcastFactory) -> None:
    link(show, "ep1/cover.jpg", "gone.jpg")
    edit(show, "episode: 1", "episode: 1\nartwork: cover.jpg")


# (id, how to make the show hostile, what the message must say)
CASES: list[tuple[str, Callable[[PodcastFactory], None], list[str]]] = [
    ("chapter-image-environ", chapter_image_to_environ, ["ep1/pic.jpg is a link to /proc/self/environ", "outside the show folder"]),
    ("front-matter-chapter-image-outside", front_matter_chapter_image_outside, ["ep1/pic.jpg is a link to ../../../credentials", "outside"]),
    ("transcript-environ", transcript_to_environ, ["ep1/transcript.vtt is a link to /proc/self/environ", "outside"]),
    ("named-transcript-outside", named_transcript_outside, ["ep1/words.srt is a link to", "credentials", "outside"]),
    ("chapters-txt-environ", chapters_txt_to_environ, ["ep1/chapters.txt is a link to /proc/self/environ"]),
    ("named-chapters-file-outside", named_chapters_file_outside, ["ep1/marks.txt is a link to ../../../credentials"]),
    ("episode-artwork-outside", episode_artwork_outside, ["ep1/cover.jpg is a link to ../../../credentials"]),
    ("show-artwork-environ", show_artwork_to_environ, ["artwork.jpg is a link to /proc/self/environ"]),
    ("audio-environ", audio_to_environ, ["ep1/audio.mp3 is a link to /proc/self/environ"]),
    ("alternate-audio-outside", alternate_audio_outside, ["ep1/audio.ogg is a link to ../../../credentials"]),
    ("episode-md-outside", episode_file_outside, ["ep1/episode.md is a link to", "elsewhere.md", "outside"]),
    ("podcast-yaml-outside", show_file_outside, ["podcast.yaml is a link to", "elsewhere.yaml", "outside"]),
    ("episode-folder-outside", episode_folder_outside, ["goes through the link", "ep2 ->", "other-episode", "outside"]),
    ("chapters-json-folder", chapters_json_is_a_folder, ["ep1/chapters.json is a folder, not a file"]),
    ("artwork-folder", artwork_is_a_folder, ["ep1/cover.jpg is a folder, not a file"]),
    ("transcript-fifo", transcript_is_a_fifo, ["ep1/transcript.vtt is a named pipe (FIFO), not a file"]),
    ("chapters-txt-fifo", chapters_txt_is_a_fifo, ["ep1/chapters.txt is a named pipe (FIFO), not a file"]),
    ("artwork-device", artwork_is_a_device, ["ep1/cover.jpg is a link to /dev/zero", "outside"]),
    ("dangling-artwork", dangling_artwork, ["ep1/cover.jpg", "gone.jpg", "points to nothing"]),
]


@pytest.mark.parametrize("case_id, make_hostile, expected", CASES, ids=[c[0] for c in CASES])
def test_hostile_show_file_is_refused_and_nothing_leaks(show: PodcastFactory, case_id: str, make_hostile,
                                                        expected: list[str]) -> None:
    make_hostile(show)
    result = build(show)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    for fragment in expected:
        assert fragment in result.stderr, f"{fragment!r} not in {result.stderr!r}"
    assert_secret_nowhere(show, result)
    assert not show.public.exists()


def test_hostile_link_added_after_a_build_leaves_public_intact(show: PodcastFactory) -> None:
    assert build(show).returncode == 0
    before = {p: p.read_bytes() for p in show.public.rglob("*") if p.is_file()}
    chapter_image_to_environ(show)
    result = build(show)
    assert result.returncode == 2 and "pic.jpg is a link to /proc/self/environ" in result.stderr
    assert {p: p.read_bytes() for p in show.public.rglob("*") if p.is_file()} == before
    assert_secret_nowhere(show, result)


def test_tag_and_chapters_refuse_the_same_links(show: PodcastFactory, tmp_path: Path) -> None:
    chapter_image_to_environ(show)
    tagged = feedtool(show, "tag", "episodes/ep1/audio.mp3", "--episode", "episodes/ep1",
                      "--output", str(tmp_path / "out.mp3"))
    assert tagged.returncode == 2 and "pic.jpg is a link to /proc/self/environ" in tagged.stderr
    assert not (tmp_path / "out.mp3").exists()
    chapters = feedtool(show, "chapters", "episodes/ep1")
    assert chapters.returncode == 2 and "pic.jpg is a link to /proc/self/environ" in chapters.stderr
    for result in (tagged, chapters):
        assert SECRET not in result.stdout + result.stderr


def test_tagging_metadata_checks_its_own_reads(show: PodcastFactory) -> None:
    """metadata_for_episode (feedtool tag) checks what it reads even when given a model that
    did not come from load (a link made after loading)."""
    from feedtool.errors import InputError
    from feedtool.load import load_episode, load_show
    from feedtool.tagging import metadata_for_episode

    edit(show, "episode: 1", "episode: 1\nchapters:\n  - {start: 0, title: A, image: pic.jpg}")
    shutil.copyfile(show.episodes / "artwork.jpg", show.episodes / "ep1/pic.jpg")
    loaded = load_episode(show.episodes / "ep1", load_show(show.episodes))
    (show.episodes / "ep1/pic.jpg").unlink()
    link(show, "ep1/pic.jpg", f"../../../{OUTSIDE_NAME}")
    with pytest.raises(InputError, match="outside the show folder"):
        metadata_for_episode(load_show(show.episodes), loaded, episode_dir=show.episodes / "ep1")


def test_links_that_stay_inside_the_show_folder_are_fine(show: PodcastFactory) -> None:
    """Shared artwork: an episode's cover and a chapter image linked to the show's artwork."""
    link(show, "ep1/cover.jpg", "../artwork.jpg")
    link(show, "ep1/pic.jpg", str((show.episodes / "artwork.jpg").resolve()))
    edit(show, "episode: 1", "episode: 1\nartwork: cover.jpg\nchapters:\n  - {start: 0, title: A, image: pic.jpg}")
    (show.episodes / "shared.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nHi\n", encoding="utf-8")
    link(show, "ep1/transcript.vtt", "../shared.srt")  # served under its target's name and type
    result = build(show)
    assert result.returncode == 0, result.stderr
    artwork = (show.episodes / "artwork.jpg").read_bytes()
    pictures = [p for p in (show.public / "ep1").glob("*.jpg")]
    assert pictures and all(p.read_bytes() == artwork for p in pictures)
    feed = (show.public / "feed.xml").read_text(encoding="utf-8")
    assert 'shared.srt" type="application/x-subrip"' in feed


def test_hidden_editor_files_are_not_transcripts(show: PodcastFactory) -> None:
    """An editor's lock file (a dangling link) next to a transcript is no transcript."""
    link(show, "ep1/.#transcript.vtt", "user@host.1234")
    result = build(show)
    assert result.returncode == 0, result.stderr


# ----------------------------------------------------------------------------- YAML aliases

#: ~700 bytes: nine levels of nine aliases each. The anchors sit under 'txt' (read late), the
#: alias under a key read early, whose error message would print the value: 9**9 strings.
BOMB_ANCHORS = "txt:\n" + '  - &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"  - &{name} [{','.join(['*' + previous] * 9)}]\n" for previous, name in zip("abcdefgh", "bcdefghi", strict=True))


def _limited_memory() -> None:  # runs in the child before exec: 1 GB of address space at most
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


@pytest.mark.parametrize("where", ["episode.md", "podcast.yaml"])
def test_yaml_alias_bomb_is_refused_before_it_expands(show: PodcastFactory, where: str) -> None:
    assert len(BOMB_ANCHORS) < 800
    if where == "episode.md":
        path = show.episodes / "ep1/episode.md"
        path.write_text("---\ntitle: Bomb\n" + BOMB_ANCHORS + "date: *i\naudio: audio.mp3\n---\nNotes.\n",
                        encoding="utf-8")
    else:
        path = show.show_file
        path.write_text(BOMB_ANCHORS + show.show_file.read_text().replace("explicit: false", "explicit: *i"),
                        encoding="utf-8")
    line = path.read_text().splitlines().index('  - &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]') + 1
    env = {**os.environ, "FEEDTOOL_JOBS": "1"}
    result = subprocess.run([sys.executable, "-m", "feedtool", "build"], cwd=show.root, env=env,
                            capture_output=True, text=True, timeout=30, preexec_fn=_limited_memory)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr
    assert f"{where}:{line}: YAML anchor '&a': anchors and aliases are not supported" in result.stderr


def test_a_lone_alias_is_refused_with_its_line(show: PodcastFactory) -> None:
    from feedtool.errors import InputError
    from feedtool.load import parse_yaml

    with pytest.raises(InputError, match=r"x\.yaml:3: YAML alias '\*t'") as caught:
        parse_yaml("title: Hi\n# the next line names an anchor that is not there\nsummary: *t\n", path=Path("x.yaml"))
    assert caught.value.line == 3
    # Ampersands and asterisks in text are just text.
    assert parse_yaml('title: "Q&A *live*"\nsummary: R&D * 2\n', path=Path("x.yaml")) == {
        "title": "Q&A *live*", "summary": "R&D * 2"}

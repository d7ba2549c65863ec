"""`feedtool chapters SOURCE`: what a Markdown file, an episode without its audio and a linked
system file give, through the command as users run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli


def test_a_markdown_file_is_read_as_show_notes(tmp_path: Path, runner) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# Episode 4\n\nWe talk.\n\n- **00:00** Intro\n- **05:30** Topic\n\nSee you at 10:30!\n",
                     encoding="utf-8")
    result = run_cli(runner, "chapters", notes)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["00:00:00  Intro", "00:05:30  Topic"]
    assert f"2 chapters from the timestamps in {notes}" in result.stderr


def test_markdown_notes_with_chapters_that_do_not_start_at_zero(tmp_path: Path, runner) -> None:
    notes = tmp_path / "notes.markdown"
    notes.write_text("01:00 Late start\n02:00 Next\n", encoding="utf-8")
    result = run_cli(runner, "chapters", notes)
    assert result.exit_code == 2 and "does not start at 00:00:00" in result.output


def test_markdown_without_timestamps_says_so(tmp_path: Path, runner) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("Just prose, recorded at 10:30.\n", encoding="utf-8")
    result = run_cli(runner, "chapters", notes)
    assert result.exit_code == 0 and result.stdout == ""
    assert "0 chapters" in result.stderr and "fewer than two timestamp lines" in result.stderr


def write_episode(folder: Path, *, name: str = "episode.md", body: str = "[00:00] Intro\n[00:02] Topic\n",
                  extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"---\ntitle: Draft\ndate: 2024-01-01T09:00:00Z\naudio: audio.mp3\n{extra}---\n{body}",
                    encoding="utf-8")
    return path


def test_an_episode_without_its_audio_still_shows_its_chapters(tmp_path: Path, runner) -> None:
    folder = tmp_path / "episodes" / "draft"
    write_episode(folder)
    result = run_cli(runner, "chapters", folder)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["00:00:00  Intro", "00:00:02  Topic"]
    assert "end-of-audio check skipped" in result.stderr and str(folder / "audio.mp3") in result.stderr
    assert "missing" in result.stderr


def test_an_episode_with_its_audio_is_checked_against_it(tmp_path: Path, runner, tone) -> None:
    import shutil

    folder = tmp_path / "episodes" / "ep"
    write_episode(folder, body="[00:00] Intro\n[00:09] After the end\n")
    shutil.copyfile(tone("mp3", 5), folder / "audio.mp3")
    result = run_cli(runner, "chapters", folder)
    assert result.exit_code == 2 and "after the end of the audio" in result.output
    write_episode(folder)
    result = run_cli(runner, "chapters", folder / "episode.md")
    assert result.exit_code == 0 and "skipped" not in result.stderr


def test_a_markdown_file_with_front_matter_is_an_episode(tmp_path: Path, runner) -> None:
    """Its chapters come from where a build takes them: here the front matter's list, not the notes."""
    path = write_episode(tmp_path / "next", name="next-week.md", body="[00:00] Not these\n[00:02] Notes\n",
                         extra='chapters:\n  - "00:00 From the front matter"\n  - "00:03 Second"\n')
    result = run_cli(runner, "chapters", path)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["00:00:00  From the front matter", "00:00:03  Second"]
    assert "end-of-audio check skipped" in result.stderr


def test_an_episode_chapters_file_says_what_is_not_published(tmp_path: Path, runner) -> None:
    folder = tmp_path / "ep"
    write_episode(folder)
    (folder / "chapters.json").write_text(json.dumps({"version": "1.2.0", "waypoints": True, "chapters": [
        {"startTime": 0, "title": "A", "location": {"name": "Sea", "geo": "geo:0,0"}}]}), encoding="utf-8")
    result = run_cli(runner, "chapters", folder, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["chapters"] == [
        {"startTime": 0, "title": "A", "location": {"name": "Sea", "geo": "geo:0,0"}}]
    assert '"waypoints" is not published' in result.stderr


SECRET = "feedtool-test-secret-7f3a9c"


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
@pytest.mark.parametrize("command", ["chapters-file", "episode", "build"])
def test_a_chapters_file_linked_to_the_environment_never_prints_it(tmp_path: Path, command: str, podcast) -> None:
    """chapters.txt -> /proc/self/environ: refused with a message, and no secret in any output."""
    folder = podcast.episodes / "first"
    (folder / "chapters.txt").symlink_to("/proc/self/environ")
    target = {"chapters-file": [str(folder / "chapters.txt")], "episode": [str(folder)],
              "build": ["--episodes", str(podcast.episodes), "--out", str(podcast.public)]}[command]
    env = {"FEEDTOOL_TEST_SECRET": SECRET, "AWS_SECRET_ACCESS_KEY": SECRET, **os.environ}
    result = subprocess.run(
        [sys.executable, "-m", "feedtool", "build" if command == "build" else "chapters", *target],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "chapters.txt" in result.stderr

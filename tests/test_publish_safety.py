"""Publish's guards: one publish at a time (lease), a live feed that changed meanwhile, where a local
target may be, what --delete may touch, the grace period, the manifest's unknown keys, --dry-run
above the deletion limit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from public_tree import EpisodeSpec, make_tone, two_episodes, write_public

from feedtool.cli import cli

FEEDTOOL = [sys.executable, "-m", "feedtool"]


@pytest.fixture(scope="module")
def mp3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tone(tmp_path_factory.mktemp("audio") / "tone.mp3")


@pytest.fixture
def project(tmp_path: Path, mp3: Path) -> Path:
    write_public(tmp_path / "public", mp3, two_episodes())
    return tmp_path


def run(project: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["publish", "--episodes", str(project / "episodes"),
                                      "--out", str(project / "public"), "--no-validate", "--quiet", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def write_lease(folder: Path, *, ttl_s: float, host: str = "ci-runner-7", pid: int = 4242) -> None:
    (folder / ".feedtool").mkdir(parents=True, exist_ok=True)
    (folder / ".feedtool" / "lease.json").write_text(json.dumps({
        "format": "feedtool-lease", "token": "someone-else", "host": host, "pid": pid,
        "ci_run": "GitHub Actions run 42", "acquired": "2026-11-28T10:00:00+00:00", "ttl_s": ttl_s,
    }))


# ------------------------------------------------------------------------------- one publish at a time


def test_a_publish_waits_for_the_lease_then_names_its_holder(project: Path) -> None:
    site = project / "site"
    write_lease(site, ttl_s=600)
    code, output = run(project, "--wait", "0")
    assert code == 2
    assert "another publish holds" in output and "ci-runner-7" in output and "pid 4242" in output
    assert "GitHub Actions run 42" in output and "--wait" in output
    assert not (site / "feed.xml").exists()


def test_an_expired_lease_is_taken_over_and_released(project: Path) -> None:
    site = project / "site"
    write_lease(site, ttl_s=0)  # its holder was killed: it has run out
    code, output = run(project, "--wait", "0")
    assert code == 0, output
    assert (site / "feed.xml").exists()
    assert not (site / ".feedtool" / "lease.json").exists()  # released at the end


def test_the_lease_is_held_while_publishing_and_released_after_a_failure(project: Path, mp3: Path) -> None:
    assert run(project)[0] == 0
    write_public(project / "public", mp3, two_episodes()[:1])
    code, output = run(project)  # refused: an episode would disappear
    assert code == 1 and "live.episode.removed" in output
    assert not (project / "site" / ".feedtool" / "lease.json").exists()


def _publish_process(project: Path, to: str, *extra: str, endpoint: str | None = None,
                     env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    command = [*FEEDTOOL, "publish", "--episodes", str(project / "episodes"), "--out", str(project / "public"),
               "--no-validate", "--quiet", "--to", to, *extra]
    if endpoint:
        command += ["--endpoint-url", endpoint, "--addressing-style", "path"]
    return subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _guids(feed: bytes) -> set[str]:
    from lxml import etree

    return {g.text for g in etree.fromstring(feed).iter("guid")}


@pytest.mark.slow
def test_two_publishes_at_once_never_lose_an_episode(tmp_path: Path, mp3: Path) -> None:
    """Issue 12.3: two checkouts, each adding its own episode, publish to one bucket at the same time."""
    from fault_proxy import FaultProxy
    from seaweed_server import ACCESS_KEY, SECRET_KEY, start_seaweed

    seaweed = start_seaweed()
    proxy = FaultProxy(seaweed.endpoint_url).start()
    try:
        seaweed.make_public_bucket("two-at-once")
        env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                   AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=str(tmp_path / "none"),
                   AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
        base = tmp_path / "base"
        write_public(base / "public", mp3, two_episodes())
        first = _publish_process(base, "s3://two-at-once/show", endpoint=proxy.endpoint_url, env=env)
        assert first.wait(timeout=60) == 0, first.communicate()
        checkouts = {}
        for name, guid in (("a", "guid-a"), ("b", "guid-b")):
            checkouts[guid] = tmp_path / name
            write_public(checkouts[guid] / "public", mp3,
                         [*two_episodes(), EpisodeSpec(f"ep-{name}", f"Episode {name}", guid)])
        # Each upload of a new episode's audio takes two seconds: the two runs overlap for sure.
        proxy.before("PUT", r"/show/ep-[ab]/.*\.mp3$", lambda: time.sleep(2), times=10)
        runs = {guid: _publish_process(folder, "s3://two-at-once/show",
                                       endpoint=proxy.endpoint_url, env=env)
                for guid, folder in checkouts.items()}
        results = {guid: (process.wait(timeout=120), *process.communicate()) for guid, process in runs.items()}
        live = seaweed.client().get_object(Bucket="two-at-once", Key="show/feed.xml")["Body"].read()
        for guid, (code, _out, err) in results.items():
            assert code in (0, 1, 2), err
            assert "Traceback" not in err
            if code == 0:
                assert guid in _guids(live), f"{guid} was published (exit 0) but is not in the live feed"
        assert sorted(code for code, _, _ in results.values()) == [0, 1]  # the second refused: ep lost
        refused = next(err for code, _, err in results.values() if code == 1)
        assert "live.episode.removed" in refused
    finally:
        proxy.stop()
        seaweed.stop()


def test_a_live_feed_changed_after_planning_is_not_replaced(project: Path, mp3: Path, monkeypatch) -> None:
    """Someone (an older feedtool, a hand edit) replaces the feed while this publish uploads."""
    from feedtool.storage import LocalFolderTarget

    assert run(project)[0] == 0
    site = project / "site"
    hand_made = (site / "feed.xml").read_bytes().replace(b"Publish Test Show", b"Edited by hand")
    write_public(project / "public", mp3, [*two_episodes(), EpisodeSpec("ep-003", "Third", "guid-003")])
    def edit_meanwhile(self, key):  # called after the uploads, before the feed is replaced
        (site / "feed.xml").write_bytes(hand_made)

    monkeypatch.setattr(LocalFolderTarget, "range_status", edit_meanwhile)
    code, output = run(project)
    assert code == 1
    assert "changed after this publish read it" in output and "publish again" in output
    assert (site / "feed.xml").read_bytes() == hand_made
    monkeypatch.undo()
    code, output = run(project, "--allow-removals")
    assert code == 0, output
    assert (site / "feed.xml").read_bytes() == (project / "public" / "feed.xml").read_bytes()


# ------------------------------------------------------------------------------- where a local target may be


@pytest.mark.parametrize("to", ["episodes", ".", "episodes/inside", ".feedtool-cache", "public"])
def test_a_local_target_on_top_of_the_show_is_refused(podcast, to: str) -> None:
    """Issue 12.4: `publish --to episodes --delete --yes` deleted the whole show."""
    snapshot = {p: p.read_bytes() for p in podcast.episodes.rglob("*") if p.is_file()}
    result = CliRunner().invoke(cli, ["publish", "--episodes", str(podcast.episodes), "--out", str(podcast.public),
                                      "--to", str(podcast.root / to), "--delete", "--yes", "--no-validate"])
    assert result.exit_code == 2, result.output
    assert "overlap" in result.output
    assert {p: p.read_bytes() for p in podcast.episodes.rglob("*") if p.is_file()} == snapshot


def test_delete_never_touches_hidden_or_host_files_or_linked_folders(project: Path, tmp_path_factory) -> None:
    site = project / "site"
    assert run(project)[0] == 0
    (site / ".git").mkdir()
    (site / ".git" / "config").write_text("[core]\n")
    (site / ".htaccess").write_text("Options -Indexes\n")
    (site / ".well-known").mkdir()
    (site / ".well-known" / "security.txt").write_text("Contact: me\n")
    (site / "CNAME").write_text("podcast.example.com\n")
    (site / "ep-001" / ".keep").write_text("")
    outside = tmp_path_factory.mktemp("elsewhere")
    (outside / "old.mp3").write_bytes(b"not ours")
    (site / "linked").symlink_to(outside, target_is_directory=True)
    (site / "stale.mp3").write_bytes(b"gone")
    code, output = run(project, "--delete", "--yes")
    assert code == 0, output
    assert not (site / "stale.mp3").exists()
    for kept in (".git/config", ".htaccess", ".well-known/security.txt", "CNAME", "ep-001/.keep"):
        assert (site / kept).exists(), kept
    assert (outside / "old.mp3").read_bytes() == b"not ours"


def test_publish_never_writes_through_a_linked_folder(project: Path, tmp_path_factory) -> None:
    site = project / "site"
    site.mkdir()
    outside = tmp_path_factory.mktemp("elsewhere")
    (site / "ep-001").symlink_to(outside, target_is_directory=True)
    code, output = run(project)
    assert code == 2
    assert "symbolic link" in output
    assert list(outside.iterdir()) == []
    assert not (site / "feed.xml").exists()


# ------------------------------------------------------------------------------- deleting safely


def _publish_api(project: Path, when: datetime, **options):
    from feedtool.publish import PublishOptions, publish

    return publish(PublishOptions(episodes_dir=project / "episodes", out_dir=project / "public",
                                  cache_dir=project / ".feedtool-cache", progress=False, validate=False,
                                  **options), now=lambda: when)


def test_delete_keeps_what_a_recent_feed_references_for_the_grace_period(project: Path, mp3: Path) -> None:
    """Issue 10.5: subscribers hold the previous feed for a while; its audio must still answer."""
    t0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    old_keys = write_public(project / "public", mp3, two_episodes())
    _publish_api(project, t0)
    new_keys = write_public(project / "public", mp3, two_episodes(variant=b"re-edited"))
    old_audio = old_keys["ep-002"]
    assert new_keys["ep-002"] != old_audio

    report = _publish_api(project, t0 + timedelta(hours=1), delete=True)
    assert report.result is not None and report.result.deleted == []
    assert [k.key for k in report.plan.kept] == [old_audio]
    assert report.plan.kept[0].until == t0 + timedelta(hours=1, days=7)
    assert (project / "site" / old_audio).exists()

    report = _publish_api(project, t0 + timedelta(days=6), delete=True)
    assert report.result.deleted == [] and (project / "site" / old_audio).exists()

    report = _publish_api(project, t0 + timedelta(days=8), delete=True)
    assert report.result.deleted == [old_audio]
    assert not (project / "site" / old_audio).exists()
    history = json.loads((project / "site" / ".feedtool" / "references.json").read_text())
    assert all(record["live_until"] is None or record["live_until"] > (t0 + timedelta(days=1)).isoformat()
               for record in history["feeds"])  # records past the grace period are dropped


def test_grace_period_from_the_flag_and_from_podcast_yaml(podcast) -> None:
    t0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    podcast.set_show(publish="{to: site, grace_days: 1}")
    _publish_api(podcast.root, t0)
    audio = next((podcast.root / "site" / "first").glob("*.mp3")).name
    md = podcast.episodes / "first" / "episode.md"
    md.write_text(md.read_text().replace("First & Foremost", "First, retitled"), encoding="utf-8")
    report = _publish_api(podcast.root, t0 + timedelta(hours=1), delete=True)
    assert f"first/{audio}" in [k.key for k in report.plan.kept]
    report = _publish_api(podcast.root, t0 + timedelta(days=2), delete=True)
    assert f"first/{audio}" in report.result.deleted
    md.write_text(md.read_text().replace("First, retitled", "First, again"), encoding="utf-8")
    _publish_api(podcast.root, t0 + timedelta(days=3))
    newer = {p.name for p in (podcast.root / "site" / "first").glob("*.mp3")}
    md.write_text(md.read_text().replace("First, again", "First, finally"), encoding="utf-8")
    report = _publish_api(podcast.root, t0 + timedelta(days=3, hours=1), delete=True, grace_days=0)
    assert {f"first/{name}" for name in newer} <= set(report.result.deleted)


def test_manifest_entries_keep_keys_written_by_later_versions(project: Path) -> None:
    assert run(project)[0] == 0
    manifest_path = project / "site" / ".feedtool" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    audio_key = next(key for key in manifest["objects"] if key.endswith(".mp3"))
    manifest["objects"][audio_key]["tagged_copy"] = {"layout": "head+master", "head_bytes": 1234}
    manifest["masters"] = {"abc": {"size": 1}}
    manifest_path.write_text(json.dumps(manifest))
    (project / "site" / "extra.txt").write_text("forces a manifest write")
    assert run(project, "--delete")[0] == 0
    again = json.loads(manifest_path.read_text())
    assert again["objects"][audio_key]["tagged_copy"] == {"layout": "head+master", "head_bytes": 1234}
    assert again["masters"] == {"abc": {"size": 1}}


def test_dry_run_above_the_deletion_limit_shows_the_plan(project: Path) -> None:
    """Issue 12.13: --dry-run used to refuse, instead of showing the plan it tells you to check."""
    assert run(project)[0] == 0
    for number in range(12):
        (project / "site" / f"gone-{number:02d}.mp3").write_bytes(b"old")
    code, output = run(project, "--delete", "--dry-run")
    assert code == 0, output
    assert "- gone-00.mp3" in output and "- gone-11.mp3" in output
    assert "more than the limit of 10" in output and "--yes" in output
    code, output = run(project, "--delete")
    assert code == 1 and "--yes" in output
    assert (project / "site" / "gone-00.mp3").exists()


def test_a_file_gone_from_public_before_its_upload_is_a_storage_error(moto_endpoint: str, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Removed between the scan and the upload: a message (exit 2), not a FileNotFoundError traceback."""
    from feedtool.errors import StorageError
    from feedtool.storage import S3Location, S3Target, headers_for

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    target = S3Target(S3Location(bucket="gone", prefix=""), endpoint_url=moto_endpoint, region=None,
                      addressing_style="path")
    with pytest.raises(StorageError, match=r"uploading ep1/audio\.mp3 failed"):
        target.submit_file(tmp_path / "audio.mp3", "ep1/audio.mp3", headers_for("ep1/audio.mp3"), "0" * 64)

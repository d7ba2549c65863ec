"""feedtool publish: the plan (content hashes), the order of apply, and the guards around the live feed.

S3 behaviour runs against moto's ``mock_aws``; the local-folder target against tmp_path. The
end-to-end run over real HTTP against SeaweedFS is in test_publish_e2e.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws
from public_tree import EpisodeSpec, make_tone, two_episodes, write_public

from feedtool.cli import cli
from feedtool.errors import InputError, StorageError
from feedtool.publish import PublishOptions, publish
from feedtool.storage import MANIFEST_KEY, check_relative_key, headers_for, parse_s3_url

BUCKET = "feedtool-test"


@pytest.fixture(scope="module")
def tone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tone(tmp_path_factory.mktemp("audio") / "tone.mp3")


@pytest.fixture
def project(tmp_path: Path, tone: Path) -> Path:
    """A project folder with a hand-made public/ of two episodes (no episodes/ folder)."""
    write_public(tmp_path / "public", tone, two_episodes())
    return tmp_path


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch):
    """moto S3 with one bucket; credentials only in the environment, as in CI."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def run(project: Path, *args: str, validate: bool = False) -> tuple[int, str, dict | None]:
    """Run `feedtool publish` in a project folder; returns exit code, output, parsed JSON (if any).

    The hand-made feeds here are minimal (no Apple channel tags), so validation is off unless a
    test is about it.
    """
    runner = CliRunner()
    if not validate:
        args = ("--no-validate", *args)
    old = os.getcwd()
    os.chdir(project)
    try:
        result = runner.invoke(cli, ["publish", "--episodes", str(project / "episodes"),
                                     "--out", str(project / "public"), *args])
    finally:
        os.chdir(old)
    parsed = None
    if "--format" in args and result.exit_code == 0:
        parsed = json.loads(result.stdout)
    return result.exit_code, result.output, parsed


def options(project: Path, **kwargs: object) -> PublishOptions:
    return PublishOptions(episodes_dir=project / "episodes", out_dir=project / "public",
                          cache_dir=project / ".feedtool-cache", progress=False, validate=False,
                          **kwargs)  # type: ignore[arg-type]


def keys_in(client, prefix: str = "") -> set[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


# ------------------------------------------------------------------------------- headers and keys


@pytest.mark.parametrize(
    "key, content_type, cache",
    [
        ("feed.xml", "application/xml", "max-age=300"),
        ("ep/ep-0123abcd.mp3", "audio/mpeg", "immutable"),
        ("ep/ep-0123abcd.m4a", "audio/x-m4a", "immutable"),
        ("ep/chapters.json", "application/json+chapters", "max-age=3600"),
        ("ep/transcript.vtt", "text/vtt", "max-age=3600"),
        ("ep/transcript.srt", "application/x-subrip", "max-age=3600"),
        ("cover-89abcdef.jpg", "image/jpeg", "immutable"),
        ("cover.png", "image/png", "max-age=86400"),  # no content hash in the name: not immutable
    ],
)
def test_each_kind_of_file_gets_its_content_type_and_cache_control(key: str, content_type: str, cache: str) -> None:
    headers = headers_for(key)
    assert headers.content_type.split(";")[0] == content_type
    assert cache in headers.cache_control


@pytest.mark.parametrize("name", ["../feed.xml", "a/../../b", "/etc/passwd", "a\\b.mp3", "a//b", "./x", "", "C:/x"])
def test_names_that_could_escape_the_prefix_are_refused(name: str) -> None:
    with pytest.raises(InputError):
        check_relative_key(name)


def test_s3_url_with_dotdot_prefix_is_refused(project: Path) -> None:
    code, output, _ = run(project, "--to", "s3://bucket/show/../other")
    assert code == 2
    assert "'..'" in output and "Traceback" not in output
    with pytest.raises(InputError):
        parse_s3_url("s3://bucket/../x")


def test_a_link_out_of_public_is_refused(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    secret = tmp_path_factory.mktemp("outside") / "secret.txt"
    secret.write_text("private")
    (project / "public" / "leak.txt").symlink_to(secret)
    code, output, _ = run(project)
    assert code == 2
    assert "outside" in output
    assert not (project / "site").exists()


def test_other_url_schemes_are_refused(project: Path) -> None:
    code, output, _ = run(project, "--to", "ftp://host/dir")
    assert code == 2 and "only local folders and s3://" in output


# ------------------------------------------------------------------------------- local folder


def test_local_publish_copies_everything_then_nothing(project: Path) -> None:
    code, output, first = run(project, "--format", "json")
    assert code == 0, output
    site = project / "site"
    published = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    assert {"feed.xml", "ep-001/chapters.json", "ep-002/transcript.vtt"} <= published
    assert MANIFEST_KEY in published
    assert first["uploaded"][-1]["key"] == "feed.xml"  # the feed last
    assert (site / "feed.xml").read_bytes() == (project / "public" / "feed.xml").read_bytes()

    code, output, second = run(project, "--format", "json")
    assert code == 0, output
    assert second["uploaded"] == [] and second["uploaded_bytes"] == 0
    assert second["skipped"] == len(first["uploaded"])


def test_dry_run_prints_the_plan_and_changes_nothing(project: Path) -> None:
    code, output, _ = run(project, "--dry-run")
    assert code == 0, output
    assert "+ feed.xml" in output and "would upload" in output
    assert not (project / "site").exists()


def test_a_feed_with_validation_errors_is_not_published_unless_forced(project: Path) -> None:
    code, output, _ = run(project, validate=True)
    assert code == 1
    assert "validation error" in output and "--force" in output
    assert not (project / "site").exists()
    code, output, _ = run(project, "--force", validate=True)
    assert code == 0, output
    assert (project / "site" / "feed.xml").exists()


def test_without_settings_the_target_is_the_site_folder(project: Path) -> None:
    code, output, report = run(project, "--format", "json")
    assert code == 0, output
    assert report["target"] == str(project / "site")


def test_removed_episode_is_refused_and_the_live_feed_stays(project: Path, tone: Path) -> None:
    assert run(project)[0] == 0
    live = (project / "site" / "feed.xml").read_bytes()
    write_public(project / "public", tone, two_episodes()[:1])
    code, output, _ = run(project)
    assert code == 1
    assert "live.episode.removed" in output and "--allow-removals" in output
    assert (project / "site" / "feed.xml").read_bytes() == live

    code, output, report = run(project, "--allow-removals", "--format", "json")
    assert code == 0, output
    kept = report["previous_feeds"]["feed.xml"]
    assert kept.startswith(".feedtool/feeds/feed-")
    assert (project / "site" / kept).read_bytes() == live


def test_changed_guid_is_refused(project: Path, tone: Path) -> None:
    assert run(project)[0] == 0
    episodes = two_episodes()
    episodes[1].guid = "a-new-guid"
    write_public(project / "public", tone, episodes)
    code, output, _ = run(project)
    assert code == 1
    assert "live.guid.changed" in output


def test_replaced_audio_gets_a_new_url_and_keeps_its_guid(project: Path, tone: Path) -> None:
    keys_before = write_public(project / "public", tone, two_episodes())
    assert run(project)[0] == 0
    keys_after = write_public(project / "public", tone, two_episodes(variant=b"re-edited"))
    assert keys_after["ep-002"] != keys_before["ep-002"]
    code, output, report = run(project, "--format", "json")
    assert code == 0, output
    uploaded = [u["key"] for u in report["uploaded"]]
    assert uploaded == [keys_after["ep-002"], "feed.xml"]
    assert (project / "site" / keys_before["ep-002"]).exists()  # old URL still answers until --delete


def test_deletions_only_when_asked_after_the_feed_and_within_the_limit(project: Path, tone: Path) -> None:
    assert run(project)[0] == 0
    site = project / "site"
    for number in range(11):
        (site / "old" / f"gone-{number:02d}.mp3").parent.mkdir(exist_ok=True)
        (site / "old" / f"gone-{number:02d}.mp3").write_bytes(b"old")
    assert run(project)[0] == 0
    assert (site / "old" / "gone-00.mp3").exists()

    code, output, _ = run(project, "--delete")
    assert code == 1
    assert "more than the limit of 10" in output and "--yes" in output
    assert (site / "old" / "gone-00.mp3").exists()

    code, output, report = run(project, "--delete", "--yes", "--format", "json")
    assert code == 0, output
    assert len(report["deleted"]) == 11
    assert not (site / "old").exists()
    assert (site / "feed.xml").exists()


def test_a_fresh_clone_with_new_mtimes_uploads_nothing(project: Path, s3) -> None:
    assert publish(options(project, to=f"s3://{BUCKET}/show")).result is not None
    for path in (project / "public").rglob("*"):
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**12))
    (project / ".feedtool-cache" / "hashes.json").unlink(missing_ok=True)
    report = publish(options(project, to=f"s3://{BUCKET}/show"))
    assert report.result is not None and report.result.uploaded == []


# ------------------------------------------------------------------------------- S3 (moto)


def test_s3_objects_carry_headers_and_hash(project: Path, s3) -> None:
    report = publish(options(project, to=f"s3://{BUCKET}/show"))
    assert report.result is not None
    feed = s3.head_object(Bucket=BUCKET, Key="show/feed.xml")
    assert feed["ContentType"].startswith("application/xml")
    assert feed["CacheControl"] == "public, max-age=300"
    media_key = next(k for k in keys_in(s3, "show/ep-001/") if k.endswith(".mp3"))
    media = s3.head_object(Bucket=BUCKET, Key=media_key)
    assert media["ContentType"] == "audio/mpeg"
    assert "immutable" in media["CacheControl"]
    local = project / "public" / media_key.removeprefix("show/")
    import hashlib

    assert media["Metadata"]["sha256"] == hashlib.sha256(local.read_bytes()).hexdigest()
    chapters = s3.head_object(Bucket=BUCKET, Key="show/ep-001/chapters.json")
    assert chapters["ContentType"] == "application/json+chapters"
    assert report.result.range_status == 206
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key="show/" + MANIFEST_KEY)["Body"].read())
    assert manifest["objects"]["feed.xml"]["sha256"]


def test_s3_feed_goes_up_after_every_asset(project: Path, s3) -> None:
    target_puts: list[str] = []
    from feedtool import storage

    real_make = storage.S3Target._make_client

    def recording_client(*args):
        client = real_make(*args)
        client.meta.events.register(
            "before-parameter-build.s3.PutObject", lambda params, **kw: target_puts.append(params["Key"])
        )
        return client

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(storage.S3Target, "_make_client", staticmethod(recording_client))
        publish(options(project, to=f"s3://{BUCKET}/show"))
    published = [k for k in target_puts if "/.feedtool/" not in k]
    assert published[-1] == "show/feed.xml"
    # The manifest is written after the feed (the lease is feedtool's own and comes first).
    assert target_puts.index("show/" + MANIFEST_KEY) > target_puts.index("show/feed.xml")
    assert len([k for k in target_puts if k.endswith(".mp3")]) == 2


def test_s3_missing_manifest_falls_back_to_object_metadata(project: Path, s3) -> None:
    publish(options(project, to=f"s3://{BUCKET}/show"))
    s3.delete_object(Bucket=BUCKET, Key="show/" + MANIFEST_KEY)
    report = publish(options(project, to=f"s3://{BUCKET}/show"))
    assert report.result is not None and report.result.uploaded == []
    assert "show/" + MANIFEST_KEY in keys_in(s3)  # written again


def test_s3_dry_run_changes_nothing(project: Path, s3) -> None:
    report = publish(options(project, to=f"s3://{BUCKET}/show", dry_run=True))
    assert report.result is None and len(report.plan.uploads) > 0
    assert keys_in(s3) == set()


def test_s3_failed_upload_leaves_the_old_feed_and_a_rerun_completes(project: Path, tone: Path, s3) -> None:
    from feedtool import storage

    publish(options(project, to=f"s3://{BUCKET}/show"))
    old_feed = s3.get_object(Bucket=BUCKET, Key="show/feed.xml")["Body"].read()
    episodes = [*two_episodes(), EpisodeSpec("ep-003", "Third", "guid-003")]
    keys = write_public(project / "public", tone, episodes)
    real_make = storage.S3Target._make_client

    def failing_client(*args):
        client = real_make(*args)

        def fail(params, **kwargs):
            if params["Key"] == "show/" + keys["ep-003"]:
                raise StorageError("injected network failure")

        client.meta.events.register("before-parameter-build.s3.PutObject", fail)
        return client

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(storage.S3Target, "_make_client", staticmethod(failing_client))
        with pytest.raises(StorageError, match="live feed was not changed"):
            publish(options(project, to=f"s3://{BUCKET}/show"))
    assert s3.get_object(Bucket=BUCKET, Key="show/feed.xml")["Body"].read() == old_feed

    report = publish(options(project, to=f"s3://{BUCKET}/show"))
    assert report.result is not None
    assert [u.file.key for u in report.result.uploaded] == [keys["ep-003"], "feed.xml"]
    assert s3.get_object(Bucket=BUCKET, Key="show/feed.xml")["Body"].read() == (project / "public/feed.xml").read_bytes()


def test_a_file_that_changes_during_upload_stops_the_publish(project: Path, s3) -> None:
    from feedtool import storage

    real_submit = storage.S3Target.submit_file

    def submit_then_edit(self, path, key, headers, sha256, progress=None):
        future = real_submit(self, path, key, headers, sha256, progress)
        if key.endswith("chapters.json") and key.startswith("ep-002"):
            future.result()
            path.write_text('{"version": "1.2.0", "chapters": []}')
        return future

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(storage.S3Target, "submit_file", submit_then_edit)
        with pytest.raises(StorageError, match="changed while it was being uploaded"):
            publish(options(project, to=f"s3://{BUCKET}/show"))
    assert "show/feed.xml" not in keys_in(s3)
    # The object sent with the wrong bytes is gone; a re-run sends the file as it is now.
    assert "show/ep-002/chapters.json" not in keys_in(s3)
    report = publish(options(project, to=f"s3://{BUCKET}/show"))
    assert report.result is not None
    body = s3.get_object(Bucket=BUCKET, Key="show/ep-002/chapters.json")["Body"].read()
    assert body == (project / "public/ep-002/chapters.json").read_bytes()


def test_unknown_bucket_is_a_clear_error(project: Path, s3) -> None:
    code, output, _ = run(project, "--to", "s3://no-such-bucket-here/show")
    assert code == 2
    assert "does not exist" in output and "Traceback" not in output


def test_unreachable_endpoint_is_a_clear_error(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from feedtool.storage import s3 as s3_module

    monkeypatch.setattr(s3_module, "S3_RETRIES", 1)
    code, output, _ = run(project, "--to", "s3://bucket/show", "--endpoint-url", f"http://127.0.0.1:{port}")
    assert code == 2
    assert "cannot reach" in output and "Traceback" not in output


def test_an_object_deleted_by_hand_is_found_and_uploaded_again(project: Path, s3) -> None:
    """The manifest is never trusted alone: one listing shows what is really there (issue 12.6)."""
    publish(options(project, to=f"s3://{BUCKET}/show"))
    media_key = next(k for k in keys_in(s3, "show/ep-002/") if k.endswith(".mp3"))
    s3.delete_object(Bucket=BUCKET, Key=media_key)
    planned = publish(options(project, to=f"s3://{BUCKET}/show", dry_run=True))
    assert [(u.file.key, u.reason) for u in planned.plan.uploads] == [(media_key.removeprefix("show/"), "missing")]
    report = publish(options(project, to=f"s3://{BUCKET}/show"))
    assert report.result is not None
    assert [u.file.key for u in report.result.uploaded] == [media_key.removeprefix("show/")]
    assert media_key in keys_in(s3)


def test_the_shipped_example_builds_and_publishes_to_a_folder(tmp_path: Path) -> None:
    """The README's main command: `feedtool publish` in a fresh copy of the example, no account."""
    import shutil

    repo = Path(__file__).resolve().parent.parent
    shutil.copytree(repo / "episodes", tmp_path / "episodes")
    runner = CliRunner()
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        first = runner.invoke(cli, ["publish", "--format", "json"])
        second = runner.invoke(cli, ["publish", "--format", "json"])
    finally:
        os.chdir(old)
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert report["built"] is True
    assert report["uploaded"][-1]["key"] == "feed.xml"
    site = tmp_path / "site"
    assert (site / "feed.xml").read_bytes() == (tmp_path / "public" / "feed.xml").read_bytes()
    assert any(u["content_type"] == "audio/mpeg" for u in report["uploaded"])
    assert second.exit_code == 0, second.output
    again = json.loads(second.stdout)
    assert again["built"] is False and again["uploaded"] == []


def test_progress_shows_files_bytes_and_rate() -> None:
    import io

    from feedtool.publish import ProgressMeter

    stream = io.StringIO()
    meter = ProgressMeter(2, 3_000_000, enabled=True, stream=stream)
    meter.add_bytes(1_500_000)
    meter.file_done()
    meter.close()
    last = stream.getvalue().rstrip("\n").split("\r")[-1]
    assert "1/2 files" in last and "1.5 MB of 3.0 MB" in last and "/s" in last
    quiet = io.StringIO()
    ProgressMeter(2, 10, enabled=False, stream=quiet).close()
    assert quiet.getvalue() == ""


@pytest.mark.parametrize("to", [".", "public", "public/site"])
def test_a_local_target_that_overlaps_public_is_refused(project: Path, to: str) -> None:
    code, output, _ = run(project, "--to", str(project / to))
    assert code == 2
    assert "overlap" in output


def test_the_last_ten_replaced_feeds_are_kept(project: Path, tone: Path) -> None:
    episodes = two_episodes()
    assert run(project)[0] == 0
    versions = [(project / "public" / "feed.xml").read_bytes()]
    for number in range(3, 15):  # twelve more publishes, each adding an episode
        episodes.append(EpisodeSpec(f"ep-{number:03d}", f"Episode {number}", f"guid-{number:03d}"))
        write_public(project / "public", tone, episodes)
        assert run(project)[0] == 0
        versions.append((project / "public" / "feed.xml").read_bytes())
    kept = sorted((project / "site" / ".feedtool" / "feeds").iterdir())
    assert len(kept) == 10
    # All within a second or two: names still differ (each carries its feed's hash) and the
    # newest ten replaced feeds are the ones kept.
    assert {p.read_bytes() for p in kept} == set(versions[-11:-1])

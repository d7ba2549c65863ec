"""feedtool publish end to end: a real S3-compatible server (SeaweedFS) on 127.0.0.1, real HTTP.

What a podcast app would see after `feedtool publish`: the feed parses and is served as
application/xml, media answers byte ranges with 206, a second publish uploads nothing, and a
publish interrupted half-way leaves the old feed live and completes on the next run. Plus the
failures a user meets first: wrong keys, a bucket that does not exist.
"""

from __future__ import annotations

import itertools
import json
import os
import urllib.request
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from public_tree import EpisodeSpec, make_tone, two_episodes, write_public
from seaweed_server import ACCESS_KEY, SECRET_KEY, SeaweedServer

from feedtool.cli import cli

pytestmark = pytest.mark.slow

_bucket_numbers = itertools.count()


@pytest.fixture(scope="module")
def tone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tone(tmp_path_factory.mktemp("audio") / "tone.mp3")


@pytest.fixture
def bucket(seaweed: SeaweedServer) -> str:
    name = f"podcast-{os.getpid()}-{next(_bucket_numbers)}"
    seaweed.make_public_bucket(name)
    return name


@pytest.fixture
def project(tmp_path: Path, tone: Path) -> Path:
    write_public(tmp_path / "public", tone, two_episodes())
    return tmp_path


def publish(project: Path, seaweed: SeaweedServer, to: str, *args: str,
            key: str = ACCESS_KEY, secret: str = SECRET_KEY) -> tuple[int, str, dict | None]:
    env = {
        "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(project / "no-aws-config"), "AWS_SHARED_CREDENTIALS_FILE": str(project / "no-creds"),
        "AWS_PROFILE": None, "AWS_ENDPOINT_URL": None, "AWS_ENDPOINT_URL_S3": None,
    }
    result = CliRunner().invoke(cli, [
        "publish", "--episodes", str(project / "episodes"), "--out", str(project / "public"), "--no-validate",
        "--to", to, "--endpoint-url", seaweed.endpoint_url, "--addressing-style", "path", "--format", "json", *args,
    ], env=env)
    parsed = json.loads(result.stdout) if result.exit_code == 0 else None
    return result.exit_code, result.output, parsed


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """An anonymous GET, as a podcast app makes it (the bucket is public by policy)."""
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def test_published_feed_and_media_over_real_http(project: Path, seaweed: SeaweedServer, bucket: str) -> None:
    code, output, report = publish(project, seaweed, f"s3://{bucket}/show")
    assert code == 0, output
    base = f"{seaweed.endpoint_url}/{bucket}/show/"

    status, headers, body = http_get(base + "feed.xml")
    assert status == 200
    assert headers["Content-Type"].startswith("application/xml")
    assert headers["Cache-Control"] == "public, max-age=300"
    parsed = feedparser.parse(body)
    assert not parsed.bozo and len(parsed.entries) == 2

    media_key = next(u["key"] for u in report["uploaded"] if u["key"].endswith(".mp3"))
    status, headers, body = http_get(base + media_key, {"Range": "bytes=0-99"})
    assert status == 206
    size = (project / "public" / media_key).stat().st_size
    assert headers["Content-Range"] == f"bytes 0-99/{size}"
    assert headers["Content-Type"] == "audio/mpeg"
    assert "immutable" in headers["Cache-Control"]
    assert len(body) == 100

    _, headers, _ = http_get(base + "ep-001/chapters.json")
    assert headers["Content-Type"] == "application/json+chapters"
    assert report["range_check"]["status"] == 206

    code, output, again = publish(project, seaweed, f"s3://{bucket}/show")
    assert code == 0, output
    assert again["uploaded"] == [] and again["uploaded_bytes"] == 0
    assert again["skipped"] == len(report["uploaded"])


def test_interrupted_publish_keeps_the_live_feed_and_a_rerun_completes(
    project: Path, tone: Path, seaweed: SeaweedServer, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feedtool import storage
    from feedtool.errors import StorageError

    assert publish(project, seaweed, f"s3://{bucket}/show")[0] == 0
    feed_url = f"{seaweed.endpoint_url}/{bucket}/show/feed.xml"
    live_before = http_get(feed_url)[2]

    keys = write_public(project / "public", tone, [*two_episodes(), EpisodeSpec("ep-003", "Third", "guid-003")])
    real_make = storage.S3Target._make_client

    def client_that_fails_once(*args):
        client = real_make(*args)

        def fail(params, **kwargs):
            if params["Key"].endswith(keys["ep-003"]):
                raise StorageError("connection dropped (injected)")

        client.meta.events.register("before-parameter-build.s3.PutObject", fail)
        return client

    monkeypatch.setattr(storage.S3Target, "_make_client", staticmethod(client_that_fails_once))
    code, output, _ = publish(project, seaweed, f"s3://{bucket}/show")
    assert code == 2
    assert "live feed was not changed" in output and "Traceback" not in output
    assert http_get(feed_url)[2] == live_before
    parsed = feedparser.parse(http_get(feed_url)[2])
    for entry in parsed.entries:  # every episode the live feed lists is still there
        assert http_get(entry.enclosures[0].href.replace(
            "https://podcast.example.com/show/", f"{seaweed.endpoint_url}/{bucket}/show/"), {"Range": "bytes=0-1"})[0] == 206

    monkeypatch.setattr(storage.S3Target, "_make_client", staticmethod(real_make))
    code, output, report = publish(project, seaweed, f"s3://{bucket}/show")
    assert code == 0, output
    assert [u["key"] for u in report["uploaded"]] == [keys["ep-003"], "feed.xml"]
    assert http_get(feed_url)[2] == (project / "public" / "feed.xml").read_bytes()
    assert report["previous_feeds"]["feed.xml"].startswith(".feedtool/feeds/")


def test_wrong_credentials_are_a_clear_error(project: Path, seaweed: SeaweedServer, bucket: str) -> None:
    code, output, _ = publish(project, seaweed, f"s3://{bucket}/show", secret="not-the-secret-123")
    assert code == 2
    assert "rejected the credentials" in output
    assert "not-the-secret-123" not in output and "Traceback" not in output


def test_unknown_bucket_is_a_clear_error(project: Path, seaweed: SeaweedServer) -> None:
    code, output, _ = publish(project, seaweed, "s3://no-such-bucket-anywhere/show")
    assert code == 2
    assert "does not exist" in output and "Traceback" not in output


def test_a_multipart_upload_is_recognised_by_its_sha256_not_its_etag(
    project: Path, seaweed: SeaweedServer, bucket: str
) -> None:
    import hashlib

    data = os.urandom(20 * 1024 * 1024)  # above the 16 MB multipart threshold: 2 parts
    name = f"ep-001/video-{hashlib.sha256(data).hexdigest()[:8]}.mp4"
    (project / "public" / name).write_bytes(data)
    code, output, _ = publish(project, seaweed, f"s3://{bucket}/show")
    assert code == 0, output
    s3 = seaweed.client()
    head = s3.head_object(Bucket=bucket, Key=f"show/{name}")
    assert head["ETag"].strip('"').endswith("-2")  # not an MD5 of the bytes
    assert head["Metadata"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert head["ContentType"] == "video/mp4"

    # Without the manifest, the object's own metadata still says it is unchanged.
    s3.delete_object(Bucket=bucket, Key="show/.feedtool/manifest.json")
    code, output, again = publish(project, seaweed, f"s3://{bucket}/show")
    assert code == 0, output
    assert again["uploaded"] == []


def test_ctrl_c_mid_publish_then_a_rerun_uploads_only_the_rest(
    tmp_path: Path, tone: Path, seaweed: SeaweedServer, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feedtool import storage
    from feedtool.publish import PublishOptions
    from feedtool.publish import publish as run_publish

    episodes = [EpisodeSpec(f"ep-{n:03d}", f"Episode {n}", f"guid-{n:03d}") for n in range(1, 41)]
    write_public(tmp_path / "public", tone, episodes)  # 122 files
    for name, value in {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    options = PublishOptions(episodes_dir=tmp_path / "episodes", out_dir=tmp_path / "public",
                             to=f"s3://{bucket}/show", endpoint_url=seaweed.endpoint_url,
                             addressing_style="path", validate=False, progress=False)
    real_submit = storage.S3Target.submit_file
    calls = {"n": 0}

    def interrupted_submit(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 60:
            import time

            time.sleep(0.5)  # let some of the 59 queued uploads arrive, as they would before a Ctrl-C
            raise KeyboardInterrupt
        return real_submit(self, *args, **kwargs)

    monkeypatch.setattr(storage.S3Target, "submit_file", interrupted_submit)
    with pytest.raises(KeyboardInterrupt):
        run_publish(options)
    s3 = seaweed.client()
    present = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="show/")["Contents"]}
    assert "show/feed.xml" not in present  # nothing points at what is missing
    manifest = json.loads(s3.get_object(Bucket=bucket, Key="show/.feedtool/manifest.json")["Body"].read())
    assert manifest["complete"] is False

    monkeypatch.setattr(storage.S3Target, "submit_file", real_submit)
    report = run_publish(options)
    assert report.result is not None
    uploaded = [u.file.key for u in report.result.uploaded]
    assert uploaded[-1] == "feed.xml"
    already = {key.removeprefix("show/") for key in present} - {".feedtool/manifest.json"}
    assert already and not already & set(uploaded)
    skipped = {f.key for f in report.plan.skips}
    assert skipped == already, sorted(skipped - already)[:5]
    assert len(uploaded) + len(already) == len(report.plan.local) == 3 * 40 + 2

"""Publishing under failure and attack, against a real S3 server (SeaweedFS) behind a fault proxy.

Every test ends with the same check, the one podcast apps care about: the live feed references
only objects that exist, with the size the feed says and the bytes feedtool recorded; and the
secret placed in the environment appears nowhere (output, files, objects).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PodcastFactory
from fault_proxy import FaultProxy
from seaweed_server import ACCESS_KEY, SECRET_KEY, SeaweedServer

BASE = "https://cdn.example.com/show/"  # the base_url of conftest's show
pytestmark = pytest.mark.slow
_numbers = itertools.count()
FEEDTOOL = [sys.executable, "-m", "feedtool"]


@pytest.fixture
def proxy(seaweed: SeaweedServer) -> Iterator[FaultProxy]:
    running = FaultProxy(seaweed.endpoint_url).start()
    yield running
    running.stop()


@pytest.fixture
def bucket(seaweed: SeaweedServer) -> str:
    name = f"faults-{os.getpid()}-{next(_numbers)}"
    seaweed.make_public_bucket(name)
    return name


def env(project: Path, **changes: str | None) -> dict[str, str]:
    values = dict(os.environ)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
        values.pop(name, None)
    values.update({
        "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(project / "no-aws-config"), "AWS_SHARED_CREDENTIALS_FILE": str(project / "no-creds"),
        "AWS_MAX_ATTEMPTS": "2", "FEEDTOOL_S3_READ_TIMEOUT": "1",
    })
    for name, value in changes.items():
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
    return values


def publish(project: Path, endpoint: str, bucket: str, *args: str, timeout: float = 120,
            **env_changes: str | None) -> subprocess.CompletedProcess[str]:
    """`feedtool publish` as a user runs it: a separate process, credentials in the environment."""
    return subprocess.run(
        [*FEEDTOOL, "publish", "--episodes", str(project / "episodes"), "--out", str(project / "public"),
         "--no-validate", "--to", f"s3://{bucket}/show", "--endpoint-url", endpoint, "--addressing-style", "path",
         "--quiet", *args],
        cwd=project, env=env(project, **env_changes), capture_output=True, text=True, timeout=timeout,
    )


def objects(seaweed: SeaweedServer, bucket: str) -> dict[str, bytes]:
    s3 = seaweed.client()
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            found[item["Key"]] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return found


def assert_live_feed_consistent(seaweed: SeaweedServer, bucket: str) -> dict[str, bytes]:
    """Every object the live feed (and its chapters files) references exists, whole and unchanged."""
    from lxml import etree

    stored = objects(seaweed, bucket)
    feed = stored["show/feed.xml"]
    keys = referenced_keys(feed, stored)
    assert keys, "the live feed references nothing: the test show is wrong"
    for key in keys:
        assert "show/" + key in stored, f"the live feed references {key}, which is not on the target"
    root = etree.fromstring(feed)
    for enclosure in root.iter("enclosure"):
        key = enclosure.get("url").split("/show/", 1)[1]
        assert len(stored["show/" + key]) == int(enclosure.get("length")), key
    s3 = seaweed.client()
    for key in keys:
        recorded = s3.head_object(Bucket=bucket, Key="show/" + key).get("Metadata", {}).get("sha256")
        if recorded:
            assert hashlib.sha256(stored["show/" + key]).hexdigest() == recorded, f"{key} is not what was sent"
    return {key: stored["show/" + key] for key in keys}


def referenced_keys(feed: bytes, stored: dict[str, bytes]) -> set[str]:
    """Independent of feedtool's own code: every URL under BASE in the feed, and in the chapters
    files it references (chapter images)."""
    from urllib.parse import unquote

    from lxml import etree

    urls = []
    for element in etree.fromstring(feed).iter():
        urls.extend(element.attrib.values())
    keys = {unquote(u[len(BASE):]) for u in urls if u.startswith(BASE) and len(u) > len(BASE)}
    keys.discard("feed.xml")
    for key in [k for k in keys if k.endswith(".json")]:
        if "show/" + key in stored:
            for chapter in json.loads(stored["show/" + key]).get("chapters", []):
                if str(chapter.get("img", "")).startswith(BASE):
                    keys.add(unquote(chapter["img"][len(BASE):]))
    return keys


def assert_no_secret(secret: str, project: Path, outputs: list[str], seaweed: SeaweedServer, bucket: str) -> None:
    for text in outputs:
        assert secret not in text
        assert "Traceback" not in text
    for path in project.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert secret.encode() not in path.read_bytes(), path
    for key, data in objects(seaweed, bucket).items():
        assert secret.encode() not in data, key


@pytest.fixture
def show(podcast: PodcastFactory) -> PodcastFactory:
    """The two-episode show of conftest, with a transcript (chapters come from the notes)."""
    (podcast.episodes / "first" / "transcript.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:02.000\nHello.\n")
    return podcast


# ------------------------------------------------------------------------------- late failures


def test_a_503_on_the_feed_leaves_the_old_feed_with_its_own_side_files(
        show: PodcastFactory, seaweed: SeaweedServer, proxy: FaultProxy, bucket: str) -> None:
    """Issue 12.5: chapters and transcripts used to keep their URLs and be overwritten first."""
    first = publish(show.root, proxy.endpoint_url, bucket)
    assert first.returncode == 0, first.stderr
    before = assert_live_feed_consistent(seaweed, bucket)
    live_feed = objects(seaweed, bucket)["show/feed.xml"]

    md = show.episodes / "first" / "episode.md"
    md.write_text(md.read_text().replace("Middle", "The middle, renamed"), encoding="utf-8")
    (show.episodes / "first" / "transcript.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:02.000\nHello again.\n")
    show.add("third", title="Third", number=3)
    proxy.fail("PUT", r"/show/feed\.xml$", status=503, code="ServiceUnavailable", times=100)
    failed = publish(show.root, proxy.endpoint_url, bucket)
    assert objects(seaweed, bucket)["show/feed.xml"] == live_feed
    assert assert_live_feed_consistent(seaweed, bucket) == before  # every side file as it was
    assert failed.returncode == 2, failed.stderr
    assert "kept failing" in failed.stderr and "feed" in failed.stderr

    proxy.clear()
    again = publish(show.root, proxy.endpoint_url, bucket)
    assert again.returncode == 0, again.stderr
    after = assert_live_feed_consistent(seaweed, bucket)
    assert any(b"The middle, renamed" in data for data in after.values())
    assert_no_secret(SECRET_KEY, show.root, [first.stderr, failed.stderr, again.stderr, failed.stdout],
                     seaweed, bucket)


def test_objects_deleted_behind_our_back_are_uploaded_again_before_the_feed(
        show: PodcastFactory, seaweed: SeaweedServer, proxy: FaultProxy, bucket: str) -> None:
    """Issue 12.6: deleted by hand between publishes, and deleted while a publish runs."""
    assert publish(show.root, proxy.endpoint_url, bucket).returncode == 0
    s3 = seaweed.client()
    stored = objects(seaweed, bucket)
    media = sorted(k for k in stored if k.endswith(".mp3"))
    chapters = sorted(k for k in stored if "/chapters" in k and k.endswith(".json"))
    s3.delete_object(Bucket=bucket, Key=media[0])
    s3.delete_object(Bucket=bucket, Key=chapters[0])
    repaired = publish(show.root, proxy.endpoint_url, bucket, "--format", "json")
    assert repaired.returncode == 0, repaired.stderr
    uploaded = {u["key"] for u in json.loads(repaired.stdout)["uploaded"]}
    assert {media[0].removeprefix("show/"), chapters[0].removeprefix("show/")} <= uploaded
    assert_live_feed_consistent(seaweed, bucket)

    # Now while a publish runs: after the new episode's audio went up, before the feed.
    show.add("third", title="Third", number=3)
    victim = media[1]
    proxy.before("PUT", r"/show/third/.*\.mp3$", lambda: s3.delete_object(Bucket=bucket, Key=victim))
    during = publish(show.root, proxy.endpoint_url, bucket, "--format", "json")
    assert during.returncode == 0, during.stderr
    assert victim.removeprefix("show/") in json.loads(during.stdout)["repaired"]
    live = assert_live_feed_consistent(seaweed, bucket)
    assert any(key.startswith("third/") for key in live)


def test_a_same_size_overwrite_is_found_by_check_remote(
        show: PodcastFactory, seaweed: SeaweedServer, proxy: FaultProxy, bucket: str) -> None:
    assert publish(show.root, proxy.endpoint_url, bucket).returncode == 0
    s3 = seaweed.client()
    key = next(k for k in objects(seaweed, bucket) if k.endswith(".mp3"))
    original = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.put_object(Bucket=bucket, Key=key, Body=bytes(len(original)), ContentType="audio/mpeg",
                  CacheControl="public, max-age=31536000, immutable")  # same size, other bytes
    trusted = publish(show.root, proxy.endpoint_url, bucket, "--format", "json")
    assert trusted.returncode == 0 and json.loads(trusted.stdout)["uploaded"] == []
    checked = publish(show.root, proxy.endpoint_url, bucket, "--check-remote", "--format", "json")
    assert checked.returncode == 0, checked.stderr
    assert [(u["key"], u["reason"]) for u in json.loads(checked.stdout)["uploaded"]] == [
        (key.removeprefix("show/"), "changed on the target")]
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == original
    assert_live_feed_consistent(seaweed, bucket)


def test_trickled_answers_time_out_and_the_live_feed_stays_consistent(
        show: PodcastFactory, seaweed: SeaweedServer, proxy: FaultProxy, bucket: str) -> None:
    """A service that stalls mid-answer: a bounded wait per request, bounded retries, a clear error."""
    assert publish(show.root, proxy.endpoint_url, bucket).returncode == 0
    show.add("third", title="Third", number=3)
    proxy.trickle("PUT", r"/show/feed\.xml$", pause_s=3.0, times=100)
    stalled = publish(show.root, proxy.endpoint_url, bucket, timeout=60)
    assert stalled.returncode == 2, stalled.stderr
    assert "did not answer in time" in stalled.stderr
    assert_live_feed_consistent(seaweed, bucket)  # old or new feed: either way whole
    proxy.clear()
    assert publish(show.root, proxy.endpoint_url, bucket).returncode == 0
    assert_live_feed_consistent(seaweed, bucket)


def test_a_dropped_connection_on_an_upload_is_retried(
        show: PodcastFactory, seaweed: SeaweedServer, proxy: FaultProxy, bucket: str) -> None:
    proxy.drop("PUT", r"\.mp3$", times=1)
    done = publish(show.root, proxy.endpoint_url, bucket)
    assert done.returncode == 0, done.stderr
    assert ("PUT" in {m for m, _ in proxy.requests})
    assert_live_feed_consistent(seaweed, bucket)


# ------------------------------------------------------------------------------- credentials and service errors


@pytest.mark.parametrize(
    "fault, expected",
    [
        ({"method": "GET", "path": r"list-type=2", "status": 403, "code": "AccessDenied"},
         ["access denied while checking the bucket", "s3:ListBucket"]),
        ({"method": "PUT", "path": r"/show/", "status": 403, "code": "AccessDenied"},
         ["access denied while writing", "s3:PutObject"]),
        ({"method": None, "path": r".", "status": 400, "code": "ExpiredToken", "message": "The provided token has expired."},
         ["credentials have expired", "fresh credentials"]),
        ({"method": None, "path": r".", "status": 400, "code": "AuthorizationHeaderMalformed",
          "extra_xml": "<Region>eu-west-3</Region>"},
         ["is in region 'eu-west-3'", "publish.region: eu-west-3"]),
        ({"method": None, "path": r".", "status": 503, "code": "SlowDown", "times": 1000},
         ["kept failing (SlowDown)"]),
    ],
    ids=["denied-list", "denied-put", "expired", "wrong-region", "unavailable"],
)
def test_service_errors_are_one_clear_message(show: PodcastFactory, seaweed: SeaweedServer, proxy: FaultProxy,
                                              bucket: str, fault: dict, expected: list[str]) -> None:
    proxy.fail(fault.pop("method"), fault.pop("path"), times=fault.pop("times", 1000), **fault)
    done = publish(show.root, proxy.endpoint_url, bucket)
    assert done.returncode == 2, done.stderr
    assert len([line for line in done.stderr.splitlines() if line.startswith("Error:")]) == 1
    for text in expected:
        assert text in done.stderr
    assert_no_secret(SECRET_KEY, show.root, [done.stdout, done.stderr], seaweed, bucket)


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"AWS_SECRET_ACCESS_KEY": ""}, ["credentials are incomplete", "AWS_SECRET_ACCESS_KEY", "set but empty"]),
        ({"AWS_SECRET_ACCESS_KEY": None}, ["credentials are incomplete", "AWS_SECRET_ACCESS_KEY"]),
        ({"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None}, ["no credentials"]),
        ({"AWS_SECRET_ACCESS_KEY": "wrong-" + SECRET_KEY}, ["rejected the credentials"]),
    ],
    ids=["empty-secret", "partial", "missing", "wrong-secret"],
)
def test_credential_problems_are_one_clear_message(show: PodcastFactory, seaweed: SeaweedServer, proxy: FaultProxy,
                                                   bucket: str, changes: dict, expected: list[str]) -> None:
    done = publish(show.root, proxy.endpoint_url, bucket, **changes)
    assert done.returncode == 2, done.stderr
    for text in expected:
        assert text in done.stderr
    secrets = [SECRET_KEY] + [v for v in changes.values() if v]
    for secret in secrets:
        assert_no_secret(secret, show.root, [done.stdout, done.stderr], seaweed, bucket)


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--endpoint-url", "not a url"], "is not an endpoint URL"),
        (["--endpoint-url", "ftp://127.0.0.1:1/"], "is not an endpoint URL"),
        (["--region", "us east 1!"], "is not a region name"),
    ],
)
def test_bad_endpoint_or_region_is_one_clear_message(show: PodcastFactory, bucket: str, args: list[str],
                                                     expected: str) -> None:
    command = [*FEEDTOOL, "publish", "--episodes", str(show.episodes), "--out", str(show.public), "--no-validate",
               "--to", f"s3://{bucket}/show", "--endpoint-url", "http://127.0.0.1:9", *args]
    done = subprocess.run(command, cwd=show.root, env=env(show.root), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr and "Traceback" not in done.stderr


def test_an_unreachable_endpoint_fails_within_bounds(show: PodcastFactory, bucket: str) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = publish(show.root, f"http://127.0.0.1:{port}", bucket, timeout=60)
    assert done.returncode == 2
    assert "cannot reach" in done.stderr and "Traceback" not in done.stderr


def test_checks_use_one_listing_not_a_head_per_object(
        show: PodcastFactory, seaweed: SeaweedServer, proxy: FaultProxy, bucket: str) -> None:
    for number in range(3, 9):
        show.add(f"ep-{number}", number=number)
    assert publish(show.root, proxy.endpoint_url, bucket).returncode == 0
    heads = [path for method, path in proxy.requests if method == "HEAD"]
    listings = [path for method, path in proxy.requests if method == "GET" and "list-type=2" in path]
    # One HEAD per Content-Type of new media and artwork (audio/mpeg, image/jpeg, and the website's
    # image/png icon), never one per object: 8 episodes here.
    types = {path.rsplit(".", 1)[-1] for path in heads}
    assert len(heads) == len(types) <= 3, heads
    assert len(listings) <= 4  # bucket check, plan, check before the feed, earlier feeds
    proxy.requests.clear()
    again = publish(show.root, proxy.endpoint_url, bucket, "--format", "json")
    assert again.returncode == 0 and json.loads(again.stdout)["uploaded"] == []
    assert not [path for method, path in proxy.requests if method == "HEAD"]
    assert not [path for method, path in proxy.requests if method == "PUT" and ".feedtool/lease" not in path]

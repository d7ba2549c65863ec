"""Publishing re-tagged copies that build described in public/.feedtool/splices.json (issue 10.4).

A show with a ~25 MB MP3 and chapters is built and published from a "laptop". Then, as on a
machine without the master, the new tagged copy is described instead of written: a new head with
other chapters (feedtool.tagging.id3.plan_copy), splices.json by hand, the feed pointing at the new
key, the old local copy removed from public/. Publish (a separate process, as users run it, behind
tests/fault_proxy.py which counts request bodies outside feedtool) makes the copy on the target.
Witnesses: the object's bytes against head + range + tail, ffprobe's chapters read from the
downloaded object, the live feed's enclosure lengths, the proxy's byte counts.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PodcastFactory
from fault_proxy import FaultProxy
from seaweed_server import ACCESS_KEY, SECRET_KEY, start_seaweed

from feedtool import master_records as records
from feedtool.audio import probe
from feedtool.integrity import read_mp3_span
from feedtool.master_records import write_remote_media
from feedtool.model import Chapter
from feedtool.tagging import TagMetadata
from feedtool.tagging.id3 import plan_copy

pytestmark = pytest.mark.slow
MIB = 1024 * 1024
FEEDTOOL = [sys.executable, "-m", "feedtool"]
NEW_CHAPTERS = (Chapter(start_s=0.0, title="Cold open (re-cut)"), Chapter(start_s=4.0, title="The new middle"),
                Chapter(start_s=9.0, title="Credits"))
_buckets = iter(range(10**6))
#: The re-tag itself runs on both servers; what follows from it (reports, refusals, --delete,
#: failures) is publish's own logic, checked on one to keep the suite fast.
SEAWEED_ONLY = pytest.mark.parametrize("server", ["seaweedfs"], indirect=True)


@pytest.fixture(scope="module")
def big_mp3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real, tagless ~25 MB MP3 (320 kbit/s noise; 10 s encoded once, then stream-copied)."""
    folder = tmp_path_factory.mktemp("big")
    short, long = folder / "short.mp3", folder / "big.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "anoisesrc=d=10:c=pink:a=0.3", "-ac", "2",
                    "-c:a", "libmp3lame", "-b:a", "320k", "-map_metadata", "-1", "-id3v2_version", "0",
                    "-write_xing", "0", str(short)], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", "62", "-i", str(short), "-c", "copy",
                    "-map_metadata", "-1", "-id3v2_version", "0", "-write_xing", "0", str(long)], check=True)
    assert 22 * MIB < long.stat().st_size < 30 * MIB
    return long


@pytest.fixture(scope="module", params=["moto", "seaweedfs"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    if request.param == "moto":
        from moto.server import ThreadedMotoServer

        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        host, port = moto.get_host_and_port()
        yield "moto", f"http://{host}:{port}"
        moto.stop()
    else:
        weed = start_seaweed()
        yield "seaweedfs", weed.endpoint_url
        weed.stop()


@pytest.fixture
def proxy(server: tuple[str, str]) -> Iterator[FaultProxy]:
    running = FaultProxy(server[1]).start()
    yield running
    running.stop()


def client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                        region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))


@pytest.fixture
def bucket(server: tuple[str, str]) -> str:
    name = f"splice-{os.getpid()}-{next(_buckets)}"
    client(server[1]).create_bucket(Bucket=name)
    return name


def env(project: Path) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items()
              if k not in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN")}
    values.update({"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                   "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(project / "no-aws-config"),
                   "AWS_SHARED_CREDENTIALS_FILE": str(project / "no-creds"), "AWS_MAX_ATTEMPTS": "2"})
    return values


def run_publish(project: Path, to: str, *args: str, endpoint: str | None = None,
                fmt: str = "json", validate: bool = False) -> subprocess.CompletedProcess[str]:
    """(S3 runs skip validation: the test show's placeholder addresses stop a publish to a bucket.)"""
    extra = ["--endpoint-url", endpoint, "--addressing-style", "path"] if endpoint else []
    extra += [] if validate else ["--no-validate"]
    return subprocess.run(
        [*FEEDTOOL, "publish", "--episodes", str(project / "episodes"), "--out", str(project / "public"),
         "--to", to, *extra, "--format", fmt, "--quiet", *args],
        cwd=project, env=env(project), capture_output=True, text=True, timeout=300)


def ok(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def show(tmp_path: Path, tone: Callable[..., Path], artwork_jpg: Path, big_mp3: Path) -> PodcastFactory:
    """One ~25 MB episode with chapters (from its notes), built on the "laptop"."""
    factory = PodcastFactory(tmp_path, tone, artwork_jpg)
    factory.add("ep-1", title="The long one", number=1,
                notes="Notes.\n\n[00:00] Start\n[00:02] Middle\n[00:05] End\n")
    shutil.copyfile(big_mp3, factory.episodes / "ep-1" / "audio.mp3")
    done = subprocess.run([*FEEDTOOL, "build", "--episodes", str(factory.episodes), "--out", str(factory.public)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return factory


class Splice:
    """The new tagged copy as build describes it without the master (the contract in SPLICE.md)."""

    def __init__(self, show: PodcastFactory) -> None:
        self.public = show.public
        self.old_path = next((show.public / "ep-1").glob("*.mp3"))
        self.old_key = f"ep-1/{self.old_path.name}"
        self.old_bytes = self.old_path.read_bytes()
        span = read_mp3_span(self.old_path)
        meta = TagMetadata(title="The long one", artist="Test Author", album="Test Show & Friends", track=1,
                           date="2024-01-01", cover=(show.episodes / "artwork.jpg").read_bytes(),
                           cover_mime="image/jpeg", chapters=NEW_CHAPTERS)
        copy = plan_copy(meta, duration_s=probe(show.episodes / "ep-1" / "audio.mp3").duration_s, span=span)
        self.head, self.tail = copy.head_bytes(), copy.tail
        self.start, self.end = copy.source_start, copy.source_end
        self.new_key = f"ep-1/audio-{hashlib.sha256(self.head).hexdigest()[:8]}.mp3"
        self.expected = self.head + self.old_bytes[self.start:self.end] + self.tail

    def write(self) -> None:
        """splices.json and the head, the feed pointing at the new copy, the old copy gone from public/."""
        heads = self.public / ".feedtool" / "heads"
        heads.mkdir(parents=True, exist_ok=True)
        head_name = hashlib.sha256(self.head).hexdigest() + ".bin"
        (heads / head_name).write_bytes(self.head)
        tail_name = None
        if self.tail:
            tail_name = hashlib.sha256(self.tail).hexdigest() + ".bin"
            (heads / tail_name).write_bytes(self.tail)
        body = {"version": 1, "splices": {self.new_key: {
            "size": len(self.expected), "head": head_name, "tail": tail_name,
            "source": {"key": self.old_key, "size": len(self.old_bytes), "start": self.start, "end": self.end}}}}
        (self.public / ".feedtool" / "splices.json").write_text(json.dumps(body))
        # What build writes next to it for the validator (an enclosure it left out of public/).
        write_remote_media(self.public, {}, [records.Splice(
            self.new_key, len(self.expected), self.head, self.tail, self.old_key, len(self.old_bytes),
            self.start, self.end)])
        feed = (self.public / "feed.xml").read_text(encoding="utf-8")
        assert feed.count(self.old_key) == 1
        feed = feed.replace(self.old_key, self.new_key).replace(
            f'length="{len(self.old_bytes)}"', f'length="{len(self.expected)}"')
        (self.public / "feed.xml").write_text(feed, encoding="utf-8")
        self.old_path.unlink()


def ffprobe_chapters(data: bytes, folder: Path) -> list[str]:
    path = folder / "downloaded.mp3"
    path.write_bytes(data)
    out = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return [c["tags"]["title"] for c in json.loads(out)["chapters"]]


def get(endpoint: str, bucket: str, key: str) -> bytes | None:
    try:
        return bytes(client(endpoint).get_object(Bucket=bucket, Key="show/" + key)["Body"].read())
    except Exception:
        return None


def enclosure(feed: bytes) -> tuple[str, int]:
    found = re.search(rb'<enclosure url="https://cdn\.example\.com/show/([^"]+)" length="(\d+)"', feed)
    assert found is not None
    return found.group(1).decode(), int(found.group(2))


# --------------------------------------------------------------------------------------------


def test_a_chapters_change_is_re_tagged_inside_the_bucket(show: PodcastFactory, server: tuple[str, str],
                                                          bucket: str, proxy: FaultProxy, tmp_path: Path) -> None:
    to = f"s3://{bucket}/show"
    ok(run_publish(show.root, to, endpoint=server[1]))
    splice = Splice(show)
    assert ffprobe_chapters(splice.old_bytes, tmp_path) == ["Start", "Middle", "End"]
    splice.write()

    dry = ok(run_publish(show.root, to, "--dry-run", "--no-build", endpoint=proxy.endpoint_url))
    assert [r["key"] for r in dry["would_retag"]] == [splice.new_key]
    assert get(server[1], bucket, splice.new_key) is None

    proxy.reset_counts()
    report = ok(run_publish(show.root, to, "--no-build", endpoint=proxy.endpoint_url))
    sent = proxy.body_bytes_in
    [made] = report["retagged"]
    assert made["key"] == splice.new_key and made["source"] == splice.old_key
    assert made["path"] == "copy inside the bucket" and made["why"] is None
    assert report["uploaded_bytes"] < 64 * 1024  # the feed and nothing else from public/
    # Measured at the proxy: every request body of the whole publish (parts, feed, state, lease).
    assert sent < 6 * MIB + len(splice.head), sent
    assert made["bytes_sent"] <= sent

    data = get(server[1], bucket, splice.new_key)
    assert data == splice.expected
    assert ffprobe_chapters(data, tmp_path) == [c.title for c in NEW_CHAPTERS]
    feed = get(server[1], bucket, "feed.xml")
    assert feed is not None and enclosure(feed) == (splice.new_key, len(splice.expected))
    assert get(server[1], bucket, splice.old_key) == splice.old_bytes  # the old feed's copy stays
    head = client(server[1]).head_object(Bucket=bucket, Key="show/" + splice.new_key)
    assert head["ContentType"] == "audio/mpeg" and "immutable" in head["CacheControl"]
    print(f"\n{server[0]}: {made['path']}: {sent} bytes sent by the whole publish "
          f"({made['bytes_sent']} by the re-tag) for a {len(splice.expected)}-byte copy")

    text = run_publish(show.root, to, "--no-build", endpoint=proxy.endpoint_url, fmt="text")
    assert text.returncode == 0 and "Nothing to do" in text.stdout, text.stdout + text.stderr
    proxy.reset_counts()
    again = ok(run_publish(show.root, to, "--no-build", endpoint=proxy.endpoint_url))
    assert again["retagged"] == [] and again["uploaded"] == [] and again["uploaded_bytes"] == 0
    assert not [path for method, path in proxy.requests if method == "PUT" and ".mp3" in path]
    assert not [path for method, path in proxy.requests if method == "HEAD" and ".mp3" in path]
    checked = ok(run_publish(show.root, to, "--no-build", "--check-remote", endpoint=proxy.endpoint_url))
    assert checked["retagged"] == [] and checked["uploaded"] == []


@SEAWEED_ONLY
def test_the_text_report_says_the_path_and_the_bytes(show: PodcastFactory, server: tuple[str, str], bucket: str,
                                                     proxy: FaultProxy) -> None:
    to = f"s3://{bucket}/show"
    ok(run_publish(show.root, to, endpoint=server[1]))
    splice = Splice(show)
    splice.write()
    dry = run_publish(show.root, to, "--no-build", "--dry-run", endpoint=proxy.endpoint_url, fmt="text")
    assert f"^ {splice.new_key}" in dry.stdout and "would re-tag 1" in dry.stdout, dry.stdout
    done = run_publish(show.root, to, "--no-build", endpoint=proxy.endpoint_url, fmt="text")
    assert done.returncode == 0, done.stderr
    assert re.search(r"re-tagged 1 file inside the bucket \(5\.\d MB sent for 2\d\.\d MB", done.stdout), done.stdout


def test_a_refused_copy_downloads_and_uploads_and_says_why(show: PodcastFactory, server: tuple[str, str],
                                                           bucket: str, proxy: FaultProxy, tmp_path: Path) -> None:
    to = f"s3://{bucket}/show"
    ok(run_publish(show.root, to, endpoint=server[1]))
    splice = Splice(show)
    splice.write()
    proxy.fail("PUT", r"uploadId=", header="x-amz-copy-source-range", status=501, code="NotImplemented", times=100)
    report = ok(run_publish(show.root, to, "--no-build", endpoint=proxy.endpoint_url))
    [made] = report["retagged"]
    assert made["path"] == "download and upload"
    assert "UploadPartCopy" in made["why"] and "NotImplemented" in made["why"]
    assert made["bytes_received"] >= splice.end - splice.start
    data = get(server[1], bucket, splice.new_key)
    assert data == splice.expected
    assert ffprobe_chapters(data, tmp_path) == [c.title for c in NEW_CHAPTERS]
    assert not client(server[1]).list_multipart_uploads(Bucket=bucket).get("Uploads")
    print(f"\n{server[0]} refusing the copy: {made['path']} ({made['why']}): {proxy.body_bytes_in} bytes sent")


@SEAWEED_ONLY
@pytest.mark.parametrize("damage", ["missing", "resized"])
def test_a_source_not_on_the_target_is_refused_before_anything_changes(
        show: PodcastFactory, server: tuple[str, str], bucket: str, damage: str) -> None:
    to = f"s3://{bucket}/show"
    ok(run_publish(show.root, to, endpoint=server[1]))
    splice = Splice(show)
    splice.write()
    s3 = client(server[1])
    if damage == "missing":
        s3.delete_object(Bucket=bucket, Key="show/" + splice.old_key)
    else:
        s3.put_object(Bucket=bucket, Key="show/" + splice.old_key, Body=splice.old_bytes[:-1000])
    live = get(server[1], bucket, "feed.xml")
    done = run_publish(show.root, to, "--no-build", endpoint=server[1], fmt="text")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert splice.new_key in done.stderr and splice.old_key in done.stderr
    assert "put the master back in the episode folder" in done.stderr
    assert ("is not on the target" if damage == "missing" else "has ") in done.stderr
    assert get(server[1], bucket, "feed.xml") == live
    assert get(server[1], bucket, splice.new_key) is None


@SEAWEED_ONLY
def test_delete_keeps_the_source_for_the_grace_period_and_never_the_new_copy(
        show: PodcastFactory, server: tuple[str, str], bucket: str) -> None:
    to = f"s3://{bucket}/show"
    ok(run_publish(show.root, to, endpoint=server[1]))
    splice = Splice(show)
    splice.write()
    report = ok(run_publish(show.root, to, "--no-build", "--delete", endpoint=server[1]))
    assert [r["key"] for r in report["retagged"]] == [splice.new_key]
    assert report["deleted"] == []
    assert splice.old_key in [k["key"] for k in report["kept_for_grace"]]
    assert get(server[1], bucket, splice.old_key) == splice.old_bytes
    # After the grace period: the old copy goes, the re-tagged one (not in public/) stays.
    later = ok(run_publish(show.root, to, "--no-build", "--delete", "--grace-days", "0", endpoint=server[1]))
    assert later["deleted"] == [splice.old_key]
    assert get(server[1], bucket, splice.old_key) is None
    assert get(server[1], bucket, splice.new_key) == splice.expected


def test_a_folder_target_writes_the_copy_from_the_earlier_file(show: PodcastFactory, tmp_path: Path) -> None:
    """Validation on (a folder target): the described copy counts as the enclosure's file."""
    site = tmp_path / "site"
    ok(run_publish(show.root, str(site), validate=True))
    splice = Splice(show)
    splice.write()
    report = ok(run_publish(show.root, str(site), "--no-build", validate=True))
    [made] = report["retagged"]
    assert made["path"] == "copy inside the folder"
    assert (site / splice.new_key).read_bytes() == splice.expected
    assert ffprobe_chapters((site / splice.new_key).read_bytes(), tmp_path) == [c.title for c in NEW_CHAPTERS]
    assert (site / splice.old_key).is_file()
    again = ok(run_publish(show.root, str(site), "--no-build"))
    assert again["retagged"] == [] and again["uploaded"] == []


@SEAWEED_ONLY
def test_a_failed_re_tag_leaves_the_live_feed_and_a_re_run_finishes(
        show: PodcastFactory, server: tuple[str, str], bucket: str, proxy: FaultProxy) -> None:
    to = f"s3://{bucket}/show"
    ok(run_publish(show.root, to, endpoint=server[1]))
    live = get(server[1], bucket, "feed.xml")
    splice = Splice(show)
    splice.write()
    proxy.fail("PUT", r"partNumber=1(&|$)", status=500, code="InternalError", times=100)
    done = run_publish(show.root, to, "--no-build", endpoint=proxy.endpoint_url, fmt="text")
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"re-tagging {splice.new_key}" in done.stderr and "The live feed was not changed" in done.stderr
    assert "Traceback" not in done.stderr
    assert get(server[1], bucket, "feed.xml") == live
    assert get(server[1], bucket, splice.new_key) is None
    assert not client(server[1]).list_multipart_uploads(Bucket=bucket).get("Uploads")
    proxy.clear()
    report = ok(run_publish(show.root, to, "--no-build", endpoint=proxy.endpoint_url))
    assert [r["key"] for r in report["retagged"]] == [splice.new_key]
    assert get(server[1], bucket, splice.new_key) == splice.expected


def test_a_fresh_clone_without_audio_re_tags_a_chapters_edit_inside_the_bucket(
        show: PodcastFactory, server: tuple[str, str], bucket: str, proxy: FaultProxy, tmp_path: Path) -> None:
    """The whole flow with the real build: the laptop publishes; a clone of episodes/ without the
    audio, the cache or public/ (CI) edits the chapters and publishes (publish builds: the build
    writes splices.json); the object is byte for byte what the laptop builds from the master."""
    to = f"s3://{bucket}/show"
    ok(run_publish(show.root, to, endpoint=server[1]))
    fresh = tmp_path / "clone"
    shutil.copytree(show.episodes, fresh / "episodes", ignore=lambda _, names: [n for n in names if n.endswith(".mp3")])
    episode = fresh / "episodes" / "ep-1" / "episode.md"
    episode.write_text(episode.read_text(encoding="utf-8").replace("[00:05] End", "[00:07] A new end"),
                       encoding="utf-8")

    proxy.reset_counts()
    report = ok(run_publish(fresh, to, endpoint=proxy.endpoint_url))
    sent = proxy.body_bytes_in
    assert report["built"] is True
    [made] = report["retagged"]
    assert made["path"] == "copy inside the bucket"
    assert [u["key"] for u in report["uploaded"] if u["key"].endswith(".mp3")] == []
    assert sent < 6 * MIB + 200 * 1024, sent  # the head (a 1400x1400 cover) is well under 200 KB

    # The witness: the same edit built where the master is.
    shutil.copyfile(episode, show.episodes / "ep-1" / "episode.md")
    done = subprocess.run([*FEEDTOOL, "build", "--episodes", str(show.episodes), "--out", str(show.public)],
                          cwd=show.root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    data = get(server[1], bucket, made["key"])
    assert data is not None and data == (show.public / made["key"]).read_bytes()
    assert ffprobe_chapters(data, tmp_path) == ["Start", "Middle", "A new end"]
    feed = get(server[1], bucket, "feed.xml")
    assert feed is not None and enclosure(feed) == (made["key"], len(data))
    print(f"\n{server[0]}, real build: {made['path']}: {sent} bytes sent by the whole publish for a "
          f"{len(data)}-byte copy")

"""The master store (feedtool.masters): fetched once, resumable, size-checked, sha256-verified.

HTTP against tests/range_server.py (a real server on 127.0.0.1 that honours Range and If-Range,
or not, and cuts or changes a file on demand; every body byte it sends is counted). s3:// against
moto's ThreadedMotoServer (real HTTP, boto3's own client as publish builds it).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from range_server import RangeServer

from feedtool.errors import AudioError
from feedtool.masters import MasterChangedError, MasterError, MasterFacts, MasterStore, master_facts
from feedtool.model import PublishTarget

EPISODE = Path("episodes/ep1/episode.md")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real MP3 (so the stored master probes), ~60 KB."""
    import subprocess

    path = tmp_path_factory.mktemp("audio") / "master.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=330:duration=4", "-ac", "1",
                    "-c:a", "libmp3lame", "-b:a", "128k", str(path)], check=True)
    return path.read_bytes()


@pytest.fixture
def server() -> Iterator[RangeServer]:
    running = RangeServer()
    yield running
    running.stop()


@pytest.fixture
def store(tmp_path: Path) -> MasterStore:
    return MasterStore(tmp_path / ".feedtool-cache" / "masters")


def assert_clear(error: pytest.ExceptionInfo, *words: str) -> None:
    """Names the episode (its episode.md, field audio), says what and what to do; exit code 2."""
    message = str(error.value)
    assert message.startswith(f"{EPISODE}: audio: "), message
    assert "\n  -> " in message, message
    for word in words:
        assert word in message, message
    assert error.value.exit_code == 2


# --------------------------------------------------------------------------------------------
# Fetched once


def test_fetch_stores_by_sha256_and_never_fetches_twice(server: RangeServer, store: MasterStore, audio: bytes) -> None:
    url = server.add("/shows/ep1.mp3", audio)
    stored = store.fetch(url, episode=EPISODE)
    assert stored.path == store.root / f"{sha(audio)}.mp3"
    assert stored.path.read_bytes() == audio and (stored.sha256, stored.size) == (sha(audio), len(audio))
    assert stored.transferred == len(audio) == server.sent
    assert list((store.root / "partial").glob("*.part")) == []

    server.stop()  # recorded sha256: found without any network, also by a new store object
    again = MasterStore(store.root).fetch(url, sha256=sha(audio), size=len(audio), episode=EPISODE)
    assert (again.path, again.transferred) == (stored.path, 0)
    assert MasterStore(store.root).find(sha(audio)) == stored.path


def test_a_source_fetched_before_costs_one_head(server: RangeServer, store: MasterStore, audio: bytes) -> None:
    """Without a recorded sha256 (before the lock file has one) a known source is checked with a
    HEAD: unchanged, nothing is downloaded; changed, it is fetched again."""
    url = server.add("/ep1.mp3", audio)
    store.fetch(url)
    before = len(server.log)
    assert store.fetch(url).transferred == 0
    assert [r.method for r in server.log[before:]] == ["HEAD"]

    server.add("/ep1.mp3", audio[::-1])  # replaced on the server
    replaced = store.fetch(url)
    assert replaced.sha256 == sha(audio[::-1]) and replaced.transferred == len(audio)


def test_master_facts_round_trip(server: RangeServer, store: MasterStore, audio: bytes) -> None:
    from mutagen.id3 import ID3
    from mutagen.mp3 import MP3

    stored = store.fetch(server.add("/ep1.mp3", audio))
    facts = master_facts(stored.path, sha256=stored.sha256)
    assert (facts.sha256, facts.size, facts.kind, facts.mime) == (sha(audio), len(audio), "mp3", "audio/mpeg")
    assert facts.audio_span == (ID3(stored.path).size, len(audio), False)  # ffmpeg's tag, then audio to the end
    assert facts.duration_s == MP3(stored.path).info.length and facts.bitrate == MP3(stored.path).info.bitrate
    recorded = json.loads(json.dumps({**facts.to_dict(), "later": "keys are ignored"}))
    assert MasterFacts.from_dict(recorded) == facts
    assert master_facts(stored.path) == facts  # the sha256 computed when not given


# --------------------------------------------------------------------------------------------
# Resumable


def test_a_cut_download_resumes_with_a_guarded_range(server: RangeServer, store: MasterStore, audio: bytes) -> None:
    url = server.add("/ep1.mp3", audio)
    server.cut_next("/ep1.mp3", after=20_000)
    stored = store.fetch(url, sha256=sha(audio), size=len(audio), episode=EPISODE)
    assert stored.path.read_bytes() == audio
    first, second = server.gets()
    assert (first.range, first.sent) == (None, 20_000)
    assert (second.range, second.status, second.if_range) == ("bytes=20000-", 206, server.files["/ep1.mp3"].etag)
    assert server.sent == stored.transferred == len(audio)  # not one byte twice


def test_a_download_cut_every_time_is_kept_and_resumed_by_the_next_run(
    server: RangeServer, store: MasterStore, audio: bytes
) -> None:
    url = server.add("/ep1.mp3", audio)
    server.cut_next("/ep1.mp3", after=10_000, times=3)
    with pytest.raises(MasterError) as caught:
        store.fetch(url, episode=EPISODE)
    assert_clear(caught, url, "stopped", "run again")
    assert not isinstance(caught.value, MasterChangedError)
    assert (store.root / "partial").glob("*.part") and server.sent == 30_000  # 3 x 10,000: each resumed

    sent = server.sent
    stored = store.fetch(url, episode=EPISODE)
    assert stored.path.read_bytes() == audio
    assert server.sent - sent == len(audio) - 30_000 == stored.transferred


def test_a_server_that_ignores_range_is_read_from_the_start(audio: bytes, tmp_path: Path) -> None:
    plain = RangeServer(ranges=False)  # like http.server: 200 and the whole file for any Range
    try:
        url = plain.add("/ep1.mp3", audio)
        plain.cut_next("/ep1.mp3", after=25_000)
        stored = MasterStore(tmp_path).fetch(url)
        assert stored.path.read_bytes() == audio
        assert [r.status for r in plain.gets()] == [200, 200]
        assert plain.sent == 25_000 + len(audio)
    finally:
        plain.stop()


@pytest.mark.parametrize("validator", ["etag", "last_modified"])
def test_a_master_replaced_between_runs_is_fetched_whole(
    validator: str, store: MasterStore, audio: bytes
) -> None:
    """If-Range with the ETag (or, without one, Last-Modified) keeps a part of the old file from
    being glued to the new one."""
    server = RangeServer(etag=validator == "etag", last_modified=True)
    try:
        url = server.add("/ep1.mp3", audio)
        server.cut_next("/ep1.mp3", after=10_000, times=3)
        with pytest.raises(MasterError):
            store.fetch(url)
        new = audio[:5000] + bytes(len(audio) - 5000)
        server.add("/ep1.mp3", new)
        stored = store.fetch(url)
        assert stored.path.read_bytes() == new
        last = server.gets()[-1]
        assert last.range == "bytes=30000-" and last.status == 200 and last.sent == len(new)
    finally:
        server.stop()


def test_a_master_changed_while_fetched_is_fetched_again(server: RangeServer, store: MasterStore,
                                                         audio: bytes) -> None:
    url = server.add("/ep1.mp3", audio)
    new = bytes(len(audio))  # the same size: only the ETag tells
    server.change_during("/ep1.mp3", after=30_000, new=new)
    stored = store.fetch(url, episode=EPISODE)
    assert stored.path.read_bytes() == new  # not a mix of the two
    assert len(server.gets()) == 2


def test_a_master_that_keeps_changing_is_refused(server: RangeServer, store: MasterStore, audio: bytes) -> None:
    url = server.add("/ep1.mp3", audio)
    server.change_during("/ep1.mp3", after=30_000, new=bytes(len(audio)), every=True)
    with pytest.raises(MasterChangedError) as caught:
        store.fetch(url, episode=EPISODE)
    assert_clear(caught, url, "changed while it was being fetched", "wait until the upload")
    assert store.find(sha(audio)) is None and store.find(sha(bytes(len(audio)))) is None


# --------------------------------------------------------------------------------------------
# Size and sha256


def test_bytes_that_do_not_match_the_recorded_sha256_are_refused(server: RangeServer, store: MasterStore,
                                                                audio: bytes) -> None:
    url = server.add("/ep1.mp3", audio)
    recorded = sha(b"the master as it was")
    with pytest.raises(MasterChangedError) as caught:
        store.fetch(url, sha256=recorded, episode=EPISODE)
    assert_clear(caught, url, "no longer match the sha256", recorded[:12], sha(audio)[:12], "feedtool.lock")
    assert store.find(sha(audio)) is not None  # kept under its own digest: no second download to accept it
    sent = server.sent
    with pytest.raises(MasterChangedError):  # asked again: one HEAD says it is still those bytes
        store.fetch(url, sha256=recorded, episode=EPISODE)
    assert server.sent == sent and server.log[-1].method == "HEAD"


def test_a_size_other_than_recorded_is_refused_before_the_body(server: RangeServer, store: MasterStore,
                                                              audio: bytes) -> None:
    url = server.add("/ep1.mp3", audio)
    with pytest.raises(MasterChangedError) as caught:
        store.fetch(url, sha256=sha(audio), size=len(audio) + 1, episode=EPISODE)
    assert_clear(caught, f"{len(audio):,} bytes", f"{len(audio) + 1:,}")
    assert list(store.root.rglob("*.part")) == [] and store.find(sha(audio)) is None  # no byte kept


def test_fifty_megabytes_interrupted_and_resumed(server: RangeServer, store: MasterStore) -> None:
    """A realistic size once: 50 MB, cut at 20 MB, resumed; sha256 checked."""
    data = os.urandom(1 << 20) * 50
    url = server.add("/big.mp3", data)
    server.cut_next("/big.mp3", after=20 << 20)
    stored = store.fetch(url, sha256=sha(data), size=len(data), episode=EPISODE)
    assert stored.size == len(data) and server.sent == len(data) == stored.transferred
    assert [r.range for r in server.gets()] == [None, f"bytes={20 << 20}-"]


# --------------------------------------------------------------------------------------------
# Clear answers to bad sources


def test_missing_forbidden_and_failing_urls(server: RangeServer, store: MasterStore) -> None:
    cases = [
        (server.base + "/nothing.mp3", "404", "check the URL"),
        (server.answer("/private.mp3", 403), "403 Forbidden", "signed links expire"),
        (server.answer("/broken.mp3", 503), "503", "try again later"),
        (server.answer("/share.mp3", 200, b"<html>Download</html>", Content_Type="text/html"), "web page",
         "direct download link"),
    ]
    for url, *words in cases:
        with pytest.raises(MasterError) as caught:
            store.fetch(url, episode=EPISODE)
        assert_clear(caught, url, *words)
    assert list(store.root.glob("*.mp3")) == []


def test_a_signed_link_is_not_printed_whole(server: RangeServer, store: MasterStore) -> None:
    """A query string (an expired signed link's signature) or a password never reaches the log."""
    server.answer("/private.mp3", 403)
    url = server.base.replace("http://", "http://user:secret@") + "/private.mp3?X-Amz-Signature=abc123&Expires=1"
    with pytest.raises(MasterError) as caught:
        store.fetch(url, episode=EPISODE)
    assert_clear(caught, server.base + "/private.mp3?…", "403")
    assert "abc123" not in str(caught.value) and "secret" not in str(caught.value)


def test_an_unreachable_host_and_a_refused_scheme(store: MasterStore) -> None:
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    with pytest.raises(MasterError) as caught:
        store.fetch(f"http://127.0.0.1:{port}/ep1.mp3", episode=EPISODE)
    assert_clear(caught, "refused")
    with pytest.raises(MasterError) as caught:
        store.fetch("ftp://example.com/ep1.mp3", episode=EPISODE)
    assert_clear(caught, "https:// URL or an s3://")


def test_a_url_without_an_audio_name_uses_the_content_type(server: RangeServer, store: MasterStore,
                                                          audio: bytes) -> None:
    stored = store.fetch(server.add("/download", audio, content_type="audio/mpeg"))
    assert stored.path.suffix == ".mp3"
    with pytest.raises(MasterError) as caught:
        store.fetch(server.add("/file", audio, content_type="application/octet-stream"), episode=EPISODE)
    assert_clear(caught, "cannot tell what kind of audio", "extension")


LFS_POINTER = (b"version https://git-lfs.github.com/spec/v1\n"
               b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 35214381\n")


def test_a_git_lfs_pointer_as_a_fetched_master(server: RangeServer, store: MasterStore) -> None:
    with pytest.raises(MasterError) as caught:
        store.fetch(server.add("/ep1.mp3", LFS_POINTER), episode=EPISODE)
    assert_clear(caught, "Git LFS pointer", "35.2 MB", "git lfs pull")


def test_a_git_lfs_pointer_as_a_local_master(podcast, runner) -> None:
    """Before: "can't sync to MPEG frame". Now: what it is and what to do, exit 2."""
    from conftest import run_cli

    from feedtool.audio import probe

    pointer = podcast.episodes / "first" / "audio.mp3"
    pointer.write_bytes(LFS_POINTER)
    with pytest.raises(AudioError, match="Git LFS pointer"):
        probe(pointer)
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 2
    assert "first/audio.mp3: this is a Git LFS pointer" in result.output and "git lfs pull" in result.output
    assert "Traceback" not in result.output and "sync" not in result.output


# --------------------------------------------------------------------------------------------
# s3:// (moto's server: real HTTP, publish's boto3 client)


@pytest.fixture
def s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[object, PublishTarget]]:
    """A bucket 'masters' with credentials only in the environment, as in CI."""
    import boto3

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(tmp_path / "none"),
                        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    client = boto3.client("s3", endpoint_url=moto_endpoint)
    client.create_bucket(Bucket="masters")
    yield client, PublishTarget(to="s3://site/show", endpoint_url=moto_endpoint, addressing_style="path")
    for item in client.list_objects_v2(Bucket="masters").get("Contents", []):
        client.delete_object(Bucket="masters", Key=item["Key"])
    client.delete_bucket(Bucket="masters")


def test_s3_master_fetched_once_with_publishs_settings(s3, tmp_path: Path, audio: bytes) -> None:
    client, settings = s3
    client.put_object(Bucket="masters", Key="season 1/ep1.mp3", Body=audio)
    store = MasterStore(tmp_path / "masters", s3=settings)
    stored = store.fetch("s3://masters/season 1/ep1.mp3", sha256=sha(audio), size=len(audio), episode=EPISODE)
    assert stored.path.read_bytes() == audio and stored.transferred == len(audio)
    assert stored.path.name == f"{sha(audio)}.mp3"
    assert store.fetch("s3://masters/season 1/ep1.mp3", sha256=sha(audio)).transferred == 0
    assert store.fetch("s3://masters/season 1/ep1.mp3").transferred == 0  # a HEAD, same ETag and size


def test_s3_partial_download_resumes_and_a_changed_object_restarts(s3, tmp_path: Path, audio: bytes) -> None:
    """What an interrupted run leaves (a part and its ETag) is continued with Range + IfMatch;
    when the object changed since, IfMatch fails and it is fetched whole."""
    client, settings = s3
    etag = client.put_object(Bucket="masters", Key="ep1.mp3", Body=audio)["ETag"]
    store = MasterStore(tmp_path / "masters", s3=settings)
    key = hashlib.sha256(b"s3://masters/ep1.mp3").hexdigest()[:32]

    def leave_part(validator: str) -> None:
        (store.root / "partial").mkdir(parents=True, exist_ok=True)
        (store.root / "partial" / f"{key}.part").write_bytes(audio[:12_345])
        (store.root / "partial" / f"{key}.json").write_text(json.dumps(
            {"source": "s3://masters/ep1.mp3", "validator": validator, "total": len(audio), "suffix": ".mp3"}))

    leave_part(etag)
    stored = store.fetch("s3://masters/ep1.mp3", sha256=sha(audio))
    assert stored.path.read_bytes() == audio and stored.transferred == len(audio) - 12_345
    shutil.rmtree(store.root)

    leave_part('"an-older-etag"')
    stored = store.fetch("s3://masters/ep1.mp3", sha256=sha(audio))
    assert stored.path.read_bytes() == audio and stored.transferred == len(audio)


def test_s3_missing_object_and_bucket(s3, tmp_path: Path) -> None:
    _, settings = s3
    store = MasterStore(tmp_path / "masters", s3=settings)
    with pytest.raises(MasterError) as caught:
        store.fetch("s3://masters/nope.mp3", episode=EPISODE)
    assert_clear(caught, "s3://masters/nope.mp3", "no such object", "upload the master")
    with pytest.raises(MasterError) as caught:
        store.fetch("s3://no-such-bucket/ep1.mp3", episode=EPISODE)
    assert_clear(caught, "bucket does not exist")


def test_s3_unreachable_endpoint_is_a_clear_error(s3, tmp_path: Path) -> None:
    """A service that cannot be reached (a closed port) is a MasterError naming it, not a crash."""
    import socket

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    probe.close()
    store = MasterStore(tmp_path / "masters", s3=PublishTarget(to="s3://site/show", endpoint_url=closed,
                                                                addressing_style="path"))
    with pytest.raises(MasterError) as caught:
        store.fetch("s3://masters/ep1.mp3", episode=EPISODE)
    assert_clear(caught, "s3://masters/ep1.mp3", "cannot reach", closed)

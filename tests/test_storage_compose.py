"""Targets make an object from head + a byte range of an object they hold + tail (storage.compose).

Against real servers (moto's ThreadedMotoServer and SeaweedFS), each behind tests/fault_proxy.py,
which counts the bytes of every request and answer body outside boto3: what was sent to the server
is measured, not taken from feedtool's own count. The proxy also plays a service that refuses
UploadPartCopy with a source range (501 NotImplemented), to force the fallback.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_proxy import FaultProxy
from seaweed_server import ACCESS_KEY, SECRET_KEY, start_seaweed

from feedtool.errors import StorageError
from feedtool.storage import (
    PATH_COPY,
    PATH_DOWNLOAD,
    PATH_FOLDER,
    Composition,
    LocalFolderTarget,
    S3Location,
    S3Target,
    SourceChanged,
    headers_for,
)
from feedtool.storage.s3_compose import PART_MIN, copy_ranges

pytestmark = pytest.mark.slow
MIB = 1024 * 1024
SOURCE_SIZE = 25 * MIB + 12345
KEY = "ep-1/ep-1-1a2b3c4d.mp3"
SOURCE_KEY = "ep-1/ep-1-99887766.mp3"
COPY_RANGE_HEADER = "x-amz-copy-source-range"


@pytest.fixture(scope="module")
def source_bytes() -> bytes:
    return os.urandom(SOURCE_SIZE)


@pytest.fixture(scope="module", params=["moto", "seaweedfs"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(name, endpoint URL) of a real S3 server."""
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
def s3_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(tmp_path / "none"),
                        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), "AWS_MAX_ATTEMPTS": "2"}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)


_buckets = iter(range(10**6))


@pytest.fixture
def bucket(server: tuple[str, str], source_bytes: bytes, s3_env: None) -> tuple[Any, str]:
    """A fresh bucket holding the source under show/ (written directly, not through the proxy)."""
    import boto3

    # Credentials given explicitly: boto3's default session keeps the first ones it resolved.
    client = boto3.client("s3", endpoint_url=server[1], aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY, region_name="us-east-1")
    name = f"compose-{os.getpid()}-{next(_buckets)}"
    client.create_bucket(Bucket=name)
    client.put_object(Bucket=name, Key="show/" + SOURCE_KEY, Body=source_bytes)
    return client, name


@pytest.fixture
def proxy(server: tuple[str, str]) -> Iterator[FaultProxy]:
    running = FaultProxy(server[1]).start()
    yield running
    running.stop()


def target(proxy: FaultProxy, bucket: str) -> S3Target:
    return S3Target(S3Location(bucket, "show/"), endpoint_url=proxy.endpoint_url, addressing_style="path")


def composition(source: bytes, *, head_size: int = 40_000, start: int = 35_123, tail: bytes = b"TAG" + bytes(125),
                end: int | None = None) -> Composition:
    head = b"ID3" + hashlib.sha256(b"head").digest() * (head_size // 32)
    return Composition(head=head[:head_size], source_key=SOURCE_KEY, source_size=len(source), start=start,
                       end=len(source) - 128 if end is None else end, tail=tail)


def expected(c: Composition, source: bytes) -> bytes:
    return c.head + source[c.start:c.end] + c.tail


def stored(client: Any, bucket: str, key: str) -> tuple[bytes, dict[str, Any]]:
    answer = client.get_object(Bucket=bucket, Key="show/" + key)
    return answer["Body"].read(), answer


def no_open_uploads(client: Any, bucket: str) -> bool:
    return not client.list_multipart_uploads(Bucket=bucket).get("Uploads")


# --------------------------------------------------------------------------------------------


def test_copy_inside_the_bucket_sends_the_head_and_5_mib(bucket: tuple[Any, str], proxy: FaultProxy,
                                                          source_bytes: bytes, server: tuple[str, str]) -> None:
    client, name = bucket
    c = composition(source_bytes)
    result = target(proxy, name).compose(KEY, c, headers_for(KEY))

    data, answer = stored(client, name, KEY)
    assert data == expected(c, source_bytes)
    assert answer["ContentType"] == "audio/mpeg"
    assert answer["CacheControl"] == headers_for(KEY).cache_control
    assert result.path == PATH_COPY and result.why is None
    assert result.size == c.size == len(data)
    # Measured outside feedtool: the bodies the server received (parts, no copied bytes).
    assert proxy.body_bytes_in <= PART_MIN + len(c.tail) + 4096
    assert proxy.body_bytes_in < 6 * MIB + len(c.head)
    assert result.bytes_sent == PART_MIN + len(c.tail)  # head + first bytes of the range, then the tail
    assert result.bytes_received == PART_MIN - len(c.head)
    assert any(COPY_RANGE_HEADER for _ in proxy.requests)
    assert no_open_uploads(client, name)
    print(f"\n{server[0]}: {result.path}: {proxy.body_bytes_in} bytes sent, {proxy.body_bytes_out} received "
          f"for a {c.size}-byte object")


def test_without_a_tail_the_copy_is_the_last_part(bucket: tuple[Any, str], proxy: FaultProxy,
                                                  source_bytes: bytes) -> None:
    client, name = bucket
    c = composition(source_bytes, tail=b"", end=len(source_bytes))
    result = target(proxy, name).compose(KEY, c, headers_for(KEY))
    assert stored(client, name, KEY)[0] == expected(c, source_bytes)
    assert result.path == PATH_COPY and proxy.body_bytes_in < PART_MIN + 4096


@pytest.mark.parametrize(("status", "code"), [(501, "NotImplemented"), (403, "AccessDenied"),
                                             (400, "InvalidRequest")])
def test_a_refused_copy_falls_back_to_download_and_upload(bucket: tuple[Any, str], proxy: FaultProxy,
                                                          source_bytes: bytes, server: tuple[str, str],
                                                          status: int, code: str) -> None:
    """A service without UploadPartCopy ranges: same bytes, the path and the reason are said."""
    client, name = bucket
    proxy.fail("PUT", r"uploadId=", header=COPY_RANGE_HEADER, status=status, code=code, times=100)
    c = composition(source_bytes)
    result = target(proxy, name).compose(KEY, c, headers_for(KEY))

    data, answer = stored(client, name, KEY)
    assert data == expected(c, source_bytes)
    assert answer["ContentType"] == "audio/mpeg"
    assert result.path == PATH_DOWNLOAD
    assert result.why is not None and code in result.why and "UploadPartCopy" in result.why
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    # Part 1 (head + 5 MiB) went up before the copy was refused; the rest follows it into the same
    # upload: every byte of the object is sent once, none twice.
    assert result.bytes_sent == c.size
    assert c.size <= proxy.body_bytes_in < c.size + 64 * 1024
    assert result.bytes_received == c.length
    assert no_open_uploads(client, name)
    print(f"\n{server[0]} refusing the copy: {result.path} ({result.why}): {proxy.body_bytes_in} bytes sent, "
          f"{proxy.body_bytes_out} received")


def test_a_small_range_is_fetched_and_put(bucket: tuple[Any, str], proxy: FaultProxy, source_bytes: bytes) -> None:
    client, name = bucket
    c = composition(source_bytes, end=3 * MIB)
    result = target(proxy, name).compose(KEY, c, headers_for(KEY))
    assert stored(client, name, KEY)[0] == expected(c, source_bytes)
    assert result.path == PATH_DOWNLOAD and "small" in (result.why or "")
    assert [m for m, _ in proxy.requests].count("PUT") == 1  # one PutObject, no multipart


def test_a_missing_or_resized_source_is_refused_before_anything_is_written(
        bucket: tuple[Any, str], proxy: FaultProxy, source_bytes: bytes) -> None:
    client, name = bucket
    c = composition(source_bytes)
    with pytest.raises(SourceChanged, match=f"has {SOURCE_SIZE} bytes, not the {SOURCE_SIZE + 1}"):
        target(proxy, name).compose(KEY, Composition(c.head, SOURCE_KEY, c.source_size + 1, c.start, c.end, c.tail),
                                    headers_for(KEY))
    with pytest.raises(SourceChanged, match="is not on"):
        target(proxy, name).compose(KEY, Composition(c.head, "ep-1/gone.mp3", c.source_size, c.start, c.end, c.tail),
                                    headers_for(KEY))
    assert not [m for m, _ in proxy.requests if m in ("PUT", "POST")]
    assert no_open_uploads(client, name)


def test_a_failure_aborts_the_multipart_upload(bucket: tuple[Any, str], proxy: FaultProxy,
                                               source_bytes: bytes) -> None:
    client, name = bucket
    proxy.fail("PUT", r"partNumber=3", status=500, code="InternalError", times=100)  # the tail part
    with pytest.raises(StorageError, match="kept failing"):
        target(proxy, name).compose(KEY, composition(source_bytes), headers_for(KEY))
    assert no_open_uploads(client, name)
    assert "Contents" not in client.list_objects_v2(Bucket=name, Prefix="show/" + KEY)


def test_a_dropped_connection_on_the_copy_is_one_clear_error(bucket: tuple[Any, str], proxy: FaultProxy,
                                                             source_bytes: bytes) -> None:
    client, name = bucket
    proxy.drop("PUT", r"uploadId=", header=COPY_RANGE_HEADER, times=100)
    with pytest.raises(StorageError, match="copying part of") as caught:
        target(proxy, name).compose(KEY, composition(source_bytes), headers_for(KEY))
    assert type(caught.value).__module__.startswith("feedtool")
    assert no_open_uploads(client, name)


def test_a_source_replaced_during_the_copy_is_not_glued_in(bucket: tuple[Any, str], proxy: FaultProxy,
                                                           source_bytes: bytes, server: tuple[str, str]) -> None:
    """CopySourceIfMatch carries the source's ETag (moto ignores it; SeaweedFS and AWS honour it)."""
    if server[0] == "moto":
        pytest.skip("moto ignores CopySourceIfMatch on UploadPartCopy")
    client, name = bucket

    def replace_source() -> None:
        client.put_object(Bucket=name, Key="show/" + SOURCE_KEY, Body=source_bytes[::-1])

    proxy.before("PUT", r"uploadId=", replace_source, header=COPY_RANGE_HEADER)
    with pytest.raises(SourceChanged, match="changed while"):
        target(proxy, name).compose(KEY, composition(source_bytes), headers_for(KEY))
    assert no_open_uploads(client, name)
    assert "Contents" not in client.list_objects_v2(Bucket=name, Prefix="show/" + KEY)


def test_copy_ranges_stay_within_the_part_limits() -> None:
    assert copy_ranges(10, 20) == [(10, 20)]
    gib = 1024 * MIB
    ranges = copy_ranges(0, 12 * gib + 3)
    assert len(ranges) == 3 and ranges[0][0] == 0 and ranges[-1][1] == 12 * gib + 3
    assert all(b - a <= 5 * gib and b - a >= PART_MIN for a, b in ranges)
    assert all(ranges[i][1] == ranges[i + 1][0] for i in range(2))


def test_a_folder_target_writes_the_file_from_the_source_file(tmp_path: Path) -> None:
    source = os.urandom(3 * MIB + 7)
    (tmp_path / "ep-1").mkdir()
    (tmp_path / SOURCE_KEY).write_bytes(source)
    folder = LocalFolderTarget(tmp_path)
    c = composition(source)
    result = folder.compose(KEY, c, headers_for(KEY))
    data = (tmp_path / KEY).read_bytes()
    assert data == expected(c, source)
    assert result.path == PATH_FOLDER and result.sha256 == hashlib.sha256(data).hexdigest()
    assert not [p for p in tmp_path.rglob("*") if "tmp" in p.name]
    with pytest.raises(SourceChanged):
        folder.compose("ep-1/x.mp3", Composition(c.head, SOURCE_KEY, 5, 0, 5), headers_for(KEY))
    with pytest.raises(SourceChanged):
        folder.compose("ep-1/x.mp3", Composition(c.head, "ep-1/none.mp3", 5, 0, 5), headers_for(KEY))
    assert not (tmp_path / "ep-1" / "x.mp3").exists()

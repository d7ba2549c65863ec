"""A bucket (and optional prefix) on AWS S3 or an S3-compatible service: the only boto3 user.

Every request has a connect and a read timeout and a bounded number of attempts (botocore's
"standard" retry mode: exponential back-off with jitter on throttling, 5xx and dropped
connections). Every failure becomes a StorageError with one clear message (s3_errors.py).
Conditional writes (If-None-Match: *, If-Match) are sent as asked; AWS, R2, MinIO, SeaweedFS and
moto honour them, and feedtool.publish.lease finds out when a service ignores them.

Credentials come only from boto3's own chain (environment, profile, instance role) and are never
read, printed or logged here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from feedtool.errors import InputError, StorageError, excerpt
from feedtool.storage.base import (
    ComposeResult,
    Composition,
    ConditionsUnsupported,
    Fetched,
    ListedObject,
    PreconditionFailed,
    Progress,
    RemoteObject,
)
from feedtool.storage.headers import ObjectHeaders, headers_for
from feedtool.storage.keys import join_key, normalise_prefix
from feedtool.storage.s3_errors import client_setup_error, service_error

#: Attempts per request ("standard" mode: exponential back-off with jitter between them);
#: AWS_MAX_ATTEMPTS in the environment overrides it.
S3_RETRIES = 4
#: Seconds to open a connection, and to wait for the next bytes of an answer (a stalled service
#: is given up on after that, per attempt); FEEDTOOL_S3_READ_TIMEOUT overrides the second.
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 60.0


def _setting(name: str, default: float, *, minimum: float) -> float:
    """A number from the environment (a bad value is an error, not a silent default)."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < minimum:
        raise InputError(f"{name}={excerpt(text)!r} is not a number of at least {minimum:g}")
    return value
#: Parallel requests; the connection pool must be at least as large.
S3_CONCURRENCY = 16
#: Files above this go up in parts (of this size), several parts at a time.
MULTIPART_THRESHOLD = 16 * 1024 * 1024
_NOT_FOUND = ("404", "NoSuchKey", "NotFound")
_PRECONDITION = ("PreconditionFailed", "412", "ConditionalRequestConflict", "409")


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # '' or ends with '/'


def parse_s3_url(url: str) -> S3Location:
    """``s3://bucket/some/prefix`` -> S3Location('bucket', 'some/prefix/')."""
    rest = url[len("s3://") :]
    bucket, _, prefix = rest.partition("/")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.\-_]{1,254}", bucket or ""):
        raise InputError(
            f"{excerpt(url)!r} does not name a valid bucket",
            field="publish.to",
            hint="write it as s3://bucket-name/optional/prefix",
        )
    return S3Location(bucket=bucket, prefix=normalise_prefix(prefix))


def check_endpoint_url(url: str) -> str:
    """An endpoint must be http(s)://host[:port][/path]; anything else is refused before any request."""
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        parts, port_ok = None, False
    if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok
            or any(ch.isspace() for ch in url) or parts.query or parts.fragment or parts.username):
        raise InputError(
            f"{excerpt(url)!r} is not an endpoint URL",
            field="publish.endpoint_url",
            hint="write it as https://host[:port], e.g. https://<account>.r2.cloudflarestorage.com",
        )
    return url


def _etag_of(response: dict[str, Any]) -> str | None:
    etag = response.get("ETag")
    return str(etag) if etag else None


class S3Target:
    """A bucket (and optional prefix) on AWS S3 or any S3-compatible service."""

    def __init__(
        self,
        location: S3Location,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        addressing_style: str | None = None,
        acl: str | None = None,
        client: Any = None,
    ) -> None:
        self.location = location
        self.endpoint_url = check_endpoint_url(endpoint_url) if endpoint_url else None
        self.region = region
        self.acl = acl
        self.description = f"s3://{location.bucket}/{location.prefix}" + (
            f" at {endpoint_url}" if endpoint_url else ""
        )
        self._client = client or self._make_client(self.endpoint_url, region, addressing_style)
        self._transfer: Any = None
        self._pool: Any = None

    @staticmethod
    def _make_client(endpoint_url: str | None, region: str | None, addressing_style: str | None) -> Any:
        import boto3
        from botocore import exceptions as bx
        from botocore.config import Config

        if addressing_style not in (None, "auto", "path", "virtual"):
            raise InputError(
                f"addressing_style must be path, virtual or auto, not {excerpt(addressing_style)!r}",
                field="publish.addressing_style",
            )
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": addressing_style or "auto"},
            # total_max_attempts counts the first request (max_attempts would add one to it)
            retries={"total_max_attempts": int(_setting("AWS_MAX_ATTEMPTS", S3_RETRIES, minimum=1)),
                     "mode": "standard"},
            max_pool_connections=S3_CONCURRENCY + 4,
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=_setting("FEEDTOOL_S3_READ_TIMEOUT", READ_TIMEOUT_S, minimum=0.1),
            # Services like R2/B2 do not all accept the newer default CRC checksums on every call.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        try:
            session = boto3.session.Session()
            # Credentials are resolved here: an empty AWS_SECRET_ACCESS_KEY fails now, clearly.
            return session.client("s3", endpoint_url=endpoint_url, region_name=region or None, config=config)
        except (bx.BotoCoreError, ValueError) as error:
            raise client_setup_error(error, region=region, endpoint_url=endpoint_url) from None

    # -- errors -------------------------------------------------------------------------------

    def _error(self, error: Exception, doing: str, action: str) -> StorageError:
        return service_error(error, action=action, doing=doing, where=self.description,
                             bucket=self.location.bucket, endpoint_url=self.endpoint_url, region=self.region)

    def _key(self, key: str) -> str:
        return join_key(self.location.prefix, key)

    @staticmethod
    def _code(error: Any) -> str:
        return str(error.response.get("Error", {}).get("Code") or
                   error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))

    # -- reading ------------------------------------------------------------------------------

    def list(self, under: str = "") -> dict[str, ListedObject]:
        from botocore import exceptions as bx

        listed: dict[str, ListedObject] = {}
        start = len(self.location.prefix)
        try:
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.location.bucket, Prefix=self.location.prefix + under):
                for item in page.get("Contents", []):
                    key = item["Key"][start:]
                    listed[key] = ListedObject(key, int(item["Size"]), item.get("ETag"))
        except (bx.BotoCoreError, bx.ClientError) as error:
            raise self._error(error, "listing", "list") from error
        return listed

    def head(self, key: str) -> RemoteObject | None:
        from botocore import exceptions as bx

        try:
            response = self._client.head_object(Bucket=self.location.bucket, Key=self._key(key))
        except bx.ClientError as error:
            if self._code(error) in _NOT_FOUND:
                return None
            raise self._error(error, f"reading {key} in", "read") from error
        except bx.BotoCoreError as error:
            raise self._error(error, f"reading {key} in", "read") from error
        return RemoteObject(
            key=key,
            size=int(response["ContentLength"]),
            sha256=response.get("Metadata", {}).get("sha256"),
            content_type=response.get("ContentType"),
            cache_control=response.get("CacheControl"),
            etag=_etag_of(response),
        )

    def get(self, key: str) -> Fetched | None:
        from botocore import exceptions as bx

        try:
            response = self._client.get_object(Bucket=self.location.bucket, Key=self._key(key))
            data = bytes(response["Body"].read())
        except bx.ClientError as error:
            if self._code(error) in _NOT_FOUND:
                return None
            raise self._error(error, f"reading {key} from", "read") from error
        except bx.BotoCoreError as error:
            raise self._error(error, f"reading {key} from", "read") from error
        date = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
        try:
            server_time = parsedate_to_datetime(date) if date else None
        except (TypeError, ValueError):
            server_time = None
        return Fetched(data, _etag_of(response), response.get("LastModified"), server_time)

    def range_status(self, key: str) -> int | None:
        from botocore import exceptions as bx

        try:
            response = self._client.get_object(Bucket=self.location.bucket, Key=self._key(key), Range="bytes=0-1")
            response["Body"].read()
            return int(response["ResponseMetadata"]["HTTPStatusCode"])
        except (bx.ClientError, bx.BotoCoreError) as error:
            raise self._error(error, f"reading a byte range of {key} in", "read") from error

    # -- writing ------------------------------------------------------------------------------

    def _extra_args(self, headers: ObjectHeaders, sha256: str | None) -> dict[str, Any]:
        extra: dict[str, Any] = {"ContentType": headers.content_type, "CacheControl": headers.cache_control}
        if sha256:
            extra["Metadata"] = {"sha256": sha256}
        if self.acl:
            extra["ACL"] = self.acl
        return extra

    def _transfer_manager(self) -> Any:
        if self._transfer is None:
            from boto3.s3.transfer import TransferConfig, create_transfer_manager

            config = TransferConfig(
                multipart_threshold=MULTIPART_THRESHOLD,
                multipart_chunksize=MULTIPART_THRESHOLD,
                max_concurrency=S3_CONCURRENCY,
                use_threads=True,
            )
            self._transfer = create_transfer_manager(self._client, config)
        return self._transfer

    def put_bytes(self, key: str, data: bytes, headers: ObjectHeaders | None = None, *,
                  sha256: str | None = None, if_match: str | None = None, if_none_match: bool = False) -> str | None:
        from botocore import exceptions as bx

        conditions: dict[str, str] = {}
        if if_none_match:
            conditions["IfNoneMatch"] = "*"
        if if_match is not None:
            conditions["IfMatch"] = if_match
        try:
            response = self._client.put_object(Bucket=self.location.bucket, Key=self._key(key), Body=data,
                                               **self._extra_args(headers or headers_for(key), sha256), **conditions)
        except bx.ClientError as error:
            if conditions and self._code(error) in _PRECONDITION:
                raise PreconditionFailed(f"{key} in {self.description} changed since it was read") from error
            if conditions and self._code(error) in ("NotImplemented", "501"):
                raise ConditionsUnsupported(f"{self.description} does not support conditional writes") from error
            raise self._error(error, f"writing {key} to", "write") from error
        except bx.BotoCoreError as error:
            raise self._error(error, f"writing {key} to", "write") from error
        return _etag_of(response)

    def put_file(self, path: Path, key: str, headers: ObjectHeaders, sha256: str,
                 progress: Progress | None = None, *, if_match: str | None = None,
                 if_none_match: bool = False) -> str | None:
        if if_match is not None or if_none_match:  # only small files (the feed) are written conditionally
            data = path.read_bytes()
            etag = self.put_bytes(key, data, headers, sha256=sha256, if_match=if_match, if_none_match=if_none_match)
            if progress:
                progress(len(data))
            return etag
        result: str | None = self.submit_file(path, key, headers, sha256, progress).result()
        return result

    def submit_file(self, path: Path, key: str, headers: ObjectHeaders, sha256: str,
                    progress: Progress | None = None) -> Any:
        """Start an upload; ``.result()`` waits (returns the ETag when known, raises StorageError).

        Files below the multipart threshold go up with one PutObject on a thread pool: the
        transfer manager's bookkeeping costs more CPU than the request itself for the thousands
        of small chapters and transcripts of a big catalogue. Bigger files go through boto3's
        transfer manager (parallel parts).
        """
        try:
            size = path.stat().st_size
        except OSError as error:  # gone from public/ since the scan: a message, not a traceback
            raise StorageError(f"uploading {key} failed: {error.strerror or error}", path=path) from None
        if size < MULTIPART_THRESHOLD:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(max_workers=S3_CONCURRENCY)
            return _WrappedFuture(self._pool.submit(self._put_small, path, key, headers, sha256, progress), self, key)
        from boto3.s3.transfer import ProgressCallbackInvoker

        subscribers = [ProgressCallbackInvoker(progress)] if progress else None
        future = self._transfer_manager().upload(
            str(path), self.location.bucket, self._key(key), self._extra_args(headers, sha256), subscribers
        )
        return _WrappedFuture(future, self, key)

    def _put_small(self, path: Path, key: str, headers: ObjectHeaders, sha256: str,
                   progress: Progress | None) -> str | None:
        with open(path, "rb") as handle:
            body = handle.read()
        response = self._client.put_object(Bucket=self.location.bucket, Key=self._key(key), Body=body,
                                           **self._extra_args(headers, sha256))
        if progress:
            progress(len(body))
        return _etag_of(response)

    def compose(self, key: str, composition: Composition, headers: ObjectHeaders) -> ComposeResult:
        """head + a range of an object in this bucket + tail, copied inside the bucket where the
        service allows it (feedtool.storage.s3_compose)."""
        from feedtool.storage.s3_compose import S3Composer

        return S3Composer(self, key, composition, headers).run()

    def delete(self, keys: Iterable[str]) -> None:
        from botocore import exceptions as bx

        full = [self._key(key) for key in keys]
        for start in range(0, len(full), 1000):
            batch = full[start : start + 1000]
            try:
                response = self._client.delete_objects(
                    Bucket=self.location.bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
                )
            except (bx.ClientError, bx.BotoCoreError) as error:
                raise self._error(error, "deleting objects in", "delete") from error
            errors = response.get("Errors") or []
            if errors:
                first = errors[0]
                raise StorageError(
                    f"could not delete {len(errors)} object(s) in {self.description}, "
                    f"e.g. {excerpt(str(first.get('Key')))}: {first.get('Code')}",
                    hint="the key needs s3:DeleteObject on the bucket's objects" if first.get("Code") == "AccessDenied"
                    else None,
                )

    def delete_if_match(self, key: str, etag: str) -> None:
        from botocore import exceptions as bx

        try:
            self._client.delete_object(Bucket=self.location.bucket, Key=self._key(key), IfMatch=etag)
        except bx.ClientError as error:
            code = self._code(error)
            if code in _PRECONDITION:
                raise PreconditionFailed(f"{key} in {self.description} changed since it was read") from error
            if code in ("NotImplemented", "501", "InvalidArgument", "400"):
                # A service without conditional deletes: the caller checked the ETag just before.
                self.delete([key])
                return
            raise self._error(error, f"deleting {key} in", "delete") from error
        except bx.BotoCoreError as error:
            raise self._error(error, f"deleting {key} in", "delete") from error

    def check_bucket(self) -> None:
        """Fail early and clearly when the bucket is missing or the credentials are wrong."""
        from botocore import exceptions as bx

        try:
            # Not head_bucket: a HEAD answer has no body, so "wrong secret" and "no access" both
            # come back as a bare 403. A one-key listing carries the error code.
            self._client.list_objects_v2(Bucket=self.location.bucket, Prefix=self.location.prefix, MaxKeys=1)
        except (bx.ClientError, bx.BotoCoreError) as error:
            raise self._error(error, "checking the bucket", "check") from error

    def close(self, cancel: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)
            self._pool = None
        if self._transfer is None:
            return
        transfer, self._transfer = self._transfer, None
        if not cancel:
            transfer.shutdown()
            return
        # s3transfer's cancel waits for every queued transfer to acknowledge; one interrupted
        # while being queued never does. Give it a few seconds, then leave without it.
        import threading

        # (TransferManager.shutdown(cancel=True) passes its message where an exception type
        # belongs, in s3transfer 0.16, and fails; _shutdown takes the arguments in order.)
        cancel_all = getattr(transfer, "_shutdown", None)
        stopper = threading.Thread(
            target=cancel_all if cancel_all else transfer.shutdown,
            args=(True, "publish interrupted") if cancel_all else (),
            daemon=True,
        )
        stopper.start()
        stopper.join(timeout=5)


class _WrappedFuture:
    """A transfer future whose ``result()`` returns the ETag (if known) and raises StorageError."""

    def __init__(self, future: Any, target: S3Target, key: str) -> None:
        self._future = future
        self._target = target
        self.key = key

    def result(self) -> str | None:
        from botocore import exceptions as bx

        try:
            value = self._future.result()
        except (bx.ClientError, bx.BotoCoreError) as error:
            raise self._target._error(error, f"uploading {self.key} to", "write") from error
        except OSError as error:
            raise StorageError(f"uploading {self.key} failed: {error.strerror or error}") from error
        return value if isinstance(value, str) else None

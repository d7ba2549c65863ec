"""An object made of new head bytes + a byte range of an object already in the bucket + tail bytes.

This is how an MP3 is re-tagged on a machine without its master (docs/publishing.md,
"Re-tagging inside the bucket"): the new tag and the first few MB of the audio are uploaded, the
rest of the audio is copied by the service from the earlier tagged copy (a multipart upload whose
middle part is an UploadPartCopy with a source range). S3's rule that every part but the last is at
least 5 MiB decides the layout:

- part 1: head + the first (5 MiB - len(head)) bytes of the range (one ranged GET);
- part 2..: UploadPartCopy of the rest of the range, with the source's ETag as a condition, so a
  source replaced in between is never glued in (at most 5 GiB per part);
- last part: the tail, when there is one (then the copied part is not last, and is >= 5 MiB).

A range under ~10 MiB is simply fetched and sent back (two requests, no multipart bookkeeping).
Where the service refuses the copy (NotImplemented, InvalidRequest, AccessDenied...), the rest of
the range is streamed down and into the same upload in 16 MiB parts (bounded memory; part 1,
already sent, is not sent again), and the result says so, with the service's error code. Any
failure aborts the multipart upload: no orphaned parts are left to be billed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from feedtool.errors import StorageError, excerpt
from feedtool.storage.base import PATH_COPY, PATH_DOWNLOAD, ComposeResult, Composition, SourceChanged
from feedtool.storage.headers import ObjectHeaders

if TYPE_CHECKING:
    from feedtool.storage.s3 import S3Target

MIB = 1024 * 1024
#: S3: every part but the last must be at least this big.
PART_MIN = 5 * MIB
#: S3: no part may be bigger (an UploadPartCopy included).
PART_MAX = 5 * 1024 * MIB
#: A range shorter than this is fetched and sent back: a copy would save at most ~5 MB.
SMALL_RANGE = 10 * MIB
#: Part size when the range is streamed down and up again (also the most held in memory).
STREAM_PART = 16 * MIB
#: What services answer when they do not do UploadPartCopy (or not with a source range).
COPY_REFUSED = frozenset({"NotImplemented", "501", "XNotImplemented", "NotSupported", "InvalidRequest",
                          "InvalidArgument", "AccessDenied", "403", "MethodNotAllowed", "405"})
_PRECONDITION = frozenset({"PreconditionFailed", "412"})
_NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound"})


def _code(error: Any) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code") or response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))


def copy_ranges(start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) in as few parts as S3 allows (each at most PART_MAX, all about equal)."""
    length = end - start
    count = max(1, -(-length // PART_MAX))
    size = -(-length // count)
    return [(at, min(at + size, end)) for at in range(start, end, size)]


class S3Composer:
    """One composition on one S3Target (the target's client, prefix, headers and errors)."""

    def __init__(self, target: S3Target, key: str, composition: Composition, headers: ObjectHeaders) -> None:
        self.target = target
        self.client = target._client
        self.bucket = target.location.bucket
        self.key = key
        self.full_key = target._key(key)
        self.source_full_key = target._key(composition.source_key)
        self.c = composition
        self.headers = headers
        self.sent = 0
        self.received = 0

    # -- the whole operation --------------------------------------------------------------------

    def run(self) -> ComposeResult:
        source_etag = self._check_source()
        c = self.c
        first = min(c.length, max(0, PART_MIN - len(c.head)))
        if c.length - first < PART_MIN or c.length < SMALL_RANGE:
            return self._download(source_etag, why=f"the range is small ({c.length} bytes)")
        return self._copy(source_etag, first)

    def _check_source(self) -> str | None:
        """The source's ETag, after checking it is there with the size the composition expects."""
        from botocore import exceptions as bx

        c = self.c
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=self.source_full_key)
        except bx.ClientError as error:
            if _code(error) in _NOT_FOUND:
                raise SourceChanged(f"{c.source_key} is not on {self.target.description}") from error
            raise self.target._error(error, f"reading {c.source_key} in", "read") from error
        except bx.BotoCoreError as error:
            raise self.target._error(error, f"reading {c.source_key} in", "read") from error
        size = int(response["ContentLength"])
        if size != c.source_size or not 0 <= c.start <= c.end <= size:
            raise SourceChanged(f"{c.source_key} on {self.target.description} has {size} bytes, "
                                f"not the {c.source_size} it was made with")
        etag = response.get("ETag")
        return str(etag) if etag else None

    # -- the copy inside the bucket ---------------------------------------------------------------

    def _copy(self, source_etag: str | None, first: int) -> ComposeResult:
        """Part 1 sent, the rest copied; if the service refuses the copy, the rest of the range is
        streamed into the same upload instead (part 1 is not sent twice)."""
        from botocore import exceptions as bx

        c = self.c
        upload_id = self._start_upload()
        parts: list[dict[str, Any]] = []
        refused: str | None = None
        try:
            body = c.head + self._get_range(c.start, c.start + first, source_etag)
            digest = hashlib.sha256(body)
            parts.append(self._put_part(upload_id, 1, body))
            for at, until in copy_ranges(c.start + first, c.end):
                condition = {"CopySourceIfMatch": source_etag} if source_etag else {}
                try:
                    answer = self.client.upload_part_copy(
                        Bucket=self.bucket, Key=self.full_key, UploadId=upload_id, PartNumber=len(parts) + 1,
                        CopySource={"Bucket": self.bucket, "Key": self.source_full_key},
                        CopySourceRange=f"bytes={at}-{until - 1}", **condition)
                except bx.ClientError as error:
                    code = _code(error)
                    if code in _PRECONDITION:
                        raise self._changed() from error
                    if code not in COPY_REFUSED:
                        raise self.target._error(error, f"copying part of {c.source_key} to {self.key} in",
                                                 "write") from error
                    refused = code
                    self._stream_parts(upload_id, parts, bytearray(), at, c.end, source_etag, digest)
                    break
                except bx.BotoCoreError as error:  # a dropped connection, a timeout: after the retries
                    raise self.target._error(error, f"copying part of {c.source_key} to {self.key} in",
                                             "write") from error
                parts.append({"PartNumber": len(parts) + 1, "ETag": answer["CopyPartResult"]["ETag"]})
            else:
                if c.tail:
                    parts.append(self._put_part(upload_id, len(parts) + 1, c.tail))
            etag = self._complete(upload_id, parts)
        except BaseException:
            self._abort(upload_id)
            raise
        if refused is not None:
            return ComposeResult(self.key, c.size, PATH_DOWNLOAD, self.sent, self.received, etag,
                                 digest.hexdigest() if self.received + len(c.head) + len(c.tail) == c.size else None,
                                 f"the service refused UploadPartCopy ({excerpt(refused, 40)})")
        return ComposeResult(self.key, c.size, PATH_COPY, self.sent, self.received, etag)

    # -- the fallback: the range down and up again -------------------------------------------------

    def _download(self, source_etag: str | None, *, why: str) -> ComposeResult:
        """Stream the range down and the object up (one PUT when small, else STREAM_PART parts)."""
        c = self.c
        digest = hashlib.sha256(c.head)
        if c.size < STREAM_PART:
            data = c.head + self._get_range(c.start, c.end, source_etag) + c.tail
            digest.update(data[len(c.head):])
            etag = self._put_whole(data, digest.hexdigest())
            return ComposeResult(self.key, c.size, PATH_DOWNLOAD, self.sent, self.received, etag,
                                 digest.hexdigest(), why)
        upload_id = self._start_upload()
        parts: list[dict[str, Any]] = []
        try:
            self._stream_parts(upload_id, parts, bytearray(c.head), c.start, c.end, source_etag, digest)
            etag = self._complete(upload_id, parts)
        except BaseException:
            self._abort(upload_id)
            raise
        return ComposeResult(self.key, c.size, PATH_DOWNLOAD, self.sent, self.received, etag, digest.hexdigest(), why)

    def _stream_parts(self, upload_id: str, parts: list[dict[str, Any]], buffer: bytearray, start: int, end: int,
                      source_etag: str | None, digest: Any) -> None:
        """``buffer`` + source[start:end] + the tail as the next parts of the upload, STREAM_PART
        bytes each (the last one shorter): at most STREAM_PART + 1 MiB in memory."""
        for chunk in self._stream_range(start, end, source_etag):
            digest.update(chunk)
            buffer += chunk
            while len(buffer) >= STREAM_PART:
                parts.append(self._put_part(upload_id, len(parts) + 1, bytes(buffer[:STREAM_PART])))
                del buffer[:STREAM_PART]
        digest.update(self.c.tail)
        buffer += self.c.tail
        if buffer or not parts:
            parts.append(self._put_part(upload_id, len(parts) + 1, bytes(buffer)))

    # -- requests ---------------------------------------------------------------------------------

    def _changed(self) -> SourceChanged:
        return SourceChanged(f"{self.c.source_key} on {self.target.description} changed while {self.key} "
                             "was being made from it")

    def _get_range(self, start: int, end: int, etag: str | None) -> bytes:
        return b"".join(self._stream_range(start, end, etag))

    def _stream_range(self, start: int, end: int, etag: str | None) -> Iterator[bytes]:
        """Bytes [start, end) of the source in 1 MiB chunks, refused if its ETag changed."""
        from botocore import exceptions as bx

        if end <= start:
            return
        doing = f"reading bytes {start}-{end - 1} of {self.c.source_key} in"
        got = 0
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.source_full_key,
                                              Range=f"bytes={start}-{end - 1}", **({"IfMatch": etag} if etag else {}))
            for chunk in response["Body"].iter_chunks(MIB):
                got += len(chunk)
                self.received += len(chunk)
                if got > end - start:
                    break
                yield chunk
        except bx.ClientError as error:
            if _code(error) in _PRECONDITION:
                raise self._changed() from error
            raise self.target._error(error, doing, "read") from error
        except bx.BotoCoreError as error:
            raise self.target._error(error, doing, "read") from error
        if got != end - start:
            raise StorageError(f"{self.c.source_key} in {self.target.description} answered {got} bytes for a range "
                               f"of {end - start}; {self.key} was not written",
                               hint="the service does not honour byte ranges, or the object changed; publish again")

    def _start_upload(self) -> str:
        from botocore import exceptions as bx

        try:
            answer = self.client.create_multipart_upload(Bucket=self.bucket, Key=self.full_key,
                                                         **self.target._extra_args(self.headers, None))
        except (bx.ClientError, bx.BotoCoreError) as error:
            raise self.target._error(error, f"starting the upload of {self.key} to", "write") from error
        return str(answer["UploadId"])

    def _put_part(self, upload_id: str, number: int, body: bytes) -> dict[str, Any]:
        from botocore import exceptions as bx

        try:
            answer = self.client.upload_part(Bucket=self.bucket, Key=self.full_key, UploadId=upload_id,
                                             PartNumber=number, Body=body)
        except (bx.ClientError, bx.BotoCoreError) as error:
            raise self.target._error(error, f"uploading part {number} of {self.key} to", "write") from error
        self.sent += len(body)
        return {"PartNumber": number, "ETag": answer["ETag"]}

    def _put_whole(self, data: bytes, sha256: str) -> str | None:
        from botocore import exceptions as bx

        try:
            answer = self.client.put_object(Bucket=self.bucket, Key=self.full_key, Body=data,
                                            **self.target._extra_args(self.headers, sha256))
        except (bx.ClientError, bx.BotoCoreError) as error:
            raise self.target._error(error, f"writing {self.key} to", "write") from error
        self.sent += len(data)
        etag = answer.get("ETag")
        return str(etag) if etag else None

    def _complete(self, upload_id: str, parts: list[dict[str, Any]]) -> str | None:
        from botocore import exceptions as bx

        try:
            answer = self.client.complete_multipart_upload(Bucket=self.bucket, Key=self.full_key, UploadId=upload_id,
                                                           MultipartUpload={"Parts": parts})
        except (bx.ClientError, bx.BotoCoreError) as error:
            raise self.target._error(error, f"finishing the upload of {self.key} to", "write") from error
        etag = answer.get("ETag")
        return str(etag) if etag else None

    def _abort(self, upload_id: str) -> None:
        """Abort quietly: the error that got us here is the one to report."""
        from botocore import exceptions as bx

        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.full_key, UploadId=upload_id)
        except (bx.ClientError, bx.BotoCoreError):
            pass

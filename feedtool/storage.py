"""Where public/ goes: a local folder or an S3-compatible bucket, behind one small interface.

This is the only module that imports boto3 (lazily, inside ``S3Target``). Everything above it
(publish.py) speaks in keys, files and sha256 digests:

- ``headers_for(key)`` decides Content-Type and Cache-Control from one table, so S3, the local
  folder and ``feedtool serve`` all serve a file the same way.
- ``safe_key(prefix, name)`` is the one gate every key passes: no absolute names, no ``..``, no
  backslashes, nothing that could land outside the prefix.
- A target remembers what it holds in a manifest object (``.feedtool/manifest.json`` under the
  prefix): key -> sha256, size, headers. Reading it is one GET; listing 6,000 objects is most of
  what a no-change ``aws s3 sync`` spends its time on, and HEADing them is 6,000 requests. So a
  manifest that a finished publish wrote is trusted; when it is missing, unreadable or marked
  incomplete (an interrupted publish), or when asked (``--check-remote``), the target is listed
  and the gaps are filled from object metadata: on S3 each object carries its sha256 as
  ``x-amz-meta-sha256``, so the manifest can be rebuilt from the objects themselves.

Credentials come only from boto3's own chain (environment, profile, instance role) and are never
read, printed or logged here.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from feedtool.errors import InputError, StorageError
from feedtool.files import sha256_file

#: Folder (under the target prefix) where feedtool keeps its own bookkeeping.
META_DIR = ".feedtool"
MANIFEST_KEY = f"{META_DIR}/manifest.json"
#: Earlier feeds are kept here, one per publish that replaced them.
FEED_HISTORY_DIR = f"{META_DIR}/feeds"
#: How many earlier feeds to keep.
FEED_HISTORY_KEEP = 10

#: Object kinds -> Cache-Control. Media and artwork carry a content hash in their name (build
#: writes ``<stem>-<sha8>.<ext>``), so a new version gets a new URL and the old bytes can be cached
#: for a year; the feed must be short so a new episode shows up quickly; chapters and transcripts
#: keep their names, so they get a middle value.
CACHE_CONTROL: dict[str, str] = {
    "feed": "public, max-age=300",
    "media": "public, max-age=31536000, immutable",
    "art": "public, max-age=31536000, immutable",
    "chapters": "public, max-age=3600",
    "transcript": "public, max-age=3600",
    "page": "public, max-age=300",
    "asset": "public, max-age=31536000, immutable",  # the site's style-<sha8>.css, player-<sha8>.js
    "other": "public, max-age=3600",
}
#: Media or art whose name has no content hash in it: it may be replaced under the same URL.
CACHE_CONTROL_UNVERSIONED = "public, max-age=86400"

#: Extension -> (Content-Type, kind). One table for every target and for ``feedtool serve``.
CONTENT_TYPES: dict[str, tuple[str, str]] = {
    ".mp3": ("audio/mpeg", "media"),
    ".m4a": ("audio/x-m4a", "media"),
    ".m4b": ("audio/x-m4a", "media"),
    ".mp4": ("video/mp4", "media"),
    ".m4v": ("video/x-m4v", "media"),
    ".mov": ("video/quicktime", "media"),
    ".ogg": ("audio/ogg", "media"),
    ".oga": ("audio/ogg", "media"),
    ".opus": ("audio/opus", "media"),
    ".flac": ("audio/flac", "media"),
    ".wav": ("audio/wav", "media"),
    ".aac": ("audio/aac", "media"),
    ".pdf": ("application/pdf", "media"),
    ".jpg": ("image/jpeg", "art"),
    ".jpeg": ("image/jpeg", "art"),
    ".png": ("image/png", "art"),
    ".webp": ("image/webp", "art"),
    ".gif": ("image/gif", "art"),
    ".svg": ("image/svg+xml", "art"),
    ".vtt": ("text/vtt; charset=utf-8", "transcript"),
    ".srt": ("application/x-subrip", "transcript"),
    ".txt": ("text/plain; charset=utf-8", "transcript"),
    ".html": ("text/html; charset=utf-8", "page"),
    ".htm": ("text/html; charset=utf-8", "page"),
    ".css": ("text/css; charset=utf-8", "asset"),
    ".js": ("text/javascript; charset=utf-8", "asset"),
    ".xsl": ("text/xsl; charset=utf-8", "asset"),
    ".json": ("application/json", "other"),
    ".xml": ("application/xml; charset=utf-8", "other"),
}
#: application/xml (registered, and accepted by every app and by feedtool validate) rather than the
#: unregistered application/rss+xml: browsers show application/rss+xml as plain text (Chromium)
#: or download it (Firefox) and never apply the feed's stylesheet (docs/site.md).
FEED_CONTENT_TYPE = "application/xml; charset=utf-8"
CHAPTERS_CONTENT_TYPE = "application/json+chapters"
DEFAULT_CONTENT_TYPE = "application/octet-stream"

#: ``name-<8+ hex>.ext``: the content hash build puts into media and artwork names.
_VERSIONED_NAME = re.compile(r"-[0-9a-f]{8,64}\.[A-Za-z0-9]+$")


@dataclass(frozen=True)
class ObjectHeaders:
    """How one object is served."""

    content_type: str
    cache_control: str
    kind: str  # feed | media | art | chapters | transcript | page | asset | other


def headers_for(key: str) -> ObjectHeaders:
    """Content-Type, Cache-Control and kind of a key, from its name alone.

    A feed is an ``.xml`` file at the top of the tree (``feed.xml``); chapters are files named
    ``chapters.json`` or ``*.chapters.json``; a JSON transcript (``*.transcript.json``) is a
    transcript.
    """
    folder, _, name = key.rpartition("/")
    name = name.lower()
    dot = name.rfind(".")
    suffix = name[dot:] if dot > 0 else ""
    if suffix == ".xml" and not folder:
        return _FEED_HEADERS
    if name == "chapters.json" or name.endswith(".chapters.json"):
        return _CHAPTERS_HEADERS
    if name.endswith(".transcript.json"):
        return ObjectHeaders("application/json", CACHE_CONTROL["transcript"], "transcript")
    content_type, kind = CONTENT_TYPES.get(suffix, (DEFAULT_CONTENT_TYPE, "other"))
    cache_control = CACHE_CONTROL[kind]
    if kind in ("media", "art") and not _VERSIONED_NAME.search(name):
        cache_control = CACHE_CONTROL_UNVERSIONED
    elif kind == "asset" and not _VERSIONED_NAME.search(name):
        cache_control = CACHE_CONTROL["page"]  # a stylesheet or script that keeps its name
    return ObjectHeaders(content_type, cache_control, kind)


_FEED_HEADERS = ObjectHeaders(FEED_CONTENT_TYPE, CACHE_CONTROL["feed"], "feed")
_CHAPTERS_HEADERS = ObjectHeaders(CHAPTERS_CONTENT_TYPE, CACHE_CONTROL["chapters"], "chapters")
#: A name (one path segment) that needs no closer look.
PLAIN_NAME = re.compile(r"^(?!\.\.?$)[^\\/\x00-\x1f\x7f]+$")


def check_relative_key(name: str) -> str:
    """Return ``name`` if it is a safe relative object name, else raise InputError.

    Refused: empty names, absolute names, ``..`` or ``.`` segments, backslashes, empty segments,
    control characters. These are what would let a file land outside the prefix (or outside
    the target folder) or be read differently by another tool.
    """
    problem = None
    if not name:
        problem = "is empty"
    elif "\\" in name:
        problem = "contains a backslash"
    elif name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        problem = "is absolute"
    elif any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        problem = "contains a control character"
    else:
        parts = name.split("/")
        if any(part in ("", ".", "..") for part in parts):
            problem = "has an empty, '.' or '..' path segment"
    if problem:
        raise InputError(
            f"refusing the object name {name!r}: it {problem}",
            hint="object names must stay inside the target prefix; rename the file in public/",
        )
    return name


def join_key(prefix: str, name: str) -> str:
    """The full key of a relative name under a prefix (``prefix`` is '' or ends with '/')."""
    return prefix + check_relative_key(name)


def normalise_prefix(prefix: str) -> str:
    """'' or 'a/b/' from 'a/b', '/a/b/', 'a//b'; refuses '..' segments."""
    parts = [part for part in prefix.split("/") if part]
    if not parts:
        return ""
    return check_relative_key("/".join(parts)) + "/"


@dataclass(frozen=True)
class RemoteObject:
    """What a target holds under one key, as far as it can tell cheaply."""

    key: str  # relative to the prefix
    size: int
    sha256: str | None = None
    content_type: str | None = None
    cache_control: str | None = None


#: progress(bytes_just_transferred)
Progress = Callable[[int], None]


class Target(Protocol):
    """A place public/ is published to. Keys are relative to the target's prefix."""

    description: str

    def inventory(self, check_remote: bool = False) -> dict[str, RemoteObject]:
        """Every object (except feedtool's own bookkeeping) with its recorded sha256.

        ``check_remote`` lists the target instead of trusting a complete manifest.
        """

    def put_file(
        self, path: Path, key: str, headers: ObjectHeaders, sha256: str, progress: Progress | None = None
    ) -> None: ...

    def submit_file(
        self, path: Path, key: str, headers: ObjectHeaders, sha256: str, progress: Progress | None = None
    ) -> Any:
        """Start an upload; the returned object's ``result()`` waits for it."""

    def put_bytes(self, key: str, data: bytes, headers: ObjectHeaders | None = None) -> None: ...

    def get_bytes(self, key: str) -> bytes | None: ...

    def copy(self, source_key: str, dest_key: str) -> None: ...

    def delete(self, keys: Iterable[str]) -> None: ...

    def head(self, key: str) -> RemoteObject | None: ...

    def range_status(self, key: str) -> int | None:
        """HTTP status of ``Range: bytes=0-1`` on the key (206 expected), None if not HTTP."""

    def write_manifest(self, objects: Mapping[str, RemoteObject], complete: bool = True) -> None: ...

    def list_sizes(self) -> dict[str, int]:
        """key -> size of every object under the prefix (one listing)."""

    def list_keys(self, under: str) -> list[str]: ...

    def close(self, cancel: bool = False) -> None:
        """Finish (or, with ``cancel``, abandon) queued uploads and free the connections."""


# --------------------------------------------------------------------------------------------
# Manifest


def manifest_bytes(objects: Mapping[str, RemoteObject], complete: bool = True) -> bytes:
    """The manifest as deterministic JSON.

    ``complete`` is False when a publish stopped half-way: the next one then lists the target
    (objects may exist that the manifest does not know) instead of trusting the manifest alone.
    """
    body = {
        "format": "feedtool-manifest",
        "version": 1,
        "complete": complete,
        "objects": {
            key: {
                "sha256": obj.sha256,
                "size": obj.size,
                "content_type": obj.content_type,
                "cache_control": obj.cache_control,
            }
            for key, obj in sorted(objects.items())
        },
    }
    return json.dumps(body, indent=1, sort_keys=True).encode() + b"\n"


def read_manifest(data: bytes | None) -> tuple[dict[str, RemoteObject], bool]:
    """(entries, complete): ``complete`` only for a readable manifest a finished publish wrote.

    An unreadable or foreign manifest counts as empty and incomplete (the listing wins).
    """
    if not data:
        return {}, False
    try:
        body = json.loads(data)
        if not isinstance(body, dict) or body.get("format") != "feedtool-manifest":
            return {}, False
        entries = body["objects"]
        return {
            key: RemoteObject(
                key=key,
                size=int(entry["size"]),
                sha256=entry.get("sha256"),
                content_type=entry.get("content_type"),
                cache_control=entry.get("cache_control"),
            )
            for key, entry in entries.items()
            if isinstance(key, str) and isinstance(entry, dict) and not key.startswith(META_DIR + "/")
        }, body.get("complete") is True
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}, False


def reconcile(
    listed: Mapping[str, int],
    manifest: Mapping[str, RemoteObject],
    fetch: Callable[[list[str]], dict[str, RemoteObject]],
) -> dict[str, RemoteObject]:
    """Merge what a listing shows (key -> size) with what the manifest remembers.

    The listing says what exists; the manifest says what it holds. Keys the manifest lacks or
    whose size disagrees are looked up one by one with ``fetch`` (HEAD on S3, hashing locally).
    """
    result: dict[str, RemoteObject] = {}
    unknown: list[str] = []
    for key, size in listed.items():
        known = manifest.get(key)
        if known is not None and known.size == size and known.sha256:
            result[key] = known
        else:
            unknown.append(key)
    if unknown:
        fetched = fetch(unknown)
        for key in unknown:
            result[key] = fetched.get(key) or RemoteObject(key=key, size=listed[key])
    return result


# --------------------------------------------------------------------------------------------
# Local folder


class LocalFolderTarget:
    """A folder on this machine (a web server's document root, a synced folder, site/)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.description = str(root)
        self._pool: Any = None
        self.last_manifest: dict[str, RemoteObject] = {}

    def _path(self, key: str) -> Path:
        check_relative_key(key)
        return self.root.joinpath(*key.split("/"))

    def inventory(self, check_remote: bool = False) -> dict[str, RemoteObject]:
        # A folder is always listed: walking it costs little, and it catches hand edits.
        if self.root.exists() and not self.root.is_dir():
            raise StorageError(f"the publish target {self.root} exists and is not a folder")
        listed: dict[str, int] = {}
        if self.root.is_dir():
            for dirpath, dirnames, filenames in os.walk(self.root):
                rel_dir = Path(dirpath).relative_to(self.root).as_posix()
                if rel_dir == ".":
                    dirnames[:] = [d for d in dirnames if d != META_DIR]
                    rel_dir = ""
                for filename in filenames:
                    if filename.startswith(".feedtool-tmp-"):
                        continue
                    key = f"{rel_dir}/{filename}" if rel_dir else filename
                    listed[key] = os.stat(os.path.join(dirpath, filename)).st_size
        manifest, _ = read_manifest(self.get_bytes(MANIFEST_KEY))
        self.last_manifest = manifest
        return reconcile(listed, manifest, self._hash_keys)

    def _hash_keys(self, keys: list[str]) -> dict[str, RemoteObject]:
        return {
            key: RemoteObject(key=key, size=self._path(key).stat().st_size, sha256=sha256_file(self._path(key)))
            for key in keys
        }

    def put_file(
        self, path: Path, key: str, headers: ObjectHeaders, sha256: str, progress: Progress | None = None
    ) -> None:
        dest = self._path(key)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=".feedtool-tmp-", dir=dest.parent)
            try:
                with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
                    while chunk := src.read(1 << 20):
                        out.write(chunk)
                        if progress:
                            progress(len(chunk))
                os.chmod(tmp_name, 0o644)
                os.replace(tmp_name, dest)
            except BaseException:
                Path(tmp_name).unlink(missing_ok=True)
                raise
        except OSError as error:
            raise StorageError(f"cannot write {dest}: {error.strerror or error}", path=dest) from error

    def submit_file(
        self, path: Path, key: str, headers: ObjectHeaders, sha256: str, progress: Progress | None = None
    ) -> Any:
        """Start a copy on a small thread pool; ``.result()`` waits (and raises StorageError)."""
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=4)
        return self._pool.submit(self.put_file, path, key, headers, sha256, progress)

    def put_bytes(self, key: str, data: bytes, headers: ObjectHeaders | None = None) -> None:
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".feedtool-tmp-", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.chmod(tmp_name, 0o644)
            os.replace(tmp_name, dest)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    def get_bytes(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise StorageError(f"cannot read {self._path(key)}: {error.strerror or error}") from error

    def copy(self, source_key: str, dest_key: str) -> None:
        data = self.get_bytes(source_key)
        if data is not None:
            self.put_bytes(dest_key, data)

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            path = self._path(key)
            path.unlink(missing_ok=True)
            # Remove folders left empty (an episode folder whose files are all gone).
            parent = path.parent
            while parent != self.root and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent

    def head(self, key: str) -> RemoteObject | None:
        path = self._path(key)
        if not path.is_file():
            return None
        headers = headers_for(key)
        return RemoteObject(
            key=key, size=path.stat().st_size, content_type=headers.content_type, cache_control=headers.cache_control
        )

    def range_status(self, key: str) -> int | None:
        return None  # a folder has no HTTP; `feedtool serve` and the web server in front answer ranges

    def write_manifest(self, objects: Mapping[str, RemoteObject], complete: bool = True) -> None:
        self.put_bytes(MANIFEST_KEY, manifest_bytes(objects, complete))

    def list_sizes(self) -> dict[str, int]:
        return {
            p.relative_to(self.root).as_posix(): p.stat().st_size for p in self.root.rglob("*") if p.is_file()
        }

    def list_keys(self, under: str) -> list[str]:
        folder = self._path(under.rstrip("/"))
        if not folder.is_dir():
            return []
        return sorted(f"{under.rstrip('/')}/{p.name}" for p in folder.iterdir() if p.is_file())

    def close(self, cancel: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)
            self._pool = None


# --------------------------------------------------------------------------------------------
# S3 and S3-compatible services


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
            f"{url!r} does not name a valid bucket",
            field="publish.to",
            hint="write it as s3://bucket-name/optional/prefix",
        )
    return S3Location(bucket=bucket, prefix=normalise_prefix(prefix))


#: Attempts per request ("standard" mode: exponential back-off with jitter between them).
S3_RETRIES = 6
#: Parallel requests; the connection pool must be at least as large.
S3_CONCURRENCY = 16
#: Files above this go up in parts (of this size), several parts at a time.
MULTIPART_THRESHOLD = 16 * 1024 * 1024


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
        self.endpoint_url = endpoint_url
        self.acl = acl
        self.description = f"s3://{location.bucket}/{location.prefix}" + (
            f" at {endpoint_url}" if endpoint_url else ""
        )
        self._client = client or self._make_client(endpoint_url, region, addressing_style)
        self._transfer: Any = None
        self._pool: Any = None
        self.last_manifest: dict[str, RemoteObject] = {}

    @staticmethod
    def _make_client(endpoint_url: str | None, region: str | None, addressing_style: str | None) -> Any:
        import boto3
        from botocore.config import Config

        if addressing_style not in (None, "auto", "path", "virtual"):
            raise InputError(
                f"addressing_style must be path, virtual or auto, not {addressing_style!r}",
                field="publish.addressing_style",
            )
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": addressing_style or "auto"},
            # "standard" retries throttling and transient errors with exponential back-off.
            retries={"max_attempts": S3_RETRIES, "mode": "standard"},
            max_pool_connections=S3_CONCURRENCY + 4,
            connect_timeout=10,
            read_timeout=60,
            # Services like R2/B2 do not all accept the newer default CRC checksums on every call.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        session = boto3.session.Session()
        return session.client("s3", endpoint_url=endpoint_url, region_name=region or None, config=config)

    # -- errors -------------------------------------------------------------------------------

    def _error(self, error: Exception, doing: str) -> StorageError:
        """Turn a botocore exception into a message that says what to do."""
        from botocore import exceptions as bx

        where = self.description
        bucket = self.location.bucket
        if isinstance(error, bx.NoCredentialsError):
            return StorageError(
                f"no credentials for {where}",
                hint="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in the environment",
            )
        if isinstance(error, (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError)):
            return StorageError(
                f"cannot reach {self.endpoint_url or 'S3'} while {doing}: {error}",
                hint="check endpoint_url in podcast.yaml and your network connection",
            )
        if isinstance(error, bx.ClientError):
            code = str(error.response.get("Error", {}).get("Code", ""))
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in ("NoSuchBucket",) or (code in ("404", "NotFound") and doing == "checking the bucket"):
                return StorageError(
                    f"the bucket {bucket!r} does not exist at {self.endpoint_url or 'AWS S3'}",
                    hint="create it first, or fix publish.to / endpoint_url in podcast.yaml",
                )
            if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
                        "InvalidClientTokenId", "AuthorizationHeaderMalformed"):
                return StorageError(
                    f"the storage service rejected the credentials ({code}) while {doing} {where}",
                    hint="check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the profile) and the region",
                )
            if code in ("AccessDenied", "403", "Forbidden", "AllAccessDisabled") or status == 403:
                return StorageError(
                    f"access denied while {doing} {where} ({code})",
                    hint="the key needs s3:ListBucket, s3:GetObject, s3:PutObject and s3:DeleteObject on the bucket",
                )
            message = error.response.get("Error", {}).get("Message") or str(error)
            return StorageError(f"{code or status} while {doing} {where}: {message}")
        if isinstance(error, bx.BotoCoreError):
            return StorageError(f"{doing} {where} failed: {error}")
        return StorageError(f"{doing} {where} failed: {error}")

    def _key(self, key: str) -> str:
        return join_key(self.location.prefix, key)

    # -- reading ------------------------------------------------------------------------------

    def _list(self, prefix: str) -> dict[str, int]:
        from botocore import exceptions as bx

        listed: dict[str, int] = {}
        try:
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.location.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    listed[item["Key"][len(self.location.prefix) :]] = int(item["Size"])
        except (bx.BotoCoreError, bx.ClientError) as error:
            raise self._error(error, "listing") from error
        return listed

    def inventory(self, check_remote: bool = False) -> dict[str, RemoteObject]:
        """The manifest when a finished publish wrote it; else a listing plus HEADs to fill gaps.

        Listing 3,000 objects costs seconds (it is most of what `aws s3 sync` does on a no-change
        run); the manifest is one small GET. Objects changed behind feedtool's back are found
        with ``check_remote`` (`feedtool publish --check-remote`).
        """
        manifest, complete = read_manifest(self.get_bytes(MANIFEST_KEY))
        self.last_manifest = manifest
        if complete and not check_remote:
            return dict(manifest)
        listed = {
            key: size
            for key, size in self._list(self.location.prefix).items()
            if not key.startswith(META_DIR + "/")
        }
        return reconcile(listed, manifest, self._head_many)

    def _head_many(self, keys: list[str]) -> dict[str, RemoteObject]:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=S3_CONCURRENCY) as pool:
            found = list(pool.map(self.head, keys))
        return {obj.key: obj for obj in found if obj is not None}

    def head(self, key: str) -> RemoteObject | None:
        from botocore import exceptions as bx

        try:
            response = self._client.head_object(Bucket=self.location.bucket, Key=self._key(key))
        except bx.ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise self._error(error, f"reading {key} in") from error
        except bx.BotoCoreError as error:
            raise self._error(error, f"reading {key} in") from error
        return RemoteObject(
            key=key,
            size=int(response["ContentLength"]),
            sha256=response.get("Metadata", {}).get("sha256"),
            content_type=response.get("ContentType"),
            cache_control=response.get("CacheControl"),
        )

    def get_bytes(self, key: str) -> bytes | None:
        from botocore import exceptions as bx

        try:
            response = self._client.get_object(Bucket=self.location.bucket, Key=self._key(key))
            return bytes(response["Body"].read())
        except bx.ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise self._error(error, f"reading {key} from") from error
        except bx.BotoCoreError as error:
            raise self._error(error, f"reading {key} from") from error

    def range_status(self, key: str) -> int | None:
        from botocore import exceptions as bx

        try:
            response = self._client.get_object(Bucket=self.location.bucket, Key=self._key(key), Range="bytes=0-1")
            response["Body"].read()
            return int(response["ResponseMetadata"]["HTTPStatusCode"])
        except (bx.ClientError, bx.BotoCoreError) as error:
            raise self._error(error, f"reading a byte range of {key} in") from error

    def list_sizes(self) -> dict[str, int]:
        return self._list(self.location.prefix)

    def list_keys(self, under: str) -> list[str]:
        return sorted(self._list(self.location.prefix + under.rstrip("/") + "/"))

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

    def put_file(
        self, path: Path, key: str, headers: ObjectHeaders, sha256: str, progress: Progress | None = None
    ) -> None:
        self.submit_file(path, key, headers, sha256, progress).result()

    def submit_file(
        self, path: Path, key: str, headers: ObjectHeaders, sha256: str, progress: Progress | None = None
    ) -> Any:
        """Start an upload; ``.result()`` waits (and raises StorageError).

        Files below the multipart threshold go up with one PutObject on a thread pool: the
        transfer manager's bookkeeping costs more CPU than the request itself for the thousands
        of small chapters and transcripts of a big catalogue. Bigger files go through boto3's
        transfer manager (parallel parts).
        """
        if path.stat().st_size < MULTIPART_THRESHOLD:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(max_workers=S3_CONCURRENCY)
            return _WrappedFuture(self._pool.submit(self._put_small, path, key, headers, sha256, progress), self, key)
        subscribers = [_ProgressSubscriber(progress)] if progress else None
        future = self._transfer_manager().upload(
            str(path), self.location.bucket, self._key(key), self._extra_args(headers, sha256), subscribers
        )
        return _WrappedFuture(future, self, key)

    def _put_small(
        self, path: Path, key: str, headers: ObjectHeaders, sha256: str, progress: Progress | None
    ) -> None:
        with open(path, "rb") as handle:
            body = handle.read()
        self._client.put_object(Bucket=self.location.bucket, Key=self._key(key), Body=body,
                                **self._extra_args(headers, sha256))
        if progress:
            progress(len(body))

    def put_bytes(self, key: str, data: bytes, headers: ObjectHeaders | None = None) -> None:
        from botocore import exceptions as bx

        try:
            self._client.put_object(Bucket=self.location.bucket, Key=self._key(key), Body=data,
                                    **self._extra_args(headers or headers_for(key), None))
        except (bx.ClientError, bx.BotoCoreError) as error:
            raise self._error(error, f"writing {key} to") from error

    def copy(self, source_key: str, dest_key: str) -> None:
        from botocore import exceptions as bx

        try:
            self._client.copy_object(
                Bucket=self.location.bucket,
                Key=self._key(dest_key),
                CopySource={"Bucket": self.location.bucket, "Key": self._key(source_key)},
                MetadataDirective="COPY",
                **({"ACL": self.acl} if self.acl else {}),
            )
        except (bx.ClientError, bx.BotoCoreError) as error:
            raise self._error(error, f"copying {source_key} to {dest_key} in") from error

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
                raise self._error(error, "deleting objects in") from error
            errors = response.get("Errors") or []
            if errors:
                first = errors[0]
                raise StorageError(
                    f"could not delete {len(errors)} object(s) in {self.description}, "
                    f"e.g. {first.get('Key')}: {first.get('Code')} {first.get('Message', '')}".rstrip()
                )

    def write_manifest(self, objects: Mapping[str, RemoteObject], complete: bool = True) -> None:
        self.put_bytes(MANIFEST_KEY, manifest_bytes(objects, complete),
                       ObjectHeaders("application/json", "no-cache", "other"))

    def check_bucket(self) -> None:
        """Fail early and clearly when the bucket is missing or the credentials are wrong."""
        from botocore import exceptions as bx

        try:
            # Not head_bucket: a HEAD answer has no body, so "wrong secret" and "no access" both
            # come back as a bare 403. A one-key listing carries the error code.
            self._client.list_objects_v2(Bucket=self.location.bucket, Prefix=self.location.prefix, MaxKeys=1)
        except (bx.ClientError, bx.BotoCoreError) as error:
            raise self._error(error, "checking the bucket") from error

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


class _ProgressSubscriber:
    """s3transfer subscriber that forwards transferred bytes to a progress callback."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress

    def on_queued(self, future: Any, **kwargs: Any) -> None:
        pass

    def on_progress(self, future: Any, bytes_transferred: int, **kwargs: Any) -> None:
        self._progress(bytes_transferred)

    def on_done(self, future: Any, **kwargs: Any) -> None:
        pass


class _WrappedFuture:
    """A transfer future whose ``result()`` raises StorageError instead of botocore errors."""

    def __init__(self, future: Any, target: S3Target, key: str) -> None:
        self._future = future
        self._target = target
        self.key = key

    def result(self) -> None:
        from botocore import exceptions as bx

        try:
            self._future.result()
        except (bx.ClientError, bx.BotoCoreError) as error:
            raise self._target._error(error, f"uploading {self.key} to") from error
        except OSError as error:
            raise StorageError(f"uploading {self.key} failed: {error}") from error


def open_target(
    to: str,
    *,
    project_root: Path,
    endpoint_url: str | None = None,
    region: str | None = None,
    addressing_style: str | None = None,
    acl: str | None = None,
) -> LocalFolderTarget | S3Target:
    """A target from a ``to`` string: ``s3://bucket/prefix`` or a folder (relative to the project)."""
    if to.startswith("s3://"):
        return S3Target(parse_s3_url(to), endpoint_url=endpoint_url, region=region,
                        addressing_style=addressing_style, acl=acl)
    if re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*://", to) and not to.startswith("file://"):
        raise InputError(
            f"cannot publish to {to!r}: only local folders and s3:// URLs are supported",
            field="publish.to",
            hint="for R2, B2, MinIO, Spaces or Wasabi use s3://bucket/prefix and set endpoint_url",
        )
    folder = Path(to[len("file://") :] if to.startswith("file://") else to).expanduser()
    if not folder.is_absolute():
        folder = project_root / folder
    return LocalFolderTarget(folder)

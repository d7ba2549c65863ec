"""What every publish target offers: keys, listings with sizes and ETags, conditional writes.

Keys are relative to the target's prefix (or folder). A target knows nothing about feeds,
manifests or plans: that is feedtool.publish. What it adds over plain files is what makes
publishing safe under concurrency: an ETag per object, and writes that happen only if the
object is absent (``if_none_match``) or still the version read (``if_match``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from feedtool.errors import StorageError
from feedtool.storage.headers import ObjectHeaders

#: Folder (under the target prefix) where feedtool keeps the target's own state.
META_DIR = ".feedtool"
MANIFEST_KEY = f"{META_DIR}/manifest.json"
#: Earlier feeds are kept here, one per publish that replaced them.
FEED_HISTORY_DIR = f"{META_DIR}/feeds"
#: How many earlier feeds to keep.
FEED_HISTORY_KEEP = 10

#: progress(bytes_just_transferred)
Progress = Callable[[int], None]


class PreconditionFailed(StorageError):
    """A conditional write or delete found the object in another state than expected."""


class ConditionsUnsupported(StorageError):
    """The service refused a conditional write as not implemented (write it unconditionally)."""


@dataclass(frozen=True)
class ListedObject:
    """One entry of a listing: what exists, how big, and its ETag (changes with every write)."""

    key: str
    size: int
    etag: str | None = None


@dataclass(frozen=True)
class RemoteObject:
    """What a target holds under one key, as far as feedtool knows it.

    ``extra`` carries keys of a manifest entry this version does not know (later versions record
    more facts per object); they are written back unchanged.
    """

    key: str  # relative to the prefix
    size: int
    sha256: str | None = None
    content_type: str | None = None
    cache_control: str | None = None
    etag: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


#: How ``compose`` made an object (ComposeResult.path).
PATH_COPY = "copy inside the bucket"  # head (+ a few MB) uploaded, the rest copied by the service
PATH_DOWNLOAD = "download and upload"  # the range fetched and sent back (refused copy, small range)
PATH_FOLDER = "copy inside the folder"  # a local folder target


@dataclass(frozen=True)
class Composition:
    """An object made of ``head + source[start:end] + tail``, the source already on the target.

    What re-tagging an MP3 without its master needs (docs/design.md, "Splices"): the new tag is
    ``head`` (and ``tail``, an ID3v1 tag or nothing), the audio is a byte range of an earlier
    tagged copy of the same master. ``source_size`` is the size the source must have (a source
    of another size is another object: refused before anything is written).
    """

    head: bytes
    source_key: str
    source_size: int
    start: int
    end: int
    tail: bytes = b""

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def size(self) -> int:
        return len(self.head) + self.length + len(self.tail)


@dataclass(frozen=True)
class ComposeResult:
    """What ``compose`` did: the path taken (and why, when not the copy), bytes moved, the new ETag.

    ``sha256`` is known only when every byte passed through this machine (download and upload, a
    folder); a copy inside the bucket never sees the copied bytes.
    """

    key: str
    size: int
    path: str  # PATH_COPY | PATH_DOWNLOAD | PATH_FOLDER
    bytes_sent: int
    bytes_received: int
    etag: str | None = None
    sha256: str | None = None
    why: str | None = None  # why not PATH_COPY (a refused copy's error code, a small range)


class SourceChanged(StorageError):
    """The object a composition copies from is missing, of another size, or changed meanwhile."""


@dataclass(frozen=True)
class Fetched:
    """An object's bytes with the facts a conditional write needs."""

    data: bytes
    etag: str | None
    last_modified: datetime | None  # the service's clock
    server_time: datetime | None  # the service's clock when it answered (its Date header)


class Target(Protocol):
    """A place public/ is published to."""

    description: str

    def list(self, under: str = "") -> dict[str, ListedObject]:
        """Every object under ``under`` (a folder key ending in '/', or '' for all), one listing."""

    def head(self, key: str) -> RemoteObject | None: ...

    def get(self, key: str) -> Fetched | None: ...

    def put_bytes(self, key: str, data: bytes, headers: ObjectHeaders, *, sha256: str | None = None,
                  if_match: str | None = None, if_none_match: bool = False) -> str | None:
        """Write an object; returns its new ETag. Raises PreconditionFailed when a condition fails."""

    def put_file(self, path: Path, key: str, headers: ObjectHeaders, sha256: str,
                 progress: Progress | None = None, *, if_match: str | None = None,
                 if_none_match: bool = False) -> str | None: ...

    def submit_file(self, path: Path, key: str, headers: ObjectHeaders, sha256: str,
                    progress: Progress | None = None) -> Any:
        """Start an upload; the returned object's ``result()`` waits for it (and returns the ETag)."""

    def compose(self, key: str, composition: Composition, headers: ObjectHeaders) -> ComposeResult:
        """Write ``key`` as ``head + source[start:end] + tail`` without the whole source passing
        through this machine where the service allows it. SourceChanged when the source is not
        what ``composition`` says; nothing is left half-written on any failure."""

    def delete(self, keys: Iterable[str]) -> None: ...

    def delete_if_match(self, key: str, etag: str) -> None:
        """Delete only the version with this ETag (PreconditionFailed otherwise)."""

    def range_status(self, key: str) -> int | None:
        """HTTP status of ``Range: bytes=0-1`` on the key (206 expected), None if not HTTP."""

    def close(self, cancel: bool = False) -> None:
        """Finish (or, with ``cancel``, abandon) queued uploads and free the connections."""

"""Where public/ goes: a local folder or an S3-compatible bucket, behind one small interface.

- ``headers.py``: the one table of Content-Type and Cache-Control (S3, folders, ``feedtool serve``);
- ``keys.py``: the one gate every object name passes (nothing lands outside the prefix);
- ``base.py``: what a target offers (listings with ETags, conditional writes) and the names of
  feedtool's own state on it (``.feedtool/``);
- ``local.py``: a folder; ``s3.py``: a bucket, the only module that makes a boto3 client;
  ``s3_errors.py``: every botocore failure as one clear message; ``s3_compose.py``: an object made
  of new bytes + a range of another one, copied inside the bucket (re-tagging without the master).

What publish does with a target (manifest, lease, plan, order) is feedtool.publish.
"""

from __future__ import annotations

import re
from pathlib import Path

from feedtool.errors import InputError, excerpt
from feedtool.storage.base import (
    FEED_HISTORY_DIR,
    FEED_HISTORY_KEEP,
    MANIFEST_KEY,
    META_DIR,
    PATH_COPY,
    PATH_DOWNLOAD,
    PATH_FOLDER,
    ComposeResult,
    Composition,
    ConditionsUnsupported,
    Fetched,
    ListedObject,
    PreconditionFailed,
    Progress,
    RemoteObject,
    SourceChanged,
    Target,
)
from feedtool.storage.headers import CACHE_CONTROL, CONTENT_TYPES, ObjectHeaders, headers_for
from feedtool.storage.keys import PLAIN_NAME, check_relative_key, is_hidden, join_key, normalise_prefix
from feedtool.storage.local import LocalFolderTarget
from feedtool.storage.s3 import S3Location, S3Target, parse_s3_url


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
            f"cannot publish to {excerpt(to)!r}: only local folders and s3:// URLs are supported",
            field="publish.to",
            hint="for R2, B2, MinIO, Spaces or Wasabi use s3://bucket/prefix and set endpoint_url",
        )
    folder = Path(to[len("file://") :] if to.startswith("file://") else to).expanduser()
    if not folder.is_absolute():
        folder = project_root / folder
    return LocalFolderTarget(folder)


__all__ = [
    "CACHE_CONTROL",
    "CONTENT_TYPES",
    "FEED_HISTORY_DIR",
    "FEED_HISTORY_KEEP",
    "MANIFEST_KEY",
    "META_DIR",
    "PATH_COPY",
    "PATH_DOWNLOAD",
    "PATH_FOLDER",
    "PLAIN_NAME",
    "ComposeResult",
    "Composition",
    "ConditionsUnsupported",
    "Fetched",
    "ListedObject",
    "LocalFolderTarget",
    "ObjectHeaders",
    "PreconditionFailed",
    "Progress",
    "RemoteObject",
    "S3Location",
    "S3Target",
    "SourceChanged",
    "Target",
    "check_relative_key",
    "headers_for",
    "is_hidden",
    "join_key",
    "normalise_prefix",
    "open_target",
    "parse_s3_url",
]

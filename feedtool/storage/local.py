"""A folder on this machine as a publish target (a web server's document root, a synced folder, site/).

The folder is shared with whoever runs the web server, so publish keeps out of what is not its
own: hidden names (.git, .htaccess, CNAME's neighbours in .well-known, ...) are never listed,
written or deleted, and nothing is written or deleted through a folder that is a symbolic link
(it could lead anywhere). Writes go to a temporary file that is renamed into place, so a reader
sees the old file or the new one. Conditional writes (the lease, the feed) compare an ETag made
of the file's mtime and size, under a lock file, so two publishes on this machine (or over a
shared file system that honours locks) cannot both win.
"""

from __future__ import annotations

import hashlib
import os
import stat as stat_module
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feedtool.errors import StorageError
from feedtool.files import new_temp_file, sha256_file
from feedtool.storage.base import (
    META_DIR,
    PATH_FOLDER,
    ComposeResult,
    Composition,
    Fetched,
    ListedObject,
    PreconditionFailed,
    Progress,
    RemoteObject,
    SourceChanged,
)
from feedtool.storage.headers import ObjectHeaders, headers_for
from feedtool.storage.keys import check_relative_key, is_hidden

#: Seconds a conditional write waits for another one on the same folder.
LOCK_WAIT_S = 30.0


def _etag(stat: os.stat_result) -> str:
    return f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'


class LocalFolderTarget:
    """A folder on this machine."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.description = str(root)
        self._pool: Any = None

    # -- paths --------------------------------------------------------------------------------

    def _path(self, key: str, *, writing: bool = False) -> Path:
        """The file of a key; refuses keys that would go through a symbolic link to a folder."""
        check_relative_key(key)
        if writing and is_hidden(key) and not key.startswith(META_DIR + "/"):
            raise StorageError(f"refusing to write or delete the hidden name {key!r} in {self.root}")
        parts = key.split("/")
        folder = self.root
        for part in parts[:-1]:
            folder = folder / part
            if folder.is_symlink():
                raise StorageError(
                    f"{folder} is a symbolic link; publish never writes or deletes through a linked folder",
                    path=folder,
                    hint="replace the link with a real folder, or publish to the folder it points at",
                )
        return folder / parts[-1]

    def _check_root(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise StorageError(f"the publish target {self.root} exists and is not a folder")

    # -- reading ------------------------------------------------------------------------------

    def list(self, under: str = "") -> dict[str, ListedObject]:
        """Every regular, non-hidden file under ``under`` (links are not followed, nor listed)."""
        self._check_root()
        start = self.root.joinpath(*under.strip("/").split("/")) if under.strip("/") else self.root
        found: dict[str, ListedObject] = {}
        prefix = under if not under or under.endswith("/") else under + "/"

        def visit(folder: str, rel: str) -> None:
            try:
                entries = list(os.scandir(folder))
            except FileNotFoundError:
                return
            except OSError as error:
                raise StorageError(f"cannot list {folder}: {error.strerror or error}") from error
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                info = entry.stat(follow_symlinks=False)
                if stat_module.S_ISDIR(info.st_mode):
                    visit(entry.path, f"{rel}{entry.name}/")
                elif stat_module.S_ISREG(info.st_mode):
                    key = prefix + rel + entry.name
                    found[key] = ListedObject(key, info.st_size, _etag(info))

        if start.is_dir() and not (under and start.is_symlink()):
            visit(str(start), "")
        return found

    def head(self, key: str) -> RemoteObject | None:
        path = self._path(key)
        try:
            info = path.stat()
        except OSError:
            return None
        if not stat_module.S_ISREG(info.st_mode):
            return None
        headers = headers_for(key)
        return RemoteObject(key=key, size=info.st_size, sha256=sha256_file(path),
                            content_type=headers.content_type, cache_control=headers.cache_control,
                            etag=_etag(info))

    def get(self, key: str) -> Fetched | None:
        path = self._path(key)
        try:
            with open(path, "rb") as handle:
                info = os.fstat(handle.fileno())
                data = handle.read()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as error:
            raise StorageError(f"cannot read {path}: {error.strerror or error}") from error
        return Fetched(data, _etag(info), datetime.fromtimestamp(info.st_mtime, UTC), datetime.now(UTC))

    def range_status(self, key: str) -> int | None:
        return None  # a folder has no HTTP; `feedtool serve` and the web server in front answer ranges

    # -- writing ------------------------------------------------------------------------------

    def _write(self, dest: Path, write: Any, if_match: str | None, if_none_match: bool) -> str:
        """Write through a temporary file, checking the condition (if any) under the folder's lock."""
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = new_temp_file(dest.parent, "feedtool-tmp-" + dest.name)
            try:
                with os.fdopen(fd, "wb") as out:
                    write(out)
                if if_match is None and not if_none_match:
                    os.replace(temp, dest)
                else:
                    with self._condition_lock():
                        self._check_condition(dest, if_match, if_none_match)
                        os.replace(temp, dest)
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
            return _etag(dest.stat())
        except OSError as error:
            raise StorageError(f"cannot write {dest}: {error.strerror or error}", path=dest) from error

    def _condition_lock(self) -> Any:
        from filelock import FileLock, Timeout

        lock_file = self.root / META_DIR / ".lock"
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(lock_file))
        try:
            lock.acquire(timeout=LOCK_WAIT_S)
        except Timeout as error:
            raise StorageError(f"{lock_file} stayed locked for {LOCK_WAIT_S:.0f} s") from error
        return _Held(lock)

    @staticmethod
    def _check_condition(dest: Path, if_match: str | None, if_none_match: bool) -> None:
        try:
            current: str | None = _etag(dest.stat())
        except FileNotFoundError:
            current = None
        if if_none_match and current is not None:
            raise PreconditionFailed(f"{dest} already exists")
        if if_match is not None and current != if_match:
            raise PreconditionFailed(f"{dest} changed since it was read")

    def put_bytes(self, key: str, data: bytes, headers: ObjectHeaders | None = None, *,
                  sha256: str | None = None, if_match: str | None = None, if_none_match: bool = False) -> str:
        return self._write(self._path(key, writing=True), lambda out: out.write(data), if_match, if_none_match)

    def put_file(self, path: Path, key: str, headers: ObjectHeaders, sha256: str,
                 progress: Progress | None = None, *, if_match: str | None = None,
                 if_none_match: bool = False) -> str:
        def copy(out: Any) -> None:
            with open(path, "rb") as source:
                while chunk := source.read(1 << 20):
                    out.write(chunk)
                    if progress:
                        progress(len(chunk))

        return self._write(self._path(key, writing=True), copy, if_match, if_none_match)

    def submit_file(self, path: Path, key: str, headers: ObjectHeaders, sha256: str,
                    progress: Progress | None = None) -> Any:
        """Start a copy on a small thread pool; ``.result()`` waits (and raises StorageError)."""
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=4)
        return self._pool.submit(self.put_file, path, key, headers, sha256, progress)

    def compose(self, key: str, composition: Composition, headers: ObjectHeaders | None = None) -> ComposeResult:
        """Write ``key`` from head + a range of the source file + tail (1 MiB at a time, hashed on
        the way, renamed into place)."""
        c = composition
        source = self._path(c.source_key)
        digest = hashlib.sha256()
        try:
            reader = open(source, "rb")  # noqa: SIM115 - closed below, after the write
        except (FileNotFoundError, NotADirectoryError) as error:
            raise SourceChanged(f"{c.source_key} is not in {self.root}") from error
        except OSError as error:
            raise StorageError(f"cannot read {source}: {error.strerror or error}", path=source) from error
        with reader:
            size = os.fstat(reader.fileno()).st_size
            if size != c.source_size or not 0 <= c.start <= c.end <= size:
                raise SourceChanged(f"{c.source_key} in {self.root} has {size} bytes, "
                                    f"not the {c.source_size} it was made with")

            def write(out: Any) -> None:
                out.write(c.head)
                digest.update(c.head)
                reader.seek(c.start)
                left = c.length
                while left > 0:
                    chunk = reader.read(min(left, 1 << 20))
                    if not chunk:
                        raise SourceChanged(f"{c.source_key} in {self.root} became shorter while being read")
                    out.write(chunk)
                    digest.update(chunk)
                    left -= len(chunk)
                out.write(c.tail)
                digest.update(c.tail)

            etag = self._write(self._path(key, writing=True), write, None, False)
        return ComposeResult(key, c.size, PATH_FOLDER, 0, 0, etag, digest.hexdigest())

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            path = self._path(key, writing=True)
            try:
                path.unlink(missing_ok=True)
            except OSError as error:
                raise StorageError(f"cannot delete {path}: {error.strerror or error}", path=path) from error
            self._remove_empty_folders(path.parent)

    def delete_if_match(self, key: str, etag: str) -> None:
        path = self._path(key, writing=True)
        with self._condition_lock():
            self._check_condition(path, etag, False)
            path.unlink()

    def _remove_empty_folders(self, folder: Path) -> None:
        """Remove folders left empty (an episode folder whose files are all gone), up to the root."""
        while folder != self.root and not folder.is_symlink() and folder.is_dir():
            try:
                folder.rmdir()  # only succeeds when empty: hidden files keep their folder
            except OSError:
                return
            folder = folder.parent

    def close(self, cancel: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)
            self._pool = None


class _Held:
    """A held filelock as a context manager that releases it."""

    def __init__(self, lock: Any) -> None:
        self._lock = lock

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

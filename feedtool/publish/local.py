"""The files of public/ as publish sees them: key, size, sha256 and headers, hashed once per content.

Why hashes: a fresh CI checkout gives every file a new mtime (``aws s3 sync`` then re-uploads
everything) and an S3 ETag is not an MD5 after a multipart upload. So every object carries the
sha256 of its bytes (object metadata + the target's manifest), and a re-publish compares those.
Hidden files (``.DS_Store``, ``.feedtool/`` build metadata) are never published.
"""

from __future__ import annotations

import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feedtool.errors import InputError
from feedtool.files import sha256_file
from feedtool.storage import PLAIN_NAME, ObjectHeaders, check_relative_key, headers_for

#: Files at least this big are hashed on a thread pool (hashlib releases the GIL on big blocks).
BIG_FILE_SIZE = 256 * 1024


@dataclass(frozen=True)
class LocalFile:
    """One file of public/ as it will be published."""

    key: str  # relative to public/ and to the target prefix, '/'-separated
    path: Path
    size: int
    sha256: str
    headers: ObjectHeaders
    mtime_ns: int

    @property
    def kind(self) -> str:
        return self.headers.kind


class HashCache:
    """sha256 of files keyed by absolute path and (size, mtime, inode), kept in a JSON file.

    Only a speed-up for re-publishing from the same checkout: one JSON read instead of reading
    every file again. A fresh clone has no cache (and new mtimes and inodes anyway), so it hashes
    everything once; that is what keeps "nothing changed" true in CI.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, list[Any]] = {}
        self.changed = False
        self.seen: set[str] = set()
        self._lock = threading.Lock()
        if path is not None and path.is_file():
            try:
                loaded = json.loads(path.read_text())
                if isinstance(loaded, dict) and loaded.get("version") == 1:
                    self.entries = dict(loaded.get("files", {}))
            except (ValueError, OSError):
                self.entries = {}

    def digest(self, name: str, stat: os.stat_result) -> str:
        """The sha256 of the file at absolute path ``name`` (whose ``stat`` the caller has)."""
        stamp = [stat.st_size, stat.st_mtime_ns, stat.st_ino]
        cached = self.entries.get(name)
        with self._lock:
            self.seen.add(name)
        if cached and cached[:3] == stamp:
            return str(cached[3])
        digest = sha256_file(Path(name))
        with self._lock:
            self.entries[name] = [*stamp, digest]
            self.changed = True
        return digest

    def save(self) -> None:
        """Write the cache (only the files seen this time) if anything changed."""
        if self.path is None:
            return
        gone = set(self.entries) - self.seen
        for name in gone:
            del self.entries[name]
        if not (self.changed or gone):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(json.dumps({"version": 1, "files": self.entries}, sort_keys=True))
            os.replace(tmp, self.path)
        except OSError:
            pass  # a cache that cannot be written only costs time next run


def scan_public(out_dir: Path, cache: HashCache | None = None) -> dict[str, LocalFile]:
    """Every publishable file under public/ with its sha256 and headers, sorted by key.

    Hidden files (``.DS_Store``, build markers) are left out. A symlink that leads outside
    public/ is refused: it would publish a file nobody meant to publish. Small files are hashed
    in this thread (3,000 of them take a fraction of a second; threads would only fight over the
    GIL); big ones on a small pool, where hashlib and file reads release the GIL.
    """
    if not out_dir.is_dir():
        raise InputError(f"{out_dir} does not exist", hint="run `feedtool build` first")
    cache = cache or HashCache(None)
    root = out_dir.resolve()
    files: list[LocalFile] = []
    big: list[tuple[str, Path, os.stat_result]] = []

    def visit(folder: str, prefix: str) -> None:
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.name.startswith("."):
                    continue
                key = prefix + entry.name
                if not PLAIN_NAME.match(entry.name):
                    check_relative_key(key)  # raises with a message that names the problem
                if entry.is_dir():  # follows links to folders; checked below like files
                    if entry.is_symlink():
                        _check_inside(Path(entry.path), root, out_dir)
                    visit(entry.path, key + "/")
                    continue
                path = Path(entry.path)
                if entry.is_symlink():
                    _check_inside(path, root, out_dir)
                stat = entry.stat()
                if stat.st_size >= BIG_FILE_SIZE:
                    big.append((key, path, stat))
                else:
                    files.append(_local_file(key, path, stat, cache.digest(entry.path, stat)))

    visit(os.path.abspath(out_dir), "")
    if big:
        with ThreadPoolExecutor(max_workers=4) as pool:
            digests = list(pool.map(lambda item: cache.digest(str(item[1]), item[2]), big))
        files.extend(_local_file(key, path, stat, digest)
                     for (key, path, stat), digest in zip(big, digests, strict=True))
    cache.save()
    return {f.key: f for f in sorted(files, key=lambda f: f.key)}


def _local_file(key: str, path: Path, stat: os.stat_result, digest: str) -> LocalFile:
    return LocalFile(key=key, path=path, size=stat.st_size, sha256=digest, headers=headers_for(key),
                     mtime_ns=stat.st_mtime_ns)


def _check_inside(path: Path, root: Path, out_dir: Path) -> None:
    real = path.resolve()
    if not real.is_relative_to(root):
        raise InputError(
            f"{path} is a link to {real}, outside {out_dir}",
            path=path,
            hint="copy the file into public/ or remove the link",
        )

"""The build cache (.feedtool-cache/ next to episodes/): work a rebuild does not need to redo.

Three small JSON tables and a folder of tagged audio:
- probe.json: audio facts by (path, size, mtime), so an unchanged file is never probed again;
- notes.json: rendered show-note HTML by the hash of its Markdown;
- tagged/: tagged copies of the audio, named by the hash of (master identity, tag metadata),
  with their sha256 and size in tagged.json, so unchanged audio is never re-tagged.
The cache is disposable: deleting it only makes the next build slower.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

CACHE_VERSION = 1


class JsonTable:
    """A dict persisted as one JSON file; written only when it changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {}
        self.used: set[str] = set()
        self.dirty = False
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict) and loaded.get("version") == CACHE_VERSION:
                self.data = loaded.get("entries", {})
        except (OSError, ValueError):
            self.data = {}

    def get(self, key: str) -> Any:
        value = self.data.get(key)
        if value is not None:
            self.used.add(key)
        return value

    def put(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.used.add(key)
        self.dirty = True

    def prune(self) -> list[str]:
        """Forget entries this build did not use; returns their keys."""
        stale = [key for key in self.data if key not in self.used]
        for key in stale:
            del self.data[key]
        if stale:
            self.dirty = True
        return stale

    def save(self) -> None:
        if not self.dirty:
            return
        write_atomic(
            self.path,
            json.dumps({"version": CACHE_VERSION, "entries": self.data}, sort_keys=True).encode(),
        )
        self.dirty = False


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old or the new content, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class BuildCache:
    """The cache folder and its tables."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.probes = JsonTable(root / "probe.json")
        self.notes = JsonTable(root / "notes.json")
        self.tagged = JsonTable(root / "tagged.json")
        self.tagged_dir = root / "tagged"
        self.tagged_dir.mkdir(exist_ok=True)

    def save(self) -> None:
        """Persist the tables, dropping what this build no longer needs (and its files)."""
        self.probes.prune()
        self.notes.prune()
        for key in self.tagged.prune():
            for path in self.tagged_dir.glob(f"{key}.*"):
                path.unlink(missing_ok=True)
        for table in (self.probes, self.notes, self.tagged):
            table.save()

"""The build cache (.feedtool-cache/ next to episodes/): work a rebuild does not need to redo.

Four small JSON tables and a folder of tagged audio:
- digest.json: the sha256 of each audio file by (path, size, mtime), so an unchanged file is
  read once; the other tables are keyed by content, so a fresh clone (new mtimes, same bytes)
  still finds its probes and tagged copies;
- probe.json: audio facts by content, so an unchanged file is never probed again;
- notes.json: rendered show-note HTML (and its Apple description and plain text) by the hash of
  its Markdown;
- tagged/: tagged copies of the audio, named by the hash of (master content, tag metadata),
  with their sha256 and size in tagged.json, so unchanged audio is never re-tagged;
- files/: other generated files (chapters.json) named by their content, listed in files.json;
  build hard-links them into public/, so a rebuild makes no new file for an unchanged one.
The cache is disposable: deleting it only makes the next build slower.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from feedtool.files import write_atomic

CACHE_VERSION = 2  # bump when a table changes shape: older tables are then ignored


class JsonTable:
    """A dict persisted as one JSON file; written only when it changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {}
        self.used: set[str] = set()
        self.added: dict[str, Any] = {}  # what this process put since take_changes()
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
        self.added[key] = value
        self.dirty = True

    def take_changes(self) -> tuple[dict[str, Any], set[str]]:
        """(entries put, keys used) since the last call: what a build worker sends back."""
        changes = (self.added, self.used)
        self.added, self.used = {}, set()
        return changes

    def merge(self, added: dict[str, Any], used: set[str]) -> None:
        """Take in a worker's changes (see take_changes)."""
        if added:
            self.data.update(added)
            self.dirty = True
        self.used |= used

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


class BuildCache:
    """The cache folder and its tables."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.digests = JsonTable(root / "digest.json")
        self.probes = JsonTable(root / "probe.json")
        self.notes = JsonTable(root / "notes.json")
        self.tagged = JsonTable(root / "tagged.json")
        self.tagged_dir = root / "tagged"
        self.tagged_dir.mkdir(exist_ok=True)
        self.files = JsonTable(root / "files.json")
        self.files_dir = root / "files"
        self.files_dir.mkdir(exist_ok=True)

    @property
    def tables(self) -> tuple[JsonTable, ...]:
        return (self.digests, self.probes, self.notes, self.tagged, self.files)

    def save(self) -> None:
        """Persist the tables, dropping what this build no longer needs (and its files)."""
        self.digests.prune()
        self.probes.prune()
        self.notes.prune()
        stale = set(self.tagged.prune())
        if stale:  # one listing of tagged/, not one glob per key (quadratic on a big catalogue)
            for path in self.tagged_dir.iterdir():
                key, dot, _ = path.name.partition(".")
                if dot and key in stale:
                    path.unlink(missing_ok=True)
        for name in self.files.prune():
            (self.files_dir / name).unlink(missing_ok=True)
        for table in self.tables:
            table.save()

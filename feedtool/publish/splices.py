"""Tagged copies that build described instead of writing: ``public/.feedtool/splices.json``.

When an MP3's tag inputs (title, chapters, cover...) change on a machine without its master,
build cannot write the new tagged copy. It writes what the copy is made of instead
(feedtool.master_records.write_splices), and the feed already names the new copy (docs/design.md,
"Splices"):

    {"version": 1, "splices": {"<key>": {"size": N, "head": "<file>", "tail": "<file>" | null,
       "source": {"key": "<earlier copy's key>", "size": N, "start": N, "end": N}}}}

the copy = the head file + bytes [start, end) of the source object (an earlier tagged copy of the
same master, already on the target) + the tail file. Head and tail files are in
``public/.feedtool/heads/``. Publish makes the copy on the target (storage ``compose``: inside
the bucket where the service allows it). Keys are relative to public/, like every published file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feedtool.errors import InputError, excerpt
from feedtool.master_records import HEADS_DIR, SPLICES_FILE
from feedtool.storage import (
    PLAIN_NAME,
    Composition,
    ObjectHeaders,
    check_relative_key,
    headers_for,
    is_hidden,
)

#: The version build writes (feedtool.master_records.write_splices); paths from there too.
SPLICES_VERSION = 1


@dataclass(frozen=True)
class Splice:
    """One tagged copy to make on the target from an earlier one."""

    key: str
    size: int
    head: Path
    tail: Path | None
    source_key: str
    source_size: int
    start: int
    end: int

    @property
    def headers(self) -> ObjectHeaders:
        return headers_for(self.key)

    @property
    def kind(self) -> str:
        return self.headers.kind

    def composition(self) -> Composition:
        """The head and tail bytes with the source range (read now: they are small)."""
        head = _read(self.head, self.key)
        tail = _read(self.tail, self.key) if self.tail is not None else b""
        made = Composition(head, self.source_key, self.source_size, self.start, self.end, tail)
        if made.size != self.size:
            raise InputError(f"{SPLICES_FILE}: {self.key}: its head and tail files changed since build "
                             f"({made.size} bytes, not {self.size})", hint="run `feedtool build` again")
        return made

    def as_json(self) -> dict[str, Any]:
        """What the target's manifest remembers of how the copy was made."""
        return {"source": self.source_key, "source_size": self.source_size, "start": self.start, "end": self.end,
                "head_size": self.head.stat().st_size if self.head.exists() else None,
                "tail_size": self.tail.stat().st_size if self.tail is not None and self.tail.exists() else 0}


def _read(path: Path, key: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InputError(f"{SPLICES_FILE}: {key}: cannot read {path.name}: {error.strerror or error}",
                         path=path, hint="run `feedtool build` again") from error


def read_splices(out_dir: Path) -> dict[str, Splice]:
    """The splices build described in ``out_dir`` (none when it wrote no splices.json).

    Everything is checked before publish plans: keys and file names stay inside their folders,
    numbers are whole and in order, and the head and tail files are there with the sizes that add
    up to the copy's size. A problem is an InputError naming the key and the field.
    """
    path = out_dir / SPLICES_FILE
    if not path.is_file():
        return {}

    def bad(problem: str, key: str | None = None) -> InputError:
        where = f"{SPLICES_FILE}" + (f": {excerpt(key, 80)}" if key else "")
        return InputError(f"{where}: {problem}", path=path,
                          hint="run `feedtool build` again (it writes this file); do not edit it by hand")

    try:
        body = json.loads(path.read_bytes())
    except (OSError, ValueError) as error:
        raise bad(f"cannot be read as JSON ({excerpt(str(error), 80)})") from error
    if (not isinstance(body, dict) or body.get("version") != SPLICES_VERSION
            or not isinstance(body.get("splices"), dict)):
        raise bad(f'is not a version {SPLICES_VERSION} splices file ({{"version": 1, "splices": {{...}}}})')
    heads = out_dir / HEADS_DIR
    found: dict[str, Splice] = {}
    for key, entry in body["splices"].items():
        try:
            check_relative_key(key)
        except InputError as error:
            raise bad(error.message) from error
        if is_hidden(key):
            raise bad("a hidden name is never published", key)
        if not isinstance(entry, dict) or not isinstance(entry.get("source"), dict):
            raise bad("each entry needs size, head, tail and source", key)
        source = entry["source"]
        numbers: dict[str, int] = {}
        for name, value in (("size", entry.get("size")), ("source.size", source.get("size")),
                            ("source.start", source.get("start")), ("source.end", source.get("end"))):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise bad(f"{name} must be a whole number of bytes", key)
            numbers[name] = value
        if not numbers["source.start"] <= numbers["source.end"] <= numbers["source.size"]:
            raise bad("source.start <= source.end <= source.size does not hold", key)
        source_key = source.get("key")
        if not isinstance(source_key, str):
            raise bad("source.key must name the earlier copy on the target", key)
        try:
            check_relative_key(source_key)
        except InputError as error:
            raise bad(f"source.key: {error.message}", key) from error
        if source_key == key:
            raise bad("a copy cannot be made from itself", key)
        files: dict[str, Path | None] = {}
        for name in ("head", "tail"):
            value = entry.get(name)
            if value is None and name == "tail":
                files[name] = None
                continue
            if not isinstance(value, str) or not PLAIN_NAME.match(value) or value.startswith("."):
                raise bad(f"{name} must name a file in {HEADS_DIR}/", key)
            file = heads / value
            if not file.is_file():
                raise bad(f"its {name} file {excerpt(value, 60)} is missing from {HEADS_DIR}/", key)
            files[name] = file
        head = files["head"]
        assert head is not None
        tail = files["tail"]
        total = head.stat().st_size + numbers["source.end"] - numbers["source.start"] + (
            tail.stat().st_size if tail is not None else 0)
        if total != numbers["size"]:
            raise bad(f"size is {numbers['size']}, but head + source range + tail make {total} bytes", key)
        found[key] = Splice(key, numbers["size"], head, tail, source_key, numbers["source.size"],
                            numbers["source.start"], numbers["source.end"])
    return found


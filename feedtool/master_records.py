"""What a build records about each master and its tagged copy, so the audio need not be here.

A show's masters need not be in git (issue 10). For a fresh clone with no audio, no cache and no
public/ to build the same feed, and to publish without moving media when only text changed,
build records per master, in the episode's entry of episodes/feedtool.lock (feedtool.guids)::

    "master": {"source": "ep.mp3", "sha256": "...", "size": 31457000, "kind": "mp3",
               "mime": "audio/mpeg", "duration_s": 1965.3, "bitrate": 128000,
               "audio_span": {"start": 0, "end": 31457000, "id3v1": false},
               "tagged": {"key": "<build key>", "name": "ep/ep-1a2b3c4d.mp3", "size": 31492123}},
    "alternates": [{... the same for each alternate, in 'audio:' order}]

``tagged`` is the copy the feed's enclosure names: a build whose tag inputs give the same build
key needs neither the master nor the copy (the copy is on the target: a *remote* copy). When the
key changed and the master is not here, an MP3's new copy is a *splice* of the recorded one:
the new ID3 tag, then the audio frames of the earlier copy, then the ID3v1 tail
(feedtool.tagging.splice). ``tagged.made_from`` then keeps the earlier copy, so that every build
until publish has made the new copy (or the master is back) says the same thing.

The rules build applies to a master that is not here live here too (``copy_stem``,
``copy_suffix``, ``splice_of``, ``master_missing``), so that build.py keeps the order of the
steps (docs/design.md, "Masters outside git") and this module what each step means.

Publish reads the splices a build asks for from ``public/.feedtool/splices.json`` (the heads and
tails as files under ``public/.feedtool/heads/``) and makes each copy inside the bucket
(feedtool.publish, docs/design.md "Masters outside git").
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feedtool.files import write_atomic
from feedtool.masters import MasterError, MasterFacts

if TYPE_CHECKING:
    from feedtool.model import Episode, Master
    from feedtool.tagging import TagMetadata

#: Inside public/ (hidden: publish never uploads it).
SPLICES_FILE = ".feedtool/splices.json"
#: Every enclosure the build names but left out of public/: validate says so instead of "missing".
REMOTE_MEDIA_FILE = ".feedtool/remote-media.json"
ON_THE_TARGET = "its master is not on this machine; the copy the lock file records is on the target already"
TO_SPLICE = "its master is not on this machine; publish makes this copy inside the bucket from the earlier one"
HEADS_DIR = ".feedtool/heads"


@dataclass(frozen=True)
class TaggedRecord:
    """A tagged copy as the lock file records it: its build key, its name in public/, its size."""

    key: str
    name: str
    size: int
    made_from: dict[str, int | str] | None = None  # a splice's source: {"name", "size", "start", "end"}

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "name": self.name, "size": self.size}
        if self.made_from is not None:
            data["made_from"] = dict(self.made_from)
        return data

    @classmethod
    def from_dict(cls, data: Any) -> TaggedRecord | None:
        if not isinstance(data, dict):
            return None
        try:
            made_from = data.get("made_from")
            return cls(key=str(data["key"]), name=str(data["name"]), size=int(data["size"]),
                       made_from=dict(made_from) if isinstance(made_from, dict) else None)
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class MasterRecord:
    """One master's entry: where it is, what it is, and its current tagged copy."""

    source: str
    facts: MasterFacts
    tagged: TaggedRecord | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"source": self.source, **self.facts.to_dict()}
        if self.tagged is not None:
            data["tagged"] = self.tagged.to_dict()
        return data


def recorded_master(entry: dict[str, Any] | None, index: int, source: str) -> MasterRecord | None:
    """The record of master ``index`` (0: the enclosure's) of a lock entry, if it is for ``source``
    and complete enough to build from (older lock files record only sha256 and size)."""
    if not isinstance(entry, dict):
        return None
    data = entry.get("master") if index == 0 else _nth(entry.get("alternates"), index - 1)
    if not isinstance(data, dict) or data.get("source") != source:
        return None
    try:
        facts = MasterFacts.from_dict(data)
    except (KeyError, TypeError, ValueError):
        return None
    return MasterRecord(source, facts, TaggedRecord.from_dict(data.get("tagged")))


def _nth(items: Any, index: int) -> Any:
    return items[index] if isinstance(items, list) and 0 <= index < len(items) else None


def record_into(entry: dict[str, Any], records: tuple[MasterRecord, ...]) -> None:
    """Write an episode's master records into its lock entry (keys this module does not own stay)."""
    if not records:
        return
    master = entry.get("master") if isinstance(entry.get("master"), dict) else {}
    assert isinstance(master, dict)
    first = records[0].to_dict()
    for key in ("tagged", "audio_span"):  # a new master may have none: an old value would lie
        if key not in first:
            master.pop(key, None)
    master.update(first)
    entry["master"] = master
    if len(records) > 1:
        entry["alternates"] = [record.to_dict() for record in records[1:]]
    else:
        entry.pop("alternates", None)


@dataclass(frozen=True)
class Splice:
    """A tagged copy publish makes from an earlier one on the target: ``head`` + bytes
    ``[start, end)`` of ``source`` + ``tail``. ``size`` is the result's."""

    name: str  # the new copy, relative to public/
    size: int
    head: bytes
    tail: bytes
    source: str  # the earlier copy, relative to public/
    source_size: int
    start: int
    end: int


def write_splices(root: Path, splices: list[Splice]) -> None:
    """public/.feedtool/splices.json and the heads and tails it names (nothing when no splice)."""
    if not splices:
        return
    heads = root / HEADS_DIR
    heads.mkdir(parents=True, exist_ok=True)
    table: dict[str, Any] = {}
    for splice in sorted(splices, key=lambda s: s.name):
        table[splice.name] = {
            "size": splice.size,
            "head": _part_file(heads, splice.head),
            "tail": _part_file(heads, splice.tail) if splice.tail else None,
            "source": {"key": splice.source, "size": splice.source_size, "start": splice.start, "end": splice.end},
        }
    write_atomic(root / SPLICES_FILE,
                 (json.dumps({"version": 1, "splices": table}, indent=1, sort_keys=True) + "\n").encode())


def _part_file(folder: Path, data: bytes) -> str:
    name = hashlib.sha256(data).hexdigest()[:32] + ".bin"
    path = folder / name
    if not path.exists():
        write_atomic(path, data)
    return name


def write_remote_media(root: Path, remote: dict[str, int], splices: list[Splice]) -> None:
    """public/.feedtool/remote-media.json: name -> (size, why it is not here), for validate."""
    media = {name: [size, ON_THE_TARGET] for name, size in remote.items()}
    media.update({splice.name: [splice.size, TO_SPLICE] for splice in splices})
    if media:
        write_atomic(root / REMOTE_MEDIA_FILE, (json.dumps({"version": 1, "media": media}, indent=1,
                                                           sort_keys=True) + "\n").encode())


def read_remote_media(root: Path) -> dict[str, tuple[int, str]]:
    """What write_remote_media wrote (empty when there is nothing, or it is damaged)."""
    try:
        media = json.loads((Path(root) / REMOTE_MEDIA_FILE).read_text(encoding="utf-8"))["media"]
        return {str(name): (int(value[0]), str(value[1])) for name, value in media.items()}
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return {}


# ------------------------------------------------------------------------------ build's rules


def copy_stem(master: Master) -> str:
    """The start of a tagged copy's name: the master's file name without its extension (a URL's
    last path segment), the same whether or not the master is on this machine."""
    from urllib.parse import unquote, urlsplit

    if master.path is not None and not master.remote:
        return master.path.stem
    return Path(unquote(urlsplit(master.source).path) if master.remote else master.source).stem or "audio"


def copy_suffix(master: Master, facts: MasterFacts) -> str:
    """A tagged copy's extension: the master's, or its kind's when a URL names none."""
    from urllib.parse import urlsplit

    from feedtool.audio import EXTENSIONS

    if master.path is not None and not master.remote:
        return master.path.suffix.lower()
    suffix = Path(urlsplit(master.source).path if master.remote else master.source).suffix.lower()
    if suffix in EXTENSIONS:
        return suffix
    return {"mp3": ".mp3", "m4a": ".m4a", "mp4": ".mp4", "ogg": ".ogg", "opus": ".opus", "flac": ".flac"}.get(
        facts.kind, ".mp3")


def splice_of(meta: TagMetadata, facts: MasterFacts, earlier: TaggedRecord, name: str, *, same_key: bool,
            path: Path) -> Splice:
    """The new copy of an MP3 made from an earlier copy on the target (feedtool.tagging.splice).

    An earlier copy is ``its ID3v2 tag + the master's audio frames + an ID3v1 tag when the master
    had one``, so the frames sit at a known place in it. When the build asks again for a copy it
    asked for before (same build key), the source is the one that copy was made from: the copy
    itself may not have been published yet.
    """
    from feedtool.integrity import AudioSpan
    from feedtool.tagging.id3 import plan_copy

    assert facts.audio_span is not None
    start, end, id3v1 = facts.audio_span
    plan = plan_copy(meta, duration_s=facts.duration_s, span=AudioSpan(start, end, id3v1), path=path)
    if same_key and earlier.made_from is not None:
        source, source_size = str(earlier.made_from["name"]), int(earlier.made_from["size"])
        source_start, source_end = int(earlier.made_from["start"]), int(earlier.made_from["end"])
    else:
        tail = 128 if id3v1 else 0  # the ID3v1 tag feedtool writes into a copy
        source, source_size = earlier.name, earlier.size
        source_end = earlier.size - tail
        source_start = source_end - (end - start)
    return Splice(name=name, size=plan.size, head=plan.head_bytes(), tail=plan.tail, source=source,
                  source_size=source_size, start=source_start, end=source_end)


def made_from(splice: Splice | None) -> dict[str, int | str] | None:
    if splice is None:
        return None
    return {"name": splice.source, "size": splice.source_size, "start": splice.start, "end": splice.end}


def why_needed(earlier: TaggedRecord | None, facts: MasterFacts) -> str:
    if earlier is None:
        return "feedtool.lock records no copy of it"
    if facts.kind != "mp3":
        return (f"its tags changed (title, chapters, cover, show or author), and only an MP3's copy can be "
                f"re-made without its master (this is {facts.kind})")
    return "its tags changed, and feedtool.lock does not say where its audio frames are"


def master_missing(episode: Episode, master: Master, why: str) -> MasterError:
    return MasterError(
        f"the master {master.source} is not in the episode folder, and {why}",
        path=episode.source, field="audio", line=master.line,
        hint="put the master next to episode.md (it may stay out of git), or name where it lives with "
             "an https:// URL or s3://bucket/key in 'audio:' (docs/publishing.md, 'Where your audio lives')",
    )

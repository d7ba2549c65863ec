"""The guid ledger: episodes/feedtool.lock, committed next to the episodes.

An episode's guid is what podcast apps know it by; if it changes, every subscriber gets the
episode again as new. So a guid is either written in the episode's front matter or derived once
(UUIDv5 of the show's podcast:guid and the episode folder name) and then recorded here, and a
build refuses to contradict what is recorded.

Version 2 records, per episode folder, the guid and what identifies the episode besides its
folder name, so that a renamed folder keeps its guid::

    {"version": 2, "episodes": {"coffee-sessions-29": {
        "guid": "53f5208f-...", "number": 29,
        "master": {"source": "coffee-sessions-29.mp3", "sha256": "...", "size": 2910096}}}}

A folder that is new to the ledger while a recorded folder is gone is that folder renamed when
its master has the same sha256 or, failing that, the episode has the same number: it keeps the
recorded guid, and the build says so. When more than one folder fits, the build stops and asks
for the one fix that always works: the old guid in the new folder's front matter (``guid:``),
which moves the record. A version 1 ledger (folder -> guid) is read as it is and written as
version 2 on the next change; keys this module does not know are kept as they are, so later
versions can add facts to an entry (write them per master sha256: a new master keeps them).

The ledger knows what was built, not what was published: its messages say "recorded".
The file is small, sorted JSON so diffs are readable in review.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feedtool.errors import InputError
from feedtool.files import write_atomic
from feedtool.model import Episode, Show

LOCK_NAME = "feedtool.lock"
VERSION = 2
_NOTE = (
    "feedtool's guid ledger: the guid each episode folder was built with, its episode number, and "
    "what the build learnt about its master audio and tagged copy, so that a renamed folder keeps "
    "its guid and a clone without the audio builds the same feed. Commit this file. feedtool build "
    "refuses to contradict it: a changed guid makes apps show an episode again as new."
)
_DAMAGED_HINT = "restore it from git (git checkout -- episodes/feedtool.lock); never edit guids by hand"


def derive_guid(show: Show, slug: str) -> str:
    """A stable guid for an episode that has none in its front matter."""
    return str(uuid.uuid5(uuid.UUID(show.podcast_guid), slug))


@dataclass(frozen=True)
class MasterFacts:
    """What the ledger records about an episode's master: the 'audio:' value, its sha256, size."""

    source: str
    sha256: str
    size: int


class GuidLedger:
    """episode folder -> {"guid", "number", "master", ...}, as recorded in episodes/feedtool.lock."""

    def __init__(self, path: Path, entries: dict[str, dict[str, Any]] | None = None,
                 document: dict[str, Any] | None = None) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = entries or {}
        self._document = document or {}  # the whole file, unknown top-level keys included
        self._saved = self._text()
        #: what the last assign() did that the user should hear about (build prints them)
        self.notes: list[str] = []

    @property
    def recorded(self) -> dict[str, str]:
        """episode folder -> guid."""
        return {slug: entry["guid"] for slug, entry in self.entries.items()}

    @classmethod
    def load(cls, episodes_dir: Path) -> GuidLedger:
        path = episodes_dir / LOCK_NAME
        if not path.exists():
            return cls(path)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(document, dict):
                raise ValueError("not a JSON object")
            version = document.get("version", 1)
            if isinstance(version, int) and version > VERSION:
                raise InputError(
                    f"the guid ledger was written by a newer feedtool (version {version})",
                    path=path, hint="upgrade feedtool (pip install -U feedtool)",
                )
            entries = _entries(document["episodes"], version)
        except InputError:
            raise
        except (ValueError, KeyError, TypeError) as error:
            raise InputError(f"the guid ledger is damaged ({error})", path=path, hint=_DAMAGED_HINT) from None
        ledger = cls(path, entries, document)
        if version != VERSION:
            ledger._saved = ""  # a version 1 file is written as version 2 on the next build
        return ledger

    # ------------------------------------------------------------------------------ assign

    def assign(
        self,
        show: Show,
        episodes: Iterable[Episode],
        *,
        present: Iterable[str] | None = None,
        masters: Mapping[str, MasterFacts] | None = None,
    ) -> dict[str, str]:
        """The guid of each episode (slug -> guid); records new ones, and renames.

        ``episodes`` are the ones going into the feed; ``present`` names every episode folder
        there is (default: those of ``episodes``), so that a held-back draft is not taken for a
        gone folder; ``masters`` holds what build learnt about each master (build probes and
        hashes every master anyway). Raises InputError on any conflict.
        """
        episodes = list(episodes)
        present_slugs = set(present) if present is not None else {e.slug for e in episodes}
        present_slugs.update(e.slug for e in episodes)
        masters = masters or {}
        self.notes = []
        entries = self.entries
        pending: list[Episode] = []
        for episode in episodes:
            if episode.guid:
                self._take_front_matter_guid(show, episode, present_slugs)
            elif episode.slug not in entries:
                pending.append(episode)

        gone = {slug: entry for slug, entry in entries.items() if slug not in present_slugs}
        renames, unsure = _match_renames(pending, gone, masters)
        for episode in pending:
            if episode.slug in unsure:
                raise self._ambiguous(show, episode, unsure)
        for episode in pending:
            old = renames.get(episode.slug)
            if old is None:
                entries[episode.slug] = {"guid": derive_guid(show, episode.slug)}
                continue
            entry = entries[episode.slug] = entries.pop(old)
            self.notes.append(
                f"episode folder '{old}' is gone and '{episode.slug}' has {_evidence(entry, episode, masters)}: "
                f"taken as '{old}' renamed, it keeps guid {entry['guid']} "
                f"({self.path.name} now records it under '{episode.slug}')"
            )
        self._note_unmatched(show, [e for e in pending if e.slug not in renames], gone, renames)

        result: dict[str, str] = {}
        owners: dict[str, str] = {}
        for episode in episodes:
            entry = entries[episode.slug]
            _update_facts(entry, episode, masters.get(episode.slug))
            guid = entry["guid"]
            if guid in owners:
                raise InputError(
                    f"episodes '{owners[guid]}' and '{episode.slug}' would share guid {guid!r}",
                    path=self.path.parent / episode.slug,
                    field="guid",
                    hint="give one of them its own guid",
                )
            owners[guid] = episode.slug
            result[episode.slug] = guid
        return result

    def _take_front_matter_guid(self, show: Show, episode: Episode, present: set[str]) -> None:
        """Record the front matter's guid, or refuse it when the ledger says otherwise.

        The old guid of a renamed (gone) folder in the new folder's front matter is the fix the
        ledger asks for: the record moves to the new folder.
        """
        wanted = episode.guid
        assert wanted
        entries = self.entries
        entry = entries.get(episode.slug)
        if entry is not None and entry["guid"] == wanted:
            return
        owner = next((slug for slug, other in entries.items() if other["guid"] == wanted), None)
        if owner is not None and owner in present:
            raise InputError(
                f"guid {wanted!r} is recorded in {self.path.name} for episode folder '{owner}', "
                "which is still there",
                path=episode.source,
                field="guid",
                hint="every episode needs its own guid: remove this guid line, or give the episode a new one",
            )
        if owner is not None:
            moved = entries.pop(owner)
            note = (f"episode folder '{episode.slug}' takes over guid {wanted} from '{owner}' (gone), "
                    f"as its front matter says; {self.path.name} now records it under '{episode.slug}'")
            if entry is not None:
                note += (f" instead of {entry['guid']}{_origin(show, episode.slug, entry)}: if you published "
                         f"a feed with {entry['guid']}, apps will show this episode again")
            self.notes.append(note)
            entries[episode.slug] = moved
            return
        if entry is not None:
            recorded = entry["guid"]
            raise InputError(
                f"guid {wanted!r} differs from {recorded!r}, the guid {self.path.name} records for this "
                f"episode folder{_origin(show, episode.slug, entry)}",
                path=episode.source,
                field="guid",
                hint=f"put back 'guid: {recorded}' or remove the guid line: every feed built so far "
                f"carries {recorded}, and a changed guid makes apps show a published episode again as "
                f"new. If you never published a feed with {recorded}, remove '{episode.slug}' from "
                f"{self.path.name} instead",
            )
        entries[episode.slug] = {"guid": wanted}

    def _ambiguous(self, show: Show, episode: Episode, unsure: Mapping[str, list[str]]) -> InputError:
        """The one refusal of rename detection: more than one pairing of old and new folders fits."""
        candidates = unsure[episode.slug]
        listed = ", ".join(f"'{old}' (guid {self.entries[old]['guid']})" for old in candidates)
        rivals = [slug for slug, olds in unsure.items() if slug != episode.slug and set(olds) & set(candidates)]
        if len(candidates) > 1:
            message = (f"episode folder '{episode.slug}' is new to {self.path.name} and looks like a renamed "
                       f"folder, but more than one gone folder fits it: {listed}")
        else:
            others = " and ".join(f"'{slug}'" for slug in rivals) or "another new folder"
            message = (f"episode folders '{episode.slug}' and {others} are new to {self.path.name}, and "
                       f"each looks like {listed} renamed")
        fixes = "; ".join(f"'{old}': guid: {self.entries[old]['guid']}" for old in candidates)
        return InputError(
            message,
            path=episode.source,
            field="guid",
            hint=f"add the old guid to the front matter of the folder that was renamed ({fixes}), e.g. "
            f"'guid: {self.entries[candidates[0]]['guid']}' in {episode.slug}/episode.md; if "
            f"'{episode.slug}' is a new episode, give it a guid of its own, e.g. "
            f"'guid: {derive_guid(show, episode.slug)}'",
        )

    def _note_unmatched(self, show: Show, new: list[Episode], gone: Mapping[str, dict[str, Any]],
                        renames: Mapping[str, str]) -> None:
        """A folder from a version 1 ledger has no facts to match: say what a rename needs."""
        taken = set(renames.values())
        factless = [slug for slug, entry in gone.items()
                    if slug not in taken and "master" not in entry and entry.get("number") is None]
        if not new or not factless:
            return
        old = ", ".join(f"'{slug}' (guid {gone[slug]['guid']})" for slug in sorted(factless))
        for episode in new:
            self.notes.append(
                f"episode folder '{episode.slug}' is new and got guid {derive_guid(show, episode.slug)}; "
                f"{self.path.name} has no audio facts for gone folder(s) {old} (recorded by an older "
                f"feedtool): if '{episode.slug}' is one of them renamed, add its old guid to "
                f"{episode.slug}/episode.md ('guid: ...') before you publish"
            )

    # ------------------------------------------------------------------------------ saving

    @property
    def changed(self) -> bool:
        return self._text() != self._saved

    def _text(self) -> str:
        document = {key: value for key, value in self._document.items()
                    if key not in ("note", "version", "episodes")}
        data = {"note": _NOTE, "version": VERSION, **dict(sorted(document.items())),
                "episodes": {slug: _ordered(entry) for slug, entry in sorted(self.entries.items())}}
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    def save(self) -> None:
        """Write the ledger atomically (build calls it when something changed)."""
        text = self._text()
        write_atomic(self.path, text.encode("utf-8"))
        self._saved = text


# ------------------------------------------------------------------------------ helpers


def _entries(raw: Any, version: Any) -> dict[str, dict[str, Any]]:
    """The "episodes" object of a version 1 or 2 ledger as version 2 entries."""
    if not isinstance(raw, dict):
        raise ValueError("'episodes' must map folder names to entries")
    entries: dict[str, dict[str, Any]] = {}
    for slug, value in raw.items():
        if version == 1 and isinstance(value, str):
            value = {"guid": value}
        if not isinstance(value, dict) or not isinstance(value.get("guid"), str) or not value["guid"]:
            raise ValueError(f"the entry of '{slug}' has no guid")
        number = value.get("number")
        if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
            raise ValueError(f"the entry of '{slug}' has a number that is not a whole number")
        if "master" in value and not isinstance(value["master"], dict):
            raise ValueError(f"the entry of '{slug}' has a master that is not an object")
        entries[slug] = dict(value)
    return entries


def _update_facts(entry: dict[str, Any], episode: Episode, master: MasterFacts | None) -> None:
    entry["number"] = episode.number
    if master is not None:
        recorded = entry.get("master")
        facts = recorded if isinstance(recorded, dict) else {}
        facts.update(source=master.source, sha256=master.sha256, size=master.size)
        entry["master"] = facts


def _ordered(entry: dict[str, Any]) -> dict[str, Any]:
    """guid, number, master first, then unknown keys sorted: the same entry, the same bytes."""
    head: dict[str, Any] = {key: entry[key] for key in ("guid", "number") if key in entry}
    if isinstance(entry.get("master"), dict):
        master = entry["master"]
        known = {key: master[key] for key in ("source", "sha256", "size") if key in master}
        head["master"] = {**known, **{k: master[k] for k in sorted(master) if k not in known}}
    elif "master" in entry:
        head["master"] = entry["master"]
    return {**head, **{key: entry[key] for key in sorted(entry) if key not in head}}


def _origin(show: Show, slug: str, entry: Mapping[str, Any]) -> str:
    """Where a recorded guid came from, as far as the ledger can tell (for messages)."""
    if entry["guid"] == derive_guid(show, slug):
        return " (derived from the folder name when it was first built)"
    return ""


def _evidence(entry: Mapping[str, Any], episode: Episode, masters: Mapping[str, MasterFacts]) -> str:
    master = masters.get(episode.slug)
    recorded = entry.get("master")
    if master is not None and isinstance(recorded, dict) and recorded.get("sha256") == master.sha256:
        return f"the same master audio ({master.source})"
    return f"the same episode number ({episode.number}) and other audio"


def _match_renames(
    new: list[Episode], gone: Mapping[str, dict[str, Any]], masters: Mapping[str, MasterFacts]
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(new folder -> the gone folder it was renamed from, new folder -> gone folders that fit
    equally well). By the master's sha256 first, then by episode number."""
    renames: dict[str, str] = {}
    unsure: dict[str, list[str]] = {}

    def match(key_of_new: Callable[[Episode], Any], key_of_gone: Callable[[dict[str, Any]], Any]) -> None:
        taken = set(renames.values())
        olds: dict[Any, list[str]] = {}
        for slug, entry in gone.items():
            key = key_of_gone(entry)
            if key is not None and slug not in taken:
                olds.setdefault(key, []).append(slug)
        news: dict[Any, list[Episode]] = {}
        for episode in new:
            key = key_of_new(episode)
            if key is not None and episode.slug not in renames and episode.slug not in unsure:
                news.setdefault(key, []).append(episode)
        for key, group in news.items():
            candidates = sorted(olds.get(key, []))
            if not candidates:
                continue
            # Several fit (the same master in several episodes): the episode number pairs them.
            by_number: dict[str, list[Episode]] = {}
            for episode in group if len(group) > 1 or len(candidates) > 1 else ():
                same = [old for old in candidates
                        if episode.number is not None and gone[old].get("number") == episode.number]
                if len(same) == 1:
                    by_number.setdefault(same[0], []).append(episode)
            for old, episodes in by_number.items():
                if len(episodes) == 1:
                    renames[episodes[0].slug] = old
            left_new = [e for e in group if e.slug not in renames]
            left_old = [old for old in candidates if old not in renames.values()]
            if len(left_new) == 1 and len(left_old) == 1:
                renames[left_new[0].slug] = left_old[0]
            elif left_old:
                for episode in left_new:
                    unsure[episode.slug] = left_old
            # (no gone folder left: the other new folders are new episodes with a copy of a master)

    match(lambda e: masters[e.slug].sha256 if e.slug in masters else None,
          lambda entry: entry["master"].get("sha256") if isinstance(entry.get("master"), dict) else None)
    match(lambda e: e.number, lambda entry: entry.get("number"))
    return renames, unsure


"""The guid ledger: episodes/feedtool.lock, committed next to the episodes.

An episode's guid is what podcast apps use to know it; if it changes, every subscriber gets the
episode again as new. So a guid is either written in the episode's front matter or derived once
(UUIDv5 of the show's podcast:guid and the episode folder name) and then recorded here, and a
build refuses to contradict what is recorded. The file is small, sorted JSON so diffs are
readable in review.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from feedtool.errors import InputError
from feedtool.files import write_atomic
from feedtool.model import Episode, Show

LOCK_NAME = "feedtool.lock"
_NOTE = (
    "feedtool's guid ledger: the guid each episode was published with. Commit this file. "
    "A guid must never change once published; feedtool build refuses to contradict it."
)


def derive_guid(show: Show, slug: str) -> str:
    """A stable guid for an episode that has none in its front matter."""
    return str(uuid.uuid5(uuid.UUID(show.podcast_guid), slug))


class GuidLedger:
    """slug -> guid, as recorded in episodes/feedtool.lock."""

    def __init__(self, path: Path, recorded: dict[str, str], entries: dict[str, dict] | None = None) -> None:
        self.path = path
        self.recorded = dict(recorded)
        self._original = dict(recorded)
        #: lock v2 entries (``feedtool import`` writes them), kept whole so saving loses none of their facts
        self.entries = dict(entries or {})

    @classmethod
    def load(cls, episodes_dir: Path) -> GuidLedger:
        path = episodes_dir / LOCK_NAME
        if not path.exists():
            return cls(path, {})
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            recorded = data["episodes"]
            entries = {k: v for k, v in recorded.items() if isinstance(v, dict)} if isinstance(recorded, dict) else {}
            if entries:  # lock v2: folder -> {"guid": ..., ...}
                recorded = {k: v.get("guid") if isinstance(v, dict) else v for k, v in recorded.items()}
            if not isinstance(recorded, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in recorded.items()
            ):
                raise ValueError("'episodes' must map folder names to guids")
        except (ValueError, KeyError, TypeError) as error:
            raise InputError(
                f"the guid ledger is damaged ({error})",
                path=path,
                hint="restore it from git (git checkout -- episodes/feedtool.lock); never edit guids by hand",
            ) from None
        return cls(path, recorded, entries)

    def assign(self, show: Show, episodes: list[Episode]) -> dict[str, str]:
        """The guid of each episode (slug -> guid), recording new ones; errors on any conflict."""
        present = {episode.slug for episode in episodes}
        by_guid = {guid: slug for slug, guid in self.recorded.items()}
        result: dict[str, str] = {}
        for episode in episodes:
            recorded = self.recorded.get(episode.slug)
            wanted = episode.guid or recorded or derive_guid(show, episode.slug)
            if recorded is not None and recorded != wanted:
                raise InputError(
                    f"guid {wanted!r} differs from {recorded!r}, the guid this episode was "
                    f"published with (recorded in {self.path.name})",
                    path=episode.source,
                    field="guid",
                    hint=f"put back 'guid: {recorded}': a changed guid makes every app download "
                    "the episode again as new",
                )
            owner = by_guid.get(wanted)
            if owner is not None and owner != episode.slug:
                if owner in present:
                    raise InputError(
                        f"guid {wanted!r} already belongs to episode folder '{owner}'",
                        path=episode.source,
                        field="guid",
                        hint="every episode needs its own guid",
                    )
                # The folder was renamed and the front matter keeps the old guid: move the record.
                del self.recorded[owner]
            self.recorded[episode.slug] = wanted
            by_guid[wanted] = episode.slug
            result[episode.slug] = wanted
        seen: dict[str, str] = {}
        for slug, guid in result.items():
            if guid in seen:
                raise InputError(
                    f"episodes '{seen[guid]}' and '{slug}' would share guid {guid!r}",
                    path=self.path.parent / slug,
                    field="guid",
                    hint="give one of them its own guid",
                )
            seen[guid] = slug
        return result

    @property
    def changed(self) -> bool:
        return self.recorded != self._original

    def save(self) -> None:
        """Write the ledger atomically (only called when something new was recorded)."""
        episodes: dict[str, object] = dict(sorted(self.recorded.items()))
        if self.entries:  # keep lock v2 entries whole, with their guid brought up to date
            episodes = {slug: {**self.entries.get(slug, {}), "guid": guid} for slug, guid in episodes.items()}
        data = {"note": _NOTE, "version": 2 if self.entries else 1, "episodes": episodes}
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        write_atomic(self.path, text.encode("utf-8"))
        self._original = dict(self.recorded)

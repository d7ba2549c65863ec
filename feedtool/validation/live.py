"""Compare a new feed with the live one: what subscribers would lose or download twice.

Apps know an episode by its guid (or, without one, by its enclosure URL). An episode whose guid
vanishes from the feed disappears from apps; an episode that comes back with another guid is
downloaded again as new. ``compare_feeds`` finds both. An old episode that is gone while a new
one appears with the same enclosure URL or the same title is the same
episode under another guid (a renamed episode folder, a lost lock file): that is ONE finding,
"the guid of <title> changed from X to Y", whose fix is to give it X again (with the source map of
a feedtool build: "put `guid: X` in episodes/<folder>/episode.md"). Only what remains is reported
as removed. `feedtool publish` calls it before replacing the live feed and refuses on any finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from feedtool.errors import FeedReadError, excerpt
from feedtool.validation.report import Finding
from feedtool.validation.xmlsafe import NotWellFormed, parse

if TYPE_CHECKING:
    from feedtool.validation.sourcemap import SourceMap


@dataclass(frozen=True, slots=True)
class Episode:
    index: int
    title: str
    guid: str  # "" when the item has none
    url: str  # enclosure URL, "" when none
    line: int | None

    @property
    def identity(self) -> str:
        """What apps know the episode by: its guid, else its enclosure URL."""
        return self.guid or self.url


def episodes(data: bytes, name: str) -> list[Episode]:
    """The episodes of a feed, in order, with what identifies them."""
    try:
        root = parse(data, name)
    except NotWellFormed as broken:
        raise FeedReadError(f"cannot compare: {broken.message}", path=name, line=broken.line) from None
    channel = root.find("channel")
    if channel is None:
        raise FeedReadError("cannot compare: the feed has no <channel>", path=name)
    found = []
    for index, item in enumerate(channel.iterfind("item")):
        enclosure = item.find("enclosure")
        found.append(Episode(
            index=index,
            title=(item.findtext("title") or "").strip(),
            guid=(item.findtext("guid") or "").strip(),
            url=((enclosure.get("url") or "").strip() if enclosure is not None else ""),
            line=item.sourceline,
        ))
    return found


def compare_feeds(old: bytes, new: bytes, *, old_name: str = "live feed", new_name: str = "new feed",
                  sources: SourceMap | None = None, old_pages: Sequence[bytes] = (),
                  new_pages: Sequence[bytes] = ()) -> list[Finding]:
    """Findings for episodes of ``old`` that ``new`` re-guids (live.guid.changed) or drops (live.episode.removed).

    ``sources`` is the new feed's source map (a feedtool build): the fix then names the episode.md.
    ``old_pages`` and ``new_pages`` are the RFC 5005 archive pages of each (feedtool.validation.archives):
    an episode that moved from the feed to an archive page is still there.
    """
    before = episodes(old, old_name) + [e for page in old_pages for e in episodes(page, f"{old_name} (archive)")]
    after = episodes(new, new_name) + _archived(new_pages, f"{new_name} (archive)")
    old_ids = {e.identity for e in before}
    new_ids = {e.identity for e in after}
    # a gone episode can only have become one that is new in this feed
    candidates = [e for e in after if e.identity and e.identity not in old_ids]
    taken: set[int] = set()
    findings: list[Finding] = []
    for old_episode in before:
        identity = old_episode.identity
        if not identity or identity in new_ids:
            continue
        match = _same_episode(old_episode, [e for e in candidates if e.index not in taken])
        if match is not None:
            taken.add(match.index)
            findings.append(_guid_changed(old_episode, match, sources))
        else:
            findings.append(_removed(old_episode))
    return findings


def _same_episode(old: Episode, candidates: list[Episode]) -> Episode | None:
    """The new episode that is ``old`` under another identity: same enclosure URL, else the only one
    with the same title. (Not the same enclosure length alone: two different episodes made from
    the same audio, or re-encoded at a constant bitrate, share it, and calling one the other
    would advise giving a new episode an old one's guid.)"""
    if old.url:
        for candidate in candidates:
            if candidate.url == old.url:
                return candidate
    if old.title:
        same = [c for c in candidates if c.title == old.title]
        if len(same) == 1:
            return same[0]
    return None


def _guid_changed(old: Episode, new: Episode, sources: SourceMap | None) -> Finding:
    from feedtool.validation.sourcemap import episode_of

    title = _title(new.title or old.title)
    before = old.guid or f"(none: apps knew it by its URL {old.url})"
    after = new.guid or "(none)"
    episode = episode_of(sources, new.guid)
    if not old.guid:
        fix = ("Keep the episode's enclosure URL as it was, or accept that apps will download it again "
               "(publish with --allow-removals).")
    elif episode is not None:
        fix = (f"Put `guid: {old.guid}` in {episode.path} (the guid it was published with), then build "
               "again; a new guid makes every app download the episode again.")
    else:
        fix = (f"Give the episode its published guid {old.guid} again; a new guid makes every app download "
               "the episode again.")
    if new.index >= _ARCHIVED:  # on an archive page: no position or line in the feed to point at
        return Finding.make(
            "live.guid.changed", f"the guid of {title} (now on an archive page) changed from {before} to {after}: "
            "apps would show it as a new episode and download it again", fix=fix, scope="live",
            item_title=new.title or None, item_guid=new.guid or None, subject="guid")
    return Finding.make(
        "live.guid.changed", f"the guid of {title} changed from {before} to {after}: apps would show it as a new "
        "episode and download it again", fix=fix, line=new.line, scope="item", item_index=new.index,
        item_title=new.title or None, item_guid=new.guid or None, subject="guid")


def _removed(old: Episode) -> Finding:
    shown = f"guid {old.guid}" if old.guid else f"enclosure {old.url}"
    return Finding.make(
        "live.episode.removed", f"{_title(old.title)} ({shown}) is in the live feed but not in the new one; it "
        "would disappear from subscribers' apps", scope="live", item_title=old.title or None,
        item_guid=old.guid or None, subject="item")


def _title(title: str) -> str:
    """An episode title for a message: quoted, short, control characters escaped."""
    return f"'{excerpt(title)}'" if title else "an untitled episode"


#: archive pages' episodes are numbered from here, after the feed's own
_ARCHIVED = 1_000_000


def _archived(pages: Sequence[bytes], name: str) -> list[Episode]:
    """The episodes of archive pages, numbered after the feed's own (a line would be one of the page:
    left out)."""
    found = [e for page in pages for e in episodes(page, name)]
    return [replace(e, index=_ARCHIVED + number, line=None) for number, e in enumerate(found)]

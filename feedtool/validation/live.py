"""Compare a new feed with the live one: what subscribers would lose or download twice.

Apps know an episode by its guid (or, without one, by its enclosure URL). An episode whose guid
vanishes from the feed disappears from apps; an episode that comes back with another guid is
downloaded again as new. ``compare_feeds`` finds both, matching an old episode to a new one by
enclosure URL, then by title. `feedtool publish` calls it before replacing the live feed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from feedtool.errors import FeedReadError
from feedtool.validation.report import Finding
from feedtool.validation.xmlsafe import NotWellFormed, parse


@dataclass(frozen=True, slots=True)
class Episode:
    index: int
    title: str
    guid: str  # "" when the item has none
    url: str  # enclosure URL, "" when none
    line: int | None


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
                  old_pages: Sequence[bytes] = (), new_pages: Sequence[bytes] = ()) -> list[Finding]:
    """Findings for episodes of ``old`` that ``new`` drops (live.episode.removed) or re-guids (live.guid.changed).

    ``old_pages`` and ``new_pages`` are the RFC 5005 archive pages of each (feedtool.validation.archives):
    an episode that moved from the feed to an archive page is still there.
    """
    before = episodes(old, old_name) + [e for page in old_pages for e in episodes(page, f"{old_name} (archive)")]
    after = episodes(new, new_name) + _archived(new_pages, f"{new_name} (archive)")
    new_ids = {e.guid or e.url for e in after}
    by_url = {e.url: e for e in after if e.url}
    titles: dict[str, list[Episode]] = {}
    for e in after:
        titles.setdefault(e.title, []).append(e)
    findings: list[Finding] = []
    for old_episode in before:
        identity = old_episode.guid or old_episode.url
        if not identity or identity in new_ids:
            continue
        match = by_url.get(old_episode.url) if old_episode.url else None
        if match is None and old_episode.title and len(titles.get(old_episode.title, ())) == 1:
            match = titles[old_episode.title][0]
        if match is not None and (match.guid or match.url) != identity:
            was = f"guid '{old_episode.guid}'" if old_episode.guid else f"no guid (apps used its URL {old_episode.url})"
            now = f"'{match.guid}'" if match.guid else "none"
            findings.append(Finding.make(
                "live.guid.changed",
                f"in the live feed this episode had {was}; the new feed gives it guid {now}",
                fix=(f"Restore <guid isPermaLink=\"false\">{old_episode.guid}</guid>; a new guid makes every app "
                     "download the episode again." if old_episode.guid else None),
                line=match.line, scope="item", item_index=match.index, item_title=match.title or None,
                item_guid=match.guid or None, subject="guid"))
        else:
            shown = old_episode.guid or old_episode.url
            findings.append(Finding.make(
                "live.episode.removed",
                f"'{old_episode.title or '(untitled)'}' ({shown}) is in the live feed but not in the new one; "
                "it would disappear from subscribers' apps",
                scope="live", item_title=old_episode.title or None, item_guid=old_episode.guid or None,
                subject="item"))
    return findings


def _archived(pages: Sequence[bytes], name: str) -> list[Episode]:
    """The episodes of archive pages, numbered after the feed's own (findings point at the feed)."""
    found = [e for page in pages for e in episodes(page, name)]
    return [replace(e, index=1_000_000 + number) for number, e in enumerate(found)]

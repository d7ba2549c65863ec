"""Plan a publish: what to upload, skip, delete and keep, decided before anything changes.

Everything that would make publish refuse is found here, before the first byte is sent: a feed
that references a file nobody has, episodes that would vanish from the live feed, more
deletions than allowed. The plan also remembers the live feed as it was read, so the feed is
only replaced if it is still that one (feedtool.publish.apply).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from feedtool.errors import InputError, RefusedError, excerpt
from feedtool.publish.local import LocalFile
from feedtool.publish.references import feed_references
from feedtool.publish.splices import Splice
from feedtool.publish.state import (
    REFERENCES_KEY,
    FeedRecord,
    Inventory,
    protected_keys,
    read_references,
    take_inventory,
)
from feedtool.storage import RemoteObject

#: Deletions allowed without --yes when podcast.yaml does not say.
DEFAULT_MAX_DELETES = 10
#: How long an object that a feed stopped referencing stays on the target (subscribers and
#: caches hold the old feed for a while; apps fetch its enclosures later still).
DEFAULT_GRACE = timedelta(days=7)
#: Files at the top of a target that belong to the web host, not to the show: never deleted
#: (hidden names like .git, .htaccess and .well-known are never even listed).
HOST_FILES = frozenset({"CNAME", "_headers", "_redirects", "robots.txt", "favicon.ico"})
#: The findings of compare_feeds that stop a publish unless --allow-removals.
BLOCKING_LIVE_RULES = ("live.episode.removed", "live.guid.changed")


@dataclass(frozen=True)
class Upload:
    file: LocalFile
    reason: str  # new | missing | changed | changed on the target | headers


@dataclass(frozen=True)
class Retag:
    """A tagged copy to make on the target from an earlier one (feedtool.publish.splices)."""

    splice: Splice
    reason: str  # new | missing | changed (on the target with another size)


@dataclass(frozen=True)
class Kept:
    """An object no longer in public/ that a recently live feed still references."""

    key: str
    size: int
    until: datetime | None  # None: a live feed references it


@dataclass(frozen=True)
class LiveFeed:
    """A feed on the target as the plan read it (data None: there was none).

    ``pages`` are the RFC 5005 archive pages behind it that the removal guard read (key -> bytes):
    what they reference is what the live feed references too (``references()``).
    """

    key: str
    data: bytes | None
    etag: str | None
    pages: dict[str, bytes] = field(default_factory=dict)

    @property
    def sha256(self) -> str | None:
        return hashlib.sha256(self.data).hexdigest() if self.data is not None else None

    def references(self) -> set[str]:
        """The keys the live feed and its archive pages reference (nothing when there was none)."""
        if self.data is None:
            return set()
        return feed_references(self.data, self.key, read_side_file=self.pages.get)


@dataclass
class Plan:
    """What publishing would do; ``apply_plan`` does exactly this."""

    target: str
    uploads: list[Upload]  # assets first, feeds last
    skips: list[LocalFile]
    deletes: list[RemoteObject]
    live_findings: list[Any]
    local: dict[str, LocalFile]
    remote: dict[str, RemoteObject]
    inventory: Inventory | None = None
    kept: list[Kept] = field(default_factory=list)
    needs_yes: bool = False  # a dry run above the deletion limit
    max_deletes: int = DEFAULT_MAX_DELETES
    live: dict[str, LiveFeed] = field(default_factory=dict)  # feeds to replace, as read
    references: dict[str, set[str]] = field(default_factory=dict)  # new feed -> keys it references
    history: list[FeedRecord] = field(default_factory=list)
    retags: list[Retag] = field(default_factory=list)  # splices to make, before any feed
    splice_skips: list[Splice] = field(default_factory=list)  # splices already on the target

    @property
    def asset_uploads(self) -> list[Upload]:
        return [u for u in self.uploads if u.file.kind != "feed"]

    @property
    def feed_uploads(self) -> list[Upload]:
        return [u for u in self.uploads if u.file.kind == "feed"]

    @property
    def referenced(self) -> set[str]:
        return set().union(*self.references.values()) if self.references else set()

    @property
    def upload_bytes(self) -> int:
        return sum(u.file.size for u in self.uploads)

    @property
    def skip_bytes(self) -> int:
        return sum(f.size for f in self.skips) + sum(s.size for s in self.splice_skips)

    @property
    def skip_count(self) -> int:
        return len(self.skips) + len(self.splice_skips)

    @property
    def delete_bytes(self) -> int:
        return sum(d.size for d in self.deletes)


def check_against_live(old: bytes, new: bytes, *, allow_removals: bool = False,
                       old_read: Callable[[str], bytes | None] | None = None,
                       new_read: Callable[[str], bytes | None] | None = None,
                       new_path: Path | None = None) -> list[Any]:
    """Findings about episodes that would disappear or change guid if ``new`` replaced ``old``.

    ``old_read``/``new_read`` read RFC 5005 archive pages (feedtool.validation.archives): episodes that
    moved to an archive page are not lost. ``new_path`` is the built feed's file: its source map lets a
    finding name the episode.md. A live feed (or archive page) that cannot be read cannot be checked:
    that refuses too, unless allowed.
    """
    from feedtool.errors import FeedReadError
    from feedtool.validation.archives import pages_for_compare
    from feedtool.validation.live import compare_feeds
    from feedtool.validation.sourcemap import load_source_map

    try:
        old_pages = pages_for_compare(old, "the live feed", old_read) if old_read else []
        new_pages = pages_for_compare(new, "the new feed", new_read) if new_read else []
        sources = load_source_map(new_path, new) if new_path is not None else None
        findings = compare_feeds(old, new, sources=sources, old_pages=old_pages, new_pages=new_pages)
    except FeedReadError as error:
        if allow_removals:
            return []
        raise RefusedError(
            f"the live feed on the target cannot be read ({error.message}), so it cannot be checked "
            "against the new one; nothing was published",
            hint="pass --allow-removals to replace it anyway",
        ) from error
    return [f for f in findings if f.rule in BLOCKING_LIVE_RULES]


def _upload_reason(file: LocalFile, existing: RemoteObject | None, inventory: Inventory) -> str | None:
    if existing is None:
        return "missing" if file.key in inventory.manifest.objects else "new"
    if existing.sha256 != file.sha256 or existing.size != file.size:
        recorded = inventory.manifest.objects.get(file.key)
        if recorded is not None and recorded.sha256 == file.sha256 and recorded.size == file.size:
            return "changed on the target"
        return "changed"
    if (existing.content_type and existing.content_type != file.headers.content_type) or (
        existing.cache_control and existing.cache_control != file.headers.cache_control
    ):
        return "headers"
    return None


def _references(local: dict[str, LocalFile], remote: dict[str, RemoteObject],
                coming: set[str]) -> dict[str, set[str]]:
    """What each feed of public/ references; refuses a reference nobody can serve (``coming``:
    the copies this publish makes on the target)."""
    def side_file(key: str) -> bytes | None:
        file = local.get(key)
        return file.path.read_bytes() if file is not None else None

    references: dict[str, set[str]] = {}
    for key, file in local.items():
        if file.kind != "feed":
            continue
        keys = feed_references(file.path.read_bytes(), key, read_side_file=side_file)
        nowhere = sorted(k for k in keys if k not in local and k not in remote and k not in coming)
        if nowhere:
            shown = ", ".join(excerpt(k, 80) for k in nowhere[:5]) + (" ..." if len(nowhere) > 5 else "")
            raise InputError(
                f"{key} references {len(nowhere)} file(s) that are neither in public/ nor on the target: {shown}; "
                "nothing was published",
                path=file.path,
                hint="run `feedtool build` again (public/ is incomplete), or remove the references",
            )
        references[key] = keys
    return references


#: The most an archive page may weigh when the removal guard reads it from public/.
MAX_PAGE_BYTES = 100 * 1024 * 1024


def _check_feed(live: LiveFeed, file: LocalFile, target: Any, *, allow_removals: bool) -> list[Any]:
    """check_against_live for one feed about to replace ``live``, archive pages on both sides.

    The live feed's pages are read from the target (and kept in ``live.pages``: the grace period
    protects what they reference); the new feed's pages from public/, where build wrote them.
    """
    from feedtool.validation.archives import links, local_reader, target_reader

    assert live.data is not None

    def get_page(key: str) -> bytes | None:
        fetched = target.get(key)
        if fetched is not None:
            live.pages[key] = fetched.data
        return fetched.data if fetched is not None else None

    data = file.path.read_bytes()
    head = data.find(b"<item")
    paged = b"prev-archive" in (data if head == -1 else data[:head])
    self_url = (links(data, file.key).get("self") or "") if paged else ""
    return check_against_live(
        live.data, data, allow_removals=allow_removals,
        old_read=target_reader(get_page, live.data, file.key),
        new_read=local_reader(file.path.parent, self_url.rsplit("/", 1)[0] + "/", max_bytes=MAX_PAGE_BYTES),
        new_path=file.path)


def make_plan(
    local: dict[str, LocalFile],
    target: Any,
    *,
    delete: bool = False,
    max_deletes: int = DEFAULT_MAX_DELETES,
    yes: bool = False,
    allow_removals: bool = False,
    check_remote: bool = False,
    dry_run: bool = False,
    grace: timedelta = DEFAULT_GRACE,
    now: datetime | None = None,
    splices: dict[str, Splice] | None = None,
) -> Plan:
    """Compare public/ with the target and decide; refuses (RefusedError) before anything changes."""
    from datetime import UTC

    now = now or datetime.now(UTC)
    if not any(f.kind == "feed" for f in local.values()):
        raise InputError("public/ has no feed (an .xml file at its top)", hint="run `feedtool build` first")
    inventory = take_inventory(target, check_content=check_remote)
    remote = inventory.objects
    uploads: list[Upload] = []
    skips: list[LocalFile] = []
    for key, file in local.items():
        reason = _upload_reason(file, remote.get(key), inventory)
        if reason is None:
            skips.append(file)
        else:
            uploads.append(Upload(file, reason))
    # Assets before feeds; big files first so the transfer manager keeps every connection busy.
    uploads.sort(key=lambda u: (u.file.kind == "feed", -u.file.size, u.file.key))
    splices = {key: splice for key, splice in (splices or {}).items() if key not in local}  # public/ wins
    retags, splice_skips = plan_retags(splices, remote, inventory, target.description)
    # What the feeds reference matters only when a feed goes live or something may be deleted;
    # a no-change publish does not parse a 12 MB feed.
    references = (_references(local, remote, set(splices))
                  if delete or any(u.file.kind == "feed" for u in uploads) else {})

    findings: list[Any] = []
    live: dict[str, LiveFeed] = {}
    for upload in uploads:
        if upload.file.kind != "feed":
            continue
        fetched = target.get(upload.file.key)
        live[upload.file.key] = feed = LiveFeed(upload.file.key, fetched.data if fetched else None,
                                                fetched.etag if fetched else None)
        if fetched is not None:
            findings.extend(_check_feed(feed, upload.file, target, allow_removals=allow_removals))

    plan = Plan(target=target.description, uploads=uploads, skips=skips, deletes=[], live_findings=findings,
                local=local, remote=remote, inventory=inventory, max_deletes=max_deletes, live=live,
                references=references, retags=retags, splice_skips=splice_skips)
    fetched_history = target.get(REFERENCES_KEY)
    plan.history = read_references(fetched_history.data if fetched_history else None)
    if findings and not allow_removals:
        lines = "\n".join(f"  {f.rule}: {f.message}\n    -> {f.fix}" for f in findings[:20])
        more = f"\n  ... and {len(findings) - 20} more" if len(findings) > 20 else ""
        raise RefusedError(
            f"the new feed would hurt subscribers of the live one at {target.description}; nothing was published:\n"
            f"{lines}{more}",
            hint="do what each finding says (->), then publish again; only if an episode was taken down on "
                 "purpose, run again with --allow-removals",
        )
    if delete:
        _plan_deletions(plan, target, grace=grace, now=now)
        if len(plan.deletes) > max_deletes and not yes:
            if not dry_run:
                raise RefusedError(
                    f"publishing would delete {len(plan.deletes)} objects from {target.description}, "
                    f"more than the limit of {max_deletes}",
                    hint="check the plan with --dry-run, then pass --yes "
                         "(or raise publish.max_deletes in podcast.yaml)",
                )
            plan.needs_yes = True
    return plan


def plan_retags(splices: dict[str, Splice], remote: dict[str, RemoteObject], inventory: Inventory,
                where: str) -> tuple[list[Retag], list[Splice]]:
    """Which splices to make and which are already on the target (with their size: an earlier run
    made them). Refuses, before anything changes, a splice whose source is not on the target
    with the size it was made from: the copy cannot be made there."""
    retags: list[Retag] = []
    skips: list[Splice] = []
    unusable: list[str] = []
    for key, splice in sorted(splices.items()):
        existing = remote.get(key)
        if existing is not None and existing.size == splice.size:
            skips.append(splice)
            continue
        source = remote.get(splice.source_key)
        if source is None or source.size != splice.source_size:
            found = "is not on the target" if source is None else f"has {source.size} bytes, not {splice.source_size}"
            unusable.append(f"{excerpt(key, 80)} (from {excerpt(splice.source_key, 80)}, which {found})")
            continue
        reason = "changed" if existing is not None else (
            "missing" if key in inventory.manifest.objects else "new")
        retags.append(Retag(splice, reason))
    if unusable:
        shown = "\n  ".join(unusable[:10]) + (f"\n  ... and {len(unusable) - 10} more" if len(unusable) > 10 else "")
        raise InputError(
            f"{len(unusable)} re-tagged copy(ies) cannot be made on {where}: the earlier copy each is made "
            f"from is not on the target (or has another size); nothing was published:\n  {shown}",
            hint="put the master back in the episode folder, or name it with an https:// or s3:// address in "
                 "audio:, and build again",
        )
    # Big ones first, like uploads.
    retags.sort(key=lambda r: (-r.splice.size, r.splice.key))
    return retags, skips


def _plan_deletions(plan: Plan, target: Any, *, grace: timedelta, now: datetime) -> None:
    """Objects no longer in public/: deleted, unless a feed live within the grace period references them."""
    built = set(plan.local) | {r.splice.key for r in plan.retags} | {s.key for s in plan.splice_skips}
    candidates = sorted(key for key in plan.remote if key not in built and key not in HOST_FILES)
    if not candidates:
        return
    replacing = {key for key, live in plan.live.items() if live.data is not None}
    history = [replace(record, live_until=now)
               if record.feed in replacing and record.live_until is None else record
               for record in plan.history]  # the live feeds about to be replaced stop being live now
    protected = protected_keys(history, now=now, grace=grace)
    for live in plan.live.values():  # the feeds about to be replaced: kept for the grace period
        if live.data is not None and grace > timedelta(0):
            for referenced in live.references():
                if referenced not in protected:
                    protected[referenced] = now + grace
                elif (until := protected[referenced]) is not None:
                    protected[referenced] = max(until, now + grace)
    for key in plan.referenced:
        protected[key] = None
    for key in candidates:
        obj = plan.remote[key]
        if key in protected:
            plan.kept.append(Kept(key, obj.size, protected[key]))
        else:
            plan.deletes.append(obj)

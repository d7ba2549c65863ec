"""The target's own state under ``.feedtool/``: the manifest and the reference history.

The manifest (``.feedtool/manifest.json``) remembers, per object, the sha256 of its bytes, its
size, headers and the ETag the service gave it when feedtool wrote it. Reading it is one GET;
HEADing 6,000 objects for their metadata would be 6,000 requests. What the manifest says is
never trusted on its own: every publish also lists the target once (sizes and ETags of every
object), so an object deleted by hand is uploaded again, and ``--check-remote`` compares ETags
too, so an object overwritten behind feedtool's back (even with the same size) is found.
Entries keep keys this version does not know, and write them back unchanged.

The reference history (``.feedtool/references.json``) records which objects each published feed
referenced and while it was live, so ``--delete`` keeps whatever a feed that subscribers may
still hold (live within the grace period) points at.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from feedtool.storage import META_DIR, ListedObject, ObjectHeaders, RemoteObject, is_hidden

REFERENCES_KEY = f"{META_DIR}/references.json"
#: The manifest entry keys this version reads; any other key of an entry is kept as it is.
_ENTRY_KEYS = ("sha256", "size", "content_type", "cache_control", "etag")
_STATE_HEADERS = ObjectHeaders("application/json", "no-cache", "other")


# --------------------------------------------------------------------------------------------
# Manifest


@dataclass
class Manifest:
    objects: dict[str, RemoteObject] = field(default_factory=dict)
    complete: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # top-level keys of later versions


def manifest_bytes(manifest: Manifest) -> bytes:
    """The manifest as deterministic JSON (unknown keys written back as they were read)."""
    body: dict[str, Any] = dict(manifest.extra)
    body.update({
        "format": "feedtool-manifest",
        "version": 2,
        "complete": manifest.complete,
        "objects": {
            key: {**obj.extra, "sha256": obj.sha256, "size": obj.size, "content_type": obj.content_type,
                  "cache_control": obj.cache_control, **({"etag": obj.etag} if obj.etag else {})}
            for key, obj in sorted(manifest.objects.items())
        },
    })
    return json.dumps(body, indent=1, sort_keys=True).encode() + b"\n"


def read_manifest(data: bytes | None) -> Manifest:
    """The manifest; an unreadable or foreign one counts as empty and incomplete."""
    if not data:
        return Manifest()
    try:
        body = json.loads(data)
        if not isinstance(body, dict) or body.get("format") != "feedtool-manifest":
            return Manifest()
        objects = {
            key: RemoteObject(
                key=key,
                size=int(entry["size"]),
                sha256=entry.get("sha256"),
                content_type=entry.get("content_type"),
                cache_control=entry.get("cache_control"),
                etag=entry.get("etag"),
                extra={k: v for k, v in entry.items() if k not in _ENTRY_KEYS},
            )
            for key, entry in body["objects"].items()
            if isinstance(key, str) and isinstance(entry, dict) and not is_hidden(key)
        }
        extra = {k: v for k, v in body.items() if k not in ("format", "version", "complete", "objects")}
        return Manifest(objects, body.get("complete") is True, extra)
    except (ValueError, KeyError, TypeError, AttributeError):
        return Manifest()


def reconcile(
    listed: Mapping[str, ListedObject],
    manifest: Mapping[str, RemoteObject],
    fetch: Callable[[list[str]], dict[str, RemoteObject]],
    *,
    check_content: bool = False,
) -> dict[str, RemoteObject]:
    """What the target holds: the listing says what exists, the manifest what it holds.

    A manifest entry is taken when its size matches the listing (and, with ``check_content``,
    when the ETag it recorded is the listing's: a different ETag means other bytes). Other keys
    are looked up with ``fetch`` (HEAD for the sha256 metadata on S3, hashing in a folder).
    Objects the manifest knows but the listing lacks are not there: they will be uploaded.
    """
    result: dict[str, RemoteObject] = {}
    unknown: list[str] = []
    for key, item in listed.items():
        known = manifest.get(key)
        # A copy made on the target from an earlier one (a splice) has no sha256 when its bytes
        # were copied inside the bucket; how it was made stands in for it.
        trusted = known is not None and known.size == item.size and (bool(known.sha256) or
                                                                     "made_from" in known.extra)
        if trusted and check_content:
            trusted = known is not None and known.etag is not None and known.etag == item.etag
        if trusted and known is not None:
            result[key] = known
        else:
            unknown.append(key)
    if unknown:
        fetched = fetch(unknown)
        for key in unknown:
            found = fetched.get(key)
            item = listed[key]
            if found is None:
                result[key] = RemoteObject(key=key, size=item.size, etag=item.etag)
            else:
                old = manifest.get(key)
                extra = old.extra if old is not None and old.sha256 == found.sha256 else {}
                result[key] = replace(found, etag=found.etag or item.etag, extra=extra)
    return result


def head_many(target: Any, keys: list[str]) -> dict[str, RemoteObject]:
    """HEAD each key (on a few threads): only for keys the manifest cannot vouch for."""
    with ThreadPoolExecutor(max_workers=16) as pool:
        found = list(pool.map(target.head, keys))
    return {obj.key: obj for obj in found if obj is not None}


@dataclass
class Inventory:
    """One listing of the target, the manifest read with it, and what each object holds."""

    listed: dict[str, ListedObject]  # every object, feedtool's own under .feedtool/ included
    manifest: Manifest
    objects: dict[str, RemoteObject]  # the published objects (no hidden names)


def take_inventory(target: Any, *, check_content: bool = False) -> Inventory:
    """Read the manifest, list the target once, and reconcile the two."""
    fetched = target.get(f"{META_DIR}/manifest.json")
    manifest = read_manifest(fetched.data if fetched else None)
    listed = target.list()
    published = {key: item for key, item in listed.items() if not is_hidden(key)}
    objects = reconcile(published, manifest.objects, lambda keys: head_many(target, keys),
                        check_content=check_content)
    return Inventory(listed, manifest, objects)


def write_manifest(target: Any, manifest: Manifest) -> None:
    from feedtool.storage import MANIFEST_KEY

    target.put_bytes(MANIFEST_KEY, manifest_bytes(manifest), _STATE_HEADERS)


# --------------------------------------------------------------------------------------------
# Reference history


@dataclass
class FeedRecord:
    """One version of a feed that was live: what it referenced, and from when until when."""

    feed: str  # its key, e.g. feed.xml
    sha256: str | None
    live_from: datetime | None  # None: before feedtool kept a history
    live_until: datetime | None  # None: still live
    keys: frozenset[str]
    extra: dict[str, Any] = field(default_factory=dict)


def read_references(data: bytes | None) -> list[FeedRecord]:
    if not data:
        return []
    try:
        body = json.loads(data)
        if not isinstance(body, dict) or body.get("format") != "feedtool-references":
            return []
        records = []
        for entry in body.get("feeds", []):
            records.append(FeedRecord(
                feed=str(entry["feed"]),
                sha256=entry.get("sha256"),
                live_from=_time(entry.get("live_from")),
                live_until=_time(entry.get("live_until")),
                keys=frozenset(str(k) for k in entry.get("keys", [])),
                extra={k: v for k, v in entry.items()
                       if k not in ("feed", "sha256", "live_from", "live_until", "keys")},
            ))
        return records
    except (ValueError, KeyError, TypeError, AttributeError):
        return []


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def references_bytes(records: Iterable[FeedRecord]) -> bytes:
    feeds = [
        {**record.extra, "feed": record.feed, "sha256": record.sha256,
         "live_from": record.live_from.isoformat() if record.live_from else None,
         "live_until": record.live_until.isoformat() if record.live_until else None,
         "keys": sorted(record.keys)}
        for record in records
    ]
    return json.dumps({"format": "feedtool-references", "version": 1, "feeds": feeds},
                      indent=1, sort_keys=True).encode() + b"\n"


def protected_keys(records: Iterable[FeedRecord], *, now: datetime, grace: timedelta) -> dict[str, datetime | None]:
    """key -> until when it must stay (None: a live feed references it)."""
    kept: dict[str, datetime | None] = {}
    for record in records:
        if record.live_until is None:
            until = None
        elif record.live_until + grace > now:
            until = record.live_until + grace
        else:
            continue
        for key in record.keys:
            if key not in kept:
                kept[key] = until
            elif until is None:
                kept[key] = None
            elif kept[key] is not None:
                kept[key] = max(kept[key], until)  # type: ignore[type-var]
    return kept


def record_replacement(records: list[FeedRecord], *, feed: str, sha256: str, keys: frozenset[str],
                       replaced_keys: frozenset[str] | None, replaced_sha256: str | None,
                       now: datetime, grace: timedelta) -> list[FeedRecord]:
    """The history after ``feed`` went live with ``keys``; records older than the grace period go.

    ``replaced_keys`` are the references of the feed it replaced (read from the live feed), so a
    target published before feedtool kept this history still protects what its live feed held.
    """
    updated: list[FeedRecord] = []
    found_replaced = False
    for record in records:
        if record.feed == feed and record.live_until is None:
            record = replace(record, live_until=now)
            found_replaced = True
        if record.live_until is not None and record.live_until + grace <= now:
            continue  # nobody can hold this feed any more
        updated.append(record)
    if not found_replaced and replaced_keys:
        updated.append(FeedRecord(feed, replaced_sha256, None, now, replaced_keys))
    updated.append(FeedRecord(feed, sha256, now, None, keys))
    return updated

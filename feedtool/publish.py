"""Publish public/ to a target: plan what changed (by content hash), then apply in a safe order.

Why hashes: a fresh CI checkout gives every file a new mtime (``aws s3 sync`` then re-uploads
everything) and an S3 ETag is not an MD5 after a multipart upload. So every object carries the
sha256 of its bytes (object metadata + the target's manifest), and a re-publish compares those.

Why the order: podcast apps fetch the feed and then whatever it points at. Media, artwork,
chapters and transcripts go up first; the feed only after all of them arrived and were checked;
deletions (only when asked) come after the feed, so the live feed never points at a missing file.
Before the feed is replaced the live one is read: a publish that would make episodes disappear or
guids change is refused unless allowed, and the previous feed is kept under
``.feedtool/feeds/``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from feedtool.errors import FeedtoolError, InputError, RefusedError, StorageError
from feedtool.files import sha256_file
from feedtool.storage import (
    FEED_HISTORY_DIR,
    FEED_HISTORY_KEEP,
    PLAIN_NAME,
    ObjectHeaders,
    RemoteObject,
    check_relative_key,
    headers_for,
)

#: Files at least this big are hashed on a thread pool (hashlib releases the GIL on big blocks).
BIG_FILE_SIZE = 256 * 1024
#: Uploads queued at once (the transfer manager runs S3_CONCURRENCY of them in parallel).
UPLOAD_WINDOW = 256
#: Deletions allowed without --yes when podcast.yaml does not say.
DEFAULT_MAX_DELETES = 10


# --------------------------------------------------------------------------------------------
# Local files


@dataclass(frozen=True)
class LocalFile:
    """One file of public/ as it will be published."""

    key: str  # relative to public/ and to the target prefix, '/'-separated
    path: Path
    size: int
    sha256: str
    headers: ObjectHeaders
    mtime_ns: int

    @property
    def kind(self) -> str:
        return self.headers.kind


class HashCache:
    """sha256 of files keyed by absolute path and (size, mtime, inode), kept in a JSON file.

    Only a speed-up for re-publishing from the same checkout: one JSON read instead of reading
    every file again. A fresh clone has no cache (and new mtimes and inodes anyway), so it hashes
    everything once; that is what keeps "nothing changed" true in CI.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, list[Any]] = {}
        self.changed = False
        self.seen: set[str] = set()
        self._lock = threading.Lock()
        if path is not None and path.is_file():
            try:
                loaded = json.loads(path.read_text())
                if isinstance(loaded, dict) and loaded.get("version") == 1:
                    self.entries = dict(loaded.get("files", {}))
            except (ValueError, OSError):
                self.entries = {}

    def digest(self, name: str, stat: os.stat_result) -> str:
        """The sha256 of the file at absolute path ``name`` (whose ``stat`` the caller has)."""
        stamp = [stat.st_size, stat.st_mtime_ns, stat.st_ino]
        cached = self.entries.get(name)
        with self._lock:
            self.seen.add(name)
        if cached and cached[:3] == stamp:
            return str(cached[3])
        digest = sha256_file(Path(name))
        with self._lock:
            self.entries[name] = [*stamp, digest]
            self.changed = True
        return digest

    def save(self) -> None:
        """Write the cache (only the files seen this time) if anything changed."""
        if self.path is None:
            return
        gone = set(self.entries) - self.seen
        for name in gone:
            del self.entries[name]
        if not (self.changed or gone):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(json.dumps({"version": 1, "files": self.entries}, sort_keys=True))
            os.replace(tmp, self.path)
        except OSError:
            pass  # a cache that cannot be written only costs time next run


def scan_public(out_dir: Path, cache: HashCache | None = None) -> dict[str, LocalFile]:
    """Every publishable file under public/ with its sha256 and headers, sorted by key.

    Hidden files (``.DS_Store``, build markers) are left out. A symlink that leads outside
    public/ is refused: it would publish a file nobody meant to publish. Small files are hashed
    in this thread (3,000 of them take a fraction of a second; threads would only fight over the
    GIL); big ones on a small pool, where hashlib and file reads release the GIL.
    """
    if not out_dir.is_dir():
        raise InputError(f"{out_dir} does not exist", hint="run `feedtool build` first")
    cache = cache or HashCache(None)
    root = out_dir.resolve()
    files: list[LocalFile] = []
    big: list[tuple[str, Path, os.stat_result]] = []

    def visit(folder: str, prefix: str) -> None:
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.name.startswith("."):
                    continue
                key = prefix + entry.name
                if not PLAIN_NAME.match(entry.name):
                    check_relative_key(key)  # raises with a message that names the problem
                if entry.is_dir():  # follows links to folders; checked below like files
                    if entry.is_symlink():
                        _check_inside(Path(entry.path), root, out_dir)
                    visit(entry.path, key + "/")
                    continue
                path = Path(entry.path)
                if entry.is_symlink():
                    _check_inside(path, root, out_dir)
                stat = entry.stat()
                if stat.st_size >= BIG_FILE_SIZE:
                    big.append((key, path, stat))
                else:
                    files.append(_local_file(key, path, stat, cache.digest(entry.path, stat)))

    visit(os.path.abspath(out_dir), "")
    if big:
        with ThreadPoolExecutor(max_workers=4) as pool:
            digests = list(pool.map(lambda item: cache.digest(str(item[1]), item[2]), big))
        files.extend(_local_file(key, path, stat, digest)
                     for (key, path, stat), digest in zip(big, digests, strict=True))
    cache.save()
    return {f.key: f for f in sorted(files, key=lambda f: f.key)}


def _local_file(key: str, path: Path, stat: os.stat_result, digest: str) -> LocalFile:
    return LocalFile(key=key, path=path, size=stat.st_size, sha256=digest, headers=headers_for(key),
                     mtime_ns=stat.st_mtime_ns)


def _check_inside(path: Path, root: Path, out_dir: Path) -> None:
    real = path.resolve()
    if not real.is_relative_to(root):
        raise InputError(
            f"{path} is a link to {real}, outside {out_dir}",
            path=path,
            hint="copy the file into public/ or remove the link",
        )


#: The findings of compare_feeds that stop a publish unless --allow-removals.
BLOCKING_LIVE_RULES = ("live.episode.removed", "live.guid.changed")


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


# --------------------------------------------------------------------------------------------
# Plan


@dataclass(frozen=True)
class Upload:
    file: LocalFile
    reason: str  # new | changed | headers


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
    manifest: dict[str, RemoteObject] = field(default_factory=dict)  # as read from the target

    @property
    def asset_uploads(self) -> list[Upload]:
        return [u for u in self.uploads if u.file.kind != "feed"]

    @property
    def feed_uploads(self) -> list[Upload]:
        return [u for u in self.uploads if u.file.kind == "feed"]

    @property
    def upload_bytes(self) -> int:
        return sum(u.file.size for u in self.uploads)

    @property
    def skip_bytes(self) -> int:
        return sum(f.size for f in self.skips)

    @property
    def delete_bytes(self) -> int:
        return sum(d.size for d in self.deletes)


def make_plan(
    local: dict[str, LocalFile],
    target: Any,
    *,
    delete: bool = False,
    max_deletes: int = DEFAULT_MAX_DELETES,
    yes: bool = False,
    allow_removals: bool = False,
    check_remote: bool = False,
) -> Plan:
    """Compare public/ with the target and decide; refuses (RefusedError) before anything changes."""
    if not any(f.kind == "feed" for f in local.values()):
        raise InputError("public/ has no feed (an .xml file at its top)", hint="run `feedtool build` first")
    remote = target.inventory(check_remote=check_remote)
    uploads: list[Upload] = []
    skips: list[LocalFile] = []
    for key, file in local.items():
        existing = remote.get(key)
        if existing is None:
            uploads.append(Upload(file, "new"))
        elif existing.sha256 != file.sha256 or existing.size != file.size:
            uploads.append(Upload(file, "changed"))
        elif (existing.content_type and existing.content_type != file.headers.content_type) or (
            existing.cache_control and existing.cache_control != file.headers.cache_control
        ):
            uploads.append(Upload(file, "headers"))
        else:
            skips.append(file)
    # Assets before feeds; big files first so the transfer manager keeps every connection busy.
    uploads.sort(key=lambda u: (u.file.kind == "feed", -u.file.size, u.file.key))

    deletes = [remote[key] for key in sorted(remote) if key not in local] if delete else []
    if len(deletes) > max_deletes and not yes:
        raise RefusedError(
            f"publishing would delete {len(deletes)} objects from {target.description}, "
            f"more than the limit of {max_deletes}",
            hint="check the plan with --dry-run, then pass --yes (or raise publish.max_deletes in podcast.yaml)",
        )

    findings: list[Any] = []
    for upload in uploads:
        if upload.file.kind == "feed" and upload.reason == "changed":
            live = target.get_bytes(upload.file.key)
            if live is not None:
                from feedtool.validation.archives import links, local_reader, target_reader

                data = upload.file.path.read_bytes()
                self_url = links(data, upload.file.key).get("self") or "" if b"prev-archive" in data else ""
                findings.extend(check_against_live(
                    live, data, allow_removals=allow_removals,
                    old_read=target_reader(target.get_bytes, live, upload.file.key),
                    new_read=local_reader(upload.file.path.parent, self_url.rsplit("/", 1)[0] + "/",
                                          max_bytes=100 * 1024 * 1024),
                    new_path=upload.file.path))
    plan = Plan(
        target=target.description, uploads=uploads, skips=skips, deletes=deletes,
        live_findings=findings, local=local, remote=remote,
        manifest=dict(getattr(target, "last_manifest", {}) or {}),
    )
    if findings and not allow_removals:
        lines = "\n".join(f"  {f.rule}: {f.message}\n    -> {f.fix}" for f in findings[:20])
        more = f"\n  ... and {len(findings) - 20} more" if len(findings) > 20 else ""
        raise RefusedError(
            f"the new feed would hurt subscribers of the live one at {target.description}; nothing was published:\n"
            f"{lines}{more}",
            hint="do what each finding says (->), then publish again; only if an episode was taken down on "
                 "purpose, run again with --allow-removals",
        )
    return plan


# --------------------------------------------------------------------------------------------
# Progress


class ProgressMeter:
    """A one-line progress display on a terminal: files, bytes, rate. Silent when disabled."""

    def __init__(self, total_files: int, total_bytes: int, *, enabled: bool, stream: TextIO | None = None) -> None:
        self.total_files = total_files
        self.total_bytes = total_bytes
        self.enabled = enabled and total_files > 0
        self.stream = stream or sys.stderr
        self.files = 0
        self.bytes = 0
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self.enabled:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()

    def add_bytes(self, count: int) -> None:
        with self._lock:
            self.bytes += count

    def file_done(self) -> None:
        with self._lock:
            self.files += 1

    def _line(self) -> str:
        elapsed = max(time.monotonic() - self._start, 1e-6)
        return (
            f"\r  {self.files}/{self.total_files} files  {human_size(self.bytes)} of {human_size(self.total_bytes)}"
            f"  {human_size(int(self.bytes / elapsed))}/s   "
        )

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self.stream.write(self._line())
            self.stream.flush()

    def close(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self.stream.write(self._line() + "\n")
            self.stream.flush()


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


# --------------------------------------------------------------------------------------------
# Apply


@dataclass
class ApplyResult:
    uploaded: list[Upload] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    previous_feeds: dict[str, str] = field(default_factory=dict)  # feed key -> kept copy
    range_checked: str | None = None
    range_status: int | None = None
    uploaded_bytes: int = 0


def _still_same(file: LocalFile) -> bool:
    """Did the file stay as it was when it was planned (size, mtime and sha256)?"""
    try:
        stat = file.path.stat()
    except OSError:
        return False
    if stat.st_size != file.size or stat.st_mtime_ns != file.mtime_ns:
        return False
    return sha256_file(file.path) == file.sha256


def _changed_during_upload(file: LocalFile) -> StorageError:
    return StorageError(
        f"{file.path} changed while it was being uploaded; the feed was not replaced",
        path=file.path,
        hint="let the build finish, then publish again (only what is missing will be uploaded)",
    )


def apply_plan(
    plan: Plan,
    target: Any,
    *,
    progress: ProgressMeter | None = None,
    check_ranges: bool = True,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ApplyResult:
    """Carry out a plan: assets, checks, previous feed kept, feed, manifest, deletions."""
    result = ApplyResult()
    recorded: dict[str, RemoteObject] = dict(plan.remote)

    def record(file: LocalFile) -> None:
        recorded[file.key] = RemoteObject(
            key=file.key, size=file.size, sha256=file.sha256,
            content_type=file.headers.content_type, cache_control=file.headers.cache_control,
        )

    def on_bytes(count: int) -> None:
        if progress:
            progress.add_bytes(count)

    # 1. Assets, many at a time; the feed waits for every one of them. At most UPLOAD_WINDOW are
    # queued at once, so memory stays flat and Ctrl-C lands while waiting, not while queueing.
    failures: list[tuple[Upload, FeedtoolError]] = []
    pending: deque[tuple[Upload, Any]] = deque()

    def settle(upload: Upload, future: Any) -> None:
        try:
            future.result()
            if not _still_same(upload.file):
                if upload.reason == "new":
                    # Its metadata names the hash planned, not the bytes sent: do not leave it.
                    _delete_quietly(target, upload.file.key)
                raise _changed_during_upload(upload.file)
        except FeedtoolError as error:
            failures.append((upload, error))
            return
        if progress:
            progress.file_done()
        record(upload.file)
        result.uploaded.append(upload)
        result.uploaded_bytes += upload.file.size

    try:
        for upload in plan.asset_uploads:
            if failures:
                break  # wrong keys, a full disk...: do not queue thousands more to fail the same way
            file = upload.file
            pending.append((upload, target.submit_file(file.path, file.key, file.headers, file.sha256, on_bytes)))
            if len(pending) >= UPLOAD_WINDOW:
                settle(*pending.popleft())
        while pending:
            settle(*pending.popleft())
    except BaseException:  # Ctrl-C: remember what arrived, leave the feed alone
        _write_manifest_quietly(target, recorded)
        raise
    if failures:
        # Keep what did arrive in the manifest so a re-run skips it; the feed stays the old one.
        _write_manifest_quietly(target, recorded)
        upload, error = failures[0]
        extra = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        raise StorageError(
            f"{len(failures)} upload(s) failed{extra}, the first: {upload.file.key}: {error.message}. "
            "The live feed was not changed",
            hint=error.hint or "publish again: only what is missing will be uploaded, then the feed",
        ) from error

    try:
        _check_and_replace_feed(plan, target, result, record, on_bytes, progress, check_ranges, now)
    except BaseException:
        # The assets that arrived stay remembered, so a re-run skips them.
        _write_manifest_quietly(target, recorded)
        raise

    # 4. Remember what is there, then delete (only what was asked, after the feed).
    if plan.deletes:
        target.write_manifest(recorded)
        keys = [d.key for d in plan.deletes]
        target.delete(keys)
        for key in keys:
            recorded.pop(key, None)
        result.deleted = keys
    if result.uploaded or result.deleted or plan.manifest != recorded:
        target.write_manifest(recorded)
    return result


def _check_and_replace_feed(
    plan: Plan,
    target: Any,
    result: ApplyResult,
    record: Callable[[LocalFile], None],
    on_bytes: Callable[[int], None],
    progress: ProgressMeter | None,
    check_ranges: bool,
    now: Callable[[], datetime],
) -> None:
    """Steps 2 and 3 of apply: check the uploaded assets, keep the live feed, upload the new one."""
    # 2. Check what the feed will point at: size and Content-Type of each new media object, and
    # one byte-range request (podcast apps and Apple need 206 answers).
    _verify_uploads(plan, target)
    if check_ranges and plan.uploads:
        media = [f for f in plan.local.values() if f.kind == "media"]
        if media:
            status = target.range_status(media[0].key)
            result.range_checked, result.range_status = media[0].key, status
            if status is not None and status != 206:
                raise RefusedError(
                    f"{target.description} answered a byte-range request for {media[0].key} with {status}, not 206; "
                    "podcast apps (and Apple) need byte ranges. The feed was not replaced",
                    hint="use a storage service that supports Range requests, or pass --force to publish anyway",
                )

    # 3. Keep the live feed, then replace it.
    stamp = now().strftime("%Y%m%dT%H%M%S.%fZ")  # sorts by time, to the microsecond
    for upload in plan.feed_uploads:
        file = upload.file
        if file.key in plan.remote:
            stem, _, ext = file.key.rpartition(".")
            # The old feed's own hash in the name: two publishes in one second keep both.
            old_hash = (plan.remote[file.key].sha256 or "unknown")[:8]
            kept = f"{FEED_HISTORY_DIR}/{stem}-{stamp}-{old_hash}.{ext}"
            target.copy(file.key, kept)
            result.previous_feeds[file.key] = kept
        target.put_file(file.path, file.key, file.headers, file.sha256, on_bytes)
        if not _still_same(file):
            raise _changed_during_upload(file)
        if progress:
            progress.file_done()
        record(file)
        result.uploaded.append(upload)
        result.uploaded_bytes += file.size
    if result.previous_feeds:
        _prune_feed_history(target)


def _delete_quietly(target: Any, key: str) -> None:
    try:
        target.delete([key])
    except FeedtoolError:
        pass  # the error about the changed file is the one to report


def _write_manifest_quietly(target: Any, recorded: dict[str, RemoteObject]) -> None:
    """An incomplete manifest: the next publish lists the target to find what else arrived."""
    try:
        target.write_manifest(recorded, complete=False)
    except FeedtoolError:
        pass  # listing + metadata recover it next time


#: Up to this many new media/art objects are checked with one HEAD each; more are checked by one
#: listing (sizes) plus a HEAD per Content-Type (3,000 HEADs would double a first publish).
HEAD_EACH_LIMIT = 32


def _verify_uploads(plan: Plan, target: Any) -> None:
    """Check every new media and artwork object: there, the right size, the right Content-Type."""
    checks = [u.file for u in plan.asset_uploads if u.file.kind in ("media", "art")]
    if not checks:
        return
    if len(checks) <= HEAD_EACH_LIMIT:
        headed = checks
        sizes = None
    else:
        by_type: dict[str, LocalFile] = {}
        for file in checks:
            by_type.setdefault(file.headers.content_type, file)
        headed = list(by_type.values())
        sizes = target.list_sizes()
    with ThreadPoolExecutor(max_workers=8) as pool:
        heads = dict(zip([f.key for f in headed], pool.map(lambda f: target.head(f.key), headed), strict=False))
    for file in checks:
        head = heads.get(file.key)
        size = head.size if head is not None else (sizes or {}).get(file.key)
        if size is None:
            raise StorageError(f"{file.key} was uploaded but is not there; the feed was not replaced")
        if size != file.size:
            raise StorageError(
                f"{file.key} has {size} bytes on the target, not {file.size}; the feed was not replaced"
            )
        if head is not None and head.content_type and (
            head.content_type.split(";")[0] != file.headers.content_type.split(";")[0]
        ):
            raise StorageError(
                f"{file.key} is served as {head.content_type}, not {file.headers.content_type}; "
                "the feed was not replaced"
            )


def _prune_feed_history(target: Any) -> None:
    """Keep the newest FEED_HISTORY_KEEP earlier feeds (names sort by their UTC stamp)."""
    try:
        kept = target.list_keys(FEED_HISTORY_DIR)
    except FeedtoolError:
        return
    by_feed: dict[str, list[str]] = {}
    for key in kept:
        by_feed.setdefault(key.rsplit("-", 2)[0], []).append(key)  # <stem>-<time>-<sha8>.<ext>
    old = [k for keys in by_feed.values() for k in sorted(keys)[:-FEED_HISTORY_KEEP]]
    if old:
        target.delete(old)


# --------------------------------------------------------------------------------------------
# The whole command


@dataclass(frozen=True)
class PublishOptions:
    episodes_dir: Path = Path("episodes")
    out_dir: Path = Path("public")
    to: str | None = None
    endpoint_url: str | None = None  # these three override podcast.yaml
    region: str | None = None
    addressing_style: str | None = None
    dry_run: bool = False
    delete: bool = False
    yes: bool = False
    build: bool = True
    validate: bool = True
    force: bool = False
    allow_removals: bool = False
    check_remote: bool = False  # list the target instead of trusting its manifest
    progress: bool | None = None  # None: on when stderr is a terminal
    cache_dir: Path | None = None
    notify: bool | None = None  # tell apps (feedtool.notify); None: when podcast.yaml has notify:


@dataclass
class PublishReport:
    plan: Plan
    result: ApplyResult | None
    dry_run: bool
    built: bool
    elapsed_s: float
    notifications: Any = None  # a feedtool.notify.NotifyReport, when apps were told

    def as_json(self) -> dict[str, Any]:
        plan, result = self.plan, self.result
        uploads = result.uploaded if result else plan.uploads
        return {
            "target": plan.target,
            "dry_run": self.dry_run,
            "built": self.built,
            "uploaded" if result else "would_upload": [
                {"key": u.file.key, "size": u.file.size, "reason": u.reason,
                 "content_type": u.file.headers.content_type, "cache_control": u.file.headers.cache_control}
                for u in uploads
            ],
            "uploaded_bytes": result.uploaded_bytes if result else 0,
            "skipped": len(plan.skips),
            "skipped_bytes": plan.skip_bytes,
            "deleted" if result else "would_delete": [d.key for d in plan.deletes],
            "previous_feeds": result.previous_feeds if result else {},
            "range_check": {"key": result.range_checked, "status": result.range_status} if result else None,
            "live_findings": [
                {"rule": f.rule, "message": f.message} for f in plan.live_findings
            ],
            "elapsed_s": round(self.elapsed_s, 3),
            "notifications": self.notifications.as_json() if self.notifications is not None else None,
        }


def resolve_target_settings(options: PublishOptions) -> tuple[str, dict[str, Any], int]:
    """Where to publish (flag > podcast.yaml > site/), the S3 settings, and the deletion limit."""
    settings: dict[str, Any] = {}
    max_deletes = DEFAULT_MAX_DELETES
    configured = None
    if (options.episodes_dir / "podcast.yaml").is_file():
        try:
            from feedtool.load import load_show
        except ImportError:
            load_show = None  # type: ignore[assignment]
        if load_show is not None:
            configured = load_show(options.episodes_dir).publish
    if configured is not None:
        settings = {
            "endpoint_url": configured.endpoint_url,
            "region": configured.region,
            "addressing_style": configured.addressing_style,
            "acl": configured.acl,
        }
        max_deletes = configured.max_deletes
    for name in ("endpoint_url", "region", "addressing_style"):
        if getattr(options, name):
            settings[name] = getattr(options, name)
    to = options.to or (configured.to if configured else None) or "site"
    if not to.startswith("s3://") and any(settings.get(n) for n in ("endpoint_url", "region", "addressing_style")):
        if options.endpoint_url or options.region or options.addressing_style:
            raise InputError(
                f"--endpoint-url, --region and --addressing-style apply to s3:// targets, not to the folder {to!r}",
                hint="publish with --to s3://bucket/prefix",
            )
        settings = {}
    return to, settings, max_deletes


def ensure_built(options: PublishOptions) -> bool:
    """Build public/ when it is missing or older than episodes/; True if a build ran."""
    if not options.build:
        return False
    if not options.episodes_dir.is_dir():
        return False  # publishing a hand-made public/ folder
    try:
        from feedtool.build import build_podcast, is_stale
    except ImportError:
        return False
    if options.out_dir.is_dir() and not is_stale(options.episodes_dir, options.out_dir):
        return False
    build_podcast(options.episodes_dir, options.out_dir)
    return True


def validation_errors(out_dir: Path, local: dict[str, LocalFile], *,
                      remote: bool = True) -> tuple[list[str], list[str]]:
    """What the feed validator says about each feed in public/ (media checked as files):
    the problems that stop a publish, and the warnings to print.

    Errors always stop it. Readiness findings (placeholder address, artwork or e-mail, no
    episodes) stop a publish to a remote target and are printed for a local folder, which is a
    preview. A finding on a feedtool build names the podcast.yaml or episode.md line to change.
    """
    from feedtool.validation import is_readiness, validate_feed

    problems: list[str] = []
    warnings: list[str] = []
    for file in local.values():
        if file.kind != "feed":
            continue
        report = validate_feed(file.path)
        for finding in report.sorted_findings():
            text = f"{finding.location(file.key)}: {finding.rule}: {finding.message}"
            if finding.severity == "error" or (remote and is_readiness(finding.rule)):
                problems.append(text + (f"\n    -> {finding.fix}" if is_readiness(finding.rule) else ""))
            elif is_readiness(finding.rule):
                warnings.append(f"not ready to publish: {text}\n    -> {finding.fix}")
    return problems, warnings


def publish(options: PublishOptions, *, echo: Callable[[str], None] = lambda s: None) -> PublishReport:
    """Build if needed, validate, plan, and (unless a dry run) apply."""
    from feedtool.storage import LocalFolderTarget, S3Target, open_target

    started = time.monotonic()
    built = ensure_built(options)
    cache = HashCache((options.cache_dir / "hashes.json") if options.cache_dir else None)
    local = scan_public(options.out_dir, cache)
    to, settings, max_deletes = resolve_target_settings(options)
    if options.validate and not options.force:
        errors, warnings = validation_errors(options.out_dir, local, remote=to.startswith("s3://"))
        for warning in warnings:
            echo(f"Warning: {warning}")
        if errors:
            shown = "\n  ".join(errors[:15])
            raise RefusedError(
                f"the feed has {len(errors)} validation error(s); nothing was published:\n  {shown}",
                hint="fix them (see `feedtool validate`), or pass --force to publish anyway",
            )
    project_root = options.episodes_dir.resolve().parent
    target = open_target(to, project_root=project_root, **settings)
    if isinstance(target, LocalFolderTarget):
        _check_no_overlap(options.out_dir, target.root)
    try:
        if isinstance(target, S3Target):
            target.check_bucket()
        plan = make_plan(
            local, target, delete=options.delete, max_deletes=max_deletes, yes=options.yes,
            allow_removals=options.allow_removals or options.force, check_remote=options.check_remote,
        )
        if options.dry_run:
            return PublishReport(plan, None, True, built, time.monotonic() - started)
        enabled = sys.stderr.isatty() if options.progress is None else options.progress
        meter = ProgressMeter(len(plan.uploads), plan.upload_bytes, enabled=enabled)
        try:
            result = apply_plan(plan, target, progress=meter, check_ranges=not options.force)
        finally:
            meter.close()
        notifications = notify_apps(options, result, target)
        return PublishReport(plan, result, False, built, time.monotonic() - started, notifications)
    except BaseException:
        target.close(cancel=True)  # Ctrl-C or a failure: do not wait for queued uploads
        raise
    finally:
        target.close()


def notify_apps(options: PublishOptions, result: ApplyResult, target: Any) -> Any:
    """After the feed is up: tell apps about the feeds whose bytes changed (and retry what failed before)."""
    from feedtool.model import NotifySettings
    from feedtool.notify import STATE_KEY, notify_after_publish

    if options.notify is False:
        return None
    settings = None
    if (options.episodes_dir / "podcast.yaml").is_file():
        from feedtool.load import load_show

        settings = load_show(options.episodes_dir).notify
    if settings is None:
        if not options.notify:
            return None
        settings = NotifySettings(podcastindex=True)  # --notify alone: the keyless Podcast Index ping
    changed = [(u.file.key, u.file.path.read_bytes()) for u in result.uploaded
               if u.file.kind == "feed" and u.reason != "headers"]
    return notify_after_publish(settings, changed, get_state=lambda: target.get_bytes(STATE_KEY),
                                put_state=lambda data: target.put_bytes(STATE_KEY, data))


def _check_no_overlap(out_dir: Path, folder: Path) -> None:
    """A local target must not be public/ itself, inside it, or around it.

    Inside: the next scan would publish the target into itself. Around (e.g. the project
    folder): --delete would remove everything else in it.
    """
    source, dest = out_dir.resolve(), folder.resolve()
    if source == dest or source in dest.parents or dest in source.parents:
        raise InputError(
            f"cannot publish {out_dir} to {folder}: the two folders overlap",
            field="publish.to",
            hint="publish to a folder outside public/ and not around it, e.g. site/",
        )


def render_plan(report: PublishReport, *, limit: int = 50) -> Iterable[str]:
    """Human-readable lines: one per upload and deletion (up to ``limit``), then totals."""
    plan = report.plan
    verb = "would upload" if report.dry_run else "uploaded"
    if not plan.uploads and not plan.deletes:
        yield (f"Nothing to do: {plan.target} is up to date "
               f"({len(plan.skips)} files, {human_size(plan.skip_bytes)}).")
        if report.notifications is not None:  # pending notifications of an earlier publish, sent again
            yield from report.notifications.lines()
        return
    head = "Plan for" if report.dry_run else "Published to"
    yield f"{head} {plan.target}"
    marks = {"new": "+", "changed": "~", "headers": "*"}
    listed = plan.uploads if report.dry_run or report.result is None else report.result.uploaded
    for upload in listed[:limit]:
        f = upload.file
        yield f"  {marks[upload.reason]} {f.key}  {human_size(f.size)}  {f.headers.content_type}  ({upload.reason})"
    if len(listed) > limit:
        yield f"  ... and {len(listed) - limit} more"
    for obj in plan.deletes[:limit]:
        yield f"  - {obj.key}  {human_size(obj.size)}  ({'would delete' if report.dry_run else 'deleted'})"
    if len(plan.deletes) > limit:
        yield f"  ... and {len(plan.deletes) - limit} more deletions"
    for finding in plan.live_findings:
        yield f"  ! {finding.rule}: {finding.message} (allowed)"
    yield (
        f"{verb} {len(listed)} files ({human_size(sum(u.file.size for u in listed))}), "
        f"skipped {len(plan.skips)} unchanged ({human_size(plan.skip_bytes)}), "
        f"{'would delete' if report.dry_run else 'deleted'} {len(plan.deletes)} ({human_size(plan.delete_bytes)})"
    )
    if report.result and report.result.previous_feeds:
        for key, kept in sorted(report.result.previous_feeds.items()):
            yield f"previous {key} kept as {kept}"
    if report.result and report.result.range_status:
        yield f"byte ranges: {report.result.range_checked} answered {report.result.range_status}"
    if report.notifications is not None:
        yield from report.notifications.lines()

"""Carry out a plan in the one order that keeps the live feed consistent.

Podcast apps fetch the feed and then whatever it points at. So:

1. media, artwork, chapters and transcripts go up first (all content-named: nothing the live
   feed references is ever overwritten), and re-tagged copies are made on the target from
   earlier ones (splices: head + a range copied inside the bucket + tail);
2. one listing of the target checks that every object the new feed references is there with the
   right size (what is missing, e.g. deleted by hand meanwhile, is uploaded again), plus one HEAD
   per Content-Type and one byte-range request;
3. the lease is checked (still ours), the live feed is read again and must be the one the plan
   read (else someone else published meanwhile: stop, run again); it is kept under
   ``.feedtool/feeds/`` and replaced, with If-Match where the service honours it;
4. the manifest and the reference history are written, then (only when asked) deletions.

A failure anywhere before step 3 leaves the live feed as it was, pointing at objects that are
all still there.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from feedtool.errors import FeedtoolError, RefusedError, StorageError
from feedtool.files import sha256_file
from feedtool.publish.local import LocalFile
from feedtool.publish.plan import DEFAULT_GRACE, Plan, Retag, Upload
from feedtool.publish.report import ProgressMeter
from feedtool.publish.splices import Splice
from feedtool.publish.state import (
    REFERENCES_KEY,
    Manifest,
    record_replacement,
    references_bytes,
    write_manifest,
)
from feedtool.storage import (
    FEED_HISTORY_DIR,
    FEED_HISTORY_KEEP,
    ComposeResult,
    ConditionsUnsupported,
    ObjectHeaders,
    PreconditionFailed,
    RemoteObject,
    SourceChanged,
)

#: Uploads queued at once (the transfer manager runs S3_CONCURRENCY of them in parallel).
UPLOAD_WINDOW = 256
#: Re-tagged copies made at once (each holds up to 16 MiB in memory on the fallback path).
RETAG_CONCURRENCY = 4


@dataclass
class ApplyResult:
    uploaded: list[Upload] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    previous_feeds: dict[str, str] = field(default_factory=dict)  # feed key -> kept copy
    repaired: list[str] = field(default_factory=list)  # referenced objects found missing, sent again
    range_checked: str | None = None
    range_status: int | None = None
    uploaded_bytes: int = 0
    retagged: list[tuple[Retag, ComposeResult]] = field(default_factory=list)

    @property
    def retag_bytes_sent(self) -> int:
        return sum(made.bytes_sent for _, made in self.retagged)


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


class _Recorder:
    """What the target holds after each step, to be written as the manifest."""

    def __init__(self, plan: Plan) -> None:
        manifest = plan.inventory.manifest if plan.inventory else Manifest()
        self.extra = dict(manifest.extra)
        self.objects: dict[str, RemoteObject] = dict(plan.remote)
        self.before = manifest.objects

    def record(self, file: LocalFile, etag: str | None) -> None:
        old = self.objects.get(file.key) or self.before.get(file.key)
        extra = old.extra if old is not None and old.sha256 == file.sha256 else {}
        self.objects[file.key] = RemoteObject(
            key=file.key, size=file.size, sha256=file.sha256, content_type=file.headers.content_type,
            cache_control=file.headers.cache_control, etag=etag, extra=extra,
        )

    def record_made(self, splice: Splice, made: ComposeResult) -> None:
        """A copy made on the target: its sha256 only when every byte passed through here (the
        manifest entry says how it was made, which is what lets the next publish trust it)."""
        headers = splice.headers
        self.objects[splice.key] = RemoteObject(
            key=splice.key, size=made.size, sha256=made.sha256, content_type=headers.content_type,
            cache_control=headers.cache_control, etag=made.etag, extra={"made_from": splice.as_json()},
        )

    def manifest(self, complete: bool) -> Manifest:
        return Manifest(dict(self.objects), complete, self.extra)

    def write_quietly(self, target: Any) -> None:
        """An incomplete manifest: the next publish fills the gaps from the listing."""
        try:
            write_manifest(target, self.manifest(complete=False))
        except FeedtoolError:
            pass  # listing + metadata recover it next time


def apply_plan(
    plan: Plan,
    target: Any,
    *,
    lease: Any = None,
    progress: ProgressMeter | None = None,
    check_ranges: bool = True,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    grace: timedelta = DEFAULT_GRACE,
) -> ApplyResult:
    """Carry out a plan: assets, checks, previous feed kept, feed, state, deletions."""
    result = ApplyResult()
    recorder = _Recorder(plan)

    def on_bytes(count: int) -> None:
        if progress:
            progress.add_bytes(count)

    try:
        _upload_assets(plan, target, result, recorder, on_bytes, progress)
        _make_retags(plan.retags, target, result, recorder, progress)
        _verify_references(plan, target, result, recorder, on_bytes)
        _check_ranges(plan, target, result, check_ranges)
        if lease is not None:
            lease.check()
        _replace_feeds(plan, target, result, recorder, on_bytes, progress, lease, now)
    except BaseException:
        # The assets that arrived stay remembered, so a re-run skips them; the feed is the old one.
        # (Not when the lease went to another publish: the target's state is its to write now.)
        if lease is None or not lease.lost:
            recorder.write_quietly(target)
        raise

    # 4. Remember what is there and what the new feed references, then delete (only what was asked).
    _record_references(plan, target, result, now(), grace)
    if plan.deletes:
        write_manifest(target, recorder.manifest(complete=True))
        keys = [d.key for d in plan.deletes]
        target.delete(keys)
        for key in keys:
            recorder.objects.pop(key, None)
        result.deleted = keys
    before = plan.inventory.manifest if plan.inventory else Manifest()
    if result.uploaded or result.deleted or before.objects != recorder.objects or not before.complete:
        write_manifest(target, recorder.manifest(complete=True))
    if result.previous_feeds:
        _prune_feed_history(target)
    return result


def _upload_assets(plan: Plan, target: Any, result: ApplyResult, recorder: _Recorder,
                   on_bytes: Callable[[int], None], progress: ProgressMeter | None) -> None:
    """Step 1: many at a time; at most UPLOAD_WINDOW queued, so memory stays flat and Ctrl-C
    lands while waiting, not while queueing."""
    failures: list[tuple[Upload, FeedtoolError]] = []
    pending: deque[tuple[Upload, Any]] = deque()

    def settle(upload: Upload, future: Any) -> None:
        try:
            etag = future.result()
            if not _still_same(upload.file):
                if upload.reason in ("new", "missing"):
                    # Its metadata names the hash planned, not the bytes sent: do not leave it.
                    _delete_quietly(target, upload.file.key)
                raise _changed_during_upload(upload.file)
        except FeedtoolError as error:
            failures.append((upload, error))
            return
        if progress:
            progress.file_done()
        recorder.record(upload.file, etag)
        result.uploaded.append(upload)
        result.uploaded_bytes += upload.file.size

    for upload in plan.asset_uploads:
        if failures:
            break  # wrong keys, a full disk...: do not queue thousands more to fail the same way
        file = upload.file
        pending.append((upload, target.submit_file(file.path, file.key, file.headers, file.sha256, on_bytes)))
        if len(pending) >= UPLOAD_WINDOW:
            settle(*pending.popleft())
    while pending:
        settle(*pending.popleft())
    if failures:
        upload, error = failures[0]
        extra = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        raise StorageError(
            f"{len(failures)} upload(s) failed{extra}, the first: {upload.file.key}: {error.message}. "
            "The live feed was not changed",
            hint=error.hint or "publish again: only what is missing will be uploaded, then the feed",
        ) from error


def _retag_failed(target: Any, key: str, error: FeedtoolError) -> StorageError:
    if isinstance(error, SourceChanged):
        return StorageError(
            f"re-tagging {key} failed: {error.message}. The live feed was not changed",
            hint="publish again; if the earlier copy is gone, put the master back in the episode folder, or "
                 "name it with an https:// or s3:// address in audio:, and build again",
        )
    return StorageError(f"re-tagging {key} on {target.description} failed: {error.message}. "
                        "The live feed was not changed",
                        hint=error.hint or "publish again: only what is missing will be made, then the feed")


def _make_retags(retags: list[Retag], target: Any, result: ApplyResult, recorder: _Recorder,
                 progress: ProgressMeter | None) -> None:
    """Step 1b: the re-tagged copies, a few at a time, each on the best path the service allows."""
    if not retags:
        return

    def make(retag: Retag) -> ComposeResult:
        splice = retag.splice
        made: ComposeResult = target.compose(splice.key, splice.composition(), splice.headers)
        return made

    failures: list[tuple[Retag, FeedtoolError]] = []

    def settle(retag: Retag, future: Any) -> None:
        try:
            made = future.result()
        except FeedtoolError as error:
            failures.append((retag, error))
            return
        recorder.record_made(retag.splice, made)
        result.retagged.append((retag, made))
        if progress:  # files only: the bytes total counts what public/ uploads
            progress.file_done()

    with ThreadPoolExecutor(max_workers=RETAG_CONCURRENCY) as pool:
        pending: deque[tuple[Retag, Any]] = deque()
        for retag in retags:
            if failures:
                break  # wrong permissions, a source gone...: do not start thousands more to fail alike
            pending.append((retag, pool.submit(make, retag)))
            if len(pending) >= 2 * RETAG_CONCURRENCY:
                settle(*pending.popleft())
        while pending:
            settle(*pending.popleft())
    if failures:
        first, problem = failures[0]
        raise _retag_failed(target, first.splice.key, problem) from problem


def _verify_references(plan: Plan, target: Any, result: ApplyResult, recorder: _Recorder,
                       on_bytes: Callable[[int], None]) -> None:
    """Step 2: every object the new feed references is there with its size (one listing).

    Objects missing or of the wrong size (deleted or truncated behind our back) are uploaded
    again and checked with a second listing; still wrong, the publish stops before the feed.
    """
    if not plan.feed_uploads:
        return
    wanted = {key: plan.local[key] for key in sorted(plan.referenced) if key in plan.local}
    made = {s.key: s for s in [*(r.splice for r in plan.retags), *plan.splice_skips] if s.key in plan.referenced}
    listed = target.list()
    for attempt in range(2):
        wrong = [file for key, file in wanted.items()
                 if key not in listed or listed[key].size != file.size]
        wrong_made = [s for key, s in made.items() if key not in listed or listed[key].size != s.size]
        if wrong_made and attempt == 0:  # deleted behind our back since the plan: made again
            again = ApplyResult()
            _make_retags([Retag(s, "missing") for s in wrong_made], target, again, recorder, None)
            result.repaired.extend(s.key for s in wrong_made)
        wrong_made_keys = [s.key for s in wrong_made]
        if not wrong and not wrong_made:
            break
        if attempt == 1:
            shown = ", ".join([*(f.key for f in wrong), *wrong_made_keys][:5]) + (
                " ..." if len(wrong) + len(wrong_made) > 5 else "")
            raise StorageError(
                f"{len(wrong) + len(wrong_made)} object(s) the new feed references are missing or of the wrong "
                f"size on {target.description} even after uploading them again: {shown}. The feed was not replaced",
                hint="something else is deleting or changing objects on the target; stop it and publish again",
            )
        for file in wrong:
            etag = target.put_file(file.path, file.key, file.headers, file.sha256, on_bytes)
            if not _still_same(file):
                raise _changed_during_upload(file)
            recorder.record(file, etag)
            result.repaired.append(file.key)
        listed = target.list()
    uploaded = {u.file.key for u in result.uploaded} | set(result.repaired) | {r.splice.key for r, _ in result.retagged}
    for key in uploaded:  # the ETag the service gave what we sent, for --check-remote next time
        if key in listed and key in recorder.objects and listed[key].size == recorder.objects[key].size:
            recorder.objects[key] = replace(recorder.objects[key], etag=listed[key].etag)
    _check_content_types(plan, target)


def _check_content_types(plan: Plan, target: Any) -> None:
    """One HEAD per Content-Type among the new media and artwork (not one per object)."""
    by_type: dict[str, LocalFile | Splice] = {}
    for upload in plan.asset_uploads:
        if upload.file.kind in ("media", "art"):
            by_type.setdefault(upload.file.headers.content_type, upload.file)
    for retag in plan.retags:
        by_type.setdefault(retag.splice.headers.content_type, retag.splice)
    if not by_type:
        return
    with ThreadPoolExecutor(max_workers=8) as pool:
        heads = list(pool.map(lambda f: (f, target.head(f.key)), by_type.values()))
    for file, head in heads:
        if head is None:
            raise StorageError(f"{file.key} was uploaded but is not there; the feed was not replaced")
        if head.content_type and head.content_type.split(";")[0] != file.headers.content_type.split(";")[0]:
            raise StorageError(
                f"{file.key} is served as {head.content_type}, not {file.headers.content_type}; "
                "the feed was not replaced"
            )


def _check_ranges(plan: Plan, target: Any, result: ApplyResult, check_ranges: bool) -> None:
    """One byte-range request on a media object: podcast apps (and Apple) need 206 answers."""
    if not (check_ranges and (plan.uploads or plan.retags)):
        return
    media = [f.key for f in plan.local.values() if f.kind == "media"] + [r.splice.key for r in plan.retags]
    if not media:
        return
    status = target.range_status(media[0])
    result.range_checked, result.range_status = media[0], status
    if status is not None and status != 206:
        raise RefusedError(
            f"{target.description} answered a byte-range request for {media[0]} with {status}, not 206; "
            "podcast apps (and Apple) need byte ranges. The feed was not replaced",
            hint="use a storage service that supports Range requests, or pass --force to publish anyway",
        )


def _live_changed(target: Any, key: str) -> RefusedError:
    return RefusedError(
        f"the live {key} on {target.description} changed after this publish read it (another publish, "
        "or an edit by hand); it was not replaced",
        hint="publish again: the new plan starts from the feed that is live now",
    )


def _replace_feeds(plan: Plan, target: Any, result: ApplyResult, recorder: _Recorder,
                   on_bytes: Callable[[int], None], progress: ProgressMeter | None, lease: Any,
                   now: Callable[[], datetime]) -> None:
    """Step 3: keep the live feed, then replace it, if it is still the one planned against."""
    stamp = now().strftime("%Y%m%dT%H%M%S.%fZ")  # sorts by time, to the microsecond
    conditional = lease is None or lease.conditional
    for upload in plan.feed_uploads:
        file = upload.file
        planned = plan.live.get(file.key)
        current = target.get(file.key)
        planned_sha = planned.sha256 if planned else None
        current_sha = hashlib.sha256(current.data).hexdigest() if current is not None else None
        if current_sha != planned_sha:
            raise _live_changed(target, file.key)
        if current is not None:
            stem, _, ext = file.key.rpartition(".")
            # The old feed's own hash in the name: two publishes in one second keep both.
            kept = f"{FEED_HISTORY_DIR}/{stem}-{stamp}-{(current_sha or 'unknown')[:8]}.{ext}"
            target.put_bytes(kept, current.data, ObjectHeaders(file.headers.content_type, "no-cache", "other"))
            result.previous_feeds[file.key] = kept
        condition: dict[str, Any] = {}
        if conditional and current is not None and current.etag:
            condition["if_match"] = current.etag
        elif conditional and current is None:
            condition["if_none_match"] = True
        try:
            etag = target.put_file(file.path, file.key, file.headers, file.sha256, on_bytes, **condition)
        except PreconditionFailed as error:
            raise _live_changed(target, file.key) from error
        except ConditionsUnsupported:  # the check just above is all this service allows
            etag = target.put_file(file.path, file.key, file.headers, file.sha256, on_bytes)
        if not _still_same(file):
            raise _changed_during_upload(file)
        if progress:
            progress.file_done()
        recorder.record(file, etag)
        result.uploaded.append(upload)
        result.uploaded_bytes += file.size


def _record_references(plan: Plan, target: Any, result: ApplyResult, moment: datetime, grace: timedelta) -> None:
    """Write down what each new feed references and until when the replaced one was live."""
    history = [record for record in plan.history  # nobody can hold these feeds any more
               if record.live_until is None or record.live_until + grace > moment]
    for upload in result.uploaded:
        if upload.file.kind != "feed":
            continue
        key = upload.file.key
        live = plan.live.get(key)
        replaced = frozenset(live.references()) if live and live.data else None
        history = record_replacement(history, feed=key, sha256=upload.file.sha256,
                                     keys=frozenset(plan.references.get(key, set())), replaced_keys=replaced,
                                     replaced_sha256=live.sha256 if live else None, now=moment, grace=grace)
    if history == plan.history:
        return
    target.put_bytes(REFERENCES_KEY, references_bytes(history), ObjectHeaders("application/json", "no-cache", "other"))


def _delete_quietly(target: Any, key: str) -> None:
    try:
        target.delete([key])
    except FeedtoolError:
        pass  # the error about the changed file is the one to report


def _prune_feed_history(target: Any) -> None:
    """Keep the newest FEED_HISTORY_KEEP earlier feeds (names sort by their UTC stamp)."""
    try:
        kept = sorted(target.list(FEED_HISTORY_DIR + "/"))
    except FeedtoolError:
        return
    by_feed: dict[str, list[str]] = {}
    for key in kept:
        by_feed.setdefault(key.rsplit("-", 2)[0], []).append(key)  # <stem>-<time>-<sha8>.<ext>
    old = [k for keys in by_feed.values() for k in sorted(keys)[:-FEED_HISTORY_KEEP]]
    if old:
        target.delete(old)

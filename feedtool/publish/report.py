"""What publish tells people: the progress line, the plan or result as text, and the JSON summary."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from feedtool.notify import NotifyReport
    from feedtool.publish.apply import ApplyResult
    from feedtool.publish.plan import Plan
    from feedtool.storage import ComposeResult


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


@dataclass
class PublishReport:
    plan: Plan
    result: ApplyResult | None
    dry_run: bool
    built: bool
    elapsed_s: float
    notifications: NotifyReport | None = None  # when apps were told (feedtool.notify)

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
            "retagged" if result else "would_retag": (
                [{"key": r.splice.key, "size": made.size, "reason": r.reason, "source": r.splice.source_key,
                  "path": made.path, "why": made.why, "bytes_sent": made.bytes_sent,
                  "bytes_received": made.bytes_received} for r, made in result.retagged] if result else
                [{"key": r.splice.key, "size": r.splice.size, "reason": r.reason, "source": r.splice.source_key}
                 for r in plan.retags]),
            "retagged_bytes_sent": result.retag_bytes_sent if result else 0,
            "skipped": plan.skip_count,
            "skipped_bytes": plan.skip_bytes,
            "deleted" if result else "would_delete": [d.key for d in plan.deletes],
            "kept_for_grace": [{"key": k.key, "until": k.until.isoformat() if k.until else None}
                               for k in plan.kept],
            "deletions_need_yes": plan.needs_yes,
            "previous_feeds": result.previous_feeds if result else {},
            "repaired": result.repaired if result else [],
            "range_check": {"key": result.range_checked, "status": result.range_status} if result else None,
            "live_findings": [
                {"rule": f.rule, "message": f.message} for f in plan.live_findings
            ],
            "elapsed_s": round(self.elapsed_s, 3),
            "notifications": self.notifications.as_json() if self.notifications is not None else None,
        }


def retag_lines(result: ApplyResult) -> Iterable[str]:
    """One line per path taken: how many copies, bytes sent for how many bytes made, and why
    (e.g. "re-tagged 1 file inside the bucket (5.2 MB sent for 98.0 MB)")."""
    by_path: dict[str, list[ComposeResult]] = {}
    for _, made in result.retagged:
        by_path.setdefault(made.path, []).append(made)
    for path, group in sorted(by_path.items()):
        sent = sum(m.bytes_sent for m in group)
        received = sum(m.bytes_received for m in group)
        total = sum(m.size for m in group)
        where = path.replace("copy ", "", 1) if path.startswith("copy inside") else f"by {path}"
        reasons = sorted({m.why for m in group if m.why})
        why = f": {'; '.join(reasons[:3])}" if reasons else ""
        if path == "copy inside the folder":
            moved = f"{human_size(total)} written"
        else:
            moved = f"{human_size(sent)} sent for {human_size(total)}" + (
                f", {human_size(received)} read" if received else "")
        yield f"re-tagged {len(group)} {'file' if len(group) == 1 else 'files'} {where} ({moved}){why}"


def render_plan(report: PublishReport, *, limit: int = 50) -> Iterable[str]:
    """Human-readable lines: one per upload and deletion (up to ``limit``), then totals."""
    plan = report.plan
    verb = "would upload" if report.dry_run else "uploaded"
    if not plan.uploads and not plan.retags and not plan.deletes and not plan.kept and not plan.needs_yes:
        yield (f"Nothing to do: {plan.target} is up to date "
               f"({plan.skip_count} files, {human_size(plan.skip_bytes)}).")
        if report.notifications is not None:  # pending notifications of an earlier publish, sent again
            yield from report.notifications.lines()
        return
    head = "Plan for" if report.dry_run else "Published to"
    yield f"{head} {plan.target}"
    marks = {"new": "+", "missing": "+", "changed": "~", "changed on the target": "~", "headers": "*"}
    listed = plan.uploads if report.dry_run or report.result is None else report.result.uploaded
    for upload in listed[:limit]:
        f = upload.file
        yield (f"  {marks.get(upload.reason, '~')} {f.key}  {human_size(f.size)}  {f.headers.content_type}  "
               f"({upload.reason})")
    if len(listed) > limit:
        yield f"  ... and {len(listed) - limit} more"
    retags = plan.retags if report.dry_run or report.result is None else [r for r, _ in report.result.retagged]
    for retag in retags[:limit]:
        yield (f"  ^ {retag.splice.key}  {human_size(retag.splice.size)}  re-tagged from {retag.splice.source_key} "
               f"({retag.reason})")
    if len(retags) > limit:
        yield f"  ... and {len(retags) - limit} more re-tagged"
    for obj in plan.deletes[:limit]:
        yield f"  - {obj.key}  {human_size(obj.size)}  ({'would delete' if report.dry_run else 'deleted'})"
    if len(plan.deletes) > limit:
        yield f"  ... and {len(plan.deletes) - limit} more deletions"
    for kept in plan.kept[:limit]:
        until = f"until {kept.until:%Y-%m-%d %H:%M} UTC" if kept.until else "while a live feed references it"
        yield f"  = {kept.key}  kept {until} (a recent feed references it)"
    if len(plan.kept) > limit:
        yield f"  ... and {len(plan.kept) - limit} more kept"
    for finding in plan.live_findings:
        yield f"  ! {finding.rule}: {finding.message} (allowed)"
    yield (
        f"{verb} {len(listed)} files ({human_size(sum(u.file.size for u in listed))}), "
        + (f"{'would re-tag' if report.dry_run else 're-tagged'} {len(retags)} "
           f"({human_size(sum(r.splice.size for r in retags))}), " if retags else "")
        + f"skipped {plan.skip_count} unchanged ({human_size(plan.skip_bytes)}), "
        f"{'would delete' if report.dry_run else 'deleted'} {len(plan.deletes)} ({human_size(plan.delete_bytes)})"
        + (f", kept {len(plan.kept)} for the grace period" if plan.kept else "")
    )
    if plan.needs_yes:
        yield (f"The real run would delete {len(plan.deletes)} objects, more than the limit of {plan.max_deletes}: "
               "check the list above, then run it with --yes.")
    if report.result and report.result.retagged:
        yield from retag_lines(report.result)
    if report.result and report.result.repaired:
        yield f"re-uploaded {len(report.result.repaired)} object(s) that were missing on the target"
    if report.result and report.result.previous_feeds:
        for key, kept_as in sorted(report.result.previous_feeds.items()):
            yield f"previous {key} kept as {kept_as}"
    if report.result and report.result.range_status:
        yield f"byte ranges: {report.result.range_checked} answered {report.result.range_status}"
    if report.notifications is not None:
        yield from report.notifications.lines()

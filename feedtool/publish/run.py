"""The whole ``feedtool publish``: build if needed, validate, lock, plan, apply, report.

The output folder is locked for the whole run (no build can swap public/ while it is being
uploaded), and the target is leased (no other publish can plan against the same live feed, and
the lease is still held while the notifications' pending list is written to the target).
A dry run takes neither lease nor writes anything, and tells no app.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feedtool.errors import InputError, RefusedError
from feedtool.locking import DEFAULT_WAIT_S, hold_output
from feedtool.publish.apply import apply_plan
from feedtool.publish.guards import check_local_target
from feedtool.publish.lease import Lease
from feedtool.publish.local import HashCache, LocalFile, scan_public
from feedtool.publish.notifications import notify_apps, notify_settings
from feedtool.publish.plan import DEFAULT_GRACE, DEFAULT_MAX_DELETES, make_plan
from feedtool.publish.report import ProgressMeter, PublishReport
from feedtool.publish.splices import read_splices

if TYPE_CHECKING:
    from feedtool.model import NotifySettings, Show


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
    check_remote: bool = False  # compare ETags from the listing with those recorded at upload
    progress: bool | None = None  # None: on when stderr is a terminal
    cache_dir: Path | None = None
    wait_s: float = DEFAULT_WAIT_S  # for the output folder's lock and the target's lease
    grace_days: float | None = None  # None: podcast.yaml's publish.grace_days, else 7
    notify: bool | None = None  # tell apps (feedtool.notify); None: when podcast.yaml has notify:


@dataclass(frozen=True)
class TargetSettings:
    to: str
    s3: dict[str, Any]
    max_deletes: int
    grace: timedelta
    notify: NotifySettings | None = None  # who to tell after the feed is up (None: nobody)


def load_settings_show(options: PublishOptions) -> Show | None:
    """podcast.yaml, read once for the publish settings (None: publishing a hand-made public/)."""
    if not (options.episodes_dir / "podcast.yaml").is_file():
        return None
    from feedtool.load import load_show

    return load_show(options.episodes_dir)


def resolve_target_settings(options: PublishOptions) -> TargetSettings:
    """Where to publish (flag > podcast.yaml > site/), the S3 settings, deletion limit, grace and
    notifications; all read before anything changes, so a bad setting stops the publish early."""
    settings: dict[str, Any] = {}
    max_deletes = DEFAULT_MAX_DELETES
    grace = DEFAULT_GRACE
    show = load_settings_show(options)
    configured = show.publish if show is not None else None
    if configured is not None:
        settings = {
            "endpoint_url": configured.endpoint_url,
            "region": configured.region,
            "addressing_style": configured.addressing_style,
            "acl": configured.acl,
        }
        max_deletes = configured.max_deletes
        configured_grace = getattr(configured, "grace_days", None)
        if configured_grace is not None:
            grace = timedelta(days=configured_grace)
    if options.grace_days is not None:
        if options.grace_days < 0:
            raise InputError("--grace-days must be 0 or more", hint="e.g. --grace-days 7")
        grace = timedelta(days=options.grace_days)
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
    return TargetSettings(to, settings, max_deletes, grace, notify_settings(show, options.notify))


def ensure_built(options: PublishOptions) -> bool:
    """Build public/ when it is missing or older than episodes/; True if a build ran."""
    if not options.build or not options.episodes_dir.is_dir():
        return False  # --no-build, or publishing a hand-made public/ folder
    from feedtool.build import build_podcast, is_stale

    if options.out_dir.is_dir() and not is_stale(options.episodes_dir, options.out_dir):
        return False
    build_podcast(options.episodes_dir, options.out_dir, wait_s=options.wait_s)
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


def _cache_dir(options: PublishOptions) -> Path:
    return options.cache_dir or options.episodes_dir.absolute().parent / ".feedtool-cache"


def publish(options: PublishOptions, *, now: Callable[[], datetime] = lambda: datetime.now(UTC),
            echo: Callable[[str], None] = lambda message: None) -> PublishReport:
    """Build if needed, validate, plan, and (unless a dry run) apply: all under the output lock."""
    started = time.monotonic()
    with hold_output(options.out_dir, _cache_dir(options), wait_s=options.wait_s):
        return _publish_locked(options, now, started, echo)


def _publish_locked(options: PublishOptions, now: Callable[[], datetime], started: float,
                    echo: Callable[[str], None]) -> PublishReport:
    from feedtool.storage import LocalFolderTarget, S3Target, open_target

    settings = resolve_target_settings(options)
    project_root = options.episodes_dir.absolute().parent
    target = open_target(settings.to, project_root=project_root, **settings.s3)
    if isinstance(target, LocalFolderTarget):  # before building: nothing is touched if refused
        from feedtool.build import default_cache_dir

        check_local_target(target.root, {
            "episodes folder": options.episodes_dir, "build output": options.out_dir,
            "build cache": default_cache_dir(options.episodes_dir), "publish cache": _cache_dir(options),
        })
    built = ensure_built(options)
    cache = HashCache(_cache_dir(options) / "hashes.json")
    local = scan_public(options.out_dir, cache)
    splices = read_splices(options.out_dir)
    if options.validate and not options.force:
        errors, warnings = validation_errors(options.out_dir, local, remote=settings.to.startswith("s3://"))
        for warning in warnings:
            echo(f"Warning: {warning}")
        if errors:
            shown = "\n  ".join(errors[:15])
            raise RefusedError(
                f"the feed has {len(errors)} validation error(s); nothing was published:\n  {shown}",
                hint="fix them (see `feedtool validate`), or pass --force to publish anyway",
            )
    lease: Lease | None = None
    try:
        if isinstance(target, S3Target):
            target.check_bucket()
        if not options.dry_run:
            lease = Lease(target, wait_s=options.wait_s)
            lease.acquire()
            lease.start_renewing()
        plan = make_plan(
            local, target, delete=options.delete, max_deletes=settings.max_deletes, yes=options.yes,
            allow_removals=options.allow_removals or options.force, check_remote=options.check_remote,
            dry_run=options.dry_run, grace=settings.grace, now=now(), splices=splices,
        )
        if options.dry_run:
            return PublishReport(plan, None, True, built, time.monotonic() - started)
        enabled = sys.stderr.isatty() if options.progress is None else options.progress
        meter = ProgressMeter(len(plan.uploads) + len(plan.retags), plan.upload_bytes, enabled=enabled)
        try:
            result = apply_plan(plan, target, lease=lease, progress=meter, check_ranges=not options.force,
                                now=now, grace=settings.grace)
        finally:
            meter.close()
        # The feed is up: tell apps while the lease is still ours (it guards notify.json too).
        notifications = notify_apps(settings.notify, result, target, lease)
        return PublishReport(plan, result, False, built, time.monotonic() - started, notifications)
    except BaseException:
        target.close(cancel=True)  # Ctrl-C or a failure: do not wait for queued uploads
        raise
    finally:
        if lease is not None:
            lease.release()
        target.close()

"""One publish at a time per target: a lease object with an owner and an expiry.

Two publishes that overlap would each plan against the same live feed and the later one would
replace the earlier one's feed: an episode lost, and no guard fires. So a publish first takes a
lease, ``.feedtool/lease.json`` on the target, saying who holds it (host, pid, CI run) and for how
long (``ttl_s``):

- it is created with a conditional write (``If-None-Match: *``: only if absent), or, when it
  has expired, replaced with ``If-Match: <the expired lease's ETag>``: of two publishes racing
  for it exactly one wins. AWS S3, R2, MinIO, SeaweedFS and moto honour both conditions; a local
  folder checks them under a lock file;
- it is read back after writing, and a second ``If-None-Match: *`` write of it must be refused:
  a service that ignores the condition is found that way, and then every renewal reads the
  lease back before writing (write-then-read-back), which narrows the race to moments;
- it is renewed every ``ttl_s / 4`` seconds while the publish runs (long uploads), and checked
  once more just before the feed is replaced: a publish that lost its lease stops there;
- it expires by the service's own clock (its ``Last-Modified`` against the ``Date`` of the
  answer), so a publish that was killed leaves a lease that the next one takes over after
  ``ttl_s``, whatever the clocks of the two machines say;
- it is deleted at the end (only if it is still ours).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from feedtool.errors import BusyError, StorageError, excerpt
from feedtool.storage import META_DIR, ConditionsUnsupported, Fetched, ObjectHeaders, PreconditionFailed

LEASE_KEY = f"{META_DIR}/lease.json"
#: Seconds a lease lasts without renewal: how long a killed publish blocks the next one.
LEASE_TTL_S = 120.0
#: Seconds between two looks at a lease someone else holds.
POLL_S = 1.0
_HEADERS = ObjectHeaders("application/json", "no-store", "other")


def ci_run() -> str | None:
    """The CI run this process belongs to, from the variables CI services set."""
    env = os.environ
    if env.get("GITHUB_RUN_ID"):
        repo = env.get("GITHUB_REPOSITORY", "")
        return f"GitHub Actions run {env['GITHUB_RUN_ID']}" + (f" of {repo}" if repo else "") + (
            f" (attempt {env['GITHUB_RUN_ATTEMPT']})" if env.get("GITHUB_RUN_ATTEMPT") else "")
    if env.get("CI_JOB_ID"):
        return f"GitLab job {env['CI_JOB_ID']}"
    if env.get("BUILD_URL"):
        return f"build {env['BUILD_URL']}"
    return None


@dataclass(frozen=True)
class LeaseInfo:
    token: str
    host: str
    pid: int | None
    ci_run: str | None
    acquired: str | None
    ttl_s: float

    def owner(self) -> str:
        parts = [f"host {excerpt(self.host, 80)}"]
        if self.pid is not None:
            parts.append(f"pid {self.pid}")
        if self.ci_run:
            parts.append(excerpt(self.ci_run, 120))
        return ", ".join(parts)


def parse_lease(data: bytes) -> LeaseInfo | None:
    try:
        body = json.loads(data)
        return LeaseInfo(
            token=str(body["token"]),
            host=str(body.get("host", "?")),
            pid=int(body["pid"]) if isinstance(body.get("pid"), int) else None,
            ci_run=str(body["ci_run"]) if body.get("ci_run") else None,
            acquired=str(body["acquired"]) if body.get("acquired") else None,
            ttl_s=min(max(float(body.get("ttl_s", LEASE_TTL_S)), 0.0), 3600.0),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def expires_at(info: LeaseInfo | None, fetched: Fetched) -> datetime:
    """When a lease runs out, by the service's clock (its Last-Modified + ttl)."""
    written = fetched.last_modified or datetime.now(UTC)
    ttl = info.ttl_s if info is not None else LEASE_TTL_S
    return written + timedelta(seconds=ttl)


class Lease:
    """The right to change one target, for one publish."""

    def __init__(self, target: Any, *, wait_s: float = 10.0, ttl_s: float = LEASE_TTL_S,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.target = target
        self.wait_s = wait_s
        self.ttl_s = ttl_s
        self.sleep = sleep
        self.token = secrets.token_hex(16)
        self.acquired = datetime.now(UTC).isoformat(timespec="seconds")
        self.etag: str | None = None
        self.conditional = True  # does the service honour If-None-Match / If-Match?
        self.lost: str | None = None  # why the lease is no longer ours
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self._lock = threading.Lock()

    def body(self) -> bytes:
        renewed = datetime.now(UTC)
        return json.dumps({
            "format": "feedtool-lease", "token": self.token, "host": socket.gethostname(), "pid": os.getpid(),
            "ci_run": ci_run(), "command": "feedtool publish", "acquired": self.acquired,
            "renewed": renewed.isoformat(timespec="seconds"), "ttl_s": self.ttl_s,
            "expires": (renewed + timedelta(seconds=self.ttl_s)).isoformat(timespec="seconds"),
        }, indent=1, sort_keys=True).encode() + b"\n"

    # -- taking it ----------------------------------------------------------------------------

    def acquire(self) -> None:
        """Take the lease, waiting up to ``wait_s`` for another publish; BusyError after that."""
        deadline = time.monotonic() + self.wait_s
        while True:
            current = self.target.get(LEASE_KEY)
            try:
                if current is None:
                    self._write(if_none_match=True)
                else:
                    info = parse_lease(current.data)
                    now = current.server_time or datetime.now(UTC)
                    until = expires_at(info, current)
                    if now < until:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            raise self._busy(info, now, until)
                        self.sleep(min(POLL_S, remaining))
                        continue
                    self._write(if_match=current.etag)  # take over an expired lease
            except PreconditionFailed:
                continue  # another publish was quicker: look again
            if self._read_back_is_ours():
                self._probe_conditions()
                return
            if time.monotonic() > deadline + self.ttl_s:  # cannot happen unless the service is broken
                raise StorageError(f"cannot take the publish lease on {self.target.description}")

    def _write(self, *, if_none_match: bool = False, if_match: str | None = None) -> None:
        if not self.conditional:
            if_none_match, if_match = False, None
        try:
            self.etag = self.target.put_bytes(LEASE_KEY, self.body(), _HEADERS,
                                              if_none_match=if_none_match, if_match=if_match)
        except ConditionsUnsupported:
            self.conditional = False  # write-then-read-back from now on
            self.etag = self.target.put_bytes(LEASE_KEY, self.body(), _HEADERS)

    def _read_back_is_ours(self) -> bool:
        back = self.target.get(LEASE_KEY)
        info = parse_lease(back.data) if back is not None else None
        if info is None or info.token != self.token:
            return False
        self.etag = back.etag if back is not None else self.etag
        return True

    def _probe_conditions(self) -> None:
        """Write the lease again with If-None-Match: *; a service that honours it refuses."""
        if not self.conditional:
            return
        try:
            etag = self.target.put_bytes(LEASE_KEY, self.body(), _HEADERS, if_none_match=True)
        except PreconditionFailed:
            self.conditional = True
            return
        except ConditionsUnsupported:
            self.conditional = False
            return
        self.conditional = False  # the condition was ignored (the lease was rewritten as ours)
        self.etag = etag

    def _busy(self, info: LeaseInfo | None, now: datetime, until: datetime) -> BusyError:
        owner = info.owner() if info else "an unreadable lease"
        since = f" since {info.acquired}" if info and info.acquired else ""
        left = max(int((until - now).total_seconds()), 0)
        return BusyError(
            f"another publish holds {self.target.description} ({owner}{since}); waited {self.wait_s:g} s. "
            f"Its lease runs out in {left} s unless that publish renews it",
            hint="let it finish, then publish again (or pass --wait SECONDS); a lease left by a publish "
                 f"that was killed expires by itself ({LEASE_KEY} on the target)",
        )

    # -- keeping it ---------------------------------------------------------------------------

    def start_renewing(self) -> None:
        self._renewer = threading.Thread(target=self._renew_loop, name="feedtool-lease", daemon=True)
        self._renewer.start()

    def _renew_loop(self) -> None:
        while not self._stop.wait(max(self.ttl_s / 4, 0.05)):
            self.renew()

    def renew(self) -> None:
        with self._lock:
            if self.lost:
                return
            try:
                if self.conditional:
                    self.etag = self.target.put_bytes(LEASE_KEY, self.body(), _HEADERS, if_match=self.etag)
                elif self._read_back_is_ours():
                    self.etag = self.target.put_bytes(LEASE_KEY, self.body(), _HEADERS)
                else:
                    self.lost = self._who_has_it()
            except PreconditionFailed:
                self.lost = self._who_has_it()
            except StorageError:
                pass  # a network blip: the next renewal (or the check before the feed) decides

    def _who_has_it(self) -> str:
        try:
            current = self.target.get(LEASE_KEY)
        except StorageError:
            return "it could not be read back"
        info = parse_lease(current.data) if current is not None else None
        return f"it is now held by {info.owner()}" if info else "it was removed"

    def check(self) -> None:
        """Raise unless the lease is still ours (read from the target, not remembered)."""
        with self._lock:
            if not self.lost and not self._read_back_is_ours():
                self.lost = self._who_has_it()
        if self.lost:
            raise BusyError(
                f"this publish lost its lease on {self.target.description} ({self.lost}); "
                "the live feed was not replaced",
                hint="another publish took over; publish again when it has finished",
            )

    # -- giving it back -----------------------------------------------------------------------

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=30)
        with self._lock:
            if self.lost:
                return
            try:
                current = self.target.get(LEASE_KEY)
                info = parse_lease(current.data) if current is not None else None
                if current is None or info is None or info.token != self.token:
                    return
                if current.etag:
                    self.target.delete_if_match(LEASE_KEY, current.etag)
                else:
                    self.target.delete([LEASE_KEY])
            except StorageError:
                pass  # it expires by itself

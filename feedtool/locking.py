"""One feedtool process at a time on an output folder and its build cache.

Two builds at once used to corrupt public/ for good: both staged into the same folder, both
hard-linked from the same cache, and the next build said "up to date". A build (and a publish,
which reads public/ and may build it) now holds two locks for its whole run: one beside the
output folder (``.feedtool-public.lock``) and one in the cache (``build.lock``), always in that order.

Why the ``filelock`` package: it takes the operating system's own lock (``flock`` on Linux and
macOS, ``msvcrt.locking`` on Windows), which the kernel releases when the process ends, even by
SIGKILL or a power cut of the CI runner. A lock made with ``O_EXCL`` would survive a killed
process and need stale-owner detection (is that pid alive? on which host? was it reused?),
which cannot be done reliably across machines. Who holds a lock is written beside it
(``<lock>.owner``, JSON: pid, host, command, start time) only to name it in the message of the
process that waits; it is never used to decide anything.

Locks are re-entrant within a process: ``publish`` holds them and calls ``build``.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feedtool.errors import BusyError, FeedtoolError, excerpt
from feedtool.files import write_atomic

#: Seconds a second build or publish waits for the first before giving up (exit 2).
DEFAULT_WAIT_S = 10.0

_held: dict[str, tuple[Any, int]] = {}  # lock path -> (FileLock, depth), this process only


def output_lock_path(out_dir: Path) -> Path:
    # Resolved: two spellings of one folder (a symlinked /tmp on macOS) must be one lock, or a
    # publish that builds would wait for itself.
    out = out_dir.resolve()
    return out.parent / f".feedtool-{out.name}.lock"


def cache_lock_path(cache_dir: Path) -> Path:
    return cache_dir.resolve() / "build.lock"


def _owner_text(lock_path: Path) -> str:
    try:
        owner = json.loads(Path(str(lock_path) + ".owner").read_text(encoding="utf-8"))
        parts = [f"pid {int(owner['pid'])}", f"on {excerpt(str(owner.get('host', '?')), 60)}"]
        if owner.get("command"):
            parts.append(f"`{excerpt(str(owner['command']), 60)}`")
        if owner.get("started"):
            parts.append(f"since {excerpt(str(owner['started']), 40)}")
        return "another feedtool process (" + ", ".join(parts) + ")"
    except (OSError, ValueError, KeyError, TypeError):
        return "another feedtool process"


def _acquire(lock_path: Path, what: str, wait_s: float) -> None:
    from filelock import FileLock, Timeout

    key = str(lock_path)
    if key in _held:
        lock, depth = _held[key]
        _held[key] = (lock, depth + 1)
        return
    lock = FileLock(key)
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=max(wait_s, 0), poll_interval=0.1)
    except Timeout:
        raise BusyError(
            f"{_owner_text(lock_path)} is using {what}; waited {wait_s:g} s",
            hint="let it finish and run this again, or pass --wait SECONDS to wait longer",
        ) from None
    except OSError as error:
        raise FeedtoolError(f"cannot lock {what}: {lock_path}: {error.strerror or error}",
                            hint="check that the folder is writable") from None
    _held[key] = (lock, 1)
    try:
        write_atomic(Path(key + ".owner"), json.dumps({
            "pid": os.getpid(), "host": socket.gethostname(),
            "command": " ".join(["feedtool", *sys.argv[1:2]]),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
        }).encode())
    except OSError:
        pass  # only used to name this process in another one's message


def _release(lock_path: Path) -> None:
    key = str(lock_path)
    lock, depth = _held[key]
    if depth > 1:
        _held[key] = (lock, depth - 1)
        return
    del _held[key]
    Path(key + ".owner").unlink(missing_ok=True)
    lock.release()


@contextmanager
def hold_output(out_dir: Path, cache_dir: Path, *, wait_s: float = DEFAULT_WAIT_S) -> Iterator[None]:
    """Hold the output folder's lock, then the cache's, for the duration of the block."""
    started = time.monotonic()
    out_lock, cache_lock = output_lock_path(out_dir), cache_lock_path(cache_dir)
    _acquire(out_lock, f"{out_dir}", wait_s)
    try:
        _acquire(cache_lock, f"the build cache {cache_dir}", max(wait_s - (time.monotonic() - started), 0))
        try:
            yield
        finally:
            _release(cache_lock)
    finally:
        _release(out_lock)

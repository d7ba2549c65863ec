"""Work on every core: forked worker processes whose results come back in order.

Used by build for large catalogues. Fork (not spawn) means the work function and everything it
reads reach the workers without pickling; only (start, end) pairs and results are pickled. Where
fork is not available, or other threads are running (a forked child could inherit their locks
held), everything runs in the calling process.

Workers never outlive the build. A worker waits for work on a pipe whose other end it holds
itself (fork copies it), so when the parent is killed (Ctrl-C twice, ``kill -9``, an OOM kill,
a cancelled CI job) nothing ever wakes it: it would sit there forever. So each worker asks
Linux to kill it when its parent dies (``prctl(PR_SET_PDEATHSIG)``), and, on every system,
runs a small thread that exits the process as soon as its parent is no longer the process
that forked it (``os.getppid()`` changes when a process is orphaned).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

#: Fewer items than this are done in one process: forking and pickling would cost more.
PARALLEL_MIN_EPISODES = 100
#: The work a forked worker does; set while a pool runs, read from the worker's copy of memory.
_FORKED_WORK: Callable[[int, int], Any] | None = None
#: Seconds between two looks at the parent, in each worker (the portable fallback).
PARENT_POLL_S = 0.5
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """In a worker: end this process when the build that forked it ends, however it ended."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watcher below still works
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(PARENT_POLL_S)
        os._exit(1)

    threading.Thread(target=watch, name="feedtool-parent-watch", daemon=True).start()


def worker_count(items: int) -> int:
    """How many processes: FEEDTOOL_JOBS if set, else one per core when there is much to do."""
    import multiprocessing
    import threading

    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return 1  # no fork, or other threads whose locks a forked child could inherit held
    wanted = os.environ.get("FEEDTOOL_JOBS", "").strip()
    if wanted.isdigit() and int(wanted) > 0:
        return min(int(wanted), max(1, items))
    if items < PARALLEL_MIN_EPISODES:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def _forked_run(run: tuple[int, int]) -> Any:
    assert _FORKED_WORK is not None
    return _FORKED_WORK(*run)


def forked_runs(work: Callable[[int, int], T], count: int, workers: int) -> Iterator[T]:
    """work(start, end) over runs of range(count) in forked workers, yielded in order.

    Only the (start, end) pairs and the results are pickled; ``work`` and what it reads come to
    the workers with fork. Results come in order, so the first error raised is the one a single
    process would have met first; the runs not started yet are then cancelled.
    """
    import gc
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _FORKED_WORK
    size = max(1, -(-count // (workers * 8)))
    runs = [(start, min(start + size, count)) for start in range(0, count, size)]
    _FORKED_WORK = work
    # Frozen objects are never walked by the collector: a worker's collections then leave the
    # memory it shares with this process alone instead of touching (and so copying) every page.
    gc.freeze()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_die_with_parent, initargs=(os.getpid(),))
    try:
        yield from pool.map(_forked_run, runs)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        _FORKED_WORK = None
        gc.unfreeze()
    pool.shutdown(wait=True)

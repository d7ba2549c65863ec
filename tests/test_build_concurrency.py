"""Builds that overlap, are killed, or run out of disk: public/ stays whole and nothing is left behind.

Every process here is a real `feedtool build` started the way a user starts it (two terminals,
an editor's build-on-save next to a CI step, `kill -9`), each bounded in time.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PodcastFactory
from lxml import etree

FEEDTOOL = [sys.executable, "-m", "feedtool"]


def build_process(podcast: PodcastFactory, *args: str, env: dict[str, str] | None = None,
                  **popen: object) -> subprocess.Popen[str]:
    return subprocess.Popen([*FEEDTOOL, "build", "--episodes", str(podcast.episodes), "--out", str(podcast.public),
                             *args], cwd=podcast.root, env=env or dict(os.environ), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **popen)  # type: ignore[call-overload]


def add_episodes(podcast: PodcastFactory, count: int) -> None:
    for number in range(3, 3 + count):
        podcast.add(f"ep-{number:03d}", number=number, date="2024-02-01T09:00:00Z", seconds=2.0)


def assert_feed_whole(public: Path) -> int:
    """Every file the feed references is in public/ with the size the feed says; returns how many."""
    feed = etree.parse(str(public / "feed.xml")).getroot()
    base = "https://cdn.example.com/show/"
    checked = 0
    for element in feed.iter():
        for name, value in element.attrib.items():
            if value.startswith(base) and len(value) > len(base):
                path = public / value[len(base):]
                assert path.is_file(), f"the feed references {value}, which is missing"
                if element.tag == "enclosure" and name == "url":
                    assert path.stat().st_size == int(element.get("length")), value
                checked += 1
    return checked


def test_two_builds_at_once_leave_public_whole(podcast: PodcastFactory) -> None:
    """Issue 12.2: `feedtool build & feedtool build &` used to corrupt public/ for good."""
    add_episodes(podcast, 30)
    env = dict(os.environ, FEEDTOOL_JOBS="2")
    runs = [build_process(podcast, "--wait", "120", env=env) for _ in range(2)]
    results = [(run.wait(timeout=300), *run.communicate()) for run in runs]
    for code, _out, err in results:
        assert code == 0, err
        assert "Traceback" not in err
    assert assert_feed_whole(podcast.public) >= 32 * 2
    again = build_process(podcast)
    assert again.wait(timeout=120) == 0
    assert "up to date" in again.communicate()[0]
    assert not list(podcast.root.glob(".public.*"))  # no staging left behind


def test_a_second_build_names_the_first_and_exits_2(podcast: PodcastFactory) -> None:
    """The lock is held here (a real OS lock, as a running build holds it) so the second build
    meets it every time, however fast the machine; two real builds racing are tested above."""
    from feedtool.build import build_podcast, default_cache_dir
    from feedtool.locking import hold_output

    build_podcast(podcast.episodes, podcast.public)
    before = (podcast.public / "feed.xml").read_bytes()
    with hold_output(podcast.public, default_cache_dir(podcast.episodes), wait_s=0):
        second = build_process(podcast, "--wait", "0", "--force")
        code = second.wait(timeout=60)
        err = second.communicate()[1]
    assert code == 2, err
    assert f"pid {os.getpid()}" in err and "--wait" in err and "Traceback" not in err
    assert (podcast.public / "feed.xml").read_bytes() == before
    assert_feed_whole(podcast.public)


def test_up_to_date_checks_the_files_it_trusts(podcast: PodcastFactory) -> None:
    from feedtool.build import build_podcast

    build_podcast(podcast.episodes, podcast.public)
    audio = next(podcast.public.glob("first/*.mp3"))
    whole = audio.read_bytes()
    audio.unlink()  # deleted by hand, or by a tool that crashed half-way
    result = build_podcast(podcast.episodes, podcast.public)
    assert not result.up_to_date
    assert audio.read_bytes() == whole
    audio.write_bytes(whole[: len(whole) // 2])  # truncated
    assert not build_podcast(podcast.episodes, podcast.public).up_to_date
    assert audio.read_bytes() == whole
    assert build_podcast(podcast.episodes, podcast.public).up_to_date
    assert_feed_whole(podcast.public)


def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.add(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_killing_a_parallel_build_leaves_no_worker_behind(podcast: PodcastFactory) -> None:
    """Issue 12.12: workers of a build killed with SIGKILL used to wait for work forever."""
    add_episodes(podcast, 40)
    build = build_process(podcast, "--force", env=dict(os.environ, FEEDTOOL_JOBS="2"))
    workers: set[int] = set()
    deadline = time.monotonic() + 60
    while len(workers) < 2 and build.poll() is None and time.monotonic() < deadline:
        workers = _children(build.pid)  # forked workers: children of the build process
        time.sleep(0.01)
    assert len(workers) >= 2, "the build finished before its workers were seen; make it bigger"
    os.kill(build.pid, signal.SIGKILL)
    build.wait(timeout=10)
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [pid for pid in workers if _alive(pid)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert not survivors, f"{len(survivors)} worker(s) outlived the killed build"


def _limit_file_size(limit: int):  # type: ignore[no-untyped-def]
    def apply() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_full_disk_is_one_message_and_public_stays(podcast: PodcastFactory) -> None:
    """Issue 12.13: a full disk on --out gave a traceback."""
    first = build_process(podcast)
    assert first.wait(timeout=120) == 0, first.communicate()
    before = {p: p.read_bytes() for p in podcast.public.rglob("*") if p.is_file()}
    md = podcast.episodes / "first" / "episode.md"
    md.write_text(md.read_text().replace("First & Foremost", "First, retitled"), encoding="utf-8")
    full = build_process(podcast, preexec_fn=_limit_file_size(16 * 1024))
    code = full.wait(timeout=120)
    err = full.communicate()[1]
    assert code == 2, err
    assert "Traceback" not in err
    assert re.search(r"File too large|No space left", err), err
    assert {p: p.read_bytes() for p in podcast.public.rglob("*") if p.is_file()} == before


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_full_disk_on_a_local_publish_target_is_one_message(podcast: PodcastFactory) -> None:
    done = subprocess.run([*FEEDTOOL, "build", "--episodes", str(podcast.episodes), "--out", str(podcast.public)],
                          cwd=podcast.root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    full = subprocess.run([*FEEDTOOL, "publish", "--episodes", str(podcast.episodes), "--out", str(podcast.public),
                           "--no-validate", "--to", str(podcast.root / "site")], cwd=podcast.root,
                          capture_output=True, text=True, timeout=120, preexec_fn=_limit_file_size(16 * 1024))
    assert full.returncode == 2, full.stderr
    assert "Traceback" not in full.stderr and "File too large" in full.stderr
    assert not (podcast.root / "site" / "feed.xml").exists()


def test_a_publish_that_builds_through_a_linked_path_does_not_wait_for_itself(podcast: PodcastFactory) -> None:
    """The output lock is taken once per folder, however the folder is spelled."""
    from feedtool.publish import PublishOptions, publish

    link = podcast.root.parent / f"{podcast.root.name}-link"
    link.symlink_to(podcast.root, target_is_directory=True)
    report = publish(PublishOptions(episodes_dir=link / "episodes", out_dir=podcast.public, progress=False,
                                    validate=False, to=str(podcast.root / "site"), wait_s=0))
    assert report.built and report.result is not None


def test_a_lock_that_cannot_be_made_is_one_message(podcast: PodcastFactory) -> None:
    (podcast.root / ".feedtool-public.lock").mkdir()  # something in the way of the lock file
    done = subprocess.run([*FEEDTOOL, "build", "--episodes", str(podcast.episodes), "--out", str(podcast.public),
                           "--wait", "0"], cwd=podcast.root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and ".feedtool-public.lock" in done.stderr

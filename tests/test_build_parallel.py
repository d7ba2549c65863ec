"""build on several cores, rebuilds after a fresh clone, one-pass notes: same output, no re-tagging."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import PodcastFactory, built_file


def tree(folder: Path) -> dict[Path, bytes]:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_two_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests below mean the forked path: make sure it is the one taken.

    build forks no workers while other threads run; a thread another test module left running
    (a local server) must not turn these tests into one-process builds.
    """
    import threading

    from feedtool.parallel import worker_count

    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert worker_count(8) == 2


def add_episodes(podcast: PodcastFactory, count: int) -> None:
    for number in range(3, 3 + count):
        podcast.add(f"ep-{number:02d}", number=number, date=f"2024-02-{number:02d}T09:00:00Z",
                    seconds=3.0, notes=f"Notes for {number}, see https://example.com/{number}\n\n"
                                       "[00:00] Start\n[00:01] Middle\n",
                    extra="summary: A summary" if number % 3 == 0 else "")


def test_parallel_build_writes_the_same_files_as_one_process(podcast, monkeypatch) -> None:
    from feedtool.build import build_podcast

    add_episodes(podcast, 6)
    monkeypatch.setenv("FEEDTOOL_JOBS", "1")
    one = build_podcast(podcast.episodes, podcast.public)
    single = tree(podcast.public)
    shutil.rmtree(podcast.root / ".feedtool-cache")
    shutil.rmtree(podcast.public)
    monkeypatch.setenv("FEEDTOOL_JOBS", "2")
    assert_two_workers(monkeypatch)
    two = build_podcast(podcast.episodes, podcast.public)
    assert tree(podcast.public) == single
    assert (one.tagged, two.tagged, two.reused) == (8, 8, 0)
    # The workers' cache entries were merged: a forced rebuild re-tags nothing.
    again = build_podcast(podcast.episodes, podcast.public, force=True)
    assert (again.tagged, again.reused) == (0, 8)
    assert tree(podcast.public) == single


def test_parallel_build_reports_the_first_bad_episode(podcast, monkeypatch) -> None:
    from feedtool.build import build_podcast
    from feedtool.errors import ChapterError

    add_episodes(podcast, 6)
    for slug in ("ep-04", "ep-07"):  # chapters past the end of 3 s of audio
        md = podcast.episodes / slug / "episode.md"
        md.write_text(md.read_text(encoding="utf-8").replace("[00:01] Middle", "[00:09] Late"),
                      encoding="utf-8")
    monkeypatch.setenv("FEEDTOOL_JOBS", "2")
    assert_two_workers(monkeypatch)
    with pytest.raises(ChapterError) as raised:
        build_podcast(podcast.episodes, podcast.public)
    assert "ep-04" in str(raised.value)
    assert not podcast.public.exists() and not list(podcast.root.glob(".public.*"))


def test_fresh_clone_with_the_cache_reuses_tagged_audio(podcast) -> None:
    """New mtimes, same bytes (a CI checkout with a restored cache): nothing is tagged again."""
    from feedtool.build import build_podcast

    first = build_podcast(podcast.episodes, podcast.public)
    feed = (podcast.public / "feed.xml").read_bytes()
    later = time.time() + 60
    for path in podcast.episodes.rglob("*"):
        os.utime(path, (later, later))
    again = build_podcast(podcast.episodes, podcast.public)
    assert not again.up_to_date
    assert (first.tagged, again.tagged, again.reused) == (2, 0, 2)
    assert (podcast.public / "feed.xml").read_bytes() == feed


def test_parallel_load_reports_the_first_bad_episode_file(podcast, monkeypatch) -> None:
    from feedtool.build import build_podcast
    from feedtool.errors import InputError

    add_episodes(podcast, 6)
    (podcast.episodes / "ep-05" / "episode.md").write_text("---\ntitle: [broken\n---\n", encoding="utf-8")
    (podcast.episodes / "ep-08" / "episode.md").write_text("no front matter\n", encoding="utf-8")
    monkeypatch.setenv("FEEDTOOL_JOBS", "2")
    assert_two_workers(monkeypatch)
    with pytest.raises(InputError) as raised:
        build_podcast(podcast.episodes, podcast.public)
    assert "ep-05" in str(raised.value) and "invalid YAML" in str(raised.value)


@pytest.mark.parametrize("html", [
    "<p>a &amp; b &lt;x&gt; &#233;</p><br/><ul><li>x<br>y</li></ul><script>if (a<b) {}</script><p>t</p>",
    "<h1>T</h1>text<div>d</div><ol><li><a href='u?a=1&b=2'>link</a></li></ol><img src=x/>tail",
    "<p>" + "word " * 2000 + "</p>",
    "<p>[00:00] Intro<br>\n[01:02] Next</p>" * 300,
    "<p>unclosed <b>bold",
    "",
])
def test_one_pass_description_matches_the_two_functions(html: str) -> None:
    """build parses each note's HTML once for both the Apple description and the plain text."""
    from feedtool.notes import apple_description, describe, plain_text

    assert describe(html) == (apple_description(html), plain_text(html))
    assert describe(html, limit=120) == (apple_description(html, limit=120), plain_text(html))


def test_unchanged_chapters_file_is_not_written_again(podcast) -> None:
    """chapters.json comes from a content-named file in the cache, linked into public/."""
    from feedtool.build import build_podcast

    build_podcast(podcast.episodes, podcast.public)
    chapters = built_file(podcast.public / "first", "chapters-*.json")
    before = chapters.stat()
    mask = os.umask(0o022)
    os.umask(mask)
    assert before.st_mode & 0o777 == 0o666 & ~mask
    build_podcast(podcast.episodes, podcast.public, force=True)
    assert chapters.stat().st_ino == before.st_ino
    md = podcast.episodes / "first" / "episode.md"
    md.write_text(md.read_text(encoding="utf-8").replace("Middle", "Centre"), encoding="utf-8")
    build_podcast(podcast.episodes, podcast.public)
    assert not chapters.exists()  # new content, new name
    chapters = built_file(podcast.public / "first", "chapters-*.json")
    assert chapters.stat().st_ino != before.st_ino and b"Centre" in chapters.read_bytes()
    # the two chapters.json (the website adds its pages and assets next to them)
    assert len(list((podcast.root / ".feedtool-cache" / "files").glob("*.json"))) == 2  # old one pruned

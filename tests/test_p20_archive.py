"""Feeds that stay readable as shows grow: full notes for the newest episodes only, RFC 5005 archive pages
for the rest, and nothing dropped silently (validate --against and publish's removal guard see every
guid across the pages)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import PodcastFactory, run_cli
from lxml import etree

NS = {"atom": "http://www.w3.org/2005/Atom", "fh": "http://purl.org/syndication/history/1.0",
      "content": "http://purl.org/rss/1.0/modules/content/"}
BASE = "https://cdn.feedtool-corpus.net/show/"  # not a placeholder: validate's ready.* rules stay quiet


@pytest.fixture
def show(podcast: PodcastFactory) -> PodcastFactory:
    """Seven episodes, one a day, at a real-looking address with a real-looking owner."""
    podcast.set_show(base_url=BASE, owner="{name: Test Owner, email: owner@feedtool-corpus.net}")
    for number in range(3, 8):
        podcast.add(f"ep{number}", number=number, seconds=5)
    return podcast


def build(podcast: PodcastFactory, runner, out: Path | None = None) -> None:
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", out or podcast.public)
    assert result.exit_code == 0, result.output


def doc(path: Path) -> etree._Element:
    return etree.parse(str(path)).getroot().find("channel")


def links(channel: etree._Element) -> dict[str, str]:
    return {el.get("rel"): el.get("href") for el in channel.findall("atom:link", NS)}


def guids(channel: etree._Element) -> list[str]:
    return [item.findtext("guid") for item in channel.findall("item")]


def local(public: Path, url: str) -> Path:
    assert url.startswith(BASE)
    return public / url[len(BASE):]


def test_max_items_moves_older_episodes_to_linked_archive_pages(show: PodcastFactory, runner, partytime,
                                                                 feedsmith) -> None:
    build(show, runner)
    everything = guids(doc(show.public / "feed.xml"))
    assert len(everything) == 7
    show.set_show(feed="{max_items: 3, page_size: 2}")
    result = run_cli(runner, "build", "--episodes", show.episodes, "--out", show.public)
    assert "7 episode(s) (the older ones in 2 archive page(s))" in result.output

    main = doc(show.public / "feed.xml")
    assert guids(main) == everything[:3]  # the newest three
    main_links = links(main)
    assert main.find("fh:archive", NS) is None and "current" not in main_links
    newest = local(show.public, main_links["prev-archive"])
    assert main_links["next"] == main_links["prev-archive"]  # paged-feed readers follow rel=next
    assert newest.parent.name == "archive" and newest.name.startswith("feed-2-")

    page2 = doc(newest)
    assert page2.find("fh:archive", NS) is not None
    assert links(page2)["current"] == BASE + "feed.xml"
    assert links(page2)["self"] == main_links["prev-archive"]
    assert "next-archive" not in links(page2)  # the newest page
    assert guids(page2) == everything[3:5]
    oldest = local(show.public, links(page2)["prev-archive"])
    page1 = doc(oldest)
    assert guids(page1) == everything[5:7] and "prev-archive" not in links(page1)
    assert links(page1)["next-archive"] == main_links["prev-archive"]
    assert sorted(p.name for p in (show.public / "archive").iterdir()) == sorted([newest.name, oldest.name])

    # independent readers see the links and the archive marker
    assert partytime(show.public / "feed.xml")["channel"]["pubsub"]["next"] == main_links["prev-archive"]
    fs_links = {link["rel"]: link["href"] for link in feedsmith(newest)["atom"]["links"]}
    assert fs_links["current"] == BASE + "feed.xml" and fs_links["prev-archive"].endswith(oldest.name)

    report = run_cli(runner, "validate", show.public / "feed.xml", "--format", "json")
    data = json.loads(report.output)
    assert report.exit_code == 0 and data["summary"]["warnings"] == 0, report.output
    assert not [f for f in data["findings"] if f["rule"] == "directory.archive"]


def test_archive_pages_keep_their_names_as_new_episodes_arrive(show: PodcastFactory, runner) -> None:
    show.set_show(feed="{max_items: 3, page_size: 2}")
    build(show, runner)
    before = {p.name: p.read_bytes() for p in (show.public / "archive").iterdir()}
    show.add("ep8", number=8, date="2024-01-08T09:00:00Z")
    build(show, runner)
    after = {p.name: p.read_bytes() for p in (show.public / "archive").iterdir()}
    oldest = min(before, key=lambda name: name.split("-")[1])
    assert after[oldest] == before[oldest]  # a full page stays byte for byte
    assert set(before) < set(after) and len(after) == 3  # the next page is new, the full ones keep their names
    assert len(guids(doc(show.public / "feed.xml"))) == 3


def test_full_notes_keeps_content_encoded_for_the_newest_only(show: PodcastFactory, runner) -> None:
    show.set_show(feed="{full_notes: 2}")
    build(show, runner)
    items = doc(show.public / "feed.xml").findall("item")
    assert [item.find("content:encoded", NS) is not None for item in items] == [True, True] + [False] * 5
    assert all(item.findtext("description") for item in items)
    report = run_cli(runner, "validate", show.public / "feed.xml")
    assert report.exit_code == 0 and "0 warning(s)" in report.output, report.output


def test_a_missing_archive_page_is_an_error(show: PodcastFactory, runner) -> None:
    show.set_show(feed="{max_items: 4}")
    build(show, runner)
    (page,) = (show.public / "archive").iterdir()
    page.unlink()
    report = run_cli(runner, "validate", show.public / "feed.xml", "--format", "json")
    findings = [f for f in json.loads(report.output)["findings"] if f["rule"] == "directory.archive"]
    assert report.exit_code == 1 and "is missing" in findings[0]["message"]


def test_validate_against_sees_every_guid_across_the_pages(show: PodcastFactory, runner, tmp_path: Path) -> None:
    build(show, runner, tmp_path / "live")  # the live feed: all seven in one document
    show.set_show(feed="{max_items: 3, page_size: 2}")
    build(show, runner)
    result = run_cli(runner, "validate", show.public / "feed.xml", "--against", tmp_path / "live/feed.xml",
                     "--format", "json")
    data = json.loads(result.output)
    assert result.exit_code == 0, result.output
    assert not [f for f in data["findings"] if f["rule"].startswith("live.")]
    # the other way round too: live paged, new in one document
    result = run_cli(runner, "validate", tmp_path / "live/feed.xml", "--against", show.public / "feed.xml")
    assert result.exit_code == 0, result.output
    # an episode that really went away is still found, wherever it was
    oldest = sorted((show.public / "archive").iterdir())[0]
    gone = guids(doc(oldest))[0]
    text = oldest.read_text()
    item_start = text.index("<item>")
    oldest.write_text(text[:item_start] + text[text.index("</item>", item_start) + len("</item>"):])
    result = run_cli(runner, "validate", show.public / "feed.xml", "--against", tmp_path / "live/feed.xml",
                     "--format", "json")
    removed = [f for f in json.loads(result.output)["findings"] if f["rule"] == "live.episode.removed"]
    assert [f["item_guid"] for f in removed] == [gone]


def test_publish_guard_follows_the_live_and_the_new_pages(show: PodcastFactory, runner, tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = run_cli(runner, "publish", "--episodes", show.episodes, "--out", show.public, "--to", site)
    assert result.exit_code == 0, result.output
    show.set_show(feed="{max_items: 3, page_size: 2}")
    result = run_cli(runner, "publish", "--episodes", show.episodes, "--out", show.public, "--to", site)
    assert result.exit_code == 0, result.output  # episodes moved to archive pages: nothing is lost
    assert len(list((site / "archive").iterdir())) == 2
    # a live archive page gone missing: the guard cannot see those episodes and refuses
    for page in (site / "archive").iterdir():
        page.unlink()
    show.add("ep8", number=8, date="2024-01-08T09:00:00Z")
    result = run_cli(runner, "publish", "--episodes", show.episodes, "--out", show.public, "--to", site)
    assert result.exit_code == 1 and "cannot be read" in result.stderr and "missing" in result.stderr


def test_the_pages_are_what_publish_uploads_before_the_feed(show: PodcastFactory) -> None:
    from feedtool.build import build_podcast
    from feedtool.storage import headers_for

    show.set_show(feed="{max_items: 4}")
    build_podcast(show.episodes, show.public)
    (page,) = (show.public / "archive").iterdir()
    headers = headers_for(f"archive/{page.name}")
    assert headers.kind != "feed" and headers.content_type.startswith("application/xml")
    shutil.rmtree(show.public)


def test_a_guid_changed_on_an_archive_page_is_one_finding_naming_its_episode_file(
        show: PodcastFactory, runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The live-feed comparison's readable findings (source map) hold across archive pages too."""
    build(show, runner, tmp_path / "live")  # the live feed: all seven in one document
    show.set_show(feed="{max_items: 3, page_size: 2}")
    (show.episodes / "feedtool.lock").unlink()  # the ledger lost, and an old episode's folder renamed
    (show.episodes / "ep3").rename(show.episodes / "ep3-moved")
    build(show, runner)
    assert b"ep3-moved/" not in (show.public / "feed.xml").read_bytes()  # it is on an archive page
    monkeypatch.chdir(show.root)
    result = run_cli(runner, "validate", show.public / "feed.xml", "--against", tmp_path / "live/feed.xml",
                     "--format", "json")
    assert result.exit_code == 1
    (changed,) = [f for f in json.loads(result.stdout)["findings"] if f["rule"].startswith("live.")]
    assert changed["rule"] == "live.guid.changed" and changed["scope"] == "live"
    assert "archive page" in changed["message"] and changed["line"] is None and changed["item_index"] is None
    assert "episodes/ep3-moved/episode.md" in changed["fix"]


def _publish(show: PodcastFactory, when: datetime, **options: object) -> Any:
    from feedtool.publish import PublishOptions, publish

    return publish(PublishOptions(episodes_dir=show.episodes, out_dir=show.public, to=str(show.root / "site"),
                                  cache_dir=show.root / ".feedtool-cache", progress=False, **options),
                   now=lambda: when)


def _served(public: Path) -> dict[str, set[str]]:
    """Per document (feed.xml and each archive page): the keys of the enclosures it lists."""
    documents = [public / "feed.xml", *sorted((public / "archive").iterdir())]
    return {str(path.relative_to(public)): {local(public, e.get("url")).relative_to(public).as_posix()
                                            for e in doc(path).iter("enclosure")} for path in documents}


def test_publish_verifies_and_records_every_archive_page_and_what_it_references(show: PodcastFactory) -> None:
    """Archive pages are part of the feed: checked on the target before the feed goes live, and in the
    reference history that --delete's grace period reads."""
    show.set_show(feed="{max_items: 3, page_size: 2}")
    report = _publish(show, datetime(2026, 11, 1, tzinfo=UTC))
    served = _served(show.public)
    pages = [key for key in served if key.startswith("archive/")]
    assert len(pages) == 2
    assert report.plan.referenced >= set(pages) | set().union(*served.values())
    (record,) = json.loads((show.root / "site/.feedtool/references.json").read_text())["feeds"]
    assert set(record["keys"]) >= set(pages) | set().union(*served.values())


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)}


def test_delete_keeps_the_archive_pages_a_recent_feed_links_for_the_grace_period(show: PodcastFactory) -> None:
    """An archive page is content-named: when an old episode changes, the pages get new names. Subscribers
    still holding the previous feed follow its prev-archive chain: those pages, and what only they
    reference (the old episode's media and chapters), stay for the grace period."""
    t0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    show.set_show(feed="{max_items: 3, page_size: 2}")
    _publish(show, t0)
    before = _served(show.public)
    md = show.episodes / "first" / "episode.md"  # the oldest episode: on the oldest archive page
    md.write_text(md.read_text().replace("First & Foremost", "First, retitled"), encoding="utf-8")
    report = _publish(show, t0 + timedelta(hours=1), delete=True)
    after = _served(show.public)
    old_pages = {key for key in before if key.startswith("archive/")} - set(after)
    old_media = set().union(*before.values()) - set().union(*after.values())
    assert len(old_pages) == 2 and len(old_media) == 1  # both pages renamed; the retitled episode re-tagged
    stale = _files(show.root / "site") - _files(show.public)  # what the new feed no longer references
    assert stale >= old_pages | old_media
    assert report.result is not None and report.result.deleted == []
    assert {k.key for k in report.plan.kept} == stale
    assert all(k.until == t0 + timedelta(hours=1, days=7) for k in report.plan.kept)

    report = _publish(show, t0 + timedelta(days=8), delete=True)
    assert report.result is not None and set(report.result.deleted) == stale


def test_the_live_feeds_pages_are_protected_without_a_reference_history(show: PodcastFactory) -> None:
    """A target published before feedtool kept references.json: the live feed's own pages (read from the
    target by the removal guard) still protect what they list."""
    t0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    show.set_show(feed="{max_items: 3, page_size: 2}")
    _publish(show, t0)
    (show.root / "site/.feedtool/references.json").unlink()
    before = _served(show.public)
    md = show.episodes / "first" / "episode.md"
    md.write_text(md.read_text().replace("First & Foremost", "First, retitled"), encoding="utf-8")
    report = _publish(show, t0 + timedelta(hours=1), delete=True)
    after = _served(show.public)
    gone = (set(before) - set(after)) | (set().union(*before.values()) - set().union(*after.values()))
    assert len(gone) == 3  # two pages and one episode's audio, referenced by the live feed's pages only
    assert report.result is not None and report.result.deleted == []
    assert gone <= {k.key for k in report.plan.kept}


def test_archive_pages_are_served_like_the_feed_and_cached_for_good() -> None:
    from feedtool.storage import headers_for

    page = headers_for("archive/feed-1-0123abcd.xml")
    assert page.kind == "archive" and page.content_type == headers_for("feed.xml").content_type
    assert "immutable" in page.cache_control
    assert "immutable" not in headers_for("archive/feed-1.xml").cache_control  # no content name

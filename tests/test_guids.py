"""The guid ledger (episodes/feedtool.lock, version 2): guids survive renamed folders, and the
ledger's messages say what happened (recorded, derived, renamed), never that a guid "was published"."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from conftest import REPO, PodcastFactory, run_cli
from lxml import etree


def ledger(podcast: PodcastFactory) -> dict:
    return json.loads((podcast.episodes / "feedtool.lock").read_text(encoding="utf-8"))


def guids_in_feed(podcast: PodcastFactory) -> dict[str, str]:
    """episode title -> guid, as the built feed says."""
    feed = etree.parse(str(podcast.public / "feed.xml"))
    return {item.findtext("title"): item.findtext("guid") for item in feed.findall("channel/item")}


def build(podcast: PodcastFactory, runner, *args: str):
    return run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public, *args)


def front_matter(podcast: PodcastFactory, slug: str, line: str) -> None:
    path = podcast.episodes / slug / "episode.md"
    path.write_text(path.read_text(encoding="utf-8").replace("---\n", f"---\n{line}\n", 1), encoding="utf-8")


def test_ledger_records_number_and_master(podcast, runner) -> None:
    assert build(podcast, runner).exit_code == 0
    entry = ledger(podcast)["episodes"]["first"]
    master = podcast.episodes / "first/audio.mp3"
    assert ledger(podcast)["version"] == 2
    assert entry["number"] == 1
    recorded = entry["master"]
    assert {key: recorded[key] for key in ("source", "size", "sha256")} == {
        "source": "audio.mp3", "size": master.stat().st_size,
        "sha256": hashlib.sha256(master.read_bytes()).hexdigest()}
    # and what a build without the master needs (issue 10): kind, duration, the copy the feed names
    assert recorded["kind"] == "mp3" and recorded["duration_s"] > 0
    assert recorded["tagged"]["name"].startswith("first/audio-")
    assert (podcast.public / recorded["tagged"]["name"]).stat().st_size == recorded["tagged"]["size"]
    assert guids_in_feed(podcast)["First & Foremost"] == entry["guid"]


def test_renamed_folder_with_the_same_master_keeps_its_guid(podcast, runner) -> None:
    assert build(podcast, runner).exit_code == 0
    before = guids_in_feed(podcast)
    old = ledger(podcast)["episodes"]["first"]["guid"]
    os.rename(podcast.episodes / "first", podcast.episodes / "ep-01")
    result = build(podcast, runner)
    assert result.exit_code == 0, result.output
    assert guids_in_feed(podcast) == before
    assert sorted(ledger(podcast)["episodes"]) == ["ep-01", "second"]
    assert ledger(podcast)["episodes"]["ep-01"]["guid"] == old
    assert "'first' is gone and 'ep-01' has the same master audio (audio.mp3)" in result.stderr
    assert f"it keeps guid {old}" in result.stderr


def test_renamed_folder_with_a_new_master_keeps_its_guid_by_number(podcast, runner, tone) -> None:
    assert build(podcast, runner).exit_code == 0
    before = guids_in_feed(podcast)
    os.rename(podcast.episodes / "first", podcast.episodes / "ep-01")
    shutil.copyfile(tone("mp3", 4, 550), podcast.episodes / "ep-01/audio.mp3")  # re-exported
    result = build(podcast, runner)
    assert result.exit_code == 0, result.output
    assert guids_in_feed(podcast) == before
    assert "has the same episode number (1) and other audio" in result.stderr
    entry = ledger(podcast)["episodes"]["ep-01"]
    assert entry["master"]["sha256"] == hashlib.sha256((podcast.episodes / "ep-01/audio.mp3").read_bytes()).hexdigest()


def test_two_folders_renamed_at_once(podcast, runner) -> None:
    assert build(podcast, runner).exit_code == 0
    before = guids_in_feed(podcast)
    os.rename(podcast.episodes / "first", podcast.episodes / "one")
    os.rename(podcast.episodes / "second", podcast.episodes / "two")
    result = build(podcast, runner)
    assert result.exit_code == 0, result.output
    assert guids_in_feed(podcast) == before
    assert sorted(ledger(podcast)["episodes"]) == ["one", "two"]
    assert result.stderr.count("taken as") == 2


def test_ambiguous_rename_is_refused_with_one_fix_that_then_works(podcast, runner) -> None:
    assert build(podcast, runner).exit_code == 0
    old = ledger(podcast)["episodes"]["first"]["guid"]
    lock_before = (podcast.episodes / "feedtool.lock").read_bytes()
    # 'first' is gone; two new folders have its master and neither its number.
    shutil.copytree(podcast.episodes / "first", podcast.episodes / "copy-a")
    os.rename(podcast.episodes / "first", podcast.episodes / "copy-b")
    for slug, number in (("copy-a", 7), ("copy-b", 8)):
        md = podcast.episodes / slug / "episode.md"
        md.write_text(md.read_text().replace("episode: 1", f"episode: {number}"), encoding="utf-8")
    result = build(podcast, runner)
    assert result.exit_code == 2
    assert "episode folders 'copy-a' and 'copy-b' are new to feedtool.lock" in result.stderr
    assert f"'first' (guid {old}) renamed" in result.stderr
    assert f"'guid: {old}' in copy-a/episode.md" in result.stderr
    assert (podcast.episodes / "feedtool.lock").read_bytes() == lock_before

    front_matter(podcast, "copy-b", f"guid: {old}")  # the fix the message gives
    result = build(podcast, runner)
    assert result.exit_code == 0, result.output
    episodes = ledger(podcast)["episodes"]
    assert episodes["copy-b"]["guid"] == old and "first" not in episodes
    assert episodes["copy-a"]["guid"] not in (old, episodes["second"]["guid"])
    assert "takes over guid" in result.stderr and "'first'" in result.stderr


def test_old_guid_in_front_matter_after_a_bad_rename_is_accepted(podcast, runner) -> None:
    """The issue's path: a build before this fix recorded a second entry with a derived guid for the
    renamed folder; putting the old guid into its front matter now moves the record and says what
    happens to the derived one (never that it "was published")."""
    assert build(podcast, runner).exit_code == 0
    old = ledger(podcast)["episodes"]["first"]["guid"]
    from feedtool.guids import derive_guid
    from feedtool.load import load_show

    derived = derive_guid(load_show(podcast.episodes), "ep-01")
    data = ledger(podcast)
    data["episodes"]["ep-01"] = {"guid": derived}
    (podcast.episodes / "feedtool.lock").write_text(json.dumps(data), encoding="utf-8")
    os.rename(podcast.episodes / "first", podcast.episodes / "ep-01")
    front_matter(podcast, "ep-01", f"guid: {old}")
    result = build(podcast, runner)
    assert result.exit_code == 0, result.output
    assert ledger(podcast)["episodes"]["ep-01"]["guid"] == old and "first" not in ledger(podcast)["episodes"]
    assert f"instead of {derived} (derived from the folder name when it was first built)" in result.stderr
    assert "was published" not in result.output


def test_a_guid_of_a_folder_that_is_still_there_is_refused(podcast, runner) -> None:
    assert build(podcast, runner).exit_code == 0
    taken = ledger(podcast)["episodes"]["first"]["guid"]
    podcast.add("third", number=3, extra=f"guid: {taken}")
    result = build(podcast, runner)
    assert result.exit_code == 2
    assert f"guid '{taken}' is recorded in feedtool.lock for episode folder 'first', which is still there" in result.stderr


def test_version_1_ledger_is_read_and_upgraded_keeping_unknown_keys(podcast, runner) -> None:
    assert build(podcast, runner).exit_code == 0
    v2 = ledger(podcast)
    v1 = {"note": "old", "version": 1, "comment": "kept",
          "episodes": {slug: entry["guid"] for slug, entry in v2["episodes"].items()}}
    (podcast.episodes / "feedtool.lock").write_text(json.dumps(v1), encoding="utf-8")
    result = build(podcast, runner, "--force")
    assert result.exit_code == 0, result.output
    upgraded = ledger(podcast)
    assert upgraded["version"] == 2 and upgraded["comment"] == "kept"
    assert upgraded["episodes"] == v2["episodes"]

    upgraded["episodes"]["first"]["published_at"] = "2024-01-01"  # a later version's facts
    upgraded["episodes"]["first"]["master"]["loudness_lufs"] = -16.0
    (podcast.episodes / "feedtool.lock").write_text(json.dumps(upgraded), encoding="utf-8")
    assert build(podcast, runner, "--force").exit_code == 0
    entry = ledger(podcast)["episodes"]["first"]
    assert entry["published_at"] == "2024-01-01" and entry["master"]["loudness_lufs"] == -16.0


def test_a_rename_a_version_1_ledger_cannot_see_is_pointed_out(podcast, runner) -> None:
    assert build(podcast, runner).exit_code == 0
    old = ledger(podcast)["episodes"]["first"]["guid"]
    v1 = {"version": 1, "episodes": {slug: entry["guid"] for slug, entry in ledger(podcast)["episodes"].items()}}
    (podcast.episodes / "feedtool.lock").write_text(json.dumps(v1), encoding="utf-8")
    os.rename(podcast.episodes / "first", podcast.episodes / "ep-01")
    result = build(podcast, runner)
    assert result.exit_code == 0
    assert f"no audio facts for gone folder(s) 'first' (guid {old})" in result.stderr
    assert "add its old guid to ep-01/episode.md" in result.stderr


def test_damaged_and_newer_ledgers_are_refused(podcast, runner) -> None:
    lock = podcast.episodes / "feedtool.lock"
    lock.write_text('{"version": 2, "episodes": {"first": {"number": 1}}}', encoding="utf-8")
    result = build(podcast, runner)
    assert result.exit_code == 2 and "the guid ledger is damaged (the entry of 'first' has no guid)" in result.stderr
    lock.write_text('{"version": 3, "episodes": {}}', encoding="utf-8")
    result = build(podcast, runner)
    assert result.exit_code == 2 and "written by a newer feedtool (version 3)" in result.stderr


def test_the_example_shows_ledger_is_version_2_and_current(tmp_path: Path, runner) -> None:
    recorded = json.loads((REPO / "episodes/feedtool.lock").read_text(encoding="utf-8"))
    master = REPO / "episodes/coffee-sessions-29/coffee-sessions-29.mp3"
    assert recorded["version"] == 2
    entry = recorded["episodes"]["coffee-sessions-29"]
    assert {key: entry[key] for key in ("guid", "number")} == {
        "guid": "53f5208f-d310-5381-9d23-1c0262d41ca5", "number": 29}
    assert {key: entry["master"][key] for key in ("source", "sha256", "size")} == {
        "source": "coffee-sessions-29.mp3", "sha256": hashlib.sha256(master.read_bytes()).hexdigest(),
        "size": master.stat().st_size}
    shutil.copytree(REPO / "episodes", tmp_path / "episodes")
    result = run_cli(runner, "build", "--episodes", tmp_path / "episodes", "--out", tmp_path / "public")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "episodes/feedtool.lock").read_bytes() == (REPO / "episodes/feedtool.lock").read_bytes()
    # The reproduction: the renamed example keeps its guid.
    os.rename(tmp_path / "episodes/coffee-sessions-29", tmp_path / "episodes/ep-29")
    result = run_cli(runner, "build", "--episodes", tmp_path / "episodes", "--out", tmp_path / "public")
    assert result.exit_code == 0, result.output
    feed = etree.parse(str(tmp_path / "public/feed.xml"))
    assert [item.findtext("guid") for item in feed.findall("channel/item")] == ["53f5208f-d310-5381-9d23-1c0262d41ca5"]

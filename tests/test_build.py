"""feedtool build: the shipped example, the feed's content, incremental and safe rebuilds."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import REPO, run_cli
from lxml import etree

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
}

# The seed page's "Timestamps:" block, as chapters (the 37:43 line holds two).
SEED_CHAPTERS = [
    (0, "Introduction to Jet Basrawi"),
    (84, "Jet's take on MLOps"),
    (120, '"MLOps - the real Kung fu\'s in the future" Jet'),
    (155, 'Jet\'s different opinion on "Tooling is the biggest piece in MLOps".'),
    (263, "MLOps is a way of life. It's a lifestyle. It's not just tooling."),
    (278, "Why do you have to move over to the cultural side and where feel things fail "
          "culturally when it comes to machine learning?"),
    (347, "What you refer to as an orthodox perspective on DevOps and how that place out in your "
          "perspective on MLOps?"),
    (397, "Why do you believe that the separate terminology is coming about and do you believe "
          "that this is ultimately harmful to organizations to have this confusion or do you think "
          "things should be simplified?"),
    (545, "As soon as you go down and you're not looking at the big picture. You go down one level "
          "and they divert completely, is that your thought too?"),
    (750, "How do you go about educating yourself and then figuring out how to articulate MLOps or "
          "constitutes in your organization?"),
    (976, "How to do things differently? What are some of your preferred tactics? How to encourage "
          "culture change?"),
    (1142, '"Management is NOT Leadership"'),
    (1213, "Why are people stuck in their agile approach?"),
    (1437, "Someone's trying to pick something up for the 1st time and then put it into production, "
           "how dangerous that can be?"),
    (1553, "Accepting failure"),
    (1751, "What are some of your principles that helped you communicate to the developers?"),
    (2133, '"It has to dumb down."'),
    (2263, "Annotation"),
    (2377, '"Patterntastic"'),
    (2484, '"MLOps is a people problem."'),
    (2630, "Sprint are adequate for machine learning?"),
    (2823, '"Software development is a social activity"'),
    (2883, '"We are all juniors in this field."'),
]


@pytest.fixture(scope="module")
def example_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped example (episodes/ of this repo) built once into a temp project."""
    root = tmp_path_factory.mktemp("example")
    shutil.copytree(REPO / "episodes", root / "episodes")
    from feedtool.build import build_podcast

    build_podcast(root / "episodes", root / "public")
    return root


def parse(feed: Path) -> etree._Element:
    return etree.fromstring(feed.read_bytes())


def test_example_chapters_come_from_the_seed_timestamps(example_build: Path) -> None:
    data = json.loads((example_build / "public/coffee-sessions-29/chapters.json").read_text())
    assert data["version"] == "1.2.0"
    assert [(c["startTime"], c["title"]) for c in data["chapters"]] == SEED_CHAPTERS


def test_example_feed_has_every_apple_required_tag(example_build: Path) -> None:
    root = parse(example_build / "public/feed.xml")
    assert root.tag == "rss" and root.get("version") == "2.0"
    assert root.nsmap["itunes"] == NS["itunes"] and root.nsmap["podcast"] == NS["podcast"]
    channel = root.find("channel")
    assert channel.findtext("title") == "MLOps Coffee Sessions"
    assert channel.findtext("description").strip()
    assert channel.findtext("language") == "en"
    assert channel.findtext("link") == "https://mlops.community/"
    image = channel.find("itunes:image", NS).get("href")
    assert image.startswith("https://podcast.example.com/coffee-sessions/artwork-") and image.endswith(".jpg")
    assert [c.get("text") for c in channel.findall("itunes:category", NS)] == ["Technology", "Business"]
    assert channel.find("itunes:category/itunes:category", NS) is None or True
    assert channel.find("itunes:category[@text='Business']/itunes:category", NS).get("text") == "Management"
    assert channel.findtext("itunes:explicit", namespaces=NS) == "false"
    assert channel.findtext("itunes:type", namespaces=NS) == "episodic"
    self_link = channel.find("atom:link[@rel='self']", NS)
    assert self_link.get("href") == "https://podcast.example.com/coffee-sessions/feed.xml"
    assert channel.findtext("podcast:guid", namespaces=NS) == "34f50548-4c2b-5ebe-b2ae-24751932f14c"

    (item,) = channel.findall("item")
    assert item.findtext("title") == "Culture and Architecture in MLOps"
    guid = item.find("guid")
    assert guid.get("isPermaLink") == "false" and len(guid.text) == 36
    assert item.findtext("pubDate") == "Mon, 29 Mar 2021 09:00:00 +0000"
    enclosure = item.find("enclosure")
    served = example_build / "public" / enclosure.get("url").split("/coffee-sessions/", 1)[1]
    assert int(enclosure.get("length")) == served.stat().st_size
    assert enclosure.get("type") == "audio/mpeg"
    assert item.findtext("itunes:duration", namespaces=NS) == "2910"
    assert item.findtext("itunes:episode", namespaces=NS) == "29"
    assert item.findtext("itunes:episodeType", namespaces=NS) == "full"
    assert item.findtext("itunes:explicit", namespaces=NS) == "false"
    chapters = item.find("podcast:chapters", NS)
    assert chapters.get("type") == "application/json+chapters"
    assert chapters.get("url").endswith("/coffee-sessions-29/chapters.json")
    people = [(p.text, p.get("role")) for p in item.findall("podcast:person", NS)]
    assert ("Jet Basrawi", "guest") in people and ("Demetrios Brinkmann", "host") in people


def test_description_keeps_timestamps_one_per_line_for_apple(example_build: Path) -> None:
    item = parse(example_build / "public/feed.xml").find("channel/item")
    description = item.findtext("description")
    assert "<p>[00:00] Introduction to Jet Basrawi</p>" in description
    assert "<p>[01:24] Jet's take on MLOps</p>" in description
    assert len(description.encode()) <= 4000
    for tag in ("<h2", "<strong", "<br"):
        assert tag not in description
    assert "[48:03]" in item.findtext("content:encoded", namespaces=NS)


def test_master_audio_is_never_modified(example_build: Path) -> None:
    master = example_build / "episodes/coffee-sessions-29/coffee-sessions-29.mp3"
    assert master.read_bytes() == (REPO / "episodes/coffee-sessions-29/coffee-sessions-29.mp3").read_bytes()


def test_feed_parsers_agree_on_episodes_enclosures_and_durations(podcast, partytime) -> None:
    import feedparser
    import podcastparser

    from feedtool.build import build_podcast

    build_podcast(podcast.episodes, podcast.public)
    feed = podcast.public / "feed.xml"
    fp = feedparser.parse(feed.read_bytes())
    assert not fp.bozo, fp.bozo_exception
    with feed.open("rb") as handle:
        pp = podcastparser.parse("https://cdn.example.com/show/feed.xml", handle)
    pt = partytime(feed)

    expected_titles = ["Second: ünïcödé 日本語 😀", "First & Foremost"]
    assert [e.title for e in fp.entries] == expected_titles
    assert [e["title"] for e in pp["episodes"]] == expected_titles
    assert [i["title"] for i in pt["items"]] == expected_titles
    assert fp.feed.title == pp["title"] == pt["channel"]["title"] == "Test Show & Friends"

    for f_entry, p_entry, t_item in zip(fp.entries, pp["episodes"], pt["items"], strict=False):
        (f_enc,) = f_entry.enclosures
        (p_enc,) = p_entry["enclosures"]
        t_enc = t_item["enclosure"]
        assert f_enc.href == p_enc["url"] == t_enc["url"]
        assert int(f_enc.length) == p_enc["file_size"] == t_enc["length"]
        assert f_enc.type == p_enc["mime_type"] == t_enc["type"] == "audio/mpeg"
        assert int(f_entry.itunes_duration) == p_entry["total_time"] == t_item["duration"] == 5
        assert f_entry.id == p_entry["guid"] == t_item["guid"]
        assert t_item["podcastChapters"]["type"] == "application/json+chapters"
    assert pt["channel"]["guid"] and pt["channel"]["itunesCategory"]
    assert pt["channel"]["explicit"] is False


def test_same_input_gives_byte_identical_output(podcast) -> None:
    from feedtool.build import build_podcast

    build_podcast(podcast.episodes, podcast.public)
    first = {p.relative_to(podcast.public): p.read_bytes() for p in podcast.public.rglob("*") if p.is_file()}
    shutil.rmtree(podcast.root / ".feedtool-cache")
    build_podcast(podcast.episodes, podcast.public, force=True)
    second = {p.relative_to(podcast.public): p.read_bytes() for p in podcast.public.rglob("*") if p.is_file()}
    assert first == second


def test_unchanged_rebuild_touches_no_audio(podcast, runner) -> None:
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 0, result.output
    audio = next(podcast.public.glob("first/*.mp3"))
    before = audio.stat()
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert "up to date" in result.output
    assert audio.stat().st_mtime_ns == before.st_mtime_ns and audio.stat().st_ino == before.st_ino
    # Editing one episode's notes re-tags nothing (text stays out of the audio) ...
    md = podcast.episodes / "second/episode.md"
    md.write_text(md.read_text().replace("Notes.", "New notes."), encoding="utf-8")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert "0 audio file(s) tagged, 2 unchanged" in result.output
    # ... editing its title re-tags that one only.
    md.write_text(md.read_text().replace('title: "Second', 'title: "2nd'), encoding="utf-8")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert "1 audio file(s) tagged, 1 unchanged" in result.output


def test_new_audio_gets_a_new_url_and_keeps_its_guid(podcast, tone) -> None:
    from feedtool.build import build_podcast

    build_podcast(podcast.episodes, podcast.public)
    before = parse(podcast.public / "feed.xml").find("channel/item[title='First & Foremost']")
    shutil.copyfile(tone("mp3", 6, 660), podcast.episodes / "first/audio.mp3")
    build_podcast(podcast.episodes, podcast.public)
    after = parse(podcast.public / "feed.xml").find("channel/item[title='First & Foremost']")
    assert before.findtext("guid") == after.findtext("guid")
    assert before.find("enclosure").get("url") != after.find("enclosure").get("url")
    ledger = json.loads((podcast.episodes / "feedtool.lock").read_text())
    assert ledger["episodes"]["first"]["guid"] == after.findtext("guid")


def test_failed_build_leaves_previous_public_intact(podcast, runner) -> None:
    from feedtool.build import build_podcast

    build_podcast(podcast.episodes, podcast.public)
    snapshot = {p: p.read_bytes() for p in podcast.public.rglob("*") if p.is_file()}
    (podcast.episodes / "second/episode.md").write_text("---\ntitle: [broken\n---\n", encoding="utf-8")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 2
    assert {p: p.read_bytes() for p in podcast.public.rglob("*") if p.is_file()} == snapshot
    assert not list(podcast.root.glob(".public.*"))


def test_drafts_and_future_episodes_are_left_out_unless_asked(podcast, runner) -> None:
    podcast.add("draft", number=3, extra="draft: true")
    podcast.add("later", number=4, date="2999-01-01T00:00:00Z")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert "left out 1 draft(s), 1 scheduled" in result.output
    assert len(parse(podcast.public / "feed.xml").findall("channel/item")) == 2
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public, "--drafts")
    assert len(parse(podcast.public / "feed.xml").findall("channel/item")) == 4


def test_changed_guid_is_refused(podcast, runner) -> None:
    from feedtool.build import build_podcast

    build_podcast(podcast.episodes, podcast.public)
    md = podcast.episodes / "first/episode.md"
    md.write_text(md.read_text().replace("episode: 1", "episode: 1\nguid: something-new"), encoding="utf-8")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 2
    assert "first/episode.md" in result.output and "guid" in result.output
    assert "differs from" in result.output and "derived from the folder name" in result.output
    assert "was published" not in result.output  # the ledger knows what was built, not what was published


def test_renamed_folder_keeps_its_guid_when_front_matter_says_so(podcast) -> None:
    from feedtool.build import build_podcast

    build_podcast(podcast.episodes, podcast.public)
    guid = json.loads((podcast.episodes / "feedtool.lock").read_text())["episodes"]["first"]["guid"]
    os.rename(podcast.episodes / "first", podcast.episodes / "first-renamed")
    md = podcast.episodes / "first-renamed/episode.md"
    md.write_text(md.read_text().replace("episode: 1", f"episode: 1\nguid: {guid}"), encoding="utf-8")
    build_podcast(podcast.episodes, podcast.public)
    ledger = json.loads((podcast.episodes / "feedtool.lock").read_text())["episodes"]
    assert sorted(ledger) == ["first-renamed", "second"] and ledger["first-renamed"]["guid"] == guid


def test_build_refuses_to_replace_a_folder_it_did_not_make(podcast, runner) -> None:
    podcast.public.mkdir()
    (podcast.public / "precious.txt").write_text("mine", encoding="utf-8")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 2 and "not made by feedtool" in result.output
    assert (podcast.public / "precious.txt").read_text() == "mine"


def test_transcript_and_episode_artwork_are_served_and_linked(podcast, artwork_jpg) -> None:
    from feedtool.build import build_podcast

    folder = podcast.episodes / "first"
    (folder / "transcript.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:02.000\n<v Host>Hello\n", encoding="utf-8")
    shutil.copyfile(artwork_jpg, folder / "cover.jpg")
    md = folder / "episode.md"
    md.write_text(md.read_text().replace("episode: 1", "episode: 1\nartwork: cover.jpg"), encoding="utf-8")
    build_podcast(podcast.episodes, podcast.public)
    item = parse(podcast.public / "feed.xml").find("channel/item[title='First & Foremost']")
    transcript = item.find("podcast:transcript", NS)
    assert transcript.get("type") == "text/vtt"
    assert (podcast.public / "first/transcript.vtt").is_file()
    assert transcript.get("url") == "https://cdn.example.com/show/first/transcript.vtt"
    art = item.find("itunes:image", NS).get("href")
    assert (podcast.public / art.split("/show/", 1)[1]).is_file()


def test_alternate_enclosure_for_a_second_format(podcast, tone) -> None:
    from feedtool.build import build_podcast

    folder = podcast.episodes / "first"
    shutil.copyfile(tone("opus", 5), folder / "audio.opus")
    md = folder / "episode.md"
    md.write_text(md.read_text().replace("audio: audio.mp3", "audio: [audio.mp3, audio.opus]"), encoding="utf-8")
    build_podcast(podcast.episodes, podcast.public)
    item = parse(podcast.public / "feed.xml").find("channel/item[title='First & Foremost']")
    alternates = item.findall("podcast:alternateEnclosure", NS)
    assert [a.get("type") for a in alternates] == ["audio/mpeg", "audio/opus"]
    assert alternates[0].get("default") == "true"
    assert item.find("enclosure").get("type") == "audio/mpeg"


def test_init_and_new_make_a_podcast_that_builds(tmp_path, runner, tone) -> None:
    result = run_cli(runner, "init", tmp_path / "show", "--title", "Night Shift",
                     "--base-url", "https://cdn.example.org/night-shift")
    assert result.exit_code == 0, result.output
    episodes = tmp_path / "show/episodes"  # init made a first draft: episode 1
    result = run_cli(runner, "new", "Pilot Episode", "--episodes", episodes, "--date", "2024-02-01T10:00:00Z")
    assert result.exit_code == 0, result.output
    md = episodes / "pilot-episode/episode.md"
    assert "episode: 2" in md.read_text() and "draft: true" in md.read_text()
    shutil.copyfile(tone("mp3", 5), md.parent / "episode.mp3")
    md.write_text(md.read_text().replace("draft: true", "draft: false"), encoding="utf-8")
    result = run_cli(runner, "new", "Second One", "--episodes", episodes)
    assert "episode: 3" in (episodes / "second-one/episode.md").read_text()
    result = run_cli(runner, "build", "--episodes", episodes, "--out", tmp_path / "show/public")
    assert result.exit_code == 0, result.output
    assert "1 episode(s)" in result.output and "2 draft(s)" in result.output
    result = run_cli(runner, "init", tmp_path / "show")  # nothing is missing, nothing is replaced
    assert result.exit_code == 0 and "Nothing to do" in result.output


def test_build_names_the_next_scheduled_episode(podcast, runner) -> None:
    """The publish workflow's summary quotes this line: when the feed changes without a commit."""
    podcast.add("later", number=3, date="2099-05-01T09:30:00+02:00")
    podcast.add("much-later", number=4, date="2100-01-01T00:00:00Z")
    args = ("build", "--episodes", podcast.episodes, "--out", podcast.public)
    result = run_cli(runner, *args)
    assert result.exit_code == 0, result.output
    assert "Next scheduled episode: later at 2099-05-01T07:30:00Z" in result.stdout
    result = run_cli(runner, *args)  # up to date: still said
    assert "is up to date" in result.stdout
    assert "Next scheduled episode: later at 2099-05-01T07:30:00Z" in result.stdout


def test_chapters_command_shows_the_seed_chapters(runner) -> None:
    result = run_cli(runner, "chapters", REPO / "episodes/coffee-sessions-29")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "00:00:00  Introduction to Jet Basrawi"
    assert lines[-1] == '00:48:03  "We are all juniors in this field."'
    assert len(lines) == len(SEED_CHAPTERS)
    result = run_cli(runner, "chapters", REPO / "episodes/coffee-sessions-29", "--format", "json")
    assert len(json.loads(result.stdout)["chapters"]) == len(SEED_CHAPTERS)


def test_every_command_has_help_with_an_example(runner) -> None:
    from feedtool.cli import COMMANDS

    for name in COMMANDS:
        result = run_cli(runner, name, "--help")
        assert result.exit_code == 0, name
        assert "Example" in result.output or "feedtool " + name in result.output, name


def test_chapter_images_are_served_and_embedded(podcast, artwork_jpg) -> None:
    from mutagen.id3 import ID3

    from feedtool.build import build_podcast

    folder = podcast.episodes / "first"
    shutil.copyfile(artwork_jpg, folder / "slide.jpg")
    md = folder / "episode.md"
    md.write_text(md.read_text().replace("episode: 1", """episode: 1
chapters:
  - {start: 0, title: Opening, image: slide.jpg}
  - {start: 2, title: Link, url: "https://example.com/more"}"""), encoding="utf-8")
    build_podcast(podcast.episodes, podcast.public)
    data = json.loads((podcast.public / "first/chapters.json").read_text())
    image_url = data["chapters"][0]["img"]
    assert image_url.startswith("https://cdn.example.com/show/first/slide-")
    assert (podcast.public / image_url.split("/show/", 1)[1]).read_bytes() == artwork_jpg.read_bytes()
    assert data["chapters"][1]["url"] == "https://example.com/more"
    tags = ID3(next(podcast.public.glob("first/*.mp3")))
    chap = [frame for frame in tags.getall("CHAP")]
    assert chap[0].sub_frames.getall("APIC")[0].data == artwork_jpg.read_bytes()
    assert chap[1].sub_frames.getall("WXXX")[0].url == "https://example.com/more"


def test_example_audio_carries_the_seed_chapters_for_ffprobe(example_build: Path) -> None:
    """ffprobe, an independent reader, sees the same chapters in the published MP3."""
    import subprocess

    (audio,) = (example_build / "public/coffee-sessions-29").glob("*.mp3")
    out = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(audio)],
                         capture_output=True, text=True, check=True).stdout
    chapters = json.loads(out)["chapters"]
    assert [(round(float(c["start_time"])), c["tags"]["title"]) for c in chapters] == SEED_CHAPTERS
    assert float(chapters[-1]["end_time"]) == pytest.approx(2910.1, abs=0.1)

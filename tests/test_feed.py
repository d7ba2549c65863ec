"""The feed's details: escaping, Apple's HTML subset and limits, the Podcasting 2.0 tags."""

from __future__ import annotations

import json

import pytest
from conftest import built_file
from lxml import etree

from feedtool.load import podcast_guid_for
from feedtool.notes import apple_description, plain_text, render_html

NS = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
      "podcast": "https://podcastindex.org/namespace/1.0",
      "content": "http://purl.org/rss/1.0/modules/content/"}


@pytest.mark.parametrize("feed_url, guid", [
    # The examples in the Podcasting 2.0 guid spec.
    ("https://podnews.net/rss", "9b024349-ccf0-5f69-a609-6b82873eab3c"),
    ("http://mp3s.nashownotes.com/pc20rss.xml", "917393e3-1b1e-5cef-ace4-edaa54e1f810"),
    ("https://podnews.net/rss/", "9b024349-ccf0-5f69-a609-6b82873eab3c"),
])
def test_podcast_guid_is_the_uuid5_of_the_feed_url(feed_url: str, guid: str) -> None:
    assert podcast_guid_for(feed_url) == guid


def test_apple_description_keeps_only_allowed_tags() -> None:
    html = render_html("# Heading\n\n**Bold** and _it_ <script>x()</script> [link](https://a.b/?q=1&r=2)\n\n"
                       "- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    description = apple_description(html)
    assert "<h1" not in description and "<strong" not in description and "<script" not in description
    assert "<table" not in description and "<em" not in description
    assert '<a href="https://a.b/?q=1&amp;r=2">link</a>' in description
    assert "<ul><li>one</li><li>two</li></ul>" in description


def test_apple_description_fits_4000_bytes_at_a_block_boundary() -> None:
    html = render_html("\n\n".join(f"Paragraph {n} " + "é" * 300 for n in range(40)))
    description = apple_description(html)
    assert len(description.encode()) <= 4000
    assert description.endswith("<p>…</p>")
    assert description.count("<p>") == description.count("</p>")


def test_show_notes_text_survives_escaping(podcast) -> None:
    from feedtool.build import build_podcast

    notes = "Fish & chips < 5 > 3 \"quoted\" 'single' ]]> end 😀 日本語 Ελληνικά\n\n[00:00] Start\n[00:02] A & B\n"
    md = podcast.episodes / "first/episode.md"
    md.write_text(md.read_text().split("---\n")[0] + "---\n" + md.read_text().split("---\n")[1] + "---\n" + notes,
                  encoding="utf-8")
    build_podcast(podcast.episodes, podcast.public)
    raw = (podcast.public / "feed.xml").read_bytes()
    root = etree.fromstring(raw)
    item = root.find("channel/item[title='First & Foremost']")
    text = plain_text(item.findtext("content:encoded", namespaces=NS))
    assert "Fish & chips < 5 > 3 \"quoted\" 'single' ]]> end 😀 日本語 Ελληνικά" in text
    assert "A & B" in plain_text(item.findtext("description"))
    assert root.findtext("channel/title") == "Test Show & Friends"
    assert b"&amp;amp;" not in raw
    chapters = json.loads(built_file(podcast.public / "first", "chapters-*.json").read_text(encoding="utf-8"))
    assert chapters["chapters"][1]["title"] == "A & B"


def test_category_ampersand_and_subcategory(podcast) -> None:
    from feedtool.build import build_podcast

    build_podcast(podcast.episodes, podcast.public)
    raw = (podcast.public / "feed.xml").read_text(encoding="utf-8")
    assert '<itunes:category text="Society &amp; Culture">' in raw
    assert '<itunes:category text="Documentary"/>' in raw


def test_every_podcasting20_tag_is_written(podcast) -> None:
    from feedtool.build import build_podcast

    podcast.set_show(
        locked="true", locked_owner="owner@example.com",
        funding="[{url: 'https://example.com/support', text: Support us}]",
        people="[{name: Host Person, role: host, img: 'https://example.com/h.jpg'}]",
        license="{identifier: CC-BY-4.0, url: 'https://creativecommons.org/licenses/by/4.0/'}",
        location="{name: Austin, geo: 'geo:30.2672,-97.7431', country: US}",
        medium="podcast", txt="[{value: abc123, purpose: applepodcastsverify}]",
        update_frequency="{text: Weekly, rrule: FREQ=WEEKLY}",
        trailers="[{title: The trailer, url: 'https://example.com/t.mp3', pubdate: '2024-01-01T00:00:00Z', length: 123, type: audio/mpeg}]",
    )
    md = podcast.episodes / "first/episode.md"
    md.write_text(md.read_text().replace("episode: 1", """episode: 1
episode_display: Pilot
season: 2
season_name: The second
people: [{name: Guest, role: guest, href: 'https://example.com/g'}]
soundbites: [{start: 1.5, duration: 2, title: Best bit}]
license: CC0-1.0
location: Berlin
txt: [{value: hello}]
funding: [{url: 'https://example.com/ep', text: This one}]"""), encoding="utf-8")
    build_podcast(podcast.episodes, podcast.public)
    channel = etree.fromstring((podcast.public / "feed.xml").read_bytes()).find("channel")
    assert channel.find("podcast:locked", NS).text == "yes"
    assert channel.find("podcast:locked", NS).get("owner") == "owner@example.com"
    assert channel.find("podcast:funding", NS).get("url") == "https://example.com/support"
    assert channel.find("podcast:person", NS).get("img") == "https://example.com/h.jpg"
    assert channel.find("podcast:license", NS).text == "CC-BY-4.0"
    assert channel.find("podcast:location", NS).get("geo") == "geo:30.2672,-97.7431"
    assert channel.find("podcast:txt", NS).get("purpose") == "applepodcastsverify"
    assert channel.find("podcast:updateFrequency", NS).get("rrule") == "FREQ=WEEKLY"
    trailer = channel.find("podcast:trailer", NS)
    assert trailer.get("pubdate") == "Mon, 01 Jan 2024 00:00:00 GMT" and trailer.get("length") == "123"
    item = channel.find("item[title='First & Foremost']")
    assert item.find("podcast:season", NS).text == "2" and item.find("podcast:season", NS).get("name") == "The second"
    assert item.find("podcast:episode", NS).get("display") == "Pilot"
    assert item.findtext("itunes:season", namespaces=NS) == "2"
    assert [p.text for p in item.findall("podcast:person", NS)] == ["Guest"]
    soundbite = item.find("podcast:soundbite", NS)
    assert (soundbite.get("startTime"), soundbite.get("duration"), soundbite.text) == ("1.5", "2", "Best bit")
    assert item.find("podcast:license", NS).text == "CC0-1.0"
    assert item.find("podcast:location", NS).text == "Berlin"
    assert item.find("podcast:funding", NS).text == "This one"


def test_feed_validates_without_errors(podcast, runner) -> None:
    from conftest import run_cli

    from feedtool.build import build_podcast

    build_podcast(podcast.episodes, podcast.public)
    result = run_cli(runner, "validate", podcast.public / "feed.xml")
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output

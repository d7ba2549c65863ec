"""Feeds shaped like each host's export, written from their documented formats (peers.md, standards.md)
and served by a local server with and without HEAD and Range: what each host does oddly survives import.

- Anchor / Spotify for Creators: CDATA notes with <br> lines, guids that are UUID-like strings,
  enclosures behind a redirector whose path ends in the percent-encoded real URL, "No" for explicit.
- Libsyn: guids in CDATA, itunes:duration as HH:MM:SS, itunes:summary only.
- Buzzsprout: "Buzzsprout-12345678" guids, podcast:transcript (SRT), podcast:chapters (JSON).
- Podbean: notes as escaped HTML (no CDATA), guids that are host/path strings.
- Transistor: podcast:guid, podcast:locked with owner, several transcript formats, podcast:season/episode.
- Captivate: podcast:chapters whose images are relative to the chapters file.
- Castopod: Podcasting 2.0 throughout (person roles, location, soundbite, license, value), SRT transcripts.
- WordPress PowerPress / Podlove: psc:chapters, "?p=123" guids, itunes:subtitle, xml:base.
"""

from __future__ import annotations

import json

import pytest
import yaml

from feedtool.importer.run import Options, import_feed
from tests.import_feeds import feed, item
from tests.import_server import serve

VTT = b"WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nHello.\n"
SRT = b"1\n00:00:00,000 --> 00:00:02,000\nHello.\n"


def _hosts(base: str) -> dict[str, tuple[str, dict]]:
    """host -> (feed text, what the import must show)."""
    b = base
    anchor = feed([
        item("Episode 12: the one with lines", guid="e3b0c442-98fc-1c14-9afb-4c8996fb9242",
             url=f"{b}anchor/s/123/podcast/play/999/https%3A%2F%2Fcdn.example%2Fstaging%2F2024-0-1%2Fabc.m4a",
             kind="audio/x-m4a", length=0, duration="00:00:05",
             description="<p>Welcome!</p><p>00:00 Intro<br>00:02 The point<br>00:04 Outro</p>",
             extra="<itunes:explicit>No</itunes:explicit><itunes:episodeType>full</itunes:episodeType>"),
    ], extra="<itunes:explicit>No</itunes:explicit>")
    libsyn = feed([
        "<item><title>Libsyn one</title><guid isPermaLink=\"false\"><![CDATA[a2b5c7e8d0f14a3b9c2d]]></guid>"
        f"<pubDate>Tue, 02 Jan 2024 08:00:00 +0000</pubDate><enclosure url=\"{b}media/a.mp3\" length=\"LEN\" "
        "type=\"audio/mpeg\"/><itunes:duration>00:00:05</itunes:duration>"
        "<itunes:summary>Only a summary, &lt;b&gt;escaped&lt;/b&gt;.</itunes:summary></item>"])
    buzzsprout = feed([
        item("Buzz", guid="Buzzsprout-12345678", url=f"{b}media/a.mp3", length=None,
             extra=f'<podcast:transcript url="{b}side/t.srt" type="application/x-subrip" language="en"/>'
                   f'<podcast:chapters url="{b}side/chapters.json" type="application/json+chapters"/>'
                   '<podcast:person role="guest" href="https://example.com/g">Gia Guest</podcast:person>'),
    ], extra='<podcast:funding url="https://www.buzzsprout.com/123/support">Support the show</podcast:funding>')
    podbean = feed([
        "<item><title>Podbean one</title><guid isPermaLink=\"false\">show.podbean.com/abc123-def</guid>"
        "<pubDate>Wed, 03 Jan 2024 08:00:00 +0000</pubDate><description>&lt;p&gt;Escaped "
        "&lt;strong&gt;HTML&lt;/strong&gt; notes&lt;/p&gt;</description>"
        f"<enclosure url=\"{b}media/a.mp3\" length=\"LEN\" type=\"audio/mpeg\"/>"
        "<itunes:duration>5</itunes:duration></item>"])
    transistor = feed([
        item("Transistor one", guid="e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b", url=f"{b}media/a.mp3",
             extra=f'<podcast:transcript url="{b}side/t.vtt" type="text/vtt" rel="captions"/>'
                   f'<podcast:transcript url="{b}side/t.srt" type="application/srt"/>'
                   f'<podcast:transcript url="{b}side/t.html" type="text/html"/>'
                   '<podcast:season name="Launch">1</podcast:season><podcast:episode>3</podcast:episode>'
                   "<itunes:season>1</itunes:season><itunes:episode>3</itunes:episode>"),
    ], extra="<podcast:guid>917393e3-1b1e-5cef-ace4-edaa54e1f810</podcast:guid>"
             '<podcast:locked owner="pod@example.org">yes</podcast:locked>')
    captivate = feed([
        item("Captivate one", guid="cap-1", url=f"{b}media/a.mp3",
             extra=f'<podcast:chapters url="{b}side/cap/chapters.json" type="application/json+chapters"/>'),
    ])
    castopod = feed([
        item("Castopod one", guid="https://castopod.example/@show/episodes/one", url=f"{b}media/a.mp3",
             extra='<podcast:person role="Host" group="Cast" img="https://example.com/h.jpg">Hal Host</podcast:person>'
                   '<podcast:location geo="geo:48.85,2.35" osm="R7444">Paris</podcast:location>'
                   '<podcast:soundbite startTime="1.5" duration="2">A bite</podcast:soundbite>'
                   '<podcast:license url="https://creativecommons.org/licenses/by/4.0/">cc-by-4.0</podcast:license>'
                   f'<podcast:transcript url="{b}side/t.srt" type="application/x-subrip" language="fr"/>'
                   '<podcast:value type="lightning" method="keysend"><podcast:valueRecipient name="x" '
                   'type="node" address="abc" split="100"/></podcast:value>'),
    ], extra='<podcast:medium>podcast</podcast:medium><podcast:value type="lightning" method="keysend"/>'
             '<podcast:person role="host">Hal Host</podcast:person>')
    powerpress = feed([
        item("PowerPress one", guid="https://blog.example.com/?p=123", url="media/a.mp3",
             description="<p>Summary only.</p>",
             extra='<content:encoded><![CDATA[<p>Full <em>WordPress</em> post.</p>]]></content:encoded>'
                   '<itunes:subtitle>A subtitle</itunes:subtitle>'
                   '<psc:chapters version="1.2"><psc:chapter start="00:00:00.000" title="Hello" '
                   'href="https://example.com/h"/><psc:chapter start="00:00:02.500" title="Middle"/>'
                   '<psc:chapter start="00:00:04" title="Bye" image="img/bye.jpg"/></psc:chapters>'
                   ).replace("<item>", f'<item xml:base="{b}wp/">'),
    ])
    return {
        "anchor": (anchor, {"guid": "e3b0c442-98fc-1c14-9afb-4c8996fb9242", "chapters": "show notes",
                            "audio_ext": ".m4a", "explicit": False}),
        "libsyn": (libsyn, {"guid": "a2b5c7e8d0f14a3b9c2d", "notes": "Only a summary, **escaped**."}),
        "buzzsprout": (buzzsprout, {"guid": "Buzzsprout-12345678", "chapters": "podcast:chapters",
                                    "transcripts": ["transcript-en.srt"], "funding": True}),
        "podbean": (podbean, {"guid": "show.podbean.com/abc123-def", "notes": "Escaped **HTML** notes"}),
        "transistor": (transistor, {"guid": "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b", "locked": "pod@example.org",
                                    "podcast_guid": "917393e3-1b1e-5cef-ace4-edaa54e1f810",
                                    "transcripts": ["transcript.vtt", "transcript.srt", "transcript.html"],
                                    "season_name": "Launch"}),
        "captivate": (captivate, {"guid": "cap-1", "chapters": "podcast:chapters"}),
        "castopod": (castopod, {"guid": "https://castopod.example/@show/episodes/one",
                                "transcripts": ["transcript-fr.srt"], "left_out": "podcast:value"}),
        "powerpress": (powerpress, {"guid": "https://blog.example.com/?p=123", "chapters": "psc:chapters",
                                    "audio": f"{b}wp/media/a.mp3", "summary": "Summary only."}),
    }


@pytest.mark.parametrize(("head", "ranges"), [(True, True), (False, False)], ids=["head+range", "neither"])
@pytest.mark.parametrize("host", ["anchor", "libsyn", "buzzsprout", "podbean", "transistor", "captivate",
                                  "castopod", "powerpress"])
def test_host_export(tmp_path, tone, artwork_jpg, host, head, ranges):
    audio = tone("mp3", 6.0).read_bytes()
    m4a = tone("m4a", 6.0).read_bytes()
    chapters = {"version": "1.2.0", "chapters": [{"startTime": 0, "title": "One"}, {"startTime": 2, "title": "Two"},
                                                 {"startTime": 4, "title": "Three", "img": "pics/three.jpg"}]}
    files = {"/media/a.mp3": audio, "/wp/media/a.mp3": audio, "/side/t.vtt": VTT, "/side/t.srt": SRT,
             "/side/t.html": b"<p>Hello.</p>", "/side/chapters.json": json.dumps(chapters).encode(),
             "/side/cap/chapters.json": json.dumps(chapters).encode(), "/art.jpg": artwork_jpg.read_bytes()}
    with serve(files=files, head=head, ranges=ranges) as site:
        site.redirects["/anchor/s/123/podcast/play/999/https://cdn.example/staging/2024-0-1/abc.m4a"] = \
            site.url + "media/abc.m4a"
        site.files["/media/abc.m4a"] = m4a
        text, expected = _hosts(site.url)[host]
        text = text.replace("LEN", str(len(audio))).replace('length="1000"', f'length="{len(audio)}"').replace("<itunes:author>", f'<itunes:image href="{site.url}art.jpg"/>'
                                                            "<itunes:author>", 1)
        site.files["/feed.xml"] = text.encode()
        result = import_feed(Options(source=site.url + "feed.xml", into=tmp_path / "show",
                                     media="download" if host == "anchor" else "remote"))
    episodes = tmp_path / "show" / "episodes"
    (folder,) = [p.parent for p in episodes.glob("*/episode.md")]
    raw = (folder / "episode.md").read_text(encoding="utf-8")
    front = yaml.safe_load(raw.split("\n---\n")[0].split("---\n", 1)[1])
    notes = raw.split("\n---\n", 1)[1]
    show = yaml.safe_load((episodes / "podcast.yaml").read_text(encoding="utf-8"))
    lock = json.loads((episodes / "feedtool.lock").read_text(encoding="utf-8"))["episodes"][folder.name]
    assert front["guid"] == expected["guid"] == lock["guid"]
    assert (episodes / show["artwork"]).read_bytes() == artwork_jpg.read_bytes()
    if "chapters" in expected:
        assert result.chapters_from == {expected["chapters"]: 1}
    if expected.get("chapters") == "podcast:chapters":
        written = json.loads((folder / "chapters.json").read_text())
        assert written["chapters"][2]["img"] == site.url + ("side/cap/" if host == "captivate" else "side/") + \
            "pics/three.jpg"
    if expected.get("chapters") == "psc:chapters":
        assert front["chapters"] == [{"start": "00:00:00", "title": "Hello", "url": "https://example.com/h"},
                                     {"start": "00:00:02.500", "title": "Middle"},
                                     {"start": "00:00:04", "title": "Bye", "image": f"{site.url}wp/img/bye.jpg"}]
    if "audio_ext" in expected:  # Anchor: the redirector's path names the real file; downloaded and probed
        assert front["audio"] == "abc.m4a" and (folder / "abc.m4a").read_bytes() == m4a
        assert lock["master"]["kind"] == "m4a" and lock["master"]["size"] == len(m4a)
        assert "explicit" not in front or front["explicit"] is expected["explicit"]
        assert show["explicit"] is False
    else:
        assert front["audio"] == expected.get("audio", site.url + "media/a.mp3")
        assert lock["master"]["size"] == len(audio)  # from the feed, or asked of the host where the feed is silent
    if "transcripts" in expected:
        assert [t["file"] for t in front["transcript"]] == expected["transcripts"]
        for t in front["transcript"]:
            assert (folder / t["file"]).is_file()
    if "notes" in expected:
        assert expected["notes"] in notes
    if "summary" in expected:
        assert front["summary"] == expected["summary"] and "Full *WordPress* post." in notes
    if "locked" in expected:
        assert show["locked"] is True and show["locked_owner"] == expected["locked"]
        assert show["podcast_guid"] == expected["podcast_guid"]
        assert front["season_name"] == expected["season_name"] and front["episode"] == 3
    if "left_out" in expected:
        assert result.notices.left_out[expected["left_out"]] == 2  # the channel's and the item's
        assert front["people"] == [{"name": "Hal Host", "img": "https://example.com/h.jpg"}]
        assert front["location"] == {"name": "Paris", "geo": "geo:48.85,2.35", "osm": "R7444"}
        assert front["soundbites"] == [{"start": 1.5, "duration": 2, "title": "A bite"}]
    if expected.get("funding"):
        assert show["funding"] == [{"url": "https://www.buzzsprout.com/123/support", "text": "Support the show"}]

"""The rest of the Podcasting 2.0 namespace, Spotify's tags and Podlove Simple Chapters: written by build
from podcast.yaml / episode.md, read back by two independent parsers (podcast-partytime, the Podcast
Index's own, and feedsmith), and refused with a clear error when the input is wrong."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import PodcastFactory, built_file, run_cli
from lxml import etree

NS = {"podcast": "https://podcastindex.org/namespace/1.0", "psc": "http://podlove.org/simple-chapters",
      "atom": "http://www.w3.org/2005/Atom", "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd"}
NODE_A = "02d5c1bf8b940dc9cadca86d1b0a3c37fbe39cee4c7e839e33bef9174531d27f52"
NODE_B = "03ae9f91a0cb8ff43840e3c322c4c61f019d8c1c3cea15a25cfc425ac605e61a4a"
OTHER_SHOW = "917393e3-1b1e-5cef-ace4-edaa54e1f810"
PUBLISHER = "003af0a0-6a45-55cf-b765-68e3d349551a"

SHOW_KEYS = {
    # a real-looking address and owner, so that validate has nothing to say (example.com is ready.* territory)
    "base_url": "https://cdn.feedtool-corpus.net/show/",
    "owner": "{name: Test Owner, email: owner@feedtool-corpus.net}",
    "value": f"""
  suggested: 0.00000005000
  recipients:
    - {{name: Host, address: {NODE_A}, split: 90}}
    - {{name: Producer, address: producer@getalby.com, split: 10, custom_key: 696969, custom_value: abc}}
    - {{name: Hosting, address: {NODE_B}, split: 1, fee: true}}""",
    "podroll": f"[{{feed_guid: {OTHER_SHOW}, feed_url: 'https://mp3s.nashownotes.com/pc20rss.xml', title: PC 2.0}}]",
    "publisher": f"{{feed_guid: {PUBLISHER}, feed_url: 'https://example.org/publisher.xml'}}",
    "block": "{except: [apple, spotify]}",
    "social_interact": "[{protocol: activitypub, uri: 'https://mastodon.example/@show/1', account_id: '@show'}]",
    "chat": "{server: irc.libera.chat, protocol: irc, space: '#show'}",
    "images": "[{file: banner.png, purpose: banner, alt: The banner, aspect_ratio: 4/1}, "
              "{href: 'https://cdn.example.com/wide.jpg', width: 1920, aspect_ratio: 16/9, purpose: social}]",
    "spotify": "{limit: 5, country_of_origin: [us, gb]}",
    "enclosure_prefix": "https://op3.dev/e/",
    "notify": "{podping: true, websub: 'https://hub.example.com/'}",
    "txt": "[{value: S6lpp-7ZCn8, purpose: verify}, {value: 'false', purpose: ai-content}]",
}
EPISODE_EXTRA = f"""
value:
  time_splits:
    - start: 1
      duration: 2
      recipients:
        - {{name: Host, address: {NODE_A}, split: 50}}
        - {{name: Guest, address: guest@fountain.fm, split: 50}}
    - {{start: 3, duration: 1.5, remote_item: {{feed_guid: {OTHER_SHOW}, item_guid: ep-7}}, remote_percentage: 95}}
social_interact: [{{protocol: atproto, uri: 'at://did:plc:abc/app.bsky.feed.post/3k', account_id: show.bsky.social}}]
chat: {{server: matrix.org, protocol: matrix, space: '#ep1:matrix.org'}}
content_links: [{{href: 'https://www.youtube.com/watch?v=abc', text: Watch on YouTube}}]
txt: [{{value: 'true', purpose: ai-content}}]
chapters:
  - {{start: 0, title: Start, url: 'https://example.com/start'}}
  - {{start: 1.25, title: Art change, toc: false, image: chapter.png}}
  - {{start: 2, title: Middle, image: chapter.png}}"""


def set_up(podcast: PodcastFactory) -> None:
    from PIL import Image

    Image.new("RGB", (2000, 500), (10, 20, 30)).save(podcast.episodes / "banner.png")
    Image.new("RGB", (600, 600), (90, 20, 30)).save(podcast.episodes / "first" / "chapter.png")
    podcast.set_show(**SHOW_KEYS)
    md = podcast.episodes / "first/episode.md"
    md.write_text(md.read_text().replace("episode: 1", "episode: 1" + EPISODE_EXTRA, 1), encoding="utf-8")


def test_every_new_tag_is_written_and_read_back_by_two_parsers(podcast, partytime, feedsmith, runner) -> None:
    set_up(podcast)
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 0, result.output
    feed = podcast.public / "feed.xml"

    pt = partytime(feed)
    channel = pt["channel"]
    value = channel["value"]
    assert (value["type"], value["method"]) == ("lightning", "keysend")
    assert [(r["name"], r["type"], r["split"], r["fee"]) for r in value["recipients"]] == [
        ("Host", "node", 90, False), ("Producer", "lnaddress", 10, False), ("Hosting", "node", 1, True)]
    assert value["recipients"][1]["customKey"] == "696969"
    assert channel["podroll"] == [{"feedGuid": OTHER_SHOW, "feedUrl": "https://mp3s.nashownotes.com/pc20rss.xml",
                                   "title": "PC 2.0"}]
    assert channel["podcastPublisher"] == {"feedGuid": PUBLISHER, "feedUrl": "https://example.org/publisher.xml"}
    assert channel["podcastBlocked"] == "yes"
    assert channel["podcastBlockedPlatforms"] == {"apple": False, "spotify": False}
    assert channel["chat"]["server"] == "irc.libera.chat" and channel["chat"]["space"] == "#show"
    assert channel["pubsub"]["hub"] == "https://hub.example.com/"
    assert channel["owner"]["email"] == "owner@feedtool-corpus.net"  # YouTube needs it; kept when set
    assert channel["itunesBlock"] is False  # apple may list the show
    first = next(i for i in pt["items"] if i["title"] == "First & Foremost")
    splits = first["value"]["valueTimeSplits"]
    assert [(s["type"], s["startTime"], s["duration"]) for s in splits] == [("recipients", 1, 2),
                                                                             ("remoteItem", 3, 1.5)]
    assert [r["address"] for r in splits[0]["recipients"]] == [NODE_A, "guest@fountain.fm"]
    assert splits[1]["remoteItem"] == {"feedGuid": OTHER_SHOW, "itemGuid": "ep-7"}
    assert splits[1]["remotePercentage"] == 95
    # the episode's value block inherits the show's recipients around the guest's segment
    assert [r["name"] for r in first["value"]["recipients"]] == ["Host", "Producer", "Hosting"]
    assert first["podcastSocialInteraction"][0]["platform"] == "atproto"
    assert first["chat"]["protocol"] == "matrix"
    # partytime's XML reader turns the text "true"/"false" into booleans and loses it: feedsmith reads those
    assert {t.get("purpose"): t["value"] for t in channel["podcastTxt"]}["verify"] == "S6lpp-7ZCn8"

    fs = feedsmith(feed)
    assert fs["podcast"]["podping"] == {"usesPodping": True}
    assert fs["spotify"] == {"limit": {"recentCount": 5}, "countryOfOrigin": "us gb"}
    images = fs["podcast"]["images"]
    assert images[0]["purpose"] == "artwork" and (images[0]["width"], images[0]["height"]) == (1400, 1400)
    banner = images[1]
    assert (banner["width"], banner["height"], banner["purpose"]) == (2000, 500, "banner")
    assert banner["href"].startswith("https://cdn.feedtool-corpus.net/show/banner-")
    assert banner["href"].endswith(".png")
    assert (podcast.public / banner["href"].rsplit("/", 1)[1]).is_file()
    assert images[2] == {"href": "https://cdn.example.com/wide.jpg", "width": 1920, "aspectRatio": "16/9",
                         "purpose": "social"}
    item = next(i for i in fs["items"] if i["title"] == "First & Foremost")
    assert item["podcast"]["txts"] == [{"display": "true", "purpose": "ai-content"}]
    assert {t["purpose"]: t["display"] for t in fs["podcast"]["txts"]} == {"verify": "S6lpp-7ZCn8",
                                                                            "ai-content": "false"}
    psc = item["psc"]["chapters"]
    assert [c["start"] for c in psc] == ["00:00:00.000", "00:00:02.000"]  # the silent chapter is left out
    assert psc[0]["href"] == "https://example.com/start"
    chapters_json = json.loads(built_file(podcast.public / "first", "chapters-*.json").read_text())
    assert psc[1]["image"] == chapters_json["chapters"][2]["img"]  # the same served picture
    enclosure = item["enclosures"][0]
    audio = next((podcast.public / "first").glob("audio-*.mp3"))
    assert enclosure["url"] == "https://op3.dev/e/cdn.feedtool-corpus.net/show/first/" + audio.name
    assert enclosure["length"] == audio.stat().st_size and enclosure["type"] == "audio/mpeg"

    # no parser we have reads an item's contentLink (partytime and feedsmith read it in liveItem only)
    root = etree.parse(str(feed)).getroot()
    link = root.find("channel/item[title='First & Foremost']/podcast:contentLink", NS)
    assert (link.get("href"), link.text) == ("https://www.youtube.com/watch?v=abc", "Watch on YouTube")
    assert root.find("channel/podcast:socialInteract", NS).get("uri") == "https://mastodon.example/@show/1"

    report = run_cli(runner, "validate", feed, "--format", "json")
    data = json.loads(report.output)
    assert report.exit_code == 0 and data["summary"]["errors"] == 0 and data["summary"]["warnings"] == 0, report.output
    assert not [f for f in data["findings"] if f["rule"].startswith(("podcast.", "directory.", "chapters."))]


def test_a_feed_without_the_new_keys_carries_none_of_their_tags(podcast) -> None:
    from feedtool.build import build_podcast

    build_podcast(podcast.episodes, podcast.public)
    raw = (podcast.public / "feed.xml").read_text()
    for tag in ("podcast:value", "podcast:podroll", "podcast:block", "podcast:podping", "spotify", "rel=\"hub\"",
                "fh:archive", "op3.dev"):
        assert tag not in raw
    assert "psc:chapters" in raw and "<podcast:image " in raw  # chapters and the cover need no new key


def test_block_true_blocks_everywhere_and_a_list_blocks_some(podcast) -> None:
    from feedtool.build import build_podcast

    podcast.set_show(block="true")
    build_podcast(podcast.episodes, podcast.public)
    root = etree.parse(str(podcast.public / "feed.xml")).getroot()
    assert root.findtext("channel/itunes:block", namespaces=NS) == "Yes"
    assert [(b.get("id"), b.text) for b in root.findall("channel/podcast:block", NS)] == [(None, "yes")]
    podcast.set_show(block="[google, amazon]")
    build_podcast(podcast.episodes, podcast.public)
    root = etree.parse(str(podcast.public / "feed.xml")).getroot()
    assert root.find("channel/itunes:block", NS) is None  # Apple still lists it
    assert [(b.get("id"), b.text) for b in root.findall("channel/podcast:block", NS)] == [
        ("google", "yes"), ("amazon", "yes")]


# --- bad input: exit 2, the file and the field, the previous public/ untouched -------------------------------
def show(**changes: str) -> Callable[[PodcastFactory], None]:
    return lambda podcast: podcast.set_show(**changes)


def episode(extra: str) -> Callable[[PodcastFactory], None]:
    def apply(podcast: PodcastFactory) -> None:
        path = podcast.episodes / "second/episode.md"
        path.write_text(path.read_text().replace("episode: 2", "episode: 2\n" + extra.strip("\n"), 1))
    return apply


def recipients(*items: str) -> str:
    return "{recipients: [" + ", ".join(items) + "]}"


CASES = [
    ("splits-not-100", show(value=recipients(f"{{address: {NODE_A}, split: 60}}", "{address: a@b.example, split: 30}")),
     ["podcast.yaml", "value.recipients", "add up to 90, not 100"]),
    ("split-negative", show(value=recipients(f"{{address: {NODE_A}, split: 110}}", "{address: a@b.example, split: -10}")),
     ["podcast.yaml", "value.recipients[1].split", "must be 0 or more"]),
    ("lnaddress-no-domain", show(value=recipients("{address: alice@getalby, split: 100}")),
     ["podcast.yaml", "value.recipients[0].address", "not a Lightning Address"]),
    ("lnaddress-two-ats", show(value=recipients("{address: 'al@ice@getalby.com', split: 100}")),
     ["value.recipients[0].address", "not a Lightning Address"]),
    ("node-id-short", show(value=recipients("{address: 02abcdef, split: 100}")),
     ["value.recipients[0].address", "not a Lightning node id"]),
    ("remote-item-without-guid", show(podroll="[{feed_url: 'https://example.org/feed.xml'}]"),
     ["podcast.yaml", "podroll[0].feed_guid", "is required"]),
    ("podroll-is-us", show(podroll="[{feed_url: 'https://cdn.example.com/show/feed.xml', feed_guid: " + OTHER_SHOW + "}]"),
     ["podcast.yaml", "podroll", "this show's own feed"]),
    ("prefix-not-https", show(enclosure_prefix="http://op3.dev/e/"),
     ["podcast.yaml", "enclosure_prefix", "not an https:// prefix"]),
    ("hub-not-http", show(notify="{websub: 'ftp://hub.example.com/'}"),
     ["podcast.yaml", "notify.websub", "not an http(s) URL"]),
    ("podping-endpoint-in-clear", show(notify="{podping: {url: 'http://podping.example/'}}"),
     ["notify.podping.url", "in the clear"]),
    ("unknown-platform", show(block="[applee]"), ["podcast.yaml", "block", "did you mean 'apple'"]),
    ("verify-on-episode", episode("txt: [{value: abc, purpose: verify}]"),
     ["second/episode.md", "txt", "read from the channel"]),
    ("time-split-both", episode(f"value: {{recipients: [{{address: {NODE_A}, split: 100}}], time_splits: "
                                f"[{{start: 0, duration: 1, recipients: [{{address: {NODE_A}, split: 100}}], "
                                f"remote_item: {OTHER_SHOW}}}]}}"),
     ["second/episode.md", "value.time_splits[0].recipients", "not both"]),
    ("time-split-past-the-end", episode(f"value: {{recipients: [{{address: {NODE_A}, split: 100}}], time_splits: "
                                        f"[{{start: 3, duration: 60, remote_item: {OTHER_SHOW}}}]}}"),
     ["second/episode.md", "value.time_splits", "past the end of the audio"]),
    ("episode-value-without-recipients", episode("value: {suggested: 0.0000001}"),
     ["second/episode.md", "value.recipients", "is required"]),
    ("social-uri-not-https", show(social_interact="[{protocol: activitypub, uri: 'http://m.example/1'}]"),
     ["social_interact[0].uri", "must start with https://"]),
    ("max-items-zero", show(feed="{max_items: 0}"), ["podcast.yaml", "feed.max_items", "must be 1 or more"]),
]


@pytest.mark.parametrize("case_id, breakage, expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_an_error_naming_file_and_field(podcast: PodcastFactory, runner, case_id: str, breakage,
                                                      expected: list[str]) -> None:
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 0, result.output
    before = {p: p.read_bytes() for p in podcast.public.rglob("*") if p.is_file()}
    breakage(podcast)
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.stderr.startswith("Error: ")
    for fragment in expected:
        assert fragment in result.stderr, f"{fragment!r} not in {result.stderr!r}"
    assert {p: p.read_bytes() for p in podcast.public.rglob("*") if p.is_file()} == before


def test_the_podroll_may_not_name_our_own_guid(podcast: PodcastFactory, runner) -> None:
    from feedtool.load import podcast_guid_for

    own = podcast_guid_for("https://cdn.example.com/show/feed.xml")
    podcast.set_show(podroll=f"[{own}]")
    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    assert result.exit_code == 2 and "podroll[0] is this show's own feed" in result.stderr


def test_chapters_reach_every_player_from_one_source(podcast: PodcastFactory) -> None:
    """JSON file, psc:chapters, the audio's CHAP frames (ffprobe) and the notes' timestamps: one list."""
    import subprocess

    from feedtool.build import build_podcast

    build_podcast(podcast.episodes, podcast.public)
    root = etree.parse(str(podcast.public / "feed.xml")).getroot()
    item = root.find("channel/item[title='Second: ünïcödé 日本語 😀']")
    psc = [(c.get("start"), c.get("title")) for c in item.findall("psc:chapters/psc:chapter", NS)]
    assert psc == [("00:00:00.000", "Start"), ("00:00:02.000", "Middle")]
    assert item.find("psc:chapters", NS).get("version") == "1.2"
    data = json.loads(built_file(podcast.public / "second", "chapters-*.json").read_text())
    assert [(c["startTime"], c["title"]) for c in data["chapters"]] == [(0, "Start"), (2, "Middle")]
    audio = next((podcast.public / "second").glob("*.mp3"))
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(audio)],
                                      capture_output=True, check=True, text=True).stdout)
    assert [(float(c["start_time"]), c["tags"]["title"]) for c in probe["chapters"]] == [(0.0, "Start"),
                                                                                         (2.0, "Middle")]


def test_the_agreement_check_reads_the_content_named_chapters_file(podcast: PodcastFactory) -> None:
    """validate finds the build's chapters-<sha8>.json through podcast:chapters and holds psc:chapters to it."""
    from feedtool.build import build_podcast
    from feedtool.validation import validate_feed

    build_podcast(podcast.episodes, podcast.public)
    feed = podcast.public / "feed.xml"
    assert not [f for f in validate_feed(feed).findings if f.rule.startswith("chapters.")]
    served = built_file(podcast.public / "second", "chapters-*.json")
    data = json.loads(served.read_text())
    data["chapters"][1]["startTime"] = 4  # more than SAME_START_S from the 2 s in psc:chapters
    served.unlink()  # a hard link into the build cache: write a new file, not into the cached one
    served.write_text(json.dumps(data))
    found = sorted(f.message.split(": ")[0] for f in validate_feed(feed).findings if f.rule == "chapters.disagree")
    assert found == ["the JSON chapters file and the audio's chapter tags disagree",
                     "the JSON chapters file and the psc:chapters in the feed disagree",
                     "the JSON chapters file and the show notes' timestamps disagree"]


def test_npt_round_trips() -> None:
    from feedtool.validation.rules_p20 import npt, parse_npt

    for seconds in (0, 1.25, 59.999, 61, 3599.5, 3600, 36000.125):
        assert parse_npt(npt(seconds)) == pytest.approx(seconds, abs=0.0005)
    assert npt(3725.5) == "01:02:05.500"
    assert parse_npt("1:02") == 62 and parse_npt("75.5") == 75.5 and parse_npt("00:61:00") is None


def test_prefix_chain_follows_each_services_documented_form() -> None:
    from feedtool.validation.rules_p20 import prefixed, unprefixed

    url = "https://cdn.example.com/show/ep/a.mp3"
    assert prefixed(url, ("https://op3.dev/e/",)) == "https://op3.dev/e/cdn.example.com/show/ep/a.mp3"
    chain = prefixed(url, ("https://dts.podtrac.com/redirect.mp3/", "https://op3.dev/e/"))
    assert chain == "https://dts.podtrac.com/redirect.mp3/op3.dev/e/cdn.example.com/show/ep/a.mp3"
    assert unprefixed(chain, "https://cdn.example.com/show/") == url
    assert unprefixed("https://op3.dev/e/https://cdn.example.com/show/ep/a.mp3", "https://cdn.example.com/show/") == url
    assert unprefixed("https://other.example/a.mp3", "https://cdn.example.com/show/") is None


def test_public_holds_only_served_files(podcast: PodcastFactory, tmp_path: Path) -> None:
    """Show-level images land next to the cover, under content names."""
    from feedtool.build import build_podcast

    set_up(podcast)
    build_podcast(podcast.episodes, podcast.public)
    names = sorted(p.name for p in podcast.public.iterdir())
    assert any(n.startswith("banner-") and n.endswith(".png") for n in names)


TRICKY_ITEM_TAGS = """chapters:
  - {start: 0, title: "Fish & chips <5> \\"quoted\\" 'single' ]]> 日本語 😀", url: "https://example.com/?a=1&b=2"}
  - {start: 1.5, title: Silent, toc: false}
  - {start: 2.25, title: "Tabs\\tand ends", image: chapter.png}
  - {start: 4, title: Last}
value:
  time_splits:
    - {start: 1, duration: 2, recipients: [{name: "A & B <guests>", address: guest@fountain.fm, split: 100}]}
    - {start: 3, duration: 1, remote_item: {feed_guid: 917393e3-1b1e-5cef-ace4-edaa54e1f810, title: "It's \\"x\\""}}
social_interact: [{protocol: activitypub, uri: "https://m.example/@a/1?x=1&y=2"}]
chat: {server: irc.libera.chat, protocol: irc}
images: [{href: "https://cdn.example.com/a.jpg", alt: "Two lines:\\nsecond <line>", width: 100}]
content_links: [{href: "https://youtube.com/watch?v=1", text: "Watch\\n  <here> & there"}]"""


@pytest.mark.parametrize("spoof", [False, True])
def test_spliced_item_tags_are_the_bytes_lxml_writes(podcast: PodcastFactory, spoof: bool, monkeypatch) -> None:
    """The fast path (value, psc:chapters ... serialized in the workers and spliced into the feed) against
    the plain one (lxml elements in the parent): the same bytes, with text that spans lines and needs escaping."""
    import dataclasses

    from PIL import Image

    from feedtool import archive, feed
    from feedtool.build import build_podcast

    Image.new("RGB", (600, 600)).save(podcast.episodes / "first/chapter.png")
    md = podcast.episodes / "first/episode.md"
    md.write_text(md.read_text().replace("episode: 1", "episode: 1\n" + TRICKY_ITEM_TAGS, 1), encoding="utf-8")
    podcast.set_show(value=f"{{recipients: [{{name: Host, address: {NODE_A}, split: 100}}]}}")
    podcast.set_show(feed="{max_items: 1}")
    captured: list[tuple[tuple, dict]] = []
    real = feed.render_feed

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        captured.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(archive, "render_feed", spy)
    build_podcast(podcast.episodes, podcast.public)
    monkeypatch.setattr(archive, "render_feed", real)
    assert len(captured) == 2  # the main feed and one archive page
    fallbacks: list[bool] = []
    fill = feed._fill_slots

    def watch(data: bytes, slots: list) -> bytes | None:  # type: ignore[type-arg]
        result = fill(data, slots)
        fallbacks.append(result is None)
        return result

    monkeypatch.setattr(feed, "_fill_slots", watch)
    for args, kwargs in captured:
        if spoof:  # the placeholder's own text in the notes (raw, in CDATA): the fast path must step aside
            kwargs = {**kwargs, "entries": [dataclasses.replace(
                e, notes_html=e.notes_html + '\n      <feedtool-slot n="0"/>')
                for e in kwargs["entries"]]}
        fast = real(*args, **kwargs)
        plain = real(*args, **{**kwargs, "fast": False})
        assert fast == plain
        without_lines = [dataclasses.replace(e, extras_xml=None) for e in kwargs["entries"]]
        assert real(*args, **{**kwargs, "entries": without_lines}) == plain
    assert any(fallbacks) == spoof
    (page,) = (podcast.public / "archive").iterdir()  # the first episode is the older one
    titles = [c.get("title") for c in etree.parse(str(page)).getroot().iterfind(".//psc:chapter", NS)]
    assert titles == ["Fish & chips <5> \"quoted\" 'single' ]]> 日本語 😀", "Tabs\tand ends", "Last"]

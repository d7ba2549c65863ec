"""Benchmark: `feedtool validate` (no media checks) vs podcastparser parsing the same feed.

Writes a 3,000-episode feed (about 15 MB, shaped like feedtool's build: HTML show notes in
description and content:encoded, chapters, transcripts, persons) to a temporary folder, then times,
side by side in one run, podcastparser.parse and validate_feed_bytes (parse + every rule), N rounds
each, interleaved. Prints medians and the ratio.

    .venv/bin/python bench/bench_validate.py [--episodes 3000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

BASE = "https://podcast.example.com/show/"
NOTES = (
    "<p>In this episode we talk with our guest about building machine learning systems that survive "
    "contact with production: data contracts, feature stores, on-call rotations and the culture that "
    "makes a small platform team effective. Recorded remotely; the audio has been lightly edited.</p>"
    "<p>Timestamps:</p><ul>{chapters}</ul>"
    "<p>Links mentioned in the show:</p><ul>"
    "<li><a href=\"https://example.com/paper\">The paper on data contracts</a></li>"
    "<li><a href=\"https://example.com/blog\">Our guest's blog</a></li>"
    "<li><a href=\"https://example.com/jobs\">The MLOps community job board</a></li></ul>"
    "<p>Join the community Slack, subscribe to the newsletter and leave us a review; it helps other "
    "people find the show. Thanks to our sponsors for keeping the lights on.</p>"
)


def make_feed(episodes: int) -> bytes:
    from feedtool.validation.rules_podcast import podcast_guid_for

    start = datetime(2015, 1, 5, 9, 0, tzinfo=UTC)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:podcast="https://podcastindex.org/namespace/1.0" version="2.0">\n<channel>\n'
        "<title>Benchmark Show</title>\n"
        f"<link>{BASE}</link>\n<description>A long-running show with {episodes} episodes.</description>\n"
        f'<atom:link href="{BASE}feed.xml" rel="self" type="application/rss+xml"/>\n'
        "<language>en</language>\n<itunes:author>Bench Team</itunes:author>\n"
        f'<itunes:image href="{BASE}cover.jpg"/>\n<itunes:category text="Technology"/>\n'
        "<itunes:explicit>false</itunes:explicit>\n<itunes:type>episodic</itunes:type>\n"
        f"<podcast:guid>{podcast_guid_for(BASE + 'feed.xml')}</podcast:guid>\n<podcast:locked>no</podcast:locked>\n"
    ]
    for n in range(episodes, 0, -1):
        date = start + timedelta(days=n)
        slug = f"episode-{n:04d}"
        chapters = "".join(f"<li>[{m:02d}:00] Topic number {m} of episode {n}</li>" for m in range(0, 125, 5))
        notes = NOTES.format(chapters=chapters)
        title = f"Episode {n}: Culture &amp; architecture in MLOps, part {n % 7 + 1}"
        parts.append(
            "<item>\n"
            f"<title>{title}</title>\n<link>{BASE}{slug}/</link>\n"
            f"<description><![CDATA[{notes}]]></description>\n"
            f"<content:encoded><![CDATA[{notes}<p><strong>Guest:</strong> Someone Famous</p>]]></content:encoded>\n"
            f'<guid isPermaLink="false">2b6c{n:04d}-8e3c-4b1a-9d6f-2a7c1b9e4f10</guid>\n'
            f'<enclosure url="{BASE}{slug}/{slug}.mp3" length="{30_000_000 + n}" type="audio/mpeg"/>\n'
            f"<pubDate>{format_datetime(date, usegmt=True)}</pubDate>\n"
            f"<itunes:duration>{3000 + n}</itunes:duration>\n<itunes:episode>{n}</itunes:episode>\n"
            "<itunes:episodeType>full</itunes:episodeType>\n<itunes:explicit>false</itunes:explicit>\n"
            f'<podcast:chapters url="{BASE}{slug}/chapters.json" type="application/json+chapters"/>\n'
            f'<podcast:transcript url="{BASE}{slug}/transcript.vtt" type="text/vtt"/>\n'
            f'<podcast:person role="guest" href="https://example.com/guest/{n}">{escape("Guest " + str(n))}</podcast:person>\n'
            f"<podcast:episode>{n}</podcast:episode>\n"
            "</item>\n"
        )
    parts.append("</channel>\n</rss>\n")
    return "".join(parts).encode("utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    import podcastparser
    from lxml import etree

    from feedtool.validation import validate_feed_bytes

    data = make_feed(args.episodes)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "feed.xml"
        path.write_bytes(data)
        times: dict[str, list[float]] = {"podcastparser.parse": [], "feedtool validate (no media)": [],
                                         "(lxml parse alone)": []}
        report = None
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            parsed = podcastparser.parse(BASE + "feed.xml", io.BytesIO(data))
            times["podcastparser.parse"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            report = validate_feed_bytes(path.read_bytes(), name=str(path), base_dir=path.parent, check_media=False)
            times["feedtool validate (no media)"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
            times["(lxml parse alone)"].append(time.perf_counter() - t0)
        assert len(parsed["episodes"]) == args.episodes
        assert report is not None and report.items == args.episodes and report.errors == 0, report.summary()

    print(f"feed: {args.episodes} episodes, {len(data) / 1e6:.1f} MB; {args.rounds} rounds, interleaved")
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(f"  {name:<32} median {value:.3f} s  (min {min(times[name]):.3f} s)")
    ratio = medians["feedtool validate (no media)"] / medians["podcastparser.parse"]
    print(f"  ratio validate / podcastparser: {ratio:.2f} ({'within' if ratio <= 1 else 'OVER'} budget)")
    print(f"  findings: {report.summary()}")
    return 0 if ratio <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())

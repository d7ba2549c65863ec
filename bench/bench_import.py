#!/usr/bin/env python3
"""Import speed: `feedtool import --media remote` of a 3,000-episode, ~12 MB feed against a local
server, side by side with podcastparser fetching and parsing the same feed, in one run.

The feed is written the way big hosts write them: content:encoded notes of ~2.5 KB (paragraphs,
a guest list, links, a timestamp block), a shorter description, itunes tags with enclosure
length and itunes:duration (so import asks the host nothing per episode: the decision in
feedtool/importer/media.py), a podcast:person, and the show's artwork as every episode's image.
Each round runs both, interleaved; the medians and their ratio are printed (goal: <= 3x).
Also printed: the notes conversion alone with html-to-markdown (used) and markdownify (if
installed), per note, on the same notes: the reason for the dependency choice.

    .venv/bin/python bench/bench_import.py [--n 3000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import io
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.request import urlopen

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from feedtool.importer.run import Options, import_feed
from tests.import_server import serve

WORDS = ["podcast", "machine", "learning", "production", "culture", "team", "architecture", "data", "model", "pipeline", "deploy", "monitor", "feature", "store", "latency", "budget", "people", "process", "tooling", "platform", "open", "source"]


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def notes_html(i: int, rng: random.Random) -> str:
    paragraphs = "".join(f"<p>{_sentence(rng, 30)} {_sentence(rng, 25)}</p>" for _ in range(3))
    guests = "".join(f'<li><a href="https://example.com/people/{i}-{g}">Guest {g}</a>: {_sentence(rng, 8)}</li>'
                     for g in range(4))
    stamps = "<br>".join(f"{m // 60:02d}:{m % 60:02d}:00 {_sentence(rng, 5)}" for m in range(0, 60, 6))
    return (f"{paragraphs}<h3>Guests</h3><ul>{guests}</ul><p><strong>Timestamps</strong><br>{stamps}</p>"
            f'<p>Follow us: <a href="https://twitter.com/show_{i}">@show_{i}</a> and https://example.com/ep/{i}</p>')


def make_feed(n: int, base: str) -> bytes:
    rng = random.Random(2024)
    items = []
    for i in range(n, 0, -1):
        notes = notes_html(i, rng)
        day = 1 + i % 28
        items.append(
            f"<item><title>Episode {i}: {_sentence(rng, 6)}</title>"
            f'<guid isPermaLink="false">{i:08d}-5d1e-4f0c-8a4b-3c2d1e0f{i:04d}</guid>'
            f"<pubDate>Mon, {day:02d} Jan 2024 10:00:00 GMT</pubDate><link>https://example.com/ep/{i}</link>"
            f"<description><![CDATA[<p>{_sentence(rng, 40)}</p>]]></description>"
            f"<content:encoded><![CDATA[{notes}]]></content:encoded>"
            f'<enclosure url="https://cdn.example.com/ep/{i}.mp3" length="{30_000_000 + i}" type="audio/mpeg"/>'
            f"<itunes:duration>{3000 + i}</itunes:duration><itunes:episode>{i}</itunes:episode>"
            f'<itunes:explicit>false</itunes:explicit><itunes:image href="{base}art.jpg"/>'
            '<podcast:person role="host">Ada Host</podcast:person></item>')
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel><title>Bench Show</title>'
            "<link>https://example.com/</link><description>A big show.</description><language>en</language>"
            f'<itunes:author>Ada</itunes:author><itunes:image href="{base}art.jpg"/>'
            '<itunes:category text="Technology"/><itunes:explicit>false</itunes:explicit>')
    return (head + "".join(items) + "</channel></rss>\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    import podcastparser
    from PIL import Image

    art = io.BytesIO()
    Image.new("RGB", (1400, 1400), (200, 80, 40)).save(art, "JPEG", quality=60)
    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        with serve(files={"/art.jpg": art.getvalue()}) as site:
            data = make_feed(args.n, site.url)
            site.files["/feed.xml"] = data
            url = site.url + "feed.xml"
            print(f"feed: {args.n} episodes, {len(data) / 1e6:.1f} MB, served at {url}")
            base_times, import_times, floor_times = [], [], []
            for round_ in range(args.rounds):
                start = time.perf_counter()
                with urlopen(url) as answer:
                    parsed = podcastparser.parse(url, answer)
                base_times.append(time.perf_counter() - start)
                assert len(parsed["episodes"]) == args.n
                into = work / f"round-{round_}"
                start = time.perf_counter()
                result = import_feed(Options(source=url, into=into))
                import_times.append(time.perf_counter() - start)
                assert len(result.added) == args.n
                shutil.rmtree(into)
                floor_times.append(_fs_floor(work / f"floor-{round_}", args.n))
        base, ours = statistics.median(base_times), statistics.median(import_times)
        floor = statistics.median(floor_times)
        print(f"podcastparser (fetch + parse):      median {base:.2f} s  {[round(t, 2) for t in base_times]}")
        print(f"feedtool import --media remote:     median {ours:.2f} s  {[round(t, 2) for t in import_times]}")
        print(f"file-system floor ({args.n} folders + 2 small files each): median {floor:.2f} s  "
              f"{[round(t, 2) for t in floor_times]}")
        print(f"ratio: {ours / base:.2f}x (goal <= 3x); without the floor: {(ours - floor) / base:.2f}x")
        _converters([notes_html(i, random.Random(i)) for i in range(300)])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _fs_floor(folder: Path, n: int) -> float:
    """What any import pays to write a show of n episodes: a folder, an episode.md and a lock-sized
    share per episode, written by the simplest script (no parsing, no conversion)."""
    text = "---\ntitle: x\n---\n" + "notes " * 400
    start = time.perf_counter()
    folder.mkdir()
    for i in range(n):
        sub = folder / f"episode-{i}"
        sub.mkdir()
        (sub / "episode.md").write_text(text, encoding="utf-8")
    (folder / "feedtool.lock").write_text("x" * 300 * n, encoding="utf-8")
    elapsed = time.perf_counter() - start
    shutil.rmtree(folder)
    return elapsed


def _converters(notes: list[str]) -> None:
    from feedtool.importer.markdown import to_markdown

    start = time.perf_counter()
    for html in notes:
        to_markdown(html)
    ours = (time.perf_counter() - start) / len(notes) * 1000
    print(f"notes to Markdown, html-to-markdown (feedtool.importer.markdown): {ours:.2f} ms a note")
    try:
        import markdownify
    except ImportError:
        print("markdownify not installed: no comparison")
        return
    converter = markdownify.MarkdownConverter(heading_style="ATX", bullets="-")
    start = time.perf_counter()
    for html in notes:
        converter.convert(html)
    other = (time.perf_counter() - start) / len(notes) * 1000
    print(f"notes to Markdown, markdownify {markdownify.__version__ if hasattr(markdownify, '__version__') else ''}:"
          f" {other:.2f} ms a note")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Make a synthetic podcast catalogue for the build benchmark: podcast.yaml + N episode folders.

Each episode folder holds an episode.md with realistic front matter (title, date, audio, number,
season, people, link) and about 25 lines of Markdown show notes, 20 of them timestamp lines
"[MM:SS] Title" ascending from 00:00 (so the build finds 20 chapters), plus a real MP3.

The MP3 is made once with ffmpeg (60 s of a tone, mono, 8 kHz, 8 kbit/s: about 60 KB) and written
into every folder behind a small ID3v2.3 tag of its own (TIT2 "Episode N (master)", TSSE), as an
editor exports each master: every episode's file has its own content, so build probes and hashes
each one (identical copies would let the content-keyed probe cache answer 2,999 of 3,000) and
the tagger meets an existing tag to replace. Real files, not links, as in a git clone. The show
artwork is a 1400x1400 JPEG drawn with Pillow. Output is deterministic.

    .venv/bin/python bench/make_catalogue.py [--n 3000] [--out bench/out/catalogue-3000]

Writes <out>/episodes/; a second run with the same --n and --out reuses what is there.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Bump when the files change shape: an older catalogue's audio is then written again.
CATALOGUE_VERSION = "2"
AUDIO_SECONDS = 60
CHAPTERS = 20
CHAPTER_STEP_S = 3  # 20 chapters at 0, 3, ... 57 s: all inside the 60 s audio
ART_SIZE = 1400
BASE_URL = "https://cdn.example.com/bench-show/"

SHOW_YAML = """\
# A synthetic show for bench/bench_build.py (made by bench/make_catalogue.py).
title: The Benchmark Hour
author: Bench Team
description: |
  A long-running synthetic show with {n} episodes, made to time **feedtool build**.

  Each episode has show notes with twenty timestamps, a few links and a guest.
language: en-us
link: https://example.com/bench-show/
base_url: {base_url}
artwork: artwork.jpg
categories:
  - Technology
  - Business > Management
explicit: false
type: episodic
owner: {{name: Bench Team, email: bench@example.com}}
copyright: "© 2015-2025 Bench Team"
funding:
  - {{url: https://example.com/support, text: Support the show}}
people:
  - {{name: Alex Host, role: host, href: "https://example.com/alex"}}
  - {{name: Sam Cohost, role: co-host}}
locked: false
medium: podcast
update_frequency: {{text: Weekly, rrule: FREQ=WEEKLY}}
"""

#: Every tag of issue 13 (bench/bench_p20.py): the show's part, appended to SHOW_YAML.
NODE_A = "02d5c1bf8b940dc9cadca86d1b0a3c37fbe39cee4c7e839e33bef9174531d27f52"
NODE_B = "03ae9f91a0cb8ff43840e3c322c4c61f019d8c1c3cea15a25cfc425ac605e61a4a"
P20_SHOW_YAML = f"""\
value:
  suggested: '0.00000005000'
  recipients:
    - {{name: Alex Host, address: {NODE_A}, split: 80}}
    - {{name: Sam Cohost, address: sam@getalby.com, split: 20}}
    - {{name: Hosting, address: {NODE_B}, split: 1, fee: true}}
podroll:
  - {{feed_guid: 917393e3-1b1e-5cef-ace4-edaa54e1f810, feed_url: "https://mp3s.nashownotes.com/pc20rss.xml", title: PC 2.0}}
  - {{feed_guid: 9b024349-ccf0-5f69-a609-6b82873eab3c, feed_url: "https://podnews.net/rss", title: Podnews}}
publisher: {{feed_guid: 003af0a0-6a45-55cf-b765-68e3d349551a, feed_url: "https://example.com/publisher.xml"}}
block: {{except: [apple, spotify, google]}}
social_interact: [{{protocol: activitypub, uri: "https://mastodon.example/@bench/1", account_id: "@bench"}}]
chat: {{server: irc.libera.chat, protocol: irc, space: "#bench"}}
images: [{{href: "https://example.com/bench-show/banner.jpg", width: 3000, aspect_ratio: 4/1, purpose: banner}}]
spotify: {{limit: 20, country_of_origin: [us, gb]}}
enclosure_prefix: https://op3.dev/e/
notify: {{podping: true, websub: "https://pubsubhubbub.appspot.com/"}}
txt: [{{value: S6lpp-7ZCn8, purpose: verify}}]
"""


def p20_front_matter(n: int, guest: str) -> list[str]:
    """An episode's part: a guest's value segment, comments, a link to the video."""
    return [
        "value:",
        "  time_splits:",
        f"    - {{start: 10, duration: 20, recipients: [{{name: {guest}, address: guest{n}@fountain.fm, split: 50}},"
        f" {{name: Alex Host, address: {NODE_A}, split: 50}}]}}",
        f'social_interact: [{{protocol: activitypub, uri: "https://mastodon.example/@bench/{n}"}}]',
        f'content_links: [{{href: "https://www.youtube.com/watch?v=bench{n}", text: Watch on YouTube}}]',
    ]


TOPICS = (
    "data contracts", "feature stores", "on-call rotations", "model monitoring", "team culture",
    "platform teams", "evaluation sets", "GPU budgets", "vector search", "batch vs streaming",
    "incident reviews", "hiring engineers", "technical debt", "open source", "edge deployment",
    "privacy by design", "A/B testing", "documentation", "observability", "cost control",
)
WORDS = (
    "pipeline", "latency", "rollout", "schema", "dashboard", "experiment", "budget", "review",
    "notebook", "cluster", "dataset", "baseline", "release", "contract", "migration", "backlog",
)
FIRST = ("Ana", "Ben", "Chloé", "Dev", "Eitan", "Fatima", "Gus", "Hana", "Iker", "Jun", "Kofi", "Lena")
LAST = ("Okafor", "Novák", "Schmidt", "Tanaka", "Rossi", "García", "Haddad", "Kowalski", "Silva")


def make_mp3(path: Path) -> None:
    """One real short MP3: a 440 Hz tone, mono 8 kHz, 8 kbit/s CBR, no tags, no dates."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi",
         "-i", f"sine=frequency=440:sample_rate=8000:duration={AUDIO_SECONDS}",
         "-ac", "1", "-c:a", "libmp3lame", "-b:a", "8k",
         "-map_metadata", "-1", "-write_xing", "1", "-id3v2_version", "0", str(path)],
        check=True,
    )


def master_tag(number: int) -> bytes:
    """A small ID3v2.3 tag (TIT2, TSSE; Latin-1 text) that makes each episode's master unique."""

    def frame(name: bytes, text: str) -> bytes:
        body = b"\x00" + text.encode("latin-1")
        return name + len(body).to_bytes(4, "big") + b"\x00\x00" + body

    frames = frame(b"TIT2", f"Episode {number} (master)") + frame(b"TSSE", "Lavf60.16.100")
    size = len(frames)
    syncsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    return b"ID3\x03\x00\x00" + syncsafe + frames


def make_artwork(path: Path) -> None:
    """A 1400x1400 RGB JPEG with gradients and shapes (about the weight of real cover art)."""
    from PIL import Image, ImageDraw

    image = Image.linear_gradient("L").resize((ART_SIZE, ART_SIZE))
    red = image
    green = image.rotate(90)
    blue = Image.radial_gradient("L").resize((ART_SIZE, ART_SIZE))
    art = Image.merge("RGB", (red, green, blue))
    draw = ImageDraw.Draw(art)
    rng = random.Random(7)
    for _ in range(60):
        x, y = rng.randrange(ART_SIZE), rng.randrange(ART_SIZE)
        r = rng.randrange(20, 160)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((x - r, y - r, x + r, y + r), outline=colour, width=rng.randrange(2, 12))
    art.save(path, "JPEG", quality=88, optimize=True)


def episode_md(n: int, date: datetime, rng: random.Random, *, p20: bool = False) -> str:
    """Front matter + ~25 lines of notes with CHAPTERS ascending timestamps from 00:00."""
    topic = TOPICS[n % len(TOPICS)]
    guest = f"{FIRST[n % len(FIRST)]} {LAST[(n // len(FIRST)) % len(LAST)]}"
    season = (n - 1) // 100 + 1
    lines = [
        "---",
        f'title: "Episode {n}: {topic.capitalize()} with {guest}"',
        f"date: {date:%Y-%m-%dT%H:%M:%SZ}",
        "audio: episode.mp3",
        f"episode: {n}",
        f"season: {season}",
        "episode_type: full",
        "explicit: false",
        f"link: https://example.com/bench-show/episodes/{n}",
        "people:",
        f'  - {{name: {guest}, role: guest, href: "https://example.com/people/{n}"}}',
        "  - {name: Alex Host, role: host}",
        *(p20_front_matter(n, guest) if p20 else []),
        "---",
        f"{guest} joins us to talk about **{topic}**: what worked, what did not, and what they",
        f"would do differently next time. We also cover the {rng.choice(WORDS)} and the {rng.choice(WORDS)}.",
        "",
        "Timestamps:",
    ]
    for index in range(CHAPTERS):
        seconds = index * CHAPTER_STEP_S
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(2, 6)))
        lines.append(f"[{seconds // 60:02d}:{seconds % 60:02d}] {words.capitalize()}")
    lines += [
        "",
        f"- Our guest's site: https://example.com/people/{n}",
        f"- The paper we discussed: [{topic}](https://example.com/papers/{n})",
        "",
    ]
    return "\n".join(lines)


def make_catalogue(n: int, out: Path, *, p20: bool = False) -> Path:
    """Write <out>/episodes with n episodes; returns the episodes folder.

    ``p20``: also every tag of issue 13 (value with a time split, podroll, publisher, block,
    socialInteract, chat, images, Spotify, an analytics prefix, podping and WebSub).
    """
    episodes = out / "episodes"
    episodes.mkdir(parents=True, exist_ok=True)
    master = out / "master.mp3"
    if not master.is_file():
        make_mp3(master)
    artwork = episodes / "artwork.jpg"
    if not artwork.is_file():
        make_artwork(artwork)
    show = SHOW_YAML.format(n=n, base_url=BASE_URL) + (P20_SHOW_YAML if p20 else "")
    (episodes / "podcast.yaml").write_text(show, encoding="utf-8")
    version_file = out / "catalogue.version"
    fresh_audio = not version_file.is_file() or version_file.read_text().strip() != CATALOGUE_VERSION
    audio_frames = master.read_bytes()
    rng = random.Random(2024)
    start = datetime(2015, 1, 5, 9, 0, tzinfo=UTC)
    for n_ in range(1, n + 1):
        folder = episodes / f"episode-{n_:05d}"
        folder.mkdir(exist_ok=True)
        (folder / "episode.md").write_text(
            episode_md(n_, start + timedelta(hours=8 * n_), rng, p20=p20), encoding="utf-8"
        )
        audio = folder / "episode.mp3"
        if fresh_audio or not audio.is_file():
            audio.write_bytes(master_tag(n_) + audio_frames)  # its own file, like a git checkout
    for extra in sorted(episodes.glob("episode-*")):  # a smaller n than last time
        if int(extra.name.split("-")[1]) > n:
            shutil.rmtree(extra)
    version_file.write_text(CATALOGUE_VERSION + "\n")
    return episodes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="number of episodes (default 3000)")
    parser.add_argument("--out", type=Path, help="output folder (default bench/out/catalogue-N)")
    parser.add_argument("--p20", action="store_true", help="also every tag of issue 13 (bench_p20.py)")
    args = parser.parse_args(argv)
    out = args.out or HERE / "out" / f"catalogue-{args.n}{'-p20' if args.p20 else ''}"
    episodes = make_catalogue(args.n, out, p20=args.p20)
    print(f"{episodes}: {args.n} episodes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

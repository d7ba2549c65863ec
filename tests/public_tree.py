"""Hand-made public/ folders for the publish and serve tests, laid out the way build writes them.

``feed.xml`` at the top, show artwork ``cover-<sha8>.jpg``, per episode ``<slug>/`` with the
audio ``<slug>-<sha8>.mp3`` (content-addressed), ``chapters.json`` and a transcript ``.vtt`` under
fixed names, as builds before content-named side files wrote them (publish must handle both).
Audio is a real MP3 made once by ffmpeg; each episode's copy gets its own bytes appended as an
ID3v1-sized tail so every episode has a distinct hash.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

BASE_URL = "https://podcast.example.com/show/"


def make_tone(path: Path, seconds: int = 2) -> Path:
    """A real MP3 (mono, 32 kbps) made by ffmpeg."""
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", f"sine=frequency=440:duration={seconds}", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "32k", str(path)],
        check=True,
    )
    return path


@dataclass
class EpisodeSpec:
    slug: str
    title: str
    guid: str
    variant: bytes = b""  # changes the audio bytes (and so its name) without changing the guid


def sha8(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:8]


def write_public(root: Path, tone: Path, episodes: list[EpisodeSpec], *, base_url: str = BASE_URL) -> dict[str, str]:
    """Write a public/ tree; returns slug -> audio key. Replaces whatever was there."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    cover = b"\xff\xd8\xff\xe0 fake jpeg for publish tests \xff\xd9"
    cover_name = f"cover-{sha8(cover)}.jpg"
    (root / cover_name).write_bytes(cover)
    audio_keys: dict[str, str] = {}
    items = []
    for episode in episodes:
        folder = root / episode.slug
        folder.mkdir()
        audio = tone.read_bytes() + b"TAG" + episode.slug.encode().ljust(30, b" ") + episode.variant
        audio_name = f"{episode.slug}-{sha8(audio)}.mp3"
        (folder / audio_name).write_bytes(audio)
        key = f"{episode.slug}/{audio_name}"
        audio_keys[episode.slug] = key
        (folder / "chapters.json").write_text(json.dumps(
            {"version": "1.2.0", "chapters": [{"startTime": 0, "title": "Intro"}, {"startTime": 1, "title": "Main"}]}
        ))
        (folder / "transcript.vtt").write_text("WEBVTT\n\n00:00.000 --> 00:01.000\nHello.\n")
        items.append(
            "<item>"
            f"<title>{escape(episode.title)}</title>"
            f"<guid isPermaLink=\"false\">{escape(episode.guid)}</guid>"
            f"<enclosure url={quoteattr(base_url + key)} length=\"{len(audio)}\" type=\"audio/mpeg\"/>"
            f"<podcast:chapters url={quoteattr(base_url + episode.slug + '/chapters.json')}"
            " type=\"application/json+chapters\"/>"
            f"<podcast:transcript url={quoteattr(base_url + episode.slug + '/transcript.vtt')} type=\"text/vtt\"/>"
            "</item>"
        )
    feed = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"'
        ' xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"'
        ' xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>'
        "<title>Publish Test Show</title><link>https://example.com/</link><description>A test.</description>"
        f'<atom:link href={quoteattr(base_url + "feed.xml")} rel="self" type="application/rss+xml"/>'
        f'<itunes:image href={quoteattr(base_url + cover_name)}/>'
        + "".join(items)
        + "</channel></rss>\n"
    )
    (root / "feed.xml").write_text(feed, encoding="utf-8")
    return audio_keys


def two_episodes(variant: bytes = b"") -> list[EpisodeSpec]:
    return [
        EpisodeSpec("ep-001", "First", "guid-001"),
        EpisodeSpec("ep-002", "Second", "guid-002", variant),
    ]

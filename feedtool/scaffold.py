"""`feedtool init` and `feedtool new`: starting points that already build and validate."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from feedtool.errors import InputError

SHOW_TEMPLATE = """\
# The show. Keys are documented in docs/format.md; paths are relative to this folder.
title: {title}
author: {title}
description: |
  One or two sentences about the show, in Markdown.
language: en
link: {base_url}
base_url: {base_url}          # where public/ will be served from
artwork: artwork.jpg          # square JPEG or PNG, 1400-3000 px, RGB
categories:                   # Apple's list; "Top > Sub" for a subcategory
  - Technology
explicit: false
type: episodic
# owner: {{name: Your Name, email: you@example.com}}
publish:
  to: site                    # a local folder, or s3://bucket/prefix (see docs/publishing.md)
"""

EPISODE_TEMPLATE = """\
---
title: {title}
date: {date}
audio: episode.mp3            # the master audio next to this file (mp3 or m4a for Apple)
episode: {number}
draft: true                   # remove when the episode is ready
# people:
#   - {{name: Guest Name, role: guest}}
---
What this episode is about, in Markdown.

Timestamps:
[00:00] Introduction
"""


def init_podcast(directory: Path, *, title: str, base_url: str) -> list[Path]:
    """Create DIRECTORY/episodes/podcast.yaml and artwork; never overwrite anything."""
    if not base_url.startswith(("http://", "https://")):
        raise InputError(f"{base_url!r} is not an http(s) URL", field="--base-url")
    if not base_url.endswith("/"):
        base_url += "/"
    episodes = directory / "episodes"
    show_file = episodes / "podcast.yaml"
    if show_file.exists():
        raise InputError("a podcast already lives here", path=show_file,
                         hint="use `feedtool new TITLE` to add an episode")
    episodes.mkdir(parents=True, exist_ok=True)
    created = []
    show_file.write_text(SHOW_TEMPLATE.format(title=title, base_url=base_url), encoding="utf-8")
    created.append(show_file)
    artwork = episodes / "artwork.jpg"
    if not artwork.exists():
        _placeholder_artwork(artwork, title)
        created.append(artwork)
    ignore = directory / ".gitignore"
    if not ignore.exists():
        ignore.write_text("public/\nsite/\n.feedtool-cache/\n", encoding="utf-8")
        created.append(ignore)
    return created


def _placeholder_artwork(path: Path, title: str) -> None:
    """A 1400x1400 RGB JPEG that passes Apple's checks until the real art arrives."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1400, 1400), (32, 64, 96))
    draw = ImageDraw.Draw(image)
    draw.text((100, 650), title, fill=(255, 255, 255), font_size=96)
    image.save(path, "JPEG", quality=85)


def new_episode(episodes_dir: Path, title: str, *, date_text: str | None = None) -> Path:
    """Create episodes/<slug>/episode.md as a draft with the next episode number."""
    from feedtool.load import episode_folders, load_show, parse_yaml, read_text, slugify, split_front_matter

    load_show(episodes_dir)  # fail early and clearly outside a podcast
    if not title.strip():
        raise InputError("the title is empty", field="TITLE")
    numbers = []
    for folder in episode_folders(episodes_dir):
        path = folder / "episode.md"
        front, _, _ = split_front_matter(read_text(path), path=path)
        number = parse_yaml(front, path=path, first_line=2).get("episode")
        if isinstance(number, int):
            numbers.append(number)
    slug = slugify(title)
    folder = episodes_dir / slug
    if folder.exists():
        raise InputError("an episode folder with this name already exists", path=folder,
                         hint="pick another title, or edit that episode")
    if date_text is None:
        date = datetime.now(UTC).replace(microsecond=0)
    else:
        try:
            date = datetime.fromisoformat(date_text.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"{date_text!r} is not a date", field="--date",
                             hint="use ISO 8601, e.g. 2024-05-01T09:00:00Z") from None
    if date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    folder.mkdir()
    path = folder / "episode.md"
    quoted = '"' + title.replace("\\", "\\\\").replace('"', '\\"') + '"'
    path.write_text(EPISODE_TEMPLATE.format(
        title=quoted, date=date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        number=max(numbers, default=0) + 1), encoding="utf-8")
    return path

"""Write what import made: YAML through a dumper, episode.md, artwork, and the lock entries.

Values are never formatted into YAML by hand: PyYAML's dumper quotes whatever would read back as
something else (a guid ``12345``, ``1.50``, ``true``, ``2024-01-01`` or ``a: b`` stays the string it
was). ``lock_document`` is the one function that makes episodes/feedtool.lock's JSON (lock v2,
AUDIO.md), so the lock module can take it over.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import yaml

from feedtool.errors import InputError

#: episode.md front-matter keys in docs/format.md's order.
EPISODE_ORDER = (
    "title", "date", "audio", "episode", "episode_display", "season", "season_name", "episode_type", "explicit",
    "block", "link", "artwork", "itunes_title", "guid", "summary", "people", "chapters", "transcript", "funding",
    "license", "location", "txt", "soundbites",
)
LOCK_NOTE = (
    "feedtool's guid ledger: the guid each episode was published with. Commit this file. "
    "A guid must never change once published; feedtool build refuses to contradict it."
)

_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):
    """Safe dumper; multi-line text as a literal block where that reads back the same."""


def _str(dumper: Any, value: str) -> Any:
    if "\n" in value and _block_safe(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


def _block_safe(value: str) -> bool:
    """A literal block reads back exactly, and cannot end episode.md's front matter early."""
    return not any(line.strip() in ("---", "...") or line != line.rstrip() for line in value.split("\n"))


_Dumper.add_representer(str, _str)


def dump_yaml(data: dict[str, Any]) -> str:
    return str(yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False,
                         width=100))


def ordered_front(front: dict[str, Any]) -> dict[str, Any]:
    ordered = {key: front[key] for key in EPISODE_ORDER if front.get(key) not in (None, "", [])}
    if front.get("chapters") == []:
        ordered["chapters"] = []
    return ordered


def episode_text(front: dict[str, Any], notes: str, comments: list[str]) -> str:
    """episode.md: comment lines (flags for the podcaster), the front matter, then the Markdown notes."""
    lines = ["---"]
    for comment in comments:
        lines.extend("# " + part for part in _wrap(comment))
    body = dump_yaml(ordered_front(front))
    return "\n".join(lines) + "\n" + body + "---\n" + notes


def _wrap(text: str, width: int = 98) -> list[str]:
    import textwrap

    return textwrap.wrap(" ".join(text.split()), width) or [""]


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def lock_document(entries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """episodes/feedtool.lock as lock v2: per episode folder {guid, number, master, ...} (sorted)."""
    return {"note": LOCK_NOTE, "version": 2, "episodes": {slug: entries[slug] for slug in sorted(entries)}}


def lock_bytes(entries: dict[str, dict[str, Any]]) -> bytes:
    return (json.dumps(lock_document(entries), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def read_lock(path: Path) -> dict[str, dict[str, Any]]:
    """The lock's entries as v2 dicts (a v1 lock's "slug": "guid" becomes {"guid": ...})."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        episodes = data["episodes"]
        if not isinstance(episodes, dict):
            raise ValueError("'episodes' is not a mapping")
        result: dict[str, dict[str, Any]] = {}
        for slug, entry in episodes.items():
            if isinstance(entry, str):
                result[slug] = {"guid": entry}
            elif isinstance(entry, dict) and isinstance(entry.get("guid"), str):
                result[slug] = dict(entry)
            else:
                raise ValueError(f"the entry for {slug!r} has no guid")
    except (ValueError, KeyError, TypeError) as error:
        raise InputError(f"the guid ledger is damaged ({error})", path=path,
                         hint="restore it from git (git checkout -- episodes/feedtool.lock)") from None
    return result


def image_file(data: bytes, stem: str) -> tuple[str, bytes, str | None]:
    """(file name, bytes, warning) for artwork: JPEG and PNG kept as they are; other formats, CMYK
    and pictures over Apple's 3,000 px converted (with Pillow) to an RGB JPEG of at most 3,000 px."""
    from PIL import Image, UnidentifiedImageError

    if data.startswith(b"\xff\xd8\xff"):
        name, fmt = stem + ".jpg", "JPEG"
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        name, fmt = stem + ".png", "PNG"
    else:
        name, fmt = stem + ".jpg", ""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            mode = image.mode
            if fmt and mode == "RGB" and max(width, height) <= 3000:
                return name, data, None
            converted = image.convert("RGB")
            if max(width, height) > 3000:
                converted.thumbnail((3000, 3000))
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise ValueError(f"not a picture Pillow can read ({error})") from None
    out = io.BytesIO()
    converted.save(out, "JPEG", quality=90)
    why = []
    if not fmt:
        why.append("not JPEG or PNG")
    if mode != "RGB":
        why.append(f"{mode} colours")
    if max(width, height) > 3000:
        why.append(f"{width}x{height} px")
    return stem + ".jpg", out.getvalue(), "converted to an RGB JPEG of at most 3000 px (" + ", ".join(why) + ")"

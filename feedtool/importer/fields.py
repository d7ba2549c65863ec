"""Small readers shared by the channel and item mappings: text, flags, numbers, people, funding ...

Each takes an lxml element of the imported feed and returns plain values in the shape
podcast.yaml / episode.md write them (docs/format.md), or None when the feed has nothing usable.
What cannot be carried over is reported through ``Notices``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from feedtool.importer.source import ITUNES_NS, PODCAST_NS, Feed

IT = "{" + ITUNES_NS + "}"
PC = "{" + PODCAST_NS + "}"

_TRUE = ("true", "yes", "explicit", "1")
_FALSE = ("false", "no", "clean", "0")


@dataclass
class Notices:
    """What the import reports: warnings (the podcaster should look) and counts of things left out."""

    warnings: list[str] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def leave_out(self, what: str) -> None:
        self.left_out[what] = self.left_out.get(what, 0) + 1

    def extend(self, other: Notices) -> None:
        self.warnings.extend(other.warnings)
        for key, count in other.left_out.items():
            self.left_out[key] = self.left_out.get(key, 0) + count


def text(el: Any, tag: str) -> str | None:
    """The stripped text of the first ``tag`` child, or None when absent or empty."""
    child = el.find(tag)
    if child is None:
        return None
    value = "".join(child.itertext()).strip()
    return value or None


def flag(value: str | None) -> bool | None:
    """itunes:explicit / block / complete / podcast:locked as a boolean (None when unreadable)."""
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


def whole_number(value: str | None, *, minimum: int = 1) -> int | None:
    if value is None:
        return None
    try:
        number = int(value.strip())
    except ValueError:
        try:
            as_float = float(value.strip())
        except ValueError:
            return None
        if not as_float.is_integer():
            return None
        number = int(as_float)
    return number if number >= minimum else None


def duration_seconds(value: str | None) -> float | None:
    """itunes:duration in any form apps read: 3723, 3723.5, 62:03, 1:02:03 (None when unreadable)."""
    from feedtool.chapters import parse_timestamp

    if not value:
        return None
    try:
        seconds = parse_timestamp(value.strip())
    except ValueError:
        return None
    return seconds if seconds > 0 else None


def feed_date(value: str | None) -> datetime | None:
    """pubDate as an aware UTC datetime: RFC 2822 (as lenient as apps are), else ISO 8601."""
    if not value:
        return None
    value = value.strip()
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def iso(moment: datetime) -> str:
    """The ISO 8601 form episode.md uses: 2024-05-01T09:00:00Z."""
    text_ = moment.astimezone(UTC).isoformat()
    return text_[:-6] + "Z" if text_.endswith("+00:00") else text_


def http_url(feed: Feed, el: Any, value: str | None) -> str | None:
    """An absolute http(s) URL from an attribute or text (resolved against xml:base), else None."""
    resolved = feed.resolve(el, value)
    if resolved and resolved.startswith(("http://", "https://")) and " " not in resolved:
        return resolved
    return None


def people(feed: Feed, parent: Any, notices: Notices, where: str) -> list[dict[str, str]]:
    """podcast:person -> [{name, role, group, href, img}] (role and group lower case)."""
    result = []
    for el in parent.iterfind(PC + "person"):
        name = "".join(el.itertext()).strip()
        if not name:
            notices.warn(f"{where}: a podcast:person without a name was left out")
            continue
        person: dict[str, str] = {"name": name}
        role = (el.get("role") or "").strip().lower()
        group = (el.get("group") or "").strip().lower()
        if role and role != "host":
            person["role"] = role
        if group and group != "cast":
            person["group"] = group
        for key in ("href", "img"):
            url = http_url(feed, el, el.get(key))
            if url:
                person[key] = url
        result.append(person)
    return result


def funding(feed: Feed, parent: Any, notices: Notices, where: str) -> list[dict[str, str]]:
    """podcast:funding -> [{url, text}] (text cut to the namespace's 128 characters)."""
    result = []
    for el in parent.iterfind(PC + "funding"):
        url = http_url(feed, el, el.get("url"))
        if not url:
            notices.warn(f"{where}: a podcast:funding without an http(s) url was left out")
            continue
        label = " ".join("".join(el.itertext()).split()) or "Support the show"
        if len(label) > 128:
            notices.warn(f"{where}: podcast:funding text cut to 128 characters (the namespace's limit)")
            label = label[:127].rstrip() + "…"
        result.append({"url": url, "text": label})
    return result


def license_(feed: Feed, parent: Any) -> str | dict[str, str] | None:
    el = parent.find(PC + "license")
    if el is None:
        return None
    identifier = "".join(el.itertext()).strip()
    if not identifier:
        return None
    url = http_url(feed, el, el.get("url"))
    return {"identifier": identifier, "url": url} if url else identifier


def location(parent: Any) -> str | dict[str, str] | None:
    import re

    el = parent.find(PC + "location")
    if el is None:
        return None
    name = "".join(el.itertext()).strip()
    if not name:
        return None
    result: dict[str, str] = {"name": name}
    geo = (el.get("geo") or "").strip()
    if geo and re.match(r"^geo:-?\d+(\.\d+)?,-?\d+(\.\d+)?", geo):
        result["geo"] = geo
    country = (el.get("country") or "").strip()
    if re.match(r"^[A-Za-z]{2}$", country):
        result["country"] = country.upper()
    for key in ("osm", "rel"):
        value = (el.get(key) or "").strip()
        if value:
            result[key] = value
    return result if len(result) > 1 else name


def txt(parent: Any) -> list[dict[str, str]]:
    result = []
    for el in parent.iterfind(PC + "txt"):
        value = "".join(el.itertext()).strip()
        if not value:
            continue
        entry = {"value": value}
        purpose = (el.get("purpose") or "").strip()
        if purpose:
            entry["purpose"] = purpose
        result.append(entry)
    return result

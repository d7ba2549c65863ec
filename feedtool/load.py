"""episodes/ -> model: read podcast.yaml and every <slug>/episode.md, and check them.

Everything a podcaster can get wrong is caught here, before any audio is touched, with a message
that names the file, the line, the field and what to do. The loader never writes anything.

YAML is read with PyYAML's safe loader (the C one where available). YAML 1.1 turns ``1:24`` into
the number 84 and ``no`` into False; the field converters below accept what YAML hands over and
say plainly when it is not what the field needs. Anchors and aliases (``&a``, ``*a``) are refused
before anything is built from them (a few hundred bytes of aliases expand to gigabytes), and so
are control characters written as escapes (``"\\x01"``), which XML cannot carry.

Every file is read through ``feedtool.files.ShowFolder``: it must lie inside the show folder after
following links, and be a regular file. Field values that the validator also checks are checked
with the validator's own rules (feedtool.validation), so a show that builds passes ``validate``
for every value, and a value ``validate`` accepts builds.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import yaml

from feedtool import apple
from feedtool import chapters as chapter_io
from feedtool.errors import InputError, excerpt
from feedtool.files import ShowFolder
from feedtool.model import (
    Category,
    Chapter,
    Episode,
    Funding,
    License,
    Location,
    Master,
    Owner,
    Person,
    PublishTarget,
    Show,
    Soundbite,
    Trailer,
    Transcript,
    Txt,
    UpdateFrequency,
)
from feedtool.site.settings import read_site_settings

SHOW_FILE = "podcast.yaml"
EPISODE_FILE = "episode.md"
CHAPTER_FILES = ("chapters.json", "chapters.txt")
TRANSCRIPT_TYPES = {
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",
    ".html": "text/html",
    ".txt": "text/plain",
    ".json": "application/json",
}
ARTWORK_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

try:  # the C loader is about 10x faster on a large catalogue
    _BaseLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader


class _Loader(_BaseLoader):
    """The safe loader, but dates stay text: our own parser reports a bad date with its line."""

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, Any]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }


@dataclass(frozen=True)
class Podcast:
    """What load_podcast returns: the show and every episode (drafts included, in folder order)."""

    root: Path  # the episodes/ folder
    show: Show
    episodes: tuple[Episode, ...]

    def episode_dir(self, slug: str) -> Path:
        return self.root / slug


# --------------------------------------------------------------------------------------------
# Reading files


def read_text(path: Path, *, shown: Path | None = None) -> str:
    """A UTF-8 text file, or an InputError that points at the first bad byte's line.

    ``path`` is the file to read (the resolved path ShowFolder checked); ``shown`` the name the
    user knows it by, for messages.
    """
    shown = shown or path
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", path=shown) from None
    except OSError as error:
        raise InputError(f"cannot read the file ({error.strerror})", path=shown) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputError(
            f"not UTF-8 text (byte 0x{data[error.start]:02x})",
            path=shown,
            line=line,
            hint="save the file as UTF-8 in your editor",
        ) from None
    bad = _CONTROL_CHARS.search(text)
    if bad is not None:
        raise InputError(
            f"contains a control character (U+{ord(bad.group()):04X}) that XML cannot carry",
            path=shown,
            line=text.count("\n", 0, bad.start()) + 1,
            hint="delete it (it is invisible in most editors; it often comes from copy and paste)",
        )
    return text.lstrip("\ufeff")


#: Characters XML 1.0 cannot carry (tab, newline and carriage return are fine), and lone
#: surrogates, which a YAML escape such as "\ud800" can produce and UTF-8 cannot encode.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def parse_yaml(text: str, *, path: Path, first_line: int = 1) -> dict[str, Any]:
    """YAML mapping -> dict, with YAML's own errors turned into file:line messages.

    Before anything is built: anchors and aliases are refused (``_refuse_anchors``); when the
    text has a backslash (the only way to write a control character in YAML), every scalar is
    checked for characters XML cannot carry (``_refuse_control_escapes``).
    """
    try:
        if "&" in text or "*" in text:  # cheap: most front matter has neither
            _refuse_anchors(text, path=path, first_line=first_line)
        if "\\" in text:
            data = _load_checking_escapes(text, path=path, first_line=first_line)
        else:
            data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = first_line + mark.line if mark is not None else None
        problem = getattr(error, "problem", None) or str(error)
        raise InputError(
            f"invalid YAML: {problem}",
            path=path,
            line=line,
            hint="check indentation and quote values that contain ': ' or start with [ { * & ! | > ' \" %",
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(
            "expected 'key: value' lines at the top level", path=path, line=first_line
        )
    return data


def _refuse_anchors(text: str, *, path: Path, first_line: int) -> None:
    """Refuse YAML anchors (``&name``) and aliases (``*name``), reading only the event stream.

    Nothing in podcast.yaml or episode.md needs them, and aliases of aliases are how a few
    hundred bytes expand to gigabytes ("billion laughs"). The events are read without building
    anything, so a hostile file costs what its bytes cost.
    """
    for event in yaml.parse(text, Loader=_Loader):
        anchor = getattr(event, "anchor", None)
        if isinstance(event, yaml.AliasEvent) or (anchor is not None and isinstance(event, yaml.NodeEvent)):
            what = f"alias '*{anchor}'" if isinstance(event, yaml.AliasEvent) else f"anchor '&{anchor}'"
            raise InputError(
                f"YAML {what}: anchors and aliases are not supported",
                path=path,
                line=first_line + event.start_mark.line if event.start_mark is not None else None,
                hint="write the value out in full where it is needed",
            )


def _load_checking_escapes(text: str, *, path: Path, first_line: int) -> Any:
    """yaml.load, but every scalar is checked for control characters before data is built."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _refuse_control_escapes(node, "", path=path, first_line=first_line)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _refuse_control_escapes(node: yaml.Node, field: str, *, path: Path, first_line: int) -> None:
    """A scalar whose escapes (``"\\x01"``, ``"\\u001b"``) produce a character XML cannot carry
    is refused with its file, field and line; tabs and newlines are fine."""
    if isinstance(node, yaml.ScalarNode):
        bad = _CONTROL_CHARS.search(node.value)
        if bad is not None:
            raise InputError(
                f"contains a control character (U+{ord(bad.group()):04X}), written as an escape, "
                "that XML cannot carry",
                path=path,
                line=first_line + node.start_mark.line,
                field=field or None,
                hint="remove the escape sequence (\\x.., \\u.., \\e ...) from the quoted text",
            )
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _refuse_control_escapes(item, f"{field}[{index}]", path=path, first_line=first_line)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _refuse_control_escapes(key, field, path=path, first_line=first_line)
            name = key.value if isinstance(key, yaml.ScalarNode) else "?"
            _refuse_control_escapes(value, f"{field}.{name}" if field else name, path=path,
                                    first_line=first_line)


def split_front_matter(text: str, *, path: Path) -> tuple[str, str, int]:
    """episode.md -> (front matter YAML, Markdown body, line number where the body starts)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise InputError(
            "the file must start with a '---' line, then the YAML front matter, then '---'",
            path=path,
            line=1,
            hint="see `feedtool new` for a template",
        )
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]), index + 2
    raise InputError(
        "the front matter is not closed: add a '---' line after it", path=path, line=1
    )


_TOP_LEVEL_KEY = re.compile(r"^([A-Za-z_][\w.-]*)[ \t]*:", flags=re.M)


def key_lines(text: str, first_line: int = 1) -> dict[str, int]:
    """The line where each top-level key of a YAML mapping is written (the first time).

    ``first_line`` is the file line of ``text``'s first line (2 for front matter after '---').
    Used for messages here and for the source map build writes (validation speaks in these lines).
    """
    lines: dict[str, int] = {}
    line, counted = first_line, 0
    for match in _TOP_LEVEL_KEY.finditer(text):
        line += text.count("\n", counted, match.start())
        counted = match.start()
        lines.setdefault(match.group(1), line)
    return lines


def _line_of(text: str, key: str, first_line: int) -> int | None:
    """The line where a top-level key is written (for messages); None if not found."""
    return key_lines(text, first_line).get(key)


# --------------------------------------------------------------------------------------------
# Field checking


class Fields:
    """Typed access to one YAML mapping, with errors that say file, line and field."""

    def __init__(
        self, data: dict[str, Any], *, path: Path, text: str, first_line: int, prefix: str = "",
        warnings: list[str] | None = None,
    ) -> None:
        self.data = data
        self.path = path
        self.text = text
        self.first_line = first_line
        self.prefix = prefix
        #: what is allowed but worth a word (the validator's warnings), shared with sub-fields
        self.warnings: list[str] = warnings if warnings is not None else []

    def line(self, key: str) -> int | None:
        return _line_of(self.text, (self.prefix + key).split(".")[0].split("[")[0], self.first_line)

    def error(self, key: str, message: str, hint: str | None = None) -> InputError:
        return InputError(
            message,
            path=self.path,
            line=self.line(key),
            field=self.prefix + key,
            hint=hint,
        )

    def warn(self, key: str, message: str) -> None:
        line = self.line(key)
        where = f"{self.path}:{line}" if line else str(self.path)
        self.warnings.append(f"{where}: {self.prefix}{key}: {message}")

    def limit(self, key: str, text: str | None, limit: int) -> None:
        """Podcasting 2.0's recommended lengths: a warning past them, as in ``validate``."""
        if text is not None and len(text) > limit:
            self.warn(key, f"is {len(text)} characters; apps may cut it after {limit} (validate: podcast.length)")

    def check_known(self, known: tuple[str, ...]) -> None:
        for key in self.data:
            if not isinstance(key, str) or key not in known:
                close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
                hint = f"did you mean '{close[0]}'?" if close else "known keys: " + ", ".join(known)
                raise self.error(str(key), "unknown key", hint)

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def raw(self, key: str) -> Any:
        return self.data.get(key)

    def text_(self, key: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.error(key, "is required", f"add a '{key}:' line")
            return default
        if isinstance(value, (dict, list)):
            raise self.error(key, f"must be text, not a {type(value).__name__}")
        text = str(value).strip()
        if required and not text:
            raise self.error(key, "must not be empty")
        return text or default

    def req(self, key: str) -> str:
        value = self.text_(key, required=True)
        assert value is not None
        return value

    def bool_(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "yes"):
            return True
        if isinstance(value, str) and value.strip().lower() in ("false", "no"):
            return False
        raise self.error(key, f"must be true or false, not {value!r}")

    def int_(self, key: str, *, minimum: int = 1) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise self.error(key, f"must be a whole number, not {value!r}")
        try:
            number = int(value)
        except ValueError:
            raise self.error(key, f"must be a whole number, not {value!r}") from None
        if number < minimum:
            raise self.error(key, f"must be {minimum} or more, not {number}")
        return number

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.data.get(key)
        if value is None:
            return default
        text = str(value).strip()
        if text not in choices:
            close = difflib.get_close_matches(text.lower(), choices, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "use one of: " + ", ".join(choices)
            raise self.error(key, f"{text!r} is not allowed", hint)
        return text

    def url(self, key: str, *, required: bool = False, https: bool = False) -> str | None:
        value = self.text_(key, required=required)
        if value is None:
            return None
        return check_url(value, https=https, where=lambda msg: self.error(key, msg))

    def date_(self, key: str, *, required: bool = False) -> datetime | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.error(key, "is required", "add e.g. 'date: 2024-05-01T09:00:00Z'")
            return None
        return to_datetime(value, lambda msg: self.error(key, msg, DATE_HINT))

    def mapping(self, key: str) -> dict[str, Any] | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.error(key, f"must be a mapping (key: value lines), not {value!r}")
        return value

    def items(self, key: str) -> list[Any]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            return [value]
        return value

    def sub(self, key: str, value: Any, index: int | None = None) -> Fields:
        """Fields over a nested mapping, e.g. people[2]."""
        name = f"{key}[{index}]" if index is not None else key
        if not isinstance(value, dict):
            raise self.error(key, f"{name} must be a mapping, not {value!r}")
        return Fields(
            value,
            path=self.path,
            text=self.text,
            first_line=self.first_line,
            prefix=f"{self.prefix}{name}.",
            warnings=self.warnings,
        )


DATE_HINT = "write it as 2024-05-01T09:00:00Z (UTC) or 2024-05-01 09:00:00+02:00"


def to_datetime(value: Any, error: Callable[[str], InputError]) -> datetime:
    """YAML date/datetime/str -> aware UTC datetime (a naive time is taken as UTC)."""
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime.combine(value, time(0, 0))
    elif isinstance(value, str):
        try:
            result = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise error(f"{value!r} is not a date") from None
    else:
        raise error(f"{value!r} is not a date")
    if result.tzinfo is None:
        result = result.replace(tzinfo=UTC)
    return result.astimezone(UTC)


def check_url(value: str, *, https: bool, where: Callable[[str], InputError]) -> str:
    """An absolute http(s) URL (validate's rss.url), https:// where the feed writes it into a
    Podcasting 2.0 tag (validate's podcast.https); with a host and no spaces, or it is no URL."""
    from feedtool.validation.rules_rss import is_http_url

    if is_http_url(value) and re.search(r"\s", value):
        raise where(f"{value!r} has spaces (percent-encode them as %20)")
    if not is_http_url(value) or not _URL_SHAPE.match(value):
        raise where(f"{value!r} is not an absolute http(s) URL")
    if https and not value.startswith("https://"):
        raise where(f"{value!r} must use https:// (Podcasting 2.0 requires it; validate: podcast.https)")
    return value


_URL_SHAPE = re.compile(r"^https?://[^\s/$.?#][^\s]*$")


# --------------------------------------------------------------------------------------------
# Shared structures


def _pn_limit(tag: str, attribute: str | None = None) -> int:
    """The length Podcasting 2.0 recommends for a tag's text or attribute: validate's own table."""
    from feedtool.validation.rules_podcast import SPECS

    spec = SPECS[tag]
    limit = spec.attr_max[attribute] if attribute else spec.text_max
    assert limit is not None, tag
    return limit


def _people(fields: Fields, key: str) -> tuple[Person, ...]:
    people = []
    for index, item in enumerate(fields.items(key)):
        if isinstance(item, str):
            item = {"name": item}
        sub = fields.sub(key, item, index)
        sub.check_known(("name", "role", "group", "href", "img"))
        role = (sub.text_("role") or "host").lower()
        name = sub.req("name")
        sub.limit("name", name, _pn_limit("person"))
        people.append(
            Person(
                name=name,
                role=role,
                group=(sub.text_("group") or "cast").lower(),
                href=sub.url("href", https=True),
                img=sub.url("img", https=True),
            )
        )
    return tuple(people)


def _funding(fields: Fields) -> tuple[Funding, ...]:
    result = []
    for index, item in enumerate(fields.items("funding")):
        if isinstance(item, str):
            item = {"url": item, "text": "Support the show"}
        sub = fields.sub("funding", item, index)
        sub.check_known(("url", "text"))
        text = sub.text_("text") or "Support the show"
        sub.limit("text", text, _pn_limit("funding"))
        result.append(Funding(url=sub.url("url", required=True, https=True) or "", text=text))
    return tuple(result)


def _license(fields: Fields) -> License | None:
    value = fields.raw("license")
    if value is None:
        return None
    if isinstance(value, str):
        fields.limit("license", value.strip(), _pn_limit("license"))
        return License(identifier=value.strip())
    sub = fields.sub("license", value)
    sub.check_known(("identifier", "url"))
    identifier = sub.req("identifier")
    sub.limit("identifier", identifier, _pn_limit("license"))
    return License(identifier=identifier, url=sub.url("url", https=True))


def _location(fields: Fields) -> Location | None:
    value = fields.raw("location")
    if value is None:
        return None
    if isinstance(value, str):
        fields.limit("location", value.strip(), _pn_limit("location"))
        return Location(name=value.strip())
    sub = fields.sub("location", value)
    sub.check_known(("name", "geo", "osm", "country", "rel"))
    geo = sub.text_("geo")
    if geo is not None and not re.match(r"^geo:-?\d+(\.\d+)?,-?\d+(\.\d+)?", geo):
        raise sub.error("geo", f"{geo!r} is not a geo URI", "write it like geo:30.2672,-97.7431")
    country = sub.text_("country")
    if country is not None and not re.match(r"^[A-Za-z]{2}$", country):
        raise sub.error("country", "must be a two-letter ISO 3166-1 code, e.g. US")
    name = sub.req("name")
    sub.limit("name", name, _pn_limit("location"))
    return Location(
        name=name,
        geo=geo,
        osm=sub.text_("osm"),
        country=country.upper() if country else None,
        rel=sub.text_("rel"),
    )


def _txt(fields: Fields) -> tuple[Txt, ...]:
    result = []
    for index, item in enumerate(fields.items("txt")):
        if isinstance(item, (str, int, float)) and not isinstance(item, bool):
            item = {"value": item}
        sub = fields.sub("txt", item, index)
        sub.check_known(("value", "purpose"))
        value, purpose = sub.req("value"), sub.text_("purpose")
        sub.limit("value", value, _pn_limit("txt"))
        sub.limit("purpose", purpose, _pn_limit("txt", "purpose"))
        result.append(Txt(value=value, purpose=purpose))
    return tuple(result)


# --------------------------------------------------------------------------------------------
# The show

SHOW_KEYS = (
    "title", "author", "description", "language", "link", "base_url", "artwork", "categories",
    "explicit", "type", "owner", "copyright", "block", "complete", "new_feed_url",
    "itunes_title", "podcast_guid", "locked", "locked_owner", "funding", "people", "license",
    "location", "medium", "txt", "update_frequency", "trailers", "feed_name", "publish", "site",
)


def podcast_guid_for(feed_url: str) -> str:
    """podcast:guid: UUIDv5 of the feed URL without scheme and trailing slashes (the spec's rule,
    as the validator computes it)."""
    from feedtool.validation.rules_podcast import podcast_guid_for as validators_rule

    return validators_rule(feed_url)


def _categories(fields: Fields) -> tuple[Category, ...]:
    items = fields.items("categories")
    if not items:
        raise fields.error(
            "categories", "is required", "add e.g. 'categories: [Technology]' (Apple's list)"
        )
    result = []
    for item in items:
        text = str(item).strip()
        top, _, sub = (part.strip() for part in text.partition(">"))
        subs = apple.CATEGORIES.get(top)
        if subs is None or (sub and sub not in subs):
            close = difflib.get_close_matches(text, apple.all_category_names(), n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'?" if close else "see Apple's list in docs/format.md"
            raise fields.error("categories", f"{text!r} is not an Apple Podcasts category", hint)
        result.append(Category(name=top, sub=sub or None))
    return tuple(result)


def _publish(fields: Fields) -> PublishTarget | None:
    value = fields.raw("publish")
    if value is None:
        return None
    if isinstance(value, str):
        value = {"to": value}
    sub = fields.sub("publish", value)
    sub.check_known(("to", "endpoint_url", "region", "addressing_style", "acl", "max_deletes", "grace_days"))
    style = sub.text_("addressing_style")
    if style is not None and style not in ("path", "virtual", "auto"):
        raise sub.error("addressing_style", "must be path, virtual or auto")
    return PublishTarget(
        to=sub.req("to"),
        endpoint_url=sub.url("endpoint_url"),
        region=sub.text_("region"),
        addressing_style=style,
        acl=sub.text_("acl"),
        max_deletes=10 if not sub.has("max_deletes") else (sub.int_("max_deletes", minimum=0) or 0),
        grace_days=7 if not sub.has("grace_days") else (sub.int_("grace_days", minimum=0) or 0),
    )


def _trailers(fields: Fields) -> tuple[Trailer, ...]:
    result = []
    for index, item in enumerate(fields.items("trailers")):
        sub = fields.sub("trailers", item, index)
        sub.check_known(("title", "url", "pubdate", "length", "type", "season"))
        pubdate = sub.date_("pubdate", required=True)
        assert pubdate is not None
        title = sub.req("title")
        sub.limit("title", title, _pn_limit("trailer"))
        result.append(
            Trailer(
                title=title,
                url=sub.url("url", required=True, https=True) or "",
                pubdate=pubdate,
                length=sub.int_("length", minimum=0),
                type=sub.text_("type"),
                season=sub.int_("season"),
            )
        )
    return tuple(result)


def _base_url(fields: Fields, override: str | None) -> str:
    """Where public/ is served, ending in '/'.

    Every URL in the feed starts with it, so it must pass what ``validate`` asks of them: an
    absolute http(s) URL with neither spaces nor non-ASCII letters (apple.enclosure.url), and
    https, because chapters and transcripts are Podcasting 2.0 URLs (podcast.https). A
    ``--base-url`` given for a preview may be http://, with a warning.
    """
    from feedtool.validation.rules_rss import url_problem

    if override is not None:
        value = override.strip()
        problem = url_problem(value) or ("has a ?query or #fragment" if re.search(r"[?#]", value) else None)
        if problem is not None:
            raise InputError(f"--base-url {value!r} {problem}",
                             hint="pass the folder URL public/ is served from, e.g. https://cdn.example.com/show/")
        if not value.startswith("https://"):
            fields.warnings.append(f"--base-url {value} is not https://: the feed's chapters and transcript "
                                   "URLs fail validate's podcast.https (fine for a local preview)")
    else:
        value = fields.url("base_url", required=True, https=True) or ""
        problem = url_problem(value) or ("has a ?query or #fragment" if re.search(r"[?#]", value) else None)
        if problem is not None:
            raise fields.error("base_url", f"{value!r} {problem}",
                               "the folder URL public/ is served from, e.g. https://cdn.example.com/show/")
    return value if value.endswith("/") else value + "/"


def load_show(episodes_dir: Path, *, base_url: str | None = None) -> Show:
    """Read and check episodes/podcast.yaml."""
    from feedtool.validation.languages import language_problem
    from feedtool.validation.rules_podcast import MEDIUMS, UUID_FORM

    path = episodes_dir / SHOW_FILE
    if not episodes_dir.is_dir():
        raise InputError(
            "episodes folder not found",
            path=episodes_dir,
            hint="run feedtool in your podcast's folder, pass --episodes DIR, or start one with `feedtool init`",
        )
    if not os.path.lexists(path):
        raise InputError(
            f"no {SHOW_FILE} in this folder",
            path=episodes_dir,
            hint="create one with `feedtool init`, or pass --episodes DIR",
        )
    files = ShowFolder(episodes_dir)
    text = read_text(files.file(path), shown=path)
    data = parse_yaml(text, path=path)
    fields = Fields(data, path=path, text=text, first_line=1)
    from feedtool import load_p20

    fields.check_known(SHOW_KEYS + load_p20.SHOW_KEYS)

    base = _base_url(fields, base_url)
    language = fields.req("language")
    problem = language_problem(language)
    if problem is not None:
        raise fields.error("language", problem, "use an ISO 639 code with an optional region, e.g. en, en-us or pt-BR")
    artwork_name = fields.req("artwork")
    if Path(artwork_name).suffix.lower() not in ARTWORK_TYPES:
        raise fields.error("artwork", "must be a .jpg or .png file (Apple takes only JPEG or PNG)")
    artwork = files.file(episodes_dir / artwork_name, source=path, line=fields.line("artwork"), field="artwork",
                         missing_hint="put the image next to podcast.yaml")

    owner = None
    owner_data = fields.mapping("owner")
    if owner_data is not None:
        sub = fields.sub("owner", owner_data)
        sub.check_known(("name", "email"))
        email = sub.req("email")
        if not EMAIL_RE.match(email):
            raise sub.error("email", f"{email!r} is not an email address")
        owner = Owner(name=sub.req("name"), email=email)

    update = None
    update_value = fields.raw("update_frequency")
    if isinstance(update_value, str):
        update = UpdateFrequency(text=update_value)
        fields.limit("update_frequency", update_value, _pn_limit("updateFrequency"))
    elif update_value is not None:
        sub = fields.sub("update_frequency", update_value)
        sub.check_known(("text", "rrule", "dtstart", "complete"))
        update_text = sub.req("text")
        sub.limit("text", update_text, _pn_limit("updateFrequency"))
        update = UpdateFrequency(
            text=update_text,
            rrule=sub.text_("rrule"),
            dtstart=sub.text_("dtstart"),
            complete=sub.bool_("complete", False) if sub.has("complete") else None,
        )

    feed_name = fields.text_("feed_name", default="feed.xml") or "feed.xml"
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.xml$", feed_name):
        raise fields.error("feed_name", "must be a plain file name ending in .xml, like feed.xml")
    podcast_guid = fields.text_("podcast_guid") or podcast_guid_for(base + feed_name)
    if not UUID_FORM.match(podcast_guid):
        raise fields.error("podcast_guid", f"{podcast_guid!r} is not a UUID in its usual form",
                           "write it as 8-4-4-4-12 hex digits, e.g. ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
    locked_owner = fields.text_("locked_owner")
    if locked_owner is not None and not EMAIL_RE.match(locked_owner):
        raise fields.error("locked_owner", f"{locked_owner!r} is not an email address")

    show = Show(
        source=path,
        title=fields.req("title"),
        description=fields.req("description"),
        author=fields.req("author"),
        language=language,
        link=fields.url("link", required=True) or "",
        base_url=base,
        artwork=artwork,
        categories=_categories(fields),
        explicit=fields.bool_("explicit", False) if fields.has("explicit") else _required_bool(fields),
        type=fields.choice("type", apple.SHOW_TYPES, "episodic"),
        owner=owner,
        copyright=fields.text_("copyright"),
        complete=fields.bool_("complete", False),
        new_feed_url=fields.url("new_feed_url"),
        itunes_title=fields.text_("itunes_title"),
        podcast_guid=podcast_guid,
        locked=fields.bool_("locked", False),
        locked_owner=locked_owner,
        funding=_funding(fields),
        people=_people(fields, "people"),
        license=_license(fields),
        location=_location(fields),
        medium=fields.choice("medium", MEDIUMS, "podcast"),
        txt=_txt(fields),
        update_frequency=update,
        trailers=_trailers(fields),
        feed_name=feed_name,
        publish=_publish(fields),
        site=read_site_settings(fields),
        **load_p20.show_fields(fields, episodes_dir=episodes_dir, files=files, feed_url=base + feed_name,
                               podcast_guid=podcast_guid),
    )
    return dataclasses.replace(show, warnings=tuple(fields.warnings)) if fields.warnings else show


def _required_bool(fields: Fields) -> bool:
    raise fields.error(
        "explicit", "is required (Apple rejects a show without it)", "add 'explicit: false' or 'explicit: true'"
    )


# --------------------------------------------------------------------------------------------
# Episodes

EPISODE_KEYS = (
    "title", "date", "audio", "episode", "episode_display", "season", "season_name",
    "episode_type", "explicit", "block", "link", "artwork", "itunes_title", "people", "chapters",
    "transcript", "funding", "soundbites", "license", "location", "txt", "guid", "draft",
    "summary",
)


def _file_name(fields: Fields, key: str, value: Any) -> str:
    """A file name from front matter: relative, inside the episode folder (no '..', no '\\')."""
    name = str(value).strip()
    if not name or name.startswith("/") or ".." in name.split("/") or "\\" in name:
        raise fields.error(key, f"{name!r} must be a file name inside the episode folder")
    return name


def _local_file(fields: Fields, key: str, name: str, folder: Path, files: ShowFolder) -> Path:
    """A file named in front matter (a name _file_name passed): inside the episode folder,
    present, checked by ShowFolder (links may lead elsewhere in the show folder, never out of
    it); the resolved path."""
    try:
        return files.file(os.path.join(folder, name), source=fields.path, field=fields.prefix + key,
                          missing_hint="check the file name (it is case-sensitive)")
    except InputError as error:
        error.line = fields.line(key)  # looked up only when needed: it searches the text
        raise


def _absent(path: Path) -> bool:
    """Nothing at all is there under that name (a name the file system refuses is not absent:
    looking it up says what is wrong with it)."""
    try:
        os.lstat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return False


def _present(path: Path) -> bool:
    """Whether a file feedtool looks for by name is there: anything but a real folder counts, so
    that a link or a named pipe under that name is checked (and refused), not skipped."""
    try:
        return not stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _episode_chapters(
    fields: Fields, folder: Path, notes: str, files: ShowFolder
) -> tuple[list[Chapter], str]:
    """Chapters by precedence: front matter list, a chapters file, the show notes' timestamps."""
    value = fields.raw("chapters")
    if isinstance(value, list):
        line = _line_of(fields.text, "chapters", fields.first_line)
        return chapter_io.from_front_matter(value, path=fields.path, line=line), (
            f"the chapters list in {fields.path}"
        )
    if value is not None:
        name = _file_name(fields, "chapters", value)
        return chapter_io.read_chapters_file(_local_file(fields, "chapters", name, folder, files)), str(folder / name)
    for name in CHAPTER_FILES:
        path = folder / name
        if _present(path):
            return chapter_io.read_chapters_file(files.file(path)), str(path)
    found = chapter_io.from_show_notes(notes)
    return found, (f"the timestamps in the show notes of {fields.path}" if found else "")


def _transcripts(fields: Fields, folder: Path, files: ShowFolder) -> tuple[Transcript, ...]:
    """Transcripts named in the front matter, else every .vtt/.srt next to episode.md.

    The type comes from the name of the file that is read and served (a link's target), so the
    served name and the type in the feed always agree.
    """
    items = fields.items("transcript")
    result = []
    hint = "a transcript must be .vtt, .srt, .html, .txt or .json"
    for index, item in enumerate(items):
        if isinstance(item, str):
            item = {"file": item}
        sub = fields.sub("transcript", item, index)
        sub.check_known(("file", "language", "rel"))
        name = _file_name(sub, "file", sub.req("file"))
        if os.path.splitext(name)[1].lower() not in TRANSCRIPT_TYPES:
            raise sub.error("file", hint)
        path = _local_file(sub, "file", name, folder, files)
        mime = TRANSCRIPT_TYPES.get(path.suffix.lower())
        if mime is None:
            raise sub.error("file", f"{name} is a link to {path.name}, which is not a transcript file", hint)
        result.append(Transcript(path=path, mime=mime, language=sub.text_("language"), rel=sub.text_("rel")))
    if not items:  # a .vtt/.srt next to the episode is its transcript (hidden files are not)
        for name in sorted(os.listdir(folder)):
            path = folder / name
            if not name.startswith(".") and path.suffix.lower() in (".vtt", ".srt") and _present(path):
                real = files.file(path)
                mime = TRANSCRIPT_TYPES.get(real.suffix.lower())
                if mime is None:
                    raise InputError(f"{path} is a link to {real.name}, which is not a transcript file",
                                     path=path, hint=hint)
                result.append(Transcript(path=real, mime=mime))
    return tuple(result)


def _soundbites(fields: Fields) -> tuple[Soundbite, ...]:
    result = []
    for index, item in enumerate(fields.items("soundbites")):
        sub = fields.sub("soundbites", item, index)
        sub.check_known(("start", "duration", "title"))
        try:
            start = _seconds(sub.raw("start"))
            duration = _seconds(sub.raw("duration"))
        except (TypeError, ValueError):
            raise sub.error("start", "start and duration must be seconds or HH:MM:SS") from None
        if start < 0:
            raise sub.error("start", "must be 0 seconds or more")
        if duration <= 0:
            raise sub.error("duration", "must be more than 0 seconds")
        title = sub.text_("title") or ""
        sub.limit("title", title, _pn_limit("soundbite"))
        result.append(Soundbite(start_s=start, duration_s=duration, title=title))
    return tuple(result)


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        raise ValueError(value)
    if isinstance(value, (int, float)):
        return float(value)
    return chapter_io.parse_timestamp(str(value))


def _audio(fields: Fields, folder: Path, files: ShowFolder, *, draft: bool) -> tuple[Master, ...]:
    """The masters ('audio:' values, the enclosure's first), each checked.

    A value is a file next to episode.md, an ``https://`` URL or an ``s3://bucket/key`` (issue 10:
    audio outside git). A named file that is not on this machine is still a master (gitignored
    audio on a fresh clone): build uses what episodes/feedtool.lock recorded about it and says
    what to do when it needs the bytes. A file that is there is checked like every file of the
    show. The first master is the enclosure, so it must be a type Apple lists (validate's
    apple.enclosure.extension); Ogg, Opus and FLAC may follow as alternates. A draft's audio may
    not exist yet: a draft without its first file is left out of the feed (build --drafts says
    so), and an alternate that is not there yet is left out with a warning.
    """
    from feedtool.audio import EXTENSIONS
    from feedtool.validation.rules_rss import ENCLOSURE_TYPES

    names = [_master_source(fields, value) for value in fields.items("audio")]
    if not names:
        if draft:
            return ()
        raise fields.error("audio", "is required", "name the audio file next to episode.md, e.g. 'audio: episode.mp3'")
    suffix = os.path.splitext(urlsplit(names[0]).path if "://" in names[0] else names[0])[1].lower()
    if suffix in EXTENSIONS and suffix.lstrip(".") not in ENCLOSURE_TYPES:
        raise fields.error(
            "audio",
            f"the first audio file is the episode's enclosure, and Apple lists no {suffix} enclosure",
            "put an MP3 or M4A file first; Ogg, Opus and FLAC may follow it (podcast:alternateEnclosure)",
        )
    masters: list[Master] = []
    for index, name in enumerate(names):
        if "://" in name:
            masters.append(Master(name, line=fields.line("audio")))
        elif not _absent(folder / name):
            masters.append(Master(name, _local_file(fields, "audio", name, folder, files)))
        elif not draft:  # not on this machine: build decides whether it needs it
            masters.append(Master(name, line=fields.line("audio")))
        elif index == 0:
            return ()  # a draft without its audio yet
        else:
            fields.warn("audio", f"{name} is not there yet; this draft is built without it")
    return tuple(masters)


def _master_source(fields: Fields, value: Any) -> str:
    """An 'audio:' value: an https:// (or, with a warning, http://) or s3:// address of a master,
    or a file name (_file_name)."""
    text = str(value).strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if not scheme:
        return _file_name(fields, "audio", value)
    hint = ("name a file next to episode.md, an https:// URL or an s3://bucket/key "
            "(docs/publishing.md, 'Where your audio lives')")
    if scheme == "http":  # an old host's enclosure (feedtool import): pinned by its sha256 once fetched
        fields.warn("audio", f"{excerpt(text)} is fetched over plain http://, which anyone on the way can "
                    "change before its sha256 is recorded; use https:// if the host offers it")
    elif scheme not in ("https", "s3"):
        raise fields.error("audio", f"{excerpt(text)} is not a master feedtool can fetch", hint)
    parts = urlsplit(text)
    if not parts.netloc or parts.path in ("", "/"):
        raise fields.error("audio", f"{excerpt(text)} names no file", hint)
    if scheme == "s3" and (parts.query or parts.fragment):
        raise fields.error("audio", "an s3:// address is s3://bucket/key, without '?' or '#'", hint)
    return text


def load_episode(folder: Path, show: Show, files: ShowFolder | None = None) -> Episode:
    """Read and check one <slug>/episode.md (and find its audio, chapters, transcripts).

    ``files``: the show folder (episodes/, the folder's parent); build passes one for all
    episodes so that the show folder's real path is looked up once.
    """
    from feedtool.validation.rules_apple import SHORT_TEXT_MAX

    path = folder / EPISODE_FILE
    slug = folder.name
    if not SLUG_RE.match(slug):
        raise InputError(
            "episode folder names must be lower-case ASCII letters, digits, '-', '_' or '.' "
            "(they become URLs, and Apple accepts only ASCII)",
            path=folder,
            hint=f"rename the folder, e.g. to {_slugify(slug)!r}",
        )
    files = files or ShowFolder(folder.parent)
    text = read_text(files.file(path), shown=path)
    front, notes, _ = split_front_matter(text, path=path)
    data = parse_yaml(front, path=path, first_line=2)
    fields = Fields(data, path=path, text=front, first_line=2)
    from feedtool import load_p20

    fields.check_known(EPISODE_KEYS + load_p20.EPISODE_KEYS)

    draft = fields.bool_("draft", False)
    masters = _audio(fields, folder, files, draft=draft)

    artwork = None
    if fields.has("artwork"):
        name = _file_name(fields, "artwork", fields.raw("artwork"))
        if Path(name).suffix.lower() not in ARTWORK_TYPES:
            raise fields.error("artwork", "must be a .jpg or .png file")
        artwork = _local_file(fields, "artwork", name, folder, files)

    date_ = fields.date_("date", required=True)
    assert date_ is not None
    chapters, chapters_source = _episode_chapters(fields, folder, notes, files)
    chapter_images = {
        chapter.image: _chapter_image(chapter.image, folder, files, path=path, source=chapters_source)
        for chapter in chapters
        if chapter.image and not chapter.image.startswith(("http://", "https://"))
    }
    guid = fields.text_("guid")
    episode_type = fields.choice("episode_type", apple.EPISODE_TYPES, "full")
    number = fields.int_("episode")
    season = fields.int_("season")
    display = fields.text_("episode_display")
    fields.limit("episode_display", display, _pn_limit("episode", "display"))
    season_name = fields.text_("season_name")
    fields.limit("season_name", season_name, _pn_limit("season", "name"))
    title = fields.req("title")
    itunes_title = fields.text_("itunes_title")
    for key, value in (("title", title), ("itunes_title", itunes_title)):
        if value is not None and len(value) > SHORT_TEXT_MAX:
            fields.warn(key, f"is {len(value)} characters; Apple shows at most {SHORT_TEXT_MAX} "
                        "(validate: apple.text.length)")

    episode = Episode(
        slug=slug,
        source=path,
        title=title,
        date=date_,
        masters=masters,
        notes=notes.strip("\n"),
        summary=fields.text_("summary"),
        guid=guid,
        number=number,
        number_display=display,
        season=season,
        season_name=season_name,
        episode_type=episode_type,
        explicit=fields.bool_("explicit", show.explicit) if fields.has("explicit") else None,
        block=fields.bool_("block", False),
        link=fields.url("link"),
        artwork=artwork,
        itunes_title=itunes_title,
        people=_people(fields, "people"),
        chapters=tuple(chapters),
        chapters_source=chapters_source,
        chapter_images=chapter_images,
        transcripts=_transcripts(fields, folder, files),
        funding=_funding(fields),
        soundbites=_soundbites(fields),
        license=_license(fields),
        location=_location(fields),
        txt=_txt(fields),
        draft=draft,
        **load_p20.episode_fields(fields, folder, show, files),
    )
    return dataclasses.replace(episode, warnings=tuple(fields.warnings)) if fields.warnings else episode


def _chapter_image(name: str, folder: Path, files: ShowFolder, *, path: Path, source: str) -> Path:
    """A chapter picture named in a chapters source: a JPEG/PNG inside the episode folder,
    checked by ShowFolder; the resolved path (what build and tagging read)."""
    candidate = Path(name)
    where = f"chapter image {name!r} (from {source})"
    if candidate.is_absolute() or ".." in candidate.parts or "\\" in name:
        raise InputError(f"{where} must be a file inside the episode folder", path=path,
                         field="chapters", hint="put the picture next to episode.md and use its name")
    if candidate.suffix.lower() not in ARTWORK_TYPES:
        raise InputError(f"{where} must be a .jpg or .png file", path=path, field="chapters")
    if not os.path.lexists(folder / candidate):
        raise InputError(f"{where}: file not found", path=path, field="chapters",
                         hint="put the picture next to episode.md, or use an https:// URL")
    return files.file(folder / candidate, source=path, field="chapters")


def _slugify(name: str) -> str:
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "episode"


def slugify(title: str) -> str:
    """A URL-safe ASCII folder name for a title ("Ünïcode & Co!" -> "unicode-co")."""
    return _slugify(title)[:60].strip("-") or "episode"


def episode_folders(episodes_dir: Path) -> list[Path]:
    """Every sub-folder that holds an episode.md, sorted by name (hidden folders skipped)."""
    return sorted(
        child
        for child in episodes_dir.iterdir()
        if child.is_dir() and not child.name.startswith((".", "_")) and (child / EPISODE_FILE).is_file()
    )


def load_podcast(episodes_dir: Path, *, base_url: str | None = None) -> Podcast:
    """Read the show and every episode, and check what spans episodes (numbers, guids).

    (build does the same in its own pass, loading and building each episode in one go.)
    """
    show = load_show(episodes_dir, base_url=base_url)
    episodes = tuple(load_episode(folder, show) for folder in episode_folders(episodes_dir))
    check_across_episodes(show, episodes)
    return Podcast(root=episodes_dir, show=show, episodes=episodes)


def check_across_episodes(show: Show, episodes: tuple[Episode, ...]) -> None:
    """Rules no single file can break: duplicate numbers and guids, numbers in serial shows."""
    numbers: dict[tuple[int | None, int], Episode] = {}
    guids: dict[str, Episode] = {}
    for episode in episodes:
        if show.type == "serial" and episode.number is None and not episode.draft:
            raise InputError(
                "a serial show needs an episode number on every episode",
                path=episode.source,
                field="episode",
                hint="add 'episode: N' (Apple orders serial shows by it), or set 'type: episodic' in podcast.yaml",
            )
        if episode.number is not None and episode.episode_type == "full":
            key = (episode.season, episode.number)
            other = numbers.get(key)
            if other is not None:
                season = f" in season {episode.season}" if episode.season else ""
                raise InputError(
                    f"episode number {episode.number}{season} is also used by {other.source}",
                    path=episode.source,
                    field="episode",
                    hint="give each full episode its own number (bonus and trailer episodes may share one)",
                )
            numbers[key] = episode
        if episode.guid:
            other = guids.get(episode.guid)
            if other is not None:
                raise InputError(
                    f"guid {episode.guid!r} is also used by {other.source}",
                    path=episode.source,
                    field="guid",
                    hint="every episode needs its own guid; Apple ignores an episode whose guid repeats",
                )
            guids[episode.guid] = episode

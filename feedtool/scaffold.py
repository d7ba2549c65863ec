"""`feedtool init` and `feedtool new`: a show repository that publishes itself, and new episodes.

`init` makes everything a podcaster's own repository needs, and never replaces a file that
exists (run it again in an existing show and it adds only what is missing, e.g. a newer
version's workflow after the old one was deleted). The files come from templates in
feedtool/data/: `publish.yml` there is the one source of the GitHub Actions workflow users get.

Every value a user typed goes into YAML through the YAML dumper, one `key: value` entry at a
time, never through string formatting: a title like ``Talk: The Show`` or ``# 1 & "Friends"``
stays that title. Each new episode gets its guid in its own front matter, so renaming its
folder can never change it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feedtool import __version__
from feedtool.errors import InputError

#: Written into the placeholder artwork's JPEG comment (COM) segment. Validation looks for it:
#: a feed whose artwork still carries it is not ready to publish.
PLACEHOLDER_ARTWORK_MARKER = b"feedtool-placeholder-artwork"
#: The base URL a new show gets unless --base-url is given (example.com is reserved: RFC 2606).
PLACEHOLDER_BASE_URL = "https://example.com/podcast/"
WORKFLOW_PATH = Path(".github") / "workflows" / "publish.yml"
FIRST_EPISODE_TITLE = "Our first episode"
FIRST_EPISODE_FOLDER = "our-first-episode"
#: Lines of .gitignore without which a build or the cache would end up in git.
_MUST_IGNORE = ("public/", ".feedtool-cache/")


def template(name: str) -> str:
    """The text of feedtool/data/NAME (package data, so it ships in the wheel)."""
    from importlib import resources

    return resources.files("feedtool").joinpath("data", name).read_text(encoding="utf-8")


#: What init writes until the podcaster gives a real address (validate: ready.owner-email).
PLACEHOLDER_OWNER_EMAIL = "you@example.com"


def fill(text: str, **values: str) -> str:
    """Replace each @@KEY@@ of a template in one pass (a value is never searched for placeholders).

    Every placeholder must be given a value: a template and its caller cannot drift apart.
    """
    by_token = {key.upper(): value for key, value in values.items()}
    missing = sorted(set(_PLACEHOLDER.findall(text)) - set(by_token))
    if missing:
        raise ValueError(f"template placeholders without a value: {missing}")
    return _PLACEHOLDER.sub(lambda match: by_token[match.group(1)], text)


_PLACEHOLDER = re.compile(r"@@([A-Z_]+)@@")


def yaml_entry(key: str, value: Any) -> str:
    """``key: value`` as the YAML dumper writes it (quoted and escaped as needed), no newline."""
    import yaml

    dumped = yaml.safe_dump({key: value}, allow_unicode=True, sort_keys=False,
                            default_flow_style=False, width=1 << 30)
    return dumped.rstrip("\n")


def workflow_text() -> str:
    """The GitHub Actions workflow `init` writes, pinned to this feedtool version."""
    return fill(template("publish.yml"), version=__version__)


@dataclass
class InitResult:
    created: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    first_episode: Path | None = None


def init_podcast(directory: Path, *, title: str, base_url: str = PLACEHOLDER_BASE_URL,
                 author: str | None = None) -> InitResult:
    """Make DIRECTORY a show repository; create only what is missing, never overwrite."""
    if not base_url.startswith(("http://", "https://")):
        raise InputError(f"{base_url!r} is not an http(s) URL", field="--base-url",
                         hint="e.g. --base-url https://cdn.example.org/my-show/")
    if not base_url.endswith("/"):
        base_url += "/"
    if not title.strip():
        raise InputError("the title is empty", field="--title")
    if directory.exists() and not directory.is_dir():
        raise InputError("this is a file, not a folder", path=directory)
    result = InitResult()
    episodes = directory / "episodes"
    _make_folder(episodes)

    show_file = episodes / "podcast.yaml"
    show_text = fill(
        template("podcast.yaml"),
        title=yaml_entry("title", title),
        author=yaml_entry("author", author if author and author.strip() else title),
        owner=yaml_entry("owner", {"name": author if author and author.strip() else title,
                                   "email": PLACEHOLDER_OWNER_EMAIL}),
        link=yaml_entry("link", base_url),
        base_url=yaml_entry("base_url", base_url),
    )
    new_show = _create(show_file, show_text.encode("utf-8"), result)
    if new_show:
        artwork = episodes / "artwork.jpg"
        if not artwork.exists():
            _create(artwork, placeholder_artwork(title), result)
        if not _has_episodes(episodes):
            # Written without loading the show back: init never stops half-way over a title
            # that the loader would refuse (the podcaster fixes that in podcast.yaml).
            folder = episodes / FIRST_EPISODE_FOLDER
            result.first_episode = write_episode(folder, FIRST_EPISODE_TITLE, number=1,
                                                 date=datetime.now(UTC).replace(microsecond=0))
            result.created.append(result.first_episode)
    else:
        title = _title_of(show_file) or title

    ignore = directory / ".gitignore"
    if not _create(ignore, template("gitignore").encode("utf-8"), result):
        lines = {line.strip().lstrip("/") for line in ignore.read_text(encoding="utf-8", errors="replace").splitlines()}
        missing = [entry for entry in _MUST_IGNORE if entry not in lines and entry.rstrip("/") not in lines]
        if missing:
            result.notes.append(f"{ignore} does not ignore {', '.join(missing)}: add them, or built "
                                "files and the build cache end up in git")
    readme = fill(template("show-README.md"), title=" ".join(title.split()), version=__version__)
    _create(directory / "README.md", readme.encode("utf-8"), result)
    _create(directory / WORKFLOW_PATH, workflow_text().encode("utf-8"), result)
    return result


def _make_folder(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # a file where a folder must go, no permission ...
        raise InputError(f"cannot make this folder: {error.strerror or error}", path=path) from None


def _create(path: Path, data: bytes, result: InitResult) -> bool:
    """Write a new file (exclusive create: never replaces one); record what happened."""
    _make_folder(path.parent)
    try:
        with open(path, "xb") as out:
            out.write(data)
    except FileExistsError:
        result.kept.append(path)
        return False
    except OSError as error:
        raise InputError(f"cannot write this file: {error.strerror or error}", path=path) from None
    result.created.append(path)
    return True


def _has_episodes(episodes_dir: Path) -> bool:
    return any(child.is_dir() and (child / "episode.md").exists() for child in episodes_dir.iterdir())


def _title_of(show_file: Path) -> str | None:
    """The title of an existing podcast.yaml, for the README; None when it cannot be read."""
    import yaml

    try:
        data = yaml.safe_load(show_file.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return None
    value = data.get("title") if isinstance(data, dict) else None
    return value if isinstance(value, str) and value.strip() else None


def placeholder_artwork(title: str) -> bytes:
    """A 1400x1400 RGB JPEG, marked as a placeholder in its comment segment.

    It meets Apple's size rules, so a new show builds; the marker lets validation say the show
    is not ready to publish until the real cover replaces it.
    """
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1400, 1400), (32, 64, 96))
    draw = ImageDraw.Draw(image)
    draw.text((100, 560), " ".join(title.split())[:40], fill=(255, 255, 255), font_size=96)
    draw.text((100, 760), "placeholder artwork", fill=(200, 210, 220), font_size=64)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, comment=PLACEHOLDER_ARTWORK_MARKER)
    return out.getvalue()


def new_episode(episodes_dir: Path, title: str, *, date_text: str | None = None) -> Path:
    """Create episodes/<slug>/episode.md: a draft with the next number and its own guid."""
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
    return write_episode(folder, title, number=max(numbers, default=0) + 1, date=date)


def write_episode(folder: Path, title: str, *, number: int, date: datetime) -> Path:
    """FOLDER/episode.md from the template: a draft with this number and a new random guid."""
    text = fill(
        template("episode.md"),
        title=yaml_entry("title", title),
        # A date feedtool formats itself (never user text), written plain like a person would.
        date="date: " + date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        episode=yaml_entry("episode", number),
        guid=yaml_entry("guid", str(uuid.uuid4())),
    )
    folder.mkdir()
    path = folder / "episode.md"
    path.write_text(text, encoding="utf-8")
    return path

"""The site's templates and assets: feedtool's own, overridden by files in episodes/theme/.

A file in episodes/theme/ with the name of one of feedtool's replaces it (``episode.html``,
``style.css``, ...); feedtool's own stay reachable as ``default/<name>``, so a theme can
``{% extends "default/episode.html" %}`` and change one block. Files whose names start with
``_`` are the theme's own partials (for ``{% include %}``). Any other name is refused, with the
closest known name, so a typo does not silently change nothing.

The theme is read once, before any page is rendered: every file must be a regular file whose
real path is inside episodes/ (a link pointing elsewhere is refused like any show file), and
Jinja2 then loads from memory. Autoescaping is on for every template: text from episode.md
reaches a page only escaped; the show notes are the one HTML that goes in as it is, and it
comes from notes.py's renderer, the same HTML as the feed's content:encoded.
"""

from __future__ import annotations

import difflib
import hashlib
from functools import cached_property
from pathlib import Path
from typing import Any

from feedtool.errors import InputError

THEME_DIR = "theme"
DEFAULTS = Path(__file__).resolve().parent / "templates"
#: The pages, the feed's XSL and feedtool's partials (names starting with '_'): Jinja2 templates.
TEMPLATES = ("base.html", "index.html", "episode.html", "404.html", "feed.xsl", "_social.html",
             "_subscribe.html")
#: Served as they are, under a content name.
ASSETS = ("style.css", "player.js", "feed.css")


class Theme:
    """Templates (Jinja2 sources) and assets (bytes) for one build."""

    def __init__(self, episodes_dir: Path) -> None:
        self.sources: dict[str, str] = {}
        self.assets: dict[str, bytes] = {}
        for name in TEMPLATES:
            self.sources[name] = (DEFAULTS / name).read_text(encoding="utf-8")
            self.sources[f"default/{name}"] = self.sources[name]
        for name in ASSETS:
            self.assets[name] = (DEFAULTS / name).read_bytes()
        self.overridden = tuple(sorted(self._read_overrides(episodes_dir)))

    def _read_overrides(self, episodes_dir: Path) -> list[str]:
        folder = episodes_dir / THEME_DIR
        if not folder.is_dir():
            return []
        root = episodes_dir.resolve()
        found = []
        for path in sorted(folder.iterdir()):
            name = path.name
            if name.startswith("."):
                continue  # editor and OS files (.DS_Store, .swp)
            try:
                real = path.resolve(strict=True)
            except (OSError, RuntimeError):
                raise InputError("this theme file is a link to nothing", path=path,
                                 hint="replace the link with the file itself") from None
            if not real.is_relative_to(root):
                raise InputError("this theme file is a link to a file outside the episodes folder",
                                 path=path, hint="copy the file into episodes/theme/ instead of linking it")
            if not real.is_file():
                raise InputError("the theme folder holds only files (no folders)", path=path)
            if name in ASSETS:
                self.assets[name] = real.read_bytes()
            elif name in TEMPLATES or (name.startswith("_") and name.endswith((".html", ".xsl"))):
                from feedtool.load import read_text

                self.sources[name] = read_text(real)
            else:
                close = difflib.get_close_matches(name, TEMPLATES + ASSETS, n=1)
                hint = (f"did you mean '{close[0]}'?" if close else
                        "a theme file replaces one of: " + ", ".join(TEMPLATES + ASSETS)
                        + " (or is a partial named _something.html)")
                raise InputError("not a file the site uses", path=path, hint=hint)
            found.append(name)
        return found

    @cached_property
    def digest(self) -> str:
        """A hash over every template and asset: part of each page's cache key."""
        digest = hashlib.sha256()
        for name in sorted(self.sources):
            digest.update(f"{name}\0{self.sources[name]}\0".encode())
        for name in sorted(self.assets):
            digest.update(f"{name}\0".encode() + self.assets[name] + b"\0")
        return digest.hexdigest()

    @cached_property
    def environment(self) -> Any:
        """The Jinja2 environment (autoescape on, undefined names are errors)."""
        import jinja2

        class Environment(jinja2.Environment):
            """Looks ``page.title`` up as a key first: the contexts are dicts (pages.py), and
            Jinja2's default tries the attribute first, raising and catching an AttributeError
            for every lookup (a third of the render time of a big show)."""

            def getattr(self, obj: Any, attribute: str) -> Any:
                if type(obj) is dict and attribute in obj:
                    return obj[attribute]
                return super().getattr(obj, attribute)

        environment = Environment(
            loader=jinja2.DictLoader(self.sources),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        return environment

    def render(self, name: str, context: dict[str, Any]) -> str:
        import jinja2

        try:
            return str(self.environment.get_template(name).render(context))
        except jinja2.TemplateSyntaxError as error:
            where = Path(THEME_DIR) / (error.name or name)
            raise InputError(f"template error: {error.message}", path=where, line=error.lineno) from None
        except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as error:
            # Jinja's own errors, and Python's from an expression in a template ({{ title + 1 }})
            theme = name in self.overridden or any(n.startswith("_") for n in self.overridden)
            raise InputError(f"template error in {name}: {error}",
                             hint="check the theme files in episodes/theme/" if theme else None) from None

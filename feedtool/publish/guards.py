"""Where a local publish target may not be: on top of the show, its build, or its cache.

``publish --to episodes --delete --yes`` once deleted a whole show: the target was the folder
of episode.md files and masters, and everything in it that public/ lacked was "no longer
published". A local target may therefore not be, contain, or sit inside the show folder
(episodes/), the build output (public/) or the build cache.
"""

from __future__ import annotations

from pathlib import Path

from feedtool.errors import InputError


def check_local_target(target_root: Path, protected: dict[str, Path]) -> None:
    """Refuse a target folder that overlaps any protected folder (name -> path)."""
    dest = target_root.resolve()
    for name, folder in protected.items():
        source = folder.resolve()
        if source == dest:
            relation = "is"
        elif source.is_relative_to(dest):
            relation = "contains"
        elif dest.is_relative_to(source):
            relation = "is inside"
        else:
            continue
        raise InputError(
            f"cannot publish to {target_root}: it {relation} the {name} ({folder}); the two folders overlap",
            field="publish.to",
            hint="publish to a folder of its own outside the show, e.g. site/ next to episodes/",
        )

"""The one gate every object name passes: nothing may land outside the target's prefix or folder."""

from __future__ import annotations

import re

from feedtool.errors import InputError

#: A name (one path segment) that needs no closer look.
PLAIN_NAME = re.compile(r"^(?!\.\.?$)[^\\/\x00-\x1f\x7f]+$")


def check_relative_key(name: str) -> str:
    """Return ``name`` if it is a safe relative object name, else raise InputError.

    Refused: empty names, absolute names, ``..`` or ``.`` segments, backslashes, empty segments,
    control characters. These are what would let a file land outside the prefix (or outside
    the target folder) or be read differently by another tool.
    """
    problem = None
    if not name:
        problem = "is empty"
    elif "\\" in name:
        problem = "contains a backslash"
    elif name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        problem = "is absolute"
    elif any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        problem = "contains a control character"
    else:
        parts = name.split("/")
        if any(part in ("", ".", "..") for part in parts):
            problem = "has an empty, '.' or '..' path segment"
    if problem:
        raise InputError(
            f"refusing the object name {name!r}: it {problem}",
            hint="object names must stay inside the target prefix; rename the file in public/",
        )
    return name


def join_key(prefix: str, name: str) -> str:
    """The full key of a relative name under a prefix (``prefix`` is '' or ends with '/')."""
    return prefix + check_relative_key(name)


def normalise_prefix(prefix: str) -> str:
    """'' or 'a/b/' from 'a/b', '/a/b/', 'a//b'; refuses '..' segments."""
    parts = [part for part in prefix.split("/") if part]
    if not parts:
        return ""
    return check_relative_key("/".join(parts)) + "/"


def is_hidden(key: str) -> bool:
    """A key with a segment starting with '.' (.git, .htaccess, .well-known, feedtool's .feedtool/).

    Publish never uploads, lists as its own or deletes such names: they belong to whoever runs
    the web server or the folder.
    """
    return any(part.startswith(".") for part in key.split("/"))

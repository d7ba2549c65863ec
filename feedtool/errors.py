"""The errors feedtool reports to people.

Every problem a user can cause or fix (bad front matter, a missing audio file, a bucket that does
not exist) is raised as a ``FeedtoolError``. The CLI catches that one type, prints its message
without a traceback and exits with its ``exit_code``; anything else reaching the CLI is a bug.

A message says where (file, line, field), what is wrong, and what to do about it.
"""

from __future__ import annotations

from pathlib import Path


class FeedtoolError(Exception):
    """A problem the user can fix; printed without a traceback."""

    #: 2 = unusable input or arguments (the default), 1 = ran, but the result is a failure.
    exit_code: int = 2

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        self.hint = hint

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = self.path + (f":{self.line}" if self.line else "") + ": "
        field = f"{self.field}: " if self.field else ""
        text = f"{where}{field}{self.message}"
        if self.hint:
            text += f"\n  -> {self.hint}"
        return text


#: How much of a user's line a message may quote: enough to find it, never a whole file.
EXCERPT_LIMIT = 60


def excerpt(text: str, limit: int = EXCERPT_LIMIT) -> str:
    """A short, printable quote of a bad line for an error message.

    A message must never echo a whole file: a chapters file that is really a link to
    /proc/self/environ would print the environment (secrets included) in a CI log. Control
    characters are shown escaped, and anything past ``limit`` characters is cut.
    """
    shown = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text.strip())
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


class InputError(FeedtoolError):
    """Something in episodes/ (show file, episode file, chapters file) is malformed."""


class ChapterError(InputError):
    """Chapters that cannot be read or do not fit the audio."""


class AudioError(FeedtoolError):
    """An audio file that is missing, unreadable, or of a kind feedtool cannot use."""


class TagError(AudioError):
    """Writing tags or chapters into an audio file failed."""


class FeedReadError(FeedtoolError):
    """A feed that cannot be read at all (not XML, hostile, unreachable)."""


class StorageError(FeedtoolError):
    """A publish target that cannot be reached, found, or written."""


class BusyError(FeedtoolError):
    """Another feedtool process holds the output folder or the publish target; try again later."""


class RefusedError(FeedtoolError):
    """feedtool ran but refuses to go on because the result would hurt subscribers."""

    exit_code = 1

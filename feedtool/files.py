"""Small file helpers shared by build, tagging, the guid ledger and publish.

- ``write_atomic``: readers see the old or the new file, never half of one;
- ``new_temp_file``: the temporary file such writes start from, made with the permissions any new
  file gets (0o666 less the umask), so served files are readable without a chmod per file;
- ``sha256_file``: what build's cache and publish's plan key on;
- ``ShowFolder`` / ``show_file``: the one check every file read from a show passes first (it lies
  inside the show folder, after following links, and is a regular file).
"""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import secrets
import stat
from pathlib import Path

from feedtool.errors import InputError


def sha256_file(path: Path | str) -> str:
    """Hex sha256 of a file, read in C by hashlib.file_digest (which releases the GIL while it
    hashes, so publish's upload threads can hash in parallel)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@functools.cache
def process_umask() -> int:
    """The umask, read once (reading it means setting it, two system calls)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def new_temp_file(folder: Path, name: str, suffix: str = "") -> tuple[int, Path]:
    """(fd, path) of a new, empty, uniquely named hidden file ``.<name>.<random><suffix>`` in
    ``folder`` (created if missing), with the mode a new file gets from open().

    Unlike tempfile.mkstemp (mode 0600) the result needs no chmod to be served.
    """
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for attempt in range(100):
        path = Path(folder, f".{name}.{secrets.token_hex(6)}{suffix}")
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            continue
        except FileNotFoundError:
            if attempt:
                raise
            Path(folder).mkdir(parents=True, exist_ok=True)
    raise FileExistsError(f"no free temporary file name in {folder}")


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old or the new content, never half of it."""
    fd, temp = new_temp_file(path.parent, path.name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


#: The longest file or folder name most file systems take (ext4, APFS, NTFS: 255 bytes or units).
NAME_MAX = 255


def check_name_lengths(path: Path, *, what: str, reserve: int = 0) -> None:
    """Refuse a path with a name longer than the file system takes, before anything is done.

    ``reserve``: bytes the caller adds to the last name (build's ``.public.staging``). Without
    this, such a name surfaces as an ENAMETOOLONG traceback from deep inside a build.
    """
    parts = Path(path).parts
    for index, part in enumerate(parts):
        added = reserve if index == len(parts) - 1 else 0
        if len(os.fsencode(part)) + added > NAME_MAX:
            raise InputError(
                f"the {what} has a name of {len(os.fsencode(part))} bytes"
                + (f" (build adds {added} for its work folder next to it)" if added else "")
                + f", more than the {NAME_MAX} the file system takes",
                path=path if len(str(path)) < 120 else str(path)[:100] + "…",
                hint="choose a shorter name",
            )


# ----------------------------------------------------------------------------- files of a show

#: What a path that is not a regular file is, for messages.
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)
_OUTSIDE_HINT = (
    "feedtool reads only regular files inside the show folder, so that a link can never publish "
    "another file (a key file, /proc/self/environ); copy the file into the folder, or link to a "
    "file inside it"
)


class ShowFolder:
    """The show folder (episodes/) and the rule for every file feedtool reads from it.

    A show folder is often a git checkout that others send changes to, and git stores symbolic
    links: ``pic.jpg -> /proc/self/environ`` in a pull request would otherwise put the build's
    environment (in CI: its cloud credentials) into the published picture, transcript or MP3.
    So every file a show names (podcast.yaml, episode.md, audio, artwork, chapter images,
    transcripts, chapters files) goes through ``file()``: after following every link it must
    still lie inside the show folder (a link to shared artwork next to podcast.yaml is fine), and
    it must be a regular file (not a folder, named pipe, device or socket). ``file()`` returns the
    resolved path; readers read that path, the one that was checked.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.real = os.path.realpath(self.root)
        self._prefix = os.path.join(os.fspath(self.root), "")  # "episodes/": below it, the fast path

    def file(
        self,
        path: Path | str,
        *,
        source: Path | str | None = None,
        line: int | None = None,
        field: str | None = None,
        missing_hint: str | None = None,
    ) -> Path:
        """The resolved path of ``path`` once it passed the rule, or an InputError (exit 2).

        The error names the file (and the link and where it points), never its content; it is
        reported against ``source`` (the YAML or Markdown file that named ``path``) when given.
        """

        def refuse(message: str, hint: str | None = None) -> InputError:
            return InputError(message, path=source if source is not None else path, line=line,
                              field=field, hint=hint)

        real, link = self._resolve(os.fspath(path))
        if link is not None and not _inside(real, self.real):
            target = _readlink(link)
            if os.fspath(link) == os.fspath(path):
                message = f"{path} is a link to {target}, outside the show folder {self.root}"
            else:
                message = (f"{path} goes through the link {link} -> {target}, outside the show "
                           f"folder {self.root}")
            raise refuse(message, _OUTSIDE_HINT)
        if not _inside(real, self.real):
            raise refuse(f"{path} is outside the show folder {self.root}", _OUTSIDE_HINT)
        try:
            info = os.stat(real)
        except OSError as error:
            if error.errno == errno.ENAMETOOLONG:
                raise refuse(f"the file name is too long for the file system ({len(os.fsencode(path))} "
                             "bytes)", "use a shorter name (at most 255 bytes per name)") from None
            if link is not None and error.errno == errno.ELOOP:
                raise refuse(f"{path}: the link {link} -> {_readlink(link)} leads in a loop") from None
            if link is not None and error.errno in (errno.ENOENT, errno.ENOTDIR):
                raise refuse(f"{path}: the link {link} -> {_readlink(link)} points to nothing "
                             "(its target does not exist)", missing_hint) from None
            if error.errno in (errno.ENOENT, errno.ENOTDIR):
                raise refuse(f"file not found: {path}", missing_hint) from None
            raise refuse(f"cannot read {path} ({error.strerror})") from None
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a regular file")
            raise refuse(f"{path} is {kind}, not a file", "name a regular file inside the show folder")
        return Path(real)

    def _resolve(self, text: str) -> tuple[str, Path | None]:
        """(the real path, the first link on the way or None).

        The common case, a plain file in a plain folder below the show folder, costs one lstat
        per name below the root; anything else (a link, '..', a path not below the root) is
        resolved by os.path.realpath.
        """
        if not text.startswith(self._prefix):
            return os.path.realpath(text), _first_link(Path(text))
        parts = text[len(self._prefix):].split(os.sep)
        current = self.real
        for index, part in enumerate(parts):
            if part in ("..", ".", ""):
                return os.path.realpath(text), _first_link(Path(text))
            candidate = os.path.join(current, part)
            try:
                mode = os.lstat(candidate).st_mode
            except OSError:  # missing, or a name too long: stat() in file() says which
                return os.path.join(candidate, *parts[index + 1:]), None
            if stat.S_ISLNK(mode):
                link = self.root.joinpath(*parts[: index + 1])
                return os.path.realpath(os.path.join(candidate, *parts[index + 1:])), link
            current = candidate
        return current, None


def show_file(path: Path | str, root: Path | str, *, source: Path | str | None = None,
              line: int | None = None, field: str | None = None,
              missing_hint: str | None = None) -> Path:
    """``ShowFolder(root).file(path, ...)`` for a single file (see ShowFolder)."""
    return ShowFolder(root).file(path, source=source, line=line, field=field, missing_hint=missing_hint)


def _inside(real: str, root_real: str) -> bool:
    return real == root_real or real.startswith(root_real.rstrip(os.sep) + os.sep)


def _first_link(path: Path) -> Path | None:
    """The first component of ``path`` that is a symbolic link (None when there is none)."""
    current = Path(path.anchor) if path.is_absolute() else Path()
    for part in path.parts[1:] if path.is_absolute() else path.parts:
        current = current / part
        try:
            if os.path.islink(current):
                return current
        except OSError:
            return None
    return None


def _readlink(link: Path) -> str:
    try:
        return os.readlink(link)
    except OSError:
        return "?"

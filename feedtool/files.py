"""Small file helpers shared by build, tagging, the guid ledger and publish.

- ``write_atomic``: readers see the old or the new file, never half of one;
- ``new_temp_file``: the temporary file such writes start from, made with the permissions any new
  file gets (0o666 less the umask), so served files are readable without a chmod per file;
- ``sha256_file``: what build's cache and publish's plan key on.
"""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
from pathlib import Path


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

"""sha256 of files: what build's cache and publish's plan both key on."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: Path | str) -> str:
    """Hex sha256 of a file, read in C by hashlib.file_digest (which releases the GIL while it
    hashes, so publish's upload threads can hash in parallel)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()

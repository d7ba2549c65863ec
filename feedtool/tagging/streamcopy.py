"""Copy a byte range from one open file to another without passing it through Python.

Tagging a 100 MB episode must cost about what copying it costs, and must not hold it in memory.
``os.copy_file_range`` (Linux) and ``os.sendfile`` let the kernel move the bytes; a plain chunked
loop is the fallback elsewhere.
"""

from __future__ import annotations

import os
from typing import BinaryIO

_CHUNK = 1 << 20


def copy_range(source: BinaryIO, target: BinaryIO, offset: int, count: int) -> None:
    """Append ``count`` bytes of ``source`` starting at ``offset`` to ``target``'s position."""
    target.flush()
    src, dst = source.fileno(), target.fileno()
    position = os.lseek(dst, 0, os.SEEK_CUR)
    done = 0
    for mover in (_copy_file_range, _sendfile):
        try:
            while done < count:
                moved = mover(src, dst, offset + done, count - done)
                if moved <= 0:
                    break
                done += moved
            break
        except OSError:
            os.lseek(dst, position + done, os.SEEK_SET)  # try the next way from where we are
    target.seek(position + done)
    if done < count:
        source.seek(offset + done)
        while done < count:
            chunk = source.read(min(_CHUNK, count - done))
            if not chunk:
                raise OSError(f"the source ended {count - done} bytes early")
            target.write(chunk)
            done += len(chunk)
        target.flush()


def _copy_file_range(src: int, dst: int, offset: int, count: int) -> int:
    if not hasattr(os, "copy_file_range"):
        raise OSError("no copy_file_range")
    return os.copy_file_range(src, dst, min(count, 1 << 30), offset)


def _sendfile(src: int, dst: int, offset: int, count: int) -> int:
    return os.sendfile(dst, src, offset, min(count, 1 << 30))

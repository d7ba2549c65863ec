"""A tagged copy as a splice: new head bytes + a byte range of the source + new tail bytes.

An MP3 copy is ``head + source[start:end] + tail``: the head is feedtool's ID3v2.3 tag, the range
is the source's audio frames, the tail is an ID3v1 tag when the source had one. Head and tail are
made from the TagMetadata and the duration alone (``feedtool.tagging.id3.plan_copy``), never from
the source's own tags, so the source may be the master *or any earlier tagged copy of it*: both
give the same bytes. That is what lets a later step re-tag an episode whose master is not on this
machine, by copying the audio range inside the bucket (S3 UploadPartCopy with a source range) and
uploading only the head and tail (docs/design.md, "Masters outside git").

``CopyPlan`` says what to write; ``write_copy`` carries it out on local files, and is the only
way ``write_tagged_copy`` makes an MP3 copy, so the local and the remote path cannot drift apart.
``mp3_audio_span`` (re-exported from feedtool.integrity, where probe's checks use the same rule)
finds the range from a few small reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from feedtool.integrity import AudioSpan, mp3_audio_span, read_mp3_span

__all__ = ["AudioSpan", "CopyPlan", "mp3_audio_span", "read_mp3_span", "write_copy"]


@dataclass(frozen=True)
class CopyPlan:
    """The bytes of a tagged copy: ``head``, then ``source[source_start:source_end]``, then ``tail``.

    ``head`` is a tuple of chunks (the cover frame is shared between episodes, so it is never
    joined into a new string); ``head_bytes()`` joins them for an upload. For S3 multipart
    re-tagging note that every part but the last must be at least 5 MiB: the head goes up together
    with the first few MB of the range, the rest of the range is copied inside the bucket, and the
    tail (at most 128 bytes) may be the last part.
    """

    head: tuple[bytes, ...]
    source_start: int
    source_end: int
    tail: bytes = b""

    @property
    def head_size(self) -> int:
        return sum(len(chunk) for chunk in self.head)

    @property
    def copy_length(self) -> int:
        return self.source_end - self.source_start

    @property
    def size(self) -> int:
        """Bytes of the resulting copy."""
        return self.head_size + self.copy_length + len(self.tail)

    @property
    def span_in_copy(self) -> AudioSpan:
        """Where the copied range sits in the result (what ``mp3_audio_span`` finds in it)."""
        return AudioSpan(self.head_size, self.head_size + self.copy_length, bool(self.tail))

    def head_bytes(self) -> bytes:
        return b"".join(self.head)


def write_copy(plan: CopyPlan, source: Path, dest: Path) -> None:
    """Write ``dest`` (created or truncated) from ``plan`` and the local file ``source``.

    The media bytes go through feedtool.tagging.streamcopy (bounded memory, no decoding); the
    head is written chunk by chunk. The caller makes ``dest`` a temporary file and moves it into
    place (write_tagged_copy does), so nobody sees half a copy.
    """
    from feedtool.tagging.streamcopy import copy_range, preallocate

    with Path(source).open("rb") as reader, Path(dest).open("wb") as target:
        preallocate(target, plan.size)
        for chunk in plan.head:
            target.write(chunk)
        copy_range(reader, target, plan.source_start, plan.copy_length, at=plan.head_size)
        target.write(plan.tail)

"""What build learns of a file once per content: its sha256, and for audio its facts.

Keyed in the build cache by (path, size, mtime) for the digest and by the digest for the probe,
so a fresh clone with the cache restored probes nothing, and an edited file is probed again.
"""

from __future__ import annotations

import os
from pathlib import Path

from feedtool.audio import AudioInfo
from feedtool.cache import BuildCache
from feedtool.files import sha256_file
from feedtool.masters import MasterFacts


class Probes:
    """Digests and audio facts, through the build cache's tables."""

    def __init__(self, cache: BuildCache) -> None:
        self.cache = cache

    def file_digest(self, path: Path) -> str:
        """The sha256 of a file, read once per (path, size, mtime): the cache keys on content."""
        stat = os.stat(path)
        key = f"{os.path.abspath(path)}|{stat.st_size}|{stat.st_mtime_ns}"
        digest = self.cache.digests.get(key)
        if digest is None:
            digest = sha256_file(path)
            self.cache.digests.put(key, digest)
        return str(digest)

    def audio(self, path: Path) -> tuple[AudioInfo, str]:
        """The audio facts of a file and its sha256 (probed once per content)."""
        from feedtool.audio import probe

        try:
            digest = self.file_digest(path)
        except OSError:
            probe(path)  # says clearly what is wrong with the file
            raise
        key = f"{digest}|{path.suffix.lower()}"  # the extension decides the expected kind
        cached = self.cache.probes.get(key)
        if cached is not None:
            return AudioInfo(**cached), digest
        info = probe(path)
        self.cache.probes.put(key, {"kind": info.kind, "mime": info.mime,
                                    "duration_s": info.duration_s, "size": info.size,
                                    "bitrate": info.bitrate})
        return info, digest

    def master(self, path: Path) -> MasterFacts:
        """audio() plus, for an MP3, where its audio frames are (what a splice copies)."""
        from feedtool.integrity import read_mp3_span

        info, digest = self.audio(path)
        span = None
        if info.kind == "mp3":
            key = f"{digest}|span"
            cached = self.cache.probes.get(key)
            if cached is None:
                found = read_mp3_span(path)
                cached = [found.start, found.end, found.id3v1]
                self.cache.probes.put(key, cached)
            span = (int(cached[0]), int(cached[1]), bool(cached[2]))
        return MasterFacts(sha256=digest, size=info.size, kind=info.kind, mime=info.mime,
                           duration_s=info.duration_s, bitrate=info.bitrate, audio_span=span)

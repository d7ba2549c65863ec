"""How every published file is served: one table for S3, a local folder and ``feedtool serve``."""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Object kinds -> Cache-Control. Media, artwork, chapters and transcripts carry a content hash
#: in their name (build writes ``<stem>-<sha8>.<ext>``), so a new version gets a new URL and the
#: old bytes can be cached for a year; the feed must be short so a new episode shows up quickly.
CACHE_CONTROL: dict[str, str] = {
    "feed": "public, max-age=300",
    "media": "public, max-age=31536000, immutable",
    "art": "public, max-age=31536000, immutable",
    "chapters": "public, max-age=31536000, immutable",
    "transcript": "public, max-age=31536000, immutable",
    "page": "public, max-age=300",
    "asset": "public, max-age=31536000, immutable",  # the site's style-<sha8>.css, player-<sha8>.js
    "archive": "public, max-age=31536000, immutable",  # RFC 5005 pages, archive/feed-<n>-<sha8>.xml
    "other": "public, max-age=3600",
}
#: A file whose name has no content hash in it (a hand-made public/, or one built by an older
#: feedtool): it may be replaced under the same URL, so caches keep it for a shorter time.
CACHE_CONTROL_UNVERSIONED: dict[str, str] = {
    "media": "public, max-age=86400",
    "art": "public, max-age=86400",
    "chapters": "public, max-age=3600",
    "transcript": "public, max-age=3600",
    "asset": "public, max-age=300",  # a stylesheet or script that keeps its name
    "archive": "public, max-age=3600",
}

#: Extension -> (Content-Type, kind).
CONTENT_TYPES: dict[str, tuple[str, str]] = {
    ".mp3": ("audio/mpeg", "media"),
    ".m4a": ("audio/x-m4a", "media"),
    ".m4b": ("audio/x-m4a", "media"),
    ".mp4": ("video/mp4", "media"),
    ".m4v": ("video/x-m4v", "media"),
    ".mov": ("video/quicktime", "media"),
    ".ogg": ("audio/ogg", "media"),
    ".oga": ("audio/ogg", "media"),
    ".opus": ("audio/opus", "media"),
    ".flac": ("audio/flac", "media"),
    ".wav": ("audio/wav", "media"),
    ".aac": ("audio/aac", "media"),
    ".pdf": ("application/pdf", "media"),
    ".jpg": ("image/jpeg", "art"),
    ".jpeg": ("image/jpeg", "art"),
    ".png": ("image/png", "art"),
    ".webp": ("image/webp", "art"),
    ".gif": ("image/gif", "art"),
    ".svg": ("image/svg+xml", "art"),
    ".vtt": ("text/vtt; charset=utf-8", "transcript"),
    ".srt": ("application/x-subrip", "transcript"),
    ".txt": ("text/plain; charset=utf-8", "transcript"),
    ".html": ("text/html; charset=utf-8", "page"),
    ".htm": ("text/html; charset=utf-8", "page"),
    ".css": ("text/css; charset=utf-8", "asset"),
    ".js": ("text/javascript; charset=utf-8", "asset"),
    ".xsl": ("text/xsl; charset=utf-8", "asset"),
    ".json": ("application/json", "other"),
    ".xml": ("application/xml; charset=utf-8", "other"),
}
#: application/xml (registered, and accepted by every app and by feedtool validate) rather than the
#: unregistered application/rss+xml: browsers show application/rss+xml as plain text (Chromium)
#: or download it (Firefox) and never apply the feed's stylesheet (docs/site.md).
FEED_CONTENT_TYPE = "application/xml; charset=utf-8"
#: Where build puts the RFC 5005 archive pages of a paged feed (feedtool.archive): served like
#: the feed, and cached for good when content-named.
ARCHIVE_FOLDER = "archive"
CHAPTERS_CONTENT_TYPE = "application/json+chapters"
DEFAULT_CONTENT_TYPE = "application/octet-stream"

#: ``name-<8+ hex>.ext``: the content hash build puts into every name the feed references.
VERSIONED_NAME = re.compile(r"-[0-9a-f]{8,64}\.[A-Za-z0-9]+$")
#: Chapters files: ``chapters.json``, ``chapters-<sha8>.json`` (build), ``*.chapters.json``.
_CHAPTERS_NAME = re.compile(r"^(?:chapters(?:-[0-9a-f]{8,64})?|.+\.chapters)\.json$")
#: JSON transcripts: ``*.transcript.json`` or ``*.transcript-<sha8>.json``.
_JSON_TRANSCRIPT_NAME = re.compile(r"^.+\.transcript(?:-[0-9a-f]{8,64})?\.json$")


@dataclass(frozen=True)
class ObjectHeaders:
    """How one object is served."""

    content_type: str
    cache_control: str
    kind: str  # feed | media | art | chapters | transcript | page | asset | archive | other


def headers_for(key: str) -> ObjectHeaders:
    """Content-Type, Cache-Control and kind of a key, from its name alone.

    A feed is an ``.xml`` file at the top of the tree (``feed.xml``); chapters are files named
    ``chapters.json``, ``chapters-<sha8>.json`` or ``*.chapters.json``; a JSON transcript
    (``*.transcript.json``) is a transcript.
    """
    folder, _, name = key.rpartition("/")
    name = name.lower()
    dot = name.rfind(".")
    suffix = name[dot:] if dot > 0 else ""
    if suffix == ".xml" and not folder:
        return _FEED_HEADERS
    if suffix == ".xml" and folder == ARCHIVE_FOLDER:  # feedtool.archive's pages of older episodes
        content_type, kind = FEED_CONTENT_TYPE, "archive"
    elif _CHAPTERS_NAME.match(name):
        content_type, kind = CHAPTERS_CONTENT_TYPE, "chapters"
    elif _JSON_TRANSCRIPT_NAME.match(name):
        content_type, kind = "application/json", "transcript"
    else:
        content_type, kind = CONTENT_TYPES.get(suffix, (DEFAULT_CONTENT_TYPE, "other"))
    cache_control = CACHE_CONTROL[kind]
    if kind in CACHE_CONTROL_UNVERSIONED and not VERSIONED_NAME.search(name):
        cache_control = CACHE_CONTROL_UNVERSIONED[kind]
    return ObjectHeaders(content_type, cache_control, kind)


_FEED_HEADERS = ObjectHeaders(FEED_CONTENT_TYPE, CACHE_CONTROL["feed"], "feed")

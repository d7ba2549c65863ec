"""A local web server over public/ that answers the way a CDN in front of S3 would.

Podcast apps need HEAD, byte ranges (``Range`` -> 206 + ``Content-Range``, 416 when the range
cannot be served) and the right Content-Type; Python's ``http.server`` ignores ``Range``. So this
server serves files with the headers from feedtool's one table (``storage.headers_for``), plus
ETag / Last-Modified and ``If-None-Match`` -> 304, and never a file outside its folder.

The feed in public/ points at the show's real ``base_url``. For previewing on a phone the feed
is served with that base URL replaced by the address the request came in on (unless
``as_published``), so episodes play from this server; every other file is served byte for byte.

It may listen on the local network (``--host 0.0.0.0``), so it treats requests as hostile: the
request line and headers are capped (431), the Host header must be a host name or address with
an optional port (400), the rewritten feed is cached per host (a few entries, so a flood of
different hosts costs no memory), its ETag carries the host, a malformed or absurd Range header
is ignored or answered 416 as RFC 9110 says, and no request ever ends in a traceback.
"""

from __future__ import annotations

import email.utils
import hashlib
import posixpath
import re
import socket
import sys
import threading
import urllib.parse
from collections import OrderedDict
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from feedtool.storage import headers_for

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_SELF_LINK = re.compile(rb"<atom:link[^>]*\brel=\"self\"[^>]*>|<atom:link[^>]*>")
_HREF = re.compile(rb'href="([^"]+)"')
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
#: A Host header: a DNS name, an IPv4 address or a bracketed IPv6 address, and an optional port.
_HOST = re.compile(rf"^(?:{_LABEL}(?:\.{_LABEL})*\.?|\[[0-9A-Fa-f:.]{{2,45}}\])(?::(\d{{1,5}}))?$")
#: Longest Host accepted (a 253-character name, a colon and a port).
MAX_HOST_LENGTH = 261
#: The request line and all headers of one request, at most (then 431).
MAX_HEADER_BYTES = 16 * 1024
#: Rewritten feeds kept (per file and host); older ones are dropped.
REWRITE_CACHE_ENTRIES = 8
#: More digits than this in a Range position: a number larger than any file.
_MAX_DIGITS = 18


class _HeadersTooLarge(Exception):
    pass


class _BoundedReader:
    """The request's input stream, with a budget for the request line and headers."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self.budget = MAX_HEADER_BYTES

    def readline(self, limit: int = -1) -> bytes:
        wanted = self.budget + 1 if limit < 0 else min(limit, self.budget + 1)
        line: bytes = self._raw.readline(wanted)
        self.budget -= len(line)
        if self.budget < 0:
            raise _HeadersTooLarge
        return line

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


def valid_host(host: str) -> bool:
    """Is this a Host header worth putting into a feed (name or address, optional valid port)?"""
    if not host or len(host) > MAX_HOST_LENGTH:
        return False
    match = _HOST.match(host)
    return match is not None and (match.group(1) is None or 0 < int(match.group(1)) < 65536)


class PublicHandler(BaseHTTPRequestHandler):
    """GET and HEAD for files under ``server.root``."""

    server: PublicServer
    server_version = "feedtool-serve"
    protocol_version = "HTTP/1.1"
    redirect_to: str | None = None  # set by _resolve for a folder asked for without its '/'

    def log_message(self, format: str, *args: object) -> None:
        if self.server.quiet:
            return
        super().log_message(format, *args)

    def setup(self) -> None:
        super().setup()
        self.rfile = _BoundedReader(self.rfile)  # type: ignore[assignment]

    def handle_one_request(self) -> None:
        """One request, with a fresh header budget; too much header is answered 431."""
        self.rfile.budget = MAX_HEADER_BYTES  # type: ignore[attr-defined]
        try:
            super().handle_one_request()
        except _HeadersTooLarge:
            self.close_connection = True
            try:
                self.wfile.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                                 b"Content-Length: 0\r\nConnection: close\r\n\r\n")
                self.wfile.flush()
                self._linger()
            except OSError:
                pass

    def _linger(self) -> None:
        """Read (and drop) what the client is still sending before closing: closing a socket with
        unread input sends a reset, which can destroy the 431 answer before the client reads it."""
        self.connection.shutdown(socket.SHUT_WR)
        self.connection.settimeout(1.0)
        for _ in range(64):  # at most 4 MB, at most a few seconds
            if not self.connection.recv(65536):
                break

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def do_GET(self) -> None:
        self._serve(send_body=True)

    # -- helpers ------------------------------------------------------------------------------

    def _resolve(self) -> Path | None:
        """The file a request path names, or None when it is missing or outside the root.

        A folder with an index.html is that page; asked for without its final '/', the answer
        is a redirect (as static hosts do), so the page's relative links resolve.
        """
        raw_path = urllib.parse.urlsplit(self.path).path
        path = urllib.parse.unquote(raw_path)
        if "\x00" in path or "\\" in path:
            return None
        normal = posixpath.normpath(path)
        parts = [p for p in normal.split("/") if p and p != "."]
        if any(p == ".." or p.startswith(".") for p in parts):
            return None
        candidate = self.server.root.joinpath(*parts) if parts else self.server.root
        if candidate.is_dir():
            index = candidate / "index.html"
            if index.is_file() and parts and not raw_path.endswith("/"):
                self.redirect_to = raw_path + "/"
                return None
            if index.is_file():
                candidate = index
            elif not parts:
                candidate = self.server.root / self.server.feed_name
        try:
            real = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not real.is_relative_to(self.server.root_real) or not real.is_file():
            return None
        return candidate

    def _error(self, status: HTTPStatus, send_body: bool) -> None:
        body = f"{status.value} {status.phrase}\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _host(self) -> str | None:
        """The Host the request came in on (None: malformed, answered 400)."""
        host = self.headers.get("Host")
        if host is None:  # HTTP/1.0 without Host: the address this server listens on
            address, port = str(self.server.server_address[0]), self.server.port
            return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
        host = host.strip()
        return host if valid_host(host) else None

    def _not_found(self, send_body: bool) -> None:
        """404, with the site's 404.html when there is one (its links pointed at this server)."""
        redirect = self.redirect_to
        if redirect:
            self.redirect_to = None
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", urllib.parse.quote(redirect))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        page = self.server.root / "404.html"
        if not page.is_file():
            self._error(HTTPStatus.NOT_FOUND, send_body)
            return
        body = page.read_bytes()
        feed = self.server.root / self.server.feed_name
        base = published_base_url(feed.read_bytes(), self.server.feed_name) if feed.is_file() else None
        host = self.headers.get("Host", "")
        if base and _HOST.match(host) and not self.server.as_published:
            body = body.replace(base.encode(), f"http://{host}/".encode())
        self.send_response(HTTPStatus.NOT_FOUND)
        self.send_header("Content-Type", headers_for("404.html").content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _serve(self, send_body: bool) -> None:
        try:
            self._serve_file(send_body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # players drop connections after reading what they need

    def _serve_file(self, send_body: bool) -> None:
        host = self._host()
        if host is None:
            self._error(HTTPStatus.BAD_REQUEST, send_body)
            self.close_connection = True
            return
        path = self._resolve()
        if path is None:
            self._not_found(send_body)
            return
        key = path.relative_to(self.server.root).as_posix()
        headers = headers_for(key)
        stat = path.stat()
        body = None
        if headers.kind == "feed" and not self.server.as_published:
            body = self.server.feed_for(path, key, stat, host)
        size = len(body) if body is not None else stat.st_size
        etag = f'"{stat.st_mtime_ns:x}-{size:x}"'
        if body is not None:  # the same file reads differently for each host
            etag = f'"{stat.st_mtime_ns:x}-{size:x}-{hashlib.sha256(host.lower().encode()).hexdigest()[:12]}"'
        common = {
            "Content-Type": headers.content_type,
            "Cache-Control": headers.cache_control,
            "Accept-Ranges": "bytes",
            "ETag": etag,
            "Last-Modified": email.utils.formatdate(stat.st_mtime, usegmt=True),
            "Access-Control-Allow-Origin": "*",  # web players fetch chapters and transcripts
        }
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match and (if_none_match.strip() == "*" or etag in [t.strip() for t in if_none_match.split(",")]):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            for name, value in common.items():
                self.send_header(name, value)
            self.end_headers()
            return

        start, end = 0, size - 1
        status = HTTPStatus.OK
        range_header = self.headers.get("Range")
        if range_header and self.headers.get("If-Range", etag) == etag:
            parsed = parse_range(range_header, size)
            if parsed == "unsatisfiable":
                self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                return
            if isinstance(parsed, tuple):
                start, end = parsed
                status = HTTPStatus.PARTIAL_CONTENT
        length = max(end - start + 1, 0)
        self.send_response(status)
        for name, value in common.items():
            self.send_header(name, value)
        if status == HTTPStatus.PARTIAL_CONTENT:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if not send_body or length == 0:
            return
        if body is not None:
            self.wfile.write(body[start : end + 1])
            return
        with open(path, "rb") as handle:
            handle.seek(start)
            remaining = length
            while remaining > 0:
                block = handle.read(min(remaining, 1 << 16))
                if not block:
                    break
                self.wfile.write(block)
                remaining -= len(block)


def parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """One byte range -> (first, last) inclusive; "unsatisfiable"; or None to send everything.

    Multiple ranges (``bytes=0-1,5-6``) and malformed headers are answered with the whole file,
    which RFC 9110 allows; apps ask for one range at a time. Positions with more digits than
    any file size has are read as "beyond the end" (never converted: a 5,000-digit number is
    refused by int() and would cost time).
    """
    if len(header) > 200:
        return None
    match = _RANGE.match(header.strip())
    if not match or "," in header:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    beyond = size + 1  # any position past the end behaves the same
    if first == "":  # suffix: the last N bytes
        count = int(last) if len(last) <= _MAX_DIGITS else beyond
        if count == 0:
            return "unsatisfiable"
        return (max(size - count, 0), size - 1) if size else "unsatisfiable"
    start = int(first) if len(first) <= _MAX_DIGITS else beyond
    if start >= size:
        return "unsatisfiable"
    end_pos = (int(last) if len(last) <= _MAX_DIGITS else beyond) if last else size - 1
    if end_pos < start:
        return None
    return start, min(end_pos, size - 1)


def published_base_url(feed: bytes, key: str) -> str | None:
    """The base URL public/ is published under, from the feed's ``atom:link rel="self"``."""
    for match in _SELF_LINK.finditer(feed):
        tag = match.group(0)
        if b'rel="self"' not in tag:
            continue
        href = _HREF.search(tag)
        if href:
            url = href.group(1).decode("utf-8", "replace")
            if url.endswith("/" + key):
                return url[: -len(key)]
            return url.rsplit("/", 1)[0] + "/"
    return None


class PublicServer(ThreadingHTTPServer):
    """A threading HTTP server bound to one folder."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        root: Path,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        feed_name: str = "feed.xml",
        as_published: bool = False,
        quiet: bool = False,
    ) -> None:
        self.root = root
        self.root_real = root.resolve()
        self.feed_name = feed_name
        self.as_published = as_published
        self.quiet = quiet
        self._rewrites: OrderedDict[tuple[str, int, int, str], bytes] = OrderedDict()
        self._rewrites_lock = threading.Lock()
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), PublicHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def feed_for(self, path: Path, key: str, stat: Any, host: str) -> bytes:
        """The feed with its base URL pointed at ``host``, made once per (file version, host)."""
        cache_key = (key, stat.st_mtime_ns, stat.st_size, host.lower())
        with self._rewrites_lock:
            cached = self._rewrites.get(cache_key)
            if cached is not None:
                self._rewrites.move_to_end(cache_key)
                return cached
        data = path.read_bytes()
        base = published_base_url(data, key)
        body = data.replace(base.encode(), f"http://{host}/".encode()) if base else data
        with self._rewrites_lock:
            self._rewrites[cache_key] = body
            while len(self._rewrites) > REWRITE_CACHE_ENTRIES:
                self._rewrites.popitem(last=False)
        return body

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One line on stderr instead of a traceback; the server keeps serving."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)) or self.quiet:
            return
        sys.stderr.write(f"feedtool serve: a request from {client_address[0]} failed: "
                         f"{type(error).__name__}\n")


def lan_address() -> str | None:
    """This machine's address on the local network (for the phone), without sending anything."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed, nothing is sent for UDP connect
        address = str(probe.getsockname()[0])
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


def feed_names(root: Path) -> list[str]:
    """The feeds at the top of a folder (what to print for subscribing)."""
    return sorted(p.name for p in root.glob("*.xml") if p.is_file()) if root.is_dir() else []


__all__ = ["PublicServer", "feed_names", "lan_address", "parse_range", "published_base_url"]

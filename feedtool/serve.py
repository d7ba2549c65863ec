"""A local web server over public/ that answers the way a CDN in front of S3 would.

Podcast apps need HEAD, byte ranges (``Range`` -> 206 + ``Content-Range``, 416 when the range
cannot be served) and the right Content-Type; Python's ``http.server`` ignores ``Range``. So this
server serves files with the headers from feedtool's one table (``storage.headers_for``), plus
ETag / Last-Modified and ``If-None-Match`` -> 304, and never a file outside its folder.

The feed in public/ points at the show's real ``base_url``. For previewing on a phone the feed
is served with that base URL replaced by the address the request came in on (unless
``as_published``), so episodes play from this server; every other file is served byte for byte.
"""

from __future__ import annotations

import email.utils
import posixpath
import re
import socket
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from feedtool.storage import headers_for

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_SELF_LINK = re.compile(rb"<atom:link[^>]*\brel=\"self\"[^>]*>|<atom:link[^>]*>")
_HREF = re.compile(rb'href="([^"]+)"')
_HOST = re.compile(r"^[A-Za-z0-9.\-\[\]:]+$")


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

    def _body_for(self, path: Path, key: str) -> bytes | None:
        """The feed with its base URL pointed at this server; None for every other file."""
        headers = headers_for(key)
        if headers.kind != "feed" or self.server.as_published:
            return None
        data = path.read_bytes()
        host = self.headers.get("Host", "")
        if not _HOST.match(host):
            return data
        base = published_base_url(data, key)
        if not base:
            return data
        return data.replace(base.encode(), f"http://{host}/".encode())

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
        path = self._resolve()
        if path is None:
            self._not_found(send_body)
            return
        key = path.relative_to(self.server.root).as_posix()
        headers = headers_for(key)
        stat = path.stat()
        body = self._body_for(path, key)
        size = len(body) if body is not None else stat.st_size
        etag = f'"{stat.st_mtime_ns:x}-{size:x}"'
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
                try:
                    self.wfile.write(block)
                except (BrokenPipeError, ConnectionResetError):
                    return  # players drop connections after reading what they need
                remaining -= len(block)


def parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """One byte range -> (first, last) inclusive; "unsatisfiable"; or None to send everything.

    Multiple ranges (``bytes=0-1,5-6``) and malformed headers are answered with the whole file,
    which RFC 9110 allows; apps ask for one range at a time.
    """
    match = _RANGE.match(header.strip())
    if not match or "," in header:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":  # suffix: the last N bytes
        count = int(last)
        if count == 0:
            return "unsatisfiable"
        return (max(size - count, 0), size - 1) if size else "unsatisfiable"
    start = int(first)
    if start >= size:
        return "unsatisfiable"
    end = min(int(last), size - 1) if last else size - 1
    if end < start:
        return None
    return start, end


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
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), PublicHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])


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

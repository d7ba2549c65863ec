"""A local HTTP server for the import tests: files from a folder or a dict, with or without HEAD and Range.

Hosts differ: S3 and most CDNs answer HEAD and byte ranges; some podcast hosts' redirectors refuse
HEAD (405) or ignore Range (200 and the whole file). ``serve(..., head=False, ranges=False)`` plays
those. Every request is logged with the bytes of body sent, so a test can check that import did not
download a whole file it only needed facts about.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

TYPES = {".xml": "application/rss+xml", ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".jpg": "image/jpeg",
         ".png": "image/png", ".json": "application/json", ".vtt": "text/vtt", ".srt": "application/x-subrip",
         ".ogg": "audio/ogg", ".html": "text/html"}


@dataclass
class Site:
    url: str
    root: Path | None
    files: dict[str, bytes]
    log: list[tuple[str, str, str, int]] = field(default_factory=list)  # method, path, range, bytes sent
    redirects: dict[str, str] = field(default_factory=dict)  # path -> location (301)

    def sent(self, path: str) -> int:
        return sum(n for _, p, _, n in self.log if p == path)

    def requests(self, path: str) -> list[tuple[str, str]]:
        return [(m, r) for m, p, r, _ in self.log if p == path]


@contextmanager
def serve(root: Path | None = None, files: dict[str, bytes] | None = None, *, head: bool = True,
          ranges: bool = True) -> Iterator[Site]:
    """Serve ``root`` (a folder) and/or ``files`` (path -> bytes) on 127.0.0.1 until the block ends."""
    site = Site(url="", root=root, files=dict(files or {}))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _body(self) -> bytes | None:
            path = unquote(urlsplit(self.path).path)
            if path in site.files:
                return site.files[path]
            if site.root is not None:
                candidate = (site.root / path.lstrip("/")).resolve()
                if candidate.is_relative_to(site.root.resolve()) and candidate.is_file():
                    return candidate.read_bytes()
            return None

        def _answer(self, send_body: bool) -> None:
            path = unquote(urlsplit(self.path).path)
            if path in site.redirects:
                self.send_response(301)
                self.send_header("Location", site.redirects[path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                with lock:
                    site.log.append((self.command, path, "", 0))
                return
            body = self._body()
            wanted = self.headers.get("Range", "")
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with lock:
                    site.log.append((self.command, path, wanted, 0))
                return
            status, start, end = 200, 0, len(body)
            if ranges and wanted.startswith("bytes="):
                first, _, last = wanted[6:].partition("-")
                start = int(first or 0)
                end = min(int(last) + 1, len(body)) if last else len(body)
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = 206
            self.send_response(status)
            self.send_header("Content-Type", TYPES.get(Path(path).suffix, "application/octet-stream"))
            self.send_header("Content-Length", str(end - start))
            if ranges:
                self.send_header("Accept-Ranges", "bytes")
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(body)}")
            self.end_headers()
            sent = 0
            if send_body:
                try:
                    self.wfile.write(body[start:end])
                    sent = end - start
                except (BrokenPipeError, ConnectionResetError):
                    sent = -1
            with lock:
                site.log.append((self.command, path, wanted, sent))

        def do_GET(self) -> None:
            self._answer(True)

        def do_HEAD(self) -> None:
            if not head:
                self.send_response(405)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with lock:
                    site.log.append(("HEAD", unquote(urlsplit(self.path).path), "", 0))
                return
            self._answer(False)

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a client that stops reading (import reads only the first bytes) is expected

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    site.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()

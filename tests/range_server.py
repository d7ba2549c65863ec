"""A small HTTP file server on 127.0.0.1 that honours Range and If-Range (http.server does not),
for tests of resumable downloads, with faults on demand.

    server = RangeServer()                      # ranges=False: answers every Range with 200
    url = server.add("/ep1.mp3", data)          # a strong ETag and a Last-Modified per version
    server.cut_next("/ep1.mp3", after=1000)     # the next GET sends 1000 body bytes, then closes
    server.change_during("/ep1.mp3", after=500, new=other, every=False)
    server.log                                  # [Request(method, path, range, if_range, status, sent)]
    server.stop()

Every body byte sent is counted, so a test can assert what a resume transferred.
``RangeServer(tls=True)`` serves https://localhost:PORT with a certificate made for the test;
point SSL_CERT_FILE at ``server.ca_file`` so that feedtool (ssl's default context) trusts it.
"""

from __future__ import annotations

import email.utils
import hashlib
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_CHUNK = 1 << 16


@dataclass
class Request:
    method: str
    path: str
    range: str | None
    if_range: str | None
    status: int = 0
    sent: int = 0  # body bytes


@dataclass
class _File:
    data: bytes
    version: int = 0
    content_type: str = "audio/mpeg"
    cuts: list[int] = field(default_factory=list)  # per coming GET: body bytes before closing
    change: tuple[int, bytes, bool] | None = None  # (after bytes, new data, on every GET)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.data).hexdigest()[:16] + f'-{self.version}"'

    @property
    def last_modified(self) -> str:
        return email.utils.formatdate(1_700_000_000 + self.version, usegmt=True)


class RangeServer:
    def __init__(self, *, ranges: bool = True, etag: bool = True, last_modified: bool = True,
                 tls: bool = False) -> None:
        self.ranges, self.etag, self.last_modified = ranges, etag, last_modified
        self.files: dict[str, _File] = {}
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}  # path -> canned answer
        self.log: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                server._answer(self, body=False)

            def do_GET(self) -> None:
                server._answer(self, body=True)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                import sys

                if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
                    super().handle_error(request, client_address)  # type: ignore[arg-type]

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.ca_file: str | None = None
        if tls:
            import ssl

            self.ca_file, key_file = _self_signed_certificate()
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.ca_file, key_file)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        port = self._httpd.server_address[1]
        self.base = f"https://localhost:{port}" if tls else f"http://127.0.0.1:{port}"

    def add(self, path: str, data: bytes, *, content_type: str = "audio/mpeg") -> str:
        with self._lock:
            old = self.files.get(path)
            self.files[path] = _File(data, version=old.version + 1 if old else 0, content_type=content_type)
        return self.base + path

    def answer(self, path: str, status: int, body: bytes = b"", **headers: str) -> str:
        self.routes[path] = (status, {k.replace("_", "-"): v for k, v in headers.items()}, body)
        return self.base + path

    def cut_next(self, path: str, *, after: int, times: int = 1) -> None:
        self.files[path].cuts.extend([after] * times)

    def change_during(self, path: str, *, after: int, new: bytes, every: bool = False) -> None:
        self.files[path].change = (after, new, every)

    @property
    def sent(self) -> int:
        return sum(request.sent for request in self.log)

    def gets(self) -> list[Request]:
        return [request for request in self.log if request.method == "GET"]

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler, *, body: bool) -> None:
        path = handler.path.split("?", 1)[0]
        request = Request(handler.command, path, handler.headers.get("Range"), handler.headers.get("If-Range"))
        self.log.append(request)
        if path in self.routes:
            status, headers, data = self.routes[path]
            request.status = status
            handler.send_response(status)
            for name, value in {"Content-Length": str(len(data)), **headers}.items():
                handler.send_header(name, value)
            handler.end_headers()
            if body:
                handler.wfile.write(data)
                request.sent = len(data)
            return
        with self._lock:
            served = self.files.get(path)
            cut = served.cuts.pop(0) if served and served.cuts and body else None
        if served is None:
            request.status = 404
            handler.send_error(404)
            return
        start = 0
        status = 200
        wanted = re.fullmatch(r"bytes=(\d+)-", request.range or "")
        validators = {served.etag if self.etag else None, served.last_modified if self.last_modified else None}
        if self.ranges and wanted and (request.if_range is None or request.if_range in validators):
            start = int(wanted.group(1))
            if start >= len(served.data):
                request.status = 416
                handler.send_response(416)
                handler.send_header("Content-Range", f"bytes */{len(served.data)}")
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            status = 206
        request.status = status
        handler.send_response(status)
        handler.send_header("Content-Type", served.content_type)
        handler.send_header("Content-Length", str(len(served.data) - start))
        if self.ranges:
            handler.send_header("Accept-Ranges", "bytes")
        if status == 206:
            handler.send_header("Content-Range", f"bytes {start}-{len(served.data) - 1}/{len(served.data)}")
        if self.etag:
            handler.send_header("ETag", served.etag)
        if self.last_modified:
            handler.send_header("Last-Modified", served.last_modified)
        if cut is not None:
            handler.send_header("Connection", "close")
        handler.end_headers()
        if not body:
            return
        position = start
        total = len(served.data)
        swapped = False  # the file changes at most once during one response
        try:
            while position < total:
                if cut is not None and request.sent >= cut:
                    handler.close_connection = True
                    return
                change = None if swapped else served.change
                if change and request.sent >= change[0]:
                    after, new, every = change
                    with self._lock:  # the file is overwritten while it is being read
                        self.files[path] = served = _File(new, version=served.version + 1,
                                                          content_type=served.content_type,
                                                          change=(after, served.data, True) if every else None)
                    swapped, change = True, None
                limit = total - position
                if cut is not None:
                    limit = min(limit, cut - request.sent)
                if change:
                    limit = min(limit, change[0] - request.sent)
                chunk = served.data[position : position + min(_CHUNK, limit)]
                if not chunk:
                    return
                handler.wfile.write(chunk)
                request.sent += len(chunk)
                position += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True


def _self_signed_certificate() -> tuple[str, str]:
    """A certificate for localhost and 127.0.0.1 (its own CA) and its key, as PEM files."""
    import datetime
    import ipaddress
    import tempfile

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tempfile.mkdtemp(prefix="range-server-tls-")
    cert_file, key_file = f"{folder}/cert.pem", f"{folder}/key.pem"
    with open(cert_file, "wb") as out:
        out.write(certificate.public_bytes(serialization.Encoding.PEM))
    with open(key_file, "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    return cert_file, key_file

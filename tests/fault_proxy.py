"""A fault-injecting HTTP proxy on 127.0.0.1 in front of an S3 server (SeaweedFS or moto's).

boto3 talks to the proxy as if it were the service; the proxy forwards every request unchanged
(the Host header included, so SigV4 signatures still verify upstream) and answers chosen ones
differently:

    proxy = FaultProxy(upstream).start()
    proxy.fail("PUT", r"/feed\\.xml$", status=503, code="ServiceUnavailable", times=10)
    proxy.fail("GET", r"\\?list-type=2", status=403, code="AccessDenied")
    proxy.trickle("PUT", r"/feed\\.xml$", pause_s=2.0)     # headers sent slowly after forwarding
    proxy.drop("PUT", r"\\.mp3$")                           # close the connection, no answer
    proxy.before("PUT", r"/feed\\.xml$", callback)          # run callback (e.g. delete objects), then forward
    proxy.fail("PUT", r"uploadId=", header="x-amz-copy-source-range", status=501, code="NotImplemented")

Each rule applies ``times`` times (then the request passes through); ``header`` limits it to
requests carrying that header. Every request is logged in ``proxy.requests`` as (method, path),
and the bytes of every request body and answer body are counted (``body_bytes_in`` from the
client, ``body_bytes_out`` to it): what a client sent and received, measured outside it.
"""

from __future__ import annotations

import http.client
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "expect", "proxy-connection", "te", "upgrade"}


@dataclass
class Rule:
    method: str | None
    path: re.Pattern[str]
    action: str  # respond | trickle | drop | before
    times: int
    status: int = 503
    code: str = "ServiceUnavailable"
    message: str = "injected fault"
    extra_xml: str = ""
    headers: dict[str, str] | None = None
    pause_s: float = 0.0
    callback: Callable[[], None] | None = None
    header: str | None = None  # only requests carrying this header

    def matches(self, method: str, path: str, headers: Any = None) -> bool:
        if self.header is not None and (headers is None or headers.get(self.header) is None):
            return False
        return self.times > 0 and (self.method is None or self.method == method) and bool(self.path.search(path))


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.rules: list[Rule] = []
        self.requests: list[tuple[str, str]] = []
        self.body_bytes_in = 0
        self.body_bytes_out = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                proxy._serve(self)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- rules --------------------------------------------------------------------------------

    def _add(self, method: str | None, path: str, action: str, times: int, **kwargs: Any) -> Rule:
        rule = Rule(method, re.compile(path), action, times, **kwargs)
        with self._lock:
            self.rules.append(rule)
        return rule

    def fail(self, method: str | None, path: str, *, status: int = 503, code: str = "ServiceUnavailable",
             message: str = "injected fault", times: int = 1, extra_xml: str = "",
             headers: dict[str, str] | None = None, header: str | None = None) -> Rule:
        return self._add(method, path, "respond", times, status=status, code=code, message=message,
                         extra_xml=extra_xml, headers=headers, header=header)

    def trickle(self, method: str | None, path: str, *, pause_s: float, times: int = 1) -> Rule:
        return self._add(method, path, "trickle", times, pause_s=pause_s)

    def drop(self, method: str | None, path: str, *, times: int = 1, header: str | None = None) -> Rule:
        return self._add(method, path, "drop", times, header=header)

    def before(self, method: str | None, path: str, callback: Callable[[], None], *, times: int = 1,
               header: str | None = None) -> Rule:
        return self._add(method, path, "before", times, callback=callback, header=header)

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()
            self.body_bytes_in = self.body_bytes_out = 0

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def _take(self, method: str, path: str, headers: Any = None) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.matches(method, path, headers):
                    rule.times -= 1
                    return rule
        return None

    # -- serving ------------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        method, path = handler.command, handler.path
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        with self._lock:
            self.requests.append((method, path))
            self.body_bytes_in += len(body)
        rule = self._take(method, path, handler.headers)
        if rule is not None and rule.action == "respond":
            xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{rule.code}</Code>'
                   f"<Message>{rule.message}</Message>{rule.extra_xml}<RequestId>fault</RequestId></Error>").encode()
            handler.send_response(rule.status)
            handler.send_header("Content-Type", "application/xml")
            for name, value in (rule.headers or {}).items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(xml)))
            handler.end_headers()
            if method != "HEAD":
                handler.wfile.write(xml)
            return
        if rule is not None and rule.action == "drop":
            handler.close_connection = True
            try:
                handler.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if rule is not None and rule.action == "before" and rule.callback is not None:
            rule.callback()
        status, reason, headers, payload = self._forward(method, path, handler.headers, body)
        head = [f"HTTP/1.1 {status} {reason}\r\n"]
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                head.append(f"{name}: {value}\r\n")
        declared = next((v for n, v in headers if n.lower() == "content-length"), None)
        head.append(f"Content-Length: {declared if method == 'HEAD' and declared else len(payload)}\r\n\r\n")
        raw = "".join(head).encode("latin-1")
        if rule is not None and rule.action == "trickle":
            # The answer's headers in two halves with a pause between: a slow or stalled service.
            handler.wfile.write(raw[: len(raw) // 2])
            handler.wfile.flush()
            time.sleep(rule.pause_s)
            raw = raw[len(raw) // 2 :]
        with self._lock:
            self.body_bytes_out += len(payload) if method != "HEAD" else 0
        try:
            handler.wfile.write(raw + (payload if method != "HEAD" else b""))
            handler.wfile.flush()
        except OSError:
            handler.close_connection = True

    def _forward(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=30)
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers.items():
                if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                    connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            payload = response.read()
            return response.status, response.reason, response.getheaders(), payload
        finally:
            connection.close()

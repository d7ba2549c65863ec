"""feedtool.net, the one HTTP client: http(s) only, bounded redirects, one deadline per request.

Every server here is a real one on 127.0.0.1, including the hostile ones (silent, trickling,
redirecting to file:// or in a loop).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from feedtool import net

Handler = Callable[[BaseHTTPRequestHandler], None]


@pytest.fixture
def serve() -> Iterator[Callable[[dict[str, Handler]], str]]:
    """serve({"/path": handler}) -> base URL of a server that calls handler(request) per path."""
    servers: list[ThreadingHTTPServer] = []

    def start(routes: dict[str, Handler]) -> str:
        class Routed(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                route = routes.get(self.path.split("?")[0])
                if route is None:
                    self.send_error(404)
                    return
                route(self)

            do_HEAD = do_POST = do_GET

        server = ThreadingHTTPServer(("127.0.0.1", 0), Routed)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def body(data: bytes, status: int = 200, **headers: str) -> Handler:
    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(status)
        request.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            request.send_header(name.replace("_", "-"), value)
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(data)
    return handle


def redirect(location: str, status: int = 302) -> Handler:
    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(status)
        request.send_header("Location", location)
        request.send_header("Content-Length", "0")
        request.end_headers()
    return handle


def test_get_follows_relative_redirects_and_counts_them(serve) -> None:
    base = serve({"/a": redirect("/b"), "/b": redirect("c", 301), "/c": body(b"hello", Content_Type="text/plain")})
    response = net.request(base + "/a", max_body=100)
    assert (response.status, response.body, response.redirects) == (200, b"hello", 2)
    assert response.final_url == base + "/c" and response.content_type == "text/plain"


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/x", "data:text/plain,hi", "/dev/stdin"])
def test_a_redirect_to_anything_but_http_is_refused(serve, target: str) -> None:
    location = target if ":" in target else "file://" + target
    base = serve({"/x": redirect(location)})
    with pytest.raises(net.NetworkError, match="only http:// and https://"):
        net.request(base + "/x", max_body=100)


def test_only_http_urls_are_fetched_at_all() -> None:
    for url in ("file:///etc/passwd", "ftp://example.com/a.mp3", "example.com/feed.xml"):
        with pytest.raises(net.NetworkError):
            net.request(url)


def test_a_redirect_loop_stops_after_the_limit(serve) -> None:
    base = serve({"/loop": redirect("/loop")})
    started = time.monotonic()
    with pytest.raises(net.NetworkError, match="more than 3 redirects"):
        net.request(base + "/loop", max_redirects=3)
    assert time.monotonic() - started < 5


def test_a_silent_server_fails_at_the_deadline() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)  # accepts connections (the kernel does) and never answers
    try:
        started = time.monotonic()
        with pytest.raises(net.NetworkError, match="deadline"):
            net.request(f"http://127.0.0.1:{listener.getsockname()[1]}/feed.xml", deadline_s=1.0)
        assert time.monotonic() - started < 3
    finally:
        listener.close()


def test_trickled_headers_do_not_outlast_the_deadline(serve) -> None:
    """A byte of header every 0.3 s would reset a per-read timeout for ever; the deadline holds."""
    def trickle(request: BaseHTTPRequestHandler) -> None:
        try:
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000:
                request.wfile.write(bytes([byte]))
                request.wfile.flush()
                time.sleep(0.3)
        except OSError:
            pass

    base = serve({"/slow": trickle})
    started = time.monotonic()
    with pytest.raises(net.NetworkError, match="deadline"):
        net.request(base + "/slow", deadline_s=1.5)
    assert time.monotonic() - started < 4


def test_a_trickled_body_does_not_outlast_the_deadline(serve) -> None:
    def trickle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Length", "100000")
        request.end_headers()
        try:
            for _ in range(1000):
                request.wfile.write(b"x")
                request.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass

    base = serve({"/slow": trickle})
    started = time.monotonic()
    with pytest.raises(net.NetworkError, match="deadline"):
        net.request(base + "/slow", max_body=1 << 20, deadline_s=1.5)
    assert time.monotonic() - started < 4


def test_a_body_over_the_cap_is_not_kept(serve) -> None:
    base = serve({"/big": body(b"x" * 5000)})
    response = net.request(base + "/big", max_body=1000)
    assert response.too_big and response.body == b""
    assert not net.request(base + "/big", max_body=5000).too_big


def test_head_reads_no_body_and_errors_are_statuses(serve) -> None:
    base = serve({"/a.mp3": body(b"x" * 10, Content_Type="audio/mpeg")})
    head = net.request(base + "/a.mp3", method="HEAD")
    assert (head.status, head.content_length, head.body) == (200, 10, b"")
    assert net.request(base + "/missing").status == 404


def test_connection_refused_is_a_clear_error() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    with pytest.raises(net.NetworkError, match="refused"):
        net.request(f"http://127.0.0.1:{port}/")


def test_errors_say_whether_the_host_itself_did_not_answer(serve) -> None:
    """``unreachable`` lets a caller with many URLs on one host stop asking it (validate does)."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        for url, deadline in ((f"http://127.0.0.1:{port}/", 5.0),
                              (f"http://127.0.0.1:{silent.getsockname()[1]}/", 0.5)):
            with pytest.raises(net.NetworkError) as refused_or_silent:
                net.request(url, deadline_s=deadline)
            assert refused_or_silent.value.unreachable, url
    finally:
        silent.close()
    base = serve({"/x": redirect("file:///etc/passwd"), "/loop": redirect("/loop")})
    for path in ("/x", "/loop"):
        with pytest.raises(net.NetworkError) as answered:
            net.request(base + path)
        assert not answered.value.unreachable, path  # the host answered; the URL is the problem


def test_stream_reads_a_long_body_in_chunks(serve) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB
    base = serve({"/master.mp3": body(data)})
    with net.stream(base + "/master.mp3") as download:
        assert download.response.status == 200
        received = b"".join(download.chunks(1 << 16))
    assert received == data


def test_stream_gives_up_when_the_body_stalls(serve) -> None:
    def stall(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Length", "1000")
        request.end_headers()
        request.wfile.write(b"x" * 10)
        request.wfile.flush()
        time.sleep(5)

    base = serve({"/stall": stall})
    with pytest.raises(net.NetworkError, match=r"deadline|cannot fetch"), \
            net.stream(base + "/stall", idle_timeout_s=0.5) as download:
        b"".join(download.chunks())


# --- POST (WebSub hubs; feedtool.notify) ------------------------------------------------------------
def echo_post(seen: list[tuple[str, str, bytes]]) -> Handler:
    """Records (method, Content-Type, body) and answers 204."""
    def handle(request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        seen.append((request.command, request.headers.get("Content-Type", ""), request.rfile.read(length)))
        request.send_response(204)
        request.send_header("Content-Length", "0")
        request.end_headers()
    return handle


def test_post_form_sends_the_form_urlencoded(serve) -> None:
    seen: list[tuple[str, str, bytes]] = []
    base = serve({"/hub": echo_post(seen)})
    response = net.post_form(base + "/hub", {"hub.mode": "publish", "hub.url": "https://e.example/feed.xml?a=1&b"})
    assert response.status == 204
    assert seen == [("POST", "application/x-www-form-urlencoded",
                     b"hub.mode=publish&hub.url=https%3A%2F%2Fe.example%2Ffeed.xml%3Fa%3D1%26b")]


@pytest.mark.parametrize("status, method, has_body", [(303, "GET", False), (302, "GET", False),
                                                       (307, "POST", True), (308, "POST", True)])
def test_a_redirected_post_follows_the_rules_of_its_status(serve, status: int, method: str, has_body: bool) -> None:
    seen: list[tuple[str, str, bytes]] = []
    base = serve({"/old": redirect("/new", status), "/new": echo_post(seen)})
    assert net.post_form(base + "/old", {"k": "v"}).status == 204
    ((seen_method, content_type, data),) = seen
    assert seen_method == method and (data == b"k=v") == has_body
    assert (content_type == "application/x-www-form-urlencoded") == has_body


def test_a_post_to_a_silent_server_fails_at_the_deadline() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    try:
        started = time.monotonic()
        with pytest.raises(net.NetworkError, match="deadline"):
            net.post_form(f"http://127.0.0.1:{listener.getsockname()[1]}/hub", {"a": "b"}, deadline_s=1.0)
        assert time.monotonic() - started < 3
    finally:
        listener.close()


def test_credentials_are_not_sent_to_another_host_on_a_redirect(serve) -> None:
    """A Podping token for one host never reaches another through a redirect."""
    seen: list[str | None] = []

    def record(request: BaseHTTPRequestHandler) -> None:
        seen.append(request.headers.get("Authorization"))
        body(b"ok")(request)

    other = serve({"/landing": record})
    base = serve({"/same": redirect("/landing-here"), "/landing-here": record,
                  "/away": redirect(other.replace("127.0.0.1", "localhost") + "/landing")})
    net.request(base + "/same", headers={"Authorization": "secret"}, max_body=10)
    net.request(base + "/away", headers={"Authorization": "secret"}, max_body=10)
    assert seen == ["secret", None]


def _cut_off(size: int, sent: int) -> Handler:
    """Promises ``size`` bytes, sends ``sent`` of them, closes the connection."""
    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Length", str(size))
        request.end_headers()
        request.wfile.write(b"x" * sent)
        request.wfile.flush()
        request.close_connection = True
    return handle


def test_a_body_cut_short_is_an_error_not_a_short_result(serve) -> None:
    """http.client ends a body quietly when the server closes early; a download must not."""
    base = serve({"/cut.mp3": _cut_off(100_000, 5_000)})
    received = []
    with pytest.raises(net.NetworkError, match="closed after 5,000 of 100,000 bytes"), \
            net.stream(base + "/cut.mp3") as download:
        for chunk in download.chunks(1 << 12):
            received.append(chunk)
    assert sum(map(len, received)) == 5_000  # what did arrive was handed over first
    with pytest.raises(net.NetworkError, match="closed after 5,000 of 100,000 bytes"):
        net.request(base + "/cut.mp3", max_body=1 << 20)

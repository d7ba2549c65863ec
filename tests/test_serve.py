"""feedtool serve: real HTTP requests against the preview server (HEAD, Range, 304, types, escapes)."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from public_tree import BASE_URL, make_tone, two_episodes, write_public

from feedtool.serve import PublicServer, parse_range


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("serve")
    tone = make_tone(root / "tone.mp3")
    keys = write_public(root / "public", tone, two_episodes())
    (root / "secret.txt").write_text("not for the web")
    return root / "public", keys


def start(root: Path, **kwargs: object) -> PublicServer:
    server = PublicServer(root, "127.0.0.1", 0, quiet=True, **kwargs)  # type: ignore[arg-type]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def server(public: tuple[Path, dict[str, str]]) -> Iterator[PublicServer]:
    running = start(public[0])
    yield running
    running.shutdown()
    running.server_close()


def request(server: PublicServer, method: str, path: str, headers: dict[str, str] | None = None
            ) -> tuple[http.client.HTTPResponse, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


def test_media_answers_a_range_with_206(server: PublicServer, public: tuple[Path, dict[str, str]]) -> None:
    root, keys = public
    media = root / keys["ep-001"]
    response, body = request(server, "GET", "/" + keys["ep-001"], {"Range": "bytes=0-99"})
    assert response.status == 206
    assert response.getheader("Content-Range") == f"bytes 0-99/{media.stat().st_size}"
    assert response.getheader("Content-Type") == "audio/mpeg"
    assert response.getheader("Accept-Ranges") == "bytes"
    assert body == media.read_bytes()[:100]


@pytest.mark.parametrize("header, first, last", [("bytes=-10", -10, None), ("bytes=100-", 100, None)])
def test_suffix_and_open_ranges(server: PublicServer, public: tuple[Path, dict[str, str]],
                                header: str, first: int, last: int | None) -> None:
    root, keys = public
    data = (root / keys["ep-002"]).read_bytes()
    response, body = request(server, "GET", "/" + keys["ep-002"], {"Range": header})
    assert response.status == 206
    assert body == data[first:last]


def test_unsatisfiable_range_is_416(server: PublicServer, public: tuple[Path, dict[str, str]]) -> None:
    root, keys = public
    size = (root / keys["ep-001"]).stat().st_size
    response, _ = request(server, "GET", "/" + keys["ep-001"], {"Range": f"bytes={size + 10}-"})
    assert response.status == 416
    assert response.getheader("Content-Range") == f"bytes */{size}"


def test_head_gives_length_and_type_without_a_body(server: PublicServer, public: tuple[Path, dict[str, str]]) -> None:
    root, keys = public
    response, body = request(server, "HEAD", "/" + keys["ep-001"])
    assert response.status == 200 and body == b""
    assert int(response.getheader("Content-Length")) == (root / keys["ep-001"]).stat().st_size


@pytest.mark.parametrize(
    "path, content_type",
    [("/ep-001/chapters.json", "application/json+chapters"), ("/ep-001/transcript.vtt", "text/vtt; charset=utf-8"),
     ("/feed.xml", "application/xml; charset=utf-8")],
)
def test_content_types_match_what_publish_sets(server: PublicServer, path: str, content_type: str) -> None:
    response, _ = request(server, "GET", path)
    assert response.status == 200
    assert response.getheader("Content-Type") == content_type
    assert response.getheader("Access-Control-Allow-Origin") == "*"


def test_etag_gives_304(server: PublicServer) -> None:
    first, _ = request(server, "GET", "/ep-001/chapters.json")
    response, body = request(server, "GET", "/ep-001/chapters.json", {"If-None-Match": first.getheader("ETag")})
    assert response.status == 304 and body == b""


@pytest.mark.parametrize("path", ["/../secret.txt", "/%2e%2e/secret.txt", "/ep-001/../../secret.txt", "/.hidden", "/nope"])
def test_nothing_outside_the_folder_is_served(server: PublicServer, path: str) -> None:
    response, body = request(server, "GET", path)
    assert response.status == 404
    assert b"not for the web" not in body


def test_feed_urls_point_at_the_server_for_a_phone(server: PublicServer, public: tuple[Path, dict[str, str]]) -> None:
    _, keys = public
    response, body = request(server, "GET", "/feed.xml")
    parsed = feedparser.parse(body)
    assert len(parsed.entries) == 2
    enclosure = parsed.entries[0].enclosures[0].href
    assert enclosure == f"http://127.0.0.1:{server.port}/{keys['ep-001']}"
    assert BASE_URL.encode() not in body
    assert int(response.getheader("Content-Length")) == len(body)
    # ... and that URL answers ranges.
    media, _ = request(server, "GET", enclosure.split(str(server.port), 1)[1], {"Range": "bytes=0-1"})
    assert media.status == 206


def test_as_published_serves_the_feed_byte_for_byte(public: tuple[Path, dict[str, str]]) -> None:
    root, _ = public
    running = start(root, as_published=True)
    try:
        _, body = request(running, "GET", "/feed.xml")
    finally:
        running.shutdown()
        running.server_close()
    assert body == (root / "feed.xml").read_bytes()


@pytest.mark.parametrize(
    "header, expected",
    [("bytes=0-0", (0, 0)), ("bytes=5-", (5, 9)), ("bytes=-3", (7, 9)), ("bytes=0-999", (0, 9)),
     ("bytes=10-", "unsatisfiable"), ("bytes=0-1,4-5", None), ("items=0-1", None)],
)
def test_parse_range(header: str, expected: object) -> None:
    assert parse_range(header, 10) == expected


def test_the_serve_command_prints_the_feed_url_and_serves_it(public: tuple[Path, dict[str, str]]) -> None:
    import re
    import subprocess
    import sys

    root, _ = public
    process = subprocess.Popen([sys.executable, "-m", "feedtool", "serve", str(root), "--port", "0", "--quiet"],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        feed_line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/feed\.xml", feed_line)
        assert match, first + feed_line
        connection = http.client.HTTPConnection("127.0.0.1", int(match.group(1)), timeout=10)
        connection.request("HEAD", "/feed.xml")
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Type").startswith("application/xml")
        connection.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


# ------------------------------------------------------------------------------- hostile requests (issue 12.11)


@pytest.fixture(scope="module")
def big_feed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PublicServer, Path]]:
    """A 200-episode public/ (the size the red team used) behind its own server."""
    from public_tree import EpisodeSpec

    root = tmp_path_factory.mktemp("big")
    tone = make_tone(root / "tone.mp3", seconds=1)
    episodes = [EpisodeSpec(f"ep-{n:03d}", f"Episode {n}", f"guid-{n:03d}") for n in range(200)]
    write_public(root / "public", tone, episodes)
    running = start(root / "public")
    yield running, root / "public"
    running.shutdown()
    running.server_close()


def raw_request(server: PublicServer, data: bytes) -> bytes:
    """Send bytes as they are; return the whole answer (the server closes or answers in time)."""
    import socket

    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(data)
        connection.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_huge_host_header_is_refused_not_multiplied(big_feed: tuple[PublicServer, Path]) -> None:
    server, _ = big_feed
    answer = raw_request(server, b"GET /feed.xml HTTP/1.1\r\nHost: " + b"a" * 65000 + b"\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 431"), answer[:100]
    assert len(answer) < 1000


@pytest.mark.parametrize("host", ["evil.example/../x", "a b", "host:99999", "x" * 300, "<script>", "[::1]x"])
def test_a_malformed_host_is_a_bad_request(big_feed: tuple[PublicServer, Path], host: str) -> None:
    server, _ = big_feed
    response, body = request(server, "GET", "/feed.xml", {"Host": host})
    assert response.status == 400
    assert len(body) < 100


def test_many_hosts_cost_bounded_memory_and_get_their_own_etag(big_feed: tuple[PublicServer, Path]) -> None:
    from feedtool.serve import REWRITE_CACHE_ENTRIES

    server, root = big_feed
    size = (root / "feed.xml").stat().st_size
    long_host = ".".join(["a" * 63] * 3) + ".example:8000"  # a valid 207-character host
    response, body = request(server, "GET", "/feed.xml", {"Host": long_host})
    assert response.status == 200
    occurrences = (root / "feed.xml").read_bytes().count(BASE_URL.encode())
    assert len(body) <= size + occurrences * len(long_host)
    etags = set()
    for number in range(20):
        response, body = request(server, "GET", "/feed.xml", {"Host": f"phone-{number}.local:8000"})
        assert response.status == 200 and f"http://phone-{number}.local:8000/".encode() in body
        etags.add(response.getheader("ETag"))
    assert len(etags) == 20  # a cache must not give one host's feed to another
    assert len(server._rewrites) <= REWRITE_CACHE_ENTRIES
    first, _ = request(server, "GET", "/feed.xml", {"Host": "a.local"})
    other, _ = request(server, "GET", "/feed.xml", {"Host": "b.local", "If-None-Match": first.getheader("ETag")})
    assert other.status == 200
    again, _ = request(server, "GET", "/feed.xml", {"Host": "a.local", "If-None-Match": first.getheader("ETag")})
    assert again.status == 304


@pytest.mark.parametrize("header, statuses", [
    ("bytes=0-" + "9" * 5000, (200, 206)),
    ("bytes=" + "9" * 5000 + "-", (200, 416)),
    ("bytes=-" + "9" * 5000, (200, 206)),
    ("bytes=" + "1" * 30 + "-" + "2" * 30, (200, 416)),
    ("bytes=99999999999999999999-", (416,)),
    ("bytes=0-99999999999999999999", (206,)),
    ("bytes=\x00", (200,)),
])
def test_absurd_ranges_are_answered_per_rfc_9110(server: PublicServer, public: tuple[Path, dict[str, str]],
                                                  header: str, statuses: tuple[int, ...]) -> None:
    root, keys = public
    response, _ = request(server, "GET", "/" + keys["ep-001"], {"Range": header})
    assert response.status in statuses
    size = (root / keys["ep-001"]).stat().st_size
    if response.status == 206:
        assert response.getheader("Content-Range") == f"bytes 0-{size - 1}/{size}"
    if response.status == 416:
        assert response.getheader("Content-Range") == f"bytes */{size}"
    ok, _ = request(server, "GET", "/feed.xml")
    assert ok.status == 200  # still serving

"""`feedtool validate` against hostile input: nothing is read but the feed, nothing waits for ever.

- Parsing opens no file and makes no connection: a DOCTYPE whose SYSTEM id is a FIFO would block
  for ever if the parser opened it, and one that names a local server would show up as a
  connection; both are tried for a feed file, a feed URL, the live feed of `--against`, and the
  live feed publish checks against.
- Every URL goes through feedtool.net: a redirect to file://, to a FIFO, a server that trickles
  its headers and one that never answers each end within a bound, with a clear finding or error.
- Input that is refused still gives `--format json` and `--format github` their structure.

Every server is a real one on 127.0.0.1. A test that would hang runs its work in a thread with a
bound; if the bound passes, the FIFO is opened for writing so the stuck reader is released.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from feedtool.cli import cli

FEEDS = Path(__file__).parent / "feeds"
GOOD = FEEDS / "good-base.xml"
PACKAGE = Path(__file__).parent.parent / "feedtool"
BOUND_S = 20.0  # far above what any of these takes; only reached if something hangs


def within(seconds: float, work: Callable[[], Any], *, fifo: Path | None = None) -> Any:
    """Run ``work`` in a thread; fail if it is not done within ``seconds`` (a hang, not a slow run)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as error:  # handed back to the test below
            box["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        if fifo is not None:  # release a reader blocked on the FIFO, so the thread can end
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
        pytest.fail(f"still running after {seconds:.0f} s: something opened what it must not, or waited for ever")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def validate(*args: str) -> Any:
    return CliRunner().invoke(cli, ["validate", *args])


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.dtd"
    os.mkfifo(path)
    return path


class Listener:
    """A TCP port that accepts connections, counts them, and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self._held.append(conn)  # keep it open and silent

    def close(self) -> None:
        self.sock.close()
        for conn in self._held:
            conn.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    silent = Listener()
    yield silent
    silent.close()


@pytest.fixture
def serve() -> Iterator[Callable[[dict[str, Callable[[BaseHTTPRequestHandler], None]]], str]]:
    """serve({"/path": handler}) -> base URL of a server that calls handler(request) per path."""
    servers: list[ThreadingHTTPServer] = []

    def start(routes: dict[str, Callable[[BaseHTTPRequestHandler], None]]) -> str:
        class Routed(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                route = routes.get(self.path.split("?")[0])
                if route is None:
                    self.send_error(404)
                    return
                route(self)

            do_HEAD = do_GET

        server = ThreadingHTTPServer(("127.0.0.1", 0), Routed)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def body(data: bytes, content_type: str = "application/rss+xml") -> Callable[[BaseHTTPRequestHandler], None]:
    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(data)
    return handle


def redirect(location: str) -> Callable[[BaseHTTPRequestHandler], None]:
    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(302)
        request.send_header("Location", location)
        request.send_header("Content-Length", "0")
        request.end_headers()
    return handle


def trickle(request: BaseHTTPRequestHandler) -> None:
    """A status line, then one header byte every 0.2 s, for ever (a per-read timeout never fires)."""
    try:
        request.wfile.write(b"HTTP/1.1 200 OK\r\n")
        while True:
            request.wfile.write(b"X")
            request.wfile.flush()
            time.sleep(0.2)
    except OSError:
        pass


def with_doctype(doctype: str, feed: bytes | None = None) -> bytes:
    data = feed if feed is not None else GOOD.read_bytes()
    declaration = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    assert data.startswith(declaration)
    return declaration + doctype.encode() + b"\n" + data[len(declaration):]


# --- C: parsing opens nothing ----------------------------------------------------------------------
@pytest.mark.parametrize("doctype", [
    '<!DOCTYPE rss SYSTEM "{fifo}">',
    '<!DOCTYPE rss SYSTEM "file://{fifo}">',
    '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "{fifo}">',
])
def test_a_doctype_naming_a_local_file_is_never_opened(tmp_path: Path, fifo: Path, doctype: str) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(with_doctype(doctype.format(fifo=fifo)))
    for fmt in ("text", "json"):
        result = within(BOUND_S, lambda fmt=fmt: validate(str(feed), "--no-check-media", "--format", fmt), fifo=fifo)
        assert result.exit_code in (0, 1), result.output
        assert "Traceback" not in result.output


def test_a_doctype_naming_a_url_makes_no_connection(tmp_path: Path, listener: Listener) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(with_doctype(f'<!DOCTYPE rss SYSTEM "http://127.0.0.1:{listener.port}/rss.dtd">'))
    result = within(BOUND_S, lambda: validate(str(feed), "--no-check-media"))
    assert result.exit_code in (0, 1) and "Traceback" not in result.output
    time.sleep(0.2)  # a connection attempt would have been accepted by now
    assert listener.accepted == 0


def test_a_feed_url_with_a_hostile_doctype_opens_nothing(serve, fifo: Path, listener: Listener) -> None:
    base = serve({
        "/file.xml": body(with_doctype(f'<!DOCTYPE rss SYSTEM "{fifo}">')),
        "/net.xml": body(with_doctype(f'<!DOCTYPE rss SYSTEM "http://127.0.0.1:{listener.port}/x.dtd">')),
    })
    for path in ("/file.xml", "/net.xml"):
        result = within(BOUND_S, lambda path=path: validate(base + path, "--format", "json"), fifo=fifo)
        assert result.exit_code in (0, 1), result.output
        assert json.loads(result.stdout)["summary"]["episodes"] == 2
    assert listener.accepted == 0


def test_the_live_feed_of_against_is_parsed_safely_too(tmp_path: Path, fifo: Path) -> None:
    live = tmp_path / "live.xml"
    live.write_bytes(with_doctype(f'<!DOCTYPE rss SYSTEM "{fifo}">'))
    result = within(BOUND_S, lambda: validate(str(GOOD), "--no-check-media", "--against", str(live)), fifo=fifo)
    assert result.exit_code in (0, 1) and "live." not in result.output  # same episodes: nothing lost


def test_publish_reads_the_live_feed_safely(tmp_path: Path, fifo: Path) -> None:
    """publish compares the new feed with the one on the target before replacing it."""
    from public_tree import make_tone, two_episodes, write_public

    write_public(tmp_path / "public", make_tone(tmp_path / "tone.mp3"), two_episodes())
    site = tmp_path / "site"
    site.mkdir()
    new = (tmp_path / "public" / "feed.xml").read_bytes()
    (site / "feed.xml").write_bytes(with_doctype(f'<!DOCTYPE rss SYSTEM "{fifo}">', new))
    result = within(BOUND_S, lambda: CliRunner().invoke(cli, [
        "publish", "--episodes", str(tmp_path / "episodes"), "--out", str(tmp_path / "public"),
        "--to", str(site), "--no-validate"]), fifo=fifo)
    assert result.exit_code == 0, result.output
    assert (site / "feed.xml").read_bytes() == new


def test_only_the_safe_parser_parses_xml_in_feedtool() -> None:
    """Every place feedtool parses XML goes through feedtool.validation.xmlsafe.parse."""
    parsing = re.compile(r"\betree\.(fromstring|parse|XML|iterparse|XMLParser|XMLPullParser|XMLID|HTML)\("
                         r"|^\s*(from|import)\s+(xml\b|defusedxml|feedparser|podcastparser|lxml\.(?!etree\b))"
                         r"|^\s*from lxml import (?!etree\b)")
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "xmlsafe.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if parsing.search(line) and not line.lstrip().startswith("#"):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}")
    assert offenders == []


# --- B: every URL through feedtool.net -----------------------------------------------------------
def media_feed(tmp_path: Path, urls: list[str]) -> Path:
    """A feed whose self link is elsewhere, with one episode per enclosure URL (checked over HTTP)."""
    items = "".join(f"""
    <item>
      <title>Episode {n}</title>
      <description>Notes.</description>
      <guid isPermaLink="false">0b7f9a52-5d1e-4f0c-8a4b-3c2d1e0f{n:04d}</guid>
      <enclosure url="{url}" length="1000" type="audio/mpeg"/>
      <pubDate>Mon, 29 Jan 2024 10:00:00 GMT</pubDate>
      <itunes:duration>5</itunes:duration>
    </item>""" for n, url in enumerate(urls, 1))
    text = GOOD.read_text()
    head, _, _ = text.partition("    <item>")
    feed = tmp_path / "feed.xml"
    feed.write_text(head.replace('<itunes:image href="https://podcast.feedtool-corpus.net/show/cover.jpg"/>', "")
                    + items + "\n  </channel>\n</rss>\n")
    return feed


def http_findings(result: Any) -> list[dict[str, Any]]:
    data = json.loads(result.stdout)
    return [f for f in data["findings"] if f["rule"].startswith("media.")]


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/episode.mp3", "data:audio/mpeg,ID3"])
def test_a_media_redirect_to_anything_but_http_is_not_followed(tmp_path: Path, serve, target: str) -> None:
    base = serve({"/episode.mp3": redirect(target)})
    feed = media_feed(tmp_path, [base + "/episode.mp3"])
    result = within(BOUND_S, lambda: validate(str(feed), "--check-media", "--timeout", "2", "--format", "json"))
    assert result.exit_code == 1
    (finding,) = http_findings(result)
    assert finding["rule"] == "media.http.status"
    assert "only http:// and https://" in finding["message"] and target.split(":")[0] in finding["message"]
    assert "root:" not in result.output


def test_a_media_redirect_to_a_fifo_does_not_hang(tmp_path: Path, serve, fifo: Path) -> None:
    base = serve({"/episode.mp3": redirect(f"file://{fifo}")})
    feed = media_feed(tmp_path, [base + "/episode.mp3"])
    result = within(BOUND_S, lambda: validate(str(feed), "--check-media", "--timeout", "2", "--format", "json"),
                    fifo=fifo)
    (finding,) = http_findings(result)
    assert finding["rule"] == "media.http.status" and "only http:// and https://" in finding["message"]


def test_trickled_headers_end_at_the_timeout(tmp_path: Path, serve) -> None:
    base = serve({"/episode.mp3": trickle})
    feed = media_feed(tmp_path, [base + "/episode.mp3"])
    result = within(BOUND_S, lambda: validate(str(feed), "--check-media", "--timeout", "1", "--format", "json"))
    assert result.exit_code == 1
    (finding,) = http_findings(result)
    assert finding["rule"] == "media.http.status" and "deadline" in finding["message"]


def test_a_silent_host_fails_at_the_timeout_and_is_asked_once(tmp_path: Path, listener: Listener) -> None:
    urls = [f"http://127.0.0.1:{listener.port}/episode-{n}.mp3" for n in range(1, 4)]
    feed = media_feed(tmp_path, urls)
    result = within(BOUND_S, lambda: validate(str(feed), "--check-media", "--timeout", "1", "--format", "json"))
    assert result.exit_code == 1
    findings = http_findings(result)
    assert [f["rule"] for f in findings] == ["media.http.status"] * 3
    messages = sorted(f["message"] for f in findings)
    assert sum("deadline" in m for m in messages) == 1
    assert sum("did not answer an earlier request" in m for m in messages) == 2
    assert listener.accepted == 1


def test_a_feed_url_that_redirects_to_a_file_is_refused(serve) -> None:
    base = serve({"/feed.xml": redirect("file:///etc/passwd")})
    result = within(BOUND_S, lambda: validate(base + "/feed.xml"))
    assert result.exit_code == 2
    assert "only http:// and https://" in result.stderr and "root:" not in result.output


def test_a_silent_feed_url_fails_at_the_timeout(listener: Listener) -> None:
    result = within(BOUND_S, lambda: validate(f"http://127.0.0.1:{listener.port}/feed.xml", "--timeout", "1"))
    assert result.exit_code == 2 and "deadline" in result.stderr


def test_a_fifo_given_as_the_feed_is_refused(tmp_path: Path, fifo: Path) -> None:
    result = within(BOUND_S, lambda: validate(str(fifo)), fifo=fifo)
    assert result.exit_code == 2 and "not a regular file" in result.stderr


# --- A.4: a refusal keeps the output's structure ---------------------------------------------------
def refused_inputs(tmp_path: Path) -> dict[str, list[str]]:
    laughs = tmp_path / "entities.xml"
    laughs.write_text('<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "aaaa">]>\n<rss version="2.0"/>\n')
    big = tmp_path / "big.xml"
    with big.open("wb") as handle:
        handle.write(b"<rss>")
        handle.truncate(3 * 1024 * 1024)
    return {
        "entities": [str(laughs)],
        "too large": [str(big), "--max-size", "1"],
        "missing": [str(tmp_path / "nothing.xml")],
        "unreachable": ["http://127.0.0.1:9/feed.xml"],
    }


def test_refused_input_still_prints_json_with_the_refusal_as_its_finding(tmp_path: Path) -> None:
    for why, args in refused_inputs(tmp_path).items():
        result = validate(*args, "--format", "json")
        assert result.exit_code == 2, why
        data = json.loads(result.stdout)
        assert list(data) == ["feed", "summary", "findings"], why
        assert data["summary"]["errors"] == 1 and data["summary"]["episodes"] == 0, why
        (finding,) = data["findings"]
        assert finding["rule"] == "feed.unreadable" and finding["severity"] == "error", why
        assert finding["message"] and finding["fix"], why
        assert "Error:" in result.stderr, why  # people still read the reason on stderr


def test_refused_input_still_prints_a_github_annotation(tmp_path: Path) -> None:
    for why, args in refused_inputs(tmp_path).items():
        result = validate(*args, "--format", "github")
        assert result.exit_code == 2, why
        lines = result.stdout.splitlines()
        assert lines[0].startswith("::error file=") and "title=feed.unreadable::" in lines[0], why
        assert lines[-1] == "1 error(s), 0 warning(s), 0 note(s) in 0 episodes", why
    entities = validate(*refused_inputs(tmp_path)["entities"], "--format", "github")
    assert ",line=2," in entities.stdout and "entities" in entities.stdout

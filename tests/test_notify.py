"""feedtool publish --notify: Podping, WebSub and the Podcast Index's pubnotify, each a real HTTP server on
127.0.0.1 (healthy, failing, slow); a failed notification never fails the publish, is reported in every
format, and is sent again by the next publish; the token is never printed or stored."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from conftest import PodcastFactory

from feedtool.cli import cli

TOKEN = "pp-secret-0123456789"
BASE_URL = "https://cdn.feedtool-corpus.net/show/"  # a real-looking address: example.com is never announced
FEED_URL = BASE_URL + "feed.xml"


@dataclass
class Services:
    """Stand-ins for podping.cloud, a WebSub hub and api.podcastindex.org, with switches."""

    base: str = ""
    seen: list[tuple[str, str, dict[str, list[str]], str]] = field(default_factory=list)  # path, method, form, auth
    status: dict[str, int] = field(default_factory=dict)  # path -> status to answer
    delay: dict[str, float] = field(default_factory=dict)  # path -> seconds before answering
    body: dict[str, bytes] = field(default_factory=dict)
    on_request: Callable[[], None] | None = None  # runs as each request arrives (sees the target mid-publish)

    def calls(self, path: str) -> list[tuple[str, str, dict[str, list[str]], str]]:
        return [call for call in self.seen if call[0] == path]


@pytest.fixture
def services() -> Iterator[Services]:
    state = Services()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            form = parse_qs(parts.query)
            if self.command == "POST":
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
            state.seen.append((parts.path, self.command, form, self.headers.get("Authorization", "")))
            if state.on_request is not None:
                state.on_request()
            time.sleep(state.delay.get(parts.path, 0))
            body = state.body.get(parts.path, b'{"status": "true"}')
            try:
                self.send_response(state.status.get(parts.path, 200))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up (the slow case)

        do_POST = do_GET

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def configure(podcast: PodcastFactory, services: Services, **only: bool) -> None:
    parts = {
        "podping": f"podping: {{url: '{services.base}/podping'}}",
        "websub": f"websub: {{hub: '{services.base}/hub'}}",
        "podcastindex": f"podcastindex: {{url: '{services.base}/pubnotify'}}",
    }
    chosen = [text for name, text in parts.items() if only.get(name, not only)]
    podcast.set_show(notify="{" + ", ".join([*chosen, "timeout: 1"]) + "}", base_url=BASE_URL)


def publish(podcast: PodcastFactory, *args: str, token: str | None = TOKEN) -> object:
    env = {"FEEDTOOL_PODPING_TOKEN": token} if token is not None else {"FEEDTOOL_PODPING_TOKEN": ""}
    return CliRunner().invoke(cli, ["publish", "--episodes", str(podcast.episodes), "--out", str(podcast.public),
                                    "--to", str(podcast.root / "site"), *args], env=env, catch_exceptions=False)


def pending(podcast: PodcastFactory) -> list[dict[str, object]]:
    path = podcast.root / "site/.feedtool/notify.json"
    return json.loads(path.read_text())["pending"] if path.is_file() else []


def test_each_service_is_told_once_when_the_feed_changed(podcast: PodcastFactory, services: Services) -> None:
    configure(podcast, services)
    result = publish(podcast)
    assert result.exit_code == 0, result.output
    ((_, method, form, auth),) = services.calls("/podping")
    assert method == "GET" and auth == TOKEN
    assert form == {"url": [FEED_URL], "reason": ["update"], "medium": ["podcast"]}
    ((_, method, form, _),) = services.calls("/hub")
    assert method == "POST" and form == {"hub.mode": ["publish"], "hub.url": [FEED_URL]}
    ((_, method, form, _),) = services.calls("/pubnotify")
    assert method == "GET" and form == {"url": [FEED_URL]}
    assert result.output.count("notified ") == 3 and "NOT notified" not in result.output
    assert TOKEN not in result.output
    feed = (podcast.root / "site/feed.xml").read_text()
    assert '<podcast:podping usesPodping="true"/>' in feed
    assert f'<atom:link rel="hub" href="{services.base}/hub"/>' in feed

    services.seen.clear()
    again = publish(podcast)  # nothing changed: nobody is told
    assert again.exit_code == 0 and services.seen == [] and "notified" not in again.output


def test_a_new_episode_notifies_again_with_the_feeds_medium(podcast: PodcastFactory, services: Services) -> None:
    configure(podcast, services, podping=True)
    assert publish(podcast).exit_code == 0
    services.seen.clear()
    podcast.set_show(medium="music")
    podcast.add("third", number=3)
    assert publish(podcast).exit_code == 0
    ((_, _, form, _),) = services.calls("/podping")
    assert form["medium"] == ["music"] and services.calls("/hub") == []


def test_failures_and_slow_answers_never_fail_the_publish_and_are_retried(podcast: PodcastFactory,
                                                                         services: Services) -> None:
    configure(podcast, services)
    services.status["/hub"] = 500
    services.delay["/pubnotify"] = 3  # past the 1 s timeout
    started = time.monotonic()
    result = publish(podcast, "--format", "json")
    assert time.monotonic() - started < 20
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # warnings (if any) go to stderr
    assert (podcast.root / "site/feed.xml").is_file() and report["uploaded"]
    outcome = {n["service"]: n["ok"] for n in report["notifications"]["sent"]}
    assert outcome == {"podping": True, "websub": False, "podcastindex": False}
    details = {n["service"]: n["detail"] for n in report["notifications"]["sent"]}
    assert "500" in details["websub"] and "deadline" in details["podcastindex"]
    recorded = pending(podcast)
    assert sorted(p["service"] for p in recorded) == ["podcastindex", "websub"]
    assert all(p["feed_url"] == FEED_URL and p["attempts"] == 1 for p in recorded)
    assert TOKEN not in (podcast.root / "site/.feedtool/notify.json").read_text()

    # the next publish, with nothing new to upload, sends the pending ones again
    services.seen.clear()
    services.status.clear()
    services.delay.clear()
    result = publish(podcast)
    assert result.exit_code == 0, result.output
    assert "Nothing to do" in result.output and "sent again" in result.output
    assert len(services.calls("/hub")) == 1 and len(services.calls("/pubnotify")) == 1
    assert services.calls("/podping") == []  # it worked the first time
    assert pending(podcast) == []


def test_github_format_annotates_failed_notifications(podcast: PodcastFactory, services: Services) -> None:
    configure(podcast, services, websub=True)
    services.status["/hub"] = 503
    result = publish(podcast, "--format", "github")
    assert result.exit_code == 0
    (line,) = [line for line in result.output.splitlines() if line.startswith("::")]
    assert line.startswith("::warning title=notify websub::") and "HTTP 503" in line and "retried" in line


def test_a_missing_or_refused_token_is_reported_not_printed(podcast: PodcastFactory, services: Services) -> None:
    configure(podcast, services, podping=True)
    result = publish(podcast, token=None)
    assert result.exit_code == 0
    assert "NOT notified podping" in result.output and "FEEDTOOL_PODPING_TOKEN is not set" in result.output
    assert services.calls("/podping") == [] and [p["service"] for p in pending(podcast)] == ["podping"]
    services.status["/podping"] = 401
    result = publish(podcast)
    assert "refused the token" in result.output and TOKEN not in result.output
    assert TOKEN not in (podcast.root / "site/.feedtool/notify.json").read_text()


def test_the_podcast_index_saying_no_is_a_failure(podcast: PodcastFactory, services: Services) -> None:
    configure(podcast, services, podcastindex=True)
    services.body["/pubnotify"] = b'{"status": "false", "description": "Feed not found"}'
    result = publish(podcast)
    assert result.exit_code == 0 and "NOT notified podcastindex" in result.output
    assert [p["service"] for p in pending(podcast)] == ["podcastindex"]


def test_no_notify_sends_nothing_though_the_feed_says_it_pings(podcast: PodcastFactory,
                                                                          services: Services) -> None:
    configure(podcast, services)
    assert publish(podcast, "--no-notify").exit_code == 0
    assert services.seen == [] and pending(podcast) == []
    assert "podcast:podping" in (podcast.root / "site/feed.xml").read_text()


def test_an_unreachable_service_costs_one_timeout(podcast: PodcastFactory, services: Services) -> None:
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there: connection refused
    podcast.set_show(notify=f"{{websub: {{hub: 'http://127.0.0.1:{port}/hub'}}, timeout: 1}}", base_url=BASE_URL)
    result = publish(podcast)
    assert result.exit_code == 0 and "refused" in result.output


def test_a_feed_at_a_placeholder_address_is_never_announced(podcast: PodcastFactory, services: Services) -> None:
    """feedtool init's example.com address (ready.base-url) reaches no app: no service hears of it."""
    configure(podcast, services)
    podcast.set_show(base_url="https://podcast.example.com/")
    result = publish(podcast, "--format", "json")
    assert result.exit_code == 0, result.output
    assert services.seen == [] and pending(podcast) == []
    (notice,) = json.loads(result.stdout)["notifications"]["sent"]
    assert notice["service"] == "all" and not notice["ok"] and "placeholder" in notice["detail"]
    assert notice["feed_url"] == "https://podcast.example.com/feed.xml" and "ready.base-url" in notice["detail"]


def test_notify_state_survives_an_unreadable_file(tmp_path: Path) -> None:
    from feedtool.notify import read_state, state_bytes

    assert read_state(b"not json") == [] and read_state(None) == []
    entry = {"service": "websub", "feed_url": FEED_URL, "endpoint": "https://hub.example/"}
    assert read_state(state_bytes([entry, {"service": "nope", "feed_url": "x"}])) == [entry]


def test_the_workflow_init_writes_hands_the_podping_token_to_publish_only() -> None:
    """Most shows publish from the workflow `feedtool init` writes: the token reaches the Publish step there."""
    import yaml

    from feedtool.scaffold import workflow_text

    steps = [step for job in yaml.safe_load(workflow_text())["jobs"].values() for step in job["steps"]]
    holders = [step.get("name") for step in steps if "FEEDTOOL_PODPING_TOKEN" in json.dumps(step)]
    assert holders == ["Publish"]
    publish_step = next(step for step in steps if step.get("name") == "Publish")
    assert publish_step["env"]["FEEDTOOL_PODPING_TOKEN"] == "${{ secrets.FEEDTOOL_PODPING_TOKEN }}"


def test_apps_are_told_while_the_publish_holds_the_targets_lease(podcast: PodcastFactory,
                                                                 services: Services) -> None:
    """The pending list is target state: it is written under the lease, like the manifest."""
    configure(podcast, services, websub=True)
    lease = podcast.root / "site/.feedtool/lease.json"
    held: list[bool] = []
    services.on_request = lambda: held.append(lease.is_file())
    services.status["/hub"] = 500
    result = publish(podcast)
    assert result.exit_code == 0, result.output
    assert held == [True]  # the feed was up, and the lease still ours
    assert not lease.exists() and [p["service"] for p in pending(podcast)] == ["websub"]


def test_a_publish_that_lost_its_lease_does_not_write_the_pending_list(podcast: PodcastFactory,
                                                                       services: Services) -> None:
    """Another publish took the target while the notifications were out: the list is that one's to write."""
    configure(podcast, services, websub=True)
    lease = podcast.root / "site/.feedtool/lease.json"
    services.status["/hub"] = 500

    def take_over() -> None:
        body = json.loads(lease.read_text())
        lease.write_text(json.dumps({**body, "token": "another-publish", "host": "elsewhere"}))

    services.on_request = take_over
    result = publish(podcast)
    assert result.exit_code == 0, result.output  # the feed is up: the publish itself succeeded
    assert "NOT notified websub" in result.output
    assert "could not record the pending notifications" in result.output and "lost its lease" in result.output
    assert not (podcast.root / "site/.feedtool/notify.json").exists()

"""Tell apps that the feed changed, right after `feedtool publish` uploaded it.

Three services, each optional (``notify:`` in podcast.yaml, or ``publish --notify``):

- **Podping** through podping.cloud: ``GET <url>?url=<feed>&reason=update&medium=<the feed's
  podcast:medium>`` with ``Authorization: <token>``; the token comes from FEEDTOOL_PODPING_TOKEN
  (the Podcast Index issues it) and is never printed or written anywhere. The feed carries
  ``<podcast:podping usesPodping="true"/>`` when podping is on, so aggregators stop polling it.
- **WebSub**: ``POST hub.mode=publish&hub.url=<feed>`` to the hub the feed names in
  ``atom:link rel="hub"`` (Pocket Casts and Taddy subscribe there).
- **The Podcast Index's pubnotify**: ``GET <url>?url=<feed>``, no key needed.

Notifications go out only for a feed whose bytes changed in this publish, and never for a feed at
a placeholder address (``feedtool init``'s example.com and the other reserved names of the
``ready.base-url`` rule): telling the whole Podping network about it would only make noise. A
notification that fails (the service is down, slow, or refuses) never fails the publish, which
has succeeded by then: it is reported and kept as *pending* in the target's own state,
``.feedtool/notify.json`` (next to the manifest, never served as part of the show), and sent
again by the next publish, whatever machine it runs on. That is why the state lives on the target
and not in the local cache: most shows publish from CI, whose machines start empty each time.
Every request goes through feedtool.net (http and https only, one deadline each).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from feedtool.model import NotifySettings
from feedtool.storage.base import META_DIR

#: the pending list, in the target's own state folder (feedtool.publish.notifications writes it)
STATE_KEY = f"{META_DIR}/notify.json"
TOKEN_ENV = "FEEDTOOL_PODPING_TOKEN"
SERVICES = ("podping", "websub", "podcastindex")
#: what podcast:medium values podping.cloud takes (others are sent as podcast)
PODPING_MEDIUMS = ("podcast", "music", "video", "film", "audiobook", "newsletter", "blog")


@dataclass(frozen=True)
class FeedFacts:
    """What a notification needs from the feed itself."""

    url: str | None  # atom:link rel=self
    medium: str
    hubs: tuple[str, ...]


@dataclass
class Notification:
    """One notification sent (or tried) in this run."""

    service: str
    feed_url: str
    ok: bool
    detail: str  # what happened, for people; never the token
    retry: bool = False  # it had been pending since an earlier publish


@dataclass
class NotifyReport:
    sent: list[Notification] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)  # still to send, as recorded on the target
    state_error: str | None = None  # the pending list could not be written to the target

    @property
    def failed(self) -> list[Notification]:
        return [n for n in self.sent if not n.ok]

    def as_json(self) -> dict[str, Any]:
        return {"sent": [asdict(n) for n in self.sent], "pending": self.pending, "state_error": self.state_error}

    def lines(self) -> list[str]:
        out = []
        for n in self.sent:
            again = " (sent again: it failed last time)" if n.retry else ""
            mark = "notified" if n.ok else "NOT notified"
            out.append(f"{mark} {n.service} for {n.feed_url}{again}: {n.detail}")
        if self.pending:
            out.append(f"{len(self.pending)} notification(s) pending; the next `feedtool publish` sends them again "
                       "(the publish itself succeeded)")
        if self.state_error:
            out.append(f"could not record the pending notifications on the target: {self.state_error}")
        return out

    def github(self) -> list[str]:
        """GitHub Actions annotations: a warning per failed notification."""
        out = []
        for n in self.failed:
            text = f"{n.service} was not notified for {n.feed_url}: {n.detail}; it is retried on the next publish"
            out.append(f"::warning title=notify {n.service}::{_gh(text)}")
        if self.state_error:
            out.append(f"::warning title=notify::{_gh('pending notifications not recorded: ' + self.state_error)}")
        return out


def _gh(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def feed_facts(data: bytes, name: str) -> FeedFacts:
    """The feed's own URL, medium and hubs, from its channel (read with feedtool's safe parser)."""
    from feedtool.validation.document import ATOM, PODCAST
    from feedtool.validation.xmlsafe import parse

    root = parse(data, name)
    channel = root.find("channel")
    if channel is None:
        return FeedFacts(url=None, medium="podcast", hubs=())
    url = None
    hubs = []
    for link in channel.iterfind("{" + ATOM + "}link"):
        rel, href = link.get("rel"), (link.get("href") or "").strip()
        if rel == "self" and href and url is None:
            url = href
        elif rel == "hub" and href:
            hubs.append(href)
    # parse() reads the namespace's old GitHub URI as the namespace itself
    medium = (channel.findtext("{" + PODCAST + "}medium") or "podcast").strip()
    return FeedFacts(url=url, medium=medium, hubs=tuple(hubs))


def _pending_key(entry: Mapping[str, Any]) -> tuple[str, str, str]:
    """One notification per service and feed (and hub: a feed may name several)."""
    hub = str(entry.get("endpoint", "")) if entry.get("service") == "websub" else ""
    return str(entry.get("service")), str(entry.get("feed_url")), hub


def read_state(data: bytes | None) -> list[dict[str, Any]]:
    """The pending list from .feedtool/notify.json (an unreadable file counts as empty)."""
    if not data:
        return []
    try:
        state = json.loads(data)
    except ValueError:
        return []
    pending = state.get("pending") if isinstance(state, dict) else None
    if not isinstance(pending, list):
        return []
    return [dict(p) for p in pending if isinstance(p, dict) and p.get("service") in SERVICES
            and isinstance(p.get("feed_url"), str)]


def state_bytes(pending: list[dict[str, Any]]) -> bytes:
    return (json.dumps({"version": 1, "pending": pending}, indent=2, sort_keys=True) + "\n").encode()


def enabled(settings: NotifySettings, service: str) -> bool:
    return {"podping": settings.podping, "websub": settings.websub_hub is not None,
            "podcastindex": settings.podcastindex}.get(service, False)


def jobs_for(settings: NotifySettings, feeds: list[FeedFacts]) -> list[dict[str, Any]]:
    """One job per service and changed feed: {service, feed_url, endpoint, medium}."""
    jobs = []
    for facts in feeds:
        if not facts.url:
            continue
        if settings.podping:
            jobs.append({"service": "podping", "feed_url": facts.url, "endpoint": settings.podping_url,
                         "medium": facts.medium})
        if settings.websub_hub:  # the hubs the feed names (subscribers listen there), else the configured one
            for hub in facts.hubs or (settings.websub_hub,):
                jobs.append({"service": "websub", "feed_url": facts.url, "endpoint": hub})
        if settings.podcastindex:
            jobs.append({"service": "podcastindex", "feed_url": facts.url, "endpoint": settings.podcastindex_url})
    return jobs


def send(job: Mapping[str, Any], *, timeout_s: float, env: Mapping[str, str]) -> tuple[bool, str]:
    """Send one notification: (it worked, what happened)."""
    from urllib.parse import urlencode

    from feedtool.net import NetworkError, post_form, request

    service, feed_url, endpoint = job["service"], job["feed_url"], job["endpoint"]
    try:
        if service == "podping":
            token = env.get(TOKEN_ENV, "").strip()
            if not token:
                return False, f"{TOKEN_ENV} is not set (podping.cloud needs the token the Podcast Index issued)"
            medium = job.get("medium") if job.get("medium") in PODPING_MEDIUMS else "podcast"
            query = urlencode({"url": feed_url, "reason": "update", "medium": medium})
            response = request(_with_query(endpoint, query), headers={"Authorization": token}, max_body=4096,
                               deadline_s=timeout_s)
            if response.status == 401:
                return False, f"podping.cloud refused the token (HTTP 401): check {TOKEN_ENV}"
        elif service == "websub":
            response = post_form(endpoint, {"hub.mode": "publish", "hub.url": feed_url}, max_body=4096,
                                 deadline_s=timeout_s)
        else:
            response = request(_with_query(endpoint, urlencode({"url": feed_url})), max_body=4096,
                               deadline_s=timeout_s)
            if response.status == 200 and _index_says_no(response.body):
                return False, "the Podcast Index answered status false (is the feed listed there yet?)"
    except NetworkError as error:
        return False, error.reason
    if 200 <= response.status < 300:
        return True, f"HTTP {response.status}"
    return False, f"{_host(endpoint)} answered HTTP {response.status}"


def _with_query(url: str, query: str) -> str:
    return url + ("&" if "?" in url else "?") + query


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url


def _index_says_no(body: bytes) -> bool:
    try:
        answer = json.loads(body)
    except ValueError:
        return False
    return isinstance(answer, dict) and str(answer.get("status", "")).lower() == "false"


def notify_after_publish(settings: NotifySettings, changed_feeds: list[tuple[str, bytes]], *,
                         get_state: Callable[[], bytes | None], put_state: Callable[[bytes], None],
                         env: Mapping[str, str] | None = None,
                         now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> NotifyReport:
    """Send the notifications for the feeds this publish changed, and those still pending; record the rest.

    ``changed_feeds`` are (key, bytes) of the feeds uploaded with new bytes. Nothing here raises for
    a service's failure: the publish has already succeeded.
    """
    from feedtool.validation.readiness import placeholder_url

    env = os.environ if env is None else env
    report = NotifyReport()
    try:
        pending = read_state(get_state())
    except Exception as error:  # noqa: BLE001 - a state that cannot be read must not fail a finished publish
        pending = []
        report.state_error = f"the pending list could not be read ({type(error).__name__})"
    facts = []
    for feed_key, data in changed_feeds:
        try:
            found = feed_facts(data, feed_key)
        except Exception as error:  # noqa: BLE001 - FeedReadError or a broken feed: report, do not raise
            report.sent.append(Notification("all", feed_key, False,
                                            f"the feed cannot be read ({type(error).__name__})"))
            continue
        if found.url is None:
            report.sent.append(Notification("all", feed_key, False, "the feed has no atom:link rel=\"self\", so its "
                                            "URL is unknown and no service could be told"))
        elif (host := placeholder_url(found.url)) is not None:  # feedtool init's address: not ready (ready.base-url)
            report.sent.append(Notification("all", found.url, False, f"not announced: {host} is a placeholder "
                                            "address no app can reach; set base_url in podcast.yaml to the real "
                                            "one (ready.base-url)"))
            continue
        facts.append(found)
    fresh = jobs_for(settings, facts)
    current = {"podping": settings.podping_url, "podcastindex": settings.podcastindex_url}
    jobs: dict[tuple[str, str, str], dict[str, Any]] = {}
    for entry in pending:  # what failed before, for services still switched on (at today's address)
        if enabled(settings, entry["service"]):
            entry = {**entry, "endpoint": current.get(entry["service"], entry.get("endpoint", ""))}
            jobs[_pending_key(entry)] = entry
    retried = set(jobs)
    for job in fresh:
        key = _pending_key(job)
        jobs[key] = {**jobs.get(key, {}), **job}
    still: list[dict[str, Any]] = []
    for key, job in jobs.items():
        ok, detail = send(job, timeout_s=settings.timeout_s, env=env)
        report.sent.append(Notification(job["service"], job["feed_url"], ok, detail, retry=key in retried))
        if not ok:
            still.append({**job, "since": job.get("since") or now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                          "attempts": int(job.get("attempts", 0)) + 1, "last_error": detail})
    if still != pending:
        try:
            put_state(state_bytes(still))
        except Exception as error:  # noqa: BLE001 - see above
            report.state_error = getattr(error, "message", None) or type(error).__name__
    report.pending = still
    return report

"""Media checks: the files the feed points to exist, have the declared size and type, and are served right.

A URL under the feed's base URL maps to a file next to the feed (a local build, laid out as
served); other URLs are checked over HTTP when asked (--check-media): HEAD answers, a Range request
gets 206 with the right bytes, Content-Type matches, redirects are few. Artwork is read with
Pillow, audio with feedtool.audio (mutagen), chapters files as JSON; chapters must agree across the
JSON file, the description's timestamps and the audio's own tags.

Every request goes through feedtool.net (http and https only, also on redirects; at most a few
hops; one deadline per request over connect, headers and body; capped bodies), so a hostile URL
can neither point the check at a local file nor keep it waiting. A host that did not answer once
is not asked again in the same run. HTTP work runs in a small thread pool; findings are collected
per episode and replayed in feed order, so output stays deterministic.
"""

from __future__ import annotations

import functools
import html
import io
import json
import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from feedtool.validation.chapters_json import check_chapters_json, compare_chapter_lists
from feedtool.validation.document import CONTENT, PODCAST, Context, Node, it
from feedtool.validation.rules_apple import duration_seconds

MAX_REDIRECTS_OK = 2
ARTWORK_MAX_BYTES = 30 * 1024 * 1024
SIDE_FILE_MAX_BYTES = 5 * 1024 * 1024
HTTP_WORKERS = 8
DURATION_TOLERANCE_S = 2.0
#: types that name the same thing (what servers say vs what the feed says)
_SAME_TYPE = {"audio/x-m4a": {"audio/mp4", "audio/m4a", "audio/x-m4a"}, "audio/mp4": {"audio/mp4", "audio/x-m4a"},
              "video/x-m4v": {"video/x-m4v", "video/mp4"}, "image/jpeg": {"image/jpeg", "image/jpg"}}
#: feedtool.audio kinds -> the enclosure types that may hold them
_KIND_TYPES = {"mp3": {"audio/mpeg"}, "m4a": {"audio/x-m4a", "audio/mp4", "video/mp4"},
               "mp4": {"video/mp4", "audio/mp4", "video/x-m4v"}}


#: a Collector call that counts something for one feed-level finding instead of emitting one per file
TALLY = "<tally>"


class Collector:
    """Findings of one episode's checks, kept until they can be replayed in feed order."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def emit(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append((args, kwargs))


Emit = Callable[..., None]


@dataclass
class Fetched:
    """What the server said for one URL."""

    url: str
    status: int | None = None
    final_url: str = ""
    redirects: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    too_big: bool = False  # the body was over max_body (and was not kept)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 or self.status == 206

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


class HostGate:
    """Which hosts answered, and which did not, in this run.

    The first request to a host runs alone (the others to that host wait for it); once the host
    has answered, requests to it run in parallel, and once it has failed to answer (refused, no
    name, nothing before the deadline), no further request is sent: a feed with 300 episodes on a
    dead host costs one timeout, not 300.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self.answered: set[str] = set()
        self.dead: set[str] = set()

    def lock(self, host: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(host, threading.Lock())


def http(ctx: Context, url: str, *, method: str = "GET", headers: dict[str, str] | None = None,
         max_body: int = 0) -> Fetched:
    """One request through feedtool.net within the run's timeout; transport problems become ``error``."""
    options = ctx.options
    gate = options.hosts if isinstance(options.hosts, HostGate) else HostGate()
    options.hosts = gate
    host = urlsplit(url).hostname or ""
    if host in gate.answered:
        return _request(gate, options.timeout_s, url, host, method, headers, max_body)
    with gate.lock(host):
        if host in gate.dead:
            return Fetched(url=url, error=f"not tried: {host} did not answer an earlier request")
        if host not in gate.answered:
            return _request(gate, options.timeout_s, url, host, method, headers, max_body)
    return _request(gate, options.timeout_s, url, host, method, headers, max_body)


def _request(gate: HostGate, timeout_s: float, url: str, host: str, method: str, headers: dict[str, str] | None,
             max_body: int) -> Fetched:
    from feedtool.net import NetworkError, request

    try:
        response = request(url, method=method, headers=headers, max_body=max_body, deadline_s=timeout_s)
    except NetworkError as error:
        if error.unreachable and host:
            gate.dead.add(host)
        where = f" (at {error.url})" if error.url != url else ""
        return Fetched(url=url, error=error.reason + where)
    gate.answered.add(host)
    return Fetched(url=url, status=response.status, final_url=response.final_url, redirects=response.redirects,
                   headers=response.headers, body=response.body, too_big=response.too_big)


# --- which file a URL is -----------------------------------------------------------------------
def local_path(url: str, ctx: Context) -> Path | None:
    """The file under base_dir that ``url`` is served from, or None when it is not under the base URL."""
    options = ctx.options
    if not (options.local_media and options.base_url and options.base_dir):
        return None
    if not url.startswith(options.base_url):  # an enclosure behind an analytics prefix (OP3, Podtrac ...)
        from feedtool.validation.rules_p20 import unprefixed

        url = unprefixed(url, options.base_url) or ""
        if not url:
            return None
    base = str(options.base_dir.absolute())
    rel = unquote(urlsplit(url[len(options.base_url):]).path)
    path = os.path.normpath(os.path.join(base, rel))
    if path != base and not path.startswith(base.rstrip(os.sep) + os.sep):
        return None  # "../" out of the folder: never read outside it
    return Path(path)


# --- the driver --------------------------------------------------------------------------------
def check_media(ctx: Context) -> None:
    """Run the media checks for the channel and every episode; emit findings in feed order."""
    if not isinstance(ctx.options.hosts, HostGate):
        ctx.options.hosts = HostGate()  # before the worker threads start: they share it
    jobs: list[Callable[[Emit], int]] = []
    channel = ctx.channel
    if channel is not None:
        image = channel.first(it("image"))
        href = (image.get("href") or "").strip() if image is not None else ""
        if href:
            jobs.append(functools.partial(_check_channel_artwork, ctx, href, image))
    for item in ctx.items:
        jobs.append(functools.partial(_check_item_job, ctx, item))
    collectors = [Collector() for _ in jobs]
    skipped = 0
    if ctx.options.http_media and len(jobs) > 1:
        with ThreadPoolExecutor(max_workers=HTTP_WORKERS) as pool:
            for count in pool.map(lambda pair: pair[0](pair[1].emit), zip(jobs, collectors, strict=True)):
                skipped += count
    else:
        for job, collector in zip(jobs, collectors, strict=True):
            skipped += job(collector.emit)
    tallies: dict[str, list[str]] = {}
    for collector in collectors:
        for args, kwargs in collector.calls:
            if args[0] == TALLY:
                tallies.setdefault(args[1], []).append(args[2])
            else:
                ctx.emit(*args, **kwargs)
    no_cors = tallies.get("no-cors")
    if no_cors:
        ctx.emit("media.http.cors", f"{len(no_cors)} chapters or transcript file(s) are served without "
                 f"Access-Control-Allow-Origin, e.g. {no_cors[0]}; web players cannot load them", scope="feed")
    if skipped:
        ctx.emit("media.not-checked", f"{skipped} URL(s) are not under {ctx.options.base_url or 'the feed base URL'} "
                 "and were not checked", scope="feed")


def _check_channel_artwork(ctx: Context, url: str, el: Any, emit: Emit) -> int:
    return _check_artwork(ctx, emit, url, el, None)


def _check_item_job(ctx: Context, item: Node, emit: Emit) -> int:
    return _check_item(ctx, emit, item)


def _where(ctx: Context, url: str) -> str:
    """'local' (a file under base_dir), 'http', or 'skip'."""
    if local_path(url, ctx) is not None:
        return "local"
    if ctx.options.http_media and url.startswith(("http://", "https://")):
        return "http"
    return "skip"


def _check_item(ctx: Context, emit: Emit, item: Node) -> int:
    skipped = 0
    audio_duration: float | None = None
    audio_chapters: list[float] | None = None
    enclosure = item.first("enclosure")
    url = (enclosure.get("url") or "").strip() if enclosure is not None else ""
    if url:
        where = _where(ctx, url)
        if where == "local":
            audio_duration, audio_chapters = _check_local_enclosure(ctx, emit, item, enclosure, url)
        elif where == "http":
            _check_http_enclosure(ctx, emit, item, enclosure, url)
        else:
            skipped += 1
    declared = item.text(it("duration"))
    duration = audio_duration if audio_duration is not None else (duration_seconds(declared) if declared else None)

    image = item.first(it("image"))
    href = (image.get("href") or "").strip() if image is not None else ""
    if href:
        skipped += _check_artwork(ctx, emit, href, image, item)

    json_starts: tuple[list[float], list[float]] | None = None
    chapters = item.first("{" + PODCAST + "}chapters")
    if chapters is not None and (chapters.get("url") or "").strip():
        chapters_url = chapters.get("url").strip()
        data = _side_file(ctx, emit, chapters_url, chapters, item, "chapters file")
        if data is None:
            skipped += _where(ctx, chapters_url) == "skip"
        else:
            json_starts = check_chapters_json(emit, data, item=item, el=chapters, url=chapters_url, duration=duration)

    for transcript in item.all("{" + PODCAST + "}transcript"):
        transcript_url = (transcript.get("url") or "").strip()
        if not transcript_url:
            continue
        data = _side_file(ctx, emit, transcript_url, transcript, item, "transcript")
        if data is None:
            skipped += _where(ctx, transcript_url) == "skip"
        else:
            _check_transcript(emit, data, transcript, item, transcript_url)

    _check_agreement(emit, item, chapters, json_starts, audio_chapters)
    return skipped


# --- enclosures ----------------------------------------------------------------------------------
def _check_local_enclosure(ctx: Context, emit: Emit, item: Node, el: Any,
                           url: str) -> tuple[float | None, list[float] | None]:
    from feedtool.audio import EXTENSIONS, probe
    from feedtool.errors import AudioError

    path = local_path(url, ctx)
    assert path is not None
    length = (el.get("length") or "").strip()
    if not path.is_file():
        elsewhere = _elsewhere(ctx).get(_rel(ctx, path))
        if elsewhere is not None and length == str(elsewhere[0]):
            emit("media.elsewhere", f"{_rel(ctx, path)} is not in public/: {elsewhere[1]}", node=item, el=el,
                 subject="enclosure@url")
            return None, None
        emit("media.missing", f"the enclosure file {_rel(ctx, path)} does not exist", node=item, el=el,
             subject="enclosure@url")
        return None, None
    size = path.stat().st_size
    if length.isdigit() and int(length) != size:
        emit("media.length", f"the enclosure length is {int(length):,} bytes but {_rel(ctx, path)} is {size:,} bytes",
             node=item, el=el, subject="enclosure@length", fix=f"Set length=\"{size}\" (or rebuild).")
    if path.suffix.lower() not in EXTENSIONS:
        return None, None
    try:
        info = probe(path)
    except AudioError as error:
        emit("media.content", f"{_rel(ctx, path)}: {error.message}", node=item, el=el, subject="enclosure@url",
             fix=error.hint)
        return None, None
    mime = (el.get("type") or "").strip()
    if mime and info.kind in _KIND_TYPES and mime not in _KIND_TYPES[info.kind]:
        emit("media.content", f"the enclosure type is {mime} but {_rel(ctx, path)} holds {info.kind.upper()} audio",
             node=item, el=el, subject="enclosure@type")
    declared = item.text(it("duration"))
    seconds = duration_seconds(declared) if declared else None
    if seconds is not None and abs(seconds - info.duration_s) > DURATION_TOLERANCE_S:
        emit("media.duration", f"itunes:duration says {seconds:.0f} s but the audio lasts {info.duration_s:.0f} s",
             node=item, el=item.first(it("duration")), subject="itunes:duration",
             fix=f"Set <itunes:duration>{round(info.duration_s)}</itunes:duration>.")
    return info.duration_s, audio_chapter_starts(path)


def _check_http_enclosure(ctx: Context, emit: Emit, item: Node, el: Any, url: str) -> None:
    head = http(ctx, url, method="HEAD")
    if not _http_ok(emit, head, item, el, "enclosure", "enclosure@url"):
        return
    length = (el.get("length") or "").strip()
    served = head.headers.get("content-length", "")
    if length.isdigit() and served.isdigit() and int(served) != int(length):
        emit("media.length", f"the enclosure length is {int(length):,} bytes but the server sends {int(served):,}",
             node=item, el=el, subject="enclosure@length", fix=f"Set length=\"{served}\".")
    mime = (el.get("type") or "").strip()
    if mime and head.content_type and head.content_type not in _SAME_TYPE.get(mime, {mime}):
        emit("media.http.content-type", f"the server sends Content-Type {head.content_type} for the enclosure, "
             f"the feed says {mime}", node=item, el=el, subject="enclosure@type")
    _check_range(ctx, emit, url, item, el, head)


def _check_range(ctx: Context, emit: Emit, url: str, item: Node | None, el: Any, head: Fetched) -> None:
    """Range: bytes=0-15 must give 206 and 16 bytes; bytes=4-11 must give the same bytes 4..11."""
    first = http(ctx, url, headers={"Range": "bytes=0-15"}, max_body=16)
    if first.status != 206:
        what = first.error or f"status {first.status}"
        emit("media.http.range", f"a Range request for the enclosure got {what}, not 206 Partial Content",
             node=item, el=el, subject="enclosure@url")
        return
    second = http(ctx, url, headers={"Range": "bytes=4-11"}, max_body=8)
    content_range = first.headers.get("content-range", "")
    total = head.headers.get("content-length", "")
    problems = []
    if not re.fullmatch(r"bytes 0-15/(\d+|\*)", content_range.strip()):
        problems.append(f"Content-Range is '{content_range}'")
    elif total.isdigit() and not content_range.endswith(f"/{total}"):
        problems.append(f"Content-Range '{content_range}' does not match the size {total}")
    if first.too_big:
        problems.append("bytes 0-15 came back as more than 16 bytes")
    elif len(first.body) != 16 and not (total.isdigit() and int(total) < 16):
        problems.append(f"bytes 0-15 came back as {len(first.body)} bytes")
    if second.status != 206 or second.body != first.body[4:12]:
        problems.append("bytes 4-11 do not match bytes 0-15")
    if problems:
        emit("media.http.range", "a Range request answered 206 with the wrong bytes: " + "; ".join(problems),
             node=item, el=el, subject="enclosure@url")
    else:
        kind = _sniff_audio(first.body)
        mime = (el.get("type") or "").strip()
        if kind and mime and kind in _KIND_TYPES and mime not in _KIND_TYPES[kind]:
            emit("media.content", f"the enclosure type is {mime} but the file starts like {kind.upper()}",
                 node=item, el=el, subject="enclosure@type")


def _sniff_audio(head: bytes) -> str | None:
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if head[4:8] == b"ftyp":
        return "m4a"
    return None


def _http_ok(emit: Emit, fetched: Fetched, item: Node | None, el: Any, what: str, subject: str) -> bool:
    if fetched.error:
        emit("media.http.status", f"the {what} {fetched.url} cannot be fetched: {fetched.error}", node=item, el=el,
             subject=subject)
        return False
    if fetched.status == 404 or fetched.status == 410:
        emit("media.missing", f"the {what} {fetched.url} is not there (HTTP {fetched.status})", node=item, el=el,
             subject=subject)
        return False
    if not fetched.ok:
        emit("media.http.status", f"the {what} {fetched.url} answered HTTP {fetched.status} to "
             f"{'HEAD' if not fetched.body else 'GET'}", node=item, el=el, subject=subject)
        return False
    if fetched.redirects > MAX_REDIRECTS_OK:
        emit("media.http.redirects", f"the {what} {fetched.url} takes {fetched.redirects} redirects to reach "
             f"{fetched.final_url}", node=item, el=el, subject=subject,
             fix=f"Point the feed at {fetched.final_url}.")
    return True


# --- files next to the episode -------------------------------------------------------------------
def _side_file(ctx: Context, emit: Emit, url: str, el: Any, item: Node, what: str) -> bytes | None:
    where = _where(ctx, url)
    subject = f"podcast:{'chapters' if what.startswith('chapters') else 'transcript'}@url"
    if where == "local":
        path = local_path(url, ctx)
        assert path is not None
        if not path.is_file():
            emit("media.missing", f"the {what} {_rel(ctx, path)} does not exist", node=item, el=el, subject=subject)
            return None
        if path.stat().st_size > SIDE_FILE_MAX_BYTES:
            emit("chapters.unreadable" if what.startswith("chapters") else "transcript.content",
                 f"the {what} {_rel(ctx, path)} is over {SIDE_FILE_MAX_BYTES // 1024 // 1024} MB", node=item, el=el,
                 subject=subject)
            return None
        return path.read_bytes()
    if where == "http":
        fetched = http(ctx, url, max_body=SIDE_FILE_MAX_BYTES)
        if not _http_ok(emit, fetched, item, el, what, subject):
            return None
        if "access-control-allow-origin" not in fetched.headers:
            emit(TALLY, "no-cors", url)
        if fetched.too_big:
            emit("chapters.unreadable" if what.startswith("chapters") else "transcript.content",
                 f"the {what} {url} is over {SIDE_FILE_MAX_BYTES // 1024 // 1024} MB", node=item, el=el,
                 subject=subject)
            return None
        return fetched.body
    return None


def _check_transcript(emit: Emit, data: bytes, el: Any, item: Node, url: str) -> None:
    from feedtool.validation.rules_podcast import transcript_type

    mime = (el.get("type") or "").strip()
    kind = transcript_type(mime)
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    problem = None
    if kind == "text/vtt" and not text.startswith("WEBVTT"):
        problem = "does not start with WEBVTT"
    elif kind == "application/x-subrip" and not re.match(r"\s*\d+\s*\r?\n\s*\d{1,2}:\d{2}:\d{2}[,.]\d{3}\s*-->", text):
        problem = "does not start with a SubRip cue (1, then 00:00:00,000 --> ...)"
    elif kind == "application/json":
        try:
            json.loads(text)
        except ValueError:
            problem = "is not JSON"
    elif kind == "text/plain" and text.startswith("WEBVTT"):
        problem = "is WebVTT (write type=\"text/vtt\")"
    if problem:
        emit("transcript.content", f"the transcript {url} is declared {mime} but {problem}", node=item, el=el,
             subject="podcast:transcript@type")


# --- artwork -----------------------------------------------------------------------------------
def _check_artwork(ctx: Context, emit: Emit, url: str, el: Any, item: Node | None) -> int:
    where = _where(ctx, url)
    what = "episode artwork" if item is not None else "show artwork"
    if where == "skip":
        return 1
    if where == "local":
        path = local_path(url, ctx)
        assert path is not None
        if not path.is_file():
            emit("media.missing", f"the {what} {_rel(ctx, path)} does not exist", node=item, el=el,
                 subject="itunes:image@href")
            return 0
        if path.stat().st_size > ARTWORK_MAX_BYTES:
            emit("apple.artwork.unreadable", f"the {what} is over {ARTWORK_MAX_BYTES // 1024 // 1024} MB", node=item,
                 el=el, subject="itunes:image@href")
            return 0
        data = path.read_bytes()
    else:
        head = http(ctx, url, method="HEAD")
        if not _http_ok(emit, head, item, el, what, "itunes:image@href"):
            return 0
        fetched = http(ctx, url, max_body=ARTWORK_MAX_BYTES)
        if not _http_ok(emit, fetched, item, el, what, "itunes:image@href"):
            return 0
        if fetched.too_big:
            emit("apple.artwork.unreadable", f"the {what} is over {ARTWORK_MAX_BYTES // 1024 // 1024} MB", node=item,
                 el=el, subject="itunes:image@href")
            return 0
        data = fetched.body
        expected = _image_type_for(url)
        if expected and head.content_type and head.content_type not in _SAME_TYPE.get(expected, {expected}):
            emit("media.http.content-type", f"the server sends Content-Type {head.content_type} for the {what}, "
                 f"expected {expected}", node=item, el=el, subject="itunes:image@href")
    check_artwork_bytes(emit, data, url=url, el=el, item=item, what=what)
    from feedtool.validation.readiness import artwork_problem

    placeholder = artwork_problem(data, f"the {what}")
    if placeholder is not None:
        emit(placeholder.rule, placeholder.message, node=item, el=el, subject=placeholder.subject)
    return 0


def _image_type_for(url: str) -> str | None:
    path = urlsplit(url).path.lower()
    if path.endswith((".jpg", ".jpeg")):
        return "image/jpeg"
    if path.endswith(".png"):
        return "image/png"
    return None


def check_artwork_bytes(emit: Emit, data: bytes, *, url: str, el: Any, item: Node | None, what: str) -> None:
    """Apple's artwork rules on the image itself: square, 1400-3000 px, JPEG/PNG, RGB, no alpha."""
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                kind, mode = image.format, image.mode
                has_alpha = mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info)
    except Exception as error:  # noqa: BLE001 - Pillow raises many types for broken or hostile images
        emit("apple.artwork.unreadable", f"the {what} cannot be read as an image ({type(error).__name__})",
             node=item, el=el, subject="itunes:image@href")
        return
    subject = "itunes:image@href"
    if width != height:
        emit("apple.artwork.size", f"the {what} is {width}x{height} px; it must be square", node=item, el=el,
             subject=subject)
    elif not 1400 <= width <= 3000:
        emit("apple.artwork.size", f"the {what} is {width}x{height} px; Apple needs 1400x1400 to 3000x3000",
             node=item, el=el, subject=subject)
    if kind not in ("JPEG", "PNG"):
        emit("apple.artwork.format", f"the {what} is {kind or 'an unknown format'}; Apple takes JPEG or PNG",
             node=item, el=el, subject=subject)
    else:
        expected = _image_type_for(url)
        actual = "image/jpeg" if kind == "JPEG" else "image/png"
        if expected and expected != actual:
            emit("apple.artwork.format", f"the {what} is {kind} but its name ends like {expected.split('/')[1]}",
                 node=item, el=el, subject=subject)
    if mode not in ("RGB", "RGBA"):
        emit("apple.artwork.format", f"the {what} is in {mode} colour mode; Apple needs RGB", node=item, el=el,
             subject=subject)
    if has_alpha and item is None:
        emit("apple.artwork.alpha", f"the {what} has an alpha channel (transparency)", node=item, el=el,
             subject=subject)


def artwork_problems(path: Path, *, what: str) -> list[tuple[str, str, str]]:
    """Apple's artwork rules on a local image: (rule id, severity, message) for each problem.

    Build runs this on the show's and each episode's artwork, so a cover Apple would reject
    stops the build with the file's name instead of surfacing at publish time.
    """
    from feedtool.validation.registry import rule

    found: list[tuple[str, str, str]] = []

    def collect(rule_id: str, message: str, **_where: Any) -> None:
        found.append((rule_id, rule(rule_id).severity, message))

    check_artwork_bytes(collect, path.read_bytes(), url=path.name, el=None, item=None, what=what)
    return found


# --- chapters in three places ------------------------------------------------------------------
def audio_chapter_starts(path: Path) -> list[float] | None:
    """Chapter start times (s) from the audio's own tags (ID3 CHAP, MP4, Vorbis CHAPTERxxx), via tagging."""
    from feedtool.errors import FeedtoolError
    from feedtool.tagging import read_chapters

    try:
        chapters = read_chapters(path)
    except FeedtoolError:
        return None  # probe() already reported a file it cannot read
    return sorted(c.start_s for c in chapters) or None


def description_chapter_starts(item: Node) -> list[float] | None:
    """Chapter starts from the timestamp lines of the episode's show notes, as apps read them."""
    text = item.text("{" + CONTENT + "}encoded") or item.text("description") or ""
    if ":" not in text:
        return None
    from feedtool.chapters import from_show_notes

    lines = (_html_lines(text) if "<" in text else text).splitlines()
    # only lines with a clock time can be chapter lines; the parser is thorough, so spare it the prose
    chapters = from_show_notes("\n".join(line for line in lines if _CLOCKISH.search(line)))
    return [c.start_s for c in chapters] or None


_BREAK = re.compile(r"<(?:br|p|li|div|h[1-6]|tr|blockquote)\b[^>]*>|</(?:p|li|div|h[1-6]|tr|blockquote)\s*>", re.I)
_TAG = re.compile(r"<[^>]*>")
_CLOCKISH = re.compile(r"\d:\d\d")


def _html_lines(text: str) -> str:
    """Show-notes HTML as the lines a reader sees (fast: one timestamp per line is all that matters)."""
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", text)))


def _check_agreement(emit: Emit, item: Node, el: Any, json_starts: tuple[list[float], list[float]] | None,
                     audio_starts: list[float] | None) -> None:
    """The JSON file, psc:chapters in the feed, the show notes' timestamps and the audio's tags list the
    same chapters.

    The first of JSON, psc, show notes is the reference the others are compared with. Silent chapters
    (toc=false) are not in show notes or psc:chapters, and may or may not be in the audio's tags, so
    a list matches when it matches the reference with or without them. Show notes cut short (Apple's
    4,000-byte description, with no content:encoded) are compared as far as they go.
    """
    from feedtool.validation.rules_p20 import psc_starts

    notes = description_chapter_starts(item)
    truncated = notes is not None and _notes_cut_short(item)
    psc = psc_starts(item)
    if json_starts is not None:
        reference, names = json_starts, "the JSON chapters file"
    elif psc is not None:
        reference, names = (psc, psc), "the psc:chapters in the feed"
    elif notes:
        reference, names = (notes, notes), "the show notes' timestamps"
    else:
        return
    others = [("the psc:chapters in the feed", psc, False), ("the show notes' timestamps", notes, truncated),
              ("the audio's chapter tags", audio_starts, False)]
    problems: list[str] = []
    for name, starts, prefix_only in others:
        if not starts or name == names:
            continue
        every, toc = reference
        if prefix_only:
            every, toc = every[:len(starts)], toc[:len(starts)]
        problem = compare_chapter_lists(toc, starts)
        if problem and compare_chapter_lists(every, starts):
            problems.append(f"{names} and {name} disagree: {problem}")
    for message in problems:
        emit("chapters.disagree", message, node=item, el=el, subject="podcast:chapters")


def _notes_cut_short(item: Node) -> bool:
    """Only a description, ending in the mark of a cut (feedtool's and most hosts' "…")."""
    if item.text("{" + CONTENT + "}encoded"):
        return False
    text = (item.text("description") or "").rstrip()
    return text.endswith(("…", "…</p>", "...", "...</p>"))


def _elsewhere(ctx: Context) -> dict[str, tuple[int, str]]:
    """The build's list of enclosures it left out of public/ (feedtool.master_records): key ->
    (size, where it is). Read once per validation; empty for a feed feedtool did not build."""
    from feedtool.master_records import read_remote_media

    if ctx.elsewhere_media is None:
        ctx.elsewhere_media = read_remote_media(ctx.options.base_dir) if ctx.options.base_dir else {}
    return ctx.elsewhere_media


def _rel(ctx: Context, path: Path) -> str:
    base = ctx.options.base_dir
    try:
        return str(path.relative_to(base.resolve())) if base else str(path)
    except ValueError:
        return str(path)

"""The master store: audio masters from an ``https://`` URL or an ``s3://`` bucket, fetched once.

A podcast's masters need not live in git (issue 10): ``audio:`` may name a URL or an object in a
bucket. feedtool fetches such a master only when it has to make a tagged copy, into a
content-addressed store, and never twice:

    .feedtool-cache/masters/
        <sha256><.ext>        a complete, verified master, named by the sha256 of its bytes
        sources/<key>.json    what was learnt about a source (sha256, size, ETag/Last-Modified)
        partial/<key>.part    an unfinished download ...
        partial/<key>.json    ... and the validator (ETag/Last-Modified) and size it began with

(``key`` is the sha256 of the source text.) What the store guarantees:

- **Found without network.** ``fetch(source, sha256=...)`` with the sha256 recorded in the lock
  file returns a stored master without any request; ``find(sha256)`` is the same lookup.
- **Resumable.** A download that stops part-way stays in ``partial/`` and continues with a Range
  request guarded by ``If-Range`` (HTTP; a strong ETag, else Last-Modified) or ``IfMatch`` (S3),
  so a master that changed in between is fetched whole instead of being glued to the old part.
  A server that ignores Range sends the whole file again, which is then taken from the start.
- **Size-checked.** Content-Length (or the total in Content-Range) must equal the recorded size,
  when there is one, before the body is read, and the bytes received must equal the promise.
- **Verified.** The sha256 of the bytes is compared with the recorded one; a mismatch is refused
  (the bytes are still stored, under their own sha256).
- **Changed while being fetched** is detected (a HEAD after the body: the validator or size
  moved) and the master fetched again; if it keeps changing, the fetch is refused.

Every error is a MasterError (exit 2) that names the episode (its episode.md, field ``audio``),
the source and what to do. HTTP goes through feedtool.net; S3 through boto3 with the client the
publish step builds (feedtool.storage.S3Target: the same credential chain, endpoint, region and
addressing style, taken from ``publish:`` in podcast.yaml). ``master_facts`` is what a build
records about a master so it never needs the master again while no tag input changes.

One process fetches a given source at a time (a lock file on systems with ``fcntl``; on Windows
two feedtool runs fetching the same master at the same moment are not guarded against).
"""

from __future__ import annotations

import contextlib
import hashlib
import http
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlsplit

from feedtool.errors import AudioError, FeedtoolError
from feedtool.files import sha256_file, write_atomic

if TYPE_CHECKING:
    from feedtool.model import PublishTarget

#: Folder of the store inside the build cache (.feedtool-cache/).
STORE_DIR = "masters"
#: Download attempts per fetch: each resumes the previous one (or starts again when it must).
ATTEMPTS = 3
_CHUNK = 1 << 20
CHANGED_WHILE_FETCHED = "the master changed while it was being fetched"
#: Content-Type -> file extension, for a URL whose name does not say what it is.
_TYPE_EXTENSIONS = {
    "audio/mpeg": ".mp3", "audio/mp3": ".mp3", "audio/x-m4a": ".m4a", "audio/m4a": ".m4a", "audio/mp4": ".m4a",
    "audio/aac": ".m4a", "video/mp4": ".mp4", "audio/ogg": ".ogg", "audio/vorbis": ".ogg", "audio/opus": ".opus",
    "audio/flac": ".flac", "audio/x-flac": ".flac",
}


class MasterError(AudioError):
    """A master that cannot be fetched or used: named with its episode, its source, what to do."""


class MasterChangedError(MasterError):
    """The bytes at a source are not the ones recorded (or changed while being fetched)."""


def is_remote(source: str) -> bool:
    """Is ``audio:`` a URL or a bucket object rather than a file next to episode.md?"""
    return source.startswith(("https://", "http://", "s3://"))


def default_store_dir(cache_dir: Path) -> Path:
    """The store inside a build cache folder (build's ``.feedtool-cache``)."""
    return Path(cache_dir) / STORE_DIR


@dataclass(frozen=True)
class StoredMaster:
    """A master in the store."""

    path: Path
    sha256: str
    size: int
    source: str
    transferred: int = 0  # body bytes received by this fetch (0: found in the store)


@dataclass(frozen=True)
class MasterFacts:
    """What a build needs to know of a master, recorded once (in the lock file) so that a fresh
    clone with no audio can render the same feed and plan copies without fetching it.

    ``audio_span`` is, for an MP3, where its audio frames are (start, end, whether it ends with
    an ID3v1 tag): with the tag metadata that is all ``tagging.id3.plan_copy`` needs to lay out a
    tagged copy (feedtool.tagging.splice).
    """

    sha256: str
    size: int
    kind: str
    mime: str
    duration_s: float
    bitrate: int | None = None
    audio_span: tuple[int, int, bool] | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"sha256": self.sha256, "size": self.size, "kind": self.kind, "mime": self.mime,
                                "duration_s": self.duration_s, "bitrate": self.bitrate}
        if self.audio_span is not None:
            start, end, id3v1 = self.audio_span
            data["audio_span"] = {"start": start, "end": end, "id3v1": id3v1}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MasterFacts:
        """The facts ``to_dict`` wrote (other keys in ``data`` are ignored)."""
        span = data.get("audio_span")
        return cls(sha256=str(data["sha256"]), size=int(data["size"]), kind=str(data["kind"]),
                   mime=str(data["mime"]), duration_s=float(data["duration_s"]),
                   bitrate=int(data["bitrate"]) if data.get("bitrate") else None,
                   audio_span=(int(span["start"]), int(span["end"]), bool(span["id3v1"])) if span else None)


def master_facts(path: Path, *, sha256: str | None = None) -> MasterFacts:
    """Probe a local master (feedtool.audio: kind, duration, the integrity checks) and measure
    it: its sha256 (pass it when known) and, for an MP3, its audio span."""
    from feedtool.audio import probe
    from feedtool.integrity import read_mp3_span

    path = Path(path)
    info = probe(path)
    span = read_mp3_span(path) if info.kind == "mp3" else None
    return MasterFacts(sha256=sha256 or sha256_file(path), size=info.size, kind=info.kind, mime=info.mime,
                       duration_s=info.duration_s, bitrate=info.bitrate,
                       audio_span=(span.start, span.end, span.id3v1) if span else None)


@dataclass(frozen=True)
class Where:
    """Which master an error is about: its source and its episode (the episode.md)."""

    source: str
    episode: Path | str | None = None

    def error(self, message: str, hint: str, kind: type[MasterError] = MasterError) -> MasterError:
        return kind(f"{shown(self.source)}: {message}", path=self.episode,
                    field="audio" if self.episode else None, hint=hint)


def shown(source: str) -> str:
    """A source as an error message may show it: no user:password and no query string (a signed
    link's signature must not end up in a CI log), cut to a readable length."""
    from feedtool.errors import excerpt

    parts = urlsplit(source)
    if parts.scheme in ("http", "https") and parts.hostname:
        port = f":{parts.port}" if parts.port else ""
        source = f"{parts.scheme}://{parts.hostname}{port}{parts.path}" + ("?…" if parts.query else "")
    return excerpt(source, 200)


#: What to do about a master that is not the one recorded.
_REPLACED_HINT = ("put the original master back; or, if it was replaced on purpose, remove the episode's "
                  "master entry from episodes/feedtool.lock so the new one is recorded (and re-tagged)")


def changed_error(source: str, *, recorded: str, actual: str, episode: Path | str | None = None) -> MasterError:
    """The one message for a master whose bytes no longer match the recorded sha256 (also for a
    local master: the integration checks those against the lock file)."""
    return Where(source, episode).error(
        f"the master's bytes no longer match the sha256 recorded for it (recorded {recorded[:12]}…, "
        f"now {actual[:12]}…)", _REPLACED_HINT, MasterChangedError)


# --------------------------------------------------------------------------------------------
# Where the bytes come from


class _Restart(Exception):
    """The partial download cannot be continued (the source changed, or the range is wrong)."""


class _CutOff(Exception):
    """The body stopped before its end; what arrived is kept and the next attempt resumes."""


@dataclass(frozen=True)
class _Fetched:
    """A finished download in partial/, not yet in the store."""

    part: Path
    sha256: str
    transferred: int
    suffix: str
    validator: str | None


@dataclass
class _Body:
    """One response: its bytes start at ``start`` of a ``total``-byte file."""

    start: int
    total: int | None
    validator: str | None  # a strong ETag or a Last-Modified date: what If-Range/IfMatch compare
    content_type: str
    chunks: Iterator[bytes]


class _Origin(Protocol):
    description: str
    suffix: str

    def open(self, start: int, validator: str | None) -> contextlib.AbstractContextManager[_Body]: ...

    def current(self) -> tuple[str | None, int | None]: ...


class _HttpOrigin:
    """An http(s) URL, through feedtool.net."""

    def __init__(self, url: str, where: Where) -> None:
        from feedtool import net

        net.check_url(url)
        self.url = url
        self.description = url
        self.suffix = Path(unquote(urlsplit(url).path)).suffix.lower()
        self._where = where

    @contextlib.contextmanager
    def open(self, start: int, validator: str | None) -> Iterator[_Body]:
        from feedtool import net

        headers = {"Range": f"bytes={start}-", "If-Range": validator} if start and validator else {}
        try:
            with net.stream(self.url, headers=headers) as download:
                response = download.response
                self._check_status(response.status, response.final_url)
                body_validator = _validator(response.headers)
                if response.status == 206:
                    first, total = _content_range(response.headers.get("content-range", ""))
                    if first != start or (validator and body_validator and body_validator != validator):
                        raise _Restart()
                else:
                    first, total = 0, response.content_length
                yield _Body(first, total, body_validator, response.content_type,
                            _http_chunks(download.chunks(_CHUNK)))
        except net.NetworkError as error:
            hint = error.hint or "check the URL and the network"
            raise self._where.error(f"cannot fetch it: {error.reason}", hint) from None

    def current(self) -> tuple[str | None, int | None]:
        from feedtool import net

        try:
            response = net.request(self.url, method="HEAD")
        except net.NetworkError as error:
            raise self._where.error(f"cannot fetch it: {error.reason}", error.hint or "check the URL") from None
        if response.status != 200:
            return None, None  # no HEAD support: nothing to compare (the size was checked)
        return _validator(response.headers), response.content_length

    def _check_status(self, status: int, final_url: str) -> None:
        if status in (200, 206):
            return
        if status == 416:
            raise _Restart()
        phrase = _phrase(status)
        redirected = "" if final_url == self.url else f" (redirected to {shown(final_url)})"
        if status in (404, 410):
            raise self._where.error(f"the server has no file there ({status} {phrase}){redirected}",
                                    "check the URL (open it in a browser), or upload the master there again")
        if status in (401, 403):
            raise self._where.error(f"the server refused access ({status} {phrase}){redirected}",
                                    "make the file public or use a fresh link (signed links expire); for a "
                                    "private bucket write audio: s3://bucket/key and set the credentials")
        if status >= 500:
            raise self._where.error(f"the server failed ({status} {phrase}){redirected}", "try again later")
        raise self._where.error(f"unexpected answer {status} {phrase}{redirected}", "check the URL")


def _http_chunks(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """A NetworkError in the middle of a body is a cut-off to resume from, not a failure."""
    from feedtool import net

    try:
        yield from chunks
    except net.NetworkError as error:
        raise _CutOff(error.reason) from None


def _validator(headers: dict[str, str]) -> str | None:
    """A strong ETag (If-Range needs a strong one), else Last-Modified, else None."""
    etag = headers.get("etag", "").strip()
    if etag and not etag.startswith("W/"):
        return etag
    return headers.get("last-modified") or None


def _content_range(value: str) -> tuple[int, int | None]:
    match = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", value)
    if match is None:
        raise _Restart()
    return int(match.group(1)), None if match.group(3) == "*" else int(match.group(3))


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


class _S3Origin:
    """An object in a bucket, through the boto3 client publish uses (feedtool.storage)."""

    def __init__(self, source: str, settings: PublishTarget | None, where: Where) -> None:
        match = re.fullmatch(r"s3://([^/]+)/(.+)", source)
        if match is None:
            raise where.error("an s3:// master is written s3://bucket/key", "name the bucket and the object's key")
        self.bucket, self.key = match.groups()
        self.description = source
        self.suffix = Path(self.key).suffix.lower()
        self._where = where
        self._target = _s3_target(self.bucket, settings)

    @contextlib.contextmanager
    def open(self, start: int, validator: str | None) -> Iterator[_Body]:
        extra = {"Range": f"bytes={start}-", "IfMatch": validator} if start and validator else {}
        response = self._call("get_object", Bucket=self.bucket, Key=self.key, **extra)
        body = response["Body"]
        try:
            if response.get("ContentRange"):
                first, total = _content_range(response["ContentRange"])
                if first != start or response.get("ETag") != validator:  # a service that ignores IfMatch
                    raise _Restart()
            else:
                first, total = 0, int(response["ContentLength"])
            yield _Body(first, total, response.get("ETag"), str(response.get("ContentType") or ""),
                        self._chunks(body))
        finally:
            body.close()

    def current(self) -> tuple[str | None, int | None]:
        response = self._call("head_object", Bucket=self.bucket, Key=self.key)
        return response.get("ETag"), int(response["ContentLength"])

    def _chunks(self, body: Any) -> Iterator[bytes]:
        from botocore import exceptions as bx

        try:
            yield from body.iter_chunks(_CHUNK)
        except bx.BotoCoreError as error:  # ReadTimeoutError, ResponseStreamingError (a reset), IncompleteRead
            raise _CutOff(str(error)) from None

    def _call(self, operation: str, **arguments: Any) -> Any:
        from botocore import exceptions as bx

        try:
            return getattr(self._target._client, operation)(**arguments)
        except bx.ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in ("PreconditionFailed", "InvalidRange") or status in (412, 416):
                raise _Restart() from None
            if code in ("NoSuchKey", "404", "NotFound"):
                raise self._where.error("no such object in the bucket",
                                        "check the bucket and key; upload the master there first") from None
            if code == "NoSuchBucket":
                raise self._where.error("the bucket does not exist",
                                        "check the bucket name (and endpoint_url under publish: in podcast.yaml)"
                                        ) from None
            if code in ("AccessDenied", "403", "Forbidden") or status == 403:
                raise self._where.error(f"access denied ({code})",
                                        "the credentials need s3:GetObject on this object") from None
            raise self._wrap(self._target._error(error, "fetching a master from", "read")) from None
        except bx.BotoCoreError as error:
            raise self._wrap(self._target._error(error, "fetching a master from", "read")) from None

    def _wrap(self, error: FeedtoolError) -> MasterError:
        return self._where.error(error.message, error.hint or "check the s3:// address and the credentials")


#: The variables `feedtool publish` reads for the same settings (its --endpoint-url, --region and
#: --addressing-style): a CI run that sets them for publish reaches an s3:// master the same way.
S3_SETTING_VARIABLES = {"endpoint_url": "FEEDTOOL_ENDPOINT_URL", "region": "FEEDTOOL_REGION",
                        "addressing_style": "FEEDTOOL_ADDRESSING_STYLE"}


def _s3_target(bucket: str, settings: PublishTarget | None) -> Any:
    """publish's S3 target for ``bucket``: its client (credential chain, endpoint, region,
    addressing style) and its error messages. The one place boto3 is reached from here.

    The settings are podcast.yaml's ``publish:``, each overridden by its FEEDTOOL_* variable when
    that is set (publish gives its flags and variables precedence over podcast.yaml too)."""
    from feedtool.storage import S3Location, S3Target

    chosen = {name: os.environ.get(variable) or (getattr(settings, name) if settings else None)
              for name, variable in S3_SETTING_VARIABLES.items()}
    return S3Target(S3Location(bucket=bucket, prefix=""), **chosen)


# --------------------------------------------------------------------------------------------
# The store


class MasterStore:
    """Masters by sha256 under ``root``; ``fetch`` gets one from its source when it must.

    ``s3`` carries the S3 settings (``publish:`` in podcast.yaml: endpoint, region, addressing
    style) used for ``s3://`` sources; credentials come from boto3's chain, as for publish.
    """

    def __init__(self, root: Path, *, s3: PublishTarget | None = None, attempts: int = ATTEMPTS) -> None:
        self.root = Path(root)
        self.s3 = s3
        self.attempts = attempts

    def find(self, sha256: str, *, size: int | None = None) -> Path | None:
        """The stored master with this sha256 (and size, when given), without any network."""
        from feedtool.audio import EXTENSIONS

        for suffix in (*EXTENSIONS, ""):
            path = self.root / f"{sha256}{suffix}"
            try:
                stored_size = path.stat().st_size
            except OSError:
                continue
            if size is None or stored_size == size:
                return path
        return None

    def fetch(self, source: str, *, sha256: str | None = None, size: int | None = None,
              episode: Path | str | None = None) -> StoredMaster:
        """The master at ``source`` (https://, http:// or s3://), from the store or fetched into it.

        ``sha256`` and ``size`` are what the lock file recorded: with ``sha256`` a stored master
        is returned without any request, and bytes that differ are refused. A source fetched
        before but not in the store under that sha256 (or fetched without one) is checked with
        one HEAD: same validator and size, no download. ``episode`` (its episode.md) names the
        episode in every error.
        """

        where = Where(source, episode)
        if sha256 is not None:
            found = self.find(sha256, size=size)
            if found is not None:
                return StoredMaster(found, sha256, found.stat().st_size, source)
        origin: _Origin
        if source.startswith("s3://"):
            origin = _S3Origin(source, self.s3, where)
        elif source.startswith(("https://", "http://")):
            origin = _HttpOrigin(source, where)
        else:
            raise where.error("a master to fetch is an https:// URL or an s3://bucket/key",
                              "write a URL, an s3:// address, or the name of a file next to episode.md")
        key = hashlib.sha256(source.encode("utf-8")).hexdigest()[:32]
        with self._lock(key):
            if sha256 is not None and (found := self.find(sha256, size=size)) is not None:
                return StoredMaster(found, sha256, found.stat().st_size, source)  # another process got it
            known = self._known(key, source, origin)
            if known is not None and sha256 is not None and known.sha256 != sha256:
                # fetched before, unchanged at the source since, and not the recorded bytes
                raise changed_error(source, recorded=sha256, actual=known.sha256, episode=episode)
            if known is not None:
                return known
            fetched = self._download(origin, key, size=size, where=where)
            return self._keep(fetched, key=key, recorded=sha256, where=where)

    # -- steps --------------------------------------------------------------------------------

    def _known(self, key: str, source: str, origin: _Origin) -> StoredMaster | None:
        """A source fetched before whose validator and size have not moved: no download."""
        try:
            record = json.loads((self.root / "sources" / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if record.get("source") != source or not record.get("validator"):
            return None
        path = self.find(str(record.get("sha256")), size=record.get("size"))
        if path is None:
            return None
        validator, total = origin.current()
        if validator != record["validator"] or total != record["size"]:
            return None
        return StoredMaster(path, str(record["sha256"]), int(record["size"]), source)

    def _download(self, origin: _Origin, key: str, *, size: int | None, where: Where) -> _Fetched:
        """Fetch into partial/, resuming what is there."""
        partial = self.root / "partial"
        partial.mkdir(parents=True, exist_ok=True)
        part, state_file = partial / f"{key}.part", partial / f"{key}.json"
        transferred = 0
        changes = 0
        problem = ""
        for _attempt in range(self.attempts):
            state = _read_state(state_file)
            have = part.stat().st_size if part.exists() and state.get("validator") else 0
            if state.get("total") is not None and have > state["total"]:
                have = 0
            try:
                with origin.open(have, state.get("validator") if have else None) as body:
                    if have and body.start == 0 and body.validator != state.get("validator"):
                        changes += 1  # If-Range/IfMatch said: not the file the part came from
                    _check_body(body, size=size, where=where)
                    suffix = _suffix(origin.suffix, body.content_type, where=where)
                    write_atomic(state_file, json.dumps(
                        {"source": origin.description, "validator": body.validator, "total": body.total,
                         "suffix": suffix}).encode("utf-8"))
                    with part.open("r+b" if part.exists() else "wb") as handle:
                        handle.truncate(body.start)
                        handle.seek(body.start)
                        for chunk in body.chunks:
                            handle.write(chunk)
                            transferred += len(chunk)
                            if body.total is not None and handle.tell() > body.total:
                                raise _Restart()  # more than promised: not the file it said it was
            except _CutOff as error:
                problem = f"the download stopped part-way ({error})"
                continue
            except _Restart:
                part.unlink(missing_ok=True)
                state_file.unlink(missing_ok=True)
                problem = "the source did not continue where the last download stopped"
                continue
            got = part.stat().st_size
            if body.total is not None and got != body.total:
                problem = f"the download stopped after {got:,} of {body.total:,} bytes"
                continue
            validator, total = origin.current()
            if (body.validator and validator and validator != body.validator) or (total is not None and total != got):
                changes += 1  # it changed while we were reading it: what we have is a mix
                part.unlink(missing_ok=True)
                state_file.unlink(missing_ok=True)
                problem = CHANGED_WHILE_FETCHED
                continue
            state_file.unlink(missing_ok=True)
            return _Fetched(part, sha256_file(part), transferred, suffix, body.validator)
        if problem == CHANGED_WHILE_FETCHED:
            raise where.error(f"{problem} ({changes} times)",
                              "wait until the upload of the master has finished, then run again",
                              MasterChangedError)
        hint = (f"run again: the download resumes where it stopped (kept in {part.parent})" if part.exists()
                else "run again; check the network")
        raise where.error(f"{problem}; tried {self.attempts} times", hint)

    def _keep(self, fetched: _Fetched, *, key: str, recorded: str | None, where: Where) -> StoredMaster:
        """Move a finished download into the store under its sha256 and remember the source."""
        from feedtool.integrity import LFS_POINTER_MAX, lfs_pointer, lfs_pointer_error

        part, digest = fetched.part, fetched.sha256
        size = part.stat().st_size
        if size <= LFS_POINTER_MAX:
            pointer = lfs_pointer(part.read_bytes(), size)
            if pointer is not None:
                part.unlink()
                error = lfs_pointer_error(pointer)
                raise where.error(error.message, error.hint or "")
        path = self.root / f"{digest}{fetched.suffix}"
        os.replace(part, path)
        sources = self.root / "sources"
        sources.mkdir(exist_ok=True)
        state = {"source": where.source, "sha256": digest, "size": size, "validator": fetched.validator}
        write_atomic(sources / f"{key}.json", json.dumps(state).encode("utf-8"))
        if recorded is not None and recorded != digest:
            raise changed_error(where.source, recorded=recorded, actual=digest, episode=where.episode)
        return StoredMaster(path, digest, size, where.source, fetched.transferred)

    @contextlib.contextmanager
    def _lock(self, key: str) -> Iterator[None]:
        """One fetch of a source at a time (where the system has fcntl)."""
        folder = self.root / "partial"
        folder.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # Windows
            yield
            return
        with (folder / f"{key}.lock").open("a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _read_state(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _check_body(body: _Body, *, size: int | None, where: Where) -> None:
    """Before reading a byte of the body: is it audio, and the size that was recorded?"""
    if body.content_type in ("text/html", "application/xhtml+xml"):
        raise where.error("the URL serves a web page (text/html), not the audio file",
                   "use the file's direct download link (a share page will not do)")
    if size is not None and body.total is not None and body.total != size:
        raise where.error(f"the source has {body.total:,} bytes, the size recorded for this master is {size:,}",
                          _REPLACED_HINT, MasterChangedError)


def _suffix(named: str, content_type: str, *, where: Where) -> str:
    """The stored file's extension (probe reads the kind it expects from it)."""
    from feedtool.audio import EXTENSIONS

    if named in EXTENSIONS:
        return named
    by_type = _TYPE_EXTENSIONS.get(content_type)
    if by_type is not None:
        return by_type
    raise where.error(f"cannot tell what kind of audio this is (the name has no audio extension and the "
               f"server says {content_type or 'no Content-Type'})",
               "name the file with its extension (.mp3, .m4a ...) where it is stored")

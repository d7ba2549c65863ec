"""feedtool's one HTTP client: every request feedtool makes to a URL someone else chose goes here.

A URL in a feed, an episode's ``audio:`` or a redirect is untrusted. So:

- only ``http`` and ``https``, for the first URL and for every redirect (a redirect to
  ``file://``, ``ftp://`` or ``data:`` is an error, never followed);
- at most ``max_redirects`` hops, each counted;
- one deadline per request that covers connecting, the response headers and the body: a server
  that accepts the connection and then says nothing, or trickles its headers a byte at a time, is
  cut off when the deadline passes (a watchdog closes the socket; a per-read timeout alone would
  let a trickle go on for ever);
- bodies are read up to a cap; a long download (``stream``) has an idle timeout instead of a
  total one, so a slow but steady 100 MB transfer is not cut off;
- a body that ends before its Content-Length is an error, never a short result (http.client
  itself just stops reading when the server closes early).

Built on the standard library's http.client, so it starts fast and needs no dependency. Proxies
from the environment are not used.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from feedtool import __version__
from feedtool.errors import FeedtoolError

USER_AGENT = f"feedtool/{__version__} (podcast publisher; +https://github.com/)"
#: Seconds for a whole request (connect + headers + a capped body).
DEFAULT_DEADLINE_S = 30.0
#: Hops followed before giving up; browsers allow about 20, podcast apps far fewer.
DEFAULT_MAX_REDIRECTS = 5
#: Seconds without a byte before a streamed download is given up.
DEFAULT_IDLE_TIMEOUT_S = 60.0
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
_CHUNK = 1 << 16


class NetworkError(FeedtoolError):
    """A URL that could not be fetched: refused scheme, unreachable, too slow, too many redirects.

    ``unreachable`` is true when the host itself did not answer (no connection, no name, nothing
    before the deadline): a caller with many URLs on that host can stop asking it.
    """

    def __init__(self, message: str, *, url: str, hint: str | None = None, unreachable: bool = False) -> None:
        super().__init__(f"{url}: {message}", hint=hint)
        self.url = url
        self.reason = message
        self.unreachable = unreachable


@dataclass
class Response:
    """What the server said, after redirects."""

    url: str  # the URL asked for
    final_url: str  # the URL that answered
    status: int
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    redirects: int = 0
    body: bytes = b""
    too_big: bool = False  # the body was over the cap and was not kept

    @property
    def ok(self) -> bool:
        return self.status in (200, 206)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("content-length", "")
        return int(value) if value.isdigit() else None


def check_url(url: str) -> None:
    """Refuse anything but an absolute http(s) URL with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NetworkError(
            f"only http:// and https:// URLs are fetched, not {parts.scheme or 'a relative'}:// ones",
            url=url, hint="use an https:// URL",
        )


class _Watchdog:
    """Closes a connection's socket when the deadline passes, waking any blocked read."""

    def __init__(self, connection: http.client.HTTPConnection, deadline: float) -> None:
        self.fired = False
        self._connection = connection
        #: http.client hands the socket over to the response (connection.sock becomes None) when
        #: the server will close it, so the socket is also kept here once the request is sent.
        self.sock: socket.socket | None = None
        self._timer = threading.Timer(max(deadline - time.monotonic(), 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        sock = self._connection.sock or self.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cancel(self) -> None:
        self._timer.cancel()


def _connection(url: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    if parts.scheme == "https":
        context = ssl.create_default_context()
        return http.client.HTTPSConnection(parts.hostname or "", parts.port, timeout=timeout,
                                           context=context), path
    return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout), path


def _open(url: str, *, method: str, headers: Mapping[str, str] | None, deadline: float,
          max_redirects: int, read_timeout: float, body: bytes | None = None,
          ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse, str, int, _Watchdog]:
    """Send the request, following redirects; returns the open connection and response.

    A redirect of a POST with 301, 302 or 303 continues as a GET without the body (what browsers
    and curl do); 307 and 308 repeat the POST with its body, as they require.
    """
    current = url
    redirects = 0
    while True:
        check_url(current)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise NetworkError("no answer before the deadline", url=url, hint="try again later, or check the server",
                               unreachable=True)
        connection, path = _connection(current, min(remaining, read_timeout))
        watchdog = _Watchdog(connection, deadline)
        try:
            connection.request(method, path, body=body, headers={
                "User-Agent": USER_AGENT, "Accept-Encoding": "identity", **(headers or {})})
            watchdog.sock = connection.sock
            response = connection.getresponse()
        except BaseException as error:
            watchdog.cancel()
            connection.close()
            if isinstance(error, (OSError, http.client.HTTPException, ValueError)):
                raise _network_error(error, url=url, fired=watchdog.fired) from None
            raise
        location = response.getheader("Location")
        if response.status in REDIRECT_STATUSES and location:
            watchdog.cancel()
            connection.close()
            redirects += 1
            if redirects > max_redirects:
                raise NetworkError(f"more than {max_redirects} redirects", url=url,
                                   hint="point at the final URL, or fix the redirect loop")
            following = urljoin(current, location)
            if _leaves_origin(current, following):  # a token for one host is never handed to another
                headers = {k: v for k, v in (headers or {}).items() if k.lower() not in _CREDENTIAL_HEADERS}
            current = following
            if response.status == 303 or (method == "POST" and response.status in (301, 302)):
                method = "GET" if method != "HEAD" else "HEAD"
                body = None
                headers = {k: v for k, v in (headers or {}).items() if k.lower() != "content-type"}
            continue
        return connection, response, current, redirects, watchdog


#: headers that carry credentials: dropped when a redirect leads to another origin (as curl and browsers do)
_CREDENTIAL_HEADERS = ("authorization", "cookie", "proxy-authorization")


def _leaves_origin(current: str, following: str) -> bool:
    """A redirect to another scheme, host or port (https -> http included)."""
    before, after = urlsplit(current), urlsplit(following)
    return (before.scheme, before.hostname, before.port) != (after.scheme, after.hostname, after.port)


def _network_error(error: BaseException, *, url: str, fired: bool) -> NetworkError:
    if fired or isinstance(error, TimeoutError):
        return NetworkError("no complete answer before the deadline", url=url,
                            hint="try again later, or check the server", unreachable=True)
    if isinstance(error, ssl.SSLError):
        return NetworkError(f"TLS failed ({error.reason or error})", url=url,
                            hint="check the server's certificate")
    if isinstance(error, socket.gaierror):
        return NetworkError("the host name does not resolve", url=url, hint="check the URL", unreachable=True)
    if isinstance(error, ConnectionRefusedError):
        return NetworkError("the connection was refused", url=url, hint="check the URL and that the server runs",
                            unreachable=True)
    reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return NetworkError(f"cannot fetch it ({reason})", url=url, hint="check the URL and your network connection")


def request(url: str, *, method: str = "GET", headers: Mapping[str, str] | None = None, max_body: int = 0,
            deadline_s: float = DEFAULT_DEADLINE_S, max_redirects: int = DEFAULT_MAX_REDIRECTS,
            body: bytes | None = None) -> Response:
    """One request within ``deadline_s``; the response body is read up to ``max_body`` bytes.

    ``body`` is sent with the request (a POST's form, say; the caller sets its Content-Type).

    ``max_body=0`` reads no body (use it with HEAD, or when only the status and headers matter).
    A body over the cap is not kept: ``too_big`` is set. Any status is returned (the caller
    decides what a 404 means); transport problems raise NetworkError.
    """
    deadline = time.monotonic() + deadline_s
    connection, response, final_url, redirects, watchdog = _open(
        url, method=method, headers=headers, deadline=deadline, max_redirects=max_redirects,
        read_timeout=deadline_s, body=body)
    result = Response(url=url, final_url=final_url, status=response.status, redirects=redirects,
                      headers={k.lower(): v for k, v in response.getheaders()})
    try:
        if method != "HEAD" and max_body:
            declared = result.content_length
            if declared is not None and declared > max_body:
                result.too_big = True
                return result
            chunks: list[bytes] = []
            total = 0
            while (chunk := response.read1(_CHUNK)) and not watchdog.fired:
                total += len(chunk)
                if total > max_body:
                    result.too_big = True
                    return result
                chunks.append(chunk)
            if not watchdog.fired:
                _check_complete(result, total)
            result.body = b"".join(chunks)
    except (OSError, http.client.HTTPException, ValueError) as error:
        raise _network_error(error, url=url, fired=watchdog.fired) from None
    finally:
        watchdog.cancel()
        connection.close()
    if watchdog.fired:
        raise _network_error(TimeoutError(), url=url, fired=True)
    return result


def post_form(url: str, form: Mapping[str, str], *, headers: Mapping[str, str] | None = None, max_body: int = 0,
              deadline_s: float = DEFAULT_DEADLINE_S, max_redirects: int = DEFAULT_MAX_REDIRECTS) -> Response:
    """POST ``form`` as application/x-www-form-urlencoded (a WebSub hub's ping, say)."""
    from urllib.parse import urlencode

    data = urlencode(form).encode("ascii")
    return request(url, method="POST", body=data, max_body=max_body, deadline_s=deadline_s,
                   max_redirects=max_redirects,
                   headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})


def _check_complete(response: Response, received: int) -> None:
    """NetworkError when the server closed the connection before the Content-Length it promised."""
    declared = response.content_length
    if declared is not None and received < declared:
        raise NetworkError(f"the connection closed after {received:,} of {declared:,} bytes", url=response.url,
                           hint="try again; a download that stops part-way is resumed where it can be")


@dataclass
class Stream:
    """An open response whose body is read in chunks (``chunks()``)."""

    response: Response
    _raw: http.client.HTTPResponse
    _connection: http.client.HTTPConnection
    _sock: socket.socket | None
    idle_timeout_s: float

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        """The body, chunk by chunk; NetworkError when no byte arrives for ``idle_timeout_s``,
        or when the body ends before its Content-Length (after yielding what did arrive, so a
        caller that writes chunks as they come can resume from there)."""
        sock = self._connection.sock or self._sock
        if sock is not None:
            sock.settimeout(self.idle_timeout_s)
        received = 0
        try:
            while chunk := self._raw.read1(size):
                received += len(chunk)
                yield chunk
        except (OSError, http.client.HTTPException, ValueError) as error:
            raise _network_error(error, url=self.response.url, fired=False) from None
        _check_complete(self.response, received)


@contextmanager
def stream(url: str, *, headers: Mapping[str, str] | None = None, deadline_s: float = DEFAULT_DEADLINE_S,
           idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
           max_redirects: int = DEFAULT_MAX_REDIRECTS) -> Iterator[Stream]:
    """GET ``url`` for a long download: ``deadline_s`` covers connect and headers, then the body
    may take as long as it needs while bytes keep coming (``idle_timeout_s`` between them)."""
    deadline = time.monotonic() + deadline_s
    connection, raw, final_url, redirects, watchdog = _open(
        url, method="GET", headers=headers, deadline=deadline, max_redirects=max_redirects,
        read_timeout=min(deadline_s, idle_timeout_s))
    watchdog.cancel()  # the headers are in; from here the idle timeout guards each read
    response = Response(url=url, final_url=final_url, status=raw.status, redirects=redirects,
                        headers={k.lower(): v for k, v in raw.getheaders()})
    try:
        yield Stream(response, raw, connection, watchdog.sock, idle_timeout_s)
    finally:
        connection.close()

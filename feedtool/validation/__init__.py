"""Validate any podcast feed against Apple, RSS 2.0 and Podcasting 2.0 rules, down to the media bytes.

    report = validate_feed("public/feed.xml")            # a build: media checked against public/
    report = validate_feed("https://example.com/feed.xml", check_media=True)
    report.exit_code(strict=False), report.to_text(), report.to_json(), report.to_github()

``validate_feed_bytes`` validates bytes already in memory (publish uses it on the built feed), and
``feedtool.validation.live.compare_feeds`` compares a new feed with the live one. Every finding
names a rule of ``feedtool.validation.registry.RULES``. For a feed that feedtool built, findings are
also placed in podcast.yaml and the episode.md files (feedtool.validation.sourcemap).
"""

from __future__ import annotations

from pathlib import Path

from feedtool.validation.document import ATOM, Context, Node, Options, it, pc
from feedtool.validation.registry import RULES, Rule, is_readiness
from feedtool.validation.report import Finding, Report
from feedtool.validation.xmlsafe import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT_S,
    NotWellFormed,
    is_url,
    parse,
    read_source,
)

#: what a server may call a feed
FEED_TYPES = frozenset({"application/rss+xml", "application/xml", "text/xml", "application/x-rss+xml"})

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_TIMEOUT_S", "RULES", "Finding", "Report", "Rule", "is_readiness",
           "refusal_report", "validate_feed", "validate_feed_bytes"]


def validate_feed(source: str | Path, *, check_media: bool | None = None, against: str | Path | None = None,
                  base_url: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
                  now_ts: float | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> Report:
    """Validate a feed file or http(s) URL.

    ``check_media``: None checks the files of a local build (URLs under the feed's base map to files
    next to the feed) and nothing over HTTP; True also checks every other URL over HTTP (HEAD,
    Range, Content-Type); False checks no files at all. ``against`` is the live feed (file or URL)
    to compare with. ``timeout_s`` bounds each HTTP request (connect, headers and body together).
    Raises FeedReadError when the feed cannot be read or is hostile.
    """
    from feedtool.validation.sourcemap import load_source_map, locate

    data, src = read_source(source, max_bytes=max_bytes, timeout_s=timeout_s)
    sources = load_source_map(src.path, data) if src.path is not None else None
    report = validate_feed_bytes(
        data, name=src.name, base_dir=src.path.parent if src.path is not None else None,
        source_url=src.url, check_media=check_media, base_url=base_url, max_bytes=max_bytes, now_ts=now_ts,
        timeout_s=timeout_s)
    if src.headers is not None:
        served = src.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if served not in FEED_TYPES:
            report.findings.append(Finding.make(
                "media.http.content-type", f"the feed is served as '{served or 'no Content-Type'}'; apps and Apple "
                "expect application/rss+xml or application/xml", scope="feed",
                fix="Serve feed.xml with Content-Type: application/xml; charset=utf-8 (or application/rss+xml)."))
        if "etag" not in src.headers and "last-modified" not in src.headers:
            report.findings.append(Finding.make(
                "media.http.caching", "the feed is served without ETag or Last-Modified, so every crawl downloads "
                "it in full", scope="feed"))
    from feedtool.validation.archives import chain_of, findings

    chain = chain_of(data, src.name, src.path, base_url=base_url, max_bytes=max_bytes,  # RFC 5005 pages
                     timeout_s=timeout_s)
    if chain is not None:
        report.findings.extend(findings(data, chain, src.name))
    if against is not None:
        from feedtool.validation.live import compare_feeds

        old, old_src = read_source(against, max_bytes=max_bytes, timeout_s=timeout_s)
        old_chain = chain_of(old, old_src.name, old_src.path, base_url=None, max_bytes=max_bytes,
                             timeout_s=timeout_s)
        if old_chain is not None and old_chain.problems:
            report.findings.extend(Finding.make("directory.archive", f"live feed: {problem}", scope="live")
                                   for problem in old_chain.problems)
        report.findings.extend(compare_feeds(
            old, data, sources=sources, old_pages=[page for _, page in old_chain.pages] if old_chain else (),
            new_pages=[page for _, page in chain.pages] if chain else ()))
    if sources is not None:
        report.findings = locate(report.findings, sources)
        report.sources = True
    return report


def refusal_report(name: str, error: Exception) -> Report:
    """A report whose one finding is why the feed could not be validated at all (``feed.unreadable``).

    `feedtool validate --format json|github` prints it, so a tool reading stdout always gets the
    same structure; the exit status stays 2.
    """
    from feedtool.errors import FeedtoolError

    message = error.message if isinstance(error, FeedtoolError) else str(error)
    where = getattr(error, "path", None)
    line = getattr(error, "line", None)
    hint = getattr(error, "hint", None)
    if where and where != name:
        message = f"{where}: {message}"
    return Report(feed=name, findings=[Finding.make("feed.unreadable", message, fix=hint, line=line, scope="feed")])


def validate_feed_bytes(data: bytes, *, name: str = "feed.xml", base_dir: Path | None = None,
                        source_url: str | None = None, check_media: bool | None = None,
                        base_url: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
                        now_ts: float | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> Report:
    """Validate feed bytes. ``base_dir`` is the folder the feed's base URL is served from (public/).

    Raises FeedReadError only for hostile input (entity declarations); a broken document is
    reported as a finding.
    """
    from feedtool.validation import readiness, rules_apple, rules_p20, rules_podcast, rules_rss

    report = Report(feed=name)
    try:
        root = parse(data, name)
    except NotWellFormed as broken:
        report.findings.append(Finding.make(broken.rule, broken.message, line=broken.line, scope="feed"))
        return report
    options = Options(source_url=source_url, max_bytes=max_bytes, now_ts=now_ts, timeout_s=timeout_s)
    ctx = Context(options=options)
    if data[:200].lstrip().startswith(b"<?xml"):
        from feedtool.validation.xmlsafe import declared_encoding

        encoding = declared_encoding(data)
        if encoding is not None and encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
            ctx.emit("xml.encoding", f"the feed declares encoding=\"{encoding}\"; Apple requires UTF-8", line=1,
                     scope="feed")
    channel_el = rules_rss.check_document(ctx, root)
    if channel_el is not None:
        channel = Node(channel_el, None)
        ctx.channel = channel
        ctx.items = [Node(el, i) for i, el in enumerate(channel.all("item"))]
        _locate(options, channel, source_url, base_url, base_dir, check_media)
        serial = (channel.text(it("type")) or "").strip() == "serial"
        medium = (channel.text(pc("medium")) or "").strip()
        listing = rules_podcast.is_list_medium(medium)  # a publisher or list feed: not a show Apple lists
        rules_rss.check_channel(ctx, channel)
        if listing:
            ctx.emit("apple.not-applicable", f"the feed is a {medium} feed (podcast:medium), not a show: Apple's "
                     "rules do not apply", el=channel.first(pc("medium")), subject="podcast:medium")
        else:
            rules_apple.check_channel(ctx, channel)
        rules_podcast.check_channel(ctx, channel)
        rules_p20.check_channel(ctx, channel, listing=listing)
        rss_item, apple_item, podcast_item = rules_rss.check_item, rules_apple.check_item, rules_podcast.check_item
        for item in ctx.items:
            rss_item(ctx, item)
            if not listing:
                apple_item(ctx, item, serial=serial)
            podcast_item(ctx, item)
            rules_p20.check_item(ctx, item)
        rules_p20.check_size(ctx, len(data), archived=any(
            el.get("rel") == "prev-archive" for el in channel.all("{" + ATOM + "}link")))
        rules_rss.check_feed(ctx)
        readiness.check_feed(ctx, listing=listing)
        if base_dir is not None and check_media is None and options.base_url is None:
            ctx.emit("media.not-checked", "the feed has no atom:link rel=\"self\", so its URLs cannot be mapped to "
                     "files next to it; no media files were checked", scope="feed",
                     fix="Pass --base-url with the URL the feed's folder is served at, or --check-media to "
                         "check over HTTP.")
        if options.local_media or options.http_media:
            from feedtool.validation.media import check_media as run_media_checks

            run_media_checks(ctx)
            report.checked_media = True
    report.items = len(ctx.items)
    report.findings.extend(ctx.findings)
    return report


def _locate(options: Options, channel: Node, source_url: str | None, base_url: str | None,
            base_dir: Path | None, check_media: bool | None) -> None:
    """Work out the feed URL, the base URL that maps to ``base_dir``, and which media checks run."""
    self_href = None
    for el in channel.all("{" + ATOM + "}link"):
        if el.get("rel") == "self" and is_url((el.get("href") or "").strip()):
            self_href = el.get("href").strip()
            break
    options.feed_url = self_href or source_url
    if base_url is None and self_href is not None and base_dir is not None:
        base_url = self_href.rsplit("/", 1)[0] + "/"
    if base_url is not None and not base_url.endswith("/"):
        base_url += "/"
    options.base_url = base_url
    options.base_dir = base_dir
    options.local_media = base_dir is not None and base_url is not None and check_media is not False
    options.http_media = check_media is True

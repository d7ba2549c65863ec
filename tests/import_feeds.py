"""Small RSS feeds for the import tests, written the way hosts write them (no feedtool involved)."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

NAMESPACES = ('xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
              'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
              'xmlns:atom="http://www.w3.org/2005/Atom" '
              'xmlns:podcast="https://podcastindex.org/namespace/1.0" '
              'xmlns:psc="http://podlove.org/simple-chapters"')


def item(title: str, *, guid: str | None = "auto", url: str | None = None, length: int | None = 1000,
         kind: str = "audio/mpeg", duration: str | None = "5", date: str = "Mon, 01 Jan 2024 10:00:00 GMT",
         description: str = "<p>Notes.</p>", extra: str = "") -> str:
    parts = [f"<item><title>{escape(title)}</title>"]
    if guid == "auto":
        guid = f"guid-{title}"
    if guid is not None:
        parts.append(f'<guid isPermaLink="false">{escape(guid)}</guid>')
    parts.append(f"<pubDate>{date}</pubDate>")
    parts.append(f"<description><![CDATA[{description}]]></description>")
    if url is not None:
        length_attr = f" length={quoteattr(str(length))}" if length is not None else ""
        parts.append(f"<enclosure url={quoteattr(url)}{length_attr} type={quoteattr(kind)}/>")
    if duration is not None:
        parts.append(f"<itunes:duration>{duration}</itunes:duration>")
    parts.append(extra)
    parts.append("</item>")
    return "".join(parts)


def feed(items: list[str], *, title: str = "Imported Show", extra: str = "", image: str | None = None,
         encoding: str | None = "UTF-8", self_url: str | None = None) -> str:
    declaration = f'<?xml version="1.0" encoding="{encoding}"?>\n' if encoding else ""
    image_tag = f'<itunes:image href="{image}"/>' if image else ""
    self_tag = f'<atom:link href="{self_url}" rel="self" type="application/rss+xml"/>' if self_url else ""
    return (f'{declaration}<rss version="2.0" {NAMESPACES}><channel><title>{escape(title)}</title>'
            f"<link>https://example.com/</link><description>A show.</description><language>en</language>"
            f"{self_tag}<itunes:author>Someone</itunes:author>{image_tag}"
            f'<itunes:category text="Technology"/><itunes:explicit>false</itunes:explicit>{extra}'
            + "".join(items) + "</channel></rss>\n")

"""Where a listener can follow the show: one link per app, and only links that work.

Apple Podcasts and Spotify give a show an id when it is listed, so their links come from
podcast.yaml (``site.apple_podcasts``, ``site.spotify``). Overcast and Pocket Casts index Apple's
directory and link to a show by its Apple id (overcast.fm/itunes<ID>, pca.st/itunes/<ID>), so
those links exist once the Apple URL is known (or are given directly). AntennaPod's subscribe
page and the feed itself need only the feed's URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from feedtool.model import Show
from feedtool.site.settings import apple_id


@dataclass(frozen=True)
class AppLink:
    app: str  # the name people know it by
    url: str
    key: str  # a short name for CSS and tests: apple, spotify, pocketcasts, overcast, antennapod, rss


def subscribe_links(show: Show) -> list[AppLink]:
    site = show.site
    links = []
    if site.apple_podcasts:
        links.append(AppLink("Apple Podcasts", site.apple_podcasts, "apple"))
    if site.spotify:
        links.append(AppLink("Spotify", site.spotify, "spotify"))
    number = apple_id(site.apple_podcasts)
    pocket_casts = site.pocket_casts or (f"https://pca.st/itunes/{number}" if number else None)
    if pocket_casts:
        links.append(AppLink("Pocket Casts", pocket_casts, "pocketcasts"))
    overcast = site.overcast or (f"https://overcast.fm/itunes{number}" if number else None)
    if overcast:
        links.append(AppLink("Overcast", overcast, "overcast"))
    links.append(AppLink(
        "AntennaPod",
        f"https://antennapod.org/deeplink/subscribe?url={quote(show.feed_url, safe='')}"
        f"&title={quote(show.title, safe='')}",
        "antennapod",
    ))
    links.append(AppLink("RSS", show.feed_url, "rss"))
    return links

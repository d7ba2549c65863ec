"""The show's website: static pages next to the feed in public/ (on unless ``site: false``).

    public/index.html              the newest episodes; page/2/index.html ... for the older ones
    public/<slug>/index.html       one page per episode: player, chapters, notes, transcript
    public/404.html                what a host shows for a missing page
    public/style-<sha8>.css        one small stylesheet; player-<sha8>.js, a few lines for the player
    public/feed-<sha8>.xsl|.css    what a browser shows for feed.xml (linked from the feed)

One job per module: settings.py reads ``site:`` from podcast.yaml; theme.py loads the Jinja2
templates (feedtool's own, overridden by files in episodes/theme/); subscribe.py makes the
app links; transcript.py reads VTT/SRT/JSON transcripts into timed lines; pages.py turns the
feed's entries into page contexts; render.py renders and places them (through the build cache,
only what changed, on every core for a big show); feedview.py links the feed to its stylesheets.

build.py calls ``SiteBuild`` around rendering the feed: ``entries`` gives the entries with their
page URLs (the item ``<link>`` when the episode sets none), ``stylesheets`` the feed's
``<?xml-stylesheet?>`` targets, and ``write()`` puts every page and asset into the staging tree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from feedtool.site.render import SiteBuild

__all__ = ["SiteBuild"]


def __getattr__(name: str) -> object:
    if name == "SiteBuild":  # imported lazily: load.py imports feedtool.site.settings at start-up
        from feedtool.site.render import SiteBuild

        return SiteBuild
    raise AttributeError(name)

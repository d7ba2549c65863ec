"""The ``site:`` key of podcast.yaml -> SiteSettings (checked like every other key).

    site: false                  # no website, only the feed
    site:                        # or settings (all optional)
      per_page: 50
      apple_podcasts: https://podcasts.apple.com/us/podcast/the-show/id1234567890
      spotify: https://open.spotify.com/show/4rOoJ6Egrf8K2IrywzwOMk
      verification: {google-site-verification: 3sXq...}
      rel_me: [https://mastodon.social/@theshow]
      feed_stylesheet: xslt      # xslt | css | none

Called by load.load_show with its ``Fields`` helper, so errors name the file, the line and the
field (``site.spotify``) like any other.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from feedtool.model import SiteSettings

if TYPE_CHECKING:
    from feedtool.errors import InputError
    from feedtool.load import Fields

SITE_KEYS = ("per_page", "apple_podcasts", "spotify", "pocket_casts", "overcast", "verification",
             "rel_me", "feed_stylesheet")
FEED_STYLESHEETS = ("xslt", "css", "none")
_APPLE_URL = re.compile(r"^https://podcasts\.apple\.com/(?:[^\s?#]*/)?id(\d{5,})(?:[/?#]\S*)?$")
_SPOTIFY_URL = re.compile(r"^https://open\.spotify\.com/show/[A-Za-z0-9]{10,40}(?:\?\S*)?$")
_META_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def apple_id(url: str | None) -> str | None:
    """The numeric show id in an Apple Podcasts URL (what Overcast and Pocket Casts link by)."""
    match = _APPLE_URL.match(url or "")
    return match.group(1) if match else None


def read_site_settings(fields: Fields) -> SiteSettings:
    value = fields.raw("site")
    if value is None:
        return SiteSettings()
    if isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no")):
        return SiteSettings(enabled=fields.bool_("site", True))
    if not isinstance(value, dict):
        raise fields.error("site", f"must be false (no website) or a mapping of site settings, not {value!r}",
                           "see 'site' in docs/format.md")
    sub = fields.sub("site", value)
    sub.check_known(SITE_KEYS)
    per_page = sub.int_("per_page") or 50
    if per_page > 1000:
        raise sub.error("per_page", f"must be 1000 or less, not {per_page}")
    return SiteSettings(
        per_page=per_page,
        apple_podcasts=_apple(sub),
        spotify=_matching(sub, "spotify", _SPOTIFY_URL,
                          "must be your show's Spotify URL, like https://open.spotify.com/show/4rOoJ6Egrf8K2IrywzwOMk"),
        pocket_casts=sub.url("pocket_casts", https=True),
        overcast=sub.url("overcast", https=True),
        verification=_verification(sub),
        rel_me=_rel_me(sub),
        feed_stylesheet=sub.choice("feed_stylesheet", FEED_STYLESHEETS, "xslt"),
    )


def _apple(sub: Fields) -> str | None:
    value = sub.raw("apple_podcasts")
    if value is None:
        return None
    text = str(value).strip()
    if isinstance(value, int) or text.isdigit():
        return f"https://podcasts.apple.com/podcast/id{text}"
    return _matching(sub, "apple_podcasts", _APPLE_URL,
                     "must be your show's Apple Podcasts URL (https://podcasts.apple.com/…/id1234567890) "
                     "or its number")


def _matching(sub: Fields, key: str, pattern: re.Pattern[str], message: str) -> str | None:
    text = sub.text_(key)
    if text is None:
        return None
    if not pattern.match(text):
        raise sub.error(key, message)
    return text


def _verification(sub: Fields) -> tuple[tuple[str, str], ...]:
    mapping = sub.mapping("verification")
    if not mapping:
        return ()
    pairs = []
    for name, token in mapping.items():
        if not isinstance(name, str) or not _META_NAME.match(name):
            raise sub.error("verification", f"{name!r} is not a meta tag name",
                            "use the name the service gives, e.g. google-site-verification")
        text = "" if token is None or isinstance(token, (dict, list)) else str(token).strip()
        if not text or _CONTROL.search(text):
            raise sub.error("verification", f"the token for {name} must be one line of text")
        pairs.append((name, text))
    return tuple(pairs)


def _rel_me(sub: Fields) -> tuple[str, ...]:
    from feedtool.load import check_url

    def error(message: str) -> InputError:
        return sub.error("rel_me", message)

    return tuple(check_url(str(item).strip(), https=False, where=error) for item in sub.items("rel_me"))

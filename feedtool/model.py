"""The podcast as plain data: what load.py reads and every later step works from.

Frozen, typed dataclasses with no third-party imports. Times are seconds (``_s``), local files are
``Path`` objects (the URL they get when served is decided by build, not here), dates are aware
datetimes in UTC. The local files of audio, artwork, chapter images and transcripts are the
resolved paths load checked (feedtool.files.ShowFolder): read those, never re-join a name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True, kw_only=True)
class Person:
    """podcast:person; role and group come from the Podcasting 2.0 taxonomy (lower case)."""

    name: str
    role: str = "host"
    group: str = "cast"
    href: str | None = None
    img: str | None = None


@dataclass(frozen=True, kw_only=True)
class Chapter:
    """One chapter: where it starts, what it is called, optionally a link and a picture.

    ``image`` is either an absolute URL or a local file next to the episode; ``toc=False`` is a
    "silent" chapter (an artwork change) that apps leave out of the chapter list.
    ``end_s`` is only set where the source gave one; tagging fills ends from the next start.
    ``location`` is where the chapter is about (JSON chapters' name, geo and osm), kept from a
    JSON chapters file and written back to chapters.json.
    """

    start_s: float
    title: str
    url: str | None = None
    image: str | None = None
    toc: bool = True
    end_s: float | None = None
    location: Location | None = None


@dataclass(frozen=True, kw_only=True)
class Category:
    """An Apple category with at most one subcategory, spelled exactly as Apple lists it."""

    name: str
    sub: str | None = None


@dataclass(frozen=True, kw_only=True)
class Owner:
    name: str
    email: str


@dataclass(frozen=True, kw_only=True)
class Funding:
    url: str
    text: str


@dataclass(frozen=True, kw_only=True)
class Location:
    name: str
    geo: str | None = None
    osm: str | None = None
    country: str | None = None
    rel: str | None = None


@dataclass(frozen=True, kw_only=True)
class License:
    identifier: str
    url: str | None = None


@dataclass(frozen=True, kw_only=True)
class Txt:
    value: str
    purpose: str | None = None


@dataclass(frozen=True, kw_only=True)
class UpdateFrequency:
    text: str
    rrule: str | None = None
    dtstart: str | None = None
    complete: bool | None = None


@dataclass(frozen=True, kw_only=True)
class Trailer:
    """podcast:trailer: a show-level preview that lives at an absolute URL."""

    title: str
    url: str
    pubdate: datetime
    length: int | None = None
    type: str | None = None
    season: int | None = None


@dataclass(frozen=True, kw_only=True)
class Soundbite:
    start_s: float
    duration_s: float
    title: str = ""


@dataclass(frozen=True, kw_only=True)
class Transcript:
    """A transcript file next to the episode; served next to the audio."""

    path: Path
    mime: str  # text/vtt, application/x-subrip, text/html, text/plain, application/json
    language: str | None = None
    rel: str | None = None  # "captions" for timed captions


@dataclass(frozen=True, kw_only=True)
class PublishTarget:
    """Where ``feedtool publish`` puts public/: a local folder or an S3 URL (never credentials)."""

    to: str
    endpoint_url: str | None = None
    region: str | None = None
    addressing_style: str | None = None  # "path" | "virtual" | "auto"
    acl: str | None = None  # e.g. "public-read" for services that need it
    max_deletes: int = 10
    grace_days: int = 7  # --delete keeps what a feed live this recently still references


@dataclass(frozen=True, kw_only=True)
class SiteSettings:
    """The show's website (``site:`` in podcast.yaml; feedtool/site/ builds it).

    The app links that need the show's id in a directory (Apple Podcasts, Spotify) are only shown
    when podcast.yaml gives them; Overcast and Pocket Casts links are made from the Apple id.
    """

    enabled: bool = True
    per_page: int = 50
    apple_podcasts: str | None = None  # the show's Apple Podcasts URL
    spotify: str | None = None  # https://open.spotify.com/show/...
    pocket_casts: str | None = None  # overrides the link made from the Apple id
    overcast: str | None = None  # overrides the link made from the Apple id
    verification: tuple[tuple[str, str], ...] = ()  # (meta name, token) pairs for the home page
    rel_me: tuple[str, ...] = ()  # profile URLs that link back (<link rel="me">)
    feed_stylesheet: str = "xslt"  # xslt (with a CSS fallback) | css | none


@dataclass(frozen=True, kw_only=True)
class RemoteItem:
    """podcast:remoteItem: another feed (or one item of it), named by its podcast:guid."""

    feed_guid: str
    feed_url: str | None = None
    item_guid: str | None = None
    medium: str | None = None
    title: str | None = None


@dataclass(frozen=True, kw_only=True)
class ValueRecipient:
    """podcast:valueRecipient: who gets a share of each payment (``split`` shares; a fee comes off the top)."""

    name: str | None
    type: str  # node | lnaddress | wallet | keysend
    address: str
    split: int
    fee: bool = False
    custom_key: str | None = None
    custom_value: str | None = None


@dataclass(frozen=True, kw_only=True)
class ValueTimeSplit:
    """podcast:valueTimeSplit: other recipients (or a remote item's) for one segment of an episode."""

    start_s: float
    duration_s: float
    recipients: tuple[ValueRecipient, ...] = ()
    remote_item: RemoteItem | None = None
    remote_start_s: float | None = None
    remote_percentage: int | None = None


@dataclass(frozen=True, kw_only=True)
class Value:
    """podcast:value: how listeners can pay as they listen (lightning keysend, lnaddress ...)."""

    type: str = "lightning"
    method: str = "keysend"
    suggested: str | None = None  # a decimal in the currency, kept as written (e.g. 0.00000005000)
    recipients: tuple[ValueRecipient, ...] = ()
    time_splits: tuple[ValueTimeSplit, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PlatformBlock:
    """podcast:block: ``platform`` None is every platform; blocked False lets a platform in."""

    platform: str | None
    blocked: bool = True


@dataclass(frozen=True, kw_only=True)
class SocialInteract:
    """podcast:socialInteract: where the comments live (protocol "disabled": no comments wanted)."""

    protocol: str
    uri: str | None = None
    account_id: str | None = None
    account_url: str | None = None
    priority: int | None = None


@dataclass(frozen=True, kw_only=True)
class Chat:
    """podcast:chat: the show's or episode's chat room."""

    server: str
    protocol: str
    account_id: str | None = None
    space: str | None = None


@dataclass(frozen=True, kw_only=True)
class Image:
    """podcast:image: one picture with what apps need to pick it (width, aspect ratio, purpose).

    Either ``path`` (a local file build serves under a content name and measures) or ``href``.
    """

    path: Path | None = None
    href: str | None = None
    alt: str | None = None
    aspect_ratio: str | None = None
    width: int | None = None
    height: int | None = None
    type: str | None = None
    purpose: str | None = None


@dataclass(frozen=True, kw_only=True)
class ContentLink:
    """podcast:contentLink: the episode elsewhere (a video, a page), for apps that cannot play it."""

    href: str
    text: str


@dataclass(frozen=True, kw_only=True)
class Spotify:
    """Spotify's own channel tags (namespace http://www.spotify.com/ns/rss)."""

    limit: int | None = None  # spotify:limit recentCount
    countries: tuple[str, ...] = ()  # spotify:countryOfOrigin, ISO 3166-1 alpha-2, lower case


@dataclass(frozen=True, kw_only=True)
class FeedLayout:
    """How big the feed may grow: full notes for the newest N, at most N items (older ones in archive pages)."""

    full_notes: int | None = None
    max_items: int | None = None
    page_size: int | None = None  # items per archive page (default: max_items)


@dataclass(frozen=True, kw_only=True)
class NotifySettings:
    """Who `feedtool publish` tells about a new feed, and where they are (URLs are settings for tests)."""

    podping: bool = False
    podping_url: str = "https://podping.cloud/"
    websub_hub: str | None = None
    podcastindex: bool = False
    podcastindex_url: str = "https://api.podcastindex.org/api/1.0/hub/pubnotify"
    timeout_s: float = 15.0


@dataclass(frozen=True, kw_only=True)
class Show:
    """The channel: what podcast.yaml says."""

    source: Path  # the podcast.yaml it came from
    title: str
    description: str  # Markdown
    author: str
    language: str
    link: str
    base_url: str  # where public/ is served, ends with "/"
    artwork: Path
    categories: tuple[Category, ...]
    explicit: bool
    type: str = "episodic"  # or "serial"
    owner: Owner | None = None
    copyright: str | None = None
    block: bool = False
    complete: bool = False
    new_feed_url: str | None = None
    itunes_title: str | None = None
    podcast_guid: str  # UUIDv5 of the feed URL unless podcast.yaml pins one
    locked: bool = False
    locked_owner: str | None = None
    funding: tuple[Funding, ...] = ()
    people: tuple[Person, ...] = ()
    license: License | None = None
    location: Location | None = None
    medium: str = "podcast"
    txt: tuple[Txt, ...] = ()
    update_frequency: UpdateFrequency | None = None
    trailers: tuple[Trailer, ...] = ()
    feed_name: str = "feed.xml"
    publish: PublishTarget | None = None
    # Podcasting 2.0 beyond phase 3, directories, feed size and notifications (feedtool/load_p20.py)
    value: Value | None = None
    podroll: tuple[RemoteItem, ...] = ()
    publisher: RemoteItem | None = None
    platform_blocks: tuple[PlatformBlock, ...] = ()
    social_interact: tuple[SocialInteract, ...] = ()
    chat: Chat | None = None
    images: tuple[Image, ...] = ()
    spotify: Spotify | None = None
    layout: FeedLayout = field(default_factory=FeedLayout)
    enclosure_prefixes: tuple[str, ...] = ()
    notify: NotifySettings | None = None
    #: what is allowed but worth a word (validate's warnings for the same values); build prints them
    warnings: tuple[str, ...] = field(default=(), compare=False)
    site: SiteSettings = field(default_factory=SiteSettings)

    @property
    def feed_url(self) -> str:
        return self.base_url + self.feed_name


@dataclass(frozen=True)
class Master:
    """One 'audio:' value of an episode: a file next to episode.md, or where the master lives
    when it is not in git (issue 10: an ``https://`` (or ``http://``) URL or ``s3://bucket/key``).

    ``path`` is the checked local file when it is on this machine. A file that is not (it is
    gitignored and this is a fresh clone) is still a master: build uses what episodes/feedtool.lock
    recorded about it, and needs the bytes only when a new tagged copy must be made.
    """

    source: str  # as written in episode.md
    path: Path | None = None
    line: int | None = field(default=None, compare=False)  # of 'audio:' in episode.md, for messages

    @property
    def remote(self) -> bool:
        return self.source.startswith(("https://", "http://", "s3://"))


@dataclass(frozen=True, kw_only=True)
class Episode:
    """One episode folder: its episode.md and the files next to it."""

    slug: str  # the folder name; also the folder in public/
    source: Path  # .../<slug>/episode.md
    title: str
    date: datetime
    #: the 'audio:' values: the enclosure's master first, then the alternates. Empty only for a
    #: draft whose audio is not there yet. Never modified.
    masters: tuple[Master, ...] = ()
    notes: str = ""  # Markdown show notes (the body of episode.md)
    summary: str | None = None  # an explicit plain description, else derived from notes
    guid: str | None = None  # from front matter; build fills in the recorded/derived one
    number: int | None = None  # itunes:episode
    number_display: str | None = None  # podcast:episode display=
    season: int | None = None
    season_name: str | None = None
    episode_type: str = "full"  # full | trailer | bonus
    explicit: bool | None = None  # None: the show's value
    block: bool = False
    link: str | None = None
    artwork: Path | None = None
    itunes_title: str | None = None
    people: tuple[Person, ...] = ()
    chapters: tuple[Chapter, ...] = ()
    chapters_source: str = ""  # where the chapters came from, for messages and `feedtool chapters`
    #: chapter.image (a local name) -> the resolved file, checked like every file of the show
    chapter_images: dict[str, Path] = field(default_factory=dict, compare=False)
    transcripts: tuple[Transcript, ...] = ()
    funding: tuple[Funding, ...] = ()
    soundbites: tuple[Soundbite, ...] = ()
    license: License | None = None
    location: Location | None = None
    txt: tuple[Txt, ...] = ()
    draft: bool = False
    # Podcasting 2.0 beyond phase 3 (feedtool/load_p20.py)
    value: Value | None = None
    social_interact: tuple[SocialInteract, ...] = ()
    chat: Chat | None = None
    images: tuple[Image, ...] = ()
    content_links: tuple[ContentLink, ...] = ()
    extra: dict[str, object] = field(default_factory=dict, compare=False)
    #: what is allowed but worth a word (validate's warnings for the same values); build prints them
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def audio(self) -> Path | None:
        """The enclosure's master as a local file, when it is on this machine."""
        return self.masters[0].path if self.masters else None

    @property
    def audio_name(self) -> str:
        """The first 'audio:' value as written (the guid ledger records it)."""
        return self.masters[0].source if self.masters else ""

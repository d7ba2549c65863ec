"""Every rule the validator knows: id, severity, what it checks, where the rule comes from, the fix.

This table is the single source of truth: the checks emit findings by id, the JSON output carries
the id and severity from here, and docs/validate.md is generated from it (a test keeps the file in
step). Ids are stable: tools and CI configurations refer to them, so rename none.

Sources are the tags of shared/reference/standards.md section 0: APPLE-GUIDE (Apple's "A Podcaster's
Guide to RSS"), APPLE-REQ, APPLE-2023, APPLE-ART, APPLE-CAT, RSS2 (the RSS 2.0 spec and the RSS
Best Practices Profile), PN (the Podcasting 2.0 namespace), W3C (the W3C feed validator, where it
is right), derived (an engineering inference, said so).

For a feed that feedtool built, a finding is also placed in the podcaster's own files (the
episode.md or podcast.yaml key to change; see feedtool.validation.sourcemap). ``source_fields``
says which key a finding concerns: a rule's own ``field`` when it always concerns one key, else
the element it was found on (``SOURCE_FIELDS``).
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    severity: str
    summary: str  # what the rule checks, one sentence
    source: str  # where the rule comes from
    fix: str  # what to do when it fires
    #: the podcast.yaml / episode.md key this rule always concerns (None: decided by the element)
    field: str | None = None


RULES: dict[str, Rule] = {}

#: Rules about whether a feed is ready to go live (placeholders left from `feedtool init`, no
#: episodes): warnings in validate and build, errors for `publish` to a remote target.
READINESS_PREFIX = "ready."


def _rule(id: str, severity: str, summary: str, source: str, fix: str, *, field: str | None = None) -> None:
    assert id not in RULES, id
    assert severity in SEVERITIES, severity
    RULES[id] = Rule(id, severity, summary, source, fix, field)


def is_readiness(rule_id: str) -> bool:
    return rule_id.startswith(READINESS_PREFIX)


# --- reading the feed ----------------------------------------------------------------------------
_rule("feed.unreadable", ERROR, "The feed can be read: the file or URL answers, is under --max-size, and declares "
      "no XML entities. Reported as the only finding (exit status 2) in --format json and github.",
      "derived", "Follow the message: build first, check the URL, raise --max-size, or remove the <!DOCTYPE> block.")

# --- the document ------------------------------------------------------------------------------
_rule("xml.well-formed", ERROR, "The feed is well-formed XML (nothing after </rss>, every & escaped).",
      "APPLE-REQ; W3C", "Fix the XML at the line shown; escape & as &amp; and remove anything after </rss>.")
_rule("xml.encoding", ERROR, "The feed is UTF-8 (declared and actual bytes).",
      "APPLE-REQ", "Save the feed as UTF-8 and declare <?xml version=\"1.0\" encoding=\"UTF-8\"?>.")
_rule("rss.version", ERROR, "The root element is <rss version=\"2.0\"> with one <channel>.",
      "APPLE-REQ; RSS2", "Use <rss version=\"2.0\"> with exactly one <channel> inside (Apple no longer reads Atom).")
_rule("rss.namespace", ERROR, "The itunes, content, atom and podcast namespaces use their exact URIs.",
      "APPLE-REQ; PN 1.0.md", "Declare xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\", "
      "xmlns:content=\"http://purl.org/rss/1.0/modules/content/\", xmlns:atom=\"http://www.w3.org/2005/Atom\" "
      "and xmlns:podcast=\"https://podcastindex.org/namespace/1.0\" exactly (case matters).")
_rule("rss.channel.required", ERROR, "The channel has a non-empty <title>, <link> and <description>.",
      "RSS2; APPLE-GUIDE", "Add the missing channel element.")
_rule("rss.item.title", ERROR, "Every episode has a non-empty <title>.",
      "APPLE-GUIDE", "Give the episode a <title>.")
_rule("rss.pubdate.format", ERROR, "pubDate and lastBuildDate are RFC 2822 dates (e.g. Wed, 15 Jun 2022 19:00:00 GMT).",
      "APPLE-REQ; RSS2; W3C InvalidRFC2822Date", "Write the date as email.utils.format_datetime(dt, usegmt=True) does: "
      "'Wed, 15 Jun 2022 19:00:00 GMT' (English day and month names).")
_rule("rss.pubdate.weekday", ERROR, "The weekday in a date is the right one for that date.",
      "RSS2; W3C IncorrectDOW", "Correct the weekday, or generate the date with a library.")
_rule("rss.pubdate.missing", WARNING, "Every episode has a pubDate (apps sort and show episodes by it).",
      "APPLE-GUIDE", "Add <pubDate> with the release date.")
_rule("rss.pubdate.future", WARNING, "No episode is dated more than a day in the future.",
      "W3C ImplausibleDate; derived", "Check the date; apps may hide an episode dated in the future.")
_rule("rss.guid.missing", ERROR, "Every episode has a non-empty <guid> (Apple requires it since 2023).",
      "APPLE-2023; APPLE-GUIDE", "Add a <guid isPermaLink=\"false\"> with a value that will never change (a UUID).")
_rule("rss.guid.duplicate", ERROR, "No two episodes share a guid (Apple skips new episodes with a used guid).",
      "APPLE-2023; W3C DuplicateValue", "Give each episode its own guid; never reuse one.")
_rule("rss.guid.permalink", WARNING, "A guid that is not an http(s) URL says isPermaLink=\"false\" (the default is true).",
      "RSS2; W3C InvalidHttpGUID", "Add isPermaLink=\"false\" to the guid (keep its value unchanged).")
_rule("rss.guid.unstable", WARNING, "A guid has a stable form: not the enclosure URL, not a short number, no spaces.",
      "APPLE-GUIDE; W3C NotSufficientlyUnique; derived", "Keep the published guid, but choose UUIDs for new "
      "episodes; a guid that is the media URL changes when the file moves.")
_rule("rss.enclosure.missing", ERROR, "Every episode has an <enclosure> (an item without one is not an episode).",
      "APPLE-GUIDE", "Add <enclosure url=\"...\" length=\"bytes\" type=\"audio/mpeg\"/>.")
_rule("rss.enclosure.multiple", WARNING, "An episode has one <enclosure> (apps use only the first).",
      "RSS Profile; W3C DuplicateEnclosure", "Keep one enclosure; offer other formats with podcast:alternateEnclosure.")
_rule("rss.atom-self.missing", WARNING, "The channel has <atom:link rel=\"self\"> with the feed's own URL.",
      "RSS Profile; W3C MissingAtomSelfLink", "Add <atom:link href=\"<feed URL>\" rel=\"self\" type=\"application/rss+xml\"/>.",
      field="base_url")
_rule("rss.atom-self.mismatch", WARNING, "The atom:link rel=\"self\" href is the URL the feed was read from.",
      "W3C SelfDoesntMatchLocation", "Set the self link to the feed's public URL (or redirect the old URL).",
      field="base_url")
_rule("rss.element.duplicate", WARNING, "Elements that may appear once (title, guid, pubDate, itunes:explicit, "
      "itunes:duration ...) appear once in the channel or episode.", "RSS2; W3C DuplicateSemantics",
      "Remove the extra element; apps read only one of them, and not all the same one.")
_rule("rss.url", ERROR, "Links are absolute http(s) URLs.", "RSS2; APPLE-GUIDE",
      "Use an absolute URL starting with https://.")

# --- Apple: channel ----------------------------------------------------------------------------
_rule("apple.language", ERROR, "The channel has a <language> with an ISO 639 code (en, en-us, pt-BR).",
      "APPLE-GUIDE", "Add <language> with a two-letter ISO 639 code and optional region, e.g. en-us.")
_rule("apple.category.missing", ERROR, "The channel has at least one <itunes:category>.",
      "APPLE-GUIDE", "Add <itunes:category text=\"...\"> from Apple's list.")
_rule("apple.category.invalid", ERROR, "Categories and subcategories are from Apple's current list, spelled exactly.",
      "APPLE-CAT", "Use a category from Apple's list (see docs/validate.md); spelling and case matter.")
_rule("apple.category.nesting", WARNING, "A category nests at most one subcategory, one level deep.",
      "APPLE-GUIDE", "Keep one subcategory per <itunes:category>; add another top-level category instead.")
_rule("apple.explicit.missing", ERROR, "The channel has <itunes:explicit>.",
      "APPLE-GUIDE", "Add <itunes:explicit>false</itunes:explicit> (or true).")
_rule("apple.explicit.value", ERROR, "itunes:explicit is true or false.",
      "APPLE-GUIDE; W3C InvalidTrueFalse", "Write true or false.")
_rule("apple.explicit.legacy", WARNING, "itunes:explicit uses true/false rather than the legacy yes/no/clean.",
      "APPLE-GUIDE", "Write true instead of yes, false instead of no or clean.")
_rule("apple.author.missing", WARNING, "The channel has <itunes:author> (shown under the show title).",
      "APPLE-GUIDE", "Add <itunes:author> with the host or network name.")
_rule("apple.type.value", ERROR, "itunes:type is episodic or serial.", "APPLE-GUIDE; W3C",
      "Write episodic or serial.")
_rule("apple.serial.numbers", ERROR, "In a serial show every full episode has <itunes:episode>.",
      "APPLE-GUIDE", "Number the episodes with <itunes:episode>, or make the show episodic.")
_rule("apple.block.value", WARNING, "itunes:block and itunes:complete hold Yes (any other value but No has no effect).",
      "APPLE-GUIDE", "Write Yes to hide the show or episode (or mark the show complete), or remove the tag.")
_rule("apple.block.set", INFO, "The show or an episode is blocked, or the show is complete.",
      "APPLE-GUIDE", "Remove itunes:block if the show or episode should be listed.")
_rule("apple.new-feed-url", ERROR, "itunes:new-feed-url is an absolute http(s) URL.", "APPLE-GUIDE; W3C",
      "Write the full URL of the new feed.")
_rule("apple.artwork.missing", ERROR, "The channel has <itunes:image href=\"...\">.", "APPLE-GUIDE",
      "Add <itunes:image href=\"https://.../cover.jpg\"/> (the URL in the href attribute).")
_rule("apple.artwork.url", ERROR, "An itunes:image href is an absolute http(s) URL ending .jpg/.jpeg/.png.",
      "APPLE-GUIDE; APPLE-ART", "Put an absolute URL of a .jpg or .png file in the href attribute.")
_rule("apple.artwork.size", ERROR, "Artwork is square and between 1400x1400 and 3000x3000 pixels.",
      "APPLE-ART", "Export the artwork square, 3000x3000 px preferred (at least 1400x1400).")
_rule("apple.artwork.format", ERROR, "Artwork is JPEG or PNG in the RGB colour space, and its extension matches its type.",
      "APPLE-ART", "Save as RGB JPEG (.jpg) or PNG (.png); convert CMYK, greyscale or palette images to RGB.")
_rule("apple.artwork.alpha", WARNING, "Show artwork has no alpha channel.", "APPLE-ART",
      "Flatten the image (remove transparency) before export.")
_rule("apple.artwork.unreadable", ERROR, "Artwork can be read as an image.", "APPLE-ART",
      "Upload a valid JPEG or PNG file at that URL.")

# --- Apple: episodes ---------------------------------------------------------------------------
_rule("apple.enclosure.url", ERROR, "The enclosure url is an absolute http(s) URL, ASCII only, without spaces.",
      "APPLE-REQ; RSS2", "Use an absolute https:// URL; percent-encode or rename files with spaces or non-ASCII letters.")
_rule("apple.enclosure.length", ERROR, "The enclosure length is the file size in bytes (an integer > 0).",
      "APPLE-GUIDE; RSS2", "Set length to the exact size of the file in bytes.")
_rule("apple.enclosure.type", ERROR, "The enclosure type is one Apple accepts and matches the file extension.",
      "APPLE-GUIDE", "Use audio/mpeg for .mp3, audio/x-m4a for .m4a, video/mp4 for .mp4, video/x-m4v for .m4v, "
      "video/quicktime for .mov, application/pdf for .pdf.")
_rule("apple.enclosure.extension", ERROR, "The enclosure URL ends in an extension Apple lists (mp3, m4a, mp4, m4v, mov, pdf).",
      "APPLE-GUIDE; APPLE-AUDIO", "Publish MP3 or AAC (.m4a) in the enclosure; offer other formats with podcast:alternateEnclosure.")
_rule("apple.enclosure.duplicate", ERROR, "No two episodes share an enclosure URL (Apple ignores duplicates).",
      "APPLE-REQ", "Give each episode its own media file URL; never reuse a URL.")
_rule("apple.episode-type.value", ERROR, "itunes:episodeType is full, trailer or bonus.", "APPLE-GUIDE; W3C",
      "Write full, trailer or bonus (lower case).")
_rule("apple.number", ERROR, "itunes:episode and itunes:season are integers >= 1.", "APPLE-GUIDE; W3C",
      "Write a whole number from 1 up (no '#', no decimals).")
_rule("apple.duration.format", ERROR, "itunes:duration is seconds or [[H:]M:]SS with minutes and seconds below 60.",
      "APPLE-GUIDE; W3C", "Write the duration as whole seconds, e.g. 3725.")
_rule("apple.duration.missing", WARNING, "Every episode has <itunes:duration>.", "APPLE-GUIDE",
      "Add <itunes:duration> in whole seconds.")
_rule("apple.description.missing", WARNING, "Every episode has a <description> (or content:encoded).", "APPLE-GUIDE",
      "Add show notes as <description>.")
_rule("apple.description.length", ERROR, "description and itunes:summary are at most 4,000 bytes.",
      "APPLE-GUIDE", "Shorten the text to 4,000 bytes (UTF-8) or fewer; put the full notes on the episode page.")
_rule("apple.content.length", INFO, "content:encoded is at most 4,000 bytes (Apple's description limit; some apps cut longer notes).",
      "PODNEWS; derived", "Keep the essentials in the first 4,000 bytes, or link to the full notes.")
_rule("apple.html.unsupported", INFO, "Show notes use only the HTML Apple renders: p, ol, ul, li, a (others show as plain text).",
      "APPLE-GUIDE; PODNEWS", "Use paragraphs, lists and links; Apple drops headings, bold, italics and tables.")
_rule("apple.html.unsafe", WARNING, "Show notes contain no script, style, iframe, form, object or embed elements.",
      "APPLE-GUIDE; W3C", "Remove the element; apps strip it and some reject the notes.")
_rule("apple.text.length", WARNING, "Short text values (titles, itunes:author, subtitle, keywords) are at most 255 characters.",
      "APPLE-GUIDE", "Shorten the value to 255 characters.")
_rule("apple.text.whitespace", INFO, "Titles have no leading or trailing spaces.", "APPLE-GUIDE",
      "Remove the surrounding whitespace.")

# --- Podcasting 2.0 ----------------------------------------------------------------------------
_rule("podcast.namespace", WARNING, "The podcast namespace is https://podcastindex.org/namespace/1.0.", "PN 1.0.md",
      "Declare xmlns:podcast=\"https://podcastindex.org/namespace/1.0\".")
_rule("podcast.attribute.missing", ERROR, "A Podcasting 2.0 tag has its required attributes and children.", "PN tags/*.md",
      "Add the attribute named in the message.")
_rule("podcast.value", ERROR, "A Podcasting 2.0 tag holds an allowed value (yes/no, mediums, protocols, numbers, non-blank names).",
      "PN tags/*.md", "Use one of the values listed in the message.")
_rule("podcast.https", ERROR, "URLs in Podcasting 2.0 tags are absolute https URLs.", "PN 1.0.md",
      "Serve the file over https and write the https:// URL.")
_rule("podcast.length", WARNING, "Podcasting 2.0 text stays within its limit (128 characters; txt 4,000; display 32).",
      "PN tags/*.md", "Shorten the text.")
_rule("podcast.duplicate", ERROR, "A Podcasting 2.0 tag that may appear once appears once.", "PN tags/*.md",
      "Remove the extra tag.")
_rule("podcast.guid.missing", INFO, "The channel has <podcast:guid> (a stable id that survives a move).", "PN tags/guid.md",
      "Add <podcast:guid> with the UUIDv5 of the feed URL (feedtool does this).")
_rule("podcast.guid.format", ERROR, "podcast:guid is a UUID (36 characters, lower-case hex and hyphens).", "PN tags/guid.md",
      "Write the UUIDv5 of the feed URL.")
_rule("podcast.guid.feed-url", WARNING, "podcast:guid is the UUIDv5 of the feed URL (unless the feed has moved).",
      "PN tags/guid.md", "If the feed never moved, use the UUIDv5 of its URL; if it moved, keep the old value.")
_rule("podcast.chapters.type", WARNING, "podcast:chapters type is application/json+chapters (the spec's preference) "
      "or application/json (what the spec's own example uses).", "PN tags/chapters.md; PN example.xml",
      "Write type=\"application/json+chapters\".", field="chapters")
_rule("podcast.transcript.type", WARNING, "podcast:transcript type is a known transcript type: text/vtt, "
      "application/x-subrip (or its aliases application/srt, text/srt, application/x-srt), text/html, text/plain "
      "or application/json (the spec lists these \"such as\"; apps pick a transcript by its type).",
      "PN tags/transcript.md", "Use the MIME type of the transcript file, e.g. text/vtt for WebVTT.", field="transcript")
_rule("podcast.locked.owner", WARNING, "podcast:locked has an owner e-mail: the Podcast Index's parser ignores "
      "the tag without one.", "PN tags/locked.md; Podcast Index parser",
      "Add owner=\"you@yourdomain\" to <podcast:locked>; with feedtool, set owner (name and email) or "
      "locked_owner in podcast.yaml and build again.",
      field="locked_owner")
_rule("podcast.list.remote-items", ERROR, "A publisher or list feed (podcast:medium publisher, mixed or ...L) lists "
      "its feeds or items in <podcast:remoteItem>.", "PN tags/medium.md; PN publishers.md",
      "Add a <podcast:remoteItem feedGuid=\"...\"> for each feed (or item) the list holds.", field="medium")
_rule("apple.not-applicable", INFO, "A publisher or list feed (podcast:medium publisher, mixed or ...L) is not a "
      "show Apple lists, so Apple's rules are not applied to it.", "PN tags/medium.md; derived",
      "Nothing to do; validate the feeds it lists.", field="medium")

# --- files the feed points to ------------------------------------------------------------------
_rule("chapters.unreadable", ERROR, "A JSON chapters file is a JSON object (and not too big).", "PN jsonChapters.md",
      "Write the file as JSON: {\"version\": \"1.2.0\", \"chapters\": [...]}.")
_rule("chapters.version", ERROR, "A JSON chapters file has a version string.", "PN jsonChapters.md",
      "Add \"version\": \"1.2.0\".")
_rule("chapters.list", ERROR, "A JSON chapters file has a non-empty chapters list of objects.", "PN jsonChapters.md",
      "Add \"chapters\": [{\"startTime\": 0, \"title\": \"...\"}, ...].")
_rule("chapters.start", ERROR, "Every chapter has a startTime that is a number >= 0.", "PN jsonChapters.md",
      "Write startTime in seconds as a number.")
_rule("chapters.order", ERROR, "Chapters are in ascending order of startTime.", "PN jsonChapters.md",
      "Sort the chapters by startTime.")
_rule("chapters.end", ERROR, "A chapter's endTime, when given, is after its startTime.", "PN jsonChapters.md; derived",
      "Fix or remove endTime.")
_rule("chapters.duration", ERROR, "Chapters start (and end) within the episode's duration.", "PN jsonChapters.md; derived",
      "Remove chapters past the end of the audio or fix their times.")
_rule("chapters.title", WARNING, "Every chapter in the table of contents has a title (silent toc=false chapters may omit it).", "PN jsonChapters.md; derived",
      "Give the chapter a title.")
_rule("chapters.field", WARNING, "Chapter img/url are absolute https URLs, toc is a boolean, a location has name and geo.", "PN jsonChapters.md; PN 1.0.md",
      "Use https:// URLs and toc: true/false.")
_rule("chapters.disagree", WARNING, "Chapters agree across the JSON file, psc:chapters, the description's timestamps "
      "and the audio's tags.",
      "derived", "Rebuild so that every chapter source comes from the same list (feedtool build does).")
_rule("transcript.content", WARNING, "A transcript file's content matches its type (WEBVTT header, SRT cues, JSON).",
      "PN transcript.md", "Fix the type attribute or the file.")
_rule("media.missing", ERROR, "Every file the feed points to exists (enclosure, artwork, chapters, transcripts).",
      "APPLE-VAL", "Upload or build the missing file, or fix the URL.")
_rule("media.elsewhere", INFO, "An enclosure that a feedtool build left out of public/ because its master is not "
      "on this machine: the build recorded it as on the target already, or as a copy publish makes there "
      "(public/.feedtool/remote-media.json). Its audio is not checked here; publish checks that it is on the "
      "target before the feed goes live.", "derived",
      "Nothing to do; to check the audio itself, validate the live feed with --check-media.")
_rule("media.length", ERROR, "The enclosure length equals the real size of the file.", "APPLE-GUIDE; derived",
      "Set length to the file's size in bytes (rebuild after re-encoding or tagging).")
_rule("media.content", ERROR, "The media file is what its type says (read with mutagen).", "APPLE-AUDIO; derived",
      "Encode the file in the format of its type (MP3 for audio/mpeg, AAC in MP4 for audio/x-m4a).")
_rule("media.duration", WARNING, "itunes:duration is within 2 seconds of the audio's real duration.", "derived",
      "Set itunes:duration from the file (feedtool build does).")
_rule("media.not-checked", INFO, "Some URLs are not under the feed's base URL, so their files were not checked.", "derived",
      "Pass --check-media to check them over HTTP, or --base-url if the feed is served elsewhere.")
_rule("media.http.status", ERROR, "Every URL answers HEAD and GET with 200 (after redirects).", "APPLE-REQ; APPLE-VAL",
      "Make the file publicly readable at that URL and allow HEAD requests.")
_rule("media.http.range", ERROR, "Media answers a Range request with 206 and the right bytes.", "APPLE-REQ",
      "Serve media from a server or bucket that supports byte ranges (S3 and most CDNs do).")
_rule("media.http.content-type", ERROR, "The server's Content-Type matches the type in the feed.", "APPLE-REQ; derived",
      "Upload with the right Content-Type (audio/mpeg for .mp3, image/jpeg for .jpg ...).")
_rule("media.http.cors", INFO, "Chapters and transcript files allow cross-origin GET (web players need it).",
      "PN transcripts.md; derived", "Serve them with Access-Control-Allow-Origin: * (a CORS rule on the bucket).")
_rule("media.http.caching", INFO, "The feed is served with ETag or Last-Modified (Apple's crawler uses conditional GET).",
      "APPLE-2023", "Serve the feed from a server or bucket that sends ETag or Last-Modified (S3 does).")
_rule("media.http.redirects", WARNING, "A URL reaches its file in at most 2 redirects.", "APPLE-REQ; derived",
      "Point the feed at the final URL.")

# --- ready to publish ---------------------------------------------------------------------------
_rule("ready.episodes", WARNING, "The feed has at least one episode (Apple rejects a show with none; publisher and "
      "list feeds excepted).", "APPLE-VAL; derived",
      "Add an episode (`feedtool new \"Title\"`, put the audio next to it, remove `draft: true`), then build.")
_rule("ready.base-url", WARNING, "The feed and its media are not at a placeholder address: example.com, example.org, "
      "example.net (and their subdomains), the reserved .example, .invalid, .test and .localhost, localhost, "
      "127.0.0.0/8.", "RFC 2606; RFC 6761; derived",
      "Set base_url in podcast.yaml to the https:// address public/ will be served from (your bucket's or "
      "CDN's), then build again.", field="base_url")
_rule("ready.artwork", WARNING, "The artwork is not the placeholder picture `feedtool init` made (it carries the "
      "text feedtool-placeholder-artwork).", "derived",
      "Replace the artwork file named in podcast.yaml with your own square JPEG or PNG (1400 to 3000 px), then "
      "build again.", field="artwork")
_rule("ready.owner-email", WARNING, "The owner e-mail (itunes:owner, podcast:locked owner) is not at a placeholder "
      "domain (example.com and the others above).", "APPLE-GUIDE; derived",
      "Set owner.email in podcast.yaml to an address you read: Apple and other directories send ownership "
      "checks there.", field="owner")

# --- against the live feed ---------------------------------------------------------------------
_rule("live.episode.removed", ERROR, "Every episode of the live feed is still in the new feed (by guid).",
      "APPLE-2023; derived", "Restore the episode's folder in episodes/ (e.g. with `git restore`); if it was "
      "taken down on purpose, publish with --allow-removals.")
_rule("live.guid.changed", ERROR, "An episode of the live feed keeps its guid (matched by enclosure URL, enclosure "
      "length or title).", "APPLE-GUIDE; APPLE-2023",
      "Give the episode its published guid again (the message shows it); a new guid makes apps download the "
      "episode again.", field="guid")


# --- Podcasting 2.0 beyond phase 3, apps and directories (rules_p20.py) ------------------------
_rule("podcast.value.split", INFO, "The non-fee splits of a podcast:value block (and of each valueTimeSplit) add up "
      "to 100, and fees stay below 100. The spec calls splits shares (any total is valid: the spec's own "
      "example adds to 95), so this is a note; feedtool's own podcast.yaml must add up to 100.",
      "PN value.md; derived",
      "Make the splits of the recipients who are not fees add up to 100, so each reads as a percentage.", field="value")
_rule("podcast.value.recipient", ERROR, "A valueRecipient's address fits its type: a node id is 66 hex digits (02/03...), "
      "an lnaddress is name@domain.", "PN value-recipient.md; PN lnaddress.md",
      "Copy the address from the wallet again; use type=\"lnaddress\" for name@domain addresses.", field="value")
_rule("podcast.value.time-split", ERROR, "A valueTimeSplit has numeric startTime and duration and holds either "
      "recipients or exactly one remoteItem (remotePercentage 0-100).", "PN value-time-split.md",
      "Give startTime and duration in seconds and either valueRecipient tags or one remoteItem.", field="value")
_rule("podcast.podroll.self", WARNING, "The podroll does not recommend the show itself.", "PN podroll.md; derived",
      "Remove this show's own feedGuid or feedUrl from the podroll.", field="podroll")
_rule("podcast.publisher", WARNING, "podcast:publisher holds one remoteItem medium=\"publisher\", with a feedUrl.",
      "PN publisher.md", "Write <podcast:publisher><podcast:remoteItem medium=\"publisher\" feedGuid=\"...\" "
      "feedUrl=\"...\"/></podcast:publisher>.", field="publisher")
_rule("podcast.block.id", WARNING, "podcast:block id names a platform from the service slug list.", "PN block.md; "
      "PN serviceslugs.txt", "Use a slug from serviceslugs.txt (apple, spotify, google, amazon ...).", field="block")
_rule("podcast.social-interact", ERROR, "podcast:socialInteract points at the root post: https (at:// for atproto, "
      "nostr: for nostr); protocol disabled has no uri.", "PN social-interact.md",
      "Put the URL of the post that starts the comment thread in uri.", field="social_interact")
_rule("podcast.image", WARNING, "podcast:image width and height are pixels, aspect-ratio is like 16/9, purpose at most "
      "128 characters.", "PN image.md", "Write width=\"3000\" and aspect-ratio=\"1/1\" style values.")
_rule("podcast.txt.purpose", WARNING, "podcast:txt verification tokens (verify, applepodcastsverify) sit in the channel "
      "as one word; ai-content holds true or false.", "PN txt.md; APPLE-GUIDE",
      "Move the verification txt to the channel; write ai-content as true or false.", field="txt")
_rule("chapters.psc", ERROR, "Podlove Simple Chapters (psc:chapters, which Spotify reads) have a start in "
      "HH:MM:SS.mmm, a title and absolute links, in ascending order.", "Podlove Simple Chapters 1.2; Spotify",
      "Write <psc:chapter start=\"00:01:24.000\" title=\"...\"/> in order (feedtool build does).", field="chapters")
_rule("directory.owner-email", INFO, "The channel has an owner e-mail (itunes:owner/itunes:email): YouTube's RSS "
      "ingestion refuses a feed without one and mails its verification code there; Apple no longer needs it.",
      "distribution.md (YouTube; APPLE-2023)", "Add owner: {name, email} to podcast.yaml (feedtool writes "
      "itunes:owner when an e-mail is set).", field="owner")
_rule("directory.spotify", WARNING, "spotify:limit recentCount is a whole number; spotify:countryOfOrigin lists "
      "two-letter country codes.", "Spotify RSS spec (unverified)", "Write recentCount=\"10\" and codes like us gb.", field="spotify")
_rule("directory.feed-size", INFO, "The feed is under 1 MB (FeedBurner cut feeds there; some aggregators give up soon "
      "after).", "distribution.md (feed size)", "Keep full notes for the newest episodes only and page old ones out "
      "(feed: {full_notes, max_items} in podcast.yaml).")
_rule("directory.feed-size.large", WARNING, "The feed is under 2 MiB (some readers stop there; Pocket Casts and Castro "
      "have struggled with larger feeds).", "distribution.md (feed size)", "Set feed: {full_notes: 50, max_items: 300} "
      "in podcast.yaml: older episodes move to RFC 5005 archive pages.")
_rule("directory.archive", ERROR, "RFC 5005 archive pages (atom:link rel=prev-archive) can be read, are marked "
      "fh:archive, link back to the feed (rel=current) and hold no episode twice.", "RFC 5005",
      "Rebuild and publish every archive page with the feed (feedtool build writes them).")
_rule("directory.websub-hub", ERROR, "The WebSub hub link (atom:link rel=hub) is an absolute http(s) URL.",
      "W3C WebSub", "Write the hub's URL, e.g. https://pubsubhubbub.appspot.com/.", field="notify")
_rule("directory.prefix", WARNING, "An analytics prefix (OP3, Podtrac, Chartable ...) in front of an enclosure uses "
      "https.", "APPLE-REQ; derived", "Use the https form of the prefix.", field="enclosure_prefix")


def rule(rule_id: str) -> Rule:
    """The rule for an id; a KeyError here is a bug in a check."""
    return RULES[rule_id]


# --- which key of podcast.yaml or episode.md a finding concerns -------------------------------------
#: element (the part of a finding's subject before "@") -> the keys it comes from, most specific
#: first: the first one the podcaster wrote is the one to change.
_SHOW_FIELDS: dict[str, tuple[str, ...]] = {
    "title": ("title",), "itunes:title": ("itunes_title", "title"), "description": ("description",),
    "itunes:summary": ("description",), "link": ("link",), "language": ("language",),
    "itunes:category": ("categories",), "itunes:explicit": ("explicit",), "itunes:author": ("author",),
    "itunes:type": ("type",), "itunes:image": ("artwork",), "itunes:owner": ("owner",),
    "itunes:new-feed-url": ("new_feed_url",), "itunes:block": ("block",), "itunes:complete": ("complete",),
    "copyright": ("copyright",), "atom:link": ("base_url",), "podcast:guid": ("podcast_guid", "base_url"),
    "podcast:locked": ("locked", "locked_owner"), "podcast:medium": ("medium",), "podcast:funding": ("funding",),
    "podcast:person": ("people",), "podcast:license": ("license",), "podcast:location": ("location",),
    "podcast:txt": ("txt",), "podcast:updateFrequency": ("update_frequency",), "podcast:trailer": ("trailers",),
    # issue 13 (feedtool.load_p20's keys)
    "podcast:value": ("value",), "podcast:valueRecipient": ("value",), "podcast:podroll": ("podroll",),
    "podcast:publisher": ("publisher",), "podcast:block": ("block",), "podcast:socialInteract": ("social_interact",),
    "podcast:chat": ("chat",), "podcast:image": ("images", "artwork"), "podcast:podping": ("notify",),
    "spotify:limit": ("spotify",), "spotify:countryOfOrigin": ("spotify",),
}
_EPISODE_FIELDS: dict[str, tuple[str, ...]] = {
    "title": ("title",), "itunes:title": ("itunes_title", "title"), "description": ("summary", "notes"),
    "itunes:summary": ("summary", "notes"), "content:encoded": ("notes",), "guid": ("guid",), "pubDate": ("date",),
    "enclosure": ("audio",), "itunes:duration": ("audio",), "itunes:episode": ("episode",),
    "podcast:episode": ("episode_display", "episode"), "itunes:season": ("season",),
    "podcast:season": ("season_name", "season"), "itunes:episodeType": ("episode_type",),
    "itunes:explicit": ("explicit",), "itunes:block": ("block",), "itunes:image": ("artwork",), "link": ("link",),
    "podcast:chapters": ("chapters", "notes"), "podcast:transcript": ("transcript",), "podcast:person": ("people",),
    "podcast:funding": ("funding",), "podcast:soundbite": ("soundbites",), "podcast:license": ("license",),
    "podcast:location": ("location",), "podcast:txt": ("txt",), "podcast:alternateEnclosure": ("audio",),
    # issue 13 (feedtool.load_p20's keys)
    "podcast:value": ("value",), "podcast:valueRecipient": ("value",), "podcast:valueTimeSplit": ("value",),
    "podcast:socialInteract": ("social_interact",), "podcast:chat": ("chat",), "podcast:image": ("images", "artwork"),
    "podcast:contentLink": ("content_links",), "psc:chapters": ("chapters", "notes"),
    "psc:chapter": ("chapters", "notes"),
}
SOURCE_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {"channel": _SHOW_FIELDS, "item": _EPISODE_FIELDS}
#: a rule's fixed field, in an episode, may be written under another key there
_EPISODE_ALIASES: dict[str, tuple[str, ...]] = {"chapters": ("chapters", "notes")}


def source_fields(rule_id: str, scope: str, subject: str | None) -> tuple[str, ...]:
    """The podcast.yaml (scope "channel") or episode.md (scope "item") keys a finding concerns.

    Most specific first; empty when the finding is about no key a podcaster writes.
    """
    fixed = RULES[rule_id].field
    if fixed is not None:
        return _EPISODE_ALIASES.get(fixed, (fixed,)) if scope == "item" else (fixed,)
    table = SOURCE_FIELDS.get(scope)
    if table is None or not subject:
        return ()
    return table.get(subject.split("@", 1)[0], ())

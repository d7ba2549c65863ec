"""docs/validate.md, generated from the rule registry (tests/test_validate.py keeps the file in step)."""

from __future__ import annotations

import re

from feedtool.validation.apple_categories import APPLE_CATEGORIES
from feedtool.validation.registry import RULES

_GROUPS = [
    ("feed.", "Reading the feed"),
    ("xml.", "The document"), ("rss.", "RSS 2.0"), ("apple.", "Apple Podcasts"), ("podcast.", "Podcasting 2.0"),
    ("chapters.", "JSON chapters files"), ("transcript.", "Transcripts"), ("media.", "Media files and servers"),
    ("directory.", "Apps and directories"), ("ready.", "Ready to publish"), ("live.", "Against the live feed"),
]

_INTRO = """\
# `feedtool validate`: rule reference

<!-- Generated from feedtool/validation/registry.py by tests/test_validate.py; do not edit by hand.
     Regenerate with: FEEDTOOL_UPDATE_DOCS=1 .venv/bin/pytest tests/test_validate.py -k reference -->

`feedtool validate [FEED]` checks a podcast feed (our build `public/feed.xml` by default, any feed
file, or an http(s) URL) against Apple's requirements, RSS 2.0 and the Podcasting 2.0 namespace,
and then the files it points to.

```
feedtool validate                                    # the build, with its media files
feedtool validate https://example.com/feed.xml --check-media
feedtool validate --against https://example.com/feed.xml --format github
```

- **Findings** name a rule id (below), a severity, where (the channel, or the episode by title
  and guid, and the line in the XML), what is wrong and how to fix it.
- **On feedtool's own build** (`public/feed.xml`), findings speak in your files: `feedtool build`
  writes a source map to `public/.feedtool/sources.json` (never published), and when it matches
  the feed being validated (same sha256), each finding names the episode by folder and number
  (`coffee-sessions-29 (#29)`), the `episode.md` or `podcast.yaml` to edit, the key to change and
  its line; the feed's line follows as detail. `--format github` annotations point at that file
  and line. A feed edited after the build, or any other feed, is reported in its own lines.
- **Severities**: `error` (Apple rejects the feed or apps misbehave), `warning` (works, but
  something is lost or fragile), `info` (worth knowing; never fails a run).
- **Ready to publish** (`ready.*`): no episodes, the placeholder address (example.com and the
  reserved names), `feedtool init`'s placeholder artwork, or an owner e-mail at a placeholder
  domain. Warnings here and in `feedtool build` (so `--strict` fails on them); `feedtool publish`
  refuses them for an `s3://` target and prints them for a local folder (a preview).
- **Exit status**: 0 clean, 1 errors (or warnings with `--strict`), 2 unusable input or arguments
  (missing file, unreachable URL, over `--max-size`, a DOCTYPE that declares entities). With
  `--format json` or `github`, unusable input is also printed as the one finding
  (`feed.unreadable`), so a tool reading stdout always gets the same structure.
- **Formats**: `--format text` (grouped by episode, coloured on a terminal), `--format json`
  (`{"feed", "summary", "findings"}`, deterministic; each finding has `rule`, `severity`,
  `message`, `fix`, `line` (in the feed), `scope`, the item's `item_index`, `item_title` and
  `item_guid`, `subject`, and on a build `episode`, `source_path`, `source_line` and
  `source_field`), `--format github` (workflow annotations).
- **Media checks**: for a local build, on by default: a URL under the feed's base (the folder of
  its `atom:link rel="self"`, or `--base-url`) is the file at the same place next to the feed.
  `--check-media` also checks every other URL over HTTP (HEAD, a `Range` request answered with
  206 and the right bytes, Content-Type, at most 2 redirects); `--no-check-media` checks no files.
- **`--against FEED_OR_URL`** compares with the feed subscribers already have. An episode that
  comes back under another guid (same enclosure URL, length or title) is one `live.guid.changed`
  finding whose fix, on a build, says which `episode.md` gets `guid: <the old one>`.
- **`--ignore RULE`** (repeatable) leaves a rule's findings out, e.g. in CI.
- **Safety**: the size is checked before parsing (`--max-size`, 100 MB by default), DOCTYPEs
  that declare entities are refused, and lxml runs without entity expansion, DTD loading or
  network access: parsing never opens a file or a connection (a `<!DOCTYPE rss SYSTEM ...>` is
  not read). Every URL is fetched by feedtool's one HTTP client: http and https only (a redirect
  to `file://`, `ftp://` or `data:` is not followed), at most 5 redirects, and `--timeout`
  seconds (30 by default) for each request, connecting, headers and body together. A host that
  does not answer is asked once per run.
- **Outside feeds**: the Podcasting 2.0 namespace's first URI (the GitHub one) is read as the
  namespace itself (and reported once); publisher and list feeds (`podcast:medium` `publisher`,
  `mixed`, `podcastL`, `musicL` ...) are not held to Apple's rules.
- **Archive pages** (RFC 5005): a feed that links `atom:link rel="prev-archive"` has its pages
  followed (with the same limits as any fetch, at most 1,000 pages, loops stopped) and checked
  (`directory.archive`); `--against` compares the guids of every page on both sides, so an episode
  that moved to an archive page is not reported as removed.

Sources: APPLE-GUIDE (Apple, *A Podcaster's Guide to RSS*), APPLE-REQ (Podcast RSS feed
requirements), APPLE-2023 (technical updates for hosting providers), APPLE-ART (artwork
requirements), APPLE-AUDIO, APPLE-CAT (categories), APPLE-VAL (validate your podcast), RSS2 (the
RSS 2.0 specification) and the RSS Profile, PN (the Podcasting 2.0 namespace, podcastindex.org),
W3C (the W3C feed validator, where it agrees with Apple), PODNEWS, and *derived* (feedtool's own
inference from the others).
"""


_MARKUP = re.compile(r"(<[^<>]+>|&amp;)")


def _cell(text: str) -> str:
    """Table text where element names and entities show as written (in code spans)."""
    return _MARKUP.sub(r"`\1`", text).replace("|", "\\|").replace("\n", " ")


def render_reference() -> str:
    """The whole of docs/validate.md."""
    out = [_INTRO]
    for prefix, title in _GROUPS:
        rules = [r for r in RULES.values() if r.id.startswith(prefix)]
        out.append(f"\n## {title}\n")
        out.append("| Rule | Severity | Checks | Fix | Source |")
        out.append("|---|---|---|---|---|")
        for r in rules:
            out.append(f"| `{r.id}` | {r.severity} | {_cell(r.summary)} | {_cell(r.fix)} | {_cell(r.source)} |")
    out.append("\n## Apple's categories (as `apple.category.invalid` checks them)\n")
    for name, subs in APPLE_CATEGORIES.items():
        out.append(f"- {name}" + (f": {', '.join(subs)}" if subs else ""))
    return "\n".join(out) + "\n"

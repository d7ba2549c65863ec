"""docs/validate.md, generated from the rule registry (tests/test_validate.py keeps the file in step)."""

from __future__ import annotations

import re

from feedtool.validation.apple_categories import APPLE_CATEGORIES
from feedtool.validation.registry import RULES

_GROUPS = [
    ("xml.", "The document"), ("rss.", "RSS 2.0"), ("apple.", "Apple Podcasts"), ("podcast.", "Podcasting 2.0"),
    ("chapters.", "JSON chapters files"), ("transcript.", "Transcripts"), ("media.", "Media files and servers"),
    ("directory.", "Apps and directories"), ("live.", "Against the live feed"),
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
- **Severities**: `error` (Apple rejects the feed or apps misbehave), `warning` (works, but
  something is lost or fragile), `info` (worth knowing; never fails a run).
- **Exit status**: 0 clean, 1 errors (or warnings with `--strict`), 2 unusable input or arguments
  (missing file, unreachable URL, over `--max-size`, a DOCTYPE that declares entities).
- **Formats**: `--format text` (grouped by episode, coloured on a terminal), `--format json`
  (`{"feed", "summary", "findings"}`, deterministic), `--format github` (workflow annotations).
- **Media checks**: for a local build, on by default: a URL under the feed's base (the folder of
  its `atom:link rel="self"`, or `--base-url`) is the file at the same place next to the feed.
  `--check-media` also checks every other URL over HTTP (HEAD, a `Range` request answered with
  206 and the right bytes, Content-Type, at most 2 redirects); `--no-check-media` checks no files.
- **`--against FEED_OR_URL`** compares with the feed subscribers already have.
- **`--ignore RULE`** (repeatable) leaves a rule's findings out, e.g. in CI.
- **Safety**: the size is checked before parsing (`--max-size`, 100 MB by default), DOCTYPEs
  that declare entities are refused, and lxml runs without entity expansion, DTD loading or
  network access.

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

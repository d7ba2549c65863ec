"""Findings and the report that holds them, rendered as text, JSON or GitHub annotations.

A finding says which rule fired (its id and severity come from the registry), where (the channel or
an episode, named by title and guid, and the line in the XML), what is wrong and how to fix it.
For a feed feedtool built (see feedtool.validation.sourcemap) it is also placed in the podcaster's
own files: the episode (by folder and number), the podcast.yaml or episode.md, the key to change
and its line. Those come first in every format; the feed's line stays as secondary detail. The
report is plain data so that `feedtool publish` can use it without rendering anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from feedtool.validation.registry import ERROR, INFO, RULES, WARNING

_SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule that fired at one place."""

    rule: str
    severity: str
    message: str
    fix: str
    line: int | None = None
    #: "channel" or "item" (an episode); "feed" for the document as a whole; "live" for the live feed
    scope: str = "channel"
    item_index: int | None = None  # 0-based position of the <item> in the feed
    item_title: str | None = None
    item_guid: str | None = None
    #: the element or file the finding is about, e.g. "enclosure@length" or a chapters URL
    subject: str | None = None
    #: for a feed feedtool built: the episode by folder and number ("coffee-sessions-29 (#29)"),
    #: and the file, line and key of podcast.yaml or episode.md to change
    episode: str | None = None
    source_path: str | None = None
    source_line: int | None = None
    source_field: str | None = None

    @classmethod
    def make(cls, rule_id: str, message: str, *, fix: str | None = None, **where: object) -> Finding:
        """A finding of a registered rule; severity and default fix come from the registry."""
        rule = RULES[rule_id]
        return cls(rule=rule_id, severity=rule.severity, message=message, fix=fix or rule.fix, **where)  # type: ignore[arg-type]

    def sort_key(self) -> tuple[int, int, int, str, str]:
        index = (1 << 30 if self.scope == "live" else -1) if self.item_index is None else self.item_index
        return (index, self.line or 0, _SEVERITY_ORDER[self.severity], self.rule, self.message)

    def location(self, feed: str = "feed.xml") -> str:
        """Where to look: 'episodes/x/episode.md:4 (audio)' when known, else 'feed.xml:40'."""
        if self.source_path:
            line = f":{self.source_line}" if self.source_line else ""
            field = f" ({self.source_field})" if self.source_field else ""
            return f"{self.source_path}{line}{field}"
        return f"{feed}:{self.line}" if self.line else feed


Styler = Callable[..., str]


def _plain(text: str, **_: object) -> str:
    return text


@dataclass
class Report:
    """What validating one feed found."""

    feed: str  # the path or URL that was validated
    findings: list[Finding] = field(default_factory=list)
    items: int = 0  # how many episodes the feed has
    checked_media: bool = False
    #: the findings were placed in podcast.yaml and episode.md by the build's source map
    sources: bool = False

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=Finding.sort_key)

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def errors(self) -> int:
        return self.count(ERROR)

    @property
    def warnings(self) -> int:
        return self.count(WARNING)

    def rule_ids(self) -> set[str]:
        return {f.rule for f in self.findings}

    def exit_code(self, *, strict: bool = False) -> int:
        """0 clean, 1 when there are errors (or warnings, when strict)."""
        if self.errors or (strict and self.warnings):
            return 1
        return 0

    def summary(self) -> dict[str, int]:
        return {"errors": self.errors, "warnings": self.warnings, "infos": self.count(INFO), "episodes": self.items}

    # --- rendering ----------------------------------------------------------------------------
    def to_json(self) -> str:
        """Deterministic JSON: {"feed", "summary", "findings"} with findings in document order."""
        data = {
            "feed": self.feed,
            "summary": self.summary(),
            "findings": [asdict(f) for f in self.sorted_findings()],
        }
        return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"

    def to_github(self, path: str | None = None) -> str:
        """GitHub Actions workflow commands: one ::error/::warning/::notice line per finding.

        A finding placed in the podcaster's files points at that file and line; others at the feed.
        """
        level = {ERROR: "error", WARNING: "warning", INFO: "notice"}
        feed = path or self.feed
        lines = []
        for f in self.sorted_findings():
            props = [f"file={_gh_property(f.source_path or feed)}"]
            line = f.source_line if f.source_path else f.line
            if line:
                props.append(f"line={line}")
            props.append(f"title={_gh_property(f.rule)}")
            text = f"{_what(f)} Fix: {f.fix}"
            if f.scope == "item":
                text = f"{_where(f)}: {text}"
            if f.source_path and f.line:
                text += f" ({_name(feed)} line {f.line})"
            lines.append(f"::{level[f.severity]} {','.join(props)}::{_gh_data(text)}")
        lines.append(_summary_line(self))
        return "\n".join(lines) + "\n"

    def to_text(self, style: Styler = _plain) -> str:
        """Readable text grouped by channel, then episode; ``style`` is click.style on a terminal."""
        colour = {ERROR: "red", WARNING: "yellow", INFO: "cyan"}
        feed = _name(self.feed)
        out: list[str] = [style(f"Validated {self.feed}", bold=True)]
        if self.sources:
            out.append("(built by feedtool: each finding names the file and key to change, then the feed's line)")
        for title, group in _groups(self.sorted_findings()):
            out.append("")
            out.append(style(title, bold=True))
            header_file = _group_file(group)
            for f in group:
                if f.source_path:
                    here = f.source_path == header_file
                    line = (f"line {f.source_line}" if f.source_line else "-") if here else \
                        f"{f.source_path}" + (f":{f.source_line}" if f.source_line else "")
                else:
                    line = f"line {f.line}" if f.line else "-"
                tag = style(f"{f.severity:<7}", fg=colour[f.severity], bold=f.severity == ERROR)
                out.append(f"  {tag} {line:<11} {_what(f)} [{f.rule}]")
                out.append(f"          {'':<11} -> {f.fix}")
                if f.source_path and f.line:
                    out.append(f"          {'':<11}    {feed} line {f.line}")
        out.append("")
        summary = _summary_line(self)
        out.append(style(summary, fg="red" if self.errors else ("yellow" if self.warnings else "green"), bold=True))
        return "\n".join(out) + "\n"


def _summary_line(report: Report) -> str:
    s = report.summary()
    word = "episode" if s["episodes"] == 1 else "episodes"
    return (f"{s['errors']} error(s), {s['warnings']} warning(s), {s['infos']} note(s) "
            f"in {s['episodes']} {word}")


def _where(f: Finding) -> str:
    """The channel, or the episode: by folder and number in a build, else by position, title and guid."""
    if f.scope != "item":
        return {"channel": "Channel", "live": "Compared with the live feed"}.get(f.scope, "Feed")
    title = f.item_title or "(untitled)"
    if f.episode:
        return f"{f.episode}: {title}"
    guid = f" [guid {f.item_guid}]" if f.item_guid else ""
    return f"Episode {(f.item_index or 0) + 1}: {title}{guid}"


def _what(f: Finding) -> str:
    """The message, led by the podcast.yaml or episode.md key it concerns when that is known."""
    return f"{f.source_field}: {f.message}" if f.source_path and f.source_field else f.message


def _name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1] or path


def _group_file(group: list[Finding]) -> str | None:
    """The podcaster's file a group is about (an episode's episode.md, or podcast.yaml)."""
    for f in group:
        if f.source_path and (f.scope != "item" or f.source_path.endswith("episode.md")):
            return f.source_path
    return None


def _groups(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    groups: dict[tuple[int, str], list[Finding]] = {}
    for f in findings:
        key = (f.sort_key()[0], _where(f))
        groups.setdefault(key, []).append(f)
    titled = []
    for (_, title), group in sorted(groups.items(), key=lambda kv: kv[0][0]):
        file = _group_file(group)
        titled.append((f"{title} ({file})" if file else title, group))
    return titled


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")

"""Findings and the report that holds them, rendered as text, JSON or GitHub annotations.

A finding says which rule fired (its id and severity come from the registry), where (the channel or
an episode, named by title and guid, and the line in the XML), what is wrong and how to fix it. The
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

    @classmethod
    def make(cls, rule_id: str, message: str, *, fix: str | None = None, **where: object) -> Finding:
        """A finding of a registered rule; severity and default fix come from the registry."""
        rule = RULES[rule_id]
        return cls(rule=rule_id, severity=rule.severity, message=message, fix=fix or rule.fix, **where)  # type: ignore[arg-type]

    def sort_key(self) -> tuple[int, int, int, str, str]:
        index = (1 << 30 if self.scope == "live" else -1) if self.item_index is None else self.item_index
        return (index, self.line or 0, _SEVERITY_ORDER[self.severity], self.rule, self.message)


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
        """GitHub Actions workflow commands: one ::error/::warning/::notice line per finding."""
        level = {ERROR: "error", WARNING: "warning", INFO: "notice"}
        file = _gh_property(path or self.feed)
        lines = []
        for f in self.sorted_findings():
            props = [f"file={file}"]
            if f.line:
                props.append(f"line={f.line}")
            props.append(f"title={_gh_property(f.rule)}")
            text = f"{_where(f)}: {f.message} Fix: {f.fix}" if f.scope == "item" else f"{f.message} Fix: {f.fix}"
            lines.append(f"::{level[f.severity]} {','.join(props)}::{_gh_data(text)}")
        lines.append(_summary_line(self))
        return "\n".join(lines) + "\n"

    def to_text(self, style: Styler = _plain) -> str:
        """Readable text grouped by channel, then episode; ``style`` is click.style on a terminal."""
        colour = {ERROR: "red", WARNING: "yellow", INFO: "cyan"}
        out: list[str] = [style(f"Validated {self.feed}", bold=True)]
        for title, group in _groups(self.sorted_findings()):
            out.append("")
            out.append(style(title, bold=True))
            for f in group:
                line = f"line {f.line}" if f.line else "-"
                tag = style(f"{f.severity:<7}", fg=colour[f.severity], bold=f.severity == ERROR)
                out.append(f"  {tag} {line:<11} {f.message} [{f.rule}]")
                out.append(f"          {'':<11} -> {f.fix}")
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
    if f.scope != "item":
        return {"channel": "Channel", "live": "Compared with the live feed"}.get(f.scope, "Feed")
    title = f.item_title or "(untitled)"
    guid = f" [guid {f.item_guid}]" if f.item_guid else ""
    return f"Episode {(f.item_index or 0) + 1}: {title}{guid}"


def _groups(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    groups: dict[tuple[int, str], list[Finding]] = {}
    for f in findings:
        key = (f.sort_key()[0], _where(f))
        groups.setdefault(key, []).append(f)
    return [(title, group) for (_, title), group in sorted(groups.items(), key=lambda kv: kv[0][0])]


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")

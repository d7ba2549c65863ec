"""The corpus: each feed in tests/feeds/ raises exactly the error and warning rules cases.yaml lists."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from feedtool.validation import RULES, validate_feed

FEEDS = Path(__file__).parent / "feeds"
CASES: dict[str, dict] = yaml.safe_load((FEEDS / "cases.yaml").read_text(encoding="utf-8"))


def test_corpus_is_complete() -> None:
    files = {p.name for p in FEEDS.glob("*.xml")}
    assert files == set(CASES), "every feed in tests/feeds has a row in cases.yaml and the other way round"
    assert len(files) >= 40
    assert sum(1 for c in CASES.values() if not c["rules"]) >= 5, "the corpus has good feeds too"


def test_corpus_only_names_known_rules() -> None:
    for name, case in CASES.items():
        assert set(case["rules"]) <= set(RULES), name


@pytest.mark.parametrize("name", sorted(CASES))
def test_feed_raises_exactly_its_rules(name: str) -> None:
    report = validate_feed(FEEDS / name, check_media=False)
    fired = sorted({f.rule for f in report.findings if f.severity != "info"})
    assert fired == sorted(CASES[name]["rules"]), f"{name}: {CASES[name]['why']}\n{report.to_text()}"
    if CASES[name]["rules"]:
        assert report.exit_code(strict=True) == 1
    else:
        assert report.exit_code(strict=True) == 0

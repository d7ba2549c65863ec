"""Show notes HTML -> Markdown for `feedtool import`: the binding's fast entry point and its public
API give the same Markdown, so the fast one (a private module of html-to-markdown, pinned below
its next major version in pyproject) can be dropped the day it changes without changing output."""

from __future__ import annotations

import pytest

from feedtool.importer import markdown

NOTES = [
    "<p>Hello <b>world</b> &amp; <i>friends</i></p>",
    "<p>[00:00] Intro<br>[01:24] Jet's take on MLOps<br>(12:30) Questions</p>",
    "<ul><li>00:00 Intro</li><li><a href='https://example.org/a_(b)'>a link</a></li></ul>",
    "<h2>Links</h2><p>https://mlops.community/ and *stars* and _underscores_ and `ticks`</p>",
    "<blockquote><p>quoted</p></blockquote><ol><li>one</li><li>two</li></ol>",
    "<p>relative <a href='/episodes/1'>link</a> and <img src='cover.jpg' alt='cover'></p>",
    "plain text\nwith lines\n\nand a paragraph",
    "<p>broken <b>html <i>nesting</p></b>",
]


@pytest.mark.parametrize("html", NOTES)
def test_the_fast_path_and_the_public_api_agree(html: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if markdown._native() is None:
        pytest.fail("this html-to-markdown has no native entry point: drop the fast path in markdown.py")
    fast = markdown.to_markdown(html, base_url="https://old.example.org/show/")
    markdown._options.cache_clear()
    monkeypatch.setattr(markdown, "_native", lambda: None)
    try:
        plain = markdown.to_markdown(html, base_url="https://old.example.org/show/")
    finally:
        markdown._options.cache_clear()
    assert fast == plain

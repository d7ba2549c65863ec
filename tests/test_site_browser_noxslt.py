"""The feed in a browser that no longer has XSLT (what Chromium is removing): the feed's second
stylesheet, plain CSS, still makes it a readable page. Chromium 156 still applies XSLT, so the
removal is simulated with its own switch, --disable-features=XSLT (which shows the bare XML tree
for a feed with only an XSL stylesheet). One browser session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from browser import chromium, console_errors, screenshot, serving
from conftest import PodcastFactory
from site_show import full_show

from feedtool.build import build_podcast

pytestmark = pytest.mark.slow


def test_without_xslt_the_css_fallback_shows_the_show_and_episode_titles(
        tmp_path: Path, tone: Callable[..., Path], artwork_jpg: Path) -> None:
    podcast = full_show(PodcastFactory(tmp_path, tone, artwork_jpg))
    podcast.add("first", title="First & Foremost", number=1)
    podcast.add("second", title="Second: ünïcödé 日本語 😀", number=2)
    build_podcast(podcast.episodes, podcast.public)
    with serving(podcast.public) as site, chromium("--disable-features=XSLT") as browser:
        browser.get(site + "feed.xml")
        assert browser.execute_script("return document.documentElement.localName") == "rss"  # no XSL applied
        shown = browser.execute_script("""
            const seen = el => el && getComputedStyle(el).display !== 'none' && el.getClientRects().length > 0;
            const items = [...document.getElementsByTagName('item')];
            return {channel: seen(document.querySelector('channel > title')) &&
                              document.querySelector('channel > title').textContent,
                    items: items.filter(i => seen(i.querySelector('title'))).map(i => i.querySelector('title').textContent),
                    hidden: items.every(i => !seen(i.getElementsByTagName('description')[0])),
                    intro: getComputedStyle(document.documentElement, '::before').content};""")
        assert shown["channel"] == "Test Show & Friends"
        assert shown["items"] == ["Third: the <script>alert(1)</script> one", "Second: ünïcödé 日本語 😀",
                                  "First & Foremost"]
        assert shown["hidden"]  # the HTML descriptions would show as markup: left out
        assert "copy this page’s address" in shown["intro"]
        screenshot(browser, "feed-css-fallback")
        # a host under a path has no /favicon.ico of its own to give; nothing else may fail
        assert console_errors(browser, allowed=("favicon.ico",)) == []

"""The website in a real browser: headless Chromium opens the site from `feedtool serve`.

One browser session for the module. Checks: no console errors, the chapter list seeks the
player and marks the chapter being heard, the transcript's timestamps seek, the feed's XSL
view shows the show and its episodes, and axe-core finds no serious or critical violations.
Screenshots are kept in test-artifacts/site/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import axe_violations, chromium, console_errors, screenshot, serving
from conftest import PodcastFactory
from site_show import full_show

from feedtool.build import build_podcast

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, tone: Callable[..., Path], artwork_jpg: Path) -> Iterator[str]:
    podcast = full_show(PodcastFactory(tmp_path_factory.mktemp("site"), tone, artwork_jpg))
    podcast.add("first", title="First & Foremost", number=1)
    podcast.add("second", title="Second: ünïcödé 日本語 😀", number=2)
    build_podcast(podcast.episodes, podcast.public)
    with serving(podcast.public) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver


def wait_for(driver: Any, script: str, timeout: float = 10.0) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: d.execute_script(script))


def test_index_lists_the_episodes_without_errors(browser: Any, site: str) -> None:
    browser.get(site)
    titles = [a.text for a in browser.find_elements("css selector", ".episode-list h3 a")]
    assert titles == ["Third: the <script>alert(1)</script> one", "Second: ünïcödé 日本語 😀", "First & Foremost"]
    assert browser.execute_script("return getComputedStyle(document.body).maxWidth") != "none"  # the CSS loaded
    screenshot(browser, "index")
    assert console_errors(browser) == []
    assert axe_violations(browser) == []


def test_chapters_seek_and_mark_the_current_chapter(browser: Any, site: str) -> None:
    browser.get(site + "third/")
    wait_for(browser, "return document.getElementById('player').readyState >= 1")  # metadata loaded
    chapters = browser.find_elements("css selector", ".chapter-list a.seek")
    assert [c.text for c in chapters] == ["00:00 Welcome", "00:02 The middle", "00:04 The end"]
    chapters[2].click()
    assert browser.current_url == site + "third/"  # the click seeks; it does not open the file
    position = wait_for(browser, "const t = document.getElementById('player').currentTime; return t >= 4 && t")
    assert 4.0 <= position < 6.0
    browser.execute_script("document.getElementById('player').pause()")
    wait_for(browser, "return document.querySelector('.chapter-list a[aria-current]') !== null")
    current = browser.find_elements("css selector", ".chapter-list a[aria-current]")
    assert [c.text for c in current] == ["00:04 The end"]
    chapters[1].click()
    wait_for(browser, "const t = document.getElementById('player').currentTime; return t >= 2 && t < 4")
    browser.execute_script("document.getElementById('player').pause()")
    wait_for(browser, "return document.querySelector('.chapter-list a[aria-current]').dataset.start === '2'")
    highlight = browser.execute_script(
        "return getComputedStyle(document.querySelector('.chapter-list a[aria-current]')).backgroundColor")
    assert highlight not in ("rgba(0, 0, 0, 0)", "transparent")  # the style marks it
    screenshot(browser, "episode-chapters")
    assert console_errors(browser) == []


def test_transcript_is_shown_and_its_timestamps_seek(browser: Any, site: str) -> None:
    browser.get(site + "third/")
    lines = browser.find_elements("css selector", ".transcript-lines li")
    assert [line.text for line in lines] == [
        "00:00 Ana Welcome to the show & hello. This is the middle part.", "00:04 Ben And this is the end!"]
    assert all(line.is_displayed() for line in lines)
    lines[1].find_element("css selector", "a.seek").click()
    position = wait_for(browser, "const t = document.getElementById('player').currentTime; return t >= 4 && t")
    assert position >= 4.0
    browser.execute_script("document.getElementById('player').pause()")
    browser.execute_script("document.querySelector('.transcript').scrollIntoView()")
    screenshot(browser, "episode-transcript")
    assert console_errors(browser) == []
    assert axe_violations(browser) == []


def test_a_time_in_the_address_starts_the_player_there(browser: Any, site: str) -> None:
    browser.get(site + "third/#t=2")
    wait_for(browser, "return document.getElementById('player').readyState >= 1")
    assert wait_for(browser, "const t = document.getElementById('player').currentTime; return t >= 2 && t") >= 2


def test_the_feed_in_the_browser_is_a_page_with_the_episodes(browser: Any, site: str) -> None:
    """Chromium 156 still applies the XSL (with a banner that says XSLT is being removed)."""
    browser.get(site + "feed.xml")
    assert browser.find_element("tag name", "h1").text == "Test Show & Friends"
    assert browser.find_element("css selector", ".show p:last-child").text == "Fish & chips, 1 < 2, and bold talk."
    titles = [a.text for a in browser.find_elements("css selector", ".episode-list h3 a")]
    assert titles == ["Third: the <script>alert(1)</script> one", "Second: ünïcödé 日本語 😀", "First & Foremost"]
    assert browser.find_element("css selector", ".episode-list h3 a").get_attribute("href") == site + "third/"
    apps = [a.text for a in browser.find_elements("css selector", ".apps a")]
    assert apps == ["Apple Podcasts", "Spotify", "Pocket Casts", "Overcast", "AntennaPod"]
    assert browser.find_element("css selector", ".feed-address code").text == site + "feed.xml"
    screenshot(browser, "feed-xslt")
    assert console_errors(browser) == []


def test_the_404_page(browser: Any, site: str) -> None:
    browser.get(site + "no/such/page/")
    assert browser.find_element("tag name", "h1").text == "Not found"
    assert browser.execute_script("return getComputedStyle(document.body).maxWidth") != "none"
    screenshot(browser, "not-found")
    # the page itself is the one 404 (Chromium logs it); nothing else failed
    assert console_errors(browser, allowed=("the server responded with a status of 404",)) == []
    assert axe_violations(browser) == []

"""Headless Chromium for the website's tests: Debian's chromium and chromedriver (installed by
.ci/run), driven by selenium; no browser is downloaded. Screenshots go to test-artifacts/site/
(gitignored; CI can upload the folder)."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conftest import REPO

from feedtool.serve import PublicServer

ARTIFACTS = REPO / "test-artifacts" / "site"
AXE = REPO / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"


@contextmanager
def serving(public: Path) -> Iterator[str]:
    """`feedtool serve`'s server on a free port; yields its base URL."""
    server = PublicServer(public, "127.0.0.1", 0, quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.port}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium(*extra_flags: str) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    assert binary and driver_path, "chromium and chromedriver come from Debian's packages (.ci/run installs them)"
    profile = tempfile.mkdtemp(prefix="feedtool-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--mute-audio", "--autoplay-policy=no-user-gesture-required",
                 "--window-size=1000,1400", f"--user-data-dir={profile}", *extra_flags):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def console_errors(driver: Any, allowed: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Console messages of level SEVERE since the last call (the log is drained by reading it)."""
    return [entry for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and not any(text in entry["message"] for text in allowed)]


def screenshot(driver: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def axe_violations(driver: Any) -> list[dict[str, Any]]:
    """axe-core (npm, tests/js) run in the page: its serious and critical violations."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    found = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(JSON.stringify(r.violations)),"
        " e => done(JSON.stringify([{id: 'axe-error', impact: 'critical', help: String(e)}])));")
    return [v for v in json.loads(found) if v.get("impact") in ("serious", "critical")]

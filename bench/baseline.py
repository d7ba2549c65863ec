"""Load a feedtool module as it was at an earlier commit, to time the code now against it.

The benchmarks compare with a named git revision (``git show REV:feedtool/<module>.py``), never
with a copy of old code kept in the repository: the baseline is whatever that commit shipped.
"""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def module_at(revision: str, name: str) -> types.ModuleType:
    """feedtool/<name>.py as of ``revision``, imported under the name ``baseline_<name>``."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{revision}:feedtool/{name}.py"],
        capture_output=True, text=True, check=True,
    ).stdout
    module = types.ModuleType(f"baseline_{name}")
    module.__file__ = f"{revision}:feedtool/{name}.py"
    sys.modules[module.__name__] = module  # dataclasses look their module up while it executes
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module

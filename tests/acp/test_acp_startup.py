"""``pygent acp`` answers ``initialize`` without the heavy imports (timings: tests/benchmarks)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("litellm", "textual", "httpx", "acp", "acp.schema", "mcp", "pydantic")

PROBE = """
import sys
from pygent.acp import agent, main, stdio
from pygent.cli import acp
loaded = [name for name in {heavy!r} if name in sys.modules]
print(",".join(loaded) or "none")
"""


def test_modules_on_the_initialize_path_import_nothing_heavy(isolated_home: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY)],
        capture_output=True,
        text=True,
        check=True,
        cwd=isolated_home,
    )
    assert done.stdout.strip() == "none"

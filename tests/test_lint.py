"""ruff and mypy, as configured in pyproject.toml: clean, and strict on rewriter/core, io, report, cli
and the Dockerfile shell and family modules."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
from conftest import REPO, missing


@pytest.mark.parametrize("tool", [
    ["ruff", "check", "rewriter", "tests", "scripts", "bench", "fuzz"],
    ["mypy"],
], ids=["ruff", "mypy"])
def test_clean(tool: list[str]) -> None:
    if importlib.util.find_spec(tool[0]) is None:
        missing(f"{tool[0]} is not installed (pip install -e '.[test]')")
    proc = subprocess.run([sys.executable, "-m", *tool], cwd=REPO, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr

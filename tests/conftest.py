"""Helpers shared by the test modules (keep this small)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from rewriter.core.rules import Rule

REPO = Path(__file__).resolve().parents[1]


def in_ci() -> bool:
    """Whether this is a CI run (``CI=true``), where nothing may be skipped for
    want of an input or a dependency the project is meant to provide."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


def missing(why: str) -> None:
    """Skip for a missing input or dependency; under CI, fail instead."""
    if in_ci():
        pytest.fail(f"CI must run this test, but: {why}", pytrace=False)
    pytest.skip(why, allow_module_level=True)


def make_rule(source: str) -> Rule:
    """A Dockerfile rule from the source of a rule module (``CODE``, ``NAME``,
    ``PRIORITY``, ``check``), to hand to the engine or the runner."""
    ns: dict = {}
    exec(source, ns)
    return Rule(ns["CODE"], ns["NAME"], "dockerfile", ns["PRIORITY"],
                ns.get("FIX_APPLICABILITY"), ns.get("__doc__") or "", ns["check"])


def run_dockfix(
    *args: str,
    cwd: Path,
    input: bytes = b"",
    env: Mapping[str, str | None] | None = None,
    boot: str | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run the real command, ``python -m rewriter ARGS``, in ``cwd``.

    ``boot``: Python code run instead of ``-m rewriter`` (it must end by calling
    ``rewriter.cli.main.main``); used to run the real CLI with a fake rule
    (``main(argv, rules=...)``).
    ``env``: variables to set, or to remove when the value is ``None``.
    """
    environ = dict(os.environ)
    environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), environ.get("PYTHONPATH")) if p
    )
    for key, value in (env or {}).items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    head = ["-c", boot] if boot else ["-m", "rewriter"]
    return subprocess.run(
        [sys.executable, *head, *args],
        cwd=cwd, input=input, capture_output=True, env=environ, timeout=120,
    )

"""Whole-file before/after fixtures of the Celery rules.

Each ``tests/fixtures/python/<rule>/<case>.before.<ext>`` is fixed with every
rule of its language on (Python; for ``worker_as_root``, the files that start
workers); the result must equal ``<case>.after.<ext>`` (no ``.after``: the
file must stay unchanged).  ``<case>.toml`` holds settings (``unsafe-fixes``) and
expectations: ``expect-codes`` (the codes found in the input, in order) and
``expect-decline`` (a note's reason).  Every Python output must parse with
``ast`` and compile; every output keeps its line endings and is stable (a
second run changes nothing).

The ``.after`` files are reviewed expectations: a test run never writes
them.  ``python scripts/update_rule_fixtures.py`` rewrites them from current
behaviour, for a change meant to alter the output; then review the diff.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from rewriter.core.engine import fix_text
from rewriter.core.settings import Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "python"
CASES = sorted(ROOT.glob("*/*.before.*"))
#: fixture folders of rules of another language than Python
LANGUAGES = {"worker_as_root": "celery-worker"}


def _case(before: Path) -> dict:
    toml = before.with_name(before.name.split(".before.")[0] + ".toml")
    return tomllib.loads(toml.read_text()) if toml.exists() else {}


def _newlines(text: str) -> tuple[int, int]:
    crlf = text.count("\r\n")
    return crlf, text.count("\n") - crlf


@pytest.mark.parametrize("before", CASES,
                         ids=lambda p: f"{p.parent.name}/{p.name.split('.before.')[0]}")
def test_fixture(before: Path) -> None:
    text = before.read_bytes().decode("utf-8")
    case = _case(before)
    settings = Settings(unsafe_fixes=bool(case.get("unsafe-fixes", False)))
    language = LANGUAGES.get(before.parent.name, "python")
    after_path = before.with_name(before.name.replace(".before.", ".after."))
    result = fix_text(text, settings, str(before), language=language)
    assert result.error is None, result.error
    expected = after_path.read_bytes().decode("utf-8") if after_path.exists() else text
    assert result.fixed == expected
    if "expect-codes" in case:
        assert [f.violation.code for f in result.findings] == case["expect-codes"]
    if case.get("expect-decline"):
        assert case["expect-decline"] in {d.reason for d in result.declines}, result.declines
    if language == "python":
        ast.parse(result.fixed)
        compile(result.fixed, str(after_path), "exec", dont_inherit=True)
    again = fix_text(result.fixed, settings, str(before), language=language)
    assert again.fixed == result.fixed, "second run changed the output"
    crlf, lf = _newlines(text)
    out_crlf, out_lf = _newlines(result.fixed)
    if crlf and not lf:
        assert out_lf == 0
    if lf and not crlf:
        assert out_crlf == 0


def test_every_rule_has_fixtures() -> None:
    from rewriter.core.rules import REGISTRY

    folders = {p.parent.name for p in CASES}
    for rule in REGISTRY.rules("python") + REGISTRY.rules("celery-worker"):
        assert rule.name.replace("-", "_") in folders, rule.code

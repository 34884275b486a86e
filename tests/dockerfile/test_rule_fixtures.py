"""Whole-file before/after fixtures, run through the whole engine.

Each ``tests/fixtures/rules/<rule>/<case>.before.Dockerfile`` is fixed with
every rule on; the result must equal ``<case>.after.Dockerfile`` (no
``.after``: the file must stay unchanged).  ``<case>.toml`` holds settings
(the keys of ``[tool.dockfix]``).  Every before and after must also be stable
(a second run changes nothing), keep its line endings, and every output must
parse with BuildKit's parser.

The ``.after`` files are reviewed expectations: a test run never writes
them.  ``python scripts/update_rule_fixtures.py`` rewrites them from current
behaviour, for a change that means to alter them; review its diff.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rewriter.dockerfile import crosscheck
from rewriter.core.engine import fix_text
from rewriter.core.settings import Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).parents[1] / "fixtures" / "rules"
#: Folders whose fixtures are run with every rule on (others test one rule alone).
ENGINE_FOLDERS = ("missing_nonroot_user", "user_reverted_to_root", "volume_not_owned",
                  "celery_force_root", "named_user")


def _cases() -> list[Path]:
    out: list[Path] = []
    for folder in ENGINE_FOLDERS:
        out += sorted((ROOT / folder).glob("*.before.Dockerfile"))
    return out


def _case(before: Path) -> dict[str, object]:
    toml = before.with_name(before.name.replace(".before.Dockerfile", ".toml"))
    return tomllib.loads(toml.read_text()) if toml.exists() else {}


def _settings(before: Path) -> Settings:
    data = {k: v for k, v in _case(before).items() if not k.startswith("expect-")}
    kw: dict[str, object] = {}
    for key, value in data.items():
        key = key.replace("-", "_")
        if key == "build_args":
            value = dict(value)
        elif key in ("select", "ignore"):
            value = tuple(value)
        kw[key] = value
    return Settings(**kw)  # type: ignore[arg-type]


def _read(p: Path) -> str:
    return p.read_bytes().decode("utf-8")


def _newlines(text: str) -> tuple[int, int]:
    crlf = text.count("\r\n")
    return crlf, text.count("\n") - crlf


@pytest.mark.parametrize("before", _cases(), ids=lambda p: f"{p.parent.name}/{p.name[:-18]}")
def test_fixture(before: Path) -> None:
    text = _read(before)
    settings = _settings(before)
    after_path = before.with_name(before.name.replace(".before.", ".after."))
    result = fix_text(text, settings, str(before))
    assert result.error is None, result.error
    expected = _read(after_path) if after_path.exists() else text
    assert result.fixed == expected
    decline = _case(before).get("expect-decline")
    if decline:
        assert not result.changed
        assert decline in {d.reason for d in result.declines}, result.declines
    # Stable: a second run changes nothing.
    again = fix_text(result.fixed, settings, str(before))
    assert again.fixed == result.fixed, "second run changed the output"
    # Line endings kept: a CRLF file stays all-CRLF, an LF file all-LF.
    crlf, lf = _newlines(text)
    out_crlf, out_lf = _newlines(result.fixed)
    if crlf and not lf:
        assert out_lf == 0
    if lf and not crlf:
        assert out_crlf == 0
    if crosscheck.available() and result.changed:
        assert crosscheck.buildkit_accepts(result.fixed), "BuildKit rejects the output"
        assert crosscheck.compare(result.fixed) == []


def test_every_rule_folder_has_fixtures() -> None:
    for folder in ENGINE_FOLDERS:
        assert list((ROOT / folder).glob("*.before.Dockerfile")), folder


def test_no_test_regenerates_goldens() -> None:
    """Expected outputs are reviewed, never rewritten by a test run: no test
    module reads a switch that would make it write them (they are rewritten
    only by ``scripts/update_rule_fixtures.py``)."""
    tests = Path(__file__).resolve().parents[1]
    switch = "DOCKFIX_" + "UPDATE"  # spelled in two parts: this file is scanned too
    readers = [str(p.relative_to(tests)) for p in sorted(tests.rglob("*.py"))
               if switch in p.read_text(encoding="utf-8")]
    assert readers == []

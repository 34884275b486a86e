"""Rewrite the ``.after`` files of the whole-file rule fixtures from current behaviour
(the Dockerfile rules' and the Python and Celery rules').

    python scripts/update_rule_fixtures.py

For a change that means to alter what dockfix writes: run it, then review
``git diff tests/fixtures`` line by line.  The tests never write fixtures.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "python"))

from rewriter.core.engine import fix_text  # noqa: E402
from rewriter.core.settings import Settings  # noqa: E402
from test_python_fixtures import CASES as PYTHON_CASES  # noqa: E402
from test_python_fixtures import LANGUAGES, _case  # noqa: E402
from test_rule_fixtures import _cases, _read, _settings  # noqa: E402


def _fixed(before: Path) -> str | None:
    """What dockfix makes of the fixture ``before``; None when nothing changes."""
    if before in PYTHON_CASES:
        settings = Settings(unsafe_fixes=bool(_case(before).get("unsafe-fixes", False)))
        result = fix_text(before.read_bytes().decode("utf-8"), settings, str(before),
                          language=LANGUAGES.get(before.parent.name, "python"))
    else:
        result = fix_text(_read(before), _settings(before), str(before))
    return result.fixed if result.changed else None


def main() -> int:
    changed = 0
    for before in [*_cases(), *PYTHON_CASES]:
        after = before.with_name(before.name.replace(".before.", ".after."))
        fixed = _fixed(before)
        old = after.read_bytes() if after.exists() else None
        new = fixed.encode("utf-8") if fixed is not None else None
        if old == new:
            continue
        changed += 1
        if new is None:
            after.unlink()
        else:
            after.write_bytes(new)
        print(f"updated {after.relative_to(REPO)}")
    print(f"{changed} fixture(s) updated; review them with git diff")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

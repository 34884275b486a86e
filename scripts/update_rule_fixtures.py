"""Rewrite the ``.after`` files of the whole-file rule fixtures from current behaviour.

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

from rewriter.core.engine import fix_text  # noqa: E402
from test_rule_fixtures import _cases, _read, _settings  # noqa: E402


def main() -> int:
    changed = 0
    for before in _cases():
        after = before.with_name(before.name.replace(".before.", ".after."))
        result = fix_text(_read(before), _settings(before), str(before))
        old = after.read_bytes() if after.exists() else None
        new = result.fixed.encode("utf-8") if result.changed else None
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

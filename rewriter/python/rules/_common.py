"""Helpers the Python rules share: string edits and notes."""

from __future__ import annotations

import posixpath
import re

from rewriter.core.edits import Edit
from rewriter.core.rules import Decline
from rewriter.python.model import Setting

_STRING = re.compile(r"^([rRuUbBfF]{0,2})('''|\"\"\"|'|\")(.*)\2$", re.S)


def replace_string(text: str, s: Setting, new: str) -> Edit | None:
    """An edit that makes the string literal ``s``'s value ``new``, keeping its
    prefix and quotes; ``None`` when the value is not one plain string."""
    raw = text[s.value.start:s.value.end]
    m = _STRING.match(raw)
    if s.kind != "SimpleString" or m is None or "b" in m.group(1).lower():
        return None
    start = s.value.start + m.start(3)
    return Edit(start, start + len(m.group(3)), new)


#: test modules, by the names pytest and unittest collect
_TEST_FILE = re.compile(r"^(?:test_.*|.*_tests?|conftest)\.py$")


def test_module(path: str | None) -> Decline | None:
    """A decline for a test module (``test_app.py``, ``celery_test.py``): the
    settings there are what the test exercises (a pickle round trip), not how
    workers are configured."""
    if not path:
        return None
    if _TEST_FILE.match(posixpath.basename(path.replace("\\", "/"))):
        return Decline("test-module",
                       "a test module (or a test run's settings): what it sets is what the "
                       "tests exercise, not how the workers run", 1)
    return None


def elsewhere_note(s: Setting) -> Decline:
    return Decline(
        "value-from-elsewhere",
        f"`{s.spelled}` comes from {s.why}, not from a value written here; dockfix "
        "leaves it alone (check the value it gets at run time)",
        s.line,
    )


def string_list(items: list[str], kind: str, quote: str) -> str:
    """``items`` as a Python list, set or tuple literal (as ``kind`` is)."""
    body = ", ".join(f"{quote}{i}{quote}" if quote not in i and "\\" not in i else repr(i)
                     for i in items)
    if kind == "Set":
        return "{" + body + "}"
    if kind == "Tuple":  # its parentheses, if it has any, are not part of the value
        return body + ("," if len(items) == 1 else "")
    return "[" + body + "]"

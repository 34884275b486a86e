"""Unified diffs that ``git apply`` and ``patch -p1`` take as they are.

* Headers are ``--- a/PATH`` and ``+++ b/PATH``, with no timestamps, so a diff
  is stable and can be kept as a fixture (black had to mask its timestamps).
* Lines are split on ``\\n`` only: a ``\\r`` stays part of its line, so a CRLF
  file diffs as CRLF lines, as ``git diff`` prints it.
* A last line with no ``\\n`` is followed by ``\\ No newline at end of file``
  (black's ``output.diff`` fix of ``difflib``).

This module does no I/O and imports nothing from the package.
"""

from __future__ import annotations

import difflib

NO_NEWLINE = "\\ No newline at end of file\n"

_RESET = "\033[0m"
_BOLD = "\033[1m"
_RED = "\033[31m"
_GREEN = "\033[32m"
_CYAN = "\033[36m"


def split_lines(text: str) -> list[str]:
    """``text`` as lines that keep their ``\\n``; split on ``\\n`` only."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def header_path(path: str) -> str:
    """``path`` as a diff header names it: ``/`` separators, C-quoted like git
    when it holds a quote, a backslash or a control character."""
    if not any(c in path for c in '"\\') and all(c >= " " and c != "\x7f" for c in path):
        return path
    out = []
    for c in path:
        if c in '"\\':
            out.append("\\" + c)
        elif c == "\t":
            out.append("\\t")
        elif c == "\n":
            out.append("\\n")
        elif c < " " or c == "\x7f":
            out.append(f"\\{ord(c):03o}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _name(prefix: str, path: str) -> str:
    quoted = header_path(path)
    if quoted.startswith('"'):
        return f'"{prefix}{quoted[1:]}'
    return prefix + quoted


def unified_diff(before: str, after: str, path: str, *, context: int = 3) -> str:
    """The unified diff from ``before`` to ``after``; ``""`` when they are equal."""
    if before == after:
        return ""
    out: list[str] = []
    for line in difflib.unified_diff(
        split_lines(before),
        split_lines(after),
        fromfile=_name("a/", path),
        tofile=_name("b/", path),
        n=context,
        lineterm="\n",
    ):
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n")
            out.append(NO_NEWLINE)
    return "".join(out)


def color_diff(diff: str) -> str:
    """``diff`` with ANSI colors: bold headers, cyan hunks, red removals, green additions."""
    lines = diff.split("\n")
    for i, line in enumerate(lines):
        if line.startswith(("+++ ", "--- ")):
            lines[i] = _BOLD + line + _RESET
        elif line.startswith("@@"):
            lines[i] = _CYAN + line + _RESET
        elif line.startswith("+"):
            lines[i] = _GREEN + line + _RESET
        elif line.startswith("-"):
            lines[i] = _RED + line + _RESET
    return "\n".join(lines)

"""Glob matching as ``fnmatch`` does it, with string methods for the globs
whose only wildcard is ``*`` (nearly all of the ones dockfix's tables hold).

``fnmatch`` turns every glob it is handed into a regular expression and
compiles it, once per process.  Judging one small file matches a hundred-odd
globs of ``judge.toml`` and ``families.toml`` once each, and compiling them
cost about 10 ms of its cold start on a busy machine.  A ``*``-only glob is a
prefix, a suffix and pieces in order between them: the same answer, without
compiling anything.  Globs with ``?`` or ``[...]`` go to ``fnmatch`` itself.
"""

from __future__ import annotations

import fnmatch as _fnmatch
import os

__all__ = ["fnmatch", "fnmatchcase"]


def fnmatchcase(name: str, pattern: str) -> bool:
    """``fnmatch.fnmatchcase(name, pattern)``: ``*`` is any run of characters
    (line breaks too), ``?`` one character, ``[...]`` a set; case counts."""
    if "?" in pattern or "[" in pattern:
        return _fnmatch.fnmatchcase(name, pattern)
    parts = pattern.split("*")
    if len(parts) == 1:
        return name == pattern
    first, last = parts[0], parts[-1]
    end = len(name) - len(last)
    if end < len(first) or not name.startswith(first) or not name.endswith(last):
        return False
    pos = len(first)
    for part in parts[1:-1]:  # each piece between two stars, leftmost first
        pos = name.find(part, pos, end)
        if pos < 0:
            return False
        pos += len(part)
    return True


def fnmatch(name: str, pattern: str) -> bool:
    """``fnmatch.fnmatch(name, pattern)``: both through ``os.path.normcase`` first
    (nothing changes on POSIX; lowercase and ``\\`` on Windows)."""
    return fnmatchcase(os.path.normcase(name), os.path.normcase(pattern))

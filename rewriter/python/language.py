"""Python as a language of the engine: parse, analyse, and check a fix's output.

Importing this module registers the language and its rules
(``rewriter.python.rules``) with ``rewriter.core.rules.REGISTRY``.

``parse`` reads any Python 3 file with the standard library's ``ast`` (a file
that is not Python 3 is a ``ParseError``: one line, the file untouched).  Only
a file that names a Celery setting the rules read is then read with libcst
(``rewriter.python.celeryconf``); for every other file the configuration is
empty and libcst is never imported.

``breakage`` builds the output's symbol tables (the compiler's pass after
parsing; never ``compile``, which dockfix does not call on what it reads), so
a fix that makes a file Python would refuse is itself refused.
"""

from __future__ import annotations

import ast
import re
import symtable
from typing import Any

from rewriter.core.language import Language
from rewriter.core.rules import REGISTRY
from rewriter.core.settings import Settings
from rewriter.core.source import Source
from rewriter.python.context import Pragmas, PyContext
from rewriter.python.detect import mentions_settings
from rewriter.python.model import Config, PythonParseError

from rewriter.python import rules

NAME = rules.LANGUAGE

_PRAGMA = re.compile(r"#\s*dockfix:\s*(ignore-file|ignore)\s*(?:=\s*([A-Za-z0-9_,\s]*))?\s*$",
                     re.I | re.M)


def parse(text: str) -> Config:
    """The Celery configuration of ``text``; raises ``PythonParseError``."""
    try:
        ast.parse(text)
    except SyntaxError as exc:
        raise PythonParseError(f"not Python 3 ({exc.msg})", exc.lineno or 1) from None
    except (ValueError, MemoryError, RecursionError) as exc:
        raise PythonParseError(f"not Python 3 ({exc})", 1) from None
    if not mentions_settings(text):
        return Config(Source(text))
    from rewriter.python import celeryconf  # libcst: only for a file that needs it

    return celeryconf.read(text)


def breakage(before: Config, after: Config) -> str | None:
    """Why the fixed text would not run where the input did."""
    try:
        symtable.symtable(after.source.text, "<fixed>", "exec")
    except (SyntaxError, ValueError) as exc:
        return f"the fix made the file invalid Python ({exc})"
    return None


def pragmas(source: Source) -> Pragmas:
    """``# dockfix: ignore[=CODES]`` on a setting's line or the line above it;
    ``# dockfix: ignore-file[=CODES]`` anywhere."""
    out = Pragmas()
    if "dockfix" not in source.text:
        return out
    for m in _PRAGMA.finditer(source.text):
        codes = {c.strip().upper() for c in (m.group(2) or "").split(",") if c.strip()} or {"*"}
        if m.group(1).lower() == "ignore-file":
            out.file |= codes
        else:
            out.lines.setdefault(source.line_col(m.start())[0], set()).update(codes)
    return out


def analyse(config: Config, settings: Settings, path: str | None = None,
            build_context: Any = None) -> PyContext:
    return PyContext(config, settings, path, pragmas(config.source))


PYTHON = Language(NAME, parse, analyse, breakage)

REGISTRY.add_language(PYTHON)
for _rule in rules.RULES:
    REGISTRY.add(_rule)

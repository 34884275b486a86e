"""dockfix: rewrite Dockerfiles so their containers run as a non-root user.

The public API.  Importing the package registers the Dockerfile language and
its rules, the language ``fix_text`` fixes by default, and Python (the Celery
rules) and the files that start Celery workers, whose modules are imported
when a run first reads such a file or lists the rules (libcst only for a file
that needs it).
"""

from __future__ import annotations

__version__ = "0.1.0"  # before the imports: modules below read it

from rewriter.core.engine import Result, fix_text
from rewriter.core.rules import REGISTRY
from rewriter.core.settings import Settings
from rewriter.dockerfile import language as _dockerfile  # noqa: F401  (registers itself)
from rewriter.dockerfile.syntax import ParseError, parse


def _load_python() -> None:
    # Imported on first need, not here: about 10 ms of modules (and the stdlib's
    # symtable) that a run over Dockerfiles alone never uses.
    from rewriter.python import language, workers  # noqa: F401  (they register themselves)


REGISTRY.defer(("python", "celery-worker"), _load_python)

__all__ = ["ParseError", "Result", "Settings", "fix_text", "parse"]

"""dockfix: rewrite Dockerfiles so their containers run as a non-root user.

The public API.  Importing the package registers the Dockerfile language and
its rules, the language ``fix_text`` fixes by default, and Python (the Celery
rules; libcst is imported only for a file that needs it).
"""

from __future__ import annotations

__version__ = "0.1.0"  # before the imports: modules below read it

from rewriter.core.engine import Result, fix_text
from rewriter.core.settings import Settings
from rewriter.dockerfile import language as _dockerfile  # noqa: F401  (registers itself)
from rewriter.dockerfile.syntax import ParseError, parse
from rewriter.python import language as _python  # noqa: F401  (registers itself; no libcst)
from rewriter.python import workers as _workers  # noqa: F401  (files that start Celery workers)

__all__ = ["ParseError", "Result", "Settings", "fix_text", "parse"]

"""dockfix: rewrite Dockerfiles so their containers run as a non-root user.

The public API is imported lazily, so ``import rewriter`` (and ``dockfix
--version``) costs nothing beyond this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["ParseError", "Result", "Settings", "fix_text", "parse"]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from rewriter.core.engine import Result, fix_text
    from rewriter.core.settings import Settings
    from rewriter.dockerfile.syntax import ParseError, parse

_WHERE = {
    "Result": "rewriter.core.engine",
    "fix_text": "rewriter.core.engine",
    "Settings": "rewriter.core.settings",
    "ParseError": "rewriter.dockerfile.syntax",
    "parse": "rewriter.dockerfile.syntax",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'rewriter' has no attribute {name!r}")

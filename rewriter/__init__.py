"""dockfix: rewrite Dockerfiles so their containers run as a non-root user."""

from __future__ import annotations

from rewriter.engine import Result, fix_text
from rewriter.settings import Settings
from rewriter.syntax import ParseError, parse

__all__ = ["ParseError", "Result", "Settings", "fix_text", "parse"]
__version__ = "0.1.0"

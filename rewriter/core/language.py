"""What the engine needs to know about a language, and nothing more.

A ``Language`` is a record of three functions: how to parse a text into a
tree (raising ``ParseError`` when it cannot), how to build the analysis
context the rules of the language read, and how to tell that a fix broke a
file that parsed before.  The engine (``rewriter.core.engine``) is handed one;
it never looks inside a tree itself.

Each language lives in its own subpackage (``rewriter.dockerfile``,
``rewriter.python``) and registers itself and its rules with
``rewriter.core.rules.REGISTRY``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from rewriter.core.settings import Settings
from rewriter.core.source import Span

__all__ = ["Analysis", "Language", "ParseError"]


class ParseError(ValueError):
    """The text is not valid in the language (the input, never a fix)."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.message = message
        self.line = line


class Analysis(Protocol):
    """The analysis context a language builds for its rules.

    The engine reads only this much of it; the rules of the language read the
    rest (the tree, a model of it, the build context).
    """

    @property
    def settings(self) -> Settings: ...

    def ignored(self, code: str, span: Span) -> bool:
        """True when a comment in the file turns rule ``code`` off at ``span``."""
        ...

    def line(self, offset: int) -> int:
        """The 1-based line of ``offset``."""
        ...


#: ``analyse(tree, settings, path, build_context)``: ``path`` is where the
#: file is (or ``None``), ``build_context`` any read-only view of the files
#: around it (``rewriter.io.context``), passed through untouched.
Analyse = Callable[[Any, Settings, "str | None", Any], Analysis]


@dataclass(frozen=True, slots=True)
class Language:
    """A language of the engine: how to parse it, analyse it and check a fix."""

    name: str  #: e.g. ``dockerfile``; rules name their language by it
    parse: Callable[[str], Any]  #: text -> tree; raises ``ParseError``
    analyse: Analyse  #: tree -> the analysis context of its rules
    #: ``breakage(before, after)``: why the tree of a fixed text would be
    #: rejected where the tree of the input was accepted, or ``None``
    breakage: Callable[[Any, Any], "str | None"]

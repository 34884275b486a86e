"""The Celery settings of a Python file, as plain data (no libcst here).

``rewriter.python.celeryconf`` fills these in from libcst's tree; the rules
read them, so documenting or listing the rules never imports libcst.
"""

from __future__ import annotations

import re
from typing import Any

from dataclasses import dataclass, field
from rewriter.core.language import ParseError
from rewriter.core.source import Source
from rewriter.core.source import Span


class PythonParseError(ParseError):
    """The text is not Python 3 (as this interpreter and libcst read it)."""


@dataclass(frozen=True)
class Setting:
    name: str  #: canonical (new) name, e.g. ``task_serializer``
    spelled: str  #: as written, e.g. ``CELERY_TASK_SERIALIZER`` or ``broker``
    form: str  #: ``call``, ``dict``, ``attribute``, ``subscript`` or ``assign``
    span: Span  #: the key (or target) through the value
    value: Span  #: the value
    literal: bool  #: the value is a literal (a string, or a list/tuple/set of them)
    python: Any  #: the literal's value (``None`` when not a literal)
    kind: str  #: the value's libcst node type, e.g. ``SimpleString``, ``List``
    why: str  #: where a value that is not a literal comes from, in words
    quote: str  #: the quote character of the value's (first) string, else ``'``
    #: how to write another setting beside this one: insert ``insert`` (with
    #: ``{entry}`` replaced) at ``insert_at``; ``entry`` has ``{key}`` and
    #: ``{value}`` to fill in.  ``insert_at`` is -1 when there is no good place.
    insert_at: int
    insert: str
    entry: str
    line: int  #: 1-based line of the key
    statement: str  #: the setting as written, whitespace collapsed (for reports)
    comments: bool  #: the value holds a comment

    def sibling(self, key: str, value: str) -> tuple[int, str] | None:
        """Where and what to insert to set ``key`` to ``value`` (source text) beside this."""
        if self.insert_at < 0:
            return None
        entry = self.entry.format(key=key, value=value)
        return self.insert_at, self.insert.replace("{entry}", entry)


@dataclass
class Config:
    source: Source
    settings: list[Setting] = field(default_factory=list)
    setup_security: bool = False  #: ``app.setup_security()`` is called
    #: configuration that comes from somewhere else: (what, line)
    elsewhere: list[tuple[str, int]] = field(default_factory=list)

    @property
    def quote(self) -> str:
        """The quote the file's settings use most (``'`` when none is a string)."""
        quotes = [s.quote for s in self.settings if s.kind == "SimpleString"]
        return max(("'", '"'), key=quotes.count) if quotes else "'"

    def named(self, *names: str) -> list[Setting]:
        return [s for s in self.settings if s.name in names]

    def statement_at(self, offset: int) -> str:
        """What a finding at ``offset`` is about, on one line, with any password
        in a URL masked: the setting there, else the line's text."""
        for s in self.settings:
            if s.span.start <= offset < s.span.end:
                return mask(s.statement)
        text = self.source.text
        if not self.source.lines:
            return ""
        ln = self.source.lines[self.source.line_index(offset)]
        return mask(" ".join(text[ln.start:ln.content_end].split()))


_USERINFO = re.compile(r"(://[^:/@\s'\"]*):[^@/\s'\"]+@")


def mask(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``****``."""
    return _USERINFO.sub(r"\1:****@", text)

"""The text of one Dockerfile: its physical lines, newline style and offset maps.

Offsets are indices into the decoded ``str`` (never bytes).  Lines are split the
way BuildKit's scanner splits them: on ``\\n`` only, with trailing ``\\r``
characters not part of the line's content.  A file with bare ``\\r`` line
endings is therefore one long line to BuildKit, and to us.

This module imports nothing from the package.
"""

from __future__ import annotations

import bisect
from typing import NamedTuple

BOM = "\ufeff"


class Span(NamedTuple):
    """``[start, end)``: offsets into a text."""

    start: int
    end: int


class Line(NamedTuple):
    """One physical line: ``[start, content_end)`` is its content (no trailing
    ``\\r``/``\\n``), ``[start, end)`` includes its line terminator.  (A named
    tuple: a long file has a hundred thousand of them.)"""

    start: int
    content_end: int
    end: int


class Source:
    """A decoded Dockerfile and the tables every consumer needs."""

    def __init__(self, text: str) -> None:
        self.text = text
        lines: list[Line] = []
        pos = 0
        pieces = text.split("\n")
        if pieces[-1] == "":
            pieces.pop()  # the text ends with a newline (or is empty)
        for piece in pieces:
            end = pos + len(piece)
            lines.append(Line(pos, end - (len(piece) - len(piece.rstrip("\r"))), end + 1))
            pos = end + 1
        if lines and not text.endswith("\n"):
            lines[-1] = lines[-1]._replace(end=len(text))
        self.lines: tuple[Line, ...] = tuple(lines)
        self._starts = [ln.start for ln in lines]

    @property
    def newline(self) -> str:
        """The newline style new lines should use: that of the first line break."""
        nl = self.text.find("\n")
        if nl < 0:
            return "\r" if "\r" in self.text else "\n"
        return "\r\n" if nl > 0 and self.text[nl - 1] == "\r" else "\n"

    def line_index(self, offset: int) -> int:
        """0-based index of the physical line holding ``offset``."""
        return max(0, bisect.bisect_right(self._starts, offset) - 1)

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of ``offset``."""
        i = self.line_index(offset)
        start = self._starts[i] if self._starts else 0
        return i + 1, offset - start + 1

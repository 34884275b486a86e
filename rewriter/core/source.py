"""The text of one Dockerfile: its physical lines, newline style and offset maps.

Offsets are indices into the decoded ``str`` (never bytes).  Lines are split the
way BuildKit's scanner splits them: on ``\\n`` only, with trailing ``\\r``
characters not part of the line's content.  A file with bare ``\\r`` line
endings is therefore one long line to BuildKit, and to us.

This module imports nothing from the package.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterator, Sequence
from itertools import accumulate, count
from operator import add
from typing import NamedTuple, overload

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


class Lines(Sequence[Line]):
    """The physical lines of a text, as a read-only sequence of ``Line``.

    Kept as three arrays of offsets, not a tuple of ``Line`` tuples: a 10 MiB
    file of short lines has nearly two million of them, and a tuple and three
    int objects per line cost twenty times the file's own size.  A ``Line`` is
    made when one is asked for.
    """

    __slots__ = ("starts", "content_ends", "ends")

    def __init__(self, starts: array[int], content_ends: array[int], ends: array[int]) -> None:
        self.starts, self.content_ends, self.ends = starts, content_ends, ends

    def __len__(self) -> int:
        return len(self.starts)

    @overload
    def __getitem__(self, i: int) -> Line: ...
    @overload
    def __getitem__(self, i: slice) -> list[Line]: ...
    def __getitem__(self, i: int | slice) -> Line | list[Line]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return Line(self.starts[i], self.content_ends[i], self.ends[i])

    def __iter__(self) -> Iterator[Line]:
        return map(Line, self.starts, self.content_ends, self.ends)


class Source:
    """A decoded Dockerfile and the tables every consumer needs."""

    def __init__(self, text: str) -> None:
        self.text = text
        pieces = text.split("\n")
        if pieces[-1] == "":
            pieces.pop()  # the text ends with a newline (or is empty)
        # Each line's end, after its "\n": the lengths so far, plus one "\n" a
        # line, summed by C iterators (a Python loop here was a fifth of
        # parsing a 1,000-line Dockerfile).
        ends = array("q", map(add, accumulate(map(len, pieces)), count(1)))
        starts = array("q", [0]) + ends[:-1] if ends else array("q")
        if "\r" in text:  # before the "\n": the content ends before any "\r"
            content_ends = array("q", (end - 1 - (len(piece) - len(piece.rstrip("\r")))
                                       for end, piece in zip(ends, pieces)))
        else:
            content_ends = array("q", map((-1).__add__, ends))
        del pieces
        if ends and not text.endswith("\n"):
            ends[-1] = len(text)
        self.lines = Lines(starts, content_ends, ends)
        self._starts = starts

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

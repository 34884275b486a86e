"""Offsets into a text and the positions of the Language Server Protocol.

dockfix's offsets index the decoded ``str`` (code points).  The protocol
counts a position's ``character`` in the code units of the negotiated
encoding: UTF-16 unless client and server agreed on ``utf-8`` or ``utf-32``
(a character outside the Basic Multilingual Plane is two UTF-16 units, and up
to four UTF-8 ones).  Its lines end at ``\\n``, ``\\r\\n`` or ``\\r``.

This module imports nothing from the package, nor pygls.
"""

from __future__ import annotations

import bisect
import re
from itertools import accumulate

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"

_BREAK = re.compile(r"\r\n|\r|\n")


def _units(text: str, encoding: str) -> int:
    """The length of ``text`` in code units of ``encoding``."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def _line_starts(text: str) -> list[int]:
    """The offset of each line's start (one more than the text's line breaks)."""
    if "\r" in text:
        return [0] + [m.end() for m in _BREAK.finditer(text)]
    # the usual text: ``\n`` only, and the lengths of its lines summed in C
    # (a match object per line costs eight times as much: 1.6 ms on 1,000 lines)
    return list(accumulate([len(line) + 1 for line in text.split("\n")], initial=0))[:-1]


class Positions:
    """Converts between offsets into ``text`` and protocol positions."""

    def __init__(self, text: str, encoding: str = UTF16) -> None:
        self.text = text
        self.encoding = encoding
        self.starts = _line_starts(text)

    def position(self, offset: int) -> tuple[int, int]:
        """The ``(line, character)`` of ``offset`` (clamped to the text)."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        start = self.starts[line]
        return line, _units(self.text[start:offset], self.encoding)

    def line_end(self, line: int) -> int:
        """The offset of the end of ``line``'s content (before its line break)."""
        if line + 1 < len(self.starts):
            end = self.starts[line + 1]
            while end > self.starts[line] and self.text[end - 1] in "\r\n":
                end -= 1
            return end
        return len(self.text)

    def offset(self, line: int, character: int) -> int:
        """The offset of a protocol position (a character past a line's end
        means its end, as the protocol says)."""
        if line < 0:
            return 0
        if line >= len(self.starts):
            return len(self.text)
        start, end = self.starts[line], self.line_end(line)
        if self.encoding == UTF32 or self.text[start:end].isascii():
            return min(start + max(character, 0), end)
        units = 0
        for i in range(start, end):
            if units >= character:
                return i
            units += _units(self.text[i], self.encoding)
        return end

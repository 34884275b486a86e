"""Text edits, fixes and their applicability (ruff's model).

A fix is a small set of ``Edit``s to the original text plus an
``Applicability``.  ``apply_fixes`` applies, in one left-to-right pass, every
fix at or above a threshold whose edits overlap no edit already taken; the
engine re-parses and calls it again until nothing more applies.

This module imports nothing from the package.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class Applicability(enum.IntEnum):
    DISPLAY_ONLY = 0  #: shown as a suggestion, never applied
    UNSAFE = 1  #: applied only with ``--unsafe-fixes``
    SAFE = 2  #: applied by default

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


@dataclass(frozen=True, order=True)
class Edit:
    """Replace ``text[start:end]`` with ``content``; an insertion if start == end."""

    start: int
    end: int
    content: str = ""

    @classmethod
    def insert(cls, at: int, content: str) -> Edit:
        return cls(at, at, content)

    @classmethod
    def delete(cls, start: int, end: int) -> Edit:
        return cls(start, end, "")


@dataclass(frozen=True)
class Fix:
    """A rule's proposed change: edits of the text, and whether they are safe to apply."""

    title: str  #: imperative, e.g. "Use `COPY --chown=10001:10001`"
    edits: tuple[Edit, ...]  #: sorted by (start, end) on construction
    applicability: Applicability = Applicability.SAFE

    def __post_init__(self) -> None:
        # By place only (a stable sort): two insertions at one place keep their order.
        object.__setattr__(self, "edits", tuple(sorted(self.edits, key=lambda e: (e.start, e.end))))

    def applies(self, threshold: Applicability) -> bool:
        return self.applicability >= threshold


def _overlaps(a: Edit, b: Edit) -> bool:
    """True when applying both ``a`` and ``b`` has no single clear meaning."""
    if a.start == b.start:
        return True  # two edits at one place: their order would be a guess
    return a.start < b.end and b.start < a.end


def _well_formed(edits: tuple[Edit, ...]) -> bool:
    """Edits of one fix may touch but not overlap (they are sorted)."""
    return all(a.end <= b.start and (a.start, a.end) != (b.start, b.end) or
               a.start == a.end == b.start == b.end
               for a, b in zip(edits, edits[1:]))


def apply_fixes(
    text: str, fixes: Iterable[Fix], threshold: Applicability = Applicability.SAFE
) -> tuple[str, list[Fix]]:
    """Apply every fix at or above ``threshold`` that overlaps none taken before
    it; returns the new text and the fixes applied, in order."""
    taken: list[Edit] = []
    applied: list[Fix] = []
    n = len(text)
    for fix in fixes:
        if not fix.edits or fix.applicability is Applicability.DISPLAY_ONLY:
            continue
        if not fix.applies(threshold):
            continue
        if any(not 0 <= e.start <= e.end <= n for e in fix.edits):
            continue
        if any(_overlaps(e, t) for e in fix.edits for t in taken):
            continue
        if not _well_formed(fix.edits):
            continue
        taken.extend(fix.edits)
        applied.append(fix)
    if not taken:
        return text, []
    out: list[str] = []
    last = 0
    for edit in sorted(taken, key=lambda e: (e.start, e.end)):
        out.append(text[last:edit.start])
        out.append(edit.content)
        last = edit.end
    out.append(text[last:])
    return "".join(out), applied


def map_back(edits: Sequence[Edit], pos: int, *, right: bool = False) -> tuple[int, bool]:
    """Where ``pos``, an offset into the text *after* ``edits`` were applied,
    was before them.

    ``edits`` are those ``apply_fixes`` took (any order; they do not overlap).
    A position inside text an edit wrote has no place in the old text: it maps
    to the start of the replaced range (its end with ``right``), and the flag
    is False.  Positions at either edge of written text map exactly.
    """
    delta = 0
    for e in sorted(edits, key=lambda e: (e.start, e.end)):
        new_start = e.start + delta
        new_end = new_start + len(e.content)
        if pos < new_start:
            break
        if pos <= new_end:
            if pos == new_start == new_end:
                return (e.end if right else e.start), True
            if pos == new_start:
                return e.start, True
            if pos == new_end:
                return e.end, True
            return (e.end if right else e.start), False
        delta += len(e.content) - (e.end - e.start)
    return pos - delta, True

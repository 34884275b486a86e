"""Small helpers the formats share."""

from __future__ import annotations

from collections.abc import Sequence

from rewriter.report.outcome import FIXED, STATUSES, FileOutcome, FindingInfo


def plural(n: int, word: str, words: str) -> str:
    return f"{n} {word if n == 1 else words}"


def counts(outcomes: Sequence[FileOutcome]) -> dict[str, int]:
    """How many files have each status (every status, zeros too)."""
    out = dict.fromkeys(STATUSES, 0)
    for o in outcomes:
        out[o.status] += 1
    return out


def fix_note(f: FindingInfo, unsafe_fixes: bool) -> str:
    """Why a finding that is still there was not fixed, e.g. ``(suggestion: ...)``."""
    if f.fix is None:
        return ""
    if f.fix.applicability == "display-only":
        return f" (suggestion: {f.fix.title})"
    if f.fix.applicability == "unsafe" and not unsafe_fixes:
        return f" (unsafe fix, apply with --unsafe-fixes: {f.fix.title})"
    return ""


def fix_line(o: FileOutcome, f: FindingInfo) -> str:
    """What became of a finding's fix, in one sentence (empty: it has none)."""
    if f.fix is None:
        return ""
    kind, title = f.fix.applicability, f.fix.title
    if f.applied:
        if o.status == FIXED:
            return f"Fixed ({kind} fix): {title}"
        return f"Fix ({kind}, applied by `dockfix --write`): {title}"
    if kind == "display-only":
        return f"Suggestion (not applied automatically): {title}"
    if kind == "unsafe" and not o.unsafe_fixes:
        return f"Fix (unsafe, applied only with `--unsafe-fixes`): {title}"
    return f"Fix ({kind}, not applied): {title}"

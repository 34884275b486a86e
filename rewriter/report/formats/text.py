"""The text format: a unified diff per changed file on stdout (the runner
prints ``FileOutcome.diff``), and these messages on stderr, file by file::

    Dockerfile:12: declined (privilege-drop-entrypoint): the entrypoint drops privileges with gosu
    Dockerfile:3:8: DF006 port 80 is below 1024: ...
    Would fix Dockerfile (3 fixes)

Positions in ``PATH:LINE:COL`` lines are in the fixed text; ``declined``
lines name lines of the input.
"""

from __future__ import annotations

from rewriter.report.formats._common import fix_note, plural
from rewriter.report.outcome import FIXED, FileOutcome


def messages(o: FileOutcome) -> list[str]:
    """The stderr lines for one file that was read and fixed (or found fine)."""
    out = []
    for d in o.declines:
        where = f"{o.path}:{d.line}" if d.line else o.path
        kind = f" [{d.kind}]" if d.kind else ""
        out.append(f"{where}: declined ({d.reason}){kind}: {d.message}")
        out += [f"  evidence: {e}" for e in d.evidence]
    for f in o.findings:
        if f.remaining and f.output_position is not None:
            at = f.output_position
            out.append(f"{o.path}:{at.line}:{at.column}: {f.code} {f.message}"
                       f"{fix_note(f, o.unsafe_fixes)}")
    if o.changed:
        verb = "Fixed" if o.status == FIXED else "Would fix"
        out.append(f"{verb} {o.path} ({plural(o.applied, 'fix', 'fixes')})")
    return out

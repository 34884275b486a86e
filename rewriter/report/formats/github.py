"""The github format: GitHub Actions workflow commands, one line each.

In a workflow step, each line becomes an annotation on the file and lines it
names, shown on the pull request's "Files changed" tab::

    ::warning file=Dockerfile,line=14,col=5,endLine=14,endColumn=34,title=DF002 ...::`RUN chown` ...
    ::notice file=Dockerfile,line=2,title=dockfix declined (privilege-drop-entrypoint)::...
    ::error file=svc/Dockerfile,title=dockfix error::svc/Dockerfile: line 4: unterminated heredoc

Findings are warnings, placed in the input file; declines that are not merely
informational are notices; files that could not be handled are errors.
Columns are given only for a one-line range (GitHub ignores them otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rewriter.report.formats._common import fix_line
from rewriter.report.outcome import ERROR, FileOutcome, FindingInfo
from rewriter.report.ruledocs import RuleDoc


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, message: str, **props: object) -> str:
    """``::kind prop=value,...::message`` with GitHub's escaping."""
    parts = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items() if v is not None)
    return f"::{kind}{' ' + parts if parts else ''}::{escape_data(message)}"


def _finding(o: FileOutcome, f: FindingInfo) -> str:
    r = f.range
    one_line = r.start.line == r.end.line
    message = f.message
    if f.fix is not None:
        message += "\n" + fix_line(o, f)
    return command(
        "warning", message, file=o.path, line=r.start.line,
        col=r.start.column if one_line else None, endLine=r.end.line,
        endColumn=r.end.column if one_line else None, title=f"{f.code} {f.name}",
    )


def render(outcomes: Sequence[FileOutcome], rules: Mapping[str, RuleDoc]) -> str:
    lines = []
    for o in outcomes:
        if o.status == ERROR:
            lines.append(command("error", o.error or "error", file=o.path, title="dockfix error"))
            continue
        lines.extend(_finding(o, f) for f in o.findings)
        for d in o.declines:
            if not d.informational:
                lines.append(command("notice", d.message, file=o.path, line=d.line,
                                     title=f"dockfix declined ({d.reason})"))
    return "".join(line + "\n" for line in lines)

"""The JSON format: the whole run as one JSON document, for programs.

The layout is described by the JSON Schema ``rewriter/data/dockfix-output.schema.json``
(shipped in the package).  Output is stable: no timestamps, keys sorted,
two-space indentation, ASCII only, files in the order they were found,
findings in the order dockfix found them.  Positions are 1-based and in the
input text; ends are exclusive.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib.resources import files
from typing import Any

from rewriter import __version__
from rewriter.report.formats._common import counts
from rewriter.report.outcome import FileOutcome, FindingInfo, Position, Range
from rewriter.report.ruledocs import RuleDoc

#: The version of this document's layout; it changes only when a field
#: changes meaning or goes away.
FORMAT_VERSION = 2


def _pos(p: Position) -> dict[str, int]:
    return {"line": p.line, "column": p.column}


def _range(r: Range) -> dict[str, Any]:
    return {"start": _pos(r.start), "end": _pos(r.end)}


def _finding(f: FindingInfo) -> dict[str, Any]:
    fix = None
    if f.fix is not None:
        edits = None
        if f.fix.edits is not None:
            edits = [{"range": _range(e.range), "content": e.content} for e in f.fix.edits]
        fix = {"title": f.fix.title, "applicability": f.fix.applicability, "edits": edits}
    return {
        "code": f.code,
        "name": f.name,
        "message": f.message,
        "span": _range(f.range),
        "fix": fix,
        "applied": f.applied,
        "remaining": f.remaining,
        "instruction": f.instruction,
        "fingerprint": f.fingerprint,
    }


def file_object(o: FileOutcome) -> dict[str, Any]:
    """The JSON object of one file."""
    runtime = None
    if o.runtime is not None:
        r = o.runtime
        runtime = {
            "stage": r.stage,
            "ports": [{"port": p.port, "number": p.number, "line": p.line} for p in r.ports],
            "volumes": [{"path": path, "line": line} for path, line in r.volumes],
            "commands": [{"instruction": c.instruction, "text": c.text, "line": c.line}
                         for c in r.commands],
        }
    return {
        "path": o.path,
        "status": o.status,
        "error": o.error,
        "stages": [
            {"index": s.index, "name": s.name, "base": s.base, "family": s.family,
             "family_source": s.family_source, "line": s.line, "runtime": s.runtime,
             "user_before": s.user_before, "user_after": s.user_after}
            for s in o.stages
        ],
        "runtime": runtime,
        "findings": [_finding(f) for f in o.findings],
        "declines": [
            {"reason": d.reason, "message": d.message, "line": d.line, "stage": d.stage,
             "informational": d.informational, "kind": d.kind, "evidence": list(d.evidence)}
            for d in o.declines
        ],
        "fixes_applied": o.applied,
        "diff": o.diff,
    }


def document(outcomes: Sequence[FileOutcome]) -> dict[str, Any]:
    return {
        "dockfix": __version__,
        "format_version": FORMAT_VERSION,
        "files": [file_object(o) for o in outcomes],
        "summary": {"files": len(outcomes), **counts(outcomes)},
    }


def render(outcomes: Sequence[FileOutcome], rules: Mapping[str, RuleDoc]) -> str:
    return json.dumps(document(outcomes), indent=2, sort_keys=True) + "\n"


def schema() -> dict[str, Any]:
    """The JSON Schema of this document, as shipped in the package."""
    text = files("rewriter").joinpath("data").joinpath("dockfix-output.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded

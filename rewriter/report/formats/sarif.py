"""The SARIF format: SARIF 2.1.0 for GitHub code scanning (``upload-sarif``).

* one run; the driver lists the rules that have results, by code, with their
  short description ("What it does"), full description ("Why is this bad?"),
  and help (the whole rule documentation, with its fix safety);
* one result per finding, at its place in the input file; ``ruleId`` is the
  rule code (``DF001``), which never changes meaning;
* ``partialFingerprints["dockfix/v1"]``: a hash of the rule code, the path and
  the instruction's text, so a result keeps its identity when lines move;
* paths are the paths as given, relative to where dockfix ran (run it from the
  repository's root), under ``uriBaseId`` ``%SRCROOT%``;
* a finding's fix, when it has edits, is a SARIF ``fix`` with replacements;
* declines and errors are tool execution notifications.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from rewriter import __version__
from rewriter.report.formats._common import fix_line
from rewriter.report.outcome import ERROR, FileOutcome, FindingInfo, Range
from rewriter.report.ruledocs import RuleDoc, applicability_words

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT = "dockfix/v1"
SRCROOT = "%SRCROOT%"


def uri(path: str) -> dict[str, str]:
    """An ``artifactLocation`` for ``path`` (relative: under ``%SRCROOT%``).

    The path's own bytes are percent-encoded: a name that is not UTF-8 (held
    as surrogate escapes, as ``os.fsdecode`` gives it) keeps its bytes."""
    if path.startswith("/"):
        return {"uri": "file://" + quote(_bytes(path))}
    return {"uri": quote(_bytes(posixpath.normpath(path))), "uriBaseId": SRCROOT}


def _bytes(path: str) -> bytes:
    return path.encode("utf-8", "surrogateescape")


def region(r: Range) -> dict[str, int]:
    return {"startLine": r.start.line, "startColumn": r.start.column,
            "endLine": r.end.line, "endColumn": r.end.column}


def _rule(code: str, name: str, doc: RuleDoc | None) -> dict[str, Any]:
    if doc is None:  # a rule with no documentation (a plug-in, a test's rule)
        return {"id": code, "name": name, "shortDescription": {"text": name},
                "defaultConfiguration": {"level": "warning"}}
    help_text = f"{doc.summary}\n\nFix: {applicability_words(doc)}. {doc.fix_safety}".strip()
    return {
        "id": doc.code,
        "name": doc.name,
        "shortDescription": {"text": doc.summary},
        "fullDescription": {"text": doc.why or doc.summary},
        "help": {"text": help_text,
                 "markdown": f"Fix: {applicability_words(doc)}.\n\n{doc.body}"},
        "defaultConfiguration": {"level": "warning"},
        "properties": {
            "tags": ["security", "container", "dockerfile"],
            "precision": "high",
            "fixable": doc.fixable,
            "applicability": doc.applicability or "none",
        },
    }


def _message(o: FileOutcome, f: FindingInfo) -> str:
    line = fix_line(o, f)
    return f"{f.message}. {line}" if line else f.message


def _result(o: FileOutcome, f: FindingInfo, index: int) -> dict[str, Any]:
    location = {"physicalLocation": {"artifactLocation": uri(o.path), "region": region(f.range)}}
    result: dict[str, Any] = {
        "ruleId": f.code,
        "ruleIndex": index,
        "level": "warning",
        "message": {"text": _message(o, f)},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT: f.fingerprint},
        "properties": {"applied": f.applied, "remaining": f.remaining},
    }
    if f.fix is not None and f.fix.edits:
        result["fixes"] = [{
            "description": {"text": f.fix.title},
            "artifactChanges": [{
                "artifactLocation": uri(o.path),
                "replacements": [
                    {"deletedRegion": region(e.range), "insertedContent": {"text": e.content}}
                    for e in f.fix.edits
                ],
            }],
        }]
    return result


def _notifications(outcomes: Sequence[FileOutcome]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for o in outcomes:
        where: dict[str, Any] = {"artifactLocation": uri(o.path)}
        if o.status == ERROR:
            out.append({"level": "error", "message": {"text": o.error or "error"},
                        "locations": [{"physicalLocation": where}]})
        for d in o.declines:
            loc = dict(where)
            if d.line:
                loc["region"] = {"startLine": d.line}
            note: dict[str, Any] = {
                "level": "note",
                "descriptor": {"id": d.reason},
                "message": {"text": f"declined ({d.reason}): {d.message}"
                            + "".join(f"\nevidence: {e}" for e in d.evidence)},
                "locations": [{"physicalLocation": loc}],
            }
            if d.kind or d.evidence:
                note["properties"] = {"kind": d.kind, "evidence": list(d.evidence)}
            out.append(note)
    return out


def document(outcomes: Sequence[FileOutcome], rules: Mapping[str, RuleDoc]) -> dict[str, Any]:
    names = {f.code: f.name for o in outcomes for f in o.findings}
    codes = sorted(names)
    index = {c: i for i, c in enumerate(codes)}
    results = [_result(o, f, index[f.code]) for o in outcomes for f in o.findings]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "dockfix",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule(c, names[c], rules.get(c)) for c in codes],
            }},
            "invocations": [{
                "executionSuccessful": not any(o.status == ERROR for o in outcomes),
                "toolExecutionNotifications": _notifications(outcomes),
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def render(outcomes: Sequence[FileOutcome], rules: Mapping[str, RuleDoc]) -> str:
    return json.dumps(document(outcomes, rules), indent=2, sort_keys=True) + "\n"

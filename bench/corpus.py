"""Sweep a directory of Dockerfiles: parser health, then what ``fix_text`` does.

    python bench/corpus.py [DIR] [--jobs N] [--json]

DIR defaults to ``../shared/corpus`` beside the repository.  For every file:

* parser: decodes as UTF-8?  parses (else the reason)?  ``render()`` gives the
  input back?  reads like BuildKit's own parser (``rewriter.dockerfile.crosscheck``, when
  the PyPI package ``dockerfile`` is installed)?
* remediation: ``fix_text`` changed it, declined it (declines and no change),
  or refused it (``result.error``); for a changed output, does BuildKit accept
  it, and does a second ``fix_text`` leave it alone (idempotence)?
* any exception other than ``ParseError`` from ``parse`` or ``fix_text`` is a
  crash, reported with the file and the exception type.

Exit status 1 if there was any crash, round-trip failure, BuildKit-unparsable
output or non-idempotent output; else 0.  ``fix_text`` gets no path: corpus
files have no build context beside them.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import multiprocessing
import re
import sys
import time
import traceback
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DIR = REPO.parent / "shared" / "corpus"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from rewriter.core.engine import Result, fix_text  # noqa: E402
from rewriter.dockerfile.syntax import ParseError, parse  # noqa: E402

#: Files in a corpus directory that are not Dockerfiles.
_SKIP_SUFFIXES = (".tsv", ".md", ".json", ".diff", ".patch", ".toml", ".sh", ".py", ".j2",
                  ".txt", ".yml", ".yaml")


# --- per file (runs in the worker processes) ------------------------------------


@dataclass
class Crash:
    file: str
    stage: str  #: parse | fix | second-fix | ...
    type: str
    message: str
    where: str  #: the last lines of the traceback


@dataclass
class FileReport:
    name: str
    seconds: float = 0.0
    utf8: bool = True
    parse_error: str | None = None
    roundtrip_ok: bool | None = None
    buildkit_diff: str | None = None  #: first difference with BuildKit's parser
    crashes: list[Crash] = field(default_factory=list)
    fixed: bool = False  #: fix_text ran to a Result
    changed: bool = False
    declines: list[str] = field(default_factory=list)  #: Decline.reason of each decline
    refused: str | None = None  #: Result.error
    output_rejected: str | None = None  #: why BuildKit (or we) reject the changed output
    idempotent: bool | None = None  #: None when the output did not change
    facts: dict[str, Any] = field(default_factory=dict)  #: see runtime_stage_facts()

    @property
    def declined(self) -> bool:
        return bool(self.declines) and not self.changed and self.refused is None


def _crash(report: FileReport, stage: str, exc: BaseException) -> None:
    tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
    where = "".join(tb[-3:]).strip()
    report.crashes.append(Crash(report.name, stage, type(exc).__name__, str(exc)[:300], where))


def _output_rejected(text: str, oracle: bool) -> str | None:
    if oracle:
        from rewriter.dockerfile.crosscheck import buildkit_parse

        theirs = buildkit_parse(text)
        return f"BuildKit: {theirs}" if isinstance(theirs, str) else None
    try:
        parse(text)
    except ParseError as exc:
        return f"dockfix parser: {exc}"
    return None


def examine(path: str, oracle: bool) -> FileReport:
    """Everything the sweep wants to know about one file; never raises."""
    started = time.perf_counter()
    report = FileReport(Path(path).name)
    try:
        _examine(report, Path(path), oracle)
    except Exception as exc:  # a bug in this script must not stop the sweep
        _crash(report, "bench", exc)
    report.seconds = time.perf_counter() - started
    return report


def _examine(report: FileReport, path: Path, oracle: bool) -> None:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        report.utf8 = False
        return
    try:
        df = parse(text)
    except ParseError as exc:
        report.parse_error = exc.message
        df = None
    except Exception as exc:
        _crash(report, "parse", exc)
        return
    if df is not None:
        report.roundtrip_ok = df.render() == text
    if oracle:
        from rewriter.dockerfile.crosscheck import compare

        try:
            diffs = compare(text)
        except Exception as exc:  # the oracle's own failures count as disagreements
            diffs = [f"compare() raised {type(exc).__name__}: {exc}"]
        report.buildkit_diff = diffs[0] if diffs else None
    if df is None:
        return
    try:
        result = fix_text(text)
    except Exception as exc:
        _crash(report, "fix", exc)
        return
    report.fixed = True
    report.changed = result.changed
    report.declines = [d.reason for d in result.declines]
    report.refused = result.error
    try:
        report.facts = runtime_stage_facts(result)
    except Exception as exc:
        _crash(report, "runtime-facts", exc)
    if not result.changed:
        return
    report.output_rejected = _output_rejected(result.fixed, oracle)
    try:
        again = fix_text(result.fixed)
    except Exception as exc:
        _crash(report, "second-fix", exc)
        return
    report.idempotent = not again.changed


# ---------------------------------------------------------------------------------
# PER-FAMILY RUNTIME-STAGE STATS: add them here.
#
# runtime_stage_facts() runs in the worker on each fix_text Result and returns
# plain, picklable data (e.g. {"family": "debian", "root_before": True,
# "root_after": False} from result.context.model and a model of result.fixed);
# it lands in FileReport.facts.  runtime_stage_tables() gets every FileReport
# and returns Tables, which are printed after the remediation section and put
# in the --json output under "tables".
# ---------------------------------------------------------------------------------


def runtime_stage_facts(result: Result) -> dict[str, Any]:
    """Facts about the runtime stage of one file, before and after the fix."""
    from rewriter.dockerfile.model import is_root

    ctx = result.context
    if ctx is None or ctx.model.runtime is None:
        return {}
    before = ctx.model.runtime
    facts: dict[str, Any] = {
        "family": before.family.name,
        "root_before": is_root(before.final_user) and before.final_user_resolved,
        "declines": sorted({d.reason for d in result.declines if not d.informational}),
    }
    if result.final_context is not None and result.changed:
        after = result.final_context.model.runtime
        facts["root_after"] = after is None or is_root(after.final_user)
        facts["numeric_after"] = bool(after and after.final_user
                                      and after.final_user.split(":")[0].isdigit())
    else:
        facts["root_after"] = facts["root_before"]
    return facts


def runtime_stage_tables(reports: list[FileReport]) -> list[Table]:
    """Share of runtime stages running as root, before and after, by family."""
    fams: dict[str, list[int]] = {}
    for r in reports:
        f = r.facts
        if not f:
            continue
        row = fams.setdefault(f["family"], [0, 0, 0, 0])
        row[0] += 1
        row[1] += f["root_before"]
        row[2] += f["root_after"]
        row[3] += bool(f["root_before"] and not f["root_after"] and f.get("numeric_after"))
    rows: list[list[Any]] = []
    total = [0, 0, 0, 0]
    for fam in sorted(fams, key=lambda k: -fams[k][0]):
        n, rb, ra, num = fams[fam]
        total = [a + b for a, b in zip(total, fams[fam])]
        rows.append([fam, n, rb, ra, rb / n if n else 0.0, ra / n if n else 0.0, num])
    n, rb, ra, num = total
    rows.append(["all", n, rb, ra, rb / n if n else 0.0, ra / n if n else 0.0, num])
    return [Table("runtime stages running as root, by base family (dockfix's own analysis)",
                  ["family", "stages", "root before", "root after", "share before",
                   "share after", "fixed, numeric USER"], rows)]


# --- summary ----------------------------------------------------------------------


@dataclass
class Table:
    """A small table; a float between 0 and 1 prints as a percentage."""

    title: str
    columns: list[str]
    rows: list[list[Any]]

    def render(self) -> list[str]:
        cells = [[str(c) for c in self.columns]] + [[_cell(c) for c in r] for r in self.rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.columns))]

        def line(r: list[str]) -> str:
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(r, widths))).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return [self.title, "  " + line(cells[0]), "  " + rule,
                *("  " + line(r) for r in cells[1:])]


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1%}" if 0 <= value <= 1 else f"{value:.2f}"
    return str(value)


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_LINE = re.compile(r"\bline \d+")


def _reason(message: str) -> str:
    """A message with its quoted specifics blanked, to group alike ones."""
    first = _LINE.sub("line N", message.split("\n", 1)[0])
    return _QUOTED.sub("'…'", first)[:160]


def _grouped(pairs: Iterable[tuple[str, str]], blank: bool = True) -> list[dict[str, Any]]:
    """[(file, message)] → [{reason, count, files}] by count; ``blank``: group
    messages that differ only in quoted words and line numbers."""
    groups: dict[str, list[str]] = {}
    for name, message in pairs:
        key = _reason(message) if blank else message.split("\n", 1)[0][:200]
        groups.setdefault(key, []).append(name)
    return [{"reason": r, "count": len(fs), "files": sorted(fs)}
            for r, fs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))]


def summarize(directory: Path, reports: list[FileReport], oracle: bool, jobs: int,
              seconds: float) -> dict[str, Any]:
    parsed = [r for r in reports if r.utf8 and r.parse_error is None and not
              any(c.stage == "parse" for c in r.crashes)]
    fixed = [r for r in reports if r.fixed]
    changed = [r for r in fixed if r.changed]
    declined = [r for r in fixed if r.declined]
    decline_reasons = Counter(reason for r in declined for reason in set(r.declines))
    slowest = sorted(reports, key=lambda r: -r.seconds)[:5]
    summary: dict[str, Any] = {
        "dir": str(directory),
        "jobs": jobs,
        "wall_seconds": round(seconds, 2),
        "files": len(reports),
        "not_utf8": sorted(r.name for r in reports if not r.utf8),
        "parsed": len(parsed),
        "parse_failures": _grouped((r.name, r.parse_error) for r in reports
                                   if r.parse_error is not None),
        "roundtrip_failures": sorted(r.name for r in reports if r.roundtrip_ok is False),
        "buildkit_oracle": oracle,
        "buildkit_disagreements": (
            [{"file": r.name, "first": r.buildkit_diff} for r in reports if r.buildkit_diff]
            if oracle else None
        ),
        "crashes": [asdict(c) for r in reports for c in r.crashes],
        "remediation": {
            "fixed": len(fixed),
            "changed": len(changed),
            "unchanged": len(fixed) - len(changed),
            "declined": len(declined),
            "decline_reasons": dict(decline_reasons.most_common()),
            "declines_in_changed_files": dict(
                Counter(x for r in changed for x in set(r.declines)).most_common()),
            "refused": _grouped((r.name, r.refused) for r in fixed if r.refused),
            "output_rejected": [{"file": r.name, "why": r.output_rejected}
                                for r in changed if r.output_rejected],
            "output_checked_by": "BuildKit" if oracle else "dockfix parser",
            "not_idempotent": sorted(r.name for r in changed if r.idempotent is False),
        },
        "slowest": [{"file": r.name, "seconds": round(r.seconds, 3)} for r in slowest],
        "tables": [asdict(t) for t in runtime_stage_tables(reports)],
    }
    summary["ok"] = not (summary["crashes"] or summary["roundtrip_failures"]
                         or summary["remediation"]["output_rejected"]
                         or summary["remediation"]["not_idempotent"])
    return summary


def render_text(s: dict[str, Any], show: int = 10) -> str:
    out: list[str] = []
    add = out.append

    def listing(items: list[str], indent: str = "      ") -> None:
        for item in items[:show]:
            add(f"{indent}{item}")
        if len(items) > show:
            add(f"{indent}… and {len(items) - show} more (--json for all)")

    def grouped(groups: list[dict[str, Any]]) -> None:
        for g in groups[:show]:
            example = g["files"][0] + (f" +{g['count'] - 1}" if g["count"] > 1 else "")
            add(f"      {g['count']:5}  {g['reason']}  ({example})")
        if len(groups) > show:
            add(f"      … and {len(groups) - show} more reasons")

    add(f"corpus sweep of {s['dir']}: {s['files']} files, {s['jobs']} job(s), "
        f"{s['wall_seconds']:.1f} s wall")
    add("")
    add("parser")
    add(f"  files                          {s['files']:6}")
    add(f"  not UTF-8                      {len(s['not_utf8']):6}")
    listing(s["not_utf8"])
    add(f"  parse failures                 {sum(g['count'] for g in s['parse_failures']):6}")
    grouped(s["parse_failures"])
    add(f"  round-trip failures            {len(s['roundtrip_failures']):6}")
    listing(s["roundtrip_failures"])
    if s["buildkit_disagreements"] is None:
        add("  disagreements with BuildKit       n/a (PyPI package `dockerfile` not installed)")
    else:
        add(f"  disagreements with BuildKit    {len(s['buildkit_disagreements']):6}")
        listing([f"{d['file']}: {d['first']}" for d in s["buildkit_disagreements"]])
    add(f"  crashes                        {len(s['crashes']):6}")
    grouped(_grouped(((c["file"], f"{c['stage']}: {c['type']}: {c['message']}")
                      for c in s["crashes"]), blank=False))
    m = s["remediation"]
    add("")
    add("remediation (fix_text, default settings)")
    add(f"  files fixed without a crash    {m['fixed']:6}")
    add(f"  changed                        {m['changed']:6}")
    add(f"  declined (declines, unchanged) {m['declined']:6}")
    for reason, n in m["decline_reasons"].items():
        add(f"      {n:5}  {reason}")
    if m["declines_in_changed_files"]:
        add("  declines in changed files (files)")
        for reason, n in m["declines_in_changed_files"].items():
            add(f"      {n:5}  {reason}")
    add(f"  refused (result.error)         {sum(g['count'] for g in m['refused']):6}")
    grouped(m["refused"])
    add(f"  changed output rejected        {len(m['output_rejected']):6}"
        f"   (by {m['output_checked_by']}; 0 expected)")
    listing([f"{d['file']}: {d['why']}" for d in m["output_rejected"]])
    add(f"  changed output not idempotent  {len(m['not_idempotent']):6}   (0 expected)")
    listing(m["not_idempotent"])
    for t in s["tables"]:
        add("")
        out.extend(Table(**t).render())
    add("")
    add("slowest: " + ", ".join(f"{d['file']} {d['seconds']:.2f}s" for d in s["slowest"]))
    add("result: " + ("OK" if s["ok"] else
                      "FAIL (crash, round-trip failure, rejected or non-idempotent output)"))
    return "\n".join(out)


# --- driver -----------------------------------------------------------------------


def dockerfiles(directory: Path) -> list[Path]:
    return sorted(
        p for p in directory.rglob("*")
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(_SKIP_SUFFIXES)
        and ".git" not in p.relative_to(directory).parts
    )


def sweep(paths: list[Path], jobs: int, oracle: bool) -> list[FileReport]:
    work = functools.partial(examine, oracle=oracle)
    names = [str(p) for p in paths]
    if jobs <= 1:
        return [work(n) for n in names]
    # spawn, not fork: the oracle is a Go extension, and a Go runtime does not survive fork.
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(jobs) as pool:
        reports = list(pool.imap_unordered(work, names, chunksize=max(1, len(names) // (jobs * 8))))
    return sorted(reports, key=lambda r: r.name)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("dir", nargs="?", type=Path, default=DEFAULT_DIR,
                    help=f"directory of Dockerfiles (default: {DEFAULT_DIR})")
    ap.add_argument("--jobs", "-j", type=int, default=1, help="worker processes (default 1)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--show", type=int, default=10, help="items listed per section")
    args = ap.parse_args(argv)
    if not args.dir.is_dir():
        print(f"corpus.py: no directory {args.dir}", file=sys.stderr)
        return 2
    oracle = importlib.util.find_spec("dockerfile") is not None
    paths = dockerfiles(args.dir)
    started = time.perf_counter()
    reports = sweep(paths, max(1, args.jobs), oracle)
    summary = summarize(args.dir, reports, oracle, max(1, args.jobs),
                        time.perf_counter() - started)
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print(render_text(summary, args.show))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""The fix loop: parse → rules → apply fixes → re-parse, to a fixed point.

The engine never reads or writes files and never raises for a file it could
parse: a fix that breaks the file, or a loop that does not settle, gives back
the original text with ``Result.error`` set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rewriter.context import Context
from rewriter.edits import Applicability, apply_fixes
from rewriter.rules import RULES
from rewriter.rules._types import Decline, Violation
from rewriter.settings import Settings
from rewriter.syntax import KNOWN_INSTRUCTIONS, Dockerfile, ParseError, parse

MAX_PASSES = 10


@dataclass
class Result:
    original: str
    fixed: str
    applied: list[Violation] = field(default_factory=list)  #: whose fixes were applied
    remaining: list[Violation] = field(default_factory=list)  #: found in the output
    declines: list[Decline] = field(default_factory=list)
    error: str | None = None  #: the fix was refused (output kept as the input)
    dockerfile: Dockerfile | None = None  #: the parsed input
    context: Context | None = None  #: the analysis of the input
    final: Dockerfile | None = None  #: the parsed output (``remaining`` spans point here)

    @property
    def changed(self) -> bool:
        return self.fixed != self.original


def check(ctx: Context) -> tuple[list[Violation], list[Decline]]:
    """Run every enabled rule; violations in rule priority order."""
    violations: list[Violation] = []
    declines: list[Decline] = []
    ins = list(ctx.df.instructions)
    for rule in RULES:
        if not ctx.settings.enabled(rule.CODE):
            continue
        for item in rule.check(ctx):
            if isinstance(item, Decline):
                declines.append(item)
            elif ctx.pragmas.ignored(item.code, item.span, ins):
                line = ctx.df.source.line_col(item.span.start)[0]
                declines.append(
                    Decline("ignored-by-pragma",
                            f"{item.code} is turned off by a `# dockfix: ignore` comment", line)
                )
            else:
                violations.append(item)
    return violations, _unique(declines)


def _unique(declines: list[Decline]) -> list[Decline]:
    seen: set[tuple[str, str, int | None]] = set()
    out = []
    for d in declines:
        key = (d.reason, d.message, d.line)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _breakage(before: Dockerfile, after: Dockerfile) -> str | None:
    """Why BuildKit would reject ``after`` when it accepted ``before``."""

    def unknown(df: Dockerfile) -> int:
        return sum(1 for i in df.instructions if i.keyword.lower() not in KNOWN_INSTRUCTIONS)

    if unknown(after) > unknown(before):
        return "the fix produced an unknown instruction"
    if len(after.stages) != len(before.stages):
        return "the fix changed the number of build stages"
    for i in after.instructions:
        if i.cmd == "USER" and not i.args:
            return "the fix produced a USER without a user"
    return None


def fix_text(text: str, settings: Settings | None = None, path: str | None = None) -> Result:
    """Fix ``text``.  Raises ``ParseError`` only when the input does not parse."""
    settings = settings or Settings()
    df0 = parse(text)
    ctx0 = Context(df0, settings, path)
    violations, declines = check(ctx0)
    result = Result(text, text, declines=declines, dockerfile=df0, context=ctx0)
    current, df, ctx = text, df0, ctx0
    threshold = settings.threshold
    for _ in range(MAX_PASSES):
        fixes = [v.fix for v in violations if v.fix is not None]
        new, applied = apply_fixes(current, fixes, threshold)
        if not applied:
            break
        taken = {id(f) for f in applied}
        result.applied.extend(v for v in violations if v.fix is not None and id(v.fix) in taken)
        try:
            df = parse(new)
        except ParseError as exc:
            return _refuse(result, f"a fix would make the file unparsable ({exc}); nothing changed")
        why = _breakage(df0, df)
        if why:
            return _refuse(result, f"{why}; nothing changed")
        current = new
        ctx = Context(df, settings, path)
        violations, _ = check(ctx)
    else:
        codes = sorted({v.code for v in violations if v.fix and v.fix.applies(threshold)})
        return _refuse(result, f"fixes did not settle after {MAX_PASSES} passes ({', '.join(codes)})")
    result.fixed = current
    result.remaining = violations
    result.final = df
    return result


def _refuse(result: Result, why: str) -> Result:
    result.fixed = result.original
    result.final = result.dockerfile
    result.applied = []
    result.error = why
    return result


__all__ = ["Applicability", "MAX_PASSES", "Result", "check", "fix_text"]

"""The fix loop: parse → rules → apply fixes → re-parse, to a fixed point.

The engine knows no language: it is handed one (``rewriter.core.language``:
a parser, the analysis context of its rules, a breakage check) and the rules
to run (``rewriter.core.rules.Rule`` values; by default the registered rules
of the language).  It never reads or writes files and never raises for a
file it could parse: a fix that breaks the file, or a loop that does not
settle, gives back the original text with ``Result.error`` set.

``Result.findings`` has every violation of every pass once, placed in the
input text (``edits.map_back`` undoes the edits of earlier passes), with what
became of it: applied, still there, or made moot by another fix.  The output
formats report from it.
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rewriter.core.edits import Applicability, Edit, apply_fixes, map_back
from rewriter.core.language import Analysis, Language, ParseError
from rewriter.core.rules import REGISTRY, Decline, Rule, Violation
from rewriter.core.settings import Settings
from rewriter.core.source import Span

#: The language of ``fix_text`` when none is named.
DEFAULT_LANGUAGE = "dockerfile"
MAX_PASSES = 10


@dataclass(frozen=True, slots=True)
class Finding:
    """A violation placed in the input text, and what became of it."""

    violation: Violation  #: as the rule reported it (spans in the text of its pass)
    span: Span  #: where in the input (a place dockfix wrote maps to where it wrote it)
    #: the fix's edits as edits of the input; ``None`` when there is no fix or
    #: its edits touch text an earlier fix wrote
    edits: tuple[Edit, ...] | None
    applied: bool  #: its fix was applied
    remaining: bool  #: still found in the output
    round: int = 0  #: the pass whose text ``violation`` is in (0: the input)


@dataclass(slots=True)
class Result:
    """What the engine did to one text: the output, and the findings and declines."""

    original: str
    fixed: str
    applied: list[Violation] = field(default_factory=list)  #: whose fixes were applied
    remaining: list[Violation] = field(default_factory=list)  #: found in the output
    declines: list[Decline] = field(default_factory=list)
    error: str | None = None  #: the fix was refused (output kept as the input)
    tree: Any = None  #: the parsed input
    context: Any = None  #: the analysis context of the input
    final: Any = None  #: the parsed output (``remaining`` spans point here)
    final_context: Any = None  #: the analysis context of the output
    #: every violation found, once, in input positions: applied, remaining, or
    #: gone because another fix made it moot; in the order first found
    findings: list[Finding] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.fixed != self.original


def check(ctx: Analysis, rules: Sequence[Rule]) -> tuple[list[Violation], list[Decline]]:
    """Run every enabled rule of ``rules``, in their order."""
    violations: list[Violation] = []
    declines: list[Decline] = []
    for rule in rules:
        if not ctx.settings.enabled(rule.code):
            continue
        for item in rule.check(ctx):
            if isinstance(item, Decline):
                declines.append(item)
            elif ctx.ignored(item.code, item.span):
                declines.append(
                    Decline("ignored-by-pragma",
                            f"{item.code} is turned off by a `# dockfix: ignore` comment",
                            ctx.line(item.span.start))
                )
            else:
                violations.append(item)
    return violations, _unique(declines)


def _unique(declines: list[Decline]) -> list[Decline]:
    seen: set[tuple[str, str, int | None]] = set()
    out: list[Decline] = []
    for d in declines:
        key = (d.reason, d.message, d.line)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def fix_text(
    text: str,
    settings: Settings | None = None,
    path: str | None = None,
    context: object | None = None,
    *,
    rules: Sequence[Rule] | None = None,
    language: Language | str = DEFAULT_LANGUAGE,
) -> Result:
    """Fix ``text``.  Raises ``ParseError`` only when the input does not parse.

    ``context``: the build context (the files around the file, read-only,
    ``rewriter.io.context.BuildContext``), handed to the rules' analysis
    context untouched; without one, rules judge from the text alone.
    ``rules``: the rules to run, in order (default: the registered rules of
    ``language``, by priority).  ``path``: where the file is, for messages.
    """
    settings = settings or Settings()
    lang, chosen = _language_and_rules(language, rules)
    result = _first_pass(text, settings, path, context, lang, chosen)
    tree0 = result.tree
    violations = [f.violation for f in result.findings]
    current, tree, ctx = text, tree0, result.context
    threshold = settings.threshold
    history: list[tuple[list[Violation], set[int]]] = []  #: each pass: found, fixes taken
    passes: list[tuple[Edit, ...]] = []  #: each pass: the edits applied
    for _ in range(MAX_PASSES):
        fixes = [v.fix for v in violations if v.fix is not None]
        new, applied = apply_fixes(current, fixes, threshold)
        taken = {id(f) for f in applied}
        history.append((violations, taken))
        if not applied:
            break
        passes.append(tuple(e for f in applied for e in f.edits))
        result.applied.extend(v for v in violations if v.fix is not None and id(v.fix) in taken)
        try:
            tree = lang.parse(new)
        except ParseError as exc:
            return _refuse(result, f"a fix would make the file unparsable ({exc}); nothing changed")
        why = lang.breakage(tree0, tree)
        if why:
            return _refuse(result, f"{why}; nothing changed")
        current = new
        ctx = lang.analyse(tree, settings, path, context)
        violations, _ = check(ctx, chosen)
    else:
        codes = sorted({v.code for v in violations if v.fix and v.fix.applies(threshold)})
        return _refuse(result, f"fixes did not settle after {MAX_PASSES} passes ({', '.join(codes)})")
    result.fixed = current
    result.remaining = violations
    result.final = tree
    result.final_context = ctx
    result.findings = _findings(history, passes)
    return result


def check_text(
    text: str,
    settings: Settings | None = None,
    path: str | None = None,
    context: object | None = None,
    *,
    rules: Sequence[Rule] | None = None,
    language: Language | str = DEFAULT_LANGUAGE,
) -> Result:
    """What ``fix_text`` finds in ``text``, without fixing it: the violations
    of the input (each a finding, none applied, with its fix's edits) and the
    declines; ``fixed`` is the input.  Half the work of ``fix_text`` or less
    (no fix applied, nothing parsed twice): what an editor needs on every
    change.  Raises ``ParseError`` only when the input does not parse."""
    lang, chosen = _language_and_rules(language, rules)
    return _first_pass(text, settings or Settings(), path, context, lang, chosen)


def _language_and_rules(language: Language | str,
                        rules: Sequence[Rule] | None) -> tuple[Language, tuple[Rule, ...]]:
    lang = REGISTRY.language(language) if isinstance(language, str) else language
    chosen = tuple(rules) if rules is not None else REGISTRY.rules(lang.name)
    strangers = [r.code for r in chosen if r.language != lang.name]
    if strangers:
        raise ValueError(f"rules of another language than {lang.name}: {', '.join(strangers)}")
    return lang, chosen


def _first_pass(text: str, settings: Settings, path: str | None, context: object | None,
                lang: Language, chosen: tuple[Rule, ...]) -> Result:
    """The input parsed and checked: its violations as unapplied findings."""
    tree0 = lang.parse(text)
    ctx0 = lang.analyse(tree0, settings, path, context)
    violations, declines = check(ctx0, chosen)
    return Result(text, text, declines=declines, tree=tree0, context=ctx0,
                  findings=[_unapplied(v) for v in violations])


def _to_input(passes: list[tuple[Edit, ...]], rnd: int, pos: int, right: bool) -> tuple[int, bool]:
    """Offset ``pos`` of the text after ``rnd`` passes, as an offset of the input."""
    exact = True
    for edits in reversed(passes[:rnd]):
        pos, ok = map_back(edits, pos, right=right)
        exact = exact and ok
    return pos, exact


def _findings(history: list[tuple[list[Violation], set[int]]],
              passes: list[tuple[Edit, ...]]) -> list[Finding]:
    """Every violation of every pass, once, placed in the input.

    A later pass that finds a violation again (same code and message, at the
    same input span, or moved: an unapplied one of an earlier pass not seen
    again yet) updates that finding in place.
    """
    found: list[Finding] = []
    # Indexes into ``found``, as heaps of positions that may have gone stale
    # (checked when read), so that a file with thousands of findings costs
    # no more per finding than one with a few.
    at_span: dict[tuple[str, str, Span], list[int]] = {}  #: by code, message, span
    last = len(history) - 1
    for rnd, (violations, taken) in enumerate(history):
        movable: dict[tuple[str, str], list[int]] = {}  #: unapplied, of earlier rounds
        for i, f in enumerate(found):
            if not f.applied:
                movable.setdefault((f.violation.code, f.violation.message), []).append(i)
        for v in violations:
            span, edits = _placed(passes, rnd, v)
            applied = v.fix is not None and id(v.fix) in taken
            finding = Finding(v, span, edits, applied, rnd == last and not applied, rnd)
            here = at_span.setdefault((v.code, v.message, span), [])
            at = _first(here, functools.partial(_at_span, found, span))
            if at is None:
                at = _first(movable.get((v.code, v.message), []),
                            functools.partial(_movable, found, rnd))
            if at is None:
                heapq.heappush(here, len(found))
                found.append(finding)
            elif not found[at].applied:
                found[at] = finding
                heapq.heappush(here, at)
    return found


def _at_span(found: list[Finding], span: Span, i: int) -> bool:
    return found[i].span == span


def _movable(found: list[Finding], rnd: int, i: int) -> bool:
    """An unapplied finding of a round before ``rnd``."""
    return not found[i].applied and found[i].round < rnd


def _first(heap: list[int], valid: Callable[[int], bool]) -> int | None:
    """The smallest position in ``heap`` that is still ``valid`` (drops the others)."""
    while heap and not valid(heap[0]):
        heapq.heappop(heap)
    return heap[0] if heap else None


def _placed(passes: list[tuple[Edit, ...]], rnd: int,
            v: Violation) -> tuple[Span, tuple[Edit, ...] | None]:
    """``v``'s span and fix edits, from the text after ``rnd`` passes to the input."""
    start = _to_input(passes, rnd, v.span.start, False)[0]
    end = _to_input(passes, rnd, v.span.end, True)[0]
    if v.fix is None or not v.fix.edits:
        return Span(start, max(start, end)), None
    edits = []
    for e in v.fix.edits:
        s, ok_s = _to_input(passes, rnd, e.start, False)
        t, ok_t = _to_input(passes, rnd, e.end, True)
        if not (ok_s and ok_t):
            return Span(start, max(start, end)), None
        edits.append(Edit(s, t, e.content))
    return Span(start, max(start, end)), tuple(edits)


def _unapplied(v: Violation) -> Finding:
    """A violation of the input, left as it is."""
    edits = v.fix.edits if v.fix is not None and v.fix.edits else None
    return Finding(v, v.span, edits, applied=False, remaining=True)


def _refuse(result: Result, why: str) -> Result:
    result.fixed = result.original
    result.final = result.tree
    result.final_context = result.context
    result.applied = []
    result.error = why
    return result


__all__ = ["Applicability", "DEFAULT_LANGUAGE", "Finding", "MAX_PASSES", "Result", "check",
           "fix_text"]

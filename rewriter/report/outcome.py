"""What happened to one file, as plain data: what the output formats read.

``FileOutcome`` and everything in it are frozen dataclasses of strings, numbers,
booleans and tuples: no trees, no open files, nothing that cannot be pickled.
The runner builds one per file (``build`` from an engine ``Result``, or
``failed`` for a file it could not handle), in the function that fixes the
file, so that function can run in another process; the formatters in
``rewriter.report.formats`` turn a list of them into text.

Positions are 1-based lines and columns (columns count characters, a BOM is no
column) in the *input* text, the file as it was read.  A finding a later pass
of the engine found, in text an earlier fix wrote, is placed where that fix
wrote it.  Span ends are exclusive and leave out the instruction's final line
break.
"""

from __future__ import annotations

import bisect
import operator
from dataclasses import dataclass
from typing import Any

from rewriter.core.edits import Applicability
from rewriter.core.engine import Finding, Result
from rewriter.core.settings import Settings
from rewriter.core.source import Source
from rewriter.dockerfile.model import StageInfo, expand, port_number
from rewriter.dockerfile.syntax import Dockerfile, Instruction

#: The values of ``FileOutcome.status``.
FIXED, WOULD_FIX, UNCHANGED = "fixed", "would-fix", "unchanged"
DECLINED, ERROR = "declined", "error"
STATUSES = (FIXED, WOULD_FIX, UNCHANGED, DECLINED, ERROR)


@dataclass(frozen=True)
class Position:
    """A place in the input text."""

    line: int  #: 1-based
    column: int  #: 1-based, in characters


@dataclass(frozen=True)
class Range:
    """A span of the input text."""

    start: Position
    end: Position  #: exclusive


@dataclass(frozen=True)
class TextEdit:
    """Replace the input text in ``range`` with ``content``."""

    range: Range
    content: str


@dataclass(frozen=True)
class FixInfo:
    """A finding's fix."""

    title: str  #: imperative, e.g. "Use `COPY --chown=10001:10001`"
    applicability: str  #: ``safe`` | ``unsafe`` | ``display-only``
    #: the edits, on the input; ``None`` when they change text an earlier fix wrote
    edits: tuple[TextEdit, ...] | None


@dataclass(frozen=True)
class FindingInfo:
    """A problem a rule found, where it is, and what became of it."""

    code: str  #: e.g. ``DF002``
    name: str  #: e.g. ``run-chown-after-copy``
    message: str
    range: Range  #: in the input
    fix: FixInfo | None
    applied: bool  #: the fix was applied (or would be, without ``--write``)
    remaining: bool  #: still found in the output
    instruction: str  #: the input instruction it is about, whitespace collapsed
    fingerprint: str  #: stable id: rule code, path and ``instruction``, not the line
    output_position: Position | None = None  #: where a remaining one is in the output


@dataclass(frozen=True)
class DeclineInfo:
    """Why dockfix left something as it was."""

    reason: str  #: e.g. ``privilege-drop-entrypoint``, or ``fix-refused``
    message: str
    line: int | None  #: in the input
    stage: str | None
    informational: bool  #: nothing needed doing (the file is fine as it is)
    kind: str | None = None  #: what the image was judged to be (app, base-image, ...)
    evidence: tuple[str, ...] = ()  #: ``path:line: text`` lines that show why


@dataclass(frozen=True)
class StageFacts:
    """What dockfix knows of one build stage."""

    index: int
    name: str  #: the alias, or the index as a string
    base: str  #: the base image, ARGs expanded
    family: str  #: e.g. ``debian``, ``alpine``, ``unknown``
    family_source: str  #: ``table`` | ``evidence`` | ``parent`` | ``unknown``
    line: int  #: of its FROM
    runtime: bool  #: the stage that is run (``--target``, or the last)
    user_before: str | None  #: who it ends as in the input (``None``: never set: root)
    user_after: str | None  #: who it ends as in the output


@dataclass(frozen=True)
class Port:
    """A port the runtime stage exposes."""

    port: str  #: as written after expansion, e.g. ``80/tcp``
    number: int | None  #: the (first) port number, when there is one
    line: int


@dataclass(frozen=True)
class Command:
    """An ENTRYPOINT or CMD in force in the runtime stage."""

    instruction: str  #: ``ENTRYPOINT`` or ``CMD``
    text: str  #: its arguments as written (continuations joined)
    line: int


@dataclass(frozen=True)
class Runtime:
    """What a reviewer of a change to the runtime stage looks at."""

    stage: str
    ports: tuple[Port, ...] = ()  #: EXPOSE, in the stage and its parents
    volumes: tuple[tuple[str, int], ...] = ()  #: (path, line)
    commands: tuple[Command, ...] = ()  #: the ENTRYPOINT and CMD in force


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file."""

    path: str  #: as given (``/`` separators), or the stdin name
    status: str  #: one of ``STATUSES``
    error: str | None = None  #: the one-line error, for status ``error``
    traceback: str | None = None  #: of an internal error, with ``DOCKFIX_DEBUG``
    stages: tuple[StageFacts, ...] = ()
    runtime: Runtime | None = None
    findings: tuple[FindingInfo, ...] = ()
    declines: tuple[DeclineInfo, ...] = ()
    diff: str = ""  #: the unified diff (empty when nothing changed)
    applied: int = 0  #: how many fixes were applied
    unsafe_fixes: bool = False  #: ``--unsafe-fixes`` was in force

    @property
    def changed(self) -> bool:
        return self.status in (FIXED, WOULD_FIX)


def failed(path: str, message: str, traceback: str | None = None) -> FileOutcome:
    return FileOutcome(path, ERROR, error=message, traceback=traceback)


def build(path: str, result: Result, settings: Settings, *, written: bool,
          diff: str, detail: bool = True) -> FileOutcome:
    """The plain-data outcome of ``result`` for the file ``path``.

    ``detail``: also the stages and the runtime stage's ports, volumes and
    commands (the text format needs neither; they cost an analysis of the output).
    """
    df = result.tree
    assert df is not None
    if result.changed:
        status = FIXED if written else WOULD_FIX
    elif result.error or any(not d.informational for d in result.declines):
        status = DECLINED
    else:
        status = UNCHANGED
    declines = [DeclineInfo("fix-refused", result.error, None, None, False)] if result.error else []
    declines += [DeclineInfo(d.reason, d.message, d.line, d.stage, d.informational,
                             d.kind, tuple(d.evidence))
                 for d in result.declines]
    final = result.final if result.final is not None else df
    counts: dict[str, int] = {}
    findings = tuple(_finding(path, f, df, final.source, counts) for f in result.findings)
    dockerfile = hasattr(df, "instructions")  # other languages have no stages
    stages, runtime = _stages(result) if detail and dockerfile else ((), None)
    return FileOutcome(
        path, status, stages=stages, runtime=runtime, findings=findings,
        declines=tuple(declines), diff=diff, applied=len(result.applied),
        unsafe_fixes=settings.unsafe_fixes,
    )


# --- positions ----------------------------------------------------------------


def position(source: Source, offset: int) -> Position:
    line, col = source.line_col(offset)
    if line == 1 and source.text.startswith("\ufeff"):
        col = max(col - 1, 1)  # a BOM is no column
    return Position(line, col)


def _range(source: Source, start: int, end: int) -> Range:
    text = source.text
    while end > start and text[end - 1] in "\r\n":
        end -= 1
    return Range(position(source, start), position(source, end))


def _instruction_at(df: Dockerfile, offset: int) -> Instruction | None:
    """The instruction holding ``offset``, else the next one, else the last."""
    instructions = df.instructions  # in order, and they do not overlap
    # those that start at or before it: those starting on its line or before
    # (by line number: a file may have a hundred thousand of them to search)
    line = bisect.bisect_right(df.source.lines.starts, offset)
    k = bisect.bisect_right(instructions, line, key=_start_line)
    if k and offset < instructions[k - 1].span.end:
        return instructions[k - 1]
    if k < len(instructions):
        return instructions[k]
    return instructions[-1] if instructions else None


_start_line = operator.attrgetter("start_line")


def normalized(ins: Instruction | None) -> str:
    """An instruction's text with continuations joined and whitespace collapsed."""
    return " ".join(ins.logical.split()) if ins is not None else ""


def fingerprint(code: str, path: str, instruction: str, n: int = 0) -> str:
    """A stable id of a finding: not its line, so it survives edits above it;
    ``n`` tells apart identical findings on identical instructions."""
    import hashlib  # here: loading OpenSSL is milliseconds a file without findings skips

    key = "\0".join((code, path, instruction) + ((str(n),) if n else ()))
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def _finding(path: str, f: Finding, df: Any, final: Source,
             counts: dict[str, int]) -> FindingInfo:
    """``df``: the language's tree, a ``Dockerfile`` or another language's
    (which has ``statement_at``)."""
    v = f.violation
    source = df.source
    fix = None
    if v.fix is not None:
        edits = None
        if f.edits is not None:
            edits = tuple(TextEdit(Range(position(source, e.start), position(source, e.end)),
                                   e.content) for e in f.edits)
        elif not v.fix.edits:
            edits = ()
        fix = FixInfo(v.fix.title, Applicability(v.fix.applicability).label, edits)
    if hasattr(df, "instructions"):
        instruction = normalized(_instruction_at(df, f.span.start))
    else:  # another language says what a finding is about (secrets masked)
        instruction = df.statement_at(f.span.start)
    key = f"{v.code}\0{instruction}"
    n = counts[key] = counts.get(key, -1) + 1
    return FindingInfo(
        v.code, v.name, v.message, _range(source, f.span.start, f.span.end), fix, f.applied,
        f.remaining, instruction, fingerprint(v.code, path, instruction, n),
        position(final, v.span.start) if f.remaining else None,
    )


# --- stages -------------------------------------------------------------------


def _stages(result: Result) -> tuple[tuple[StageFacts, ...], Runtime | None]:
    if result.context is None:
        return (), None
    model = result.context.model
    after = model
    if result.changed and result.final_context is not None:
        after = result.final_context.model
    stages = []
    for i, info in enumerate(model.stages):
        later = after.stages[i] if i < len(after.stages) else info
        stages.append(StageFacts(
            info.stage.index, info.name, info.base, info.family.name, info.family_source,
            info.stage.from_.start_line, info is model.runtime, info.final_user,
            later.final_user,
        ))
    runtime = _runtime(model.runtime) if model.runtime is not None else None
    return tuple(stages), runtime


def _runtime(info: StageInfo) -> Runtime:
    ports: list[Port] = []
    volumes: list[tuple[str, int]] = []
    commands: dict[str, tuple[Command, StageInfo]] = {}
    for s, ins in info.chain_instructions("EXPOSE", "VOLUME", "ENTRYPOINT", "CMD",
                                          oldest_first=True):
        if ins.cmd == "EXPOSE":
            for value in ins.values:
                port = expand(value, s.env)[0]
                ports.append(Port(port, port_number(port), ins.start_line))
        elif ins.cmd == "VOLUME":
            volumes.extend((expand(v, s.env)[0], ins.start_line) for v in ins.values)
        else:
            if ins.cmd == "ENTRYPOINT" and commands.get("CMD", (None, s))[1] is not s:
                del commands["CMD"]  # ENTRYPOINT resets the CMD of the base image
            command = Command(ins.cmd, " ".join(ins.args.split()), ins.start_line)
            commands[ins.cmd] = (command, s)
    ordered = tuple(commands[k][0] for k in ("ENTRYPOINT", "CMD") if k in commands)
    return Runtime(info.name, tuple(ports), tuple(volumes), ordered)

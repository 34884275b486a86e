"""What the language server knows of one buffer: the command's engine, config
and build context, turned into problems with offsets.  No pygls here.

``lint(text, path, editor, buffers)`` finds the configuration the command
would find for ``path`` (``.dockfix.toml``, ``[tool.dockfix]``), lays the
editor's settings over it as the command lays its flags, builds the context
the command builds (``DirectoryContext.for_file``) with the open buffers laid
over the files on disk, and runs ``rewriter.core.engine.fix_text``.  It never
raises: a parse error, a bad configuration or a rule that raises is a problem
of the file like any other (an internal error keeps its traceback for the log).
"""

from __future__ import annotations

import copy
import os
import stat
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rewriter.core import engine
from rewriter.core.edits import Applicability, Edit
from rewriter.core.settings import Settings
from rewriter.io import config
from rewriter.io.context import EMPTY, DirectoryContext, OverlayContext

FINDING, DECLINE, ERROR, REFUSED = "finding", "decline", "error", "refused"
ERROR_SEVERITY, WARNING, INFORMATION = "error", "warning", "information"


@dataclass(frozen=True)
class Problem:
    """One diagnostic: a finding, a decline, or why the file could not be read."""

    kind: str  #: ``finding`` | ``decline`` | ``error`` | ``refused``
    start: int  #: offsets into the text
    end: int
    severity: str  #: ``error`` | ``warning`` | ``information``
    message: str
    code: str | None = None  #: a rule code (finding), or a decline's reason
    name: str | None = None  #: the rule's name (finding)
    fix_title: str | None = None
    applicability: str | None = None  #: ``safe`` | ``unsafe`` | ``display-only``
    #: the fix's edits on this text; ``None`` when it has none it can offer alone
    edits: tuple[Edit, ...] | None = None
    details: tuple[tuple[str, str], ...] = ()  #: a decline's evidence, for "explain"


@dataclass
class Lint:
    text: str
    problems: list[Problem] = field(default_factory=list)
    settings: Settings | None = None  #: ``None``: the configuration is broken
    path: str | None = None
    context: Any = None
    fixed: str | None = None  #: the text with the fixes of ``settings`` applied
    traceback: str | None = None  #: of an internal error, for the log


def read_if_file(path: str) -> bytes | None:
    """For configuration discovery: the bytes of ``path``, ``None`` if it is no file."""
    try:
        with open(path, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return None
            return f.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except OSError as exc:
        raise config.ConfigError(f"cannot read: {exc.strerror or exc}", path) from None


def settings_for(path: str | None, editor: Mapping[str, Any], root: str | None) -> Settings:
    """The command's settings for a Dockerfile at ``path``, with the editor's
    settings laid over them as the command's flags are.  Raises ``ConfigError``."""
    directory = os.path.dirname(os.path.abspath(path)) if path else (root or os.getcwd())
    found = config.find_config(directory, read_if_file, os.path.lexists)
    overrides = config.check_values(editor, root or directory, "editor settings") if editor else {}
    return config.settings_for(found, overrides)


def build_context(path: str | None, buffers: Mapping[str, str]) -> Any:
    """The command's build context for ``path``, open buffers laid over the disk."""
    if path is None:
        return EMPTY
    base = DirectoryContext.for_file(path)
    overlay = {}
    for other, text in buffers.items():
        rel = os.path.relpath(os.path.realpath(other), base.root)
        if not rel.startswith(os.pardir):
            overlay[rel.replace(os.sep, "/")] = text
    return OverlayContext(base, overlay) if overlay else base


def safe_only(settings: Settings) -> Settings:
    """``settings`` without ``unsafe_fixes``: what "fix all" applies."""
    if not settings.unsafe_fixes:
        return settings
    safe = copy.copy(settings)
    object.__setattr__(safe, "unsafe_fixes", False)
    return safe


def lint(text: str, path: str | None, editor: Mapping[str, Any] | None = None,
         buffers: Mapping[str, str] | None = None, root: str | None = None) -> Lint:
    """The problems of ``text``, the Dockerfile at ``path`` (``None``: unsaved)."""
    out = Lint(text, path=path)
    first_line = len(text.split("\n", 1)[0].rstrip("\r"))
    try:
        out.settings = settings_for(path, editor or {}, root)
    except config.ConfigError as exc:
        where = exc.path or "configuration"
        out.problems.append(Problem(ERROR, 0, first_line, ERROR_SEVERITY,
                                    f"dockfix: {where}: {exc.message}"))
        return out
    try:
        out.context = build_context(path, buffers or {})
        result = engine.fix_text(text, out.settings, path, context=out.context)
    except Exception as exc:  # noqa: BLE001 - a rule that raises must not stop the server
        line = getattr(exc, "line", None)
        if line is not None and hasattr(exc, "message"):  # the parser's ParseError
            start, end = _line_span(text, line)
            out.problems.append(Problem(ERROR, start, end, ERROR_SEVERITY,
                                        f"line {line}: {exc.message}"))
        else:
            out.traceback = traceback.format_exc()
            message = " ".join(str(exc).split())
            out.problems.append(Problem(ERROR, 0, first_line, ERROR_SEVERITY,
                                        f"dockfix: internal error: {type(exc).__name__}: "
                                        f"{message} (the log has the traceback)"))
        return out
    out.fixed = result.fixed
    out.problems.extend(problems(text, result))
    return out


def fix_all(current: Lint, editor: Mapping[str, Any] | None = None,
            buffers: Mapping[str, str] | None = None, root: str | None = None) -> str | None:
    """The text with only the safe fixes applied; ``None`` when there is nothing to do."""
    if current.settings is None:
        return None
    if not current.settings.unsafe_fixes:
        fixed = current.fixed
    else:
        try:
            fixed = engine.fix_text(current.text, safe_only(current.settings), current.path,
                                    context=current.context).fixed
        except Exception:  # noqa: BLE001 - reported by the diagnostics already
            return None
    return fixed if fixed is not None and fixed != current.text else None


def _line_span(text: str, line: int) -> tuple[int, int]:
    """The offsets of the content of the 1-based ``line``."""
    start = 0
    for _ in range(max(line - 1, 0)):
        nl = text.find("\n", start)
        if nl < 0:
            break
        start = nl + 1
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    while end > start and text[end - 1] == "\r":
        end -= 1
    return start, end


def _trimmed(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in "\r\n":
        end -= 1
    return end


def problems(text: str, result: Any) -> list[Problem]:
    """The problems of an engine ``Result`` for ``text``, in the text's order."""
    out: list[Problem] = []
    for f in result.findings:
        if f.round:  # in text an earlier fix wrote: not in this buffer yet
            continue
        v = f.violation
        title = applicability = None
        edits = None
        if v.fix is not None:
            title = v.fix.title
            applicability = Applicability(v.fix.applicability).label
            if applicability != "display-only" and f.edits:
                edits = tuple(f.edits)
        out.append(Problem(FINDING, f.span.start, _trimmed(text, f.span.start, f.span.end),
                           WARNING, v.message, v.code, v.name, title, applicability, edits))
    if result.error:
        out.append(Problem(REFUSED, 0, _line_span(text, 1)[1], INFORMATION,
                           f"dockfix refused its own fix: {result.error}", "fix-refused"))
    for d in result.declines:
        if d.informational:
            continue
        start, end = _line_span(text, d.line or 1)
        details = [("reason", d.reason), ("message", d.message)]
        if d.line:
            details.append(("line", str(d.line)))
        if d.stage is not None:
            details.append(("stage", str(d.stage)))
        for key in ("evidence", "kind"):
            value = getattr(d, key, None)
            if value:
                details.append((key, value if isinstance(value, str) else repr(value)))
        out.append(Problem(DECLINE, start, end, INFORMATION, f"declined: {d.message}",
                           d.reason, details=tuple(details)))
    out.sort(key=lambda p: (p.start, p.end))
    return out

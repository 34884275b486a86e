"""What the language server knows of one buffer: the command's engine, config
and build context, turned into problems with offsets.  No pygls here.

``lint(text, path, editor, buffers)`` finds the configuration the command
would find for ``path`` (``.dockfix.toml``, ``[tool.dockfix]``), lays the
editor's settings over it as the command lays its flags, builds the context
the command builds (``DirectoryContext.for_file``) with the open buffers laid
over the files on disk, and runs the engine on the file's language: a
Dockerfile, a Python file that configures Celery, or a compose file, Procfile
or systemd unit that starts workers (the command's own choice by name).  It
never raises: a parse error, a bad configuration or a rule that raises is a
problem of the file like any other (an internal error keeps its traceback for
the log).

Diagnostics are needed on every change, the fixed text only when asked: so
``lint`` only checks the text (``engine.check_text``: one parse, one pass of
the rules), and ``complete`` runs the whole fix loop when the typing pauses
or a "fix all" is asked for, adding what only fixing finds (a fix the engine
refuses).  A ``Workspace`` keeps the settings and build contexts between
changes; the server forgets them when files change on disk.
"""

from __future__ import annotations

import copy
import json
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
from rewriter.python.detect import is_python_path, is_worker_path

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
    language: str = "dockerfile"
    fixed: str | None = None  #: the text with the fixes of ``settings`` applied
    traceback: str | None = None  #: of an internal error, for the log
    #: the whole fix loop has run (``complete``): ``fixed`` is set, and a refused
    #: fix is among the problems; a ``Lint`` that cannot be fixed is complete
    complete: bool = False


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


def language_of(path: str | None, language_id: str | None = None) -> str:
    """The engine's language for a buffer: by its file name, as the command
    chooses (``*.py``, compose files, Procfiles, units), else by the editor's
    language id for an unsaved buffer; a Dockerfile otherwise."""
    if path is not None:
        if is_python_path(path):
            return "python"
        if is_worker_path(path):
            return "celery-worker"
        return "dockerfile"
    return "python" if language_id == "python" else "dockerfile"


def settings_for(path: str | None, editor: Mapping[str, Any], root: str | None) -> Settings:
    """The command's settings for a Dockerfile at ``path``, with the editor's
    settings laid over them as the command's flags are.  Raises ``ConfigError``."""
    directory = os.path.dirname(os.path.abspath(path)) if path else (root or os.getcwd())
    found = config.find_config(directory, read_if_file, os.path.lexists)
    overrides = config.check_values(editor, root or directory, "editor settings") if editor else {}
    return config.settings_for(found, overrides)


def build_context(path: str | None, buffers: Mapping[str, str],
                  base: DirectoryContext | None = None) -> Any:
    """The command's build context for ``path``, open buffers laid over the disk
    (``base``: the directory's context, if one is kept already)."""
    if path is None:
        return EMPTY
    base = base or DirectoryContext.for_file(path)
    overlay = {}
    for other, text in buffers.items():
        rel = os.path.relpath(os.path.realpath(other), base.root)
        if not rel.startswith(os.pardir):
            overlay[rel.replace(os.sep, "/")] = text
    return OverlayContext(base, overlay) if overlay else base


class Workspace:
    """What stays the same from one change to the next: the settings of each
    directory and the build context of each file (whose reads the context
    keeps).  Both hold what is on disk: ``forget`` them when files change
    there (a save, a watched file), and they are read again."""

    def __init__(self) -> None:
        self._settings: dict[tuple[str | None, str, str | None], Settings | config.ConfigError] = {}
        self._contexts: dict[str, DirectoryContext] = {}

    def settings(self, path: str | None, editor: Mapping[str, Any], root: str | None) -> Settings:
        directory = os.path.dirname(os.path.abspath(path)) if path else None
        key = (directory, json.dumps(editor, sort_keys=True, default=repr), root)
        found = self._settings.get(key)
        if found is None:
            try:
                found = settings_for(path, editor, root)
            except config.ConfigError as exc:
                found = exc
            self._settings[key] = found
        if isinstance(found, config.ConfigError):
            raise found
        return found

    def context(self, path: str | None, buffers: Mapping[str, str]) -> Any:
        if path is None:
            return EMPTY
        base = self._contexts.get(path)
        if base is None:
            base = self._contexts[path] = DirectoryContext.for_file(path)
        return build_context(path, buffers, base)

    def forget(self) -> None:
        self._settings.clear()
        self._contexts.clear()


def safe_only(settings: Settings) -> Settings:
    """``settings`` without ``unsafe_fixes``: what "fix all" applies."""
    if not settings.unsafe_fixes:
        return settings
    safe = copy.copy(settings)
    object.__setattr__(safe, "unsafe_fixes", False)
    return safe


def lint(text: str, path: str | None, editor: Mapping[str, Any] | None = None,
         buffers: Mapping[str, str] | None = None, root: str | None = None, *,
         workspace: Workspace | None = None, language: str | None = None,
         full: bool = True) -> Lint:
    """The problems of ``text``, the file at ``path`` (``None``: unsaved).
    ``full=False``: check only, and leave the fix loop to ``complete``."""
    workspace = workspace or Workspace()
    out = Lint(text, path=path, language=language or language_of(path))
    first_line = len(text.split("\n", 1)[0].rstrip("\r"))
    try:
        out.settings = workspace.settings(path, editor or {}, root)
    except config.ConfigError as exc:
        where = exc.path or "configuration"
        out.problems.append(Problem(ERROR, 0, first_line, ERROR_SEVERITY,
                                    f"dockfix: {where}: {exc.message}"))
        out.complete = True
        return out
    try:
        if out.language == "dockerfile":  # the others judge from their own text
            out.context = workspace.context(path, buffers or {})
        result = engine.check_text(text, out.settings, path, context=out.context,
                                   language=out.language)
    except Exception as exc:  # noqa: BLE001 - a rule that raises must not stop the server
        _failed(out, exc, first_line)
        return out
    out.problems.extend(problems(text, result))
    return complete(out) if full else out


def complete(current: Lint) -> Lint:
    """``current`` after the whole fix loop: ``fixed`` set, and a fix the engine
    refuses among the problems (a new ``Lint``; ``current`` is kept as it is)."""
    if current.complete or current.settings is None:
        return current
    out = copy.copy(current)
    out.problems = list(current.problems)
    out.complete = True
    try:
        result = engine.fix_text(current.text, current.settings, current.path,
                                 context=current.context, language=current.language)
    except Exception as exc:  # noqa: BLE001 - as in lint
        _failed(out, exc, len(current.text.split("\n", 1)[0].rstrip("\r")))
        return out
    out.fixed = result.fixed
    if result.error:
        out.problems.append(_refused(current.text, result.error))
        out.problems.sort(key=lambda p: (p.start, p.end))
    return out


def _failed(out: Lint, exc: Exception, first_line: int) -> None:
    line = getattr(exc, "line", None)
    text = out.text
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
    out.complete = True


def fix_all(current: Lint) -> str | None:
    """The text with only the safe fixes applied; ``None`` when there is nothing to do."""
    if current.settings is None:
        return None
    if not current.settings.unsafe_fixes:
        fixed = complete(current).fixed
    else:
        try:
            fixed = engine.fix_text(current.text, safe_only(current.settings), current.path,
                                    context=current.context, language=current.language).fixed
        except Exception:  # noqa: BLE001 - reported by the diagnostics already
            return None
    return fixed if fixed is not None and fixed != current.text else None


def _refused(text: str, error: str) -> Problem:
    return Problem(REFUSED, 0, _line_span(text, 1)[1], INFORMATION,
                   f"dockfix refused its own fix: {error}", "fix-refused")


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
        out.append(_refused(text, result.error))
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

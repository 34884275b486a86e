"""Files, stdin and stdout: the only module of dockfix that does I/O.

``run(paths, options)`` finds the Dockerfiles, reads each as bytes, decodes it
as UTF-8 (a BOM is kept: the parser skips it), fixes it with the engine and
then, by the options, prints a diff, writes the file in place, or only counts.
Every failure of one file (unreadable, not UTF-8, does not parse, bad
configuration, a bug) is one ``dockfix: error:`` line on stderr; the other
files are still handled, and the ``Report`` turns it all into the exit code.

Nothing here imports typer (that is ``cli``), jinja2 or libcst.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import stat
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from rewriter import config as _config
from rewriter.report import Report

if TYPE_CHECKING:
    from rewriter.engine import Result
    from rewriter.settings import Settings

#: Names of the files a directory is searched for.
PATTERNS = (
    "Dockerfile",
    "Dockerfile.*",
    "*.Dockerfile",
    "*.dockerfile",
    "Containerfile",
    "Containerfile.*",
)
#: Directories never searched (a path given on the command line always is).
SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox"}
)
STDIN = "-"


@dataclass(frozen=True)
class Options:
    write: bool = False  #: ``--write``: rewrite files in place
    check: bool = False  #: ``--check``: exit 1 when a file would change
    diff: bool = False  #: ``--diff``: print the diff (the default unless --write/--check)
    quiet: bool = False  #: ``-q``: print only errors on stderr
    color: bool | None = None  #: ``None``: when stdout is a TTY and NO_COLOR is unset
    stdin_filename: str | None = None  #: the name of ``-`` in messages and for configuration
    #: ``Settings`` fields given on the command line; they win over config files
    overrides: Mapping[str, Any] = field(default_factory=dict)

    @property
    def show_diff(self) -> bool:
        return self.diff or not (self.write or self.check)


def is_dockerfile(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in PATTERNS)


def usage_error(paths: Sequence[str], options: Options) -> str | None:
    """What is wrong with this combination of paths and options, if anything."""
    if options.write and options.check:
        return "--write cannot be combined with --check (--check never writes)"
    if options.write and options.diff:
        return "--write cannot be combined with --diff (--diff never writes)"
    if STDIN in paths and len(paths) > 1:
        return "'-' (stdin) cannot be combined with other paths"
    if options.stdin_filename is not None and paths and STDIN not in paths:
        return "--stdin-filename only applies to '-' (stdin)"
    if not paths and options.stdin_filename is None:
        return "no paths given (pass files or directories, or '-' to read stdin)"
    for path in options.overrides.get("mappings", ()):
        if not os.path.isfile(path):
            return f"--mappings: {path}: no such file"
    return None


def run(
    paths: Sequence[str],
    options: Options,
    *,
    stdin: IO[bytes] | None = None,
    stdout: IO[bytes] | None = None,
    stderr: IO[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Fix ``paths`` (files, directories, or ``["-"]`` for stdin); the exit code."""
    stdout = stdout if stdout is not None else sys.stdout.buffer
    stderr = stderr if stderr is not None else sys.stderr
    environ = environ if environ is not None else os.environ
    out = _Output(stdout, stderr, _use_color(options.color, stdout, environ), options.quiet)
    problem = usage_error(paths, options)
    if problem:
        out.error(problem)
        return 2
    from_stdin = list(paths) in ([STDIN], [])
    report = Report(
        check=options.check,
        write=options.write or (from_stdin and not (options.check or options.diff)),
    )
    runner = _Runner(options, out, report, bool(environ.get("DOCKFIX_DEBUG")))
    try:
        if from_stdin:
            runner.fix_stdin(stdin if stdin is not None else sys.stdin.buffer)
        else:
            for path, error in _discover(paths):
                if error is not None:
                    out.error(f"{path}: {_strerror(error)}")
                    report.failed()
                else:
                    runner.fix_file(path)
    except _StdoutClosed:
        _silence(stdout)
        out.error("stdout was closed before all output was written")
        return 2
    if not from_stdin:  # one input: its own line says it all
        out.info(str(report))
    return report.return_code


# --- output -------------------------------------------------------------------


def _use_color(color: bool | None, stdout: IO[bytes], environ: Mapping[str, str]) -> bool:
    if color is not None:
        return color
    if environ.get("NO_COLOR"):
        return False
    try:
        return stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _one_line(message: str) -> str:
    return " ".join(message.splitlines()) if "\n" in message or "\r" in message else message


class _StdoutClosed(Exception):
    """The reader of stdout went away (``dockfix . | head``)."""


def _silence(stream: IO[bytes]) -> None:
    """Point ``stream``'s descriptor at /dev/null, so the exit flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
    except (OSError, ValueError, AttributeError):
        pass


class _Output:
    def __init__(self, stdout: IO[bytes], stderr: IO[str], color: bool, quiet: bool) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.color = color
        self.quiet = quiet

    def data(self, data: bytes) -> None:
        try:
            self.stdout.write(data)
            self.stdout.flush()
        except BrokenPipeError:
            raise _StdoutClosed from None

    def diff(self, diff: str) -> None:
        if self.color:
            from rewriter.diffing import color_diff

            diff = color_diff(diff)
        self.data(diff.encode("utf-8", "surrogateescape"))  # a path's own bytes

    def _err(self, line: str) -> None:
        self.stderr.write(line + "\n")
        self.stderr.flush()

    def info(self, message: str) -> None:
        if not self.quiet:
            self._err(_one_line(message))

    def error(self, message: str) -> None:
        self._err("dockfix: error: " + _one_line(message))


# --- discovery ----------------------------------------------------------------


def _discover(paths: Sequence[str]) -> Iterator[tuple[str, OSError | None]]:
    """Each Dockerfile under ``paths``, once, as ``(path, None)``; a path that
    cannot be used as ``(path, error)``."""
    seen: set[str] = set()
    for given in paths:
        path = os.path.normpath(given)
        if os.path.isdir(path):
            found: Iterator[tuple[str, OSError | None]] = _walk(path)
        elif os.path.exists(path):
            found = iter([(path, None)])
        else:
            found = iter([(path, FileNotFoundError(2, os.strerror(2), path))])
        for item, error in found:
            item = os.path.normpath(item)  # "./a/Dockerfile" -> "a/Dockerfile"
            key = item if error is not None else os.path.realpath(item)
            if key not in seen:
                seen.add(key)
                yield item, error


def _walk(directory: str) -> Iterator[tuple[str, OSError | None]]:
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        yield directory, exc
        return
    subdirs = []
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIP_DIRS:
                    subdirs.append(entry.path)
            elif is_dockerfile(entry.name) and entry.is_file():
                yield entry.path, None
        except OSError as exc:
            yield entry.path, exc
    for sub in subdirs:
        yield from _walk(sub)


def _strerror(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


# --- files --------------------------------------------------------------------


class _Failed(Exception):
    """One file could not be handled; the message is printed as it is."""


def _read(path: str) -> tuple[bytes, os.stat_result]:
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(21, os.strerror(21), path)
        return f.read(), st


def _read_if_file(path: str) -> bytes | None:
    """For config discovery: the bytes of ``path``, ``None`` if it is no file."""
    try:
        with open(path, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return None
            return f.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except OSError as exc:
        raise _config.ConfigError(f"cannot read: {_strerror(exc)}", path) from None


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 1].hex()
        raise _Failed(f"{name}: line {line}: not valid UTF-8 (byte 0x{bad})") from None


def write_atomic(path: str, data: bytes, before: os.stat_result, original: bytes) -> None:
    """Replace the file at ``path`` by ``data`` in one step, keeping its mode
    (and owner, where allowed); refuse when it changed since it was read.

    The new text goes to a temporary file in the same directory, which then
    replaces the old one (``os.replace``), so a reader never sees half a file
    and nothing is left behind.  A symbolic link is followed, not replaced.
    """
    real = os.path.realpath(path)
    fd, tmp = tempfile.mkstemp(
        dir=os.path.dirname(real), prefix=f".{os.path.basename(real)}.", suffix=".dockfix"
    )
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if hasattr(os, "chown"):
            mine = os.stat(tmp)
            if (mine.st_uid, mine.st_gid) != (before.st_uid, before.st_gid):
                with contextlib.suppress(OSError):
                    os.chown(tmp, before.st_uid, before.st_gid)
        os.chmod(tmp, stat.S_IMODE(before.st_mode))
        now = os.stat(real)
        if (now.st_mtime_ns, now.st_size) != (before.st_mtime_ns, before.st_size) or (
            _read(real)[0] != original
        ):
            raise _Failed(f"{path}: changed on disk while dockfix was fixing it; not written")
        os.replace(tmp, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# --- fixing -------------------------------------------------------------------


class _Configs:
    """The configuration of each directory, found once."""

    def __init__(self, overrides: Mapping[str, Any]) -> None:
        self.overrides = overrides
        self.found: dict[str, _config.Config | _config.ConfigError | None] = {}
        self.reported: set[str] = set()

    def settings(self, path: str | None, out: _Output) -> Settings:
        directory = os.path.dirname(os.path.abspath(path)) if path else os.getcwd()
        if directory not in self.found:
            try:
                self.found[directory] = _find_config(directory)
            except _config.ConfigError as exc:
                self.found[directory] = exc
        cfg = self.found[directory]
        if isinstance(cfg, _config.ConfigError):
            key = str(cfg)
            if key not in self.reported:
                self.reported.add(key)
                where = _shown(cfg.path) if cfg.path else "configuration"
                out.error(f"{where}: {cfg.message}")
            raise _Failed("")  # reported once, above
        return _config.settings_for(cfg, self.overrides)


def _find_config(directory: str) -> _config.Config | None:
    cfg = _config.find_config(directory, _read_if_file, os.path.lexists)
    if cfg is not None:
        for m in cfg.values.get("mappings", ()):
            if not os.path.isfile(m):
                raise _config.ConfigError(f"mappings: {m}: no such file", cfg.path)
    return cfg


def config_for(path: str) -> _config.Config | None:
    """The configuration a Dockerfile at ``path`` finds (raises ``ConfigError``)."""
    return _find_config(os.path.dirname(os.path.abspath(path)))


def _shown(path: str) -> str:
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _plural(n: int, word: str, words: str) -> str:
    return f"{n} {word if n == 1 else words}"


class _Runner:
    def __init__(self, options: Options, out: _Output, report: Report, debug: bool) -> None:
        self.options = options
        self.out = out
        self.report = report
        self.debug = debug
        self.configs = _Configs(options.overrides)

    def _fix(
        self, data: bytes, name: str, path: str | None, config_path: str | None
    ) -> tuple[Result, Settings]:
        from rewriter.engine import fix_text
        from rewriter.syntax import ParseError

        text = _decode(data, name)
        settings = self.configs.settings(config_path, self.out)
        try:
            return fix_text(text, settings, path), settings
        except ParseError as exc:
            raise _Failed(f"{name}: line {exc.line}: {exc.message}") from None

    def _failed(self, name: str, exc: BaseException) -> None:
        self.report.failed()
        if isinstance(exc, _Failed):
            if str(exc):
                self.out.error(str(exc))
        elif isinstance(exc, OSError):
            self.out.error(f"{name}: {_strerror(exc)}")
        else:
            self.out.error(f"{name}: internal error: {type(exc).__name__}: {exc}")
            if self.debug:
                import traceback

                traceback.print_exc(file=self.out.stderr)

    def fix_file(self, path: str) -> None:
        try:
            data, before = _read(path)
            result, settings = self._fix(data, path, path, path)
            if result.changed and self.options.write:
                write_atomic(path, result.fixed.encode("utf-8"), before, data)
        except Exception as exc:
            self._failed(path, exc)
            return
        if result.changed and self.options.show_diff:
            from rewriter.diffing import unified_diff

            self.out.diff(unified_diff(result.original, result.fixed, path.replace(os.sep, "/")))
        self._messages(path, result, settings, wrote=self.options.write)

    def fix_stdin(self, stdin: IO[bytes]) -> None:
        name = self.options.stdin_filename or STDIN
        try:
            data = stdin.read()
            result, settings = self._fix(data, name, self.options.stdin_filename,
                                         self.options.stdin_filename)
        except Exception as exc:
            self._failed(name, exc)
            return
        if self.options.check or self.options.diff:
            if result.changed and self.options.diff:
                from rewriter.diffing import unified_diff

                self.out.diff(unified_diff(result.original, result.fixed, name))
            self._messages(name, result, settings, wrote=False)
        else:
            self.out.data(result.fixed.encode("utf-8") if result.changed else data)
            self._messages(name, result, settings, wrote=True)

    def _messages(self, name: str, result: Result, settings: Settings, *, wrote: bool) -> None:
        from rewriter.edits import Applicability

        out = self.out
        if result.error:
            out.info(f"{name}: declined (fix-refused): {result.error}")
        for d in result.declines:
            where = f"{name}:{d.line}" if d.line else name
            out.info(f"{where}: declined ({d.reason}): {d.message}")
        if result.remaining:
            # spans of ``remaining`` are offsets into the fixed text
            final = result.final or result.dockerfile
            assert final is not None
            source = final.source
            for v in result.remaining:
                line, col = source.line_col(v.span.start)
                if line == 1 and source.text.startswith("\ufeff"):
                    col = max(col - 1, 1)  # a BOM is no column
                note = ""
                if v.fix is not None and v.fix.applicability == Applicability.DISPLAY_ONLY:
                    note = f" (suggestion: {v.fix.title})"
                elif v.fix is not None and not v.fix.applies(settings.threshold):
                    note = f" (unsafe fix, apply with --unsafe-fixes: {v.fix.title})"
                out.info(f"{name}:{line}:{col}: {v.code} {v.message}{note}")
        if result.changed:
            fixes = _plural(len(result.applied), "fix", "fixes")
            out.info(f"{'Fixed' if wrote else 'Would fix'} {name} ({fixes})")
        self.report.done(
            changed=result.changed,
            declined=bool(result.error or any(not d.informational for d in result.declines)),
        )

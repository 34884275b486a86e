"""Files, stdin and stdout: the only module of dockfix that does I/O.

``run(paths, options)`` finds the Dockerfiles, reads each as bytes, decodes it
as UTF-8 (a BOM is kept: the parser skips it), fixes it with the engine and
then, by the options, prints a diff, writes the file in place, or only counts.
Every failure of one file (unreadable, not UTF-8, does not parse, bad
configuration, a bug) is one ``dockfix: error:`` line on stderr; the other
files are still handled, and the ``Report`` turns it all into the exit code.

The work on one file (``process_file``: read, fix, write, diff) prints
nothing and returns a ``rewriter.report.outcome.FileOutcome``, plain data; output is
made from outcomes only (``_Runner.emit``).  In the ``text`` format each
outcome is printed as it comes (diff on stdout, messages on stderr); any other
``--output-format`` collects them and prints one document at the end
(``rewriter.report.formats``), to stdout or the ``-o`` file.

Nothing here imports typer (that is ``cli``), jinja2 or libcst.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import os
import stat
import sys
from collections.abc import Iterator, Mapping, Sequence
from rewriter._records import dataclass, field
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from rewriter.io import config as _config
from rewriter.io.context import EMPTY, DirectoryContext
from rewriter.report.summary import Report

if TYPE_CHECKING:
    from rewriter.core.engine import Result
    from rewriter.core.rules import Rule
    from rewriter.report.outcome import FileOutcome
    from rewriter.core.settings import Settings

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
    #: ``-v`` (or an explicit ``--output-format``): with stdin echoed to stdout,
    #: still print the messages; by default a filter prints only the fixed file
    verbose: bool = False
    color: bool | None = None  #: ``None``: when stdout is a TTY and NO_COLOR is unset
    stdin_filename: str | None = None  #: the name of ``-`` in messages and for configuration
    #: ``--output-format``: ``text`` (diffs and messages) or one document for the
    #: whole run (``json``, ``sarif``, ``github``, ``markdown``; see ``rewriter.report.formats``)
    output_format: str = "text"
    output_file: str | None = None  #: ``-o``: what goes to stdout goes to this file
    #: ``--jobs``: processes fixing files at once (``None``: one per CPU)
    jobs: int | None = None
    #: ``Settings`` fields given on the command line; they win over config files
    overrides: Mapping[str, Any] = field(default_factory=dict)
    #: the rules to run (``None``: the registered rules of each file's language)
    rules: tuple[Rule, ...] | None = None

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
    from rewriter.report.formats import FORMATS

    if options.output_format not in FORMATS:
        return (f"--output-format: expected one of {', '.join(FORMATS)}, "
                f"got {options.output_format!r}")
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
    problem = usage_error(paths, options)
    if problem:
        _Output(stdout, stderr, False, options.quiet).error(problem)
        return 2
    sink: IO[bytes] | None = None
    if options.output_file not in (None, STDIN):
        try:
            sink = open(options.output_file, "wb")  # noqa: SIM115
        except OSError as exc:
            _Output(stdout, stderr, False, options.quiet).error(
                f"--output-file: {options.output_file}: {_strerror(exc)}")
            return 2
    try:
        return _run(paths, options, stdin, sink or stdout, stderr, environ)
    finally:
        if sink is not None:
            sink.close()


def _run(paths: Sequence[str], options: Options, stdin: IO[bytes] | None, stdout: IO[bytes],
         stderr: IO[str], environ: Mapping[str, str]) -> int:
    out = _Output(stdout, stderr, _use_color(options.color, stdout, environ), options.quiet)
    from_stdin = list(paths) in ([STDIN], [])
    text = options.output_format == "text"
    report = Report(
        check=options.check,
        write=options.write or (from_stdin and text and not (options.check or options.diff)),
    )
    runner = _Runner(options, out, report, bool(environ.get("DOCKFIX_DEBUG")))
    try:
        if from_stdin:
            runner.fix_stdin(stdin if stdin is not None else sys.stdin.buffer)
        else:
            runner.fix_files(list(_discover(paths)))
        runner.document()
    except _StdoutClosed:
        _silence(stdout)
        out.error("stdout was closed before all output was written")
        return 2
    except KeyboardInterrupt:
        # Every file is whole, old or new: each is replaced in one step, and
        # worker processes finish the file they are on (they ignore SIGINT).
        out.end_progress()
        out.error("interrupted; every file is either fixed or as it was" if options.write
                  else "interrupted")
        return 130
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
        self.progress: _Progress | None = None

    def start_progress(self, total: int) -> None:
        """A progress bar on stderr for ``total`` files, if stderr is a terminal,
        the batch is long and messages are not turned off."""
        if total >= PROGRESS_MIN_FILES and not self.quiet and _isatty(self.stderr):
            self.progress = _Progress(self.stderr, total)

    def tick(self) -> None:
        if self.progress is not None:
            self.progress.tick()

    def end_progress(self) -> None:
        if self.progress is not None:
            self.progress.clear()
            self.progress = None

    def data(self, data: bytes) -> None:
        if self.progress is not None:
            self.progress.clear()
        try:
            self.stdout.write(data)
            self.stdout.flush()
        except BrokenPipeError:
            raise _StdoutClosed from None

    def diff(self, diff: str) -> None:
        if self.color:
            from rewriter.report.diffing import color_diff

            diff = color_diff(diff)
        self.data(diff.encode("utf-8", "surrogateescape"))  # a path's own bytes

    def _err(self, line: str) -> None:
        if self.progress is not None:
            self.progress.clear()
        self.stderr.write(line + "\n")
        self.stderr.flush()

    def info(self, message: str) -> None:
        if not self.quiet:
            self._err(_one_line(message))

    def error(self, message: str) -> None:
        self._err("dockfix: error: " + _one_line(message))


def _isatty(stream: IO[Any]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _Progress:
    """``[#######.............]  412/1521 files`` on one terminal line, redrawn
    at most ten times a second and wiped before any other output."""

    WIDTH = 30

    def __init__(self, stream: IO[str], total: int) -> None:
        import time

        self.stream = stream
        self.total = total
        self.done = 0
        self.shown = False
        self.clock = time.monotonic
        self.last = 0.0

    def tick(self) -> None:
        self.done += 1
        now = self.clock()
        if now - self.last >= 0.1 or self.done == self.total:
            self.last = now
            full = self.WIDTH * self.done // self.total
            bar = "#" * full + "." * (self.WIDTH - full)
            self.stream.write(f"\r[{bar}] {self.done:>{len(str(self.total))}}/{self.total} files")
            self.stream.flush()
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False


# --- discovery ----------------------------------------------------------------


class _Found(NamedTuple):
    path: str  #: as it will be shown ("./a/Dockerfile" -> "a/Dockerfile")
    error: OSError | None  #: why it cannot be used, if it cannot
    root: str  #: the tree it was found in (its real path): writes stay inside it


def _discover(paths: Sequence[str]) -> list[_Found]:
    """Each Dockerfile under ``paths``, once, in the order given (directories
    in sorted order), and each path that cannot be used, with its error.

    A file reached both by its own name and through a symbolic link is the
    file itself.  The tree of a directory is the directory; the tree of a file
    named on the command line is the directory it is in.
    """
    found: list[_Found] = []
    for given in paths:
        path = os.path.normpath(given)
        if os.path.isdir(path):
            if is_dockerfile(os.path.basename(path)) and not given.endswith(("/", os.sep)):
                # ``dockfix Dockerfile`` meant a file: an editor or a hook passes
                # files.  Searching a directory that has a Dockerfile's name
                # takes a trailing slash.
                error = IsADirectoryError(
                    21, f"is a directory, not a Dockerfile (to search it, write {path}/)")
                found.append(_Found(path, error, ""))
                continue
            root = os.path.realpath(path)
            items: Iterator[tuple[str, OSError | None]] = _walk(path)
        else:
            root = os.path.realpath(os.path.dirname(path) or os.curdir)
            if os.path.lexists(path):
                items = iter([(path, None)])
            else:
                items = iter([(path, FileNotFoundError(2, os.strerror(2), path))])
        found.extend(_Found(os.path.normpath(item), error, root) for item, error in items)
    chosen: dict[str, int] = {}
    for i, f in enumerate(found):
        key = f.path if f.error is not None else os.path.realpath(f.path)
        j = chosen.get(key)
        if j is None or (os.path.islink(found[j].path) and not os.path.islink(f.path)):
            chosen[key] = i
    return [found[i] for i in sorted(chosen.values())]


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


def _outside(path: str, root: str) -> str | None:
    """Where the symbolic link ``path`` leads, when that is outside ``root``."""
    real = os.path.realpath(path)
    if not root or os.path.commonpath([real, root]) == root:
        return None
    return real


def _strerror(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


# --- files --------------------------------------------------------------------


#: The largest file dockfix reads.  Real Dockerfiles are a few kilobytes (the
#: largest of the 1,500 in the development corpus is under 100 KiB); a 100,000
#: line synthetic one is about 5 MiB.  Anything bigger is not worth the memory.
MAX_SIZE = 10 * 1024 * 1024

#: What a path is, when it is not a regular file (``stat.S_IFMT`` bits).
_KINDS = {
    stat.S_IFDIR: "is a directory",
    stat.S_IFIFO: "is a named pipe (FIFO), not a regular file (to read a pipe, use '-')",
    stat.S_IFCHR: "is a character device, not a regular file",
    stat.S_IFBLK: "is a block device, not a regular file",
    stat.S_IFSOCK: "is a socket, not a regular file",
}

#: Byte order marks of encodings other than UTF-8, longest first.
_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"),
)


class _Failed(Exception):
    """One file could not be handled; the message is printed as it is."""


def _read(path: str) -> tuple[bytes, os.stat_result]:
    """The bytes of the regular file ``path`` (at most ``MAX_SIZE``) and its status.

    Opened without blocking, so a FIFO cannot stall the run: it is refused,
    like a directory, a device or a socket, before anything is read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket, or a FIFO on some systems
            raise _Failed(f"{path}: {_KINDS[stat.S_IFSOCK]}") from None
        raise
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = _KINDS.get(stat.S_IFMT(st.st_mode), "is not a regular file")
            raise _Failed(f"{path}: {kind}")
        if st.st_size > MAX_SIZE:
            raise _Failed(f"{path}: {_too_big(st.st_size)}")
        data = f.read(MAX_SIZE + 1)
        if len(data) > MAX_SIZE:  # it grew while being read
            raise _Failed(f"{path}: {_too_big(len(data))}")
        return data, st


def _too_big(size: int) -> str:
    return (f"{size:,} bytes is more than a Dockerfile may have "
            f"({MAX_SIZE // (1024 * 1024)} MiB); not read")


def _read_stdin(stdin: IO[bytes], name: str) -> bytes:
    """The bytes on stdin (at most ``MAX_SIZE``)."""
    data = stdin.read(MAX_SIZE + 1)
    if len(data) > MAX_SIZE:
        raise _Failed(f"{name}: stdin holds more than a Dockerfile may have "
                      f"({MAX_SIZE // (1024 * 1024)} MiB); not read")
    return data


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
    """``data`` as text: UTF-8, with or without a BOM (which is kept).  Other
    encodings and binary files are refused, each with its own message."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            raise _Failed(f"{name}: encoded as {encoding} (it starts with a {encoding} byte "
                          "order mark); dockfix reads UTF-8 only")
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise _Failed(f"{name}: line {line}: a NUL byte: a binary file, not a Dockerfile")
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
    replaces the old one (``os.replace``), so a reader never sees half a file,
    and whatever goes wrong (a full disk, Ctrl-C) leaves the old file as it
    was and no temporary file behind.  A symbolic link is followed, not
    replaced.  A file that is read-only, or has other hard links (which
    replacing it would cut off), is not written.
    """
    real = os.path.realpath(path)
    if not os.access(real, os.W_OK):
        raise _Failed(f"{path}: cannot write: the file is read-only; it is unchanged")
    if before.st_nlink > 1:
        raise _Failed(f"{path}: has {before.st_nlink} hard links, which replacing it would "
                      "cut off; not written")
    directory, base = os.path.split(real)
    try:
        fd, tmp = _create_beside(directory, base)
    except OSError as exc:
        raise _Failed(f"{path}: cannot write: {_strerror(exc)} (in {directory or '.'}); "
                      "it is unchanged") from None
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
        if (now.st_ino, now.st_mtime_ns, now.st_size) != (
            before.st_ino, before.st_mtime_ns, before.st_size
        ) or _read(real)[0] != original:
            raise _Failed(f"{path}: changed on disk while dockfix was fixing it; not written")
        os.replace(tmp, real)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _Failed(f"{path}: cannot write: {_strerror(exc)}; it is unchanged") from None
        raise
    _sync_directory(directory)


def _create_beside(directory: str, base: str) -> tuple[int, str]:
    """A new, empty, private file ``.<base>.<random>.dockfix`` in ``directory``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = os.path.join(directory, f".{base}.{os.urandom(4).hex()}.dockfix")
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            continue


def _sync_directory(directory: str) -> None:
    """Make the rename itself durable (where the platform allows)."""
    try:
        fd = os.open(directory or os.curdir, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- fixing -------------------------------------------------------------------


class _Configs:
    """The configuration of each directory, found once."""

    def __init__(self, overrides: Mapping[str, Any]) -> None:
        self.overrides = overrides
        self.found: dict[str, _config.Config | _config.ConfigError | None] = {}

    def settings(self, path: str | None) -> Settings:
        """The settings for a Dockerfile at ``path``; raises ``_Failed`` for a bad
        configuration (the same message for every file using it: printed once)."""
        directory = os.path.dirname(os.path.abspath(path)) if path else os.getcwd()
        if directory not in self.found:
            try:
                self.found[directory] = _find_config(directory)
            except _config.ConfigError as exc:
                self.found[directory] = exc
        cfg = self.found[directory]
        if isinstance(cfg, _config.ConfigError):
            where = _shown(cfg.path) if cfg.path else "configuration"
            raise _Failed(f"{where}: {cfg.message}")
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


def _fix(data: bytes, name: str, path: str | None, configs: _Configs,
         rules: tuple[Rule, ...] | None) -> tuple[Result, Settings]:
    from rewriter.core.engine import fix_text
    from rewriter.dockerfile.syntax import ParseError

    text = _decode(data, name)
    settings = configs.settings(path)
    build = DirectoryContext.for_file(path) if path else EMPTY
    try:
        result = fix_text(text, settings, path, build, rules=rules)
    except ParseError as exc:
        raise _Failed(f"{name}: line {exc.line}: {exc.message}") from None
    df = result.tree
    if df is not None and not df.instructions:
        # BuildKit's own words; our parser reads such a file so it round-trips
        raise _Failed(f"{name}: file with no instructions (BuildKit refuses it)")
    if df is not None and df.dangling_continuation:
        raise _Failed(f"{name}: line {df.dangling_continuation}: the file ends inside this "
                      "instruction (its last line continues); it looks cut short")
    unknown = _unknown_instruction(df)
    if unknown is not None:
        # ``docker build`` refuses it too; most often the file is not a
        # Dockerfile at all (Python's ``from celery import Celery`` reads as FROM)
        raise _Failed(f"{name}: line {unknown.start_line}: unknown instruction "
                      f"`{unknown.keyword}` (BuildKit refuses it); not a Dockerfile? "
                      "nothing changed")
    return result, settings


def _unknown_instruction(df: Any) -> Any:
    """The first instruction BuildKit does not know, if any."""
    from rewriter.dockerfile.syntax import KNOWN_INSTRUCTIONS

    if df is None:
        return None
    for ins in df.instructions:
        if ins.keyword.lower() not in KNOWN_INSTRUCTIONS:
            return ins
    return None


def _failure(name: str, exc: BaseException, debug: bool) -> FileOutcome:
    """The outcome of a file that could not be handled."""
    from rewriter.report.outcome import failed

    if isinstance(exc, _Failed):
        return failed(name, str(exc))
    if isinstance(exc, OSError):
        return failed(name, f"{name}: {_strerror(exc)}")
    tb = None
    if debug:
        import traceback

        tb = traceback.format_exc()
    return failed(name, f"{name}: internal error: {type(exc).__name__}: {exc}", tb)


def process_file(path: str, options: Options, configs: _Configs, debug: bool = False) -> FileOutcome:
    """Read, fix and (with ``--write``) rewrite the file ``path``; never raises.

    This is the whole per-file work, and it prints nothing: what the output
    needs comes back as plain, picklable data (``rewriter.report.outcome``).
    """
    from rewriter.report.diffing import unified_diff
    from rewriter.report.outcome import build

    name = path.replace(os.sep, "/")
    try:
        data, before = _read(path)
        result, settings = _fix(data, path, path, configs, options.rules)
        if result.changed and options.write:
            write_atomic(path, result.fixed.encode("utf-8"), before, data)
        diff = unified_diff(result.original, result.fixed, name) if result.changed else ""
        return build(name, result, settings, written=options.write, diff=diff,
                     detail=options.output_format != "text")
    except Exception as exc:
        return _failure(path, exc, debug)


def process_stdin(
    data: bytes, options: Options, configs: _Configs, debug: bool = False
) -> tuple[FileOutcome, bytes | None]:
    """Fix a Dockerfile read from stdin: its outcome, and what goes to stdout
    in the text format (the fixed text, or the input when nothing changed;
    ``None`` when only a diff or nothing is printed)."""
    from rewriter.report.diffing import unified_diff
    from rewriter.report.outcome import build

    name = options.stdin_filename or STDIN
    try:
        result, settings = _fix(data, name, options.stdin_filename, configs, options.rules)
        echo = options.output_format == "text" and not (options.check or options.diff)
        diff = unified_diff(result.original, result.fixed, name) if result.changed else ""
        outcome = build(name, result, settings, written=echo, diff=diff,
                        detail=options.output_format != "text")
    except Exception as exc:
        return _failure(name, exc, debug), None
    if not echo:
        return outcome, None
    return outcome, result.fixed.encode("utf-8") if result.changed else data


#: Fewer files than this are fixed in this process: starting worker processes
#: (each imports dockfix afresh) would take longer than fixing them.
PARALLEL_MIN_FILES = 24
#: The progress bar is shown for this many files or more.
PROGRESS_MIN_FILES = 50

#: In a worker process: the options, its own configuration cache, the debug flag.
_worker: tuple[Options, _Configs, bool] | None = None
_stopping = False  #: in a worker process: Ctrl-C was pressed


def tune_gc() -> None:
    """Tune the garbage collector for a run of the command (not for a library).

    Fixing a file makes many small objects with no reference cycles, which
    reference counting frees; with the default thresholds the collector still
    scans the growing heap over and over, about a third of the time on a long
    file.  What is loaded so far (the modules) is frozen out of its scans.
    """
    import gc

    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)


def _worker_init(options: Options, debug: bool) -> None:
    import signal

    tune_gc()
    global _worker
    _worker = (options, _Configs(options.overrides), debug)
    # Ctrl-C reaches every process of the terminal's process group.  The parent
    # stops the run; a worker finishes the file it is on (so it is written
    # whole or not at all), starts no other, and prints no traceback.
    signal.signal(signal.SIGINT, _stop)


def _stop(signum: int, frame: object) -> None:
    global _stopping
    _stopping = True


def _worker_fix(path: str) -> FileOutcome:
    assert _worker is not None
    options, configs, debug = _worker
    if _stopping:
        from rewriter.report.outcome import failed

        return failed(path.replace(os.sep, "/"), f"{path}: interrupted")
    return process_file(path, options, configs, debug)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore Ctrl-C for a moment.  Processes started meanwhile begin with it
    ignored (Python keeps an ignored SIGINT ignored), so a Ctrl-C while a
    worker is still importing cannot print a traceback; ``_worker_init`` then
    sets the worker's own handler."""
    import signal

    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals are not ours to handle
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def cpu_count() -> int:
    """The CPUs this process may run on (its affinity mask, where there is one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def jobs_for(options: Options, files: int) -> int:
    """How many processes fix ``files`` files: ``--jobs`` (default: one per
    CPU), but 1 for a short batch, and never so many that a worker gets
    fewer than a few files."""
    if files < PARALLEL_MIN_FILES:
        return 1
    jobs = options.jobs if options.jobs is not None else cpu_count()
    return max(1, min(jobs, files // 4))


class _Runner:
    """Turns outcomes into output: diffs and messages (text), or one document."""

    def __init__(self, options: Options, out: _Output, report: Report, debug: bool) -> None:
        self.options = options
        self.out = out
        self.report = report
        self.debug = debug
        self.configs = _Configs(options.overrides)
        self.outcomes: list[FileOutcome] = []
        self.errors: set[str] = set()  #: printed already (a bad config: once)
        self.show_diff = options.show_diff  #: stdin: only with ``--diff``
        self.messages = True  #: print the text format's messages (not a quiet filter)

    def fix_file(self, path: str) -> None:
        self.emit(process_file(path, self.options, self.configs, self.debug))

    def fix_files(self, found: list[_Found]) -> None:
        """Fix the files ``_discover`` found, in parallel when there are many;
        outcomes are printed as they come, in the order of ``found``."""
        from rewriter.report.outcome import failed

        problems: dict[int, str] = {}
        for i, f in enumerate(found):
            if f.error is not None:
                problems[i] = f"{f.path}: {_strerror(f.error)}"
            elif self.options.write and os.path.islink(f.path):
                target = _outside(f.path, f.root)
                if target is not None:
                    problems[i] = (f"{f.path}: a symbolic link to {target}, outside the tree "
                                   f"being fixed ({f.root}); not written")
        files = [f.path for i, f in enumerate(found) if i not in problems]
        outcomes = self._outcomes(files)
        self.out.start_progress(len(found))
        try:
            for i, f in enumerate(found):
                if i in problems:
                    self.emit(failed(f.path.replace(os.sep, "/"), problems[i]))
                else:
                    self.emit(next(outcomes))
                self.out.tick()
        finally:
            outcomes.close()  # on Ctrl-C: cancel what has not started
            self.out.end_progress()

    def _outcomes(self, files: list[str]) -> Iterator[FileOutcome]:
        """The outcome of each of ``files``, in order."""
        jobs = jobs_for(self.options, len(files))
        done = 0
        if jobs > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor
            from concurrent.futures.process import BrokenProcessPool

            # spawn: the same on every platform, and safe whatever the parent
            # holds (threads, libraries that do not survive fork).
            pool = ProcessPoolExecutor(
                jobs, mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_init, initargs=(self.options, self.debug),
            )
            try:
                chunk = max(1, min(16, len(files) // (jobs * 8)))
                with _sigint_ignored():  # while the workers start: they inherit it
                    results = pool.map(_worker_fix, files, chunksize=chunk)
                for outcome in results:
                    done += 1
                    yield outcome
            except BrokenProcessPool:
                self.out.error("a worker process stopped unexpectedly; "
                               "fixing the remaining files in this process")
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
        for path in files[done:]:
            yield process_file(path, self.options, self.configs, self.debug)

    def fix_stdin(self, stdin: IO[bytes]) -> None:
        name = self.options.stdin_filename or STDIN
        try:
            data = _read_stdin(stdin, name)
        except Exception as exc:
            self.emit(_failure(name, exc, self.debug))
            return
        outcome, echo = process_stdin(data, self.options, self.configs, self.debug)
        self.show_diff = self.options.diff
        if echo is not None:
            self.out.data(echo)
            # A filter (``:%!dockfix -``): editors often read stderr with stdout,
            # so a success prints nothing else unless asked; errors always.
            self.messages = self.options.verbose
        self.emit(outcome)

    def emit(self, outcome: FileOutcome) -> None:
        """Count ``outcome`` and print what the text format prints for it."""
        from rewriter.report.outcome import DECLINED, ERROR

        text = self.options.output_format == "text"
        if outcome.status == ERROR:
            self.report.failed()
            if outcome.error and outcome.error not in self.errors:
                self.errors.add(outcome.error)
                self.out.error(outcome.error)
                if outcome.traceback:
                    self.out.stderr.write(outcome.traceback)
        else:
            self.report.done(changed=outcome.changed, declined=outcome.status == DECLINED)
            if text:
                from rewriter.report.formats import text as text_format

                if outcome.diff and self.show_diff:
                    self.out.diff(outcome.diff)
                for line in text_format.messages(outcome) if self.messages else ():
                    self.out.info(line)
        if not text:
            self.outcomes.append(outcome)

    def document(self) -> None:
        """Print the whole run in a format other than text, once, at the end."""
        if self.options.output_format == "text":
            return
        from rewriter.report import formats

        doc = formats.render(self.options.output_format, self.outcomes)
        self.out.data(doc.encode("utf-8", "surrogateescape"))

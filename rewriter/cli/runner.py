"""The command's run: files in, outcomes out, printed; the exit code.

``run(paths, options)`` finds the Dockerfiles (``rewriter.io.files``), reads
each, fixes it with the engine and then, by the options, prints a diff,
writes the file in place (atomically, ``rewriter.io.files.write_atomic``), or
only counts.  Every failure of one file (unreadable, not UTF-8, does not
parse, bad configuration, a bug) is one ``dockfix: error:`` line on stderr;
the other files are still handled, and the ``Report`` turns it all into the
exit code.

The work on one file (``process_file``: read, fix, write, diff) prints
nothing and returns a ``rewriter.report.outcome.FileOutcome``, plain data;
output is made from outcomes only (``_Runner.emit``, through
``rewriter.cli.output``).  In the ``text`` format each outcome is printed as
it comes (diff on stdout, messages on stderr); any other ``--output-format``
collects them and prints one document at the end (``rewriter.report.formats``),
to stdout or the ``-o`` file.  Many files are fixed in worker processes.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import traceback
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from rewriter.cli.output import (
    PROGRESS_MIN_FILES,
    ClosedStream,
    Output,
    StdoutClosed,
    silence,
    use_color,
)
from rewriter.io.configs import Configs, check_mapping_file, config_for
from rewriter.io.config import ConfigError
from rewriter.io.context import EMPTY, DirectoryContext, Listings
from rewriter.io.files import (
    FileError,
    Found,
    decode,
    discover,
    outside,
    read_file,
    read_stream,
    strerror,
    write_atomic,
)
from rewriter.core import engine
from rewriter.core.engine import Result
from rewriter.core.language import ParseError
from rewriter.core.rules import Rule
from rewriter.core.settings import Settings
from rewriter.dockerfile import familytable
from rewriter.dockerfile.syntax import KNOWN_INSTRUCTIONS
from rewriter.python.detect import is_python_path, is_worker_path
from rewriter.report import formats
from rewriter.report.diffing import unified_diff
from rewriter.report.formats import FORMATS
from rewriter.report.formats import text as text_format
from rewriter.report.outcome import DECLINED, ERROR, FileOutcome, build, failed
from rewriter.report.summary import Report

__all__ = ["Options", "run", "process_file", "process_stdin", "usage_error", "tune_gc",
           "jobs_for", "cpu_count", "config_for", "new_configs", "PARALLEL_MIN_FILES",
           "PROGRESS_MIN_FILES", "STDIN"]

STDIN = "-"


@dataclass(frozen=True)
class Options:
    """What the command line asked for, as the runner reads it."""

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
    if options.output_format not in FORMATS:
        return (f"--output-format: expected one of {', '.join(FORMATS)}, "
                f"got {options.output_format!r}")
    for path in options.overrides.get("mappings", ()):
        try:
            check_mapping_file(path)
        except ConfigError as exc:
            return f"--{exc.message}"
    return None


def _standard_streams() -> tuple[IO[bytes], IO[str]]:
    """stdout (bytes) and stderr; a stream closed at start-up (``>&-``: Python
    then has ``None``) becomes one whose writes fail as a closed pipe's do."""
    stdout: Any = sys.stdout.buffer if sys.stdout is not None else ClosedStream()
    stderr: Any = sys.stderr if sys.stderr is not None else ClosedStream()
    return stdout, stderr


def _same_input(output_file: str, found: Sequence[Found], stdin: IO[bytes] | None) -> str | None:
    """The input that ``-o FILE`` is (opening it would empty it first), if any."""
    try:
        out = os.stat(output_file)
    except OSError:
        return None
    for f in found:
        if f.error is None:
            with contextlib.suppress(OSError):
                st = os.stat(f.path)
                if (st.st_dev, st.st_ino) == (out.st_dev, out.st_ino):
                    return f.path
    if stdin is not None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            st = os.fstat(stdin.fileno())
            if (st.st_dev, st.st_ino) == (out.st_dev, out.st_ino) and not (
                    os.path.samefile(output_file, os.devnull)):
                return STDIN
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
    std_out, std_err = _standard_streams()
    stdout = stdout if stdout is not None else std_out
    stderr = stderr if stderr is not None else std_err
    environ = environ if environ is not None else os.environ
    out = Output(stdout, stderr, False, options.quiet)
    problem = usage_error(paths, options)
    if problem:
        out.error(problem)
        return _done(2, out)
    from_stdin = list(paths) in ([STDIN], [])
    found = [] if from_stdin else discover(paths)
    sink: IO[bytes] | None = None
    if options.output_file not in (None, STDIN):
        assert options.output_file is not None
        same = _same_input(options.output_file, found,
                           (stdin if stdin is not None else sys.stdin.buffer if sys.stdin else None)
                           if from_stdin else None)
        if same is not None:
            out.error(f"--output-file: {options.output_file} is also an input "
                      f"({'stdin' if same == STDIN else same}); writing it would destroy it")
            return _done(2, out)
        try:
            sink = open(options.output_file, "wb")  # noqa: SIM115
        except OSError as exc:
            out.error(f"--output-file: {options.output_file}: {strerror(exc)}")
            return _done(2, out)
    try:
        code = _run(found, from_stdin, options, stdin, sink or stdout, stderr, environ)
    finally:
        if sink is not None:
            sink.close()
    return code


def _done(code: int, out: Output) -> int:
    """``code``, after making sure an unwritable stderr cannot fail the exit."""
    if out.lost:
        silence(out.stderr)  # type: ignore[arg-type]
    return code


def _run(found: list[Found], from_stdin: bool, options: Options, stdin: IO[bytes] | None,
         stdout: IO[bytes], stderr: IO[str], environ: Mapping[str, str]) -> int:
    out = Output(stdout, stderr, use_color(options.color, stdout, environ), options.quiet)
    text = options.output_format == "text"
    report = Report(
        check=options.check,
        write=options.write or (from_stdin and text and not (options.check or options.diff)),
    )
    runner = _Runner(options, out, report, bool(environ.get("DOCKFIX_DEBUG")), from_stdin)
    try:
        if from_stdin:
            runner.fix_stdin(stdin if stdin is not None else sys.stdin.buffer)
        else:
            runner.fix_files(found)
        runner.document()
    except StdoutClosed:
        silence(stdout)
        out.error("stdout was closed before all output was written")
        return _done(2, out)
    except KeyboardInterrupt:
        # Every file is whole, old or new: each is replaced in one step, and
        # worker processes finish the file they are on (they ignore SIGINT).
        out.end_progress()
        out.error("interrupted; every file is either fixed or as it was" if options.write
                  else "interrupted")
        return _done(130, out)
    if not from_stdin:  # one input: its own line says it all
        out.info(str(report))
    return _done(report.return_code, out)


# --- fixing -------------------------------------------------------------------


def _load_mappings(mappings: Sequence[str]) -> object:
    """The family table with the mapping files over it; raises when they cannot
    be used (read and checked once per run, so a bad one is one configuration
    error)."""
    for m in mappings:
        check_mapping_file(m)
    return familytable.load(mappings)


def new_configs(options: Options, from_stdin: bool = False) -> Configs:
    """The configuration cache of a run (or of a worker process)."""
    return Configs(options.overrides, _load_mappings, bounded=from_stdin)


def _fix(data: bytes, name: str, path: str | None, configs: Configs,
         rules: tuple[Rule, ...] | None,
         listings: Listings | None = None) -> tuple[Result, Settings]:
    text = decode(data, name)
    settings = configs.settings(path)
    if is_python_path(path or name):
        return _fix_python(text, name, path, settings, rules), settings
    if is_worker_path(path or name):
        return _fix_python(text, name, path, settings, rules, "celery-worker"), settings
    build = DirectoryContext.for_file(path, settings.context, listings) if path else EMPTY
    try:
        result = engine.fix_text(text, settings, path, build, rules=rules)
    except ParseError as exc:
        raise FileError(f"{name}: line {exc.line}: {exc.message}") from None
    df = result.tree
    if df is not None and not df.instructions:
        # BuildKit's own words; our parser reads such a file so it round-trips
        raise FileError(f"{name}: file with no instructions (BuildKit refuses it)")
    if df is not None and df.dangling_continuation and result.changed:
        # BuildKit reads it (a warning at most), but a line added after it would
        # join the last instruction: read it, report it, change nothing.
        result.fixed = result.original
        result.final = result.tree
        result.final_context = result.context
        result.applied = []
        result.error = (f"line {df.dangling_continuation}: the last instruction ends in a "
                        "continuation, so a line added after it would become part of it")
    unknown = _unknown_instruction(df)
    if unknown is not None:
        # ``docker build`` refuses it too; most often the file is not a
        # Dockerfile at all (Python's ``from celery import Celery`` reads as FROM)
        raise FileError(f"{name}: line {unknown.start_line}: unknown instruction "
                        f"`{unknown.keyword}` (BuildKit refuses it); not a Dockerfile? "
                        "nothing changed")
    return result, settings


def _fix_python(text: str, name: str, path: str | None, settings: Settings,
                rules: tuple[Rule, ...] | None, language: str = "python") -> Result:
    """Fix a Python file, or a file that starts Celery workers (``rewriter.python``)."""
    chosen = None if rules is None else tuple(r for r in rules if r.language == language)
    try:
        return engine.fix_text(text, settings, path, rules=chosen, language=language)
    except ParseError as exc:
        raise FileError(f"{name}: line {exc.line}: {exc.message}; nothing changed") from None


def _unknown_instruction(df: Any) -> Any:
    """The first instruction BuildKit does not know, if any."""
    if df is None:
        return None
    for ins in df.instructions:
        if ins.keyword.lower() not in KNOWN_INSTRUCTIONS:
            return ins
    return None


def _failure(name: str, exc: BaseException, debug: bool) -> FileOutcome:
    """The outcome of a file that could not be handled."""
    if isinstance(exc, FileError):
        return failed(name, str(exc))
    if isinstance(exc, OSError):
        return failed(name, f"{name}: {strerror(exc)}")
    tb = traceback.format_exc() if debug else None
    return failed(name, f"{name}: internal error: {type(exc).__name__}: {exc}", tb)


def process_file(path: str, options: Options, configs: Configs, debug: bool = False,
                 root: str | None = None, listings: Listings | None = None) -> FileOutcome:
    """Read, fix and (with ``--write``) rewrite the file ``path``; never raises.
    ``listings``: the directory listings the run's build contexts share.

    This is the whole per-file work, and it prints nothing: what the output
    needs comes back as plain, picklable data (``rewriter.report.outcome``).
    """
    name = path.replace(os.sep, "/")
    try:
        data, before = read_file(path)
        result, settings = _fix(data, path, path, configs, options.rules, listings)
        if result.changed and options.write:
            write_atomic(path, result.fixed.encode("utf-8"), before, data, root)
        diff = (unified_diff(result.original, result.fixed, name)
                if result.changed else "")
        return build(name, result, settings, written=options.write, diff=diff,
                     detail=options.output_format != "text")
    except Exception as exc:
        return _failure(path, exc, debug)


def process_stdin(
    data: bytes, options: Options, configs: Configs, debug: bool = False
) -> tuple[FileOutcome, bytes | None]:
    """Fix a Dockerfile read from stdin: its outcome, and what goes to stdout
    in the text format (the fixed text, or the input when nothing changed;
    ``None`` when only a diff or nothing is printed)."""
    name = options.stdin_filename or STDIN
    try:
        result, settings = _fix(data, name, options.stdin_filename, configs, options.rules)
        echo = options.output_format == "text" and not (options.check or options.diff)
        diff = (unified_diff(result.original, result.fixed, name)
                if result.changed else "")
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
#: In a worker process: the options, its own configuration cache and directory
#: listings, the debug flag.
_worker: tuple[Options, Configs, Listings, bool] | None = None
_stopping = False  #: in a worker process: Ctrl-C was pressed


def tune_gc() -> None:
    """Tune the garbage collector for a run of the command (not for a library).

    Fixing a file makes many small objects with no reference cycles, which
    reference counting frees; with the default thresholds the collector still
    scans the growing heap over and over, about a third of the time on a long
    file.  What is loaded so far (the modules) is frozen out of its scans.
    """
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)


def _worker_init(options: Options, debug: bool) -> None:
    tune_gc()
    global _worker
    _worker = (options, new_configs(options), Listings(), debug)
    # Ctrl-C reaches every process of the terminal's process group.  The parent
    # stops the run; a worker finishes the file it is on (so it is written
    # whole or not at all), starts no other, and prints no traceback.
    signal.signal(signal.SIGINT, _stop)


def _stop(signum: int, frame: object) -> None:
    global _stopping
    _stopping = True


def _worker_fix(item: tuple[str, str]) -> FileOutcome:
    assert _worker is not None
    path, root = item
    options, configs, listings, debug = _worker
    if _stopping:
        return failed(path.replace(os.sep, "/"), f"{path}: interrupted")
    return process_file(path, options, configs, debug, root, listings)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore Ctrl-C for a moment.  Processes started meanwhile begin with it
    ignored (Python keeps an ignored SIGINT ignored), so a Ctrl-C while a
    worker is still importing cannot print a traceback; ``_worker_init`` then
    sets the worker's own handler."""
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

    def __init__(self, options: Options, out: Output, report: Report, debug: bool,
                 from_stdin: bool = False) -> None:
        self.options = options
        self.out = out
        self.report = report
        self.debug = debug
        self.configs = new_configs(options, from_stdin)
        self.listings = Listings()  #: shared by the build contexts of the run's files
        self.outcomes: list[FileOutcome] = []
        self.errors: set[str] = set()  #: printed already (a bad config: once)
        self.show_diff = options.show_diff  #: stdin: only with ``--diff``
        self.messages = True  #: print the text format's messages (not a quiet filter)

    def fix_files(self, found: list[Found]) -> None:
        """Fix the files ``discover`` found, in parallel when there are many;
        outcomes are printed as they come, in the order of ``found``."""
        problems: dict[int, str] = {}
        for i, f in enumerate(found):
            if f.error is not None:
                problems[i] = f"{f.path}: {strerror(f.error)}"
            elif self.options.write and os.path.islink(f.path):
                target = outside(f.path, f.root)
                if target is not None:
                    problems[i] = (f"{f.path}: a symbolic link to {target}, outside the tree "
                                   f"being fixed ({f.root}); not written")
        files = [(f.path, f.root) for i, f in enumerate(found) if i not in problems]
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

    def _outcomes(self, files: list[tuple[str, str]]) -> Generator[FileOutcome, None, None]:
        """The outcome of each of ``files``, in order."""
        jobs = jobs_for(self.options, len(files))
        done = 0
        if jobs > 1:
            # Deliberately lazy: the process pool's modules cost a single-file
            # run (an editor's save) time it never needs.
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
        for path, root in files[done:]:
            yield process_file(path, self.options, self.configs, self.debug, root,
                               self.listings)

    def fix_stdin(self, stdin: IO[bytes]) -> None:
        name = self.options.stdin_filename or STDIN
        try:
            data = read_stream(stdin, name)
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
        text = self.options.output_format == "text"
        if outcome.status == ERROR:
            self.report.failed()
            if outcome.error and outcome.error not in self.errors:
                self.errors.add(outcome.error)
                self.out.error(outcome.error)
                if outcome.traceback:
                    self.out.raw_err(outcome.traceback)
        else:
            self.report.done(changed=outcome.changed, declined=outcome.status == DECLINED)
            if text:
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
        doc = formats.render(self.options.output_format, self.outcomes)
        self.out.data(doc.encode("utf-8", "backslashreplace"))  # always UTF-8

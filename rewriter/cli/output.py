"""What the command prints: diffs and documents on stdout, messages on stderr.

Messages are one line each, with control characters shown as escapes
(``\\x1b``): a file name can hold anything but ``/`` and NUL, and a name with
terminal escape sequences must not drive the terminal.  A closed or
unwritable stdout ends the run (``StdoutClosed``); an unwritable stderr is
noted (``Output.lost``) and the run goes on: its exit code says the rest.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import IO, Any

from rewriter.report.diffing import color_diff

#: The progress bar is shown for this many files or more.
PROGRESS_MIN_FILES = 50

#: C0 controls (but tab), DEL and C1 controls, as ``\xNN``.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7f, 0xa0)) if c != 0x09}


def printable(text: str) -> str:
    """``text`` with every control character (escape, carriage return, ...)
    written as ``\\xNN``, so it cannot move the cursor or recolour a terminal."""
    return text.translate(_CONTROLS)


def one_line(message: str) -> str:
    """``message`` on one line, with control characters shown as escapes."""
    if "\n" in message or "\r" in message:
        message = " ".join(message.splitlines())
    return printable(message)


def use_color(color: bool | None, stdout: IO[bytes], environ: Mapping[str, str]) -> bool:
    if color is not None:
        return color
    if environ.get("NO_COLOR"):
        return False
    return isatty(stdout)


def isatty(stream: IO[Any]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


class StdoutClosed(Exception):
    """The reader of stdout went away (``dockfix . | head``), or stdout is closed."""


class ClosedStream:
    """Stands for a standard stream that was closed when the command started
    (``dockfix . >&-``): every write fails as a closed pipe would."""

    def write(self, data: Any) -> int:
        raise BrokenPipeError(32, "stream closed")

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise ValueError("closed stream")


def silence(stream: IO[bytes]) -> None:
    """Point ``stream``'s descriptor at /dev/null, so the exit flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
    except (OSError, ValueError, AttributeError):
        pass


class Output:
    def __init__(self, stdout: IO[bytes], stderr: IO[str], color: bool, quiet: bool) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.color = color
        self.quiet = quiet
        self.progress: Progress | None = None
        self.lost = False  #: a message could not be written to stderr

    def start_progress(self, total: int) -> None:
        """A progress bar on stderr for ``total`` files, if stderr is a terminal,
        the batch is long and messages are not turned off."""
        if total >= PROGRESS_MIN_FILES and not self.quiet and isatty(self.stderr):
            self.progress = Progress(self, total)

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
        except (BrokenPipeError, ValueError):  # ValueError: a closed file object
            raise StdoutClosed from None
        except OSError as exc:
            raise StdoutClosed(exc.strerror or str(exc)) from None

    def diff(self, diff: str) -> None:
        if self.color:
            diff = color_diff(diff)
        self.data(diff.encode("utf-8", "surrogateescape"))  # a path's own bytes

    def raw_err(self, text: str) -> None:
        """``text`` to stderr as it is; a failure to write it is only noted."""
        try:
            self.stderr.write(text)
            self.stderr.flush()
        except (OSError, ValueError, AttributeError):
            self.lost = True

    def _err(self, line: str) -> None:
        if self.progress is not None:
            self.progress.clear()
        self.raw_err(line + "\n")

    def info(self, message: str) -> None:
        if not self.quiet:
            self._err(one_line(message))

    def error(self, message: str) -> None:
        self._err("dockfix: error: " + one_line(message))


class Progress:
    """``[#######.............]  412/1521 files`` on one terminal line, redrawn
    at most ten times a second and wiped before any other output."""

    WIDTH = 30

    def __init__(self, out: Output, total: int) -> None:
        self.out = out
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
            self.out.raw_err(
                f"\r[{bar}] {self.done:>{len(str(self.total))}}/{self.total} files")
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.out.raw_err("\r\x1b[K")
            self.shown = False

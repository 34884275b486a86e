"""Safe reading at its edges: the size limit to the byte, what is read past it,
a NUL as the first byte, and configuration files that are not plain files
(a device, a link loop, kernel files with and without a size).

Each test pins one behaviour a mutant of ``rewriter/io/files.py``'s reading
functions changed while the other tests still passed (``make mutation``,
session ``safe-reading``).  The command is the real one where its output
shows the behaviour; where only the library can (how many bytes of a pipe
were consumed), the library is called on real pipes and files.
"""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import pytest
from conftest import run_dockfix

from rewriter.io.files import MAX_SIZE, FileError, _read_fd, read_file, read_stream, too_big

ROOT_DF = b'FROM python:3.12-slim\nRUN pip install app\nCMD ["app"]\n'


def errors(proc) -> list[str]:
    return [ln for ln in proc.stderr.decode(errors="replace").splitlines()
            if ln.startswith("dockfix: error:")]


def exactly(size: int) -> bytes:
    """A valid Dockerfile of exactly ``size`` bytes (a comment pads it)."""
    head, tail = b"FROM alpine\n# ", b"\nUSER 1000\n"
    return head + b"x" * (size - len(head) - len(tail)) + tail


# --- the size limit, to the byte ------------------------------------------------------


def test_a_file_of_exactly_the_limit_is_read_whole(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_bytes(exactly(MAX_SIZE))
    data, st = read_file(str(path))
    assert len(data) == st.st_size == MAX_SIZE
    proc = run_dockfix("--check", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()


def test_stdin_of_exactly_the_limit_is_accepted(tmp_path):
    data = exactly(MAX_SIZE)
    proc = run_dockfix("-", cwd=tmp_path, input=data)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == data


def test_stdin_is_read_one_byte_past_the_limit_and_no_further():
    stream = io.BytesIO(b"x" * (MAX_SIZE + 100))
    with pytest.raises(FileError, match="stdin holds more than a Dockerfile may have"):
        read_stream(stream, "-")
    assert stream.tell() == MAX_SIZE + 1
    ok = io.BytesIO(b"y" * MAX_SIZE)
    assert read_stream(ok, "-") == b"y" * MAX_SIZE


def _feed(data: bytes) -> tuple[int, threading.Thread]:
    """A pipe's read end, and a thread writing ``data`` into it, then closing it."""
    r, w = os.pipe()

    def write() -> None:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(w, view):]
        except BrokenPipeError:
            pass
        finally:
            os.close(w)

    t = threading.Thread(target=write, daemon=True)
    t.start()
    return r, t


def test_a_growing_file_is_read_one_byte_past_the_limit_and_refused():
    """A file that reports a size within the limit but keeps giving (a
    ``/proc`` file, one being appended to): read up to one byte past the
    limit, refused with that count, the rest left unread."""
    r, t = _feed(b"z" * (MAX_SIZE + 100))
    try:
        with pytest.raises(FileError) as exc:
            _read_fd(r, "grows", "")
        assert str(exc.value) == f"grows: {too_big(MAX_SIZE + 1)}"
        assert "10,485,761 bytes is more than a Dockerfile may have (10 MiB)" in str(exc.value)
        rest = b""
        while chunk := os.read(r, 1 << 16):
            rest += chunk
        assert len(rest) == 99  # nothing past the first byte over the limit was read
    finally:
        os.close(r)
        t.join(10)


def test_a_stream_of_exactly_the_limit_is_read_whole():
    r, t = _feed(b"w" * MAX_SIZE)
    try:
        data = _read_fd(r, "pipe", "")
    finally:
        os.close(r)
        t.join(10)
    assert data == b"w" * MAX_SIZE


# --- what the bytes are -------------------------------------------------------------


def test_a_nul_as_the_very_first_byte_is_a_binary_file(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"\0" + ROOT_DF)
    proc = run_dockfix("--write", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 2
    assert errors(proc) == ["dockfix: error: Dockerfile: line 1: a NUL byte: a binary file, "
                            "not a Dockerfile"]
    assert path.read_bytes() == b"\0" + ROOT_DF


@pytest.mark.parametrize(("data", "needle"), [
    (b"\nFROM alpine\nRUN echo \0\n", "line 3: a NUL byte"),
    (b"\nFROM alpine\nLABEL x=caf\xe9\n", "line 3: not valid UTF-8 (byte 0xe9)"),
], ids=["nul", "latin-1"])
def test_bad_content_is_placed_on_its_line_counting_a_first_blank_line(tmp_path, data, needle):
    (tmp_path / "Dockerfile").write_bytes(data)
    proc = run_dockfix("--check", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 2
    [line] = errors(proc)
    assert line.startswith(f"dockfix: error: Dockerfile: {needle}"), line


# --- configuration files that are not plain files ----------------------------------------


@pytest.mark.parametrize("name", [".dockfix.toml", "pyproject.toml"])
def test_a_directory_named_like_a_config_file_is_no_config(tmp_path, name):
    """A directory where a configuration file could be is passed over, as if
    nothing were there: the defaults apply, and no error."""
    project = _project(tmp_path)
    (project / name).mkdir()
    proc = run_dockfix("-", cwd=project, input=ROOT_DF)
    assert proc.returncode == 0, proc.stderr.decode()
    assert errors(proc) == []
    assert b"USER 10001:10001" in proc.stdout


def _project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "Dockerfile").write_bytes(ROOT_DF)
    return tmp_path


def test_a_device_as_mappings_file_is_an_error_not_ignored(tmp_path):
    """``/dev/null`` reads as empty: taken silently, a typo'd mapping would
    pass unnoticed.  It is refused like a FIFO, by its kind."""
    project = _project(tmp_path)
    proc = run_dockfix("--check", "--mappings", "/dev/null", "Dockerfile", cwd=project)
    assert proc.returncode == 2
    [line] = errors(proc)
    assert "/dev/null: is a character device, not a regular file" in line, line


def test_a_device_as_config_file_is_an_error(tmp_path):
    project = _project(tmp_path)
    (project / ".dockfix.toml").symlink_to("/dev/null")
    proc = run_dockfix("--check", "Dockerfile", cwd=project)
    assert proc.returncode == 2
    [line] = errors(proc)
    assert ".dockfix.toml: is a character device" in line, line


def test_a_link_loop_as_mappings_file_cannot_be_read(tmp_path):
    project = _project(tmp_path)
    os.symlink("loop.toml", project / "loop.toml")
    proc = run_dockfix("--check", "--mappings", "loop.toml", "Dockerfile", cwd=project)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "Traceback" not in err and "internal error" not in err, err
    [line] = errors(proc)
    assert "loop.toml: cannot read: " in line and "symbolic links" in line, line


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc")
def test_a_kernel_file_without_a_size_is_refused_unread(tmp_path):
    """``/proc`` files report size 0 and may block or be consumed by reading
    (``/proc/kmsg``): refused by name, not read."""
    project = _project(tmp_path)
    assert os.stat("/proc/self/status").st_size == 0
    proc = run_dockfix("--check", "--mappings", "/proc/self/status", "Dockerfile", cwd=project)
    assert proc.returncode == 2
    [line] = errors(proc)
    assert "/proc/self/status: is a kernel interface (/proc, /sys), not a file to read" in line


SYS_FILE = "/sys/kernel/mm/transparent_hugepage/enabled"


@pytest.mark.skipif(not os.path.exists(SYS_FILE) or os.stat(SYS_FILE).st_size == 0,
                    reason="needs a /sys file that reports a size")
def test_a_kernel_file_with_a_size_is_read_like_a_file(tmp_path):
    """Only the files that report no size are refused unread: a ``/sys`` file
    with a size is read, and here fails as TOML, not as a kernel interface."""
    project = _project(tmp_path)
    proc = run_dockfix("--check", "--mappings", SYS_FILE, "Dockerfile", cwd=project)
    assert proc.returncode == 2
    [line] = errors(proc)
    assert "kernel interface" not in line, line
    assert SYS_FILE in line, line

"""The holes a hostile tester found in dockfix's file handling, each through
the real command (``python -m rewriter``), each failing before its fix.

Where a race decides the outcome, the run is made deterministic by a boot
script that does the attacker's step at the worst moment (``BOOT_*``), then
calls the real command; nothing of dockfix is replaced.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, run_dockfix

ROOT_DF = b'FROM python:3.12-slim\nRUN pip install app\nCMD ["app"]\n'
OUTSIDE = b"FROM alpine\nCMD [\"outside\"]\n"

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the hole is root's (CI runs as root)")


def errors(proc: subprocess.CompletedProcess[bytes]) -> list[str]:
    return [ln for ln in proc.stderr.decode(errors="replace").splitlines()
            if ln.startswith("dockfix: error:")]


def no_traceback(proc: subprocess.CompletedProcess[bytes]) -> None:
    err = proc.stderr.decode(errors="replace")
    assert "Traceback" not in err and "internal error" not in err, err


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """``tmp/tree`` (a repository) with ``a/`` and ``b/`` Dockerfiles, and
    ``tmp/outside/Dockerfile`` beside it, which dockfix must never write."""
    (tmp_path / "tree" / ".git").mkdir(parents=True)
    for d in ("a", "b"):
        (tmp_path / "tree" / d).mkdir()
        (tmp_path / "tree" / d / "Dockerfile").write_bytes(ROOT_DF)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "Dockerfile").write_bytes(OUTSIDE.replace(b"alpine", b"debian"))
    return tmp_path


# --- 1. a symbolic link swapped in after discovery ------------------------------------

#: While ``a`` is being read (after discovery), ``b/Dockerfile`` becomes a link out.
BOOT_SWAP_BEFORE_READ = """
import os, sys
import rewriter.cli.runner as runner
read = runner.read_file
def read_file(path):
    if path == "tree/a/Dockerfile":
        os.unlink("tree/b/Dockerfile")
        os.symlink("../../outside/Dockerfile", "tree/b/Dockerfile")
    return read(path)
runner.read_file = read_file
from rewriter.cli.main import main
raise SystemExit(main(sys.argv[1:]))
"""

#: ``b``'s directory is swapped for a link out between reading and writing ``b``.
BOOT_SWAP_DIR_AFTER_READ = """
import os, sys
import rewriter.cli.runner as runner
read = runner.read_file
def read_file(path):
    out = read(path)
    if path == "tree/b/Dockerfile":
        os.rename("tree/b", "tree/b-moved")
        os.symlink("../outside", "tree/b")
    return out
runner.read_file = read_file
from rewriter.cli.main import main
raise SystemExit(main(sys.argv[1:]))
"""

#: The swap lands after the containment check, as the directory is opened.
BOOT_SWAP_AT_OPEN = """
import os, sys
import rewriter.io.files as files
opendir = files._open_directory
def _open_directory(directory, root):
    if directory.endswith("/tree/b"):
        os.rename("tree/b", "tree/b-moved")
        os.symlink("../outside", "tree/b")
    return opendir(directory, root)
files._open_directory = _open_directory
from rewriter.cli.main import main
raise SystemExit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("boot", [BOOT_SWAP_BEFORE_READ, BOOT_SWAP_DIR_AFTER_READ,
                                  BOOT_SWAP_AT_OPEN],
                         ids=["file-link-before-read", "dir-link-after-read", "dir-link-at-open"])
def test_link_swapped_in_after_discovery_is_not_written_through(tree, boot):
    outside = (tree / "outside" / "Dockerfile").read_bytes()
    proc = run_dockfix("--write", "tree", cwd=tree, boot=boot)
    assert (tree / "outside" / "Dockerfile").read_bytes() == outside
    assert proc.returncode == 2, proc.stderr.decode()
    [line] = errors(proc)
    assert line.startswith("dockfix: error: tree/b/Dockerfile: "), line
    assert "outside the tree" in line or "changed on disk" in line, line
    assert (tree / "tree" / "a" / "Dockerfile").read_bytes() != ROOT_DF  # a was fixed
    assert not list(tree.rglob("*.dockfix"))


# --- 2. -o naming an input --------------------------------------------------------------


@pytest.mark.parametrize("args", [["-o", "t/Dockerfile", "t/Dockerfile"],
                                  ["--output-format", "json", "-o", "t/Dockerfile", "t"],
                                  ["-o", "t/./Dockerfile", "t/"]])
def test_output_file_that_is_an_input_is_refused(tmp_path, args):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "Dockerfile").write_bytes(ROOT_DF)
    proc = run_dockfix(*args, cwd=tmp_path)
    assert proc.returncode == 2
    [line] = errors(proc)
    assert "is also an input" in line, line
    assert (tmp_path / "t" / "Dockerfile").read_bytes() == ROOT_DF


def test_output_file_that_is_stdin_is_refused(tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_bytes(ROOT_DF)
    with open(df, "rb") as f:
        proc = subprocess.run([sys.executable, "-m", "rewriter", "-", "-o", "Dockerfile"],
                              cwd=tmp_path, stdin=f, capture_output=True, timeout=60,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 2
    assert "is also an input (stdin)" in errors(proc)[0]
    assert df.read_bytes() == ROOT_DF


# --- 3. read-only, as root --------------------------------------------------------------


@needs_root
def test_a_file_without_write_bits_is_written_by_root_as_the_kernel_allows(tmp_path):
    """Permissions are the kernel's business (as for sed -i, black, ruff): root may
    write a file with no write bits, and the file keeps its mode. Another user may
    not (tests/cli/test_hostile.py::test_file_without_write_permission)."""
    (tmp_path / ".git").mkdir()
    df = tmp_path / "Dockerfile"
    df.write_bytes(ROOT_DF)
    df.chmod(0o444)
    proc = run_dockfix("--write", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert df.read_bytes() != ROOT_DF and b"USER 10001:10001" in df.read_bytes()
    assert oct(df.stat().st_mode & 0o777) == oct(0o444)


# --- 4. shapes that used to be quadratic --------------------------------------------------

#: name -> (file of about 100-230 KB, seconds it must take at most; it took 12-28 s)
SHAPES = {
    "nested-default": (b"FROM debian\nENV X=" + b"${A:-" * 20_000 + b"\n", 8.0),
    "chown-many-copies": (b"FROM debian\n" + b"".join(b"COPY a /p%d\n" % i for i in range(3000))
                          + b"RUN chown -R 1:1 " + b" ".join(b"/p%d" % i for i in range(3000))
                          + b"\n", 8.0),
    "volume-many-paths": (b"FROM debian\nVOLUME " + b" ".join(b"/v%d" % i for i in range(30_000))
                          + b"\n", 8.0),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_no_quadratic_shape(tmp_path, shape):
    data, limit = SHAPES[shape]
    (tmp_path / "Dockerfile").write_bytes(data)
    start = time.monotonic()
    proc = run_dockfix("--check", "Dockerfile", cwd=tmp_path)
    took = time.monotonic() - start
    no_traceback(proc)
    assert proc.returncode in (0, 1), proc.stderr.decode()
    assert took < limit, f"{shape}: {took:.1f} s"


# --- 5. FIFOs and the stdin config search -------------------------------------------------


@pytest.mark.parametrize("name", ["pyproject.toml", ".dockfix.toml"])
def test_fifo_config_file_is_an_error_not_a_hang(tmp_path, name):
    (tmp_path / ".git").mkdir()
    (tmp_path / "Dockerfile").write_bytes(ROOT_DF)
    os.mkfifo(tmp_path / name)
    proc = run_dockfix("--check", "Dockerfile", cwd=tmp_path)  # timeout 120 s: a hang fails
    assert proc.returncode == 2
    [line] = errors(proc)
    assert line.startswith(f"dockfix: error: {name}: "), line
    assert "named pipe" in line, line


def test_fifo_mappings_entry_is_an_error_not_a_hang(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "Dockerfile").write_bytes(ROOT_DF)
    (tmp_path / ".dockfix.toml").write_text('mappings = ["families.toml"]\n')
    os.mkfifo(tmp_path / "families.toml")
    proc = run_dockfix("--check", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 2
    [line] = errors(proc)
    assert "mappings" in line and "named pipe" in line, line
    proc = run_dockfix("--check", "--mappings", "families.toml", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 2
    assert "named pipe" in errors(proc)[0]


@pytest.mark.skipif(not os.path.exists("/proc/kmsg"), reason="needs /proc/kmsg")
def test_proc_file_as_mappings_does_not_block(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "Dockerfile").write_bytes(ROOT_DF)
    proc = run_dockfix("--check", "--mappings", "/proc/kmsg", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 2
    no_traceback(proc)
    assert "kernel interface" in errors(proc)[0]  # refused without reading it


def test_stdin_config_search_stops_without_a_repository(tmp_path):
    """No ``.git`` anywhere: stdin's configuration is the current directory's
    only, not whatever a parent (or ``/``) holds."""
    (tmp_path / "pyproject.toml").write_text("[tool.dockfix]\nuid = 4242\n")
    work = tmp_path / "work"
    work.mkdir()
    proc = run_dockfix("-", cwd=work, input=ROOT_DF)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"4242" not in proc.stdout and b"10001" in proc.stdout
    # inside a repository, the search still reaches the repository's root
    (tmp_path / ".git").mkdir()
    proc = run_dockfix("-", cwd=work, input=ROOT_DF)
    assert b"4242" in proc.stdout


# --- 6. deep trees ------------------------------------------------------------------------


def test_tree_1100_levels_deep(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "Dockerfile").write_bytes(ROOT_DF)
    deep = str(tmp_path)
    try:
        for _ in range(1100):  # os.makedirs itself recurses
            deep += "/d"
            os.mkdir(deep)
        with open(os.path.join(deep, "Dockerfile"), "wb") as f:
            f.write(ROOT_DF)
        proc = run_dockfix("--check", ".", cwd=tmp_path)
        no_traceback(proc)
        assert proc.returncode == 1
        assert "2 files would be fixed" in proc.stderr.decode(), proc.stderr.decode()
    finally:  # shutil.rmtree (pytest's clean-up) recurses too
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(deep, "Dockerfile"))
        while deep != str(tmp_path):
            with contextlib.suppress(FileNotFoundError):
                os.rmdir(deep)
            deep = os.path.dirname(deep)


# --- 7. SARIF with a name that is not UTF-8 ----------------------------------------------


@pytest.mark.parametrize("fmt", ["sarif", "json", "github", "markdown"])
def test_document_formats_with_a_name_that_is_not_utf8(tmp_path, fmt):
    base = os.fsencode(str(tmp_path))
    (tmp_path / ".git").mkdir()
    with open(base + b"/Dockerfile.\xff", "wb") as f:
        f.write(ROOT_DF)
    proc = run_dockfix("--output-format", fmt, ".", cwd=tmp_path)
    no_traceback(proc)
    assert proc.returncode == 0, proc.stderr.decode()
    proc.stdout.decode("utf-8")  # the document is UTF-8
    if fmt == "sarif":
        doc = json.loads(proc.stdout)
        [result] = doc["runs"][0]["results"]
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri == "Dockerfile.%FF"  # the name's own bytes, percent-encoded
    if fmt == "json":
        json.loads(proc.stdout)


def test_sarif_with_non_utf8_name_and_write_still_reports(tmp_path):
    (tmp_path / ".git").mkdir()
    with open(os.fsencode(str(tmp_path)) + b"/Dockerfile.\xfe", "wb") as f:
        f.write(ROOT_DF)
    proc = run_dockfix("--write", "--output-format", "sarif", ".", cwd=tmp_path)
    no_traceback(proc)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["runs"][0]["results"]


# --- 8. one configuration error, not one internal error per file ------------------------


@pytest.mark.parametrize("config,needle", [
    ('mappings = ["bad.toml"]\n', "mappings"),
    ("x = " + "[" * 5000 + "\n", "nested too deeply"),
])
def test_bad_configuration_is_one_error(tmp_path, config, needle):
    (tmp_path / ".git").mkdir()
    for d in ("a", "b", "c"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "Dockerfile").write_bytes(ROOT_DF)
    (tmp_path / ".dockfix.toml").write_text(config)
    (tmp_path / "bad.toml").write_text("[families\nthis is not toml\n")
    proc = run_dockfix("--check", ".", cwd=tmp_path)
    no_traceback(proc)
    assert proc.returncode == 2
    [line] = errors(proc)
    assert needle in line, line


def test_bad_mappings_on_the_command_line_is_one_error(tmp_path):
    (tmp_path / ".git").mkdir()
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "Dockerfile").write_bytes(ROOT_DF)
    (tmp_path / "bad.toml").write_text("[[images]]\nmatch = 5\n")
    proc = run_dockfix("--check", "--mappings", "bad.toml", ".", cwd=tmp_path)
    no_traceback(proc)
    assert proc.returncode == 2
    [line] = errors(proc)
    assert "mappings" in line, line


# --- 9. link/.. as the kernel resolves it ---------------------------------------------------


def test_dotdot_after_a_link_is_what_the_kernel_opens(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "repo").mkdir()
    (tmp_path / "other" / "sub").mkdir(parents=True)
    (tmp_path / "repo" / "Dockerfile").write_bytes(ROOT_DF)
    (tmp_path / "other" / "Dockerfile").write_bytes(ROOT_DF.replace(b"app", b"other"))
    os.symlink("../other/sub", tmp_path / "repo" / "link")
    proc = run_dockfix("--write", "repo/link/../Dockerfile", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    assert (tmp_path / "repo" / "Dockerfile").read_bytes() == ROOT_DF  # not this one
    assert b"USER" in (tmp_path / "other" / "Dockerfile").read_bytes()  # the kernel's one


# --- 10. the smaller ones -------------------------------------------------------------------


def test_longest_file_name_can_be_written(tmp_path):
    (tmp_path / ".git").mkdir()
    name = "a" * 244 + ".Dockerfile"  # 255 bytes, the most a name may have
    (tmp_path / name).write_bytes(ROOT_DF)
    proc = run_dockfix("--write", name, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"USER" in (tmp_path / name).read_bytes()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_unwritable_stderr_is_not_exit_1(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "Dockerfile").write_bytes(ROOT_DF)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with open("/dev/full", "w") as full:
        ok = subprocess.run([sys.executable, "-m", "rewriter", "--write", "Dockerfile"],
                            cwd=tmp_path, stderr=full, stdout=subprocess.PIPE, env=env,
                            timeout=60)
        (tmp_path / "bad").write_bytes(b"\xff\xfe")
        bad = subprocess.run([sys.executable, "-m", "rewriter", "bad"], cwd=tmp_path,
                             stderr=full, stdout=subprocess.PIPE, env=env, timeout=60)
    assert ok.returncode == 0
    assert b"USER" in (tmp_path / "Dockerfile").read_bytes()
    assert bad.returncode == 2


def test_closed_stdout_is_an_error_not_an_internal_error(tmp_path):
    (tmp_path / "Dockerfile").write_bytes(ROOT_DF)
    proc = subprocess.run(
        [sys.executable, "-c", "import os, subprocess, sys; os.close(1); "
         "sys.exit(subprocess.call([sys.executable, '-m', 'rewriter', 'Dockerfile'], "
         "stdout=None, close_fds=False))"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert "internal error" not in err and "Traceback" not in err, err
    assert "stdout was closed" in err, err


BOOT_BUG = """
import sys
import rewriter.cli.runner as runner
def run(paths, options, **kw):
    raise RuntimeError("a planted bug")
runner.run = run
from rewriter.cli.main import main
raise SystemExit(main(sys.argv[1:]))
"""


def test_debug_shows_the_traceback_of_a_top_level_internal_error(tmp_path):
    quiet = run_dockfix("x", cwd=tmp_path, boot=BOOT_BUG, env={"DOCKFIX_DEBUG": None})
    assert quiet.returncode == 2
    assert quiet.stderr.decode() == "dockfix: error: internal error: RuntimeError: a planted bug\n"
    loud = run_dockfix("x", cwd=tmp_path, boot=BOOT_BUG, env={"DOCKFIX_DEBUG": "1"})
    assert loud.returncode == 2
    err = loud.stderr.decode()
    assert "Traceback (most recent call last)" in err and ", in run\nRuntimeError: a planted bug\n" in err
    assert err.endswith("dockfix: error: internal error: RuntimeError: a planted bug\n")


def test_terminal_escapes_in_names_are_not_printed_raw(tmp_path):
    (tmp_path / ".git").mkdir()
    evil = "Dockerfile.\x1b]0;pwned\x07\x1b[2J"
    (tmp_path / evil).write_bytes(b"FROM alpine\n\0")  # binary: an error line
    (tmp_path / "Dockerfile.\x1b[31mred").write_bytes(ROOT_DF)  # a diff and a message
    proc = run_dockfix(".", cwd=tmp_path)
    assert proc.returncode == 2
    assert b"\x1b" not in proc.stderr and b"\x07" not in proc.stderr and b"\r" not in proc.stderr
    assert b"\x1b" not in proc.stdout.split(b"\n@@")[0]  # the diff's header lines
    assert "dockfix: error: Dockerfile.\\x1b]0;pwned\\x07\\x1b[2J: line 2: a NUL byte" in (
        proc.stderr.decode())
    assert b'--- "a/Dockerfile.\\033[31mred"' in proc.stdout  # quoted as git quotes names

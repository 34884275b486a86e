"""``dockfix -`` as an editor's filter: the fixed file on stdout and nothing else.

Editors read a filter's stderr with its stdout (Vim's default 'shellredir' is
``>%s 2>&1``), so a successful ``dockfix -`` prints nothing on stderr unless
asked (``--verbose``, or an ``--output-format``); errors always go there.
The Vim tests drive Debian's vim through tmux, as a person would.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_dockfix
from editors import Tmux, environ, require

ROOT_DF = b'FROM python:3.12-slim\nRUN pip install app\nCMD ["app"]\n'
GOSU_DF = b'FROM postgres:16\nENTRYPOINT ["gosu", "postgres"]\n'
NONROOT_DF = b'FROM python:3.12-slim\nUSER 10001:10001\nCMD ["app"]\n'
UNTERMINATED = b"FROM alpine\nRUN <<EOF\necho hi\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # no configuration above it is found
    return tmp_path


@pytest.mark.parametrize("data", [ROOT_DF, GOSU_DF, NONROOT_DF], ids=["fixed", "declined", "fine"])
def test_filter_prints_only_the_file(project: Path, data: bytes) -> None:
    proc = run_dockfix("-", cwd=project, input=data)
    assert proc.returncode == 0
    assert proc.stderr == b""
    if data is ROOT_DF:
        assert b"\nUSER 10001:10001\n" in proc.stdout and proc.stdout.startswith(b"FROM ")
    else:
        assert proc.stdout == data


def test_filter_with_stdin_filename_and_write_is_silent(project: Path) -> None:
    proc = run_dockfix("--stdin-filename", "svc/Dockerfile", "--write", "-", cwd=project,
                       input=ROOT_DF)
    assert (proc.returncode, proc.stderr) == (0, b"")
    assert b"USER 10001:10001" in proc.stdout


@pytest.mark.parametrize("flag", [("--verbose",), ("-v",), ("--output-format", "text")])
def test_verbose_or_a_format_asks_for_the_messages(project: Path, flag: tuple[str, ...]) -> None:
    quiet = run_dockfix("-", cwd=project, input=ROOT_DF)
    proc = run_dockfix(*flag, "-", cwd=project, input=ROOT_DF)
    assert (proc.returncode, proc.stdout) == (0, quiet.stdout)
    assert proc.stderr.decode().splitlines() == ["Fixed - (1 fix)"]
    proc = run_dockfix(*flag, "-", cwd=project, input=GOSU_DF)
    assert proc.stdout == GOSU_DF
    assert "declined (privilege-drop-entrypoint): " in proc.stderr.decode()


def test_quiet_wins_over_verbose(project: Path) -> None:
    proc = run_dockfix("-q", "-v", "-", cwd=project, input=GOSU_DF)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, GOSU_DF, b"")


def test_a_document_format_still_prints_the_document(project: Path) -> None:
    proc = run_dockfix("--output-format", "json", "-", cwd=project, input=ROOT_DF)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["files"][0]["status"] == "would-fix"


def test_errors_are_always_printed(project: Path) -> None:
    proc = run_dockfix("-", cwd=project, input=UNTERMINATED)
    assert (proc.returncode, proc.stdout) == (2, b"")
    assert proc.stderr.decode() == "dockfix: error: -: line 2: unterminated heredoc\n"


def test_check_and_diff_on_stdin_keep_their_messages(project: Path) -> None:
    proc = run_dockfix("--check", "-", cwd=project, input=ROOT_DF)
    assert (proc.returncode, proc.stderr.decode()) == (1, "Would fix - (1 fix)\n")


# --- Vim ----------------------------------------------------------------------


def _vim_filter(project: Path, data: bytes, command: str) -> bytes:
    """Open ``Dockerfile`` holding ``data`` in Vim, run ``command``, write and quit;
    the file as Vim saved it."""
    vim = require("vim", "vim")
    require("tmux", "tmux")
    path = project / "Dockerfile"
    path.write_bytes(data)
    term = Tmux(project.parent / f"{project.name}-vim",
                [vim, "-u", "NONE", "-i", "NONE", "-N", "-n", "-c", "set report=0", "Dockerfile"],
                cwd=project, env=environ(project.parent))
    try:
        term.wait_for('"Dockerfile"')
        term.keys(command, "Enter")
        term.wait_for("lines filtered", timeout=30)
        term.keys(":wq", "Enter")
        term.wait_exit()
    finally:
        term.close()
    return path.read_bytes()


@pytest.fixture
def vim_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    (tmp_path / f"{project.name}-vim").mkdir()
    return project


def test_vim_filter_buffer_gets_only_the_dockerfile(vim_project: Path) -> None:
    expected = run_dockfix("-", cwd=vim_project, input=ROOT_DF).stdout
    saved = _vim_filter(vim_project, ROOT_DF, ":%!dockfix -")
    assert saved == expected
    assert b"Fixed" not in saved and b"USER 10001:10001" in saved


def test_vim_filter_leaves_a_declined_file_as_it_was(vim_project: Path) -> None:
    assert _vim_filter(vim_project, GOSU_DF, ":%!dockfix -") == GOSU_DF


def test_vim_reads_stderr_into_the_buffer(vim_project: Path) -> None:
    """Why the default must be silent: Vim puts what ``--verbose`` prints on
    stderr into the buffer, as it did with every ``dockfix -`` before."""
    saved = _vim_filter(vim_project, ROOT_DF, ":%!dockfix --verbose -")
    assert b"Fixed - (1 fix)" in saved


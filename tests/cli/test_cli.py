"""The ``dockfix`` command, end to end.

Two ways in:

* ``run_dockfix(...)`` runs the real command in a subprocess.  Tests that need
  no change pass ``--select DF999`` (a code no real rule has), so they keep
  passing whatever the real rules do.
* Tests that need a change use a fake rule, DF999, which adds
  ``USER <uid>:<gid>`` before the last instruction of a file with no ``USER``:
  in-process through ``runner.run`` with the rule in ``Options.rules``, or in a
  subprocess through ``BOOT``, which hands it to the real
  ``rewriter.cli.main.main``.
"""

from __future__ import annotations

import ast
import io
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, make_rule, run_dockfix

from rewriter import __version__
from rewriter.cli import runner
from rewriter.io.files import SKIP_DIRS
from rewriter.cli.runner import Options

NO_RULES = ("--select", "DF999")
HAS_GIT = shutil.which("git") is not None

FAKE_RULE = '''
from rewriter.core.edits import Applicability, Edit, Fix
from rewriter.dockerfile.rules._types import Decline, Violation

CODE = "DF999"
NAME = "fake-runs-as-root"
PRIORITY = 0


def check(ctx):
    """Adds USER before the last instruction; declines when it sees gosu."""
    ins = ctx.df.instructions
    if "gosu" in ctx.df.text:
        yield Decline("privilege-drop-entrypoint", "the entrypoint drops privileges with gosu",
                      ins[-1].start_line)
        return
    if not ins or any(i.cmd == "USER" for i in ins):
        return
    s = ctx.settings
    last = ins[-1]
    yield Violation(
        CODE, NAME, last.span, "the container runs as root",
        Fix(f"Add `USER {s.uid}:{s.gid}`",
            (Edit.insert(last.span.start, f"USER {s.uid}:{s.gid}" + ctx.newline),)),
    )
'''

BOOT = f"""
import sys
from rewriter.cli.main import main
from rewriter.core.rules import Rule
ns = {{}}
exec({FAKE_RULE!r}, ns)
rule = Rule(ns["CODE"], ns["NAME"], "dockerfile", ns["PRIORITY"], None, "", ns["check"])
raise SystemExit(main(sys.argv[1:], rules=(rule,)))
"""

ROOT_DF = 'FROM python:3.12-slim\nRUN pip install app\nCMD ["app"]\n'
FIXED_DF = 'FROM python:3.12-slim\nRUN pip install app\nUSER 10001:10001\nCMD ["app"]\n'
NONROOT_DF = 'FROM python:3.12-slim\nUSER 10001:10001\nCMD ["app"]\n'
GOSU_DF = 'FROM postgres:16\nENTRYPOINT ["gosu", "postgres"]\n'
UNTERMINATED = "FROM alpine\nRUN <<EOF\necho hi\n"


FAKE = make_rule(FAKE_RULE)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty repository as the working directory (no config above it is found)."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


class Run:
    def __init__(self, code: int, out: bytes, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    @property
    def errors(self) -> list[str]:
        return [ln for ln in self.err.splitlines() if ln.startswith("dockfix: error:")]


class TTY(io.BytesIO):
    def isatty(self) -> bool:
        return True


def run(*paths: str, stdin: bytes = b"", environ=None, tty=False, rules=(FAKE,),
        **options) -> Run:
    """``runner.run`` in-process with ``rules`` (the fake rule), with captured streams."""
    out = TTY() if tty else io.BytesIO()
    err = io.StringIO()
    code = runner.run(list(paths), Options(rules=tuple(rules), **options), stdin=io.BytesIO(stdin), stdout=out,
                      stderr=err, environ=environ or {})
    return Run(code, out.getvalue(), err.getvalue())


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def assert_one_line_error(proc: subprocess.CompletedProcess[bytes], summary: str = "") -> str:
    """Exit 2, one ``dockfix: error:`` line, no traceback; then ``summary`` if given."""
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines[1:] == ([summary] if summary else []), err
    assert lines[0].startswith("dockfix: error: ")
    return lines[0]


# --- the command in a subprocess, no change needed --------------------------------


def test_version(tmp_path):
    proc = run_dockfix("--version", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.decode() == f"dockfix {__version__}\n" == "dockfix 0.1.0\n"


def test_help_lists_exit_codes(tmp_path):
    proc = run_dockfix("--help", cwd=tmp_path)
    assert proc.returncode == 0
    text = " ".join(proc.stdout.decode().split())
    assert "1 with --check, something would change" in text
    for flag in ("--write", "--check", "--diff", "--unsafe-fixes", "--uid", "--gid", "--user",
                 "--group", "--build-arg", "--target", "--select", "--ignore", "--mappings",
                 "--stdin-filename", "--quiet", "--color", "--version"):
        assert flag in text


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ((), "no paths given"),
        (("--bogus", "Dockerfile"), "No such option: --bogus"),
        (("--uid", "abc", "Dockerfile"), "--uid"),
        (("--uid", "0", "Dockerfile"), "--uid: expected a non-root user id"),
        (("--user", "root", "Dockerfile"), "--user: 'root'"),
        (("--build-arg", "NOVALUE", "Dockerfile"), "--build-arg: expected KEY=VALUE"),
        (("--select", "DF-1", "Dockerfile"), "--select: 'DF-1' is not a rule code"),
        (("--mappings", "missing.toml", "Dockerfile"), "--mappings: missing.toml: no such file"),
        (("--write", "--check", "Dockerfile"), "--write cannot be combined with --check"),
        (("--write", "--diff", "Dockerfile"), "--write cannot be combined with --diff"),
        (("-", "Dockerfile"), "'-' (stdin) cannot be combined with other paths"),
        (("--stdin-filename", "x", "Dockerfile"), "--stdin-filename only applies to '-'"),
    ],
)
def test_usage_errors(tmp_path, args, needle):
    write(tmp_path / "Dockerfile", ROOT_DF)
    proc = run_dockfix(*args, cwd=tmp_path)
    err = assert_one_line_error(proc)
    assert needle in err
    assert proc.stdout == b""
    assert (tmp_path / "Dockerfile").read_text() == ROOT_DF


def test_trivial_run(project):
    write(project / "Dockerfile", ROOT_DF)
    proc = run_dockfix(*NO_RULES, "Dockerfile", cwd=project)
    assert proc.returncode == 0
    assert proc.stdout == b""
    assert proc.stderr.decode() == "1 file left unchanged\n"


def test_noop_write_touches_nothing(project):
    path = write(project / "Dockerfile", ROOT_DF)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    proc = run_dockfix(*NO_RULES, "--write", "Dockerfile", cwd=project)
    assert proc.returncode == 0
    assert path.stat().st_mtime_ns == 1_000_000_000
    assert sorted(p.name for p in project.iterdir()) == [".git", "Dockerfile"]


@pytest.mark.parametrize(
    "data",
    [
        b"FROM alpine\nRUN echo hi\n",
        b"FROM alpine\r\nRUN echo hi\r\n",
        b"\xef\xbb\xbfFROM alpine\nRUN echo hi\n",
        b"FROM alpine\nRUN echo hi",
        b"\xef\xbb\xbfFROM alpine\r\nRUN echo \\\r\n  hi  \t\r\nCMD [\"caf\xc3\xa9\"]",
    ],
    ids=["lf", "crlf", "bom", "no-final-newline", "bom-crlf-no-final-newline"],
)  # an empty stdin is an error: see test_hostile.py
def test_stdin_unchanged_is_echoed_byte_exact(tmp_path, data):
    proc = run_dockfix(*NO_RULES, "-", cwd=tmp_path, input=data)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == data


def test_stdin_check_prints_nothing_on_stdout(tmp_path):
    proc = run_dockfix(*NO_RULES, "--check", "-", cwd=tmp_path, input=ROOT_DF.encode())
    assert (proc.returncode, proc.stdout) == (0, b"")


@pytest.mark.parametrize("extra", [(), ("--check",), ("--diff",), ("--quiet",)])
def test_stdin_parse_error_is_one_line(tmp_path, extra):
    proc = run_dockfix(*extra, "-", cwd=tmp_path, input=UNTERMINATED.encode())
    err = assert_one_line_error(proc)
    assert err == "dockfix: error: -: line 2: unterminated heredoc"
    assert proc.stdout == b""


def test_stdin_filename_names_it(tmp_path):
    proc = run_dockfix("--stdin-filename", "svc/Dockerfile", "-", cwd=tmp_path,
                       input=UNTERMINATED.encode())
    assert assert_one_line_error(proc) == (
        "dockfix: error: svc/Dockerfile: line 2: unterminated heredoc"
    )


def test_stdin_filename_alone_reads_stdin(tmp_path):
    proc = run_dockfix(*NO_RULES, "--stdin-filename", "Dockerfile", cwd=tmp_path,
                       input=ROOT_DF.encode())
    assert (proc.returncode, proc.stdout) == (0, ROOT_DF.encode())


def test_not_utf8_file(tmp_path):
    write(tmp_path / "Dockerfile", b"FROM alpine\nLABEL a=\xff\n")
    proc = run_dockfix("Dockerfile", cwd=tmp_path)
    assert assert_one_line_error(proc, "1 file failed") == (
        "dockfix: error: Dockerfile: line 2: not valid UTF-8 (byte 0xff)"
    )


def test_other_files_are_still_handled_after_bad_ones(project):
    write(project / "bin" / "Dockerfile", b"FROM alpine\nLABEL a=\xff\n")
    write(project / "heredoc.Dockerfile", UNTERMINATED)
    good = write(project / "good" / "Dockerfile", ROOT_DF)
    proc = run_dockfix(*NO_RULES, "--check", "missing/Dockerfile", "bin", "heredoc.Dockerfile",
                       "good", cwd=project)
    err = proc.stderr.decode()
    assert proc.returncode == 2
    assert "Traceback" not in err
    assert err.splitlines() == [
        "dockfix: error: missing/Dockerfile: No such file or directory",
        "dockfix: error: bin/Dockerfile: line 2: not valid UTF-8 (byte 0xff)",
        "dockfix: error: heredoc.Dockerfile: line 2: unterminated heredoc",
        "1 file left unchanged, 3 files failed",
    ]
    assert good.read_text() == ROOT_DF


def test_directory_discovery(project):
    """Every discovered file is made unparsable, so stderr lists what was found."""
    found = [
        "Containerfile", "Containerfile.dev", "Dockerfile", "Dockerfile.prod",
        "api.Dockerfile", "web.dockerfile", "deep/er/Dockerfile", "x/.github/Dockerfile",
    ]
    not_found = [
        "README.md", "dockerfile", "Dockerfile-old", "notes.Dockerfile.txt", "Dockerfiles/x",
        *(f"{d}/Dockerfile" for d in sorted(SKIP_DIRS)),
        "x/node_modules/pkg/Dockerfile",
    ]
    for name in found + not_found:
        write(project / name, UNTERMINATED)
    proc = run_dockfix(".", cwd=project)
    errors = [ln.split(":")[2].strip() for ln in proc.stderr.decode().splitlines()
              if ln.startswith("dockfix: error:")]
    assert sorted(errors) == sorted(found)
    # files first, then subdirectories, each in name order
    assert errors == [
        "Containerfile", "Containerfile.dev", "Dockerfile", "Dockerfile.prod", "api.Dockerfile",
        "web.dockerfile", "deep/er/Dockerfile", "x/.github/Dockerfile",
    ]


def test_given_paths_are_used_whatever_their_name(project):
    write(project / "node_modules" / "Dockerfile", UNTERMINATED)
    write(project / "weird-name", UNTERMINATED)
    proc = run_dockfix("node_modules", "weird-name", "node_modules/Dockerfile", cwd=project)
    assert proc.stderr.decode().splitlines() == [
        "dockfix: error: node_modules/Dockerfile: line 2: unterminated heredoc",
        "dockfix: error: weird-name: line 2: unterminated heredoc",
        "2 files failed",  # node_modules/Dockerfile: given twice, handled once
    ]


def test_empty_directory(project):
    (project / "empty").mkdir()
    proc = run_dockfix("empty", cwd=project)
    assert (proc.returncode, proc.stderr) == (0, b"No Dockerfiles found\n")


def test_quiet_prints_only_errors(project):
    write(project / "Dockerfile", ROOT_DF)
    write(project / "bad.Dockerfile", UNTERMINATED)
    proc = run_dockfix(*NO_RULES, "-q", ".", cwd=project)
    assert proc.returncode == 2
    assert proc.stderr.decode() == "dockfix: error: bad.Dockerfile: line 2: unterminated heredoc\n"


def test_invalid_config_subprocess(project):
    write(project / ".dockfix.toml", "uid = 'x'\n")
    write(project / "Dockerfile", ROOT_DF)
    proc = run_dockfix("Dockerfile", cwd=project)
    assert assert_one_line_error(proc, "1 file failed") == (
        "dockfix: error: .dockfix.toml: uid: expected an integer, got 'x'"
    )


# --- the real command with the fake rule -----------------------------------------


def test_check_exit_codes(project):
    write(project / "root" / "Dockerfile", ROOT_DF)
    write(project / "ok" / "Dockerfile", NONROOT_DF)
    write(project / "bad" / "Dockerfile", UNTERMINATED)
    assert run_dockfix("--check", "ok", cwd=project, boot=BOOT).returncode == 0
    proc = run_dockfix("--check", "ok", "root", cwd=project, boot=BOOT)
    assert (proc.returncode, proc.stdout) == (1, b"")
    assert proc.stderr.decode().splitlines() == [
        "Would fix root/Dockerfile (1 fix)",
        "1 file would be fixed, 1 file left unchanged",
    ]
    assert run_dockfix("--check", "root", "bad", cwd=project, boot=BOOT).returncode == 2
    assert run_dockfix("root", cwd=project, boot=BOOT).returncode == 0  # a diff is no finding
    assert (project / "root" / "Dockerfile").read_text() == ROOT_DF


@pytest.mark.skipif(not HAS_GIT, reason="git is not installed")
def test_diff_is_git_applyable_and_equals_write(project):
    files = {
        "lf/Dockerfile": ROOT_DF,
        "crlf/Dockerfile": ROOT_DF.replace("\n", "\r\n"),
        "nonl/Dockerfile": ROOT_DF.rstrip("\n"),
        "bom/Dockerfile": "\ufeff" + ROOT_DF,
        "ok/Dockerfile": NONROOT_DF,
    }
    for name, text in files.items():
        write(project / name, text)
    proc = run_dockfix("--check", "--diff", ".", cwd=project, boot=BOOT)
    assert proc.returncode == 1
    diff = proc.stdout
    assert diff.count(b"\n--- a/") + diff.startswith(b"--- a/") == 4
    assert b"\x1b[" not in diff and b"\t" not in diff
    (project / "fix.diff").write_bytes(diff)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    check = subprocess.run(["git", "apply", "--check", "fix.diff"], cwd=project,
                           capture_output=True)
    assert check.returncode == 0, check.stderr.decode()
    subprocess.run(["git", "apply", "fix.diff"], cwd=project, check=True)
    applied = {name: (project / name).read_bytes() for name in files}
    for name, text in files.items():
        write(project / name, text)
    proc = run_dockfix("--write", ".", cwd=project, boot=BOOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.decode().splitlines()[-1] == "4 files fixed, 1 file left unchanged"
    assert {name: (project / name).read_bytes() for name in files} == applied
    assert applied["crlf/Dockerfile"] == FIXED_DF.replace("\n", "\r\n").encode()
    assert applied["bom/Dockerfile"] == ("\ufeff" + FIXED_DF).encode()
    assert applied["nonl/Dockerfile"] == FIXED_DF.rstrip("\n").encode()


def test_stdin_with_a_change_subprocess(tmp_path):
    proc = run_dockfix("-", cwd=tmp_path, input=ROOT_DF.encode(), boot=BOOT)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, FIXED_DF.encode(), b"")
    proc = run_dockfix("--verbose", "-", cwd=tmp_path, input=ROOT_DF.encode(), boot=BOOT)
    assert (proc.returncode, proc.stdout) == (0, FIXED_DF.encode())
    assert proc.stderr.decode().splitlines() == ["Fixed - (1 fix)"]


def test_color(project):
    write(project / "Dockerfile", ROOT_DF)
    piped = run_dockfix("Dockerfile", cwd=project, boot=BOOT, env={"NO_COLOR": None})
    assert b"\x1b[" not in piped.stdout  # not a terminal
    forced = run_dockfix("--color", "Dockerfile", cwd=project, boot=BOOT, env={"NO_COLOR": "1"})
    assert b"\x1b[32m+USER 10001:10001\x1b[0m" in forced.stdout
    off = run_dockfix("--no-color", "Dockerfile", cwd=project, boot=BOOT)
    assert b"\x1b[" not in off.stdout and b"+USER 10001:10001" in off.stdout


def test_color_default_follows_tty_and_no_color(project):
    write(project / "Dockerfile", ROOT_DF)
    assert b"\x1b[32m" in run("Dockerfile", tty=True).out
    assert b"\x1b[" not in run("Dockerfile", tty=True, environ={"NO_COLOR": "1"}).out
    assert b"\x1b[" in run("Dockerfile", tty=True, environ={"NO_COLOR": ""}).out
    assert b"\x1b[" not in run("Dockerfile", tty=True, color=False).out
    assert b"\x1b[" in run("Dockerfile", color=True, environ={"NO_COLOR": "1"}).out


# --- in-process, with the fake rule ---------------------------------------------


def test_default_prints_diff_and_writes_nothing(project):
    path = write(project / "svc" / "Dockerfile", ROOT_DF)
    r = run("svc/Dockerfile")
    assert r.code == 0
    assert r.out.decode().splitlines()[:3] == [
        "--- a/svc/Dockerfile", "+++ b/svc/Dockerfile", "@@ -1,3 +1,4 @@"
    ]
    assert "+USER 10001:10001\n" in r.out.decode()
    assert r.err.splitlines() == ["Would fix svc/Dockerfile (1 fix)", "1 file would be fixed"]
    assert path.read_text() == ROOT_DF


def test_diff_path_is_as_given(project):
    write(project / "svc" / "Dockerfile", ROOT_DF)
    assert run("./svc/Dockerfile", diff=True).out.startswith(b"--- a/svc/Dockerfile\n")
    assert run("svc", diff=True).out.startswith(b"--- a/svc/Dockerfile\n")
    assert run("./svc/", diff=True).out.startswith(b"--- a/svc/Dockerfile\n")


def test_check_sets_exit_1_and_prints_no_diff(project):
    write(project / "Dockerfile", ROOT_DF)
    r = run("Dockerfile", check=True)
    assert (r.code, r.out) == (1, b"")
    assert r.err.splitlines() == ["Would fix Dockerfile (1 fix)", "1 file would be fixed"]
    r = run("Dockerfile", check=True, diff=True)
    assert r.code == 1 and r.out.startswith(b"--- a/Dockerfile\n+++ b/Dockerfile\n")


def test_write_is_atomic_and_keeps_mode_and_line_endings(project):
    path = write(project / "Dockerfile", "\ufeff" + ROOT_DF.replace("\n", "\r\n"))
    path.chmod(0o751)
    r = run("Dockerfile", write=True)
    assert (r.code, r.out) == (0, b"")
    assert r.err.splitlines() == ["Fixed Dockerfile (1 fix)", "1 file fixed"]
    assert path.read_bytes() == ("\ufeff" + FIXED_DF.replace("\n", "\r\n")).encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o751
    assert sorted(p.name for p in project.iterdir()) == [".git", "Dockerfile"]
    again = run("Dockerfile", write=True)
    assert again.err.splitlines() == ["1 file left unchanged"]


def test_write_follows_a_symlink(project):
    real = write(project / "real" / "Dockerfile", ROOT_DF)
    (project / "Dockerfile").symlink_to(real)
    assert run("Dockerfile", write=True).code == 0
    assert (project / "Dockerfile").is_symlink()
    assert real.read_text() == FIXED_DF


def test_write_refuses_a_file_changed_meanwhile(project, monkeypatch):
    import rewriter.core.engine

    path = write(project / "Dockerfile", ROOT_DF)
    real_fix_text = rewriter.core.engine.fix_text

    def racing_fix_text(*args, **kw):
        result = real_fix_text(*args, **kw)
        path.write_text(ROOT_DF + "# edited by someone else\n")
        return result

    monkeypatch.setattr("rewriter.core.engine.fix_text", racing_fix_text)
    r = run("Dockerfile", write=True)
    assert r.code == 2
    assert r.errors == [
        "dockfix: error: Dockerfile: changed on disk while dockfix was fixing it; not written"
    ]
    assert path.read_text() == ROOT_DF + "# edited by someone else\n"
    assert sorted(p.name for p in project.iterdir()) == [".git", "Dockerfile"]


def test_declines_are_reported(project):
    write(project / "db" / "Dockerfile", GOSU_DF)
    write(project / "app" / "Dockerfile", ROOT_DF)
    write(project / "ok" / "Dockerfile", NONROOT_DF)
    write(project / "app2" / "Dockerfile", ROOT_DF)
    r = run(".", check=True)
    assert r.code == 1
    assert r.err.splitlines() == [
        "Would fix app/Dockerfile (1 fix)",
        "Would fix app2/Dockerfile (1 fix)",
        "db/Dockerfile:2: declined (privilege-drop-entrypoint): "
        "the entrypoint drops privileges with gosu",
        "2 files would be fixed, 1 file left unchanged, 1 file declined",
    ]
    r = run("db", check=True)
    assert (r.code, r.err.splitlines()[-1]) == (0, "1 file declined")


def test_summary_with_write(project):
    write(project / "a" / "Dockerfile", ROOT_DF)
    write(project / "b" / "Dockerfile", ROOT_DF)
    write(project / "c" / "Dockerfile", NONROOT_DF)
    write(project / "d" / "Dockerfile", GOSU_DF)
    write(project / "e" / "Dockerfile", UNTERMINATED)
    r = run(".", write=True)
    assert r.code == 2
    assert r.err.splitlines()[-1] == "2 files fixed, 1 file left unchanged, 1 file declined, 1 file failed"


UNSAFE_RULE = '''
from rewriter.core.edits import Applicability, Edit, Fix
from rewriter.dockerfile.rules._types import Violation
CODE, NAME, PRIORITY = "DF998", "fake-low-port", 10

def check(ctx):
    for ins in ctx.df.instructions:
        if ins.cmd == "EXPOSE" and ins.args == "80":
            yield Violation(CODE, NAME, ins.args_span, "port 80 needs root to bind",
                            Fix("Use port 8080", (Edit(ins.args_span.start, ins.args_span.end,
                                                       "8080"),), Applicability.UNSAFE))
        if ins.cmd == "HEALTHCHECK":
            yield Violation(CODE, NAME, ins.span, "a display-only note",
                            Fix("Think about it", (Edit.insert(ins.span.start, "#"),),
                                Applicability.DISPLAY_ONLY))
'''


def test_remaining_violations_are_listed_ruff_style(project):
    rules = (FAKE, make_rule(UNSAFE_RULE))
    write(project / "Dockerfile", "FROM alpine\nEXPOSE 80\nHEALTHCHECK NONE\nCMD x\n")
    r = run("Dockerfile", rules=rules)
    assert r.err.splitlines() == [
        "Dockerfile:2:8: DF998 port 80 needs root to bind "
        "(unsafe fix, apply with --unsafe-fixes: Use port 8080)",
        "Dockerfile:3:1: DF998 a display-only note (suggestion: Think about it)",
        "Would fix Dockerfile (1 fix)",
        "1 file would be fixed",
    ]
    r = run("Dockerfile", rules=rules, overrides={"unsafe_fixes": True})
    assert "+EXPOSE 8080\n" in r.out.decode()
    assert r.err.splitlines()[-2:] == ["Would fix Dockerfile (2 fixes)", "1 file would be fixed"]


def test_remaining_positions_are_in_the_fixed_text(project):
    """The fake rule inserts a line above, so EXPOSE moves from line 2 to 3."""
    write(project / "Dockerfile", "FROM alpine\nEXPOSE 80\n")
    r = run("Dockerfile", rules=(FAKE, make_rule(UNSAFE_RULE)))
    assert r.err.splitlines()[0].startswith("Dockerfile:3:8: DF998 port 80")


BREAKING_RULE = '''
from rewriter.core.edits import Edit, Fix
from rewriter.dockerfile.rules._types import Violation
CODE, NAME, PRIORITY = "DF997", "fake-breaker", 0

def check(ctx):
    last = ctx.df.instructions[-1]
    yield Violation(CODE, NAME, last.span, "breaks the file",
                    Fix("Break it", (Edit.insert(len(ctx.df.text), "RUN <<EOF\\n"),)))
'''


def test_a_fix_the_engine_refuses_is_declined_not_an_error(project):
    path = write(project / "Dockerfile", ROOT_DF)
    r = run("Dockerfile", write=True, rules=(make_rule(BREAKING_RULE),))
    assert r.code == 0
    assert r.errors == []
    lines = r.err.splitlines()
    assert lines[0].startswith("Dockerfile: declined (fix-refused): a fix would make the file")
    assert lines[-1] == "1 file declined"
    assert path.read_text() == ROOT_DF


def test_internal_error_is_one_line_and_others_go_on(project):
    crash = make_rule('CODE, NAME, PRIORITY = "DF996", "crash", 0\n'
                      'def check(ctx):\n'
                      '    if "boom" in ctx.df.text:\n'
                      '        raise RuntimeError("boom")\n'
                      '    return iter(())\n')
    write(project / "a" / "Dockerfile", "FROM alpine\nLABEL x=boom\n")
    write(project / "b" / "Dockerfile", ROOT_DF)
    r = run(".", check=True, rules=(crash, FAKE))
    assert r.code == 2
    assert r.errors == ["dockfix: error: a/Dockerfile: internal error: RuntimeError: boom"]
    assert "Traceback" not in r.err
    assert r.err.splitlines()[-1] == "1 file would be fixed, 1 file failed"


def test_stdin_in_process(project):
    r = run("-", stdin=ROOT_DF.encode())
    assert (r.code, r.out) == (0, FIXED_DF.encode())
    r = run("-", stdin=ROOT_DF.encode(), write=True)  # --write with stdin: still stdout
    assert (r.code, r.out) == (0, FIXED_DF.encode())
    r = run("-", stdin=ROOT_DF.encode(), check=True)
    assert (r.code, r.out) == (1, b"")
    assert r.err.splitlines() == ["Would fix - (1 fix)"]
    r = run("-", stdin=ROOT_DF.encode(), diff=True, stdin_filename="svc/Dockerfile")
    assert r.code == 0
    assert r.out.decode().splitlines()[:2] == ["--- a/svc/Dockerfile", "+++ b/svc/Dockerfile"]
    r = run("-", stdin=GOSU_DF.encode())
    assert (r.code, r.out, r.err) == (0, GOSU_DF.encode(), "")  # a filter: nothing else
    r = run("-", stdin=GOSU_DF.encode(), verbose=True)
    assert (r.code, r.out) == (0, GOSU_DF.encode())
    assert r.err.splitlines()[0] == (
        "-:2: declined (privilege-drop-entrypoint): the entrypoint drops privileges with gosu"
    )


def test_stdin_filename_finds_the_config(project):
    write(project / "svc" / ".dockfix.toml", "uid = 4242\n")
    r = run("-", stdin=ROOT_DF.encode(), stdin_filename="svc/Dockerfile")
    assert b"USER 4242:10001" in r.out
    r = run("-", stdin=ROOT_DF.encode())
    assert b"USER 10001:10001" in r.out


def test_quiet_in_process(project):
    write(project / "Dockerfile", ROOT_DF)
    write(project / "db.Dockerfile", GOSU_DF)
    r = run(".", quiet=True, check=True, diff=True)
    assert r.code == 1 and r.err == "" and r.out.startswith(b"--- a/Dockerfile")


# --- module hygiene -------------------------------------------------------------


def _imports(module: str) -> set[str]:
    tree = ast.parse((REPO / "rewriter" / f"{module}.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("module", ["cli/runner", "report/summary", "report/diffing", "io/config"])
def test_only_cli_imports_typer(module):
    assert not _imports(module) & {"typer", "click", "jinja2", "libcst"}


def test_cli_does_not_import_heavy_things():
    assert not _imports("cli/main") & {"jinja2", "libcst"}


def test_runner_module_does_not_import_typer_when_loaded():
    code = "import sys, rewriter.cli.runner; print('typer' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_report_docstring_has_the_exit_code_table():
    from rewriter.report.summary import Report

    doc = Report.return_code.__doc__ or ""
    assert re.search(r"^\s*1\s+``--check`` only", doc, re.M)
    assert re.search(r"^\s*2\s+an error", doc, re.M)


def test_remaining_column_does_not_count_a_bom(project):
    write(project / "Dockerfile", "\ufeffEXPOSE 80\n")
    first = run("Dockerfile", rules=(make_rule(UNSAFE_RULE),)).err.splitlines()[0]
    assert first.startswith("Dockerfile:1:8: DF998 port 80")


#: runs the real command, then says on stderr which of the modules a run may
#: not need it imported
_LAZY = ("jinja2", "rewriter.python.language", "rewriter.python.workers")
_LOADED = ("import sys, atexit; atexit.register(lambda: sys.stderr.write("
           f"'LOADED=%s\\n' % [m for m in {_LAZY!r} if m in sys.modules])); "
           "from rewriter.cli.main import main; sys.exit(main())")


@pytest.mark.parametrize(("files", "args", "loaded"), [
    # nothing to fix: no template is rendered, no Python rule is read
    ({"Dockerfile": "FROM python:3.12-slim\nUSER 10001\nCMD [\"python\", \"app.py\"]\n"},
     ("--check", "Dockerfile"), []),
    # a user block: jinja2 renders it; still no Python rule
    ({"Dockerfile": "FROM python:3.12-slim\nCOPY app.py /app/\nCMD [\"python\", \"/app/app.py\"]\n",
      "app.py": "print('hi')\n"},
     ("Dockerfile",), ["jinja2"]),
    # a Celery configuration: the Python rules are loaded for it
    ({"celeryconfig.py": "task_serializer = 'pickle'\n"},
     ("celeryconfig.py",), ["rewriter.python.language", "rewriter.python.workers"]),
    # every rule is listed, the Python ones too
    ({}, ("rules",), ["rewriter.python.language", "rewriter.python.workers"]),
])
def test_a_run_imports_what_it_uses(tmp_path, files, args, loaded):
    for name, text in files.items():
        write(tmp_path / name, text)
    proc = run_dockfix(*args, cwd=tmp_path, boot=_LOADED)
    assert f"LOADED={loaded!r}" in proc.stderr.decode(), proc.stderr
    if args == ("rules",):
        assert b"DFC006" in proc.stdout and b"DFC001" in proc.stdout
    elif "--check" not in args:
        assert proc.returncode == 0, proc.stderr

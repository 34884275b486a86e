"""The machinery that makes dockfix safe, each part proven on its own.

A review planted faults in it one at a time; these tests are the ones that
catch each: the engine's refusal guards (each guard separately, with its own
reason), atomic writes observed from outside the process, declines that had
no test, DF001's choice of user and indentation, and SARIF identities.
Everything runs the real command (``python -m rewriter``); where a fake rule
is needed, a boot script installs it and then runs the real command.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import pytest
from conftest import run_dockfix

ROOT_DF = b'FROM python:3.12-slim\nRUN pip install app\nCMD ["app"]\n'

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root (CI runs as root)")


def boot_with_rule(insert: str, once: bool = True) -> str:
    """A boot script that runs the real command with one rule, which inserts
    ``insert`` before the last instruction (once, or on every pass when
    ``once`` is false)."""
    rule = f'''
from rewriter.core.edits import Edit, Fix
from rewriter.dockerfile.rules._types import Violation
CODE, NAME, PRIORITY = "DF999", "planted", 0
def check(ctx):
    ins = ctx.df.instructions
    if {once!r} and {insert!r} in ctx.df.text:
        return
    last = ins[-1]
    yield Violation(CODE, NAME, last.span, "planted finding",
                    Fix("insert", (Edit.insert(last.span.start, {insert!r}),)))
'''
    return f"""
import sys
from rewriter.cli.main import main
from rewriter.core.rules import Rule
ns = {{}}
exec({rule!r}, ns)
rule = Rule(ns["CODE"], ns["NAME"], "dockerfile", ns["PRIORITY"], None, "", ns["check"])
raise SystemExit(main(sys.argv[1:], rules=(rule,)))
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "Dockerfile").write_bytes(ROOT_DF)
    return tmp_path


# --- the engine's refusal guards, one by one ------------------------------------------------


@pytest.mark.parametrize("insert,once,why", [
    ("FROBNICATE now\n", True, "the fix produced an unknown instruction; nothing changed"),
    ("FROM scratch AS extra\n", True, "the fix changed the number of build stages; nothing changed"),
    ("USER\n", True, "the fix produced a USER without a user; nothing changed"),
    ("# again\n", False, "fixes did not settle after 10 passes (DF999)"),
], ids=["unknown-instruction", "stage-count", "empty-user", "no-fixed-point"])
def test_each_refusal_guard_refuses_with_its_own_reason(project, insert, once, why):
    boot = boot_with_rule(insert, once)
    proc = run_dockfix("--write", "Dockerfile", cwd=project, boot=boot)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr.decode().splitlines()[0] == (
        f"Dockerfile: declined (fix-refused): {why}")
    assert (project / "Dockerfile").read_bytes() == ROOT_DF
    # the document says the same, and that no fix was applied
    proc = run_dockfix("--output-format", "json", "Dockerfile", cwd=project, boot=boot)
    [f] = json.loads(proc.stdout)["files"]
    assert f["status"] == "declined"
    assert f["fixes_applied"] == 0
    assert [d["reason"] for d in f["declines"]] == ["fix-refused"]
    assert f["declines"][0]["message"] == why
    assert not any(x["applied"] for x in f["findings"])
    assert f["diff"] == ""


def test_refusal_guard_lets_a_good_fix_through(project):
    """The control: a fix that adds a real USER is applied, not refused."""
    boot = boot_with_rule("USER 10001:10001\n")
    proc = run_dockfix("--write", "Dockerfile", cwd=project, boot=boot)
    assert proc.returncode == 0, proc.stderr.decode()
    assert (project / "Dockerfile").read_bytes() == ROOT_DF.replace(
        b'CMD', b'USER 10001:10001\nCMD')


def test_refusal_guard_ignores_other_empty_instructions(project):
    """Only a USER without a user trips that guard: an empty HEALTHCHECK or
    WORKDIR the file already has does not stop the real rules' fix."""
    text = b'FROM python:3.12-slim\nHEALTHCHECK\nWORKDIR\nCMD ["app"]\n'
    proc = run_dockfix("-", cwd=project, input=text)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"USER 10001:10001\n" in proc.stdout


BOOT_DELETE_LAST_FROM = """
import sys
from rewriter.cli.main import main
from rewriter.core.edits import Edit, Fix
from rewriter.core.rules import Rule
from rewriter.dockerfile.rules._types import Violation
def check(ctx):
    froms = [i for i in ctx.df.instructions if i.cmd == "FROM"]
    if len(froms) > 1:
        f = froms[-1]
        yield Violation("DF999", "planted", f.span, "planted finding",
                        Fix("delete", (Edit(f.span.start, f.span.end, ""),)))
rule = Rule("DF999", "planted", "dockerfile", 0, None, "", check)
raise SystemExit(main(sys.argv[1:], rules=(rule,)))
"""


def test_refusal_guard_refuses_a_fix_that_removes_a_stage(project):
    text = b'FROM python:3.12-slim AS build\nRUN make\nFROM build\nCMD ["app"]\n'
    (project / "Dockerfile").write_bytes(text)
    proc = run_dockfix("--write", "Dockerfile", cwd=project, boot=BOOT_DELETE_LAST_FROM)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr.decode().splitlines()[0] == (
        "Dockerfile: declined (fix-refused): the fix changed the number of build stages; "
        "nothing changed")
    assert (project / "Dockerfile").read_bytes() == text


def test_refusal_guard_lets_a_fix_remove_an_unknown_instruction():
    """Only a fix that adds an instruction BuildKit does not know is refused
    (the engine, as a library, may be given such a file)."""
    from rewriter.core.edits import Edit, Fix
    from rewriter.core.engine import fix_text
    from rewriter.core.rules import Rule
    from rewriter.dockerfile.rules._types import Violation

    def check(ctx):
        for i in ctx.df.instructions:
            if i.cmd == "FROBNICATE":
                yield Violation("DF999", "planted", i.span, "planted finding",
                                Fix("delete", (Edit(i.span.start, i.span.end, ""),)))

    rule = Rule("DF999", "planted", "dockerfile", 0, None, "", check)
    result = fix_text("FROM alpine\nFROBNICATE now\nRUN x\n", rules=(rule,))
    assert result.error is None
    assert result.fixed == "FROM alpine\nRUN x\n"


# --- atomic writes, observed from outside ----------------------------------------------------


def _big_root_dockerfile() -> bytes:
    """About 6 MiB: long enough to take a while to write, fixed by DF001."""
    return (b"FROM python:3.12-slim\n" + b"RUN echo " + b"x" * 60 + b"\n" * 1
            + b"".join(b"# %06d padding padding padding padding padding padding padding\n" % i
                       for i in range(90_000))
            + b'CMD ["app"]\n')


def test_a_reader_never_sees_a_partial_file_and_the_inode_changes(tmp_path):
    (tmp_path / ".git").mkdir()
    df = tmp_path / "Dockerfile"
    old = _big_root_dockerfile()
    df.write_bytes(old)
    ino = df.stat().st_ino
    seen: dict[bytes, int] = {}
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            with open(df, "rb") as f:
                data = f.read()
            digest = hashlib.sha256(data).digest()
            seen[digest] = len(data)

    t = threading.Thread(target=reader)
    t.start()
    try:
        proc = run_dockfix("--write", "Dockerfile", cwd=tmp_path)
    finally:
        stop.set()
        t.join()
    assert proc.returncode == 0, proc.stderr.decode()
    new = df.read_bytes()
    assert new != old and b"USER 10001:10001" in new
    allowed = {hashlib.sha256(old).digest(), hashlib.sha256(new).digest()}
    assert set(seen) <= allowed, f"a reader saw {len(set(seen) - allowed)} partial file(s)"
    assert df.stat().st_ino != ino  # replaced by a new file, not rewritten in place


BOOT_CRASH_BEFORE_RENAME = """
import os, signal, sys
def replace(*args, **kw):  # the machine dies between writing and renaming
    os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
from rewriter.cli.main import main
raise SystemExit(main(sys.argv[1:]))
"""


def test_a_crash_between_write_and_rename_leaves_the_old_bytes(project):
    proc = run_dockfix("--write", "Dockerfile", cwd=project, boot=BOOT_CRASH_BEFORE_RENAME)
    assert proc.returncode == -9
    assert (project / "Dockerfile").read_bytes() == ROOT_DF


BOOT_SAME_SIZE_EDIT = """
import os, sys
import rewriter.cli.runner as runner
fix = runner._fix
def _fix(data, name, path, *rest):
    result = fix(data, name, path, *rest)
    if path == "Dockerfile":  # saved meanwhile: same size, same time, other bytes
        st = os.stat(path)
        with open(path, "r+b") as f:
            f.write(b"FROM python:3.13-slim")
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    return result
runner._fix = _fix
from rewriter.cli.main import main
raise SystemExit(main(sys.argv[1:]))
"""


def test_a_same_size_same_time_edit_meanwhile_is_not_overwritten(project):
    proc = run_dockfix("--write", "Dockerfile", cwd=project, boot=BOOT_SAME_SIZE_EDIT)
    assert proc.returncode == 2
    assert proc.stderr.decode().splitlines()[0] == (
        "dockfix: error: Dockerfile: changed on disk while dockfix was fixing it; not written")
    assert (project / "Dockerfile").read_bytes() == ROOT_DF.replace(b"3.12", b"3.13")


@needs_root
def test_owner_and_mode_are_kept(project):
    df = project / "Dockerfile"
    os.chown(df, 1234, 5678)
    df.chmod(0o640)
    proc = run_dockfix("--write", "Dockerfile", cwd=project)
    assert proc.returncode == 0, proc.stderr.decode()
    st = df.stat()
    assert b"USER" in df.read_bytes()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (1234, 5678, 0o640)


# --- declines that had no test ----------------------------------------------------------------


def _declines(project: Path, text: bytes, *args: str) -> list[tuple[str, str]]:
    (project / "Dockerfile").write_bytes(text)
    proc = run_dockfix("--output-format", "json", *args, "Dockerfile", cwd=project)
    assert proc.returncode == 0, proc.stderr.decode()
    [f] = json.loads(proc.stdout)["files"]
    assert f["diff"] == "" and f["status"] == "declined", f
    return [(d["reason"], d["message"]) for d in f["declines"]]


def test_unknown_target_is_declined(project):
    assert _declines(project, b"FROM alpine AS a\nRUN x\n", "--target", "nosuch") == [
        ("unknown-target", "no stage named `nosuch`")]


def test_s6_overlay_init_is_declined(project):
    [(reason, message)] = _declines(project, b'FROM alpine\nRUN x\nENTRYPOINT ["/init"]\n')
    assert reason == "privilege-drop-entrypoint"
    assert message.startswith("the entrypoint is s6-overlay's /init, which manages users itself")


def test_bare_cr_file_is_declined(project):
    [(reason, message)] = _declines(project, b"FROM debian\rRUN apt-get update\rCMD x\r")
    assert (reason, message) == (
        "cr-line-endings", "the file uses bare CR line endings, which BuildKit reads as one line")


def test_image_privilege_drop_declines_unless_the_entrypoint_is_replaced(project):
    [(reason, message)] = _declines(project, b'FROM postgres:16\nCMD ["postgres"]\n')
    assert reason == "privilege-drop-entrypoint"
    assert message.startswith("the entrypoint of `postgres:16` starts as root and drops")
    # a file that replaces the image's ENTRYPOINT no longer has its privilege drop
    (project / "Dockerfile").write_bytes(b'FROM postgres:16\nENTRYPOINT ["myapp"]\n')
    proc = run_dockfix("Dockerfile", cwd=project)
    assert proc.returncode == 0
    assert b"+USER " in proc.stdout


# --- DF001's user and layout ------------------------------------------------------------------


def test_df001_reuses_the_last_user_the_file_creates(project):
    (project / "Dockerfile").write_bytes(
        b'FROM debian\nRUN useradd -u 1001 alice\nRUN useradd -u 1002 bob\nCMD ["x"]\n')
    proc = run_dockfix("-", cwd=project, input=(project / "Dockerfile").read_bytes())
    assert proc.stdout == (
        b'FROM debian\nRUN useradd -u 1001 alice\nRUN useradd -u 1002 bob\nUSER 1002\nCMD ["x"]\n')


def test_df001_block_keeps_the_files_indentation(project):
    text = b'FROM python:3.12-slim\n    RUN pip install app\n    CMD ["app"]\n'
    proc = run_dockfix("-", cwd=project, input=text)
    lines = proc.stdout.decode().splitlines()
    added = [ln for ln in lines if ln not in text.decode().splitlines()]
    assert added and all(ln.startswith("    ") for ln in added), lines
    assert "    USER 10001:10001" in lines


# --- SARIF identities -------------------------------------------------------------------------


def _sarif(project: Path, *paths: str) -> list[dict]:
    proc = run_dockfix("--output-format", "sarif", *paths, cwd=project)
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout)["runs"][0]["results"]


def test_sarif_fingerprints_tell_identical_findings_apart_and_survive_moves(project):
    (project / "Dockerfile").write_bytes(
        b"FROM debian\nRUN sudo apt-get update\nRUN sudo apt-get update\nUSER 1000\n")
    results = _sarif(project, "Dockerfile")
    prints = [r["partialFingerprints"]["dockfix/v1"] for r in results]
    assert len(results) == 2 and len(set(prints)) == 2
    (project / "Dockerfile").write_bytes(
        b"FROM debian\n# a comment above\nRUN sudo apt-get update\nRUN sudo apt-get update\n"
        b"USER 1000\n")
    assert [r["partialFingerprints"]["dockfix/v1"] for r in _sarif(project, "Dockerfile")] == prints


def test_sarif_absolute_paths_are_percent_encoded_file_uris(project):
    d = project / "my dir#1"
    d.mkdir()
    (d / "Dockerfile").write_bytes(ROOT_DF)
    [result] = _sarif(project, str(d / "Dockerfile"))
    loc = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert loc == {"uri": "file://" + str(project).replace(" ", "%20") + "/my%20dir%231/Dockerfile"}
    [result] = _sarif(project, "my dir#1/Dockerfile")
    loc = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert loc == {"uri": "my%20dir%231/Dockerfile", "uriBaseId": "%SRCROOT%"}

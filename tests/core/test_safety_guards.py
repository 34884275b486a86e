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
            f.write(os.environ["EDIT"].encode())
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    return result
runner._fix = _fix
from rewriter.cli.main import main
raise SystemExit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("edit", ["FROM python:3.13-slim", "FROM python:3.11-slim"])
def test_a_same_size_same_time_edit_meanwhile_is_not_overwritten(project, edit):
    proc = run_dockfix("--write", "Dockerfile", cwd=project, boot=BOOT_SAME_SIZE_EDIT,
                       env={"EDIT": edit})
    assert proc.returncode == 2
    assert proc.stderr.decode().splitlines()[0] == (
        "dockfix: error: Dockerfile: changed on disk while dockfix was fixing it; not written")
    assert (project / "Dockerfile").read_bytes() == ROOT_DF.replace(b"FROM python:3.12-slim",
                                                                  edit.encode())


BOOT_REPLACED_MEANWHILE = """
import os, sys
import rewriter.cli.runner as runner
fix = runner._fix
def _fix(data, name, path, *rest):
    result = fix(data, name, path, *rest)
    if path == "Dockerfile":
        st = os.stat(path)
        if os.path.exists("spare"):  # another file, same bytes and time, put in its place
            os.utime("spare", ns=(st.st_atime_ns, st.st_mtime_ns))
            os.rename("spare", path)
        else:  # deleted meanwhile
            os.unlink(path)
    return result
runner._fix = _fix
from rewriter.cli.main import main
raise SystemExit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("spare_first", [True, False])
def test_written_replaced_meanwhile_by_a_same_looking_file_is_refused(tmp_path, spare_first):
    """Same bytes, same size, same time, but another file (made before or
    after it, so its inode number is lower or higher): not the file that was read."""
    (tmp_path / ".git").mkdir()
    first, second = ("spare", "Dockerfile") if spare_first else ("Dockerfile", "spare")
    (tmp_path / first).write_bytes(ROOT_DF)
    (tmp_path / second).write_bytes(ROOT_DF)
    spare = (tmp_path / "spare").stat().st_ino
    proc = run_dockfix("--write", "Dockerfile", cwd=tmp_path, boot=BOOT_REPLACED_MEANWHILE)
    assert proc.returncode == 2
    assert proc.stderr.decode().splitlines()[0] == (
        "dockfix: error: Dockerfile: changed on disk while dockfix was fixing it; not written")
    assert (tmp_path / "Dockerfile").stat().st_ino == spare
    assert (tmp_path / "Dockerfile").read_bytes() == ROOT_DF


def test_written_deleted_meanwhile_is_not_made_again(project):
    proc = run_dockfix("--write", "Dockerfile", cwd=project, boot=BOOT_REPLACED_MEANWHILE)
    assert proc.returncode == 2
    assert "changed on disk" in proc.stderr.decode().splitlines()[0]
    assert not (project / "Dockerfile").exists()
    assert not list(project.glob("*.dockfix"))


@pytest.mark.parametrize("name", ["+svc", "-svc", " svc", "svc"])
def test_written_in_subdirectories_of_any_name(project, name):
    d = project / name
    d.mkdir()
    (d / "Dockerfile").write_bytes(ROOT_DF)
    proc = run_dockfix("--write", ".", cwd=project)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"USER 10001:10001" in (d / "Dockerfile").read_bytes()


#: At the last moment (as the directory is opened for the write), a swap:
#: ``dir``: b's directory moved out of the tree and a link left in its place
#: (the file is the very one that was read); ``file``: the file moved out and
#: a link left in its place; ``fifo``: a FIFO put in its place.
BOOT_SWAP_AT_WRITE = """
import os, sys
import rewriter.io.files as files
how = os.environ["SWAP"]
opendir = files._open_directory
def _open_directory(directory, root):
    if directory.endswith("/tree/b"):
        if how == "dir":
            os.rename("tree/b", "outside/b")
            os.symlink("../outside/b", "tree/b")
        elif how == "file":
            os.rename("tree/b/Dockerfile", "outside/Dockerfile")
            os.symlink("../../outside/Dockerfile", "tree/b/Dockerfile")
        else:
            os.unlink("tree/b/Dockerfile")
            os.mkfifo("tree/b/Dockerfile")
    return opendir(directory, root)
files._open_directory = _open_directory
from rewriter.cli.main import main
raise SystemExit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("how", ["dir", "file", "fifo"])
def test_written_never_through_a_swap_at_the_last_moment(tmp_path, how):
    (tmp_path / "tree" / ".git").mkdir(parents=True)
    (tmp_path / "tree" / "b").mkdir()
    (tmp_path / "tree" / "b" / "Dockerfile").write_bytes(ROOT_DF)
    (tmp_path / "outside").mkdir()
    proc = run_dockfix("--write", "tree", cwd=tmp_path, boot=BOOT_SWAP_AT_WRITE,
                       env={"SWAP": how})
    assert proc.returncode == 2, proc.stderr.decode()
    assert proc.stderr.decode().splitlines()[0] == (
        "dockfix: error: tree/b/Dockerfile: changed on disk while dockfix was fixing it; "
        "not written")
    moved = tmp_path / "outside" / ("b/Dockerfile" if how == "dir" else "Dockerfile")
    if how != "fifo":
        assert moved.read_bytes() == ROOT_DF  # outside the tree: never written
    if how == "file":
        assert (tmp_path / "tree" / "b" / "Dockerfile").is_symlink()  # left as it was


@needs_root
@pytest.mark.parametrize("mode", [0o464, 0o446, 0o644, 0o444])
def test_written_with_any_mode_by_root(project, mode):
    """Whether a file may be written is the kernel's answer: root may write
    it whatever its write bits, and its mode is kept."""
    df = project / "Dockerfile"
    df.chmod(mode)
    proc = run_dockfix("--write", "Dockerfile", cwd=project)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"USER" in df.read_bytes() and df.stat().st_mode & 0o777 == mode


def test_write_atomic_as_a_library(tmp_path):
    """The functions other front ends call: read, then write with or without a root."""
    from rewriter.io.files import FileError, read_file, write_atomic

    df = tmp_path / "d" / "Dockerfile"
    df.parent.mkdir()
    df.write_bytes(b"old\n")
    data, before = read_file(str(df))
    write_atomic(str(df), b"new\n", before, data)  # no root: its own directory
    assert df.read_bytes() == b"new\n"
    data, before = read_file(str(df))
    write_atomic(str(df), b"newer\n", before, data, str(tmp_path))
    assert df.read_bytes() == b"newer\n"
    with pytest.raises(FileError, match="outside the tree"):
        write_atomic(str(df), b"x\n", *reversed(read_file(str(df))), str(tmp_path / "elsewhere"))
    assert df.read_bytes() == b"newer\n"


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


def test_sarif_notifications_say_what_failed_and_what_was_declined(project):
    (project / "Dockerfile").write_bytes(ROOT_DF)  # fixed: a result, no notification
    (project / "bad.Dockerfile").write_bytes(b"FROM alpine\n\0")  # an error
    (project / "pg.Dockerfile").write_bytes(b'FROM postgres:16\nCMD ["postgres"]\n')  # declined
    (project / "ok.Dockerfile").write_bytes(b"FROM alpine\nUSER 1000\n")  # nothing at all
    proc = run_dockfix("--output-format", "sarif", ".", cwd=project)
    assert proc.returncode == 2
    [inv] = json.loads(proc.stdout)["runs"][0]["invocations"]
    assert inv["executionSuccessful"] is False
    notes = [(n["level"], n["locations"][0]["physicalLocation"], n["message"]["text"],
              n.get("descriptor")) for n in inv["toolExecutionNotifications"]]
    assert notes == [
        ("error", {"artifactLocation": {"uri": "bad.Dockerfile", "uriBaseId": "%SRCROOT%"}},
         "bad.Dockerfile: line 2: a NUL byte: a binary file, not a Dockerfile", None),
        ("note", {"artifactLocation": {"uri": "pg.Dockerfile", "uriBaseId": "%SRCROOT%"},
                  "region": {"startLine": 1}},
         notes[1][2], {"id": "privilege-drop-entrypoint"}),
    ]
    assert notes[1][2].startswith("declined (privilege-drop-entrypoint): the entrypoint of")
    # without the error: a successful execution, and the note has no region without a line
    (project / "bad.Dockerfile").unlink()
    proc = run_dockfix("--output-format", "sarif", "--target", "nosuch", "pg.Dockerfile",
                       "Dockerfile", cwd=project)
    [inv] = json.loads(proc.stdout)["runs"][0]["invocations"]
    assert inv["executionSuccessful"] is True
    assert [n["locations"][0]["physicalLocation"] for n in inv["toolExecutionNotifications"]] == [
        {"artifactLocation": {"uri": "pg.Dockerfile", "uriBaseId": "%SRCROOT%"}},
        {"artifactLocation": {"uri": "Dockerfile", "uriBaseId": "%SRCROOT%"}}]


def test_sarif_execution_is_successful_without_errors_only(project):
    (project / "Dockerfile").write_bytes(ROOT_DF)  # would be fixed
    (project / "ok.Dockerfile").write_bytes(b"FROM alpine\nUSER 1000\n")  # unchanged
    proc = run_dockfix("--output-format", "sarif", ".", cwd=project)
    assert proc.returncode == 0
    [inv] = json.loads(proc.stdout)["runs"][0]["invocations"]
    assert inv["executionSuccessful"] is True and inv["toolExecutionNotifications"] == []


def test_sarif_of_a_parallel_run_still_reports_the_error(project):
    """Outcomes from worker processes come back unpickled: the error is found
    by its value, not by identity."""
    for i in range(30):
        (project / f"s{i:02}.Dockerfile").write_bytes(ROOT_DF)
    (project / "bad.Dockerfile").write_bytes(b"FROM alpine\n\0")
    proc = run_dockfix("--output-format", "sarif", "--jobs", "2", ".", cwd=project)
    assert proc.returncode == 2
    [inv] = json.loads(proc.stdout)["runs"][0]["invocations"]
    assert inv["executionSuccessful"] is False
    assert [n["level"] for n in inv["toolExecutionNotifications"]] == ["error"]

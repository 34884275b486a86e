"""Hostile and broken input, through the real command.

Every case checks the same promise: the bad file is untouched, dockfix says
what is wrong in one ``dockfix: error: PATH: ...`` line, exits 2, prints no
traceback, and still fixes the other file of the run (``good/Dockerfile``,
which the real rules change).
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, run_dockfix

ROOT_DF = b'FROM python:3.12-slim\nRUN pip install app\nCMD ["app"]\n'
NONROOT_DF = b'FROM python:3.12-slim\nUSER 10001:10001\nCMD ["app"]\n'


@pytest.fixture(scope="module")
def fixed_df(tmp_path_factory) -> bytes:
    """What the real rules make of ``ROOT_DF``."""
    proc = run_dockfix("-", cwd=tmp_path_factory.mktemp("fixed"), input=ROOT_DF)
    assert proc.returncode == 0 and proc.stdout != ROOT_DF, proc.stderr
    return proc.stdout


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # no configuration above it is found
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "Dockerfile").write_bytes(ROOT_DF)
    return tmp_path


def errors(proc: subprocess.CompletedProcess[bytes]) -> list[str]:
    return [ln for ln in proc.stderr.decode().splitlines() if ln.startswith("dockfix: error:")]


def assert_refused(proc: subprocess.CompletedProcess[bytes], name: str, *needles: str) -> str:
    """Exit 2, exactly one error line, naming ``name`` and saying ``needles``."""
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode == 2, err
    assert "Traceback" not in err, err
    [line] = errors(proc)
    assert line.startswith(f"dockfix: error: {name}: "), line
    for needle in needles:
        assert needle in line, line
    return line


def assert_good_fixed(project: Path, fixed: bytes) -> None:
    assert (project / "good" / "Dockerfile").read_bytes() == fixed


def no_temp_files(root: Path) -> bool:
    return not [p for p in root.rglob("*.dockfix")]


def write_run(project: Path, *paths: str, **kw) -> subprocess.CompletedProcess[bytes]:
    return run_dockfix("--write", *paths, "good/Dockerfile", cwd=project, **kw)


# --- what the file holds ---------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary file", id="binary"),
        pytest.param(b"FROM alpine\nRUN echo \x00\n", "line 2: a NUL byte", id="nul-byte"),
        pytest.param(b"FROM alpine\nLABEL x=caf\xe9\n", "line 2: not valid UTF-8 (byte 0xe9)",
                     id="latin-1"),
        pytest.param(b"FROM alpine\nLABEL x=\xff\xfe\n", "not valid UTF-8", id="invalid-utf8"),
        pytest.param("FROM alpine\n".encode("utf-16"), "encoded as UTF-16", id="utf-16-bom"),
        pytest.param("FROM alpine\n".encode("utf-32"), "encoded as UTF-32", id="utf-32-bom"),
        pytest.param(b"", "file with no instructions", id="empty"),
        pytest.param(b"\n\n  \n", "file with no instructions", id="blank-lines"),
        pytest.param(b"# syntax=docker/dockerfile:1\n# only a comment\n",
                     "file with no instructions", id="only-comments"),
        pytest.param(b"FROM alpine\nRUN <<EOF\necho hi\n", "line 2: unterminated heredoc",
                     id="unterminated-heredoc"),
        pytest.param(b"FROM alpine\nENV ONLYNAME\n", "line 2: ENV must have two arguments",
                     id="parse-error"),
    ],
)
def test_bad_content(project, fixed_df, data, needle):
    bad = project / "bad" / "Dockerfile"
    bad.parent.mkdir()
    bad.write_bytes(data)
    proc = write_run(project, "bad/Dockerfile")
    assert_refused(proc, "bad/Dockerfile", needle)
    assert bad.read_bytes() == data
    assert_good_fixed(project, fixed_df)


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        pytest.param(b"", "file with no instructions", id="empty"),
        pytest.param(b"# nothing here\n", "file with no instructions", id="only-comments"),
        pytest.param(b"\xff\xfeF\x00", "encoded as UTF-16", id="utf-16"),
    ],
)
def test_bad_content_on_stdin(tmp_path, data, needle):
    proc = run_dockfix("-", cwd=tmp_path, input=data)
    assert_refused(proc, "-", needle)
    assert proc.stdout == b""  # an editor keeps its buffer


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"FROM alpine\nCMD [\"app\"]\nRUN apk add curl \\\n", id="continuation-at-eof"),
        pytest.param(b"FROM alpine\nCMD [\"app\"]\nRUN apk add \\\n    curl \\\n# the rest is gone\n",
                     id="continuation-then-comment-at-eof"),
        pytest.param(b"FROM alpine\nCMD [\"app\"]\nRUN x \\", id="continuation-no-newline"),
    ],
)
def test_a_last_line_that_continues_is_read_and_left_alone(project, fixed_df, data):
    """BuildKit reads such a file (its own test files have them), so dockfix reads it
    too; it changes nothing, since a line added after it would join the instruction."""
    path = project / "cont" / "Dockerfile"
    path.parent.mkdir()
    path.write_bytes(data)
    proc = write_run(project, "cont/Dockerfile")
    assert proc.returncode == 0, proc.stderr
    assert b"declined (fix-refused)" in proc.stderr
    assert b"ends in a continuation" in proc.stderr
    assert path.read_bytes() == data
    assert_good_fixed(project, fixed_df)
    stdin = run_dockfix("-", cwd=project, input=data)
    assert stdin.returncode == 0 and stdin.stdout == data


def test_utf8_bom_is_accepted_and_kept(project, fixed_df):
    path = project / "Dockerfile"
    path.write_bytes(b"\xef\xbb\xbf" + ROOT_DF)
    proc = run_dockfix("--write", "Dockerfile", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert path.read_bytes() == b"\xef\xbb\xbf" + fixed_df


def test_file_over_the_size_limit(project, fixed_df):
    from rewriter.io.files import MAX_SIZE

    big = project / "big" / "Dockerfile"
    big.parent.mkdir()
    with open(big, "wb") as f:  # 100 MB, sparse: nothing is really written
        f.write(b"FROM alpine\n")
        f.truncate(100 * 1000 * 1000)
    assert MAX_SIZE < big.stat().st_size
    proc = write_run(project, "big/Dockerfile")
    assert_refused(proc, "big/Dockerfile", "100,000,000 bytes", "10 MiB", "not read")
    assert big.stat().st_size == 100 * 1000 * 1000
    assert_good_fixed(project, fixed_df)


def test_stdin_over_the_size_limit(tmp_path):
    from rewriter.io.files import MAX_SIZE

    data = b"FROM alpine\n" + b"# padding padding padding\n" * (MAX_SIZE // 26 + 1)
    proc = run_dockfix("-", cwd=tmp_path, input=data)
    assert_refused(proc, "-", "10 MiB")
    assert proc.stdout == b""


def test_variable_expansion_bomb(project, fixed_df):
    """``ENV A=$A$A`` sixty times: a value of 2**60 characters, if expanded."""
    lines = ["FROM alpine:3.19", "ENV A=xxxxxxxx", *["ENV A=$A$A"] * 60,
             "ENV B=" + "$A" * 5000, "USER $B", "RUN echo $A"]
    bomb = project / "bomb" / "Dockerfile"
    bomb.parent.mkdir()
    bomb.write_text("\n".join(lines) + "\n")
    started = time.monotonic()
    proc = write_run(project, "bomb/Dockerfile")
    assert time.monotonic() - started < 30
    assert proc.returncode == 0, proc.stderr
    assert b"Traceback" not in proc.stderr and b"internal error" not in proc.stderr
    assert_good_fixed(project, fixed_df)


def test_deep_nesting_does_not_exhaust_the_stack(project, fixed_df):
    deep = project / "deep" / "Dockerfile"
    deep.parent.mkdir()
    stages = "".join(f"FROM s{i} AS s{i + 1}\nRUN make\n" for i in range(3000))
    deep.write_text("FROM ${UNSET} AS s0\n" + stages + "ONBUILD " * 3000 + "RUN true\n"
                    + "RUN sh -c " * 2000 + "true\n" + 'LABEL x="' + "[" * 5000 + '"\n')
    proc = write_run(project, "deep/Dockerfile")
    assert b"Traceback" not in proc.stderr and b"internal error" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr
    assert_good_fixed(project, fixed_df)


# --- what the path is ------------------------------------------------------------


def test_directory_named_like_a_dockerfile(project, fixed_df):
    (project / "svc" / "Dockerfile").mkdir(parents=True)
    (project / "svc" / "Dockerfile" / "Dockerfile").write_bytes(NONROOT_DF)
    proc = write_run(project, "svc/Dockerfile")
    assert_refused(proc, "svc/Dockerfile", "is a directory, not a Dockerfile")
    assert (project / "svc" / "Dockerfile" / "Dockerfile").read_bytes() == NONROOT_DF
    assert_good_fixed(project, fixed_df)
    # with a trailing slash it is searched, like any directory
    proc = run_dockfix("--check", "svc/Dockerfile/", cwd=project)
    assert proc.returncode == 0, proc.stderr


def test_missing_file(project, fixed_df):
    proc = write_run(project, "nowhere/Dockerfile")
    assert_refused(proc, "nowhere/Dockerfile", "No such file or directory")
    assert_good_fixed(project, fixed_df)


def test_dangling_symlink(project, fixed_df):
    (project / "Dockerfile").symlink_to("gone.Dockerfile")
    proc = write_run(project, "Dockerfile")
    assert_refused(proc, "Dockerfile", "No such file or directory")
    assert (project / "Dockerfile").is_symlink()
    assert_good_fixed(project, fixed_df)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_does_not_block(project, fixed_df):
    os.mkfifo(project / "Dockerfile")
    started = time.monotonic()
    proc = write_run(project, "Dockerfile")  # run_dockfix times out after 120 s
    assert time.monotonic() - started < 60
    assert_refused(proc, "Dockerfile", "named pipe (FIFO)")
    assert stat.S_ISFIFO(os.lstat(project / "Dockerfile").st_mode)
    assert_good_fixed(project, fixed_df)


def test_device_file(project, fixed_df):
    proc = write_run(project, "/dev/null")
    assert_refused(proc, "/dev/null", "character device")
    assert_good_fixed(project, fixed_df)


# --- symbolic links --------------------------------------------------------------


def test_symlink_inside_the_tree_is_written_through(project, fixed_df):
    (project / "real").mkdir()
    target = project / "real" / "Dockerfile"
    target.write_bytes(ROOT_DF)
    link = project / "svc" / "Dockerfile"
    link.parent.mkdir()
    link.symlink_to("../real/Dockerfile")
    proc = run_dockfix("--write", ".", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and os.readlink(link) == "../real/Dockerfile"
    assert target.read_bytes() == fixed_df
    assert proc.stderr.decode().count("Fixed real/Dockerfile") == 1  # once, by its own name
    assert "svc/Dockerfile" not in proc.stderr.decode()
    assert no_temp_files(project)


def test_symlink_out_of_the_tree_is_not_written(project, fixed_df, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "Dockerfile"
    outside.write_bytes(ROOT_DF)
    link = project / "svc" / "Dockerfile"
    link.parent.mkdir()
    link.symlink_to(outside)
    proc = run_dockfix("--write", ".", cwd=project)
    assert_refused(proc, "svc/Dockerfile", "symbolic link", str(outside), "not written")
    assert link.is_symlink() and os.readlink(link) == str(outside)
    assert outside.read_bytes() == ROOT_DF
    assert_good_fixed(project, fixed_df)
    # a named file's tree is its directory: the same link given by name is refused too
    proc = run_dockfix("--write", "svc/Dockerfile", cwd=project)
    assert_refused(proc, "svc/Dockerfile", "outside the tree")
    # reading through it is harmless: --check follows it
    assert run_dockfix("--check", "svc/Dockerfile", cwd=project).returncode == 1


def test_hard_linked_file_is_not_written(project, fixed_df):
    (project / "a").mkdir()
    os.link(project / "good" / "Dockerfile", project / "a" / "Dockerfile")
    (project / "b").mkdir()
    (project / "b" / "Dockerfile").write_bytes(ROOT_DF)
    proc = run_dockfix("--write", "a/Dockerfile", "b/Dockerfile", cwd=project)
    assert_refused(proc, "a/Dockerfile", "2 hard links", "not written")
    assert (project / "a" / "Dockerfile").read_bytes() == ROOT_DF
    assert (project / "b" / "Dockerfile").read_bytes() == fixed_df


# --- permissions (as an unprivileged user: root may read and write anything) -------


def _unprivileged() -> list[str] | None:
    """A command prefix running a Python that can import ``rewriter`` as a user
    without root's privileges, or None where there is none."""
    if os.geteuid() != 0:
        return [sys.executable]
    drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    if shutil.which("setpriv") is None:
        return None
    # the test's own interpreter may live where that user cannot go (/root/...)
    for python in dict.fromkeys([sys.executable, shutil.which("python3") or ""]):
        if not python:
            continue
        probe = subprocess.run(
            [*drop, python, "-c", "import os, sys, rewriter.cli.runner; sys.exit(os.geteuid() == 0)"],
            capture_output=True, env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=60,
        )
        if probe.returncode == 0:
            return [*drop, python]
    return None


UNPRIVILEGED = _unprivileged()
needs_unprivileged = pytest.mark.skipif(
    UNPRIVILEGED is None, reason="no way to run as a user whom file permissions bind")


@pytest.fixture
def shared_project() -> Iterator[Path]:
    """A project that an unprivileged user can enter (pytest's tmp_path is 0700)."""
    top = Path(tempfile.mkdtemp(prefix="dockfix-perm-"))
    top.chmod(0o777)
    (top / ".git").mkdir()
    (top / "ok").mkdir()
    (top / "ok" / "Dockerfile").write_bytes(NONROOT_DF)
    for p in (top / ".git", top / "ok", top / "ok" / "Dockerfile"):
        p.chmod(0o777 if p.is_dir() else 0o666)
    try:
        yield top
    finally:
        for p in top.rglob("*"):
            if p.is_dir() and not p.is_symlink():
                p.chmod(0o755)
        shutil.rmtree(top)


def run_unprivileged(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    assert UNPRIVILEGED is not None
    env = dict(os.environ, PYTHONPATH=str(REPO), HOME=str(cwd))
    return subprocess.run([*UNPRIVILEGED, "-m", "rewriter", *args], cwd=cwd,
                          capture_output=True, env=env, timeout=120)


@needs_unprivileged
def test_file_without_read_permission(shared_project):
    path = shared_project / "Dockerfile"
    path.write_bytes(ROOT_DF)
    path.chmod(0o000)
    proc = run_unprivileged(shared_project, "--write", "Dockerfile", "ok/Dockerfile")
    assert_refused(proc, "Dockerfile", "Permission denied")
    path.chmod(0o644)
    assert path.read_bytes() == ROOT_DF
    assert "1 file left unchanged, 1 file failed" in proc.stderr.decode()


@needs_unprivileged
def test_file_without_write_permission(shared_project):
    path = shared_project / "Dockerfile"
    path.write_bytes(ROOT_DF)
    path.chmod(0o444)  # the directory is writable: os.replace alone would go through
    proc = run_unprivileged(shared_project, "--write", "Dockerfile", "ok/Dockerfile")
    assert_refused(proc, "Dockerfile", "read-only", "unchanged")
    assert path.read_bytes() == ROOT_DF
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert no_temp_files(shared_project)
    # without --write, a read-only file is fine
    assert run_unprivileged(shared_project, "--check", "Dockerfile").returncode == 1


@needs_unprivileged
def test_read_only_directory(shared_project):
    d = shared_project / "ro"
    d.mkdir()
    (d / "Dockerfile").write_bytes(ROOT_DF)
    (d / "Dockerfile").chmod(0o666)
    d.chmod(0o555)
    proc = run_unprivileged(shared_project, "--write", "ro/Dockerfile", "ok/Dockerfile")
    assert_refused(proc, "ro/Dockerfile", "cannot write", "Permission denied", "unchanged")
    assert (d / "Dockerfile").read_bytes() == ROOT_DF
    assert sorted(p.name for p in d.iterdir()) == ["Dockerfile"]


# --- while writing ----------------------------------------------------------------

BOOT_CHANGE_MEANWHILE = """
import sys
import rewriter.cli.runner as runner

fix = runner._fix

def _fix(data, name, path, *rest):
    result = fix(data, name, path, *rest)
    if path == "victim/Dockerfile":  # someone saves the file while dockfix works
        with open(path, "ab") as f:
            f.write(b"# edited meanwhile\\n")
    return result

runner._fix = _fix
from rewriter.cli.main import main
raise SystemExit(main(sys.argv[1:]))
"""


def test_file_changed_between_read_and_write(project, fixed_df):
    victim = project / "victim" / "Dockerfile"
    victim.parent.mkdir()
    victim.write_bytes(ROOT_DF)
    proc = write_run(project, "victim/Dockerfile", boot=BOOT_CHANGE_MEANWHILE)
    assert_refused(proc, "victim/Dockerfile", "changed on disk", "not written")
    assert victim.read_bytes() == ROOT_DF + b"# edited meanwhile\n"  # their edit, not ours
    assert_good_fixed(project, fixed_df)
    assert no_temp_files(project)


BOOT_DISK_FULL = """
import errno, os, sys

fsync = os.fsync

def full(fd):
    if os.readlink(f"/proc/self/fd/{fd}").endswith(".dockfix"):  # our temporary file
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return fsync(fd)

os.fsync = full
from rewriter.cli.main import main
raise SystemExit(main(sys.argv[1:]))
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_disk_full_while_writing_simulated(project):
    path = project / "Dockerfile"
    path.write_bytes(ROOT_DF)
    proc = run_dockfix("--write", "Dockerfile", cwd=project, boot=BOOT_DISK_FULL)
    assert_refused(proc, "Dockerfile", "No space left on device", "unchanged")
    assert path.read_bytes() == ROOT_DF
    assert no_temp_files(project)


@pytest.fixture
def tiny_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs, mounted for the test (root only; skipped elsewhere)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
                          capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {proc.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_disk_full_while_writing_real(tiny_filesystem):
    (tiny_filesystem / ".git").mkdir()
    path = tiny_filesystem / "Dockerfile"
    path.write_bytes(ROOT_DF)
    with open(tiny_filesystem / "filler", "wb", buffering=0) as f:  # fill the rest
        with pytest.raises(OSError) as full:
            while True:
                f.write(b"\0" * 1024)
        assert full.value.errno == errno.ENOSPC
    proc = run_dockfix("--write", "Dockerfile", cwd=tiny_filesystem)
    assert_refused(proc, "Dockerfile", "No space left on device", "unchanged")
    assert path.read_bytes() == ROOT_DF
    assert sorted(p.name for p in tiny_filesystem.iterdir()) == [".git", "Dockerfile", "filler"]


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_during_write_leaves_every_file_old_or_new(tmp_path, fixed_df, jobs):
    """Ctrl-C sends SIGINT to the whole foreground process group: so does this."""
    (tmp_path / ".git").mkdir()
    many = 1500
    for i in range(many):
        (tmp_path / f"s{i:04}.Dockerfile").write_bytes(ROOT_DF)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    # A terminal's Ctrl-C: the run starts with SIGINT at its default, even when
    # this test runs as a background job (whose children inherit it ignored).
    proc = subprocess.Popen([sys.executable, "-m", "rewriter", "--write", "--jobs", jobs, "."],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=_sigint_default)
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:  # wait until it is writing
        seen.append(line)
        if len(seen) == 5:
            break
    # Freeze the whole group, then press Ctrl-C: however busy the machine (or
    # however fast), the signal lands while files are still left to fix.
    os.killpg(proc.pid, signal.SIGSTOP)
    try:
        left = sum(p.read_bytes() == ROOT_DF for p in tmp_path.glob("*.Dockerfile"))
        os.killpg(proc.pid, signal.SIGINT)
    finally:
        os.killpg(proc.pid, signal.SIGCONT)
    out, rest = proc.communicate(timeout=300)
    err = b"".join(seen).decode() + rest.decode()
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    assert err.splitlines()[-1] == (
        "dockfix: error: interrupted; every file is either fixed or as it was")
    contents = [p.read_bytes() for p in sorted(tmp_path.glob("*.Dockerfile"))]
    assert len(contents) == many
    assert set(contents) <= {ROOT_DF, fixed_df}
    assert contents.count(fixed_df) >= 5  # it was writing ...
    assert left > 0, "the run had finished before Ctrl-C"
    assert contents.count(ROOT_DF) > 0  # ... and it stopped
    assert no_temp_files(tmp_path)

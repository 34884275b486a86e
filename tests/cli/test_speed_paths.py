"""The fast paths stay faithful: ``--jobs`` changes nothing but speed, the
progress bar shows only where it should, no rule is quadratic, and nothing is
kept between runs (dockfix writes nothing but the files it fixes)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
import typer
from conftest import run_dockfix

from rewriter.cli import main as cli, runner
from rewriter.cli.runner import Options

# --- the command line ------------------------------------------------------------------


def test_version(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == "dockfix 0.1.0\n"


def test_every_option_is_in_the_help(tmp_path):
    proc = run_dockfix("--help", cwd=tmp_path)
    text = proc.stdout.decode()
    for param in typer.main.get_command(cli.app).params:
        if not isinstance(param, typer.core.TyperOption):
            continue
        for flag in (*param.opts, *param.secondary_opts):
            assert flag in text


def test_writes_nothing_but_the_files_it_fixes(tmp_path):
    """No cache or state anywhere: with --write, the Dockerfile is the only file
    that changes, and the home directory stays empty."""
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    (project / ".git").mkdir(parents=True)
    dockerfile = project / "Dockerfile"
    dockerfile.write_text('FROM python:3.12-slim\nRUN pip install app\nCMD ["app"]\n')
    env = {"HOME": str(home), "XDG_CACHE_HOME": None, "DOCKFIX_CACHE_DIR": None}
    before = {p: p.stat().st_mtime_ns for p in project.rglob("*")}
    for args in (["--write", "Dockerfile"], ["--check", "Dockerfile"], ["-"]):
        proc = run_dockfix(*args, cwd=project, env=env, input=dockerfile.read_bytes())
        assert proc.returncode == 0, proc.stderr
    assert "USER" in dockerfile.read_text()
    assert list(home.rglob("*")) == []
    after = {p: p.stat().st_mtime_ns for p in project.rglob("*")}
    assert set(after) == set(before)
    assert [p.name for p in after if after[p] != before[p]] == ["Dockerfile"]


# --- --jobs: the same output, in the same order --------------------------------------


def _tree(root: Path, n: int = 40) -> None:
    (root / ".git").mkdir()
    bodies = [
        b'FROM python:3.12-slim\nRUN pip install app\nCMD ["app"]\n',  # fixed
        b'FROM python:3.12-slim\nUSER 10001:10001\nCMD ["app"]\n',  # fine
        b'FROM postgres:16\nENTRYPOINT ["gosu", "postgres"]\n',  # declined
        b"FROM alpine\nRUN <<EOF\necho hi\n",  # an error
        b"\xff\xfe",  # an error
        b"FROM alpine:3.19\nCOPY app /app\nRUN chown -R 1000:1000 /app\nEXPOSE 80\n",
    ]
    for i in range(n):
        d = root / f"svc{i:02}"
        d.mkdir()
        (d / "Dockerfile").write_bytes(bodies[i % len(bodies)])


@pytest.mark.parametrize("extra", [[], ["--check"], ["--output-format", "json"]],
                         ids=["diff", "check", "json"])
def test_jobs_change_nothing_but_speed(tmp_path, extra):
    _tree(tmp_path)
    one = run_dockfix("--jobs", "1", *extra, ".", cwd=tmp_path)
    two = run_dockfix("--jobs", "2", *extra, ".", cwd=tmp_path)
    assert runner.jobs_for(Options(jobs=2), 40) == 2  # it really ran workers
    assert (one.returncode, one.stdout, one.stderr) == (two.returncode, two.stdout, two.stderr)
    assert one.returncode == 2
    if extra[:1] == ["--output-format"]:
        assert len(json.loads(one.stdout)["files"]) == 40


def test_jobs_write_is_the_same(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    _tree(a)
    _tree(b)
    one = run_dockfix("--write", "--jobs", "1", ".", cwd=a)
    two = run_dockfix("--write", "--jobs", "2", ".", cwd=b)
    assert (one.returncode, one.stderr) == (two.returncode, two.stderr)
    for p in sorted(a.rglob("Dockerfile")):
        assert p.read_bytes() == (b / p.relative_to(a)).read_bytes()


def test_few_files_are_fixed_in_process():
    assert runner.jobs_for(Options(jobs=8), runner.PARALLEL_MIN_FILES - 1) == 1
    assert runner.jobs_for(Options(jobs=1), 1000) == 1
    assert runner.jobs_for(Options(jobs=None), 1000) == runner.cpu_count()


def test_jobs_must_be_positive(tmp_path):
    proc = run_dockfix("--jobs", "0", ".", cwd=tmp_path)
    assert proc.returncode == 2
    assert b"--jobs: expected a number of processes, 1 or more" in proc.stderr


# --- the progress bar --------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run_many(tmp_path: Path, stderr: io.StringIO, n: int, **options) -> int:
    (tmp_path / ".git").mkdir(exist_ok=True)
    for i in range(n):
        (tmp_path / f"s{i:03}.Dockerfile").write_text(
            'FROM python:3.12-slim\nUSER 10001:10001\nCMD ["app"]\n')
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        return runner.run(["."], Options(jobs=1, **options), stdout=io.BytesIO(),
                          stderr=stderr, environ={})
    finally:
        os.chdir(old)


def test_progress_bar_on_a_terminal_for_a_long_batch(tmp_path):
    err = _Terminal()
    assert _run_many(tmp_path, err, runner.PROGRESS_MIN_FILES) == 0
    text = err.getvalue()
    assert f"] {runner.PROGRESS_MIN_FILES}/{runner.PROGRESS_MIN_FILES} files" in text
    assert "\r\x1b[K" in text  # wiped before the summary
    assert text.endswith("\r\x1b[K50 files left unchanged\n")


@pytest.mark.parametrize(("stream", "n", "options"), [
    (_Terminal, runner.PROGRESS_MIN_FILES - 1, {}),  # a short batch
    (io.StringIO, runner.PROGRESS_MIN_FILES, {}),  # not a terminal
    (_Terminal, runner.PROGRESS_MIN_FILES, {"quiet": True}),
], ids=["short", "not-a-tty", "quiet"])
def test_no_progress_bar(tmp_path, stream, n, options):
    err = stream()
    _run_many(tmp_path, err, n, **options)
    assert "\r" not in err.getvalue() and " files\x1b" not in err.getvalue()


# --- no rule is quadratic -------------------------------------------------------------


def test_thousands_of_chowns_are_declined_not_analysed(tmp_path):
    """DF002 checks each RUN chown against everything before it; past a budget
    it leaves the file alone and says so, instead of taking minutes."""
    from rewriter.core.engine import fix_text
    from rewriter.dockerfile.rules.run_chown_after_copy import MAX_LOOKBACK

    blocks = "".join(f"COPY src/{i} /srv/{i}\nRUN chown -R app:app /srv/{i}\n"
                     for i in range(400))
    text = "FROM debian:bookworm-slim\nRUN useradd -r -u 1000 app\n" + blocks + "USER app\n"
    assert sum(range(2, 802, 2)) > MAX_LOOKBACK
    result = fix_text(text)
    assert not result.changed
    assert [d.reason for d in result.declines] == ["too-many-chowns"]
    few = fix_text("FROM debian:bookworm-slim\nRUN useradd -r -u 1000 app\n"
                   + "".join(blocks.splitlines(keepends=True)[:6]) + "USER app\n")
    assert few.changed and "COPY --chown=app:app src/0 /srv/0" in few.fixed

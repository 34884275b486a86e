"""The fast paths stay faithful: the quick command-line reader agrees with typer,
``--jobs`` changes nothing but speed, the progress bar shows only where it
should, and cached template renders are what jinja2 renders."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, run_dockfix

from rewriter.cli import main as cli, runner
from rewriter.dockerfile import templates
from rewriter.cli.runner import Options

# --- the quick reader and typer read the same options -------------------------------

ARGVS = [
    [],
    ["Dockerfile"],
    ["-"],
    ["--check", "a", "b/"],
    ["--diff", "--check", "."],
    ["--write", "-q", "."],
    ["--quiet", "--no-color", "x"],
    ["--color", "x"],
    ["--unsafe-fixes", "--no-unsafe-fixes", "x"],
    ["--no-unsafe-fixes", "x"],
    ["--uid", "5", "--gid=0", "x"],
    ["--uid", "5", "--uid", "6", "x"],
    ["--user", "app", "--group=grp", "x"],
    ["--build-arg", "A=1", "--build-arg=B=2", "x"],
    ["--select", "DF001", "--select", "DF0", "--ignore=DF002", "x"],
    ["--mappings", "m.toml", "x"],
    ["--target", "runtime", "x"],
    ["--stdin-filename", "svc/Dockerfile", "-"],
    ["--stdin-filename=svc/Dockerfile"],
    ["--output-format", "json", "-o", "out.json", "x"],
    ["--output-format=sarif", "--output-file=o", "x"],
    ["--jobs", "3", "x"],
    ["-j", "1", "x"],
    ["x", "--check", "y"],
    ["--", "--check", "-q"],
    ["--check", "--", "-"],
]
#: Lines the quick reader leaves to typer (which reads them, or says what is wrong).
TO_TYPER = [
    ["--help"], ["-h"], ["--bogus", "x"], ["-qj2", "x"], ["--uid"], ["--uid", "abc", "x"],
    ["--uid", "-5", "x"], ["--target", "--check", "x"], ["--write=yes", "x"], ["-x"],
    ["--uid", "٣", "x"],  # a digit, but not an ASCII one
]


@pytest.mark.parametrize("argv", ARGVS, ids=" ".join)
def test_quick_reader_agrees_with_typer(argv):
    quick = cli._quick(list(argv))
    assert quick is not None, "the quick reader should take this one"
    assert quick == cli._read(list(argv))


@pytest.mark.parametrize("argv", TO_TYPER, ids=" ".join)
def test_quick_reader_leaves_the_rest_to_typer(argv):
    assert cli._quick(list(argv)) is None


def test_version_on_the_quick_path(capsys):
    assert cli._quick(["--version", "x"]) == {"version": True}
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == "dockfix 0.1.0\n"


def test_every_option_is_in_the_help(tmp_path):
    proc = run_dockfix("--help", cwd=tmp_path)
    text = proc.stdout.decode()
    for opt in cli.OPTIONS:
        for flag in opt.flags:
            assert flag in text


def test_common_command_lines_do_not_import_typer_or_jinja2(tmp_path):
    """The editor's and the hook's command lines (with the template cache warm)."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "Dockerfile").write_text(
        'FROM python:3.12-slim\nRUN pip install app\nCMD ["app"]\n')
    env = dict(os.environ, PYTHONPATH=str(REPO), DOCKFIX_CACHE_DIR=str(tmp_path / "cache"))
    code = ("import sys, runpy; sys.argv = ['dockfix'] + sys.argv[1:]\n"
            "from rewriter.cli.main import main\n"
            "code = main()\n"
            "heavy = sorted(m for m in ('typer', 'click', 'jinja2', 'libcst', 'pydantic')"
            " if m in sys.modules)\n"
            "print(' '.join(heavy), file=sys.stderr)\n"
            "raise SystemExit(code)\n")
    runs = [["-"], ["-"], ["--check", "Dockerfile"], ["--diff", "-q", "Dockerfile"]]
    for n, args in enumerate(runs):
        proc = subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path, env=env,
                              input=(tmp_path / "Dockerfile").read_bytes(), capture_output=True)
        heavy = proc.stderr.decode().splitlines()[-1].split()
        # the first render fills the template cache, with jinja2; then no more of it
        assert heavy == ([] if n else ["jinja2"]), (args, proc.stderr.decode())


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


# --- the template render cache ------------------------------------------------------

PARAMS = dict(user="appuser", group="appgroup", uid=10001, gid=10001, dirs=["/data"])


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKFIX_CACHE_DIR", str(tmp_path / "cache"))
    templates._cache.cache_clear()
    yield tmp_path / "cache"
    templates._cache.cache_clear()


def test_cached_render_is_the_render(cache_dir):
    fresh = {name: templates.render(name, **PARAMS) for name in templates.available()}
    assert (cache_dir / "templates.json").is_file()
    templates._cache.cache_clear()
    cached = {name: templates.render(name, **PARAMS) for name in templates.available()}
    assert cached == fresh
    # and neither differs from jinja2 itself
    env = templates._env()
    for name, text in fresh.items():
        direct = env.get_template(f"adduser/{name}.Dockerfile.j2").render(
            user="appuser", group="appgroup", uid=10001, gid=10001, dirs=["/data"], escape="\\")
        assert text == direct


def test_a_cached_render_is_used_without_jinja2(cache_dir, tmp_path):
    templates.render("debian", **PARAMS)
    code = ("import sys; from rewriter.dockerfile import templates\n"
            f"templates.render('debian', **{PARAMS!r})\n"
            "print('jinja2' in sys.modules)")
    env = dict(os.environ, PYTHONPATH=str(REPO), DOCKFIX_CACHE_DIR=str(cache_dir))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.parametrize("junk", [
    b"not json", b"[]", b'{"key": 1}', b"\xff\xfe",
], ids=["text", "list", "bad-key", "binary"])
def test_a_broken_cache_file_is_ignored(cache_dir, junk):
    cache_dir.mkdir()
    (cache_dir / "templates.json").write_bytes(junk)
    assert templates.render("alpine", **PARAMS).startswith("RUN addgroup")


def test_a_tampered_cache_entry_is_not_used(cache_dir):
    good = templates.render("debian", **PARAMS)
    doc = json.loads((cache_dir / "templates.json").read_text())
    for k in doc["renders"]:
        doc["renders"][k] = "rm -rf / # not a RUN instruction\n"
    (cache_dir / "templates.json").write_text(json.dumps(doc))
    templates._cache.cache_clear()
    assert templates.render("debian", **PARAMS) == good


def test_an_edited_template_is_rendered_afresh(cache_dir, tmp_path, monkeypatch):
    root = tmp_path / "tpl"
    shutil.copytree(templates.templates_dir(), root)
    monkeypatch.setattr(templates, "templates_dir", lambda: root)
    monkeypatch.setattr(templates, "_env", templates._env.__wrapped__)
    before = templates.render("debian", **PARAMS)
    path = root / "adduser" / "debian.Dockerfile.j2"
    path.write_text(path.read_text().replace("--system --gid", "--system  --gid"))
    templates._cache.cache_clear()
    after = templates.render("debian", **PARAMS)
    assert after != before and "--system  --gid" in after


def test_no_cache_when_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKFIX_CACHE_DIR", "")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    templates._cache.cache_clear()
    try:
        templates.render("debian", **PARAMS)
    finally:
        templates._cache.cache_clear()
    assert not list(tmp_path.rglob("templates.json"))


# --- the parsed family table ---------------------------------------------------------


def test_family_snapshot_is_current():
    """``rewriter/data/families.json`` is ``families.toml`` parsed; after editing
    the TOML, run ``make data`` (``families.write_snapshot()``)."""
    import tomllib

    from rewriter.dockerfile import families

    raw = Path(families._TOML).read_bytes()
    assert families._snapshot(raw) == tomllib.loads(raw.decode()), "run: make data"


def test_a_stale_snapshot_is_not_used(tmp_path, monkeypatch):
    from rewriter.dockerfile import families

    raw = Path(families._TOML).read_bytes()
    assert families._snapshot(raw + b"\n# edited\n") is None
    monkeypatch.setattr(families, "_SNAPSHOT", str(tmp_path / "missing.json"))
    assert families._snapshot(raw) is None
    (tmp_path / "bad.json").write_text("{not json")
    monkeypatch.setattr(families, "_SNAPSHOT", str(tmp_path / "bad.json"))
    assert families._snapshot(raw) is None


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

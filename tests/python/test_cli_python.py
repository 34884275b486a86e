"""The real ``dockfix`` command on Python files that configure Celery: paths
given and found, stdin, every output format, bad input, and libcst imported
only when a file needs it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import run_dockfix  # noqa: E402

CONFIG = """\
broker_url = "redis://:Sup3rSecret@redis.internal:6379/0"
task_serializer = "pickle"
accept_content = ["pickle", "json"]
"""
FIXED = """\
broker_url = "redis://:Sup3rSecret@redis.internal:6379/0"
task_serializer = "json"
accept_content = ["json"]
"""
SECRET = "Sup3rSecret"

#: runs the real command, then says on stderr whether libcst was imported
BOOT = ("import sys, atexit; atexit.register(lambda: sys.stderr.write("
        "'LIBCST=%s\\n' % ('libcst' in sys.modules))); "
        "from rewriter.cli.main import main; sys.exit(main())")


def _project(tmp_path: Path) -> Path:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "celeryconfig.py").write_text(CONFIG)
    (tmp_path / "proj" / "util.py").write_text("def add(a, b):\n    return a + b\n")
    (tmp_path / "proj" / "Dockerfile").write_text(
        "FROM python:3.12-slim\nCOPY . /app\nCMD [\"celery\", \"-A\", \"proj\", \"worker\"]\n")
    return tmp_path / "proj"


def test_diff_write_and_check(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    proc = run_dockfix("celeryconfig.py", cwd=proj)
    assert proc.returncode == 0
    assert b"+++ b/celeryconfig.py" not in proc.stdout  # DFC001 is unsafe, DFC002 then too
    proc = run_dockfix("--unsafe-fixes", "celeryconfig.py", cwd=proj)
    assert b'+task_serializer = "json"' in proc.stdout
    assert (proj / "celeryconfig.py").read_text() == CONFIG
    proc = run_dockfix("--unsafe-fixes", "--check", "celeryconfig.py", cwd=proj)
    assert proc.returncode == 1
    proc = run_dockfix("--unsafe-fixes", "--write", "celeryconfig.py", cwd=proj)
    assert proc.returncode == 0, proc.stderr
    assert (proj / "celeryconfig.py").read_text() == FIXED
    proc = run_dockfix("--unsafe-fixes", "--check", "celeryconfig.py", cwd=proj)
    assert proc.returncode == 0
    assert SECRET not in proc.stderr.decode()


@pytest.mark.parametrize("rel", ["tests/test_tasks.py", "t/unit/conftest.py",
                                 "app/celery_test.py", "app/settings_tests.py"])
def test_test_modules_are_declined_not_rewritten(tmp_path: Path, rel: str) -> None:
    """A test that sets pickle on purpose (a pickle round trip) is what it tests:
    the serializer rules decline it and say why; the same text elsewhere is fixed."""
    target = tmp_path / rel
    target.parent.mkdir(parents=True)
    target.write_text(CONFIG)
    proc = run_dockfix("--unsafe-fixes", "--write", rel, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert target.read_text() == CONFIG
    assert b"declined (test-module)" in proc.stderr
    (tmp_path / "celeryconfig.py").write_text(CONFIG)
    proc = run_dockfix("--unsafe-fixes", "--write", "celeryconfig.py", cwd=tmp_path)
    assert (tmp_path / "celeryconfig.py").read_text() == FIXED


def test_directory_search_finds_celery_modules_only(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    proc = run_dockfix("--unsafe-fixes", "--output-format", "json", ".", cwd=proj)
    doc = json.loads(proc.stdout)
    assert sorted(f["path"] for f in doc["files"]) == ["Dockerfile", "celeryconfig.py"]


def test_stdin_with_a_python_name(tmp_path: Path) -> None:
    proc = run_dockfix("--unsafe-fixes", "--stdin-filename", "celeryconfig.py", "-",
                       cwd=tmp_path, input=CONFIG.encode())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == FIXED


@pytest.mark.parametrize("text,line", [
    ("print 'hello'\nBROKER_URL = 'redis://'\n", 1),  # Python 2
    ("SECRET_KEY = '{{ cookiecutter.secret }}'\n{% if cookiecutter.use_celery %}\n"
     "CELERY_TASK_SERIALIZER = 'json'\n{% endif %}\n", 2),  # a Jinja template
])
def test_not_python3_is_one_line_and_untouched(tmp_path: Path, text: str, line: int) -> None:
    f = tmp_path / "settings.py"
    f.write_text(text)
    proc = run_dockfix("--unsafe-fixes", "--write", "settings.py", cwd=tmp_path)
    assert proc.returncode == 2
    [error] = [ln for ln in proc.stderr.decode().splitlines() if "error" in ln]
    assert error.startswith(f"dockfix: error: settings.py: line {line}: not Python 3"), error
    assert "Traceback" not in proc.stderr.decode()
    assert f.read_text() == text


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "markdown"])
def test_every_format_reports_the_rules_and_never_the_password(tmp_path: Path,
                                                               fmt: str) -> None:
    proj = _project(tmp_path)
    proc = run_dockfix("--output-format", fmt, "celeryconfig.py", cwd=proj)
    out = proc.stdout.decode() + proc.stderr.decode()
    for code in ("DFC001", "DFC002", "DFC004", "DFC005"):
        assert code in out, (fmt, code, out)
    assert SECRET not in out
    if fmt == "sarif":
        doc = json.loads(proc.stdout)
        rules = {r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]}
        assert {"DFC001", "DFC002", "DFC004", "DFC005"} <= rules


def test_rules_and_rule_commands_list_the_python_rules(tmp_path: Path) -> None:
    out = run_dockfix("rules", cwd=tmp_path).stdout.decode()
    for code in ("DFC001", "DFC002", "DFC003", "DFC004", "DFC005"):
        assert code in out
    doc = run_dockfix("rule", "DFC002", cwd=tmp_path).stdout.decode()
    assert doc.startswith("# DFC002 accept-content") and "## Fix safety" in doc


def test_libcst_is_imported_only_for_a_celery_configuration(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    cases = {("Dockerfile",): False, ("util.py",): False, ("celeryconfig.py",): True}
    for paths, imported in cases.items():
        proc = run_dockfix(*paths, cwd=proj, boot=BOOT)
        assert f"LIBCST={imported}" in proc.stderr.decode(), (paths, proc.stderr)


def test_compose_file_that_starts_a_worker(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text(
        "services:\n  worker:\n    command: celery -A proj worker --uid=nobody\n"
        "    environment:\n      - C_FORCE_ROOT=1\n      - DEBUG=0\n")
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: nginx\n")
    proc = run_dockfix("--output-format", "json", ".", cwd=tmp_path)
    doc = json.loads(proc.stdout)
    assert [f["path"] for f in doc["files"]] == ["docker-compose.yml"]
    [f] = doc["files"]
    assert [x["code"] for x in f["findings"]] == ["DFC006", "DFC006"]
    assert "-      - C_FORCE_ROOT=1\n" in f["diff"]  # safe
    assert "     command: celery -A proj worker --uid=nobody\n" in f["diff"]  # unsafe: kept

"""A file that is not a Dockerfile is never changed: BuildKit's unknown
instructions are a one-line error naming the first one."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import run_dockfix  # noqa: E402

CELERY_MODULE = """\
from celery import Celery

app = Celery("tasks", broker="redis://localhost:6379/0")
app.conf.task_serializer = "pickle"


@app.task
def add(x, y):
    return x + y
"""


@pytest.mark.parametrize("flags", [[], ["--unsafe-fixes"], ["--unsafe-fixes", "--write"]])
def test_python_without_py_suffix_is_refused_and_untouched(tmp_path: Path, flags: list[str]):
    f = tmp_path / "tasks"
    f.write_text(CELERY_MODULE)
    proc = run_dockfix(*flags, "tasks", cwd=tmp_path)
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert proc.stdout == b""
    errors = [ln for ln in err.splitlines() if ln.startswith("dockfix: error:")]
    assert errors == ["dockfix: error: tasks: line 3: unknown instruction `app` (BuildKit "
                      "refuses it); not a Dockerfile? nothing changed"]
    assert "Traceback" not in err
    assert f.read_text() == CELERY_MODULE


def test_unknown_instruction_in_a_dockerfile_named_first(tmp_path: Path):
    f = tmp_path / "Dockerfile"
    text = "FROM debian:12\nRUN true\nCOPPY . /app\nFOO bar\n"
    f.write_text(text)
    proc = run_dockfix("--write", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 2
    assert "line 3: unknown instruction `COPPY`" in proc.stderr.decode()
    assert f.read_text() == text


def test_unknown_instruction_on_stdin_in_json(tmp_path: Path):
    proc = run_dockfix("--output-format", "json", "-", cwd=tmp_path,
                       input=CELERY_MODULE.encode())
    assert proc.returncode == 2
    doc = json.loads(proc.stdout)
    [f] = doc["files"]
    assert f["status"] == "error"
    assert "unknown instruction `app`" in f["error"]

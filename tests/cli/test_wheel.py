"""The built wheel installs into a fresh venv, ships the templates and runs.

Builds the wheel from the working tree, installs it (dependencies from PyPI)
into a new virtual environment under ``tmp_path`` and runs the installed
``dockfix`` from a directory outside the repository, so nothing can come from
the source tree by accident.  Slow (a build and a pip install): ``-m slow``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "templates"
STDIN_DOCKERFILE = "FROM alpine:3.19\nRUN apk add --no-cache curl\nCMD [\"curl\", \"--version\"]\n"

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, input: str | None = None,
         timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return subprocess.run(cmd, cwd=cwd, input=input, capture_output=True, text=True,
                          env=env, timeout=timeout)


def _ok(proc: subprocess.CompletedProcess[str], what: str) -> str:
    assert proc.returncode == 0, (
        f"{what} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    return proc.stdout


def _template_files() -> list[str]:
    if not TEMPLATES.is_dir():
        return []
    return sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*")
                  if p.is_file())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    if importlib.util.find_spec("build") and importlib.util.find_spec("hatchling"):
        cmd = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out),
               str(REPO)]
    else:
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out), str(REPO)]
    _ok(_run(cmd, cwd=out), "building the wheel")
    (found,) = out.glob("dockfix-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("venv")
    _ok(_run([sys.executable, "-m", "venv", str(root)], cwd=root), "creating the venv")
    bindir = root / ("Scripts" if os.name == "nt" else "bin")
    _ok(_run([str(bindir / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
             cwd=root, timeout=300), "pip install of the wheel")
    return bindir


def test_wheel_contents(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "rewriter/__init__.py" in names
    assert "rewriter/cli/main.py" in names
    assert "rewriter/dockerfile/syntax.py" in names
    assert "rewriter/py.typed" in names
    assert "rewriter/data/dockfix-output.schema.json" in names  # --output-format json's schema
    assert "rewriter/report/formats/sarif.py" in names
    assert not any(n.startswith(("tests/", "bench/", ".venv/", "templates/")) for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "dockfix = rewriter.cli.main:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    # templates/ at the top of the repository ships as rewriter/templates/.
    shipped = sorted(n[len("rewriter/templates/"):] for n in names
                     if n.startswith("rewriter/templates/") and not n.endswith("/"))
    assert shipped == _template_files()
    if any(p.endswith(".j2") for p in _template_files()):
        assert any(n.startswith("rewriter/templates/adduser/") and n.endswith(".j2")
                   for n in names)


def test_installed_package_is_the_wheel(venv: Path, tmp_path: Path) -> None:
    code = (
        "import json, pathlib, importlib.resources as r, rewriter\n"
        "t = pathlib.Path(str(r.files('rewriter') / 'templates'))\n"
        "files = sorted(p.relative_to(t).as_posix() for p in t.rglob('*') if p.is_file())\n"
        "print(json.dumps([rewriter.__file__, files]))\n"
    )
    out = _ok(_run([str(venv / "python"), "-c", code], cwd=tmp_path), "importing rewriter")
    location, templates = json.loads(out)
    assert Path(location).resolve().is_relative_to(venv.parent.resolve())
    assert not Path(location).resolve().is_relative_to(REPO)
    assert templates == _template_files()  # the installed package finds its templates


def test_installed_dockfix_version(venv: Path, tmp_path: Path) -> None:
    from rewriter import __version__

    out = _ok(_run([str(venv / "dockfix"), "--version"], cwd=tmp_path), "dockfix --version")
    assert __version__ in out
    out = _ok(_run([str(venv / "python"), "-m", "rewriter", "--version"], cwd=tmp_path),
              "python -m rewriter --version")
    assert __version__ in out


def test_installed_dockfix_reads_stdin(venv: Path, tmp_path: Path) -> None:
    from rewriter import fix_text

    proc = _run([str(venv / "dockfix"), "-"], cwd=tmp_path, input=STDIN_DOCKERFILE)
    out = _ok(proc, "dockfix -")
    assert out == fix_text(STDIN_DOCKERFILE).fixed
    assert out.startswith("FROM alpine:3.19\n")


def test_installed_package_ships_the_json_schema(venv: Path, tmp_path: Path) -> None:
    code = ("from rewriter.report.formats.json import schema\n"
            "print(schema()['title'])\n")
    out = _ok(_run([str(venv / "python"), "-c", code], cwd=tmp_path), "loading the schema")
    assert out.strip() == "dockfix --output-format json"

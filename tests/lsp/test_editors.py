"""``dockfix lsp`` in real editors, through their own LSP clients.

Neovim (headless, its built-in client) and Emacs (batch mode, eglot) each
open a Dockerfile, wait for dockfix's diagnostics, apply the quick fix
dockfix offers, and save; the saved file must be what ``dockfix -`` makes of
it.  The scripts are ``tests/editor_scripts/nvim.lua`` and ``tests/editor_scripts/eglot.el``.
The Dockerfile has characters outside ASCII and outside the BMP on the line
the diagnostic ends on, so the editors' UTF-16 conversions are exercised.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, run_dockfix
from editors import environ, require, unavailable

pytest.importorskip("pygls", reason="the 'lsp' extra is not installed")

SCRIPTS = REPO / "tests" / "editor_scripts"
TEXT = ('FROM python:3.12-slim\n# caf\u00e9 \U0001f433\nRUN pip install app\n'
        'CMD ["app", "\U0001f433 caf\u00e9"]\n')


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    (project / "Dockerfile").write_text(TEXT, encoding="utf-8")
    return project


def expected(project: Path) -> bytes:
    proc = run_dockfix("--stdin-filename", "Dockerfile", "-", cwd=project,
                       input=TEXT.encode())
    assert proc.returncode == 0 and proc.stdout != TEXT.encode(), proc.stderr
    return proc.stdout


def run_editor(command: list[str], project: Path,
               file: str = "Dockerfile") -> subprocess.CompletedProcess[str]:
    env = environ(project.parent, DOCKERFILE=str(project / file))
    proc = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "FAIL" not in proc.stdout + proc.stderr
    return proc


def test_neovim_applies_a_quick_fix(project: Path) -> None:
    nvim = require("nvim", "neovim")
    want = expected(project)
    proc = run_editor([nvim, "--headless", "--clean", "-n", "-c",
                       f"luafile {SCRIPTS / 'nvim.lua'}"], project)
    diagnostics = [ln.split() for ln in proc.stdout.splitlines() if ln.startswith("DIAGNOSTIC")]
    # DF001 spans the stage, FROM to the end of CMD; Neovim counts bytes
    assert diagnostics == [["DIAGNOSTIC", "DF001", "0", "0",
                            str(len(TEXT.splitlines()[3].encode()))]]
    assert (project / "Dockerfile").read_bytes() == want


def test_neovim_serves_a_python_file(project: Path) -> None:
    """The same server for the Celery rules: a Python file's diagnostics, and
    its quick fix (an unsafe one, as the title says) applied as the command
    applies that rule's fix."""
    nvim = require("nvim", "neovim")
    text = ('from celery import Celery\n\napp = Celery("tasks")\n'
            'app.conf.task_serializer = "pickle"  # caf\u00e9 \U0001f433\n')
    (project / "tasks.py").write_text(text, encoding="utf-8")
    proc = run_editor([nvim, "--headless", "--clean", "-n", "-c",
                       f"luafile {SCRIPTS / 'nvim.lua'}"], project, "tasks.py")
    diagnostics = [ln.split() for ln in proc.stdout.splitlines() if ln.startswith("DIAGNOSTIC")]
    assert {d[1] for d in diagnostics} >= {"DFC001", "DFC002"}, proc.stdout
    assert {d[2] for d in diagnostics} == {"3"}, proc.stdout  # line 4, 0-based
    action = next(ln for ln in proc.stdout.splitlines() if ln.startswith("ACTION "))
    code = re.search(r"\((DFC\d+)\) \[unsafe: check the result\]$", action)
    assert code, action
    want = run_dockfix("--unsafe-fixes", "--select", code.group(1), "--stdin-filename",
                       "tasks.py", "-", cwd=project, input=text.encode())
    assert want.returncode == 0 and want.stdout != text.encode(), want.stderr
    assert (project / "tasks.py").read_bytes() == want.stdout


def test_emacs_eglot_applies_a_quick_fix(project: Path) -> None:
    emacs = require("emacs", "emacs-nox")
    probe = subprocess.run([emacs, "--batch", "--eval", "(require 'eglot)"],
                           capture_output=True, text=True, timeout=60,
                           env=environ(project.parent))
    if probe.returncode != 0:
        unavailable("eglot is not installed (Debian package elpa-eglot)")
    want = expected(project)
    proc = run_editor([emacs, "--batch", "-l", str(SCRIPTS / "eglot.el")], project)
    assert "DIAGNOSTIC dockfix [DF001]: stage" in proc.stderr
    assert "Edit successful" in proc.stderr
    assert (project / "Dockerfile").read_bytes() == want


def test_the_editors_page_says_what_is_tested() -> None:
    from rewriter.io import config

    doc = (REPO / "docs" / "editors.md").read_text()
    for name in ("Neovim", "Emacs", "Vim", "Helix", "VS Code", "Zed", "Sublime Text"):
        assert re.search(rf"^## {re.escape(name)}\b", doc, re.M), name
    assert re.findall(r"^## (.+) \(tested\)$", doc, re.M) == ["Neovim", "Emacs with eglot"]
    assert {row.split("|")[1].strip() for row in doc.splitlines()
            if row.startswith("| ") and "| yes" in row} == {"Neovim", "Emacs"}
    for path in re.findall(r"`((?:tests|bench)/[\w/.]+)`", doc):
        assert (REPO / path).exists(), path
    for key in config.KEYS:
        assert f"`{key}`" in doc, key

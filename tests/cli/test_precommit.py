"""The pre-commit hooks of ``.pre-commit-hooks.yaml``, run by the real pre-commit.

``pre-commit try-repo`` installs the hook repository with pip into an
environment of its own and runs a hook on a project.  The hook repository is a
snapshot of this working tree (every file git tracks or would track, committed
into a temporary repository), so uncommitted changes are what is tested.
Installing needs PyPI (for dockfix's dependencies): slow, ``-m slow``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("git") is None, reason="needs git"),
    pytest.mark.skipif(importlib.util.find_spec("pre_commit") is None,
                       reason="needs pre-commit (pip install -e '.[test]')"),
]

ROOT_DF = 'FROM python:3.12-slim\nCOPY app /app\nCMD ["python", "/app/main.py"]\n'
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not k.startswith("GIT_")}
    env.update(GIT_ENV)
    env["PRE_COMMIT_HOME"] = str(home)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["NO_COLOR"] = "1"
    return env


def _git(cwd: Path, *args: str, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A git repository holding a snapshot of the working tree; the environment."""
    base = tmp_path_factory.mktemp("precommit")
    env = _env(base / "cache")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=REPO, capture_output=True, check=True)
    src = base / "dockfix"
    for name in sorted(set(listed.stdout.decode().split("\0")) - {""}):
        path = REPO / name
        if path.is_file() and not name.startswith("tests/"):
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, src / name)
    _git(src, "init", "-q", env=env)
    _git(src, "add", "-A", env=env)
    _git(src, "commit", "-q", "-m", "snapshot", env=env)
    return src, env


def _project(tmp_path: Path, env: dict[str, str]) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "Dockerfile").write_text(ROOT_DF)
    (project / "README.md").write_text("not a Dockerfile\n")
    _git(project, "init", "-q", env=env)
    _git(project, "add", "-A", env=env)
    _git(project, "commit", "-q", "-m", "init", env=env)
    return project


def _try_repo(project: Path, repo: Path, hook: str,
              env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(repo), hook, "--all-files",
         "--color", "never"],
        cwd=project, env=env, capture_output=True, text=True, timeout=600,
    )


def test_hooks_file() -> None:
    yaml = pytest.importorskip("yaml")  # comes with pre-commit
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"dockfix", "dockfix-check"}
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["types"] == ["dockerfile"]
    assert hooks["dockfix"]["entry"] == "dockfix --write"
    assert hooks["dockfix-check"]["entry"] == "dockfix --check --diff"


def test_fixing_hook(hook_repo: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    repo, env = hook_repo
    project = _project(tmp_path, env)
    first = _try_repo(project, repo, "dockfix", env)
    output = first.stdout + first.stderr
    assert first.returncode == 1, output  # the hook changed a file: pre-commit says so
    assert "files were modified by this hook" in output
    fixed = (project / "Dockerfile").read_text()
    assert "USER 10001:10001" in fixed
    assert (project / "README.md").read_text() == "not a Dockerfile\n"  # types: [dockerfile]
    _git(project, "commit", "-qam", "fixed", env=env)
    second = _try_repo(project, repo, "dockfix", env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert (project / "Dockerfile").read_text() == fixed


def test_check_hook(hook_repo: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    repo, env = hook_repo
    project = _project(tmp_path, env)
    proc = _try_repo(project, repo, "dockfix-check", env)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "+USER 10001:10001" in output  # the diff is shown
    assert (project / "Dockerfile").read_text() == ROOT_DF  # and nothing is written

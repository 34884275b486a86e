"""Real editors for the tests: finding them, and a ``dockfix`` on their PATH.

An editor test skips when its editor is not installed, except under CI
(``CI=true``), where the project's install step (``make test`` as root)
installs them: there a missing editor is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def unavailable(message: str) -> None:
    """Skip the test, or fail it under CI, where ``make test`` installs the editors."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; the install step should have installed it")
    pytest.skip(message)


def require(program: str, package: str) -> str:
    """The path of ``program``; skips (fails under CI) when it is missing."""
    path = shutil.which(program)
    if path is None:
        unavailable(f"{program} is not installed (Debian package {package})")
    assert path is not None
    return path


def bin_dir(tmp: Path) -> Path:
    """A directory holding a ``dockfix`` that runs this checkout with this Python."""
    directory = tmp / "bin"
    directory.mkdir(exist_ok=True)
    script = directory / "dockfix"
    script.write_text(
        "#!/bin/sh\n"
        f'PYTHONPATH="{REPO}${{PYTHONPATH:+:$PYTHONPATH}}" exec "{sys.executable}" -m rewriter "$@"\n'
    )
    script.chmod(0o755)
    return directory


def environ(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of an editor: ``dockfix`` first on PATH, a clean HOME."""
    env = dict(os.environ)
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    env.update(
        PATH=f"{bin_dir(tmp)}{os.pathsep}{env.get('PATH', '')}",
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        XDG_CACHE_HOME=str(home / ".cache"),
        TERM="xterm-256color",
        **extra,
    )
    return env


class Tmux:
    """A private tmux server running one program in a terminal."""

    def __init__(self, tmp: Path, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.socket = str(tmp / "tmux.sock")
        self.env = env
        self._tmux("new-session", "-d", "-x", "120", "-y", "40", "-s", "t", "-c", str(cwd),
                   *command)

    def _tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", "-S", self.socket, *args], env=self.env,
                              capture_output=True, text=True, timeout=30)

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "t", *keys)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "t").stdout

    def alive(self) -> bool:
        return self._tmux("has-session", "-t", "t").returncode == 0

    def wait_for(self, text: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared on the screen:\n{screen}")
            time.sleep(0.05)

    def wait_exit(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while self.alive():
            if time.monotonic() > deadline:
                raise AssertionError(f"the program did not exit:\n{self.screen()}")
            time.sleep(0.05)

    def close(self) -> None:
        self._tmux("kill-server")

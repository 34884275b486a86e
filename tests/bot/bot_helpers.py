"""Helpers and fixtures for the bot's tests: local bare repositories as
remotes, the fake GitHub, and the real ``dockfix bot`` command.  (Not a
``conftest.py``: the suite's own conftest is imported by that name.)"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytest.importorskip("githubkit", reason="the bot extra is not installed")

sys.path.insert(0, str(Path(__file__).parent))

from github_server import FakeGitHub  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

#: A token shaped like GitHub's, made up per test session.
TOKEN = "ghs_" + secrets.token_hex(18)
MAINTAINER = ("Maintainer", "maintainer@example.com")


def git(*args: str, cwd: Path | str | None = None, author: tuple[str, str] = MAINTAINER,
        input: bytes | None = None) -> str:
    """Plain git, as a maintainer would run it (no global configuration)."""
    env = {"PATH": os.environ["PATH"], "HOME": str(cwd or "/nonexistent"),
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1],
           "GIT_COMMITTER_NAME": author[0], "GIT_COMMITTER_EMAIL": author[1]}
    proc = subprocess.run(["git", "-c", "protocol.file.allow=always", "-c",
                           "init.defaultBranch=main", *args], cwd=cwd, env=env, input=input,
                          capture_output=True, check=False)
    if proc.returncode:
        raise AssertionError(f"git {' '.join(args)}: {proc.stderr.decode()}")
    return proc.stdout.decode()


@dataclass
class Remote:
    """A bare repository and a maintainer's clone of it."""

    bare: Path
    clone: Path

    def commit(self, files: Mapping[str, str | bytes | None], message: str = "change",
               branch: str = "main", author: tuple[str, str] = MAINTAINER) -> str:
        git("fetch", "-q", "origin", cwd=self.clone)
        start = f"origin/{branch}" if self.sha(branch) else "origin/main"
        git("checkout", "-q", "-B", branch, start, cwd=self.clone)
        write(self.clone, files)
        git("add", "-A", cwd=self.clone)
        git("commit", "-q", "-m", message, cwd=self.clone, author=author)
        git("push", "-q", "origin", f"HEAD:refs/heads/{branch}", cwd=self.clone)
        return self.sha(branch)

    def sha(self, branch: str) -> str | None:
        proc = subprocess.run(["git", "-C", str(self.bare), "rev-parse", "--verify", "--quiet",
                               f"refs/heads/{branch}"], capture_output=True, text=True)
        return proc.stdout.strip() or None

    def show(self, ref: str, path: str) -> str:
        return git("show", f"{ref}:{path}", cwd=self.bare)

    def log(self, ref: str, fmt: str = "%H %ae %s") -> list[str]:
        return git("log", f"--format={fmt}", ref, cwd=self.bare).splitlines()


def write(root: Path, files: Mapping[str, str | bytes | None]) -> None:
    for name, content in files.items():
        path = root / name
        if content is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def make_remote(tmp: Path, name: str, files: Mapping[str, str | bytes]) -> Remote:
    bare = tmp / f"{name}.git"
    git("init", "-q", "--bare", str(bare))
    clone = tmp / f"{name}-maintainer"
    git("init", "-q", str(clone))
    write(clone, files)
    git("add", "-A", cwd=clone)
    git("commit", "-q", "-m", "initial", cwd=clone)
    git("remote", "add", "origin", str(bare), cwd=clone)
    git("push", "-q", "origin", "HEAD:refs/heads/main", cwd=clone)
    git("symbolic-ref", "HEAD", "refs/heads/main", cwd=bare)
    return Remote(bare, clone)


@dataclass
class Bot:
    """Runs the real ``dockfix bot`` and keeps everything it printed."""

    tmp: Path
    gh: FakeGitHub
    outputs: list[str] = field(default_factory=list)

    def env(self, extra: Mapping[str, str | None] | None = None) -> dict[str, str]:
        home = self.tmp / "home"
        home.mkdir(exist_ok=True)
        tmpdir = self.tmp / "tmpdir"
        tmpdir.mkdir(exist_ok=True)
        env = dict(os.environ)
        env.update({"GITHUB_TOKEN": TOKEN, "HOME": str(home), "TMPDIR": str(tmpdir),
                    "PYTHONPATH": str(REPO)})
        for key, value in (extra or {}).items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def run(self, *args: str, env: Mapping[str, str | None] | None = None,
            ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([sys.executable, "-m", "rewriter", "bot", *args],
                              capture_output=True, text=True, env=self.env(env), timeout=120,
                              cwd=self.tmp)
        self.outputs += [proc.stdout, proc.stderr]
        return proc

    def run_repo(self, remote: Remote, full: str = "acme/app", *args: str,
                 env: Mapping[str, str | None] | None = None) -> dict:
        proc = self.run("run", str(remote.bare), "--github-repo", full, "--api-url", self.gh.url,
                        "--output-format", "json", *args, env=env)
        assert "Traceback" not in proc.stderr, proc.stderr
        text = proc.stdout or proc.stderr
        report = json.loads(text)
        report["_rc"] = proc.returncode
        return report


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(TOKEN) as gh:
        yield gh
        assert gh.errors == []


@pytest.fixture
def bot(tmp_path: Path, github: FakeGitHub) -> Bot:
    return Bot(tmp_path, github)

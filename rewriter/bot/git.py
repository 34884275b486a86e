"""Real git, run so that a repository cannot make it do anything but copy bytes.

Every command runs in a clean environment: no system or global configuration
(so no filter, credential helper or alias of the machine applies), hooks off
(``core.hooksPath=/dev/null``), no filter drivers (LFS smudge and process
emptied, ``GIT_LFS_SKIP_SMUDGE=1``), symbolic links checked out as plain files
(``core.symlinks=false``), no submodule recursion, no prompts, and only the
transports the remote needs (``https``; ``file`` only for a local remote).

The token never appears on a command line: it reaches git as an HTTP header
in ``GIT_CONFIG_*`` environment variables, scoped to the remote's URL, and
every message this module raises has it removed (:func:`redact`).
"""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Sequence

#: How long one git command may run (a clone of a large repository included).
TIMEOUT = 600

#: Configuration given to every command, before the repository's own.
_SAFE = (
    "core.hooksPath=/dev/null",
    "core.symlinks=false",
    "core.fsmonitor=false",
    "core.askPass=",
    "credential.helper=",
    "filter.lfs.smudge=",
    "filter.lfs.process=",
    "filter.lfs.required=false",
    "submodule.recurse=false",
    "fetch.recurseSubmodules=false",
    "protocol.allow=never",
    "protocol.https.allow=always",
    "advice.detachedHead=false",
    "init.defaultBranch=main",
    "commit.gpgSign=false",
    "tag.gpgSign=false",
    "gc.auto=0",
    "maintenance.auto=false",
)


class GitError(RuntimeError):
    """A git command failed; the message is one line, with no secret in it."""


def redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with each secret (and the forms git might show it in) replaced."""
    for secret in secrets:
        if not secret:
            continue
        for form in _forms(secret):
            text = text.replace(form, "***")
    return text


def _forms(secret: str) -> list[str]:
    basic = base64.b64encode(f"x-access-token:{secret}".encode()).decode()
    return [secret, basic]


def is_local(remote: str) -> bool:
    """Whether ``remote`` is a path or a ``file://`` URL (not a network URL)."""
    return remote.startswith("file://") or "://" not in remote and ":" not in remote.split("/")[0]


class Git:
    """git commands in one work tree, with a private ``HOME``."""

    def __init__(self, home: str, remote: str, token: str | None = None,
                 author: tuple[str, str] = ("dockfix", "dockfix@users.noreply.github.com")) -> None:
        self.home = home
        self.remote = remote
        self.token = token
        self.author = author
        self.secrets = [token] if token else []

    def env(self) -> dict[str, str]:
        """The whole environment of a git command: nothing inherited but ``PATH``."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.home,
            "XDG_CONFIG_HOME": os.path.join(self.home, ".config"),
            "LANG": "C", "LC_ALL": "C",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "",
            "SSH_ASKPASS": "",
            "GIT_LFS_SKIP_SMUDGE": "1",
            "GIT_NO_REPLACE_OBJECTS": "1",
            "GIT_AUTHOR_NAME": self.author[0], "GIT_AUTHOR_EMAIL": self.author[1],
            "GIT_COMMITTER_NAME": self.author[0], "GIT_COMMITTER_EMAIL": self.author[1],
        }
        if self.token and not is_local(self.remote):
            header = "Authorization: Basic " + _forms(self.token)[1]
            env.update({"GIT_CONFIG_COUNT": "1",
                        "GIT_CONFIG_KEY_0": f"http.{self.remote}.extraHeader",
                        "GIT_CONFIG_VALUE_0": header})
        return env

    def _config(self) -> list[str]:
        args: list[str] = []
        extra = ("protocol.file.allow=always",) if is_local(self.remote) else ()
        for item in (*_SAFE, *extra):
            args += ["-c", item]
        return args

    def run(self, *args: str, cwd: str | None = None, check: bool = True,
            input: bytes | None = None) -> str:
        """Run ``git ARGS``; its stdout.  Raises ``GitError`` when it fails and ``check``."""
        cmd = ["git", *self._config(), *args]
        try:
            proc = subprocess.run(cmd, cwd=cwd, env=self.env(), input=input,
                                  stdin=None if input is not None else subprocess.DEVNULL,
                                  capture_output=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            raise GitError(f"git {args[0]}: timed out after {TIMEOUT} s") from None
        except OSError as exc:
            raise GitError(f"git {args[0]}: cannot run git: {exc.strerror}") from None
        if check and proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            last = next((line for line in reversed(err) if line.strip()), "")
            raise GitError(redact(f"git {args[0]} failed: {last}", self.secrets))
        return proc.stdout.decode("utf-8", "surrogateescape")

    # --- the few operations the bot needs ------------------------------------

    def clone(self, dest: str, base: str | None) -> None:
        args = ["clone", "--quiet", "--no-tags", "--no-recurse-submodules", "--no-checkout"]
        if base:
            args += ["--branch", base]
        self.run(*args, "--", self.remote, dest)

    def remote_branches(self, repo: str) -> dict[str, str]:
        """``{branch: sha}`` of the remote, as the clone saw it."""
        out = self.run("for-each-ref", "--format=%(objectname) %(refname)", "refs/remotes/origin/",
                       cwd=repo)
        heads: dict[str, str] = {}
        for line in out.splitlines():
            sha, _, ref = line.partition(" ")
            name = ref.removeprefix("refs/remotes/origin/")
            if name != "HEAD":
                heads[name] = sha
        return heads

    def current_branch(self, repo: str) -> str:
        return self.run("symbolic-ref", "--short", "HEAD", cwd=repo).strip()

    def checkout(self, repo: str, ref: str) -> None:
        self.run("checkout", "--quiet", "--force", "--detach", ref, cwd=repo)

    def tree_entries(self, repo: str, ref: str) -> list[tuple[str, str, str, int, str]]:
        """``(mode, type, sha, size, path)`` of every entry of ``ref``'s tree, recursively."""
        out = self.run("ls-tree", "-r", "-z", "-l", "--full-tree", ref, cwd=repo)
        entries = []
        for item in out.split("\0"):
            if not item:
                continue
            meta, _, path = item.partition("\t")
            mode, kind, sha, size = meta.split()
            entries.append((mode, kind, sha, int(size) if size.isdigit() else 0, path))
        return entries

    def attributes(self, repo: str, paths: Sequence[str], names: Sequence[str]) -> dict[str, dict[str, str]]:
        """The ``.gitattributes`` values of ``names`` for each of ``paths``."""
        if not paths:
            return {}
        data = "\0".join(paths).encode("utf-8", "surrogateescape") + b"\0"
        out = self.run("check-attr", "-z", "--stdin", *names, cwd=repo, input=data)
        fields = out.split("\0")
        result: dict[str, dict[str, str]] = {}
        for i in range(0, len(fields) - 2, 3):
            path, name, value = fields[i:i + 3]
            result.setdefault(path, {})[name] = value
        return result

    def commit_all(self, repo: str, paths: Sequence[str], message: str) -> str:
        self.run("add", "--", *paths, cwd=repo)
        self.run("commit", "--quiet", "--no-verify", "--signoff", "-m", message, cwd=repo)
        return self.run("rev-parse", "HEAD", cwd=repo).strip()

    def tree_of(self, repo: str, ref: str) -> str:
        return self.run("rev-parse", f"{ref}^{{tree}}", cwd=repo).strip()

    def authors(self, repo: str, base: str, tip: str) -> list[tuple[str, str, str]]:
        """``(sha, author email, committer email)`` of each commit in ``base..tip``."""
        out = self.run("log", "--format=%H%x00%ae%x00%ce", f"{base}..{tip}", cwd=repo)
        return [tuple(line.split("\0")) for line in out.splitlines() if line]  # type: ignore[misc]

    def push(self, repo: str, branch: str, old: str | None) -> None:
        """Push HEAD to ``branch``, only if the remote still has ``old`` there."""
        lease = f"--force-with-lease=refs/heads/{branch}:{old or ''}"
        self.run("push", "--quiet", "--no-verify", lease, "origin",
                 f"HEAD:refs/heads/{branch}", cwd=repo)


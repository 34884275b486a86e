"""Hostile repositories: each odd file is skipped with its reason, nothing is
written outside the work directory, nothing in the repository is executed,
and the token appears in nothing the bot wrote."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bot_helpers import TOKEN, bot, git, github, make_remote  # noqa: F401 (fixtures)

APP = 'FROM python:3.12-slim\nCOPY app.py /app/\nCMD ["python", "/app/app.py"]\n'
LFS = ("version https://git-lfs.github.com/spec/v1\n"
       "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
       "size 12345\n")


def hostile_remote(tmp_path: Path, markers: Path):
    """A repository with every kind of odd Dockerfile, and one good one."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Dockerfile").write_text(APP)
    sub = make_remote(tmp_path, "sub", {"Dockerfile": APP})
    remote = make_remote(tmp_path, "evil", {
        "Dockerfile": APP,
        "app.py": "print(1)\n",
        "huge/Dockerfile": "FROM alpine\n" + "RUN true\n" * 200_000,
        "binary/Dockerfile": b"FROM alpine\n\0\x01\x02USER root\n",
        "latin1/Dockerfile": "FROM alpine\n# caf\xe9\nCMD [\"x\"]\n".encode("latin-1"),
        "lfs/Dockerfile": LFS,
        "filtered/Dockerfile": APP,
        ".gitattributes": "filtered/Dockerfile filter=evil\nlfs/Dockerfile filter=lfs diff=lfs\n",
        "hooks/post-checkout": f"#!/bin/sh\ntouch {markers}/hook\n",
    })
    clone = remote.clone
    # links: a Dockerfile that points out of the tree, and a directory that does
    os.symlink(outside / "Dockerfile", clone / "Dockerfile.link")
    os.symlink(outside, clone / "linked")
    # a submodule whose URL would run a command if it were ever fetched
    sha = git("rev-parse", "HEAD", cwd=sub.clone).strip()
    (clone / ".gitmodules").write_text(
        f'[submodule "sub"]\n\tpath = vendor/sub\n\turl = {sub.bare}\n'
        f'[submodule "ext"]\n\tpath = vendor/ext\n\turl = ext::sh -c touch% {markers}/ext\n')
    git("add", "-A", cwd=clone)
    for path in ("vendor/sub", "vendor/ext"):
        git("update-index", "--add", "--cacheinfo", f"160000,{sha},{path}", cwd=clone)
    git("commit", "-q", "-m", "odd files", cwd=clone)
    git("push", "-q", "origin", "HEAD:refs/heads/main", cwd=clone)
    return remote, outside


def hostile_env(tmp_path: Path, markers: Path) -> dict[str, str]:
    """A machine whose git configuration would run commands, if it were read."""
    config = tmp_path / "gitconfig"
    config.write_text(
        f"[filter \"evil\"]\n\tsmudge = sh -c 'touch {markers}/smudge; cat'\n\trequired = true\n"
        f"[filter \"lfs\"]\n\tsmudge = sh -c 'touch {markers}/lfs; cat'\n"
        f"\tprocess = sh -c 'touch {markers}/lfs-process'\n"
        f"[core]\n\thooksPath = {tmp_path}/evil/hooks\n"
        f"[credential]\n\thelper = !touch {markers}/credential\n")
    hooks = tmp_path / "evil" / "hooks"
    hooks.mkdir(parents=True)
    for name in ("post-checkout", "pre-commit", "commit-msg", "pre-push", "reference-transaction",
                 "post-commit"):
        (hooks / name).write_text(f"#!/bin/sh\ntouch {markers}/{name}\n")
        (hooks / name).chmod(0o755)
    return {"GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "core.hooksPath", "GIT_CONFIG_VALUE_0": str(hooks),
            "GIT_TRACE": "1", "GIT_TRACE_CURL": "1", "GIT_EXTERNAL_DIFF": f"touch {markers}/diff"}


def snapshot(root: Path) -> dict[str, bytes]:
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            out[str(path.relative_to(root))] = path.read_bytes()
    return out


def test_hostile_repository(bot, github, tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    remote, outside = hostile_remote(tmp_path, markers)
    github.add_repo("acme/evil", str(remote.bare))
    before_outside = snapshot(outside)
    env = hostile_env(tmp_path, markers)

    report = bot.run_repo(remote, "acme/evil", env=env)
    assert report["status"] == "proposed", report
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    assert "symbolic link" in skipped["Dockerfile.link"]
    assert "larger than" in skipped["huge/Dockerfile"]
    assert "binary" in skipped["binary/Dockerfile"]
    assert "not valid UTF-8" in skipped["latin1/Dockerfile"]
    assert ".gitattributes filter (lfs)" in skipped["lfs/Dockerfile"]
    assert ".gitattributes filter (evil)" in skipped["filtered/Dockerfile"]
    assert "submodule" in skipped["vendor/sub"] and "submodule" in skipped["vendor/ext"]
    assert [f["path"] for f in report["files"]] == ["Dockerfile"]

    # only the good Dockerfile changed; the odd ones are byte for byte as they were
    assert "USER 10001:10001" in remote.show("dockfix/non-root", "Dockerfile")
    changed = git("diff", "--name-only", "main", "dockfix/non-root", cwd=remote.bare)
    assert changed.split() == ["Dockerfile"]
    body = github.pulls["acme/evil"][0]["body"]
    assert "### Files not looked at" in body and "`latin1/Dockerfile`: line 2: not valid UTF-8" in body

    assert sorted(os.listdir(markers)) == []  # no hook, filter, helper or submodule ran
    assert snapshot(outside) == before_outside  # nothing written through the links
    assert list((tmp_path / "tmpdir").iterdir()) == []  # the work dir is gone
    assert list((tmp_path / "home").iterdir()) == []  # nothing in HOME either


def test_an_lfs_pointer_without_attributes_is_skipped(bot, github, tmp_path):
    remote = make_remote(tmp_path, "lfs", {"Dockerfile": LFS})
    github.add_repo("acme/lfs", str(remote.bare))
    report = bot.run_repo(remote, "acme/lfs")
    assert report["status"] == "nothing-to-do"
    assert report["skipped"] == [{"path": "Dockerfile", "reason":
                                  "a Git LFS pointer: the real file is not in the repository; not read"}]


def test_a_directory_that_is_not_git(bot, github, tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "Dockerfile").write_text(APP)
    proc = bot.run("run", str(plain), "--dry-run", str(tmp_path / "out"))
    assert proc.returncode == 1
    assert proc.stderr == f"{plain}: error: {plain}: not a git repository\n"
    assert (plain / "Dockerfile").read_text() == APP and not (tmp_path / "out").exists()
    missing = bot.run("run", str(tmp_path / "nope"), "--dry-run", str(tmp_path / "out"))
    assert missing.returncode == 1 and "no such directory" in missing.stderr


def test_a_bad_repository_config_fails_that_file_only(bot, github, tmp_path):
    remote = make_remote(tmp_path, "cfg", {"Dockerfile": APP, "bad/Dockerfile": APP,
                                          "bad/.dockfix.toml": "uid = 0\n"})
    github.add_repo("acme/cfg", str(remote.bare))
    report = bot.run_repo(remote, "acme/cfg")
    assert report["status"] == "proposed"
    bad = next(f for f in report["files"] if f["path"] == "bad/Dockerfile")
    assert bad["status"] == "error" and "bad/.dockfix.toml" in bad["reason"]
    assert remote.show("dockfix/non-root", "bad/Dockerfile") == APP


def test_the_token_is_in_nothing_the_bot_wrote(bot, github, tmp_path):
    """Every scenario above and its failures, then a grep of everything."""
    markers = tmp_path / "markers"
    markers.mkdir()
    remote, _ = hostile_remote(tmp_path, markers)
    github.add_repo("acme/evil", str(remote.bare))
    env = hostile_env(tmp_path, markers)
    bot.run_repo(remote, "acme/evil", env=env)  # proposed
    bot.run_repo(remote, "acme/evil", env=env)  # unchanged
    remote.commit({"extra/Dockerfile": APP}, branch="dockfix/non-root")
    remote.commit({"two/Dockerfile": APP, "two/app.py": "x\n"})
    bot.run_repo(remote, "acme/evil", env=env)  # blocked: a comment
    github.add_repo("acme/gone", str(tmp_path / "missing.git"))
    bot.run_repo(remote, "acme/gone")  # a clone that fails
    bot.run("run", "https://github.invalid/acme/app", "--github-repo", "acme/app",
            "--api-url", "http://127.0.0.1:9")  # an API that is not there
    bot.run("run", str(remote.bare), "--github-repo", "acme/evil", "--api-url", github.url,
            "--dry-run", str(tmp_path / "dry"))
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    bot.run("run", str(remote.bare), "--github-repo", "acme/nope", "--api-url", github.url,
            "--token-file", str(token_file), env={"GITHUB_TOKEN": None})

    seen = list(bot.outputs)
    seen += [body for _, _, body in github.requests]
    seen += [c for cs in github.comments.values() for c in cs]
    seen += [p["body"] + p["title"] for ps in github.pulls.values() for p in ps]
    seen.append(subprocess.run(["git", "-C", str(remote.bare), "log", "--all", "-p"],
                               capture_output=True, text=True, errors="replace").stdout)
    for path in (tmp_path / "dry").rglob("*"):
        seen.append(path.read_text(errors="replace"))
    for root in (tmp_path / "home", tmp_path / "tmpdir"):
        seen += [p.read_text(errors="replace") for p in root.rglob("*") if p.is_file()]
    assert len(seen) > 20 and any("acme/evil" in s for s in seen)
    import base64

    basic = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    for text in seen:
        assert TOKEN not in text
        assert basic not in text

"""The build context: what rules may read around a Dockerfile, and what they may not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rewriter.io.context import (
    MAX_FILE_BYTES,
    DirectoryContext,
    Listings,
    MemoryContext,
    OverlayContext,
    ancestors,
    dockerfile_dir,
    find_root,
    normalize,
)


def test_normalize_keeps_paths_inside_the_root():
    assert normalize("a/./b/") == "a/b"
    assert normalize("a/../b") == "b"
    assert normalize("/etc/x") == "etc/x"
    assert normalize(".") == ""
    assert normalize("../x") is None
    assert normalize("a/../../x") is None


def test_ancestors_go_up_to_the_root():
    assert ancestors("a/b/Dockerfile") == ["a/b", "a", ""]
    assert ancestors("Dockerfile") == [""]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "svc").mkdir()
    (root / "svc" / "Dockerfile").write_text("FROM debian\n")
    (root / "svc" / "entrypoint.sh").write_text("#!/bin/sh\nexec gosu app \"$@\"\n")
    (root / "compose.yaml").write_text("services: {}\n")
    return root


def test_the_root_is_the_repository(repo: Path):
    ctx = DirectoryContext.for_file(str(repo / "svc" / "Dockerfile"))
    assert ctx.root == str(repo.resolve())
    assert ctx.dockerfile == "svc/Dockerfile"
    assert dockerfile_dir(ctx) == "svc"
    assert ctx.read_text("svc/entrypoint.sh").startswith("#!/bin/sh")
    assert ctx.read_text("compose.yaml") == "services: {}\n"
    assert ctx.is_dir("svc") and not ctx.is_dir("compose.yaml")
    assert ctx.list_dir("svc") == ("Dockerfile", "entrypoint.sh")
    assert set(ctx.walk()) == {"compose.yaml", "svc/Dockerfile", "svc/entrypoint.sh"}


def test_without_git_the_root_is_the_working_directory_that_holds_the_file(tmp_path, monkeypatch):
    (tmp_path / "a" / "b").mkdir(parents=True)
    df = tmp_path / "a" / "b" / "Dockerfile"
    df.write_text("FROM x\n")
    monkeypatch.chdir(tmp_path / "a")
    assert find_root(str(df.resolve())) == str((tmp_path / "a").resolve())
    monkeypatch.chdir(tmp_path / "a" / "b")
    assert find_root(str(df.resolve())) == str(df.parent.resolve())


def test_without_git_and_elsewhere_the_root_is_the_files_directory(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "elsewhere").mkdir()
    df = tmp_path / "a" / "Dockerfile"
    df.write_text("FROM x\n")
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert find_root(str(df.resolve())) == str(df.parent.resolve())


def test_a_link_out_of_the_context_is_not_followed(repo: Path, tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text("token")
    (repo / "svc" / "leak.sh").symlink_to(secret)
    (repo / "svc" / "inside.sh").symlink_to(repo / "svc" / "entrypoint.sh")
    ctx = DirectoryContext(str(repo), "svc/Dockerfile")
    assert ctx.read_text("svc/leak.sh") is None
    assert any("out of the build context" in n for n in ctx.notes)
    assert ctx.read_text("svc/inside.sh").startswith("#!/bin/sh")
    assert ctx.read_text("../secret.txt") is None
    assert "svc/leak.sh" not in set(ctx.walk())  # links are not walked into


def test_shared_listings_never_let_a_link_out_of_its_own_root(tmp_path: Path):
    # One run's contexts share what directories hold; each still checks its
    # own root before it uses what another context listed.
    a, b = tmp_path / "a", tmp_path / "b"
    (a / "conf").mkdir(parents=True)
    (a / "conf" / "app.ini").write_text("x")
    b.mkdir()
    (b / "conf").symlink_to(a / "conf")
    shared = Listings()
    ctx_a = DirectoryContext(str(a), "Dockerfile", shared)
    ctx_b = DirectoryContext(str(b), "Dockerfile", shared)
    assert ctx_a.list_dir("conf") == ("app.ini",)
    assert ctx_b.list_dir("conf") == ()
    assert ctx_b.read_text("conf/app.ini") is None
    (a / "other").mkdir()
    fresh = DirectoryContext(str(a), "Dockerfile", shared)
    assert fresh.is_dir("conf") and fresh.is_dir("other")
    assert fresh.list_dir("") == ("conf", "other")


def test_binary_undecodable_and_large_files_are_skipped_with_a_note(repo: Path):
    (repo / "bin").write_bytes(b"\x7fELF\0\0")
    (repo / "latin1.conf").write_bytes(b"caf\xe9\n")
    (repo / "big.txt").write_bytes(b"x" * (MAX_FILE_BYTES + 1))
    ctx = DirectoryContext(str(repo))
    assert ctx.read_text("bin") is None
    assert ctx.read_text("latin1.conf") is None
    assert ctx.read_text("big.txt") is None
    notes = " ".join(ctx.notes)
    assert "bin: a binary file" in notes and "latin1.conf: not UTF-8" in notes
    assert "big.txt: larger than" in notes


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_never_opened(repo: Path):
    os.mkfifo(repo / "pipe")
    ctx = DirectoryContext(str(repo))
    assert ctx.read_text("pipe") is None  # returns at once instead of blocking


def test_memory_and_overlay_contexts():
    base = MemoryContext({"svc/Dockerfile": "FROM x\n", "svc/run.sh": "old"}, "svc/Dockerfile")
    assert base.list_dir("") == ("svc",) and base.is_dir("svc")
    assert base.read_text("svc/../svc/run.sh") == "old"
    over = OverlayContext(base, {"svc/run.sh": "unsaved"})
    assert over.read_text("svc/run.sh") == "unsaved"
    assert over.dockerfile == "svc/Dockerfile"


def test_the_command_reads_the_entrypoint_script_through_the_context(repo: Path, tmp_path):
    import subprocess
    import sys

    (repo / "svc" / "Dockerfile").write_text(
        "FROM debian:bookworm\nCOPY entrypoint.sh /entrypoint.sh\nENTRYPOINT [\"/entrypoint.sh\"]\n")
    r = subprocess.run([sys.executable, "-m", "rewriter", "svc/Dockerfile"], cwd=repo,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert "the entrypoint script `entrypoint.sh` drops privileges with `gosu`" in r.stderr

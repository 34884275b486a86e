"""deploy/compose.yaml as Docker Compose itself reads it (``docker compose config``):
valid, every service locked down, every ``*_FILE`` variable naming a secret the
service mounts.  Skips when no Compose v2 is on this machine (``docker compose``,
``docker-compose`` v2, ``DOCKFIX_COMPOSE``, or the plugin the stack test fetches
into the build oracle's work directory)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "deploy" / "compose.yaml"
#: where the stack test (test_compose_stack.py) puts Debian's Compose plugin
ORACLE_DIR = Path(os.environ.get("BC_DIR") or
                  Path(os.environ.get("TMPDIR") or "/tmp") / "dockfix-buildcheck")
PLUGIN = ORACLE_DIR / "compose" / "usr" / "libexec" / "docker" / "cli-plugins" / "docker-compose"


def _v2(argv: list[str]) -> bool:
    try:
        proc = subprocess.run([*argv, "version"], capture_output=True, text=True, timeout=60)
    except OSError:
        return False
    return proc.returncode == 0 and "version v2" in proc.stdout.lower().replace(
        "version 2", "version v2")


def compose_command() -> list[str] | None:
    """The argv that runs Docker Compose v2 here, or ``None``."""
    candidates: list[list[str]] = []
    if os.environ.get("DOCKFIX_COMPOSE"):
        candidates.append([os.environ["DOCKFIX_COMPOSE"]])
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    if PLUGIN.is_file():
        candidates.append([str(PLUGIN)])
    return next((c for c in candidates if _v2(c)), None)


def resolved(compose: list[str], project: Path, *files: Path) -> dict:
    args = [a for f in (COMPOSE_FILE, *files) for a in ("-f", str(f))]
    proc = subprocess.run([*compose, *args, "--project-directory", str(COMPOSE_FILE.parent),
                           "config", "--format", "json"], capture_output=True, text=True,
                          timeout=120, cwd=project)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_compose_reads_the_file_as_locked_down(tmp_path):
    compose = compose_command()
    if compose is None:
        pytest.skip("no Docker Compose v2 here (docker compose, docker-compose, DOCKFIX_COMPOSE)")
    check_locked_down(compose, tmp_path)


def check_locked_down(compose: list[str], tmp_path: Path) -> None:
    """deploy/compose.yaml, as ``compose config`` resolves it, is locked down.
    (Also run by the stack test, which fetches Compose where it is missing.)"""
    doc = resolved(compose, tmp_path)
    services = doc["services"]
    assert set(services) == {"web", "worker", "redis"}
    for name, s in services.items():
        uid, _, gid = s["user"].partition(":")
        assert uid.isdigit() and int(uid) > 0 and gid.isdigit(), name
        assert s["read_only"] is True, name
        assert s["cap_drop"] == ["ALL"] and not s.get("cap_add"), name
        assert "no-new-privileges:true" in s["security_opt"], name
        assert not s.get("privileged") and s.get("network_mode") != "host", name
        mounted = {m["target"] for m in s.get("secrets", [])}
        assert mounted and all(t.startswith("/run/secrets/") for t in mounted), name
        for key, value in (s.get("environment") or {}).items():
            if key.endswith("_FILE"):
                assert value in mounted, (name, key, value)  # a secret this service has
            assert not any(w in key for w in ("TOKEN", "SECRET", "PASSWORD")) or \
                key.endswith("_FILE"), (name, key)
            assert "@" not in str(value), (name, key)
        for volume in s.get("volumes", []):
            assert volume["type"] == "volume", (name, volume)  # no host directory
    assert services["worker"]["environment"]["DOCKFIX_GITHUB_TOKEN_FILE"] == \
        "/run/secrets/github-token"
    assert "github-token" not in {m["source"] for m in services["web"]["secrets"]}
    assert set(doc["secrets"]) == {"github-token", "redis-password", "webhook-secret"}
    for secret in doc["secrets"].values():
        assert Path(secret["file"]).parent == COMPOSE_FILE.parent / "secrets"


def test_compose_refuses_a_broken_file(tmp_path):
    """The check above can fail: Compose rejects a file with a bad key."""
    compose = compose_command()
    if compose is None:
        pytest.skip("no Docker Compose v2 here")
    bad = tmp_path / "bad.yaml"
    bad.write_text("services:\n  web:\n    read_only: maybe\n")
    proc = subprocess.run([*compose, "-f", str(COMPOSE_FILE), "-f", str(bad),
                           "config", "--format", "json"], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode != 0 and "read_only" in proc.stderr

"""deploy/compose.yaml as Docker Compose itself reads it (``docker compose config``):
valid, every service locked down, every ``*_FILE`` variable naming a secret the
service mounts.  Compose v2 is ``docker compose``, ``docker-compose`` v2 or
``DOCKFIX_COMPOSE``; else, as root with ``../shared/tools/build-oracle.sh``,
Debian's plugin is fetched into the build oracle's work directory (the stack
test uses it too).  Without any of them the tests skip, and fail under CI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "deploy" / "compose.yaml"
ORACLE = REPO / ".." / "shared" / "tools" / "build-oracle.sh"
CI = os.environ.get("CI") == "true"
#: where Debian's Compose plugin is fetched to (this module and test_compose_stack.py)
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


def oracle(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ORACLE), *args], capture_output=True, text=True, timeout=timeout)


def _fetch_compose() -> None:
    """Debian 13's docker-compose plugin, with the oracle's private apt configuration."""
    apt = ORACLE_DIR / "apt-trixie"
    if not (apt / "sources.list").is_file():
        return
    opts = ["-o", f"Dir::Etc::SourceList={apt}/sources.list", "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", f"Dir::State::Lists={apt}/lists", "-o", f"Dir::Cache={apt}/cache",
            "-o", "APT::Sandbox::User=root"]
    debs = ORACLE_DIR / "compose-debs"
    debs.mkdir(exist_ok=True)
    for _ in range(2):
        if subprocess.run(["apt-get", *opts, "download", "docker-compose"], cwd=debs,
                          capture_output=True, timeout=600).returncode == 0:
            break
        subprocess.run(["apt-get", *opts, "update", "-q"], capture_output=True, timeout=600)
    for deb in debs.glob("docker-compose_*.deb"):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(ORACLE_DIR / "compose")], check=True,
                       timeout=300)
        deb.unlink()


def ensure_compose() -> list[str]:
    """Compose v2's argv: the one on this machine, else Debian's plugin, fetched
    with the build oracle's apt configuration (its ``setup`` writes it). Skips
    when there is none, and fails under CI, where root and the oracle are given."""
    compose = compose_command()
    if compose is None and os.geteuid() == 0 and ORACLE.is_file() \
            and not os.environ.get("DOCKFIX_NO_BUILD"):
        p = oracle("setup")
        if p.returncode != 0:
            pytest.fail(f"build-oracle.sh setup: {p.stderr[-2000:]}")
        _fetch_compose()
        compose = compose_command()
    if compose is None:
        message = "no Docker Compose v2 here (docker compose, docker-compose, DOCKFIX_COMPOSE)"
        if CI and not os.environ.get("DOCKFIX_NO_BUILD"):
            pytest.fail(f"{message}, and Debian's docker-compose could not be fetched")
        pytest.skip(message)
    return compose


def resolved(compose: list[str], project: Path, *files: Path) -> dict:
    args = [a for f in (COMPOSE_FILE, *files) for a in ("-f", str(f))]
    proc = subprocess.run([*compose, *args, "--project-directory", str(COMPOSE_FILE.parent),
                           "config", "--format", "json"], capture_output=True, text=True,
                          timeout=120, cwd=project)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_compose_reads_the_file_as_locked_down(tmp_path):
    check_locked_down(ensure_compose(), tmp_path)


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
    compose = ensure_compose()
    bad = tmp_path / "bad.yaml"
    bad.write_text("services:\n  web:\n    read_only: maybe\n")
    proc = subprocess.run([*compose, "-f", str(COMPOSE_FILE), "-f", str(bad),
                           "config", "--format", "json"], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode != 0 and "read_only" in proc.stderr

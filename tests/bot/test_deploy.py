"""The bot's own image: dockfix accepts deploy/Dockerfile as it is."""

from __future__ import annotations

import json
import subprocess
import sys

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def dockfix(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rewriter", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_dockfix_leaves_the_bots_dockerfile_unchanged():
    check = dockfix("deploy/Dockerfile", "--check")
    assert check.returncode == 0, check.stderr
    doc = json.loads(dockfix("deploy/Dockerfile", "--output-format", "json").stdout)
    (f,) = doc["files"] if isinstance(doc, dict) else doc
    assert f["status"] == "unchanged" and f["findings"] == [] and f["declines"] == []
    runtime = next(s for s in f["stages"] if s["runtime"])
    assert runtime["user_after"] == "10001:10001"  # numeric, not root


def test_the_compose_file_is_locked_down():
    yaml = __import__("pytest").importorskip("yaml")
    doc = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text())
    services = doc["services"]
    assert set(services) == {"web", "worker", "redis"}
    for name, s in services.items():
        uid, _, gid = s["user"].partition(":")
        assert uid.isdigit() and int(uid) > 0 and gid.isdigit(), name
        assert s["read_only"] is True and s["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in s["security_opt"], name
        for key, value in (s.get("environment") or {}).items():
            assert "TOKEN" not in key or key.endswith("_FILE"), name
            assert "SECRET" not in key or key.endswith("_FILE"), name
            assert "PASSWORD" not in key or key.endswith("_FILE"), name
            assert "@" not in str(value), name  # no password in a URL
    assert services["worker"]["command"][0] == "worker"
    assert services["web"]["command"][:1] == ["serve"]
    assert {"github-token", "redis-password", "webhook-secret"} <= set(doc["secrets"])
    assert all("file" in v for v in doc["secrets"].values())

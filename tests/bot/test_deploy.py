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

"""The GitHub Action: ``action.yml`` and the shell steps it runs (``scripts/action.sh``).

The ``run`` step is run here as GitHub would run it: inputs as environment
variables, ``$GITHUB_OUTPUT`` and ``$GITHUB_STEP_SUMMARY`` as files, with the
real dockfix (from this working tree) as the command.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")

ROOT_DF = 'FROM python:3.12-slim\nCOPY app /app\nCMD ["python", "/app/main.py"]\n'
NONROOT_DF = 'FROM python:3.12-slim\nUSER 10001:10001\nCMD ["app"]\n'


def test_action_metadata() -> None:
    yaml = pytest.importorskip("yaml")  # comes with pre-commit
    text = (REPO / "action.yml").read_text()
    action = yaml.safe_load(text)
    assert action["runs"]["using"] == "composite"
    inputs = set(action["inputs"])
    assert {"mode", "paths", "args", "sarif-file", "upload-sarif", "pr-body-file"} <= inputs
    used = set(re.findall(r"\$\{\{\s*inputs\.([a-z-]+)", text))
    used |= set(re.findall(r"inputs\.([a-z-]+) ==", text))
    assert used <= inputs, used - inputs
    assert used == inputs  # every input does something
    outputs = set(re.findall(r"steps\.run\.outputs\.([a-z-]+)", text))
    script = (REPO / "scripts" / "action.sh").read_text()
    written = set(re.findall(r"\bout ([a-z-]+) ", script))
    assert outputs <= written | {"dockfix"}
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"]  # inputs only through env: no injection
            assert step["run"].startswith('bash "$GITHUB_ACTION_PATH/scripts/action.sh" ')
            for var in step.get("env", {}):
                assert var in script, f"{var} is passed but not used"
    upload = next(s for s in action["runs"]["steps"] if "uses" in s)
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")


@pytest.fixture
def workspace(tmp_path: Path) -> dict[str, Path]:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "Dockerfile").write_text(ROOT_DF)
    (repo / "svc").mkdir()
    (repo / "svc" / "Dockerfile").write_text(NONROOT_DF)
    wrapper = tmp_path / "dockfix"
    wrapper.write_text(f'#!/bin/sh\nPYTHONPATH="{REPO}" exec "{sys.executable}" -m rewriter "$@"\n')
    wrapper.chmod(0o755)
    return {"repo": repo, "dockfix": wrapper, "tmp": tmp_path}


def _step(ws: dict[str, Path], mode: str, **inputs: str) -> tuple[int, str, dict[str, str]]:
    out_file = ws["tmp"] / "github_output"
    out_file.write_text("")
    summary = ws["tmp"] / "step_summary"
    summary.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKFIX", "GITHUB_"))}
    env.update({
        "DOCKFIX": str(ws["dockfix"]), "DOCKFIX_MODE": mode, "GITHUB_OUTPUT": str(out_file),
        "GITHUB_STEP_SUMMARY": str(summary), "RUNNER_TEMP": str(ws["tmp"]), "NO_COLOR": "1",
    })
    env.update({f"DOCKFIX_{k.upper()}": v for k, v in inputs.items()})
    proc = subprocess.run(["bash", str(REPO / "scripts" / "action.sh"), "run"], cwd=ws["repo"],
                          env=env, capture_output=True, text=True, timeout=120)
    outputs = dict(line.split("=", 1) for line in out_file.read_text().splitlines())
    return proc.returncode, proc.stdout, outputs


def test_check_mode_fails_with_annotations(workspace: dict[str, Path]) -> None:
    code, stdout, outputs = _step(workspace, "check", paths=".")
    assert code == 1
    assert outputs == {"exit-code": "1", "changed": "true"}
    assert stdout.startswith("::warning file=Dockerfile,line=1,")
    assert "DF001 missing-nonroot-user" in stdout
    summary = (workspace["tmp"] / "step_summary").read_text()
    assert summary.startswith("## Run containers as a non-root user\n")
    assert (workspace["repo"] / "Dockerfile").read_text() == ROOT_DF


def test_check_mode_passes_when_clean(workspace: dict[str, Path]) -> None:
    code, stdout, outputs = _step(workspace, "check", paths="svc")
    assert (code, stdout) == (0, "")
    assert outputs == {"exit-code": "0", "changed": "false"}


def test_sarif_mode_writes_valid_sarif(workspace: dict[str, Path]) -> None:
    import jsonschema

    code, _, outputs = _step(workspace, "sarif", sarif_file="out/dockfix.sarif")
    assert code == 0  # findings do not fail this mode: code scanning shows them
    assert outputs == {"sarif-file": "out/dockfix.sarif", "exit-code": "1", "changed": "true"}
    doc = json.loads((workspace["repo"] / "out" / "dockfix.sarif").read_text())
    schema = json.loads((REPO / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(doc)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in doc["runs"][0]["results"]}
    assert uris == {"Dockerfile"}


def test_fix_mode_writes_fixes_and_a_body(workspace: dict[str, Path]) -> None:
    code, _, outputs = _step(workspace, "fix", args="--uid 10002 --gid 10002")
    assert code == 0
    assert outputs["changed"] == "true" and outputs["exit-code"] == "0"
    body = Path(outputs["pr-body-file"]).read_text()
    assert body.startswith("## Run containers as a non-root user\n")
    assert "dockfix changed 1 Dockerfile" in body
    assert "USER 10002:10002" in (workspace["repo"] / "Dockerfile").read_text()
    code, _, outputs = _step(workspace, "fix")
    assert (code, outputs["changed"]) == (0, "false")


def test_errors_fail_every_mode(workspace: dict[str, Path]) -> None:
    (workspace["repo"] / "Dockerfile").write_text("FROM alpine\nRUN <<EOF\n")
    for mode in ("check", "sarif", "fix"):
        code, _, outputs = _step(workspace, mode)
        assert (code, outputs["exit-code"]) == (2, "2"), mode
    code, stdout, _ = _step(workspace, "bogus")
    assert code == 2 and stdout.startswith("::error title=dockfix::unknown mode 'bogus'")

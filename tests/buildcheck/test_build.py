"""Every image dockfix fixes must build and run as its non-root user, for real.

For each case under tests/fixtures/build (see the README.md there):

1. the original builds and runs as root: the negative control (or as ``before_uid``);
2. ``dockfix --write`` fixes a copy of the case; a declined or already non-root case must
   stay byte-identical;
3. the fixed file builds with the fixture dir as context, its USER is numeric, it runs as
   the expected uid, and its PID 1 is not root;
4. the case's own checks pass in the fixed image (ownership, writable volumes, output).
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.build

REPO = Path(__file__).resolve().parents[2]
PROBE_SECONDS = "2"
NUMERIC_USER = re.compile(r"^\d+(:\d+)?$")
FROM_LINE = re.compile(r"^[ \t]*FROM[ \t]", re.M | re.I)


def run_dockfix(dockerfile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command line, on a Dockerfile that sits in a copy of its build context."""
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "rewriter", "--write", *args, str(dockerfile)],
        capture_output=True, text=True, cwd=dockerfile.parent, timeout=120,
        env={**os.environ, "PYTHONPATH": path},
    )


def _target(stage: str | None) -> tuple[str, ...]:
    """The ``--target`` option for a case's stage, when it names one."""
    return ("--target", stage) if stage else ()


def decline_reasons(dockerfile: Path) -> set[str]:
    from rewriter import fix_text
    from rewriter.io.context import DirectoryContext

    result = fix_text(dockerfile.read_text(encoding="utf-8"), path=str(dockerfile),
                      context=DirectoryContext.for_file(str(dockerfile)))
    return {d.reason for d in result.declines}


def _diff(before: str, after: str) -> str:
    return "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                        "a/Dockerfile", "b/Dockerfile"))


def _first_stages(text: str, n: int) -> str:
    starts = [m.start() for m in FROM_LINE.finditer(text)]
    return text[:starts[n]] if len(starts) > n else text


def test_original_builds_and_runs_as_written(oracle, case, row):
    """The negative control: the original builds here and runs as root (or before_uid)."""
    r = row(case, "before")
    out = oracle.check(case.dir, case.dockerfile, case.tag("before"), "--network", case.network,
                       *_target(case.target))
    r["before"] = out.describe()
    want = (2, "0") if case.before_uid == 0 else (0, str(case.before_uid))  # exit 2: runs as root
    got = (out.rc, out.fields.get("uid"))
    if got != want:
        pytest.fail(f"the original: want (exit, uid) {want}, got {got}\n{out.text}", pytrace=False)


def test_fixed_image_runs_as_non_root_user(oracle, case, row, tmp_path):
    """dockfix's fix builds, runs as the case's numeric uid and passes the case's checks."""
    r = row(case, "after")
    work = tmp_path / case.name
    shutil.copytree(case.dir, work, ignore=shutil.ignore_patterns("case.toml"))
    fixed = work / "Dockerfile"
    before = case.dockerfile.read_bytes()

    p = run_dockfix(fixed, *_target(case.target))
    after = fixed.read_bytes()
    r["after"] = "dockfix failed" if p.returncode else ("unchanged" if after == before else "")
    if p.returncode != 0:
        pytest.fail(f"dockfix exited {p.returncode}:\n{p.stdout}{p.stderr}", pytrace=False)
    before_text, after_text = before.decode(), after.decode()
    if case.expect != "fixed":
        if after != before:
            pytest.fail(f"want {case.expect} ({case.description}), but dockfix changed the "
                        f"file:\n{_diff(before_text, after_text)}", pytrace=False)
        if case.decline_reason and case.decline_reason not in decline_reasons(fixed):
            pytest.fail(f"dockfix did not decline with {case.decline_reason!r}:\n{p.stderr}",
                        pytrace=False)
        return
    if after == before:
        pytest.fail(f"dockfix left the file unchanged:\n{p.stderr}", pytrace=False)

    out = oracle.check(case.dir, fixed, case.tag("after"), "--network", case.network,
                       "--probe", PROBE_SECONDS, "--expect-uid", str(case.uid), *_target(case.target))
    r["after"] = out.describe()
    diff = f"--- the fixed file:\n{_diff(before_text, after_text)}"
    if (out.rc, out.result) != (0, "PASS"):
        pytest.fail(f"the fixed file fails the build oracle (exit {out.rc}):\n{out.text}\n{diff}",
                    pytrace=False)

    problems = []
    image = case.tag("after")
    config_user = out.fields.get("config_user", "")
    if case.user is not None:
        if config_user != case.user:
            problems.append(f"USER {config_user!r} is not the package's account {case.user!r}")
    elif not NUMERIC_USER.match(config_user):
        problems.append(f"USER {config_user!r} is not numeric (uid[:gid])")
    want = {"probe_pid1_euid": str(case.uid)} if case.probe == "running" else {"probe": "exited(code=0)"}
    got = {k: out.fields.get(k) for k in want}
    if got != want:
        logs = oracle.own_output(image, timeout=3)[1]
        problems.append(f"PID 1: want {want}, got {got}; its output:\n{logs}")
    if case.output:
        found, logs = oracle.own_output(image, case.output)
        if not found:
            problems.append(f"its ENTRYPOINT/CMD did not print {case.output!r}; it printed:\n{logs}")
    for check in case.checks:
        c = oracle.in_image(image, check.argv)
        if c.returncode != 0 or (check.stdout is not None and c.stdout.strip() != check.stdout):
            problems.append(f"{' '.join(check.argv)} -> exit {c.returncode}, "
                            f"stdout {c.stdout.strip()!r} (want {check.stdout!r}) {c.stderr}")
    problems += [f"the fixed file lacks {s!r}" for s in case.fixed_contains if s not in after_text]
    problems += [f"the fixed file still has {s!r}" for s in case.fixed_lacks if s in after_text]
    n = case.keep_stages
    if n and _first_stages(after_text, n) != _first_stages(before_text, n):
        problems.append(f"the first {n} stage(s) changed")
    if case.target is not None:
        # the stages built FROM the target still build, and run as they did
        last = oracle.check(case.dir, fixed, case.tag("after-last"), "--network", case.network)
        if last.rc not in (0, 2):
            problems.append(f"the file's last stage no longer builds or runs (exit {last.rc}):\n"
                            f"{last.text}")
    if problems:
        pytest.fail("\n".join([*problems, out.text, diff]), pytrace=False)

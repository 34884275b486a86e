"""A Celery worker started as root (``C_FORCE_ROOT``, ``celery worker --uid``),
fixed by ``dockfix --write``, built and started for real: every process of the
worker runs as the uid dockfix inserted.

The case is ``tests/fixtures/build-celery/debian-celery-worker``: Debian's
``celery`` package (apt, so the build needs the Debian mirror) and an app on
Celery's in-memory broker, so the worker gets to "ready" without Redis.  The
negative controls: the original runs as root, and the same file with only the
USER inserted (DF001 alone, ``--uid`` kept) builds but its worker cannot start.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import TAG_PREFIX, Oracle, Outcome, _skip_or_fail

pytestmark = pytest.mark.build

REPO = Path(__file__).resolve().parents[2]
CASE = REPO / "tests" / "fixtures" / "build-celery" / "debian-celery-worker"
UID = 10001
READY_SECONDS = 90  # a loaded 2-core machine: the worker itself needs about 2 s

#: Run inside the container: the uids and gids (real, effective, saved) of every
#: process whose command line runs celery.
PROCS = """\
import json, os
out = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode()
        status = open(f"/proc/{pid}/status").read().splitlines()
    except OSError:
        continue
    if "celery" in cmd and "import json" not in cmd:
        ids = {l.split(":")[0]: l.split()[1:4] for l in status if l.startswith(("Uid:", "Gid:"))}
        out.append({"pid": int(pid), "cmd": cmd.strip(), "uid": ids["Uid"], "gid": ids["Gid"]})
print(json.dumps(out))
"""


def dockfix(dockerfile: Path, *opts: str) -> subprocess.CompletedProcess[str]:
    """The real command line, run in the copy of the build context."""
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "rewriter", "--write", *opts, str(dockerfile)],
                          capture_output=True, text=True, cwd=dockerfile.parent, timeout=120,
                          env={**os.environ, "PYTHONPATH": path})


def build(oracle: Oracle, dockerfile: Path, phase: str, *opts: str) -> Outcome:
    out = oracle.check(CASE, dockerfile, f"{TAG_PREFIX}celery-worker-{phase}",
                       "--network", "host", *opts)
    if out.fields.get("hint") == "needs-network":
        _skip_or_fail("the build needs the Debian mirror (apt-get install celery)")
    return out


def start_worker(oracle: Oracle, image: str) -> tuple[str, str, str]:
    """Start IMAGE with its own CMD; wait until the worker is ready or has stopped.
    Returns (container id, its logs, running: "true" or "false")."""
    p = oracle.docker("run", "-d", "--network=none", image)
    assert p.returncode == 0, p.stdout + p.stderr
    cid = p.stdout.strip()
    deadline = time.monotonic() + READY_SECONDS
    while True:
        running = oracle.docker("inspect", "-f", "{{.State.Running}}", cid).stdout.strip()
        lp = oracle.docker("logs", cid)  # read after the state: complete once it stopped
        logs = lp.stdout + lp.stderr
        if " ready." in logs or running != "true" or time.monotonic() > deadline:
            return cid, logs, running
        time.sleep(0.5)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("celery")
    return d


def test_original_runs_as_root(oracle: Oracle) -> None:
    out = build(oracle, CASE / "Dockerfile", "before")
    assert (out.rc, out.fields.get("uid")) == (2, "0"), out.text  # exit 2: runs as root


def test_fixed_worker_runs_as_inserted_uid(oracle: Oracle, work: Path) -> None:
    ctx = work / "fixed"
    shutil.copytree(CASE, ctx)
    fixed = ctx / "Dockerfile"
    p = dockfix(fixed)
    assert p.returncode == 0, p.stdout + p.stderr
    text = fixed.read_text()
    cmd = [line for line in text.splitlines() if line.startswith("CMD ")]
    assert f"USER {UID}:{UID}" in text and "C_FORCE_ROOT" not in text, text
    assert cmd == ["CMD celery -A tasks worker --concurrency 1 --loglevel INFO"], text

    out = build(oracle, fixed, "after", "--probe", "3", "--expect-uid", str(UID))
    assert (out.rc, out.result) == (0, "PASS"), f"{out.text}\n{text}"
    assert out.fields.get("probe_pid1_euid") == str(UID), out.text

    image = f"{TAG_PREFIX}celery-worker-after"
    cid, logs, running = start_worker(oracle, image)
    try:
        assert " ready." in logs and running == "true", f"the worker did not get ready:\n{logs}"
        p = oracle.docker("exec", cid, "python3", "-c", PROCS)
        assert p.returncode == 0, p.stdout + p.stderr
        procs = json.loads(p.stdout)
    finally:
        oracle.docker("rm", "-f", cid)
    workers = [q for q in procs if "worker" in q["cmd"]]
    # the main process and its prefork child (--concurrency 1), maybe sh -c above them
    assert len(workers) >= 2, procs
    for q in procs:
        assert q["uid"] == [str(UID)] * 3 and q["gid"] == [str(UID)] * 3, procs


def test_user_alone_is_not_enough(oracle: Oracle, work: Path) -> None:
    """Only the USER inserted (DF001), --uid kept: the image builds and runs as 10001,
    but the worker cannot drop privileges it does not have, and stops."""
    ctx = work / "user-only"
    shutil.copytree(CASE, ctx)
    dockerfile = ctx / "Dockerfile"
    p = dockfix(dockerfile, "--select", "DF001")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "--uid nobody" in dockerfile.read_text()

    out = build(oracle, dockerfile, "user-only")
    assert out.fields.get("uid") == str(UID), out.text
    cid, logs, running = start_worker(oracle, f"{TAG_PREFIX}celery-worker-user-only")
    oracle.docker("rm", "-f", cid)
    assert running == "false" and " ready." not in logs, logs
    assert "Operation not permitted" in logs, logs

"""A real Celery worker on a real Redis (Debian's ``redis-server``, on
loopback, with a password), before and after ``dockfix --unsafe-fixes``:
the worker of the original configuration runs a task sent as pickle; the
worker of the fixed one refuses it and still runs the same task sent as JSON.

The broker URL (with its password) comes from the environment, as DFC004
asks.  Skipped when redis-server or celery is missing; failed under CI.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import run_dockfix  # noqa: E402

CI = os.environ.get("CI") == "true"

CONFIG = """\
import os

broker_url = os.environ["TEST_BROKER_URL"]
# The tasks used to pass datetimes around.
task_serializer = "pickle"
result_serializer = "pickle"
accept_content = ["pickle", "json"]
task_ignore_result = True
"""

TASKS = """\
import pathlib

from celery import Celery

app = Celery("tasks")
app.config_from_object("celeryconfig")


@app.task(name="tasks.mark")
def mark(path):
    pathlib.Path(path).write_text("ran")
"""

#: Sends the same task twice, as pickle then as JSON (the client may send
#: pickle whatever the worker accepts: accept_content is what a consumer reads).
SEND = """\
import sys

from tasks import app

app.send_task("tasks.mark", args=[sys.argv[1]], serializer="pickle")
app.send_task("tasks.mark", args=[sys.argv[2]], serializer="json")
"""


def _need(what: str, ok: bool) -> None:
    if not ok:
        if CI:
            pytest.fail(f"{what} is missing (make test installs it)")
        pytest.skip(f"{what} is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory) -> Iterator[str]:
    server = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None)
    _need("redis-server", server is not None)
    pytest.importorskip("redis") if not CI else None
    import redis

    password = secrets.token_hex(16)
    port = _free_port()
    work = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--requirepass", password,
         "--save", "", "--appendonly", "no", "--dir", str(work)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(host="127.0.0.1", port=port, password=password)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        with pytest.raises(redis.exceptions.AuthenticationError):
            redis.Redis(host="127.0.0.1", port=port).ping()  # the password is needed
        yield f"redis://:{password}@127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def _worker_run(project: Path, url: str, db: int, env_extra: dict[str, str]) -> tuple[bool, bool, str]:
    """Queue a pickle and a JSON message, run a worker until the JSON one is
    done: (pickle ran, json ran, worker log)."""
    pickled, jsoned = project / f"ran-pickle-{db}", project / f"ran-json-{db}"
    log = project / f"worker-{db}.log"
    env = dict(os.environ, TEST_BROKER_URL=url.rsplit("/", 1)[0] + f"/{db}",
               PYTHONPATH=str(project), **env_extra)
    subprocess.run([sys.executable, "send.py", str(pickled), str(jsoned)], cwd=project,
                   env=env, check=True, timeout=30, capture_output=True)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks", "worker", "--pool", "solo",
         "--without-gossip", "--without-mingle", "--without-heartbeat",
         "--loglevel", "INFO", "--logfile", str(log)],
        cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 25
        while not jsoned.exists() and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.1)
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
        try:
            _, err = worker.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            _, err = worker.communicate()
    text = (log.read_text() if log.exists() else "") + err.decode(errors="replace")
    return pickled.exists(), jsoned.exists(), text


@pytest.mark.slow
def test_fixed_config_refuses_pickle_and_runs_json(tmp_path: Path, redis_url: str) -> None:
    pytest.importorskip("celery") if not CI else None
    project = tmp_path / "proj"
    project.mkdir()
    (project / "celeryconfig.py").write_text(CONFIG)
    (project / "tasks.py").write_text(TASKS)
    (project / "send.py").write_text(SEND)

    # Before: the worker runs what it is sent as pickle.  (As root, Celery
    # refuses to start a worker that accepts pickle unless C_FORCE_ROOT is set.)
    force = {"C_FORCE_ROOT": "1"} if os.geteuid() == 0 else {}
    pickle_ran, json_ran, log = _worker_run(project, redis_url, 1, force)
    assert json_ran, log
    assert pickle_ran, log

    # The fix, by the real command, on the project's directory.
    proc = run_dockfix("--unsafe-fixes", "--write", ".", cwd=project)
    assert proc.returncode == 0, proc.stderr.decode()
    fixed = (project / "celeryconfig.py").read_text()
    assert 'task_serializer = "json"' in fixed and 'accept_content = ["json"]' in fixed, fixed
    assert (project / "tasks.py").read_text() == TASKS

    pickle_ran, json_ran, log = _worker_run(project, redis_url, 2, {})
    assert json_ran, log
    assert not pickle_ran, log
    assert "Refusing to deserialize untrusted content of type pickle" in log, log
    assert redis_url.split("@")[0].split(":")[-1] not in log  # the password is not logged

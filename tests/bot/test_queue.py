"""The bot at organisation scale: real redis-server, real Celery workers, real
webhook server, the fake GitHub and local bare remotes.

Workers refuse root; when the tests run as root, a worker runs as 10001 in a
user namespace of its own (``unshare --user --map-user``), which is what it
sees of itself, while it still reaches the test's files.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot_helpers import REPO, TOKEN, github, make_remote  # noqa: F401 (fixtures)

pytest.importorskip("celery", reason="the bot extra is not installed")

REDIS = shutil.which("redis-server")
APP = 'FROM python:3.12-slim\nCOPY app.py /app/\nCMD ["python", "/app/app.py"]\n'
PASSWORD = "pw-" + uuid.uuid4().hex
CI = os.environ.get("CI") == "true"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float, what: str):  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    if REDIS is None:
        if CI:
            pytest.fail("redis-server is not installed (the Makefile installs it as root)")
        pytest.skip("redis-server is not installed")
    import redis

    port = free_port()
    data = tmp_path / "redis"
    data.mkdir()
    proc = subprocess.Popen([REDIS, "--bind", "127.0.0.1", "--port", str(port),
                             "--requirepass", PASSWORD, "--save", "", "--appendonly", "no",
                             "--dir", str(data), "--protected-mode", "yes"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, password=PASSWORD)

    def up() -> bool:
        try:
            return bool(client.ping())
        except redis.exceptions.ConnectionError:
            return False

    try:
        wait_for(up, 20, "redis-server")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def redis_client(url: str):  # type: ignore[no-untyped-def]
    import redis

    return redis.Redis.from_url(url, password=PASSWORD)


def env_for(tmp_path: Path, url: str, **extra: str) -> dict[str, str]:
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKFIX_", "GITHUB_"))}
    env.update({"PYTHONPATH": str(REPO), "DOCKFIX_BROKER_URL": url,
                "DOCKFIX_REDIS_PASSWORD": PASSWORD, "GITHUB_TOKEN": TOKEN,
                "TMPDIR": str(tmpdir), "HOME": str(tmpdir)})
    env.update(extra)
    return env


def dockfix_bot(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rewriter", "bot", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def unprivileged() -> list[str]:
    """The prefix that runs a command as a non-root user (none when not root)."""
    if os.geteuid() != 0:
        return []
    probe = subprocess.run(["unshare", "--user", "--map-user=10001", "--map-group=10001",
                            "true"], capture_output=True)
    if probe.returncode != 0:
        if CI:
            pytest.fail("cannot run a worker as non-root: unshare --user failed")
        pytest.skip("cannot run a worker as non-root here (no user namespaces)")
    return ["unshare", "--user", "--map-user=10001", "--map-group=10001"]


class Worker:
    def __init__(self, env: dict[str, str], log: Path, concurrency: int = 1) -> None:
        self.log = log
        self.out = open(log, "ab")
        self.proc = subprocess.Popen(
            [*unprivileged(), sys.executable, "-m", "rewriter", "bot", "worker",
             "--concurrency", str(concurrency), "--loglevel", "info"],
            env=env, stdout=self.out, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        """SIGKILL the worker and its pool, as a crash would."""
        import signal

        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.out.close()

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()


def queue_empty(url: str) -> bool:
    c = redis_client(url)
    return c.llen("dockfix") == 0 and c.hlen("unacked") == 0


def repos_file(tmp_path: Path, remotes: dict[str, Path]) -> Path:
    path = tmp_path / "repos.txt"
    path.write_text("# repositories\n" + "".join(f"{bare} {full}\n"
                                                 for full, bare in remotes.items()))
    return path


def test_a_worker_refuses_to_run_as_root(tmp_path, redis_url):
    env = env_for(tmp_path, redis_url)
    prefix = [] if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user"]
    proc = subprocess.run([*prefix, sys.executable, "-m", "rewriter", "bot", "worker"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.startswith("dockfix bot: error: worker: refusing to run as root")
    assert len(proc.stderr.splitlines()) == 1 and proc.stdout == ""


def test_the_broker_needs_a_password(tmp_path, redis_url):
    env = env_for(tmp_path, redis_url)
    env.pop("DOCKFIX_REDIS_PASSWORD")
    listing = tmp_path / "r.txt"
    listing.write_text("acme/app\n")
    proc = dockfix_bot("enqueue", "--repos", str(listing), env=env)
    assert proc.returncode == 2
    assert "the broker needs a password" in proc.stderr and "Traceback" not in proc.stderr


def test_enqueue_an_organisation(tmp_path, redis_url, github):
    for name, flags in (("a", {}), ("b", {}), ("old", {"archived": True}),
                        ("copy", {"fork": True})):
        github.add_repo(f"acme/{name}", str(tmp_path / f"{name}.git"), **flags)
    github.add_repo("other/x", str(tmp_path / "x.git"))
    env = env_for(tmp_path, redis_url)
    proc = dockfix_bot("enqueue", "--org", "acme", "--api-url", github.url, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "enqueued 2 repositories\n"
    c = redis_client(redis_url)
    kwargs = [json.loads(base64.b64decode(json.loads(m)["body"]))[1]
              for m in c.lrange("dockfix", 0, -1)]
    assert sorted(k["github_repo"] for k in kwargs) == ["acme/a", "acme/b"]
    assert all(k["repo"] == f"https://github.com/{k['github_repo']}.git" for k in kwargs)
    bad = dockfix_bot("enqueue", "--org", "acme", "--repos", "x", env=env)
    assert bad.returncode == 2 and "one of --org ORG or --repos FILE" in bad.stderr


def test_json_tasks_run_and_pickle_is_refused(tmp_path, redis_url, github):
    remotes = {}
    for name in ("one", "two", "three"):
        remote = make_remote(tmp_path, name, {"Dockerfile": APP, "app.py": "x\n"})
        github.add_repo(f"acme/{name}", str(remote.bare))
        remotes[f"acme/{name}"] = remote.bare
    env = env_for(tmp_path, redis_url, DOCKFIX_API_URL=github.url)
    listing = repos_file(tmp_path, {k: v for k, v in remotes.items() if k != "acme/three"})
    proc = dockfix_bot("enqueue", "--repos", str(listing), env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "enqueued 2 repositories\n"
    # a pickle message for the third: a worker never unpickles
    publish_raw(redis_url, {"repo": str(remotes["acme/three"]), "github_repo": "acme/three"},
                "pickle")
    payloads = [json.loads(m) for m in redis_client(redis_url).lrange("dockfix", 0, -1)]
    assert all(TOKEN not in json.dumps(p) for p in payloads)  # no secret in a message

    worker = Worker(env, tmp_path / "worker.log", concurrency=2)
    try:
        wait_for(lambda: len(github.pulls["acme/one"]) == 1 and len(github.pulls["acme/two"]) == 1,
                 60, "two pull requests")
        wait_for(lambda: queue_empty(redis_url), 30, "an empty queue")
        wait_for(lambda: "pickle" in worker.text(), 10, "the refusal in the log")
    finally:
        worker.stop()
    assert github.pulls["acme/three"] == []
    assert "Refusing to deserialize untrusted content of type pickle" in worker.text()
    assert TOKEN not in worker.text()


def publish_raw(url: str, kwargs: dict, serializer: str) -> None:
    """Publish a task message with ``serializer`` in another process (kombu's
    serializer registry is process-wide)."""
    code = f"""
import kombu, uuid
conn = kombu.Connection({url!r}, password={PASSWORD!r})
with conn:
    p = conn.Producer()
    tid = str(uuid.uuid4())
    p.publish(((), {kwargs!r}, {{}}), exchange="", routing_key="dockfix", serializer={serializer!r},
              headers={{"lang": "py", "task": "dockfix.run_repo", "id": tid, "root_id": tid,
                        "parent_id": None, "group": None, "retries": 0, "eta": None,
                        "expires": None, "argsrepr": "()", "kwargsrepr": "{{}}"}},
              declare=[kombu.Queue("dockfix")])
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60,
                   env={**os.environ, "PYTHONPATH": str(REPO)})


def signing_keys(tmp_path: Path) -> dict[str, str]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dockfix-bot")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    store = tmp_path / "certs"
    store.mkdir()
    key_path, cert_path = tmp_path / "bot.key", store / "bot.pem"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return {"DOCKFIX_SIGNING_KEY": str(key_path), "DOCKFIX_SIGNING_CERT": str(cert_path),
            "DOCKFIX_CERT_STORE": str(store)}


def tamper(url: str, old: bytes, new: bytes) -> None:
    """Change ``old`` to ``new`` inside the signed body of the last queued message."""
    from celery.utils.serialization import b64decode, b64encode

    c = redis_client(url)
    raw = json.loads(c.lindex("dockfix", 0))
    outer = base64.b64decode(raw["body"])
    inner = b64decode(outer)
    assert old in inner
    raw["body"] = base64.b64encode(b64encode(inner.replace(old, new)).encode()).decode()
    c.lset("dockfix", 0, json.dumps(raw))


def test_with_signing_only_signed_untampered_messages_run(tmp_path, redis_url, github):
    remotes = {}
    for name in ("signed", "tampered", "unsigned"):
        remote = make_remote(tmp_path, name, {"Dockerfile": APP, "app.py": "x\n"})
        github.add_repo(f"acme/{name}", str(remote.bare))
        remotes[f"acme/{name}"] = remote.bare
    keys = signing_keys(tmp_path)
    signed_env = env_for(tmp_path, redis_url, DOCKFIX_API_URL=github.url, **keys)
    plain_env = env_for(tmp_path, redis_url, DOCKFIX_API_URL=github.url)

    one = repos_file(tmp_path, {"acme/signed": remotes["acme/signed"]})
    assert dockfix_bot("enqueue", "--repos", str(one), env=signed_env).returncode == 0
    two = repos_file(tmp_path, {"acme/tampered": remotes["acme/tampered"]})
    assert dockfix_bot("enqueue", "--repos", str(two), env=signed_env).returncode == 0
    tamper(redis_url, b"acme/tampered", b"acme/signed!!")
    three = repos_file(tmp_path, {"acme/unsigned": remotes["acme/unsigned"]})
    assert dockfix_bot("enqueue", "--repos", str(three), env=plain_env).returncode == 0
    assert redis_client(redis_url).llen("dockfix") == 3

    worker = Worker(signed_env, tmp_path / "worker.log")
    try:
        wait_for(lambda: len(github.pulls["acme/signed"]) == 1, 60, "the signed task's PR")
        wait_for(lambda: queue_empty(redis_url), 30, "an empty queue")
        time.sleep(1)
    finally:
        worker.stop()
    log = worker.text()
    assert github.pulls["acme/tampered"] == [] and github.pulls["acme/unsigned"] == []
    assert len(github.pulls["acme/signed"]) == 1  # the tampered copy did not run it again
    assert "Refusing to deserialize untrusted content of type json" in log  # unsigned
    assert "SecurityError" in log or "Bad signature" in log or "signature" in log.lower()


def posts(gh, full: str) -> int:
    return sum(1 for m, p, _ in gh.requests if m == "POST" and p == f"/repos/{full}/pulls")


def test_two_workers_never_race_on_one_repository(tmp_path, redis_url, github):
    remote = make_remote(tmp_path, "app", {"Dockerfile": APP, "app.py": "x\n"})
    github.add_repo("acme/app", str(remote.bare))
    github.delay["acme/app"] = 1.0  # slow enough that both tasks overlap without the lock
    env = env_for(tmp_path, redis_url, DOCKFIX_API_URL=github.url)
    listing = repos_file(tmp_path, {"acme/app": remote.bare})
    workers = [Worker(env, tmp_path / f"w{i}.log") for i in range(2)]
    try:
        # both idle before the two tasks come, so each takes one at once
        wait_for(lambda: all(" ready." in w.text() for w in workers), 60, "two workers")
        twice = tmp_path / "twice.txt"
        twice.write_text(listing.read_text().splitlines()[-1] + "\n" + listing.read_text())
        assert dockfix_bot("enqueue", "--repos", str(twice), env=env).returncode == 0
        wait_for(lambda: sum(w.text().count("succeeded in") for w in workers) == 2, 90,
                 "both tasks")
    finally:
        for w in workers:
            w.stop()
    logs = "".join(w.text() for w in workers)
    assert "acme/app: proposed" in logs and "acme/app: unchanged" in logs
    assert "Retry in 5s" in logs  # the second waited for the first's lock
    assert posts(github, "acme/app") == 1 and len(github.pulls["acme/app"]) == 1


def test_a_rate_limit_becomes_a_delayed_retry(tmp_path, redis_url, github):
    remote = make_remote(tmp_path, "app", {"Dockerfile": APP, "app.py": "x\n"})
    github.add_repo("acme/app", str(remote.bare))
    github.limited["acme/app"] = 1  # one 429 with Retry-After: 1
    env = env_for(tmp_path, redis_url, DOCKFIX_API_URL=github.url)
    listing = repos_file(tmp_path, {"acme/app": remote.bare})
    assert dockfix_bot("enqueue", "--repos", str(listing), env=env).returncode == 0
    worker = Worker(env, tmp_path / "w.log")
    try:
        wait_for(lambda: len(github.pulls["acme/app"]) == 1, 60, "the pull request")
    finally:
        worker.stop()
    assert "HTTP 429" in worker.text() and "Retry in 1s" in worker.text()


def test_githubs_rate_limit_headers_set_the_retry_delay(tmp_path, redis_url, github):
    """The primary limit (403, ``x-ratelimit-remaining: 0``) and then a secondary
    one (403, ``Retry-After``), both on opening the pull request, after the
    branch was pushed: each becomes a retry after the delay its header gives,
    and the repository still gets one pull request."""
    import re

    remote = make_remote(tmp_path, "app", {"Dockerfile": APP, "app.py": "x\n"})
    github.add_repo("acme/app", str(remote.bare))
    github.rate_limit("acme/app", "primary", method="POST", path="/pulls", seconds=4)
    github.rate_limit("acme/app", "secondary", method="POST", path="/pulls", seconds=3)
    env = env_for(tmp_path, redis_url, DOCKFIX_API_URL=github.url)
    listing = repos_file(tmp_path, {"acme/app": remote.bare})
    assert dockfix_bot("enqueue", "--repos", str(listing), env=env).returncode == 0
    worker = Worker(env, tmp_path / "w.log")
    try:
        wait_for(lambda: len(github.pulls["acme/app"]) == 1, 120, "the pull request")
        wait_for(lambda: queue_empty(redis_url), 30, "an empty queue")
    finally:
        worker.stop()
    log = worker.text()
    (primary, p_headers), (secondary, _) = [(t, h) for t, _, _, _, h in github.limit_log]
    reset = int(p_headers["x-ratelimit-reset"])
    delays = [int(d) for d in re.findall(r"Retry in (\d+)s", log)]
    assert len(delays) == 2, log
    # the first from the reset header (rounded up, one second more), the second Retry-After
    assert reset - primary - 1 <= delays[0] <= reset - primary + 2.5, (delays, reset, primary)
    assert delays[1] == 3
    when = [t for t, (m, p, _) in zip(github.times, github.requests)
            if m == "POST" and p == "/repos/acme/app/pulls"]
    assert len(when) == 3  # limited, limited, opened
    assert when[1] >= reset  # not before GitHub's reset
    assert when[2] >= secondary + 3  # nor before Retry-After's end
    assert len(github.pulls["acme/app"]) == 1
    assert len(remote.log("main..dockfix/non-root", "%H")) == 1  # one commit, pushed once
    assert TOKEN not in log


def test_a_worker_killed_mid_task_loses_no_repository(tmp_path, redis_url, github):
    remote = make_remote(tmp_path, "app", {"Dockerfile": APP, "app.py": "x\n"})
    github.add_repo("acme/app", str(remote.bare))
    github.delay["acme/app"] = 4.0
    env = env_for(tmp_path, redis_url, DOCKFIX_API_URL=github.url,
                  DOCKFIX_VISIBILITY_TIMEOUT="3", DOCKFIX_LOCK_SECONDS="3")
    listing = repos_file(tmp_path, {"acme/app": remote.bare})
    assert dockfix_bot("enqueue", "--repos", str(listing), env=env).returncode == 0
    first = Worker(env, tmp_path / "first.log")
    wait_for(lambda: "received" in first.text(), 60, "the task to start")
    time.sleep(1)
    first.kill()  # mid-task: its GitHub call is still waiting
    assert github.pulls["acme/app"] == []
    github.delay["acme/app"] = 0
    second = Worker(env, tmp_path / "second.log")
    try:
        # kombu restores an unacked message on its own schedule (up to ~90 s
        # under load), after the visibility timeout
        wait_for(lambda: len(github.pulls["acme/app"]) == 1, 240, "the redelivered task")
        assert "Restoring" in second.text() or "received" in second.text()
        wait_for(lambda: queue_empty(redis_url), 30, "an empty queue")
    finally:
        second.stop()
    assert len(github.pulls["acme/app"]) == 1


# --- webhooks -----------------------------------------------------------------

SECRET = "whsec-" + uuid.uuid4().hex


@pytest.fixture
def server(tmp_path, redis_url) -> Iterator[str]:
    port = free_port()
    env = env_for(tmp_path, redis_url, DOCKFIX_WEBHOOK_SECRET=SECRET)
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "rewriter", "bot", "serve", "--host",
                             "127.0.0.1", "--port", str(port)], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return urllib.request.urlopen(url + "/healthz", timeout=2).status == 200
        except OSError:
            if proc.poll() is not None:
                raise AssertionError((tmp_path / "serve.log").read_text()) from None
            return False

    try:
        wait_for(up, 30, "the webhook server")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
        assert SECRET not in (tmp_path / "serve.log").read_text()


def deliver(url: str, event: str, body: bytes, *, signature: str | None = "good",
            delivery: str | None = None) -> int:
    headers = {"Content-Type": "application/json", "X-GitHub-Event": event,
               "X-GitHub-Delivery": delivery or str(uuid.uuid4())}
    if signature == "good":
        headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(
            SECRET.encode(), body, hashlib.sha256).hexdigest()
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    import http.client
    from urllib.parse import urlsplit

    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.putrequest("POST", "/webhook")
        for key, value in {**headers, "Content-Length": str(len(body))}.items():
            conn.putheader(key, value)
        conn.endheaders()
        try:
            conn.send(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered (413) and closed before reading it all
        return conn.getresponse().status
    finally:
        conn.close()


INSTALL = json.dumps({"action": "created", "installation": {"id": 1},
                      "repositories": [{"full_name": "acme/one"}, {"full_name": "acme/two"}]}
                     ).encode()


def test_webhooks_refuse_what_is_not_signed_fresh_and_well_formed(server, redis_url):
    c = redis_client(redis_url)
    assert deliver(server, "installation", INSTALL, signature=None) == 401
    assert deliver(server, "installation", INSTALL, signature="sha256=" + "0" * 64) == 401
    wrong = "sha256=" + hmac.new(b"not-the-secret", INSTALL, hashlib.sha256).hexdigest()
    assert deliver(server, "installation", INSTALL, signature=wrong) == 401
    assert deliver(server, "installation", b"x" * (1024 * 1024 + 1)) == 413
    assert deliver(server, "installation", b"{not json") == 400
    assert deliver(server, "installation", b"[1, 2]") == 400
    assert c.llen("dockfix") == 0  # nothing enqueued by any of them

    delivery = str(uuid.uuid4())
    assert deliver(server, "installation", INSTALL, delivery=delivery) == 202
    assert c.llen("dockfix") == 2
    kwargs = [json.loads(base64.b64decode(json.loads(m)["body"]))[1]
              for m in c.lrange("dockfix", 0, -1)]
    assert sorted(k["github_repo"] for k in kwargs) == ["acme/one", "acme/two"]
    assert deliver(server, "installation", INSTALL, delivery=delivery) == 409  # a replay
    assert c.llen("dockfix") == 2


def test_webhook_events(server, redis_url):
    c = redis_client(redis_url)
    added = {"action": "added", "repositories_added": [{"full_name": "acme/three"}]}
    assert deliver(server, "installation_repositories", json.dumps(added).encode()) == 202
    assert c.llen("dockfix") == 1
    repo = {"full_name": "acme/three", "default_branch": "main"}
    docs = {"ref": "refs/heads/main", "repository": repo,
            "commits": [{"added": [], "modified": ["README.md"], "removed": []}]}
    assert deliver(server, "push", json.dumps(docs).encode()) == 202
    other = {**docs, "ref": "refs/heads/feature",
             "commits": [{"modified": ["Dockerfile"]}]}
    assert deliver(server, "push", json.dumps(other).encode()) == 202
    assert c.llen("dockfix") == 1  # documentation, and a branch that is not the default
    df = {**docs, "commits": [{"modified": ["svc/Dockerfile"]}]}
    assert deliver(server, "push", json.dumps(df).encode()) == 202
    assert c.llen("dockfix") == 2
    closed = {"action": "closed", "repository": repo,
              "pull_request": {"merged": False, "head": {"ref": "dockfix/non-root"}}}
    assert deliver(server, "pull_request", json.dumps(closed).encode()) == 202
    assert c.sismember("dockfix:opt-out", "acme/three")


ENTRY_APP = {
    "Dockerfile": ("FROM debian:bookworm\nCOPY docker-entrypoint.sh /usr/local/bin/\n"
                   "COPY app/ /app/\nENTRYPOINT [\"docker-entrypoint.sh\"]\nCMD [\"/app/run\"]\n"),
    "docker-entrypoint.sh": '#!/bin/sh\nexec "$@"\n',
    "app/run": "#!/bin/sh\necho hi\n",
    "compose.yaml": "services:\n  app:\n    build: .\n",
    "src/main.go": "package main\n",
    "README.md": "# app\n",
}


def test_a_push_reruns_only_when_it_changes_what_dockfix_read(tmp_path, redis_url, github,
                                                               server):
    remote = make_remote(tmp_path, "app", ENTRY_APP)
    github.add_repo("acme/app", str(remote.bare))
    env = env_for(tmp_path, redis_url, DOCKFIX_API_URL=github.url)
    listing = repos_file(tmp_path, {"acme/app": remote.bare})
    assert dockfix_bot("enqueue", "--repos", str(listing), env=env).returncode == 0
    c = redis_client(redis_url)
    worker = Worker(env, tmp_path / "w.log")
    try:
        wait_for(lambda: c.exists("dockfix:context:acme/app"), 90, "the run's record")
        wait_for(lambda: queue_empty(redis_url), 30, "an empty queue")
    finally:
        worker.stop()
    record = json.loads(c.get("dockfix:context:acme/app"))
    # what the judge read: the entrypoint it runs, the compose file that builds it, the
    # README beside it (which documents how the image is run)
    assert {"docker-entrypoint.sh", "compose.yaml", "README.md"} <= set(record["read"]), record
    assert "app" in record["listed"] and "src/main.go" not in record["read"]

    def push(full: str, forced: bool = False, **change: list[str]) -> int:
        doc = {"ref": "refs/heads/main", "forced": forced,
               "repository": {"full_name": full, "default_branch": "main"},
               "commits": [{"added": [], "modified": [], "removed": [], **change}]}
        assert deliver(server, "push", json.dumps(doc).encode()) == 202
        return c.llen("dockfix")

    # the code, other docs, a new source file: dockfix read none of them
    assert push("acme/app", modified=["src/main.go", "site/guide.md"]) == 0
    assert push("acme/app", added=["src/util.go"], removed=["site/old.md"]) == 0
    # what it read, or where it looked
    assert push("acme/app", modified=["docker-entrypoint.sh"]) == 1
    assert push("acme/app", modified=["compose.yaml"]) == 2
    assert push("acme/app", added=["app/extra.sh"]) == 3  # a copied folder's new file
    assert push("acme/app", removed=["app/run"]) == 4
    assert push("acme/app", modified=["svc/Dockerfile.prod"]) == 5  # a Dockerfile
    assert push("acme/app", modified=["pyproject.toml"]) == 6  # dockfix's configuration
    assert push("acme/app", forced=True, modified=["src/main.go"]) == 7  # history rewritten
    assert push("acme/app", modified=["README.md"]) == 8  # its documented `docker run`
    assert push("acme/app", added=["docs/usage.md"]) == 9  # a docs page may show it too
    # a repository with no record yet: any change but documentation
    assert push("acme/new", modified=["README.md"]) == 9
    assert push("acme/new", modified=["src/main.go"]) == 10

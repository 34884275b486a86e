"""deploy/compose.yaml run for real: web, worker and redis under a Docker engine
(the build oracle's, ``../shared/tools/build-oracle.sh``), then ``docker inspect``
and the kernel's view of each container's processes say the hardening is in
effect: a numeric non-root user, a read-only root file system, no capabilities,
no-new-privileges, and secrets as read-only files that no environment, command
line or log holds.

No registry can be reached here, so two stand-in base images are made from the
oracle's ``debian:bookworm``: one with Python for the bot's image (deploy/Dockerfile
as it is, on that base instead of ``python:3.12-slim``) and one with Debian's
``redis-server`` for ``redis:7-alpine`` (the compose file's own entrypoint, which
reads the password from its secret file, runs on it).  Compose itself is Debian
13's ``docker-compose`` package, fetched with the oracle's private apt
configuration.  A small override file swaps those images in, publishes the web
port on a free loopback port and points the secrets at files made here.

Marked ``build``: it needs root, the oracle and a few minutes the first time
(the builds' layers are cached after that).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from test_compose import (CI, COMPOSE_FILE, ORACLE, PLUGIN, REPO, _fetch_compose,
                          check_locked_down, compose_command, oracle)

pytestmark = pytest.mark.build

STANDIN_PYTHON = """FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-pip \\
    && rm -rf /var/lib/apt/lists/* && ln -s /usr/bin/python3 /usr/local/bin/python
ENV PIP_BREAK_SYSTEM_PACKAGES=1
COPY ca.pem /etc/ssl/host-ca.pem
ENV PIP_CERT=/etc/ssl/host-ca.pem
"""
STANDIN_REDIS = """FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends redis-server \\
    && rm -rf /var/lib/apt/lists/* && mkdir /data && chown 999:1000 /data
"""
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")


@pytest.fixture(scope="module")
def engine() -> Iterator[dict[str, str]]:
    if os.geteuid() != 0 or not ORACLE.is_file() or os.environ.get("DOCKFIX_NO_BUILD"):
        if CI and not os.environ.get("DOCKFIX_NO_BUILD"):
            pytest.fail("the compose stack test needs root and ../shared/tools/build-oracle.sh")
        pytest.skip("needs root and ../shared/tools/build-oracle.sh")
    running = "dockerd running" in oracle("status").stdout
    for step in ("setup", "start", "bases"):
        p = oracle(step)
        if p.returncode != 0:
            pytest.fail(f"build-oracle.sh {step}: {p.stderr[-2000:]}")
    env = dict(os.environ)
    for line in oracle("env").stdout.splitlines():
        if line.startswith("export "):
            env.update(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    docker = re.search(r"alias docker=(\S+)", oracle("env").stdout)
    assert docker, "build-oracle.sh env names no docker client"
    if not PLUGIN.is_file() and compose_command() is None:
        _fetch_compose()
    compose = compose_command()
    if compose is None:
        pytest.fail("no Docker Compose v2, and Debian's docker-compose could not be fetched")
    env["DOCKER"], env["COMPOSE"] = docker.group(1), json.dumps(compose)
    try:
        yield env
    finally:
        if not running:  # stop only the engine this test started
            oracle("stop")


def run(env: dict[str, str], *argv: str, timeout: float = 900, check: bool = True,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(argv), env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=cwd)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(argv[:4])}...: {proc.stdout[-1500:]}{proc.stderr[-3000:]}")
    return proc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid: int) -> dict[str, str]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        out[key] = value.strip()
    return out


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").iterdir():
            children = (task / "children").read_text().split()
            todo += [int(c) for c in children]
    return out


def test_the_stack_runs_locked_down(engine, tmp_path):
    docker, compose = engine["DOCKER"], json.loads(engine["COMPOSE"])
    check_locked_down(compose, tmp_path)  # what the file says, as Compose reads it
    tag = f"dockfix-test/bot-{uuid.uuid4().hex[:8]}"
    # the stand-in bases, and deploy/Dockerfile on the Python one
    for name, text in (("python", STANDIN_PYTHON), ("redis", STANDIN_REDIS)):
        ctx = tmp_path / name
        ctx.mkdir()
        (ctx / "Dockerfile").write_text(text)
        shutil.copy(HOST_CA, ctx / "ca.pem")  # the machine's CAs, for pip through its proxy
        run(engine, docker, "build", "-q", "--network", "host", "-t", f"{tag}-{name}", str(ctx))
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text()
    assert dockerfile.count("FROM python:3.12-slim\n") == 1
    bot_df = tmp_path / "bot.Dockerfile"
    bot_df.write_text(dockerfile.replace("FROM python:3.12-slim\n", f"FROM {tag}-python\n"))
    run(engine, docker, "build", "-q", "--network", "host", "-f", str(bot_df), "-t", tag,
        str(REPO))

    secret_dir = tmp_path / "secrets"
    secret_dir.mkdir()
    values = {"github-token": "ghs_" + secrets.token_hex(18),
              "redis-password": secrets.token_hex(24), "webhook-secret": secrets.token_hex(24)}
    for name, value in values.items():
        (secret_dir / name).write_text(value)
        (secret_dir / name).chmod(0o644)  # read by uid 10001 and 999 in the containers
    port = free_port()
    override = tmp_path / "override.yaml"
    override.write_text(f"""services:
  web:
    build: !reset null
    image: {tag}
    pull_policy: never
    ports: !override ["127.0.0.1:{port}:8000"]
  worker:
    build: !reset null
    image: {tag}
    pull_policy: never
  redis:
    image: {tag}-redis
    pull_policy: never
secrets:
""" + "".join(f"  {n}:\n    file: {secret_dir / n}\n" for n in values))
    project = f"dfbot{uuid.uuid4().hex[:8]}"
    base = [*compose, "-p", project, "-f", str(COMPOSE_FILE), "-f", str(override)]
    try:
        run(engine, *base, "up", "-d", "--no-build", timeout=300, cwd=tmp_path)
        ids = {s: run(engine, *base, "ps", "-q", s, cwd=tmp_path).stdout.strip()
               for s in ("web", "worker", "redis")}
        assert all(ids.values()), ids

        # the web server answers, through Redis (the password from its file)
        url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            try:
                return urllib.request.urlopen(url + "/healthz", timeout=3).status == 200
            except OSError:
                return False

        end = time.monotonic() + 120
        while not healthy():
            assert time.monotonic() < end, run(engine, *base, "logs", cwd=tmp_path).stdout[-3000:]
            time.sleep(1)
        body = json.dumps({"action": "created", "installation": {"id": 1},
                           "repositories": [{"full_name": "acme/app"}]}).encode()
        sig = "sha256=" + hmac.new(values["webhook-secret"].encode(), body,
                                   hashlib.sha256).hexdigest()
        request = urllib.request.Request(url + "/webhook", data=body, method="POST", headers={
            "Content-Type": "application/json", "X-GitHub-Event": "installation",
            "X-GitHub-Delivery": str(uuid.uuid4()), "X-Hub-Signature-256": sig})
        assert urllib.request.urlopen(request, timeout=30).status == 202
        # the worker takes the task from Redis (GitHub itself is out of reach here)
        end = time.monotonic() + 120
        while "acme/app" not in run(engine, docker, "logs", ids["worker"]).stdout + \
                run(engine, docker, "logs", ids["worker"]).stderr:
            assert time.monotonic() < end, run(engine, docker, "logs", ids["worker"]).stderr[-3000:]
            time.sleep(2)

        users = {"web": "10001:10001", "worker": "10001:10001", "redis": "999:1000"}
        for service, cid in ids.items():
            (info,) = json.loads(run(engine, docker, "inspect", cid).stdout)
            host = info["HostConfig"]
            assert info["State"]["Running"], service
            assert info["Config"]["User"] == users[service], service
            assert host["ReadonlyRootfs"] is True, service
            assert host["CapDrop"] == ["ALL"] and not host["CapAdd"], service
            assert "no-new-privileges:true" in host["SecurityOpt"], service
            assert not host["Privileged"], service
            mounts = {m["Destination"]: m for m in info["Mounts"]}
            secret_mounts = {d for d in mounts if d.startswith("/run/secrets/")}
            assert secret_mounts, service
            for d in secret_mounts:
                assert mounts[d]["RW"] is False, (service, d)  # read-only files
            # no secret in the environment, the command line or anywhere in the config
            text = json.dumps(info)
            for name, value in values.items():
                assert value not in text, (service, name)
            # the kernel's view of every process of the container
            for pid in descendants(info["State"]["Pid"]):
                st = proc_status(pid)
                uid = users[service].split(":")[0]
                assert st["Uid"].split() == [uid] * 4, (service, pid, st["Uid"])
                assert st["CapEff"] == st["CapPrm"] == st["CapBnd"] == "0" * 16, (service, st)
                assert st["NoNewPrivs"] == "1", (service, pid)
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
                assert not any(v in cmdline for v in values.values()), (service, cmdline)
            # the root file system refuses a write; /tmp (or /data) takes it
            denied = run(engine, docker, "exec", cid, "sh", "-c", "echo x > /probe", check=False)
            assert denied.returncode != 0 and "Read-only file system" in denied.stderr, service
            writable = "/data" if service == "redis" else "/tmp"
            run(engine, docker, "exec", cid, "sh", "-c", f"echo x > {writable}/probe")
            run(engine, docker, "exec", cid, "sh", "-c", "test -r /run/secrets/redis-password")
        logs = run(engine, *base, "logs", cwd=tmp_path)
        for name, value in values.items():
            assert value not in logs.stdout + logs.stderr, name
        assert "refusing to run as root" not in logs.stdout + logs.stderr
    finally:
        run(engine, *base, "down", "-v", "--timeout", "5", check=False, timeout=300, cwd=tmp_path)
        run(engine, docker, "rmi", "-f", tag, f"{tag}-python", f"{tag}-redis", check=False)

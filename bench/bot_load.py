"""The bot under load and faults: many repositories, several workers, a crash
and a Redis restart; then a count of what every repository ended with.

    python bench/bot_load.py [--repos 500] [--workers 4] [--corpus DIR]
                             [--no-kill] [--no-redis-restart]

Everything is real and local: Debian's ``redis-server`` on loopback with a
password (append-only file, so a restart keeps the queue), ``dockfix bot
worker`` processes (as uid 10001 in a user namespace when run as root), the
``dockfix bot enqueue`` command, bare git repositories as remotes, and the
local GitHub of the tests (``tests/bot/github_server.py``).  Each repository
holds one Dockerfile from ``../shared/corpus`` (default), round robin.

During the run one worker is killed with SIGKILL (when a quarter of the
repositories are done; a new one takes its place) and Redis is shut down and
started again (at half).  At the end every repository must have exactly the
pull requests it should: one when dockfix changes its Dockerfile, else none.
Printed: repositories per minute, lost and duplicated repositories, and the
time of each stage of a run (mean and 95th percentile; the slowest first).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "bot"))

from github_server import FakeGitHub  # noqa: E402

from rewriter.bot import scan as bot_scan  # noqa: E402

TOKEN = "ghs_" + uuid.uuid4().hex
PASSWORD = "pw-" + uuid.uuid4().hex


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def git(*args: str, input: bytes | None = None, cwd: str | None = None) -> str:
    env = {"PATH": os.environ["PATH"], "HOME": "/nonexistent", "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_AUTHOR_NAME": "m", "GIT_AUTHOR_EMAIL": "m@x",
           "GIT_COMMITTER_NAME": "m", "GIT_COMMITTER_EMAIL": "m@x",
           "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}
    return subprocess.run(["git", *args], input=input, cwd=cwd, env=env, capture_output=True,
                          check=True).stdout.decode()


def make_repo(bare: Path, dockerfile: bytes) -> None:
    """A bare repository whose main branch holds ``Dockerfile``, with no work tree."""
    git("init", "-q", "--bare", "--initial-branch=main", str(bare))
    d = str(bare)
    blob = git("--git-dir", d, "hash-object", "-w", "--stdin", input=dockerfile).strip()
    tree = git("--git-dir", d, "mktree", input=f"100644 blob {blob}\tDockerfile\n".encode()).strip()
    commit = git("--git-dir", d, "commit-tree", tree, "-m", "initial").strip()
    git("--git-dir", d, "update-ref", "refs/heads/main", commit)


def expected_change(directory: Path, data: bytes) -> bool:
    """Whether the bot should propose a change for a repository holding ``data``."""
    (directory / "Dockerfile").write_bytes(data)
    if len(data) > bot_scan.MAX_BYTES:
        return False
    try:
        text = bot_scan._read(str(directory), "Dockerfile")
    except bot_scan._Skip:
        return False
    _, fixed = bot_scan._fix(str(directory), "Dockerfile", text)
    return fixed is not None


class Redis:
    def __init__(self, work: Path) -> None:
        self.port = free_port()
        self.dir = work / "redis"
        self.dir.mkdir()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--requirepass",
             PASSWORD, "--save", "", "--appendonly", "yes", "--appendfsync", "always",
             "--dir", str(self.dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = self.client()
        for _ in range(100):
            try:
                client.ping()
                return
            except Exception:
                time.sleep(0.1)
        raise SystemExit("redis-server did not start")

    def client(self):  # type: ignore[no-untyped-def]
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, password=PASSWORD)

    def restart(self) -> float:
        start = time.monotonic()
        self.client().shutdown(save=False)  # the append-only file is already on disk
        assert self.proc is not None
        self.proc.wait(timeout=30)
        self.start()
        return time.monotonic() - start

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def worker_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    return ["unshare", "--user", "--map-user=10001", "--map-group=10001"]


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = open(log, "ab")
    return subprocess.Popen([*worker_prefix(), sys.executable, "-m", "rewriter", "bot", "worker",
                             "--concurrency", "1", "--loglevel", "info"], env=env, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)


_DONE = re.compile(r"\] (acme/r\d+): timings (\{.*\})")


def finished(logs: list[Path]) -> dict[str, list[dict[str, float]]]:
    """Repository -> the timings of each run that finished, from the worker logs."""
    out: dict[str, list[dict[str, float]]] = {}
    for log in logs:
        if log.exists():
            for m in _DONE.finditer(log.read_text(errors="replace")):
                out.setdefault(m.group(1), []).append(json.loads(m.group(2)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repos", type=int, default=500)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--no-kill", action="store_true")
    ap.add_argument("--no-redis-restart", action="store_true")
    ap.add_argument("--timeout", type=float, default=1800)
    args = ap.parse_args()
    if shutil.which("redis-server") is None:
        raise SystemExit("bot_load: redis-server is not installed")
    corpus = sorted(p for p in Path(args.corpus).iterdir() if p.is_file()) \
        if Path(args.corpus).is_dir() else []
    if not corpus:
        raise SystemExit(f"bot_load: no Dockerfiles in {args.corpus}")

    work = Path(tempfile.mkdtemp(prefix="dockfix-bot-load-"))
    redis = Redis(work)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        t0 = time.monotonic()
        expected: dict[str, bool] = {}
        scratch = work / "scratch"
        scratch.mkdir()
        listing = []
        with FakeGitHub(TOKEN) as gh:
            for i in range(args.repos):
                full = f"acme/r{i:04d}"
                data = corpus[i % len(corpus)].read_bytes()
                bare = work / "remotes" / f"r{i:04d}.git"
                make_repo(bare, data)
                gh.add_repo(full, str(bare))
                expected[full] = expected_change(scratch, data)
                listing.append(f"{bare} {full}\n")
            (work / "repos.txt").write_text("".join(listing))
            setup = time.monotonic() - t0
            print(f"setup: {args.repos} repositories in {setup:.1f} s; "
                  f"{sum(expected.values())} should get a pull request", flush=True)

            redis.start()
            tmpdir = work / "tmp"
            tmpdir.mkdir()
            env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKFIX_", "GITHUB_"))}
            env.update({"PYTHONPATH": str(ROOT), "GITHUB_TOKEN": TOKEN, "TMPDIR": str(tmpdir),
                        "HOME": str(tmpdir), "DOCKFIX_API_URL": gh.url,
                        "DOCKFIX_BROKER_URL": f"redis://127.0.0.1:{redis.port}/0",
                        "DOCKFIX_REDIS_PASSWORD": PASSWORD, "DOCKFIX_VISIBILITY_TIMEOUT": "10",
                        "DOCKFIX_LOCK_SECONDS": "10"})
            enq = subprocess.run([sys.executable, "-m", "rewriter", "bot", "enqueue", "--repos",
                                  str(work / "repos.txt")], env=env, capture_output=True,
                                 text=True)
            if enq.returncode:
                raise SystemExit(f"enqueue failed: {enq.stderr}")
            logs = [work / f"worker{i}.log" for i in range(args.workers)]
            start = time.monotonic()
            procs = [start_worker(env, log) for log in logs]
            killed = restarted = False
            restart_seconds = None
            last_report = 0.0
            while time.monotonic() - start < args.timeout:
                time.sleep(1)
                done = finished(logs)
                if time.monotonic() - last_report >= 10:
                    last_report = time.monotonic()
                    print(f"  {last_report - start:6.1f} s: {len(done)} done", flush=True)
                client = redis.client()
                if not args.no_kill and not killed and len(done) >= args.repos // 4:
                    os.killpg(procs[0].pid, signal.SIGKILL)
                    procs[0].wait()
                    logs.append(work / "worker-replacement.log")
                    procs.append(start_worker(env, logs[-1]))
                    killed = True
                    print(f"killed worker 0 with SIGKILL at {len(done)} done", flush=True)
                if not args.no_redis_restart and not restarted and len(done) >= args.repos // 2:
                    restart_seconds = redis.restart()
                    restarted = True
                    print(f"restarted redis at {len(done)} done ({restart_seconds:.1f} s)",
                          flush=True)
                    continue
                try:
                    idle = client.llen("dockfix") == 0 and client.hlen("unacked") == 0
                except Exception:
                    continue
                if idle and len(done) >= args.repos:
                    break
            elapsed = time.monotonic() - start
            done = finished(logs)
            pulls = {full: len(ps) for full, ps in gh.pulls.items()}
            posts: dict[str, int] = {}
            for method, path, _ in gh.requests:
                if method == "POST" and path.endswith("/pulls"):
                    full = "/".join(path.split("/")[2:4])
                    posts[full] = posts.get(full, 0) + 1
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
        redis.stop()

    lost = sorted(f for f in expected if f not in done or pulls[f] < int(expected[f]))
    duplicated = sorted(f for f in expected if pulls[f] > 1 or posts.get(f, 0) > 1)
    wrong = sorted(f for f in expected if pulls[f] != int(expected[f]))
    runs = sum(len(v) for v in done.values())
    print(f"repositories: {args.repos}, workers: {args.workers}, runs finished: {runs} "
          f"(more than one for a repository that was redelivered)")
    print(f"pull requests: {sum(pulls.values())} (expected {sum(expected.values())})")
    print(f"lost: {len(lost)}, duplicated: {len(duplicated)}, wrong count: {len(wrong)}")
    print(f"wall time: {elapsed:.1f} s; {args.repos / elapsed * 60:.0f} repositories per minute")
    stages: dict[str, list[float]] = {}
    for items in done.values():
        for t in items:
            for k, v in t.items():
                stages.setdefault(k, []).append(v)
    print("stage      runs   mean s    p95 s")
    for name, values in sorted(stages.items(), key=lambda kv: -statistics.fmean(kv[1])):
        values.sort()
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        print(f"{name:<9} {len(values):5d} {statistics.fmean(values):8.3f} {p95:8.3f}")
    slowest = max((k for k in stages if k != "total"), key=lambda k: statistics.fmean(stages[k]),
                  default=None)
    print(f"slowest stage: {slowest}")
    shutil.rmtree(work, ignore_errors=True)
    return 1 if lost or duplicated or wrong else 0


if __name__ == "__main__":
    sys.exit(main())

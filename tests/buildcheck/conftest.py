"""Real builds: every image dockfix fixes must build and run as its non-root user.

The engine is ``../shared/tools/build-oracle.sh`` (see BUILD-ORACLE.md beside it): a
Docker engine and base images made on this machine, no registry needed.  The session
fixture ``oracle`` runs its ``setup``, ``start`` and ``bases``, and afterwards removes the
``dockfix-test/*`` images and stops the engine if this session started it.

Skips, with the reason, when not root, when the oracle script is missing, or when
``DOCKFIX_NO_BUILD=1``.  Under CI (``CI`` set) the first two fail instead of skipping;
``DOCKFIX_NO_BUILD=1`` is the one explicit opt-out.  The cases are described in
tests/fixtures/build/README.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
ORACLE = REPO / ".." / "shared" / "tools" / "build-oracle.sh"
FIXTURES = REPO / "tests" / "fixtures" / "build"
TAG_PREFIX = "dockfix-test/"

_RESULT = re.compile(r"^ORACLE result=(\S+)(.*)$", re.M)
_FIELD = re.compile(r"(\w+)=('[^']*'|\S+)")
_ORACLE_BUSYBOX = "/.oracle/busybox"  # where the oracle mounts its static busybox too


# ------------------------------------------------------------------ cases ----
@dataclass(frozen=True)
class Check:
    """A command run in the fixed image, as its USER, by the oracle's static busybox."""

    argv: tuple[str, ...]
    stdout: str | None = None  #: expected stdout, surrounding whitespace ignored


@dataclass(frozen=True)
class Case:
    """One directory under tests/fixtures/build, with its ``case.toml``."""

    name: str
    dir: Path
    description: str = ""
    expect: str = "fixed"  #: fixed | declined | unchanged
    before_uid: int = 0  #: uid the original runs as (0: the negative control)
    uid: int = 10001  #: uid the fixed image must run as
    #: the USER the fixed file must set when it names an account a package creates
    #: (whose uid the package chooses); None: a numeric uid[:gid]
    user: str | None = None
    probe: str = "running"  #: running: PID 1 stays up, its euid is read; exited: must exit 0
    network: str = "none"  #: none | host (RUN steps that use apt)
    #: the stage dockfix fixes (``--target``) and the oracle builds and runs; the
    #: file's last stage must still build too
    target: str | None = None
    output: str | None = None  #: a line the fixed image's own ENTRYPOINT/CMD prints
    decline_reason: str | None = None  #: with expect = "declined"
    keep_stages: int = 0  #: the first N stages must stay byte-identical
    fixed_contains: tuple[str, ...] = ()
    fixed_lacks: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()

    @property
    def dockerfile(self) -> Path:
        return self.dir / "Dockerfile"

    def tag(self, phase: str) -> str:
        return f"{TAG_PREFIX}{self.name}-{phase}"


_CHOICES = {"expect": ("fixed", "declined", "unchanged"), "probe": ("running", "exited"),
            "network": ("none", "host")}


def load_case(d: Path) -> Case:
    raw: dict[str, Any] = {}
    if (d / "case.toml").is_file():
        with open(d / "case.toml", "rb") as f:
            raw = tomllib.load(f)
    known = {n for n in Case.__dataclass_fields__ if n not in ("name", "dir", "checks")}
    unknown = set(raw) - known - {"check"}
    if unknown:
        raise ValueError(f"{d / 'case.toml'}: unknown keys {sorted(unknown)}")
    for key, allowed in _CHOICES.items():
        if key in raw and raw[key] not in allowed:
            raise ValueError(f"{d / 'case.toml'}: {key} must be one of {allowed}")
    checks = tuple(Check(tuple(c["argv"]), c.get("stdout")) for c in raw.pop("check", []))
    for key in ("fixed_contains", "fixed_lacks"):
        raw[key] = tuple(raw.get(key, ()))
    return Case(name=d.name, dir=d, checks=checks, **raw)


def load_cases() -> list[Case]:
    return [load_case(d) for d in sorted(FIXTURES.iterdir()) if (d / "Dockerfile").is_file()]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        cases = load_cases()
        metafunc.parametrize("case", cases, ids=[c.name for c in cases])


# ----------------------------------------------------------------- oracle ----
@dataclass
class Outcome:
    """What one ``build-oracle.sh check`` said."""

    rc: int
    result: str  #: PASS | FAIL | UNSUPPORTED, or "" when no result line was printed
    fields: dict[str, str]
    text: str  #: stdout + stderr, for assertion messages
    wall: float  #: seconds for the whole check (build + runs)

    @property
    def build_seconds(self) -> str:
        return self.fields.get("build_seconds", self.fields.get("seconds", "?"))

    def describe(self) -> str:
        """A cell of the summary table."""
        if self.result == "UNSUPPORTED":
            return f"unsupported: {self.fields.get('missing', '')}"
        if self.fields.get("stage") == "build":
            return f"build failed {self.build_seconds}s"
        text = f"uid {self.fields.get('uid', '?')}"
        pid1 = self.fields.get("probe_pid1_euid") or self.fields.get("probe")
        if pid1:
            text += f" pid1 {pid1}"
        return f"{text} {self.build_seconds}s ({self.wall:.0f}s)"


class Oracle:
    def __init__(self, script: Path) -> None:
        self.script = script
        self.env: dict[str, str] = {}
        self.docker_bin = "docker"
        m = re.search(r"^ORACLE_BB=(\S+)", script.read_text(), re.M)
        self.busybox = m.group(1) if m else "/bin/busybox"

    def run(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.script), *args], capture_output=True, text=True,
                              timeout=timeout)

    def daemon_running(self) -> bool:
        return "dockerd running" in self.run("status", timeout=60).stdout

    def load_env(self) -> None:
        """DOCKER_HOST and the client the oracle uses, from what ``env`` prints."""
        out = self.run("env", timeout=60).stdout
        for line in out.splitlines():
            if line.startswith("export "):
                self.env.update(_FIELD.findall(line))
            elif line.startswith("alias docker="):
                self.docker_bin = line.split("=", 1)[1].strip()
        if "DOCKER_HOST" not in self.env:
            raise RuntimeError(f"build-oracle.sh env printed no DOCKER_HOST:\n{out}")

    def check(self, context: Path, dockerfile: Path, tag: str, *opts: str) -> Outcome:
        """``build-oracle.sh check``; a base image that is not local skips (fails in CI)."""
        t0 = time.monotonic()
        p = self.run("check", "-f", str(dockerfile), "--tag", tag, *opts, str(context))
        m = _RESULT.search(p.stdout)
        fields = {k: v.strip("'") for k, v in _FIELD.findall(m.group(2))} if m else {}
        if p.returncode == 4:
            _skip_or_fail(f"base image not available locally: {fields.get('missing')}")
        return Outcome(p.returncode, m.group(1) if m else "", fields, p.stdout + p.stderr,
                       time.monotonic() - t0)

    def docker(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.docker_bin, *args], capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, **self.env})

    def in_image(self, image: str, argv: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
        """Run ``busybox ARGV...`` in IMAGE as its USER; works without a shell in the image."""
        return self.docker("run", "--rm", "--network=none", "--entrypoint", _ORACLE_BUSYBOX,
                           "-v", f"{self.busybox}:{_ORACLE_BUSYBOX}:ro", image, *argv)

    def own_output(self, image: str, wanted: str | None = None,
                   timeout: float = 15) -> tuple[bool, str]:
        """Start IMAGE with its own ENTRYPOINT/CMD and read its logs until the line
        ``wanted`` appears, it exits, or ``timeout`` passes; then remove the container."""
        p = self.docker("run", "-d", "--network=none", image)
        if p.returncode != 0:
            return False, p.stdout + p.stderr
        cid, logs = p.stdout.strip(), ""
        try:
            deadline = time.monotonic() + timeout
            while True:
                running = self.docker("inspect", "-f", "{{.State.Running}}", cid).stdout.strip()
                lp = self.docker("logs", cid)  # read after the state: complete once exited
                logs = lp.stdout + lp.stderr
                found = wanted is not None and wanted in logs.splitlines()
                if found or running != "true" or time.monotonic() > deadline:
                    return found, logs
                time.sleep(0.3)
        finally:
            self.docker("rm", "-f", cid)

    def remove_test_images(self) -> None:
        p = self.docker("images", "--format", "{{.Repository}}:{{.Tag}}")
        ours = [t for t in p.stdout.split() if t.startswith(TAG_PREFIX)]
        if ours:
            self.docker("rmi", "-f", *ours)


# ------------------------------------------------------ session fixture ----
def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


def _skip_or_fail(why: str) -> None:
    if _in_ci():
        pytest.fail(f"CI must run the build tests, but: {why}", pytrace=False)
    pytest.skip(f"skipped: {why}")


def _why_unavailable() -> str | None:
    if not ORACLE.is_file():
        return f"no build oracle at {os.path.normpath(ORACLE)}"
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return "building images needs root on Linux"
    return None


@pytest.fixture(scope="session")
def oracle() -> Any:
    if os.environ.get("DOCKFIX_NO_BUILD", "") not in ("", "0"):
        pytest.skip("skipped: DOCKFIX_NO_BUILD is set (local opt-out of real builds)")
    why = _why_unavailable()
    if why:
        _skip_or_fail(why)
    o = Oracle(ORACLE)
    started_here = not o.daemon_running()  # leave an engine someone else started running
    try:
        for step in ("setup", "start", "bases"):
            p = o.run(step)
            if p.returncode != 0:
                pytest.fail(f"build-oracle.sh {step} failed (exit {p.returncode}):\n"
                            f"{(p.stdout + p.stderr)[-3000:]}", pytrace=False)
        o.load_env()
        yield o
    finally:
        try:
            if o.env:
                o.remove_test_images()
        finally:
            if started_here:
                o.run("stop", timeout=120)


# ------------------------------------------------------------- summary ----
_ROWS: dict[str, dict[str, str]] = {}  # case name -> column -> text
_NODES: dict[str, tuple[str, str]] = {}  # test node id -> (case name, column for its outcome)


@pytest.fixture
def row(request: pytest.FixtureRequest) -> Any:
    """Per-case record for the summary table; the test writes into it."""

    def get(case: Case, phase: str) -> dict[str, str]:
        _NODES[request.node.nodeid] = (case.name, f"{phase}_outcome")
        return _ROWS.setdefault(case.name, {"expect": case.expect})

    return get


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.nodeid not in _NODES:
        return
    if report.when == "call" or report.outcome != "passed":
        name, column = _NODES[report.nodeid]
        _ROWS[name].setdefault(column, report.outcome)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _ROWS:
        return
    tr = terminalreporter
    tr.write_sep("=", "dockfix real builds: uid, PID 1, build seconds (whole check)")
    head = ("case", "expect", "before", "", "after", "")
    widths = (max(map(len, _ROWS)), 9, 22, 7, 38, 7)
    tr.write_line("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    for name in sorted(_ROWS):
        r = _ROWS[name]
        cells = (name, r["expect"], r.get("before", "-"), r.get("before_outcome", ""),
                 r.get("after", "-"), r.get("after_outcome", ""))
        tr.write_line("  ".join(c.ljust(w) for c, w in zip(cells, widths)))

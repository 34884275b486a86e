"""The language server's speed and memory, through the real protocol.

    python bench/lsp_latency.py [--lines 1000] [--edits 300] [--soak 10000]

Starts ``dockfix lsp`` as an editor does (stdio, its default options: the
debounce, if any, is part of what is timed), opens a synthetic Dockerfile of
``--lines`` lines (``bench/speed.py``'s ``mixed`` shape), then:

* **typing**: ``--edits`` single-character incremental edits, one every
  120 ms (a fast typist), each timed from sending its ``didChange`` to
  receiving the diagnostics of that version; p50, p95, p99, max;
* **bursts**: edits 5 ms apart, 10 at a time (faster than the server can
  check), timed from the *last* change of each burst to the diagnostics of
  its version: what an editor waits for once the typing stops (every
  version's text is new, so no earlier result can stand for it);
* **CPU**: the server's own CPU time per change (``/proc``: user + system),
  which a loaded machine does not inflate as it inflates wall-clock times;
  the load average is printed with the times;
* **memory**: ``--soak`` edits, each a different character at a different
  place (so every version's text is new), in bursts of 50, the server's
  resident memory (VmRSS) sampled every 1,000 edits; flat means the last
  sample is within a few MiB of the one after the first 1,000 edits (the
  warm-up fills the bounded caches).

A benchmark, not a test: it prints numbers and exits 0 (1 when the server
fails).  Linux only (it reads /proc).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import synthetic  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


class Server:
    """``dockfix lsp`` in a subprocess, and a thread reading what it says."""

    def __init__(self, root: Path, options: dict[str, Any]) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen([sys.executable, "-m", "rewriter", "lsp"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=env, cwd=root)
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.next_id = 0
        self.request("initialize", {"processId": os.getpid(), "rootUri": root.as_uri(),
                                    "capabilities": {}, "initializationOptions": options})
        self.notify("initialized", {})

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = 0
            while True:
                line = out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            self.messages.put(json.loads(out.read(length)))

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params})

    def request(self, method: str, params: Any, timeout: float = 60) -> Any:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        return self.wait(lambda m: m.get("id") == self.next_id and "method" not in m,
                         timeout)

    def wait(self, match: Any, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the server did not answer")
            message = self.messages.get(timeout=left)
            if "method" in message and "id" in message:  # a request to the client
                self.send({"id": message["id"], "result": [None]
                           if message["method"] == "workspace/configuration" else None})
                continue
            if match(message):
                return message

    def diagnostics(self, version: int, timeout: float = 60) -> dict[str, Any]:
        return self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                         and m["params"].get("version") == version, timeout)

    def cpu_seconds(self) -> float:
        """The server's CPU time so far (user + system)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        try:
            self.request("shutdown", None, timeout=10)
            self.notify("exit", None)
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001
            self.proc.kill()


def change(uri: str, version: int, line: int, char: int, old: int, text: str) -> dict[str, Any]:
    return {"textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": line, "character": char},
                                          "end": {"line": line, "character": char + old}},
                                "text": text}]}


def percentiles(times: list[float]) -> str:
    times = sorted(times)

    def at(q: float) -> float:
        return times[min(len(times) - 1, int(len(times) * q))]

    return (f"p50 {statistics.median(times):.1f} ms, p95 {at(0.95):.1f} ms, "
            f"p99 {at(0.99):.1f} ms, max {times[-1]:.1f} ms")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=1000)
    ap.add_argument("--edits", type=int, default=300, help="timed edits")
    ap.add_argument("--soak", type=int, default=10_000, help="edits for the memory run")
    args = ap.parse_args(argv)

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".git").mkdir()
        text = synthetic("mixed", args.lines)
        path = root / "Dockerfile"
        path.write_text(text)
        uri = path.as_uri()
        lines = text.splitlines()
        # continuation lines of RUNs ("    && apt-get install -y --no-install-recommends ...")
        runs = [i for i, ln in enumerate(lines) if "--no-install-recommends" in ln][::7][:50]
        target = runs[0]
        print(f"{args.lines}-line Dockerfile ({len(text):,} characters); "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

        server = Server(root, {})  # the default options, debounce included
        try:
            server.notify("textDocument/didOpen", {"textDocument": {
                "uri": uri, "languageId": "dockerfile", "version": 1, "text": text}})
            first = server.diagnostics(1)
            print(f"{len(first['params']['diagnostics'])} diagnostics")
            times = []
            version = 1
            cpu = server.cpu_seconds()
            for i in range(args.edits):
                version += 1
                # type a digit, then take it away: the text stays the same size
                edit = (change(uri, version, target, 4, 0, str(i % 10)) if i % 2 == 0
                        else change(uri, version, target, 4, 1, ""))
                start = time.perf_counter()
                server.notify("textDocument/didChange", edit)
                server.diagnostics(version)
                times.append((time.perf_counter() - start) * 1000)
                time.sleep(max(0.0, 0.12 - (time.perf_counter() - start)))
            cpu = (server.cpu_seconds() - cpu) / args.edits * 1000
            print(f"typing (an edit every 120 ms), change -> its diagnostics, {args.edits} edits: "
                  f"{percentiles(times)}; server CPU {cpu:.1f} ms per change")
            times = []
            for burst in range(max(1, args.edits // 10)):
                for i in range(10):
                    version += 1
                    # a capital over one of ten letters of the line, from alternate sets
                    # burst by burst: each version's text is new (none is an earlier
                    # one's, whose diagnostics would do)
                    letter = "ABCDEFGHIJKLMNOPQRST"[(burst % 2) * 10 + i]
                    edit = change(uri, version, target, 30 + i, 1, letter)
                    start = time.perf_counter()
                    server.notify("textDocument/didChange", edit)
                    time.sleep(0.005)
                server.diagnostics(version)
                times.append((time.perf_counter() - start) * 1000)
                time.sleep(0.4)  # the typing pauses: the whole fix loop runs
            print(f"bursts (10 edits 5 ms apart), last change -> its diagnostics, "
                  f"{len(times)} bursts: {percentiles(times)}")
            print(f"load average after: {os.getloadavg()[0]:.1f}")
        finally:
            server.stop()

        server = Server(root, {})
        try:
            server.notify("textDocument/didOpen", {"textDocument": {
                "uri": uri, "languageId": "dockerfile", "version": 1, "text": text}})
            server.diagnostics(1)
            samples = [server.rss_kib()]
            version = 1
            letters = "abcdefghijklmnopqrstuvwxyz"
            for i in range(args.soak):
                version += 1
                # a different letter, on one of 50 lines, at one of 7 places: new text each time
                line = runs[i % len(runs)]
                server.notify("textDocument/didChange", change(
                    uri, version, line, 30 + (i // len(runs)) % 7, 1, letters[i % 26]))
                if (i + 1) % 50 == 0:  # a burst typed: wait for its diagnostics
                    server.diagnostics(version)
                if (i + 1) % 1000 == 0:
                    samples.append(server.rss_kib())
            mib = [s / 1024 for s in samples]
            print(f"memory over {args.soak:,} edits (VmRSS, MiB, every 1,000): "
                  + " ".join(f"{m:.0f}" for m in mib))
            if len(mib) > 2:
                print(f"growth: {mib[-1] - mib[1]:+.1f} MiB from the first 1,000 edits to the "
                      f"last ({mib[-1] - mib[0]:+.1f} MiB from the start)")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

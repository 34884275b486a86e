"""The language server's speed and memory, through the real protocol.

    python bench/lsp_latency.py [--lines 1000] [--edits 200] [--soak 10000]

Starts ``dockfix lsp`` as an editor does (stdio), opens a synthetic Dockerfile
of ``--lines`` lines (``bench/speed.py``'s ``mixed`` shape), then:

* **latency**: ``--edits`` single-character incremental edits, one at a time,
  each timed from sending ``didChange`` to receiving the diagnostics of that
  version (``debounceMs`` 0, so this is the server's own time); p50, p95, max;
* **memory**: ``--soak`` edits in bursts of 50 (the default debounce coalesces
  a burst, as it does for a typist), the server's resident memory (VmRSS)
  sampled every 1,000 edits; flat means the last sample is within a few MiB
  of the first.

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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=1000)
    ap.add_argument("--edits", type=int, default=200, help="timed edits")
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
        target = next(i for i, ln in enumerate(lines) if ln.startswith("RUN "))

        server = Server(root, {"debounceMs": 0})
        try:
            server.notify("textDocument/didOpen", {"textDocument": {
                "uri": uri, "languageId": "dockerfile", "version": 1, "text": text}})
            first = server.diagnostics(1)
            print(f"{args.lines}-line Dockerfile ({len(text):,} characters), "
                  f"{len(first['params']['diagnostics'])} diagnostics")
            times = []
            version = 1
            for i in range(args.edits):
                version += 1
                # type a digit, then take it away: the text stays the same size
                edit = (change(uri, version, target, 4, 0, str(i % 10)) if i % 2 == 0
                        else change(uri, version, target, 4, 1, ""))
                start = time.perf_counter()
                server.notify("textDocument/didChange", edit)
                server.diagnostics(version)
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            print(f"change -> diagnostics, {args.edits} edits: p50 {statistics.median(times):.1f} ms, "
                  f"p95 {p95:.1f} ms, max {times[-1]:.1f} ms")
        finally:
            server.stop()

        server = Server(root, {})  # the default debounce
        try:
            server.notify("textDocument/didOpen", {"textDocument": {
                "uri": uri, "languageId": "dockerfile", "version": 1, "text": text}})
            server.diagnostics(1)
            samples = [server.rss_kib()]
            version = 1
            for i in range(args.soak):
                version += 1
                edit = (change(uri, version, target, 4, 0, "x") if i % 2 == 0
                        else change(uri, version, target, 4, 1, ""))
                server.notify("textDocument/didChange", edit)
                if (i + 1) % 50 == 0:  # a burst typed: wait for its diagnostics
                    server.diagnostics(version)
                if (i + 1) % 1000 == 0:
                    samples.append(server.rss_kib())
            mib = [s / 1024 for s in samples]
            print(f"memory over {args.soak:,} edits (VmRSS, MiB, every 1,000): "
                  + " ".join(f"{m:.0f}" for m in mib))
            print(f"growth: {mib[-1] - mib[1]:+.1f} MiB from the first 1,000 edits to the last "
                  f"({mib[-1] - mib[0]:+.1f} MiB from the start)")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

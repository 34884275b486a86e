"""A short coverage-guided fuzzing session of ``fuzz/fuzz_dockfix.py`` (atheris).

CI runs this one: a minute at most, seeded with ``fuzz/seeds`` and the test
fixtures.  ``make fuzz`` runs the long session (see the README).
"""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import REPO, missing

try:
    import atheris  # noqa: F401 - only whether it is there
except ImportError:
    missing("atheris (coverage-guided fuzzing) is not installed")

#: Inputs and seconds for the CI session: the first bound reached ends it.
RUNS, SECONDS = 30_000, 60


def test_short_fuzzing_session_finds_nothing(tmp_path):
    corpus = tmp_path / "corpus"  # libFuzzer adds what it finds to the first directory
    corpus.mkdir()
    proc = subprocess.run(
        [sys.executable, str(REPO / "fuzz" / "fuzz_dockfix.py"), f"-runs={RUNS}",
         f"-max_total_time={SECONDS}", "-timeout=20", "-rss_limit_mb=2048", "-max_len=8192",
         f"-artifact_prefix={tmp_path}/", str(corpus), str(REPO / "fuzz" / "seeds"),
         str(REPO / "tests" / "fixtures" / "roundtrip")],
        cwd=tmp_path, capture_output=True, timeout=SECONDS * 5,
        env=dict(os.environ),
    )
    log = proc.stderr.decode(errors="replace")
    found = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("crash-", "timeout-",
                                                                            "oom-", "leak-")))
    assert proc.returncode == 0 and not found, f"{found}\n{log[-4000:]}"
    assert "Done" in log, log[-2000:]

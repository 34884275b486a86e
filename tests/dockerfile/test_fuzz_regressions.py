"""Inputs the fuzzer (``fuzz/fuzz_dockfix.py``) found, each once a crash.

Each runs through the real command and through the fuzz target's own checks.
"""

from __future__ import annotations

import sys

import pytest
from conftest import REPO, missing, run_dockfix

sys.path.insert(0, str(REPO / "fuzz"))

CASES = [
    pytest.param(
        # --gid 0 and a base image known only from its RUN commands: the template
        # was handed gid 0 (root's group); it now joins that group, creating none
        ("--gid", "0"),
        b"ARG BASE=debian:bookworm\r\nFROM $?BASE}\r\nRUN apt-get update \\\r\n"
        b"  && apt-get inst#a e\r\nCMD [\"app\"]",
        0, "Fixed - (1 fix)", id="gid-0-evidence-family",
    ),
    pytest.param(
        # a VOLUME path with control characters, which the template refuses
        (), b"FROM $?BASE}\nRUN apt-get update\nVOLUME /d\x01\x02ta\nCMD [\"app\"]\n",
        0, "declined (template-refused)", id="volume-control-characters",
    ),
    pytest.param(
        # the runtime stage sets no USER, but its parent ends on an unresolved one:
        # the message read the runtime stage's own (empty) USER list
        (), b"FROM alpine AS base\nUSER ${NOPE}\nFROM base\nRUN true\n",
        0, "declined (unresolved-user): `USER ${NOPE}`", id="unresolved-user-in-parent",
    ),
    pytest.param(
        # ONBUILD ONBUILD ... a few thousand times: the parser recursed into each
        (), b"FROM alpine\n" + b"ONBUILD " * 3000 + b"RUN true\nUSER 1000\n",
        0, "", id="onbuild-chain",
    ),
]


@pytest.mark.parametrize(("args", "data", "code", "says"), CASES)
def test_fuzz_finding(tmp_path, args, data, code, says):
    proc = run_dockfix("--verbose", *args, "-", cwd=tmp_path, input=data)
    err = proc.stderr.decode()
    assert proc.returncode == code, err
    assert "internal error" not in err and "Traceback" not in err
    assert says in err


@pytest.mark.parametrize(("args", "data", "code", "says"), CASES)
def test_fuzz_target_passes(args, data, code, says):
    try:
        import atheris  # noqa: F401 - the fuzz target needs it
    except ImportError:
        missing("atheris is not installed")
    import fuzz_dockfix as fuzz  # any other ImportError is the target's own: a failure
    for pad in range(4):  # every settings variant of the target
        fuzz.check(data + b"\n" * pad)

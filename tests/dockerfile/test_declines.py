"""The privilege-drop declines (``rules/_common.py: privilege_drop``), each
through the real command, each asserting its reason and its whole message.

A file whose image, command or entrypoint script drops privileges itself
must start as root: a USER line would break it, so dockfix leaves the file
alone and says why.  Each case here is one a mutant of ``privilege_drop``
got past the other tests with (``make mutation``, session ``declines``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_dockfix


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    return tmp_path


def declines(project: Path, text: bytes) -> list[tuple[str, str]]:
    """(reason, message) of each decline; a message goes on after ``;`` with advice."""
    (project / "Dockerfile").write_bytes(text)
    proc = run_dockfix("--output-format", "json", "Dockerfile", cwd=project)
    assert proc.returncode == 0, proc.stderr.decode()
    [f] = json.loads(proc.stdout)["files"]
    assert f["diff"] == "" and f["status"] == "declined", f
    return [(d["reason"], d["message"]) for d in f["declines"]]


def test_privilege_drop_of_the_image_with_other_instructions_before_cmd(project):
    """Only an ENTRYPOINT replaces the image's own; a RUN (or anything else) does not."""
    [(reason, message)] = declines(project, b'FROM postgres:16\nRUN echo hi\nCMD ["postgres"]\n')
    assert reason == "privilege-drop-entrypoint"
    assert message.startswith("the entrypoint of `postgres:16` starts as root and drops "
                              "privileges itself"), message


def test_privilege_drop_of_the_image_a_stage_builds_on(project):
    """The image that counts is the one at the root of the stage chain."""
    [(reason, message)] = declines(
        project, b'FROM postgres:16 AS db\nRUN echo hi\n\nFROM db\nCMD ["postgres"]\n')
    assert reason == "privilege-drop-entrypoint"
    assert message.startswith("the entrypoint of `postgres:16` starts as root"), message


def test_privilege_drop_tool_installed_by_an_onbuild_trigger(project):
    [(reason, message)] = declines(
        project, b'FROM debian\nONBUILD RUN apt-get install -y gosu\nCMD ["app"]\n')
    assert reason == "privilege-drop-entrypoint"
    assert message.startswith(
        "the file installs or copies `gosu`, which drops privileges at start;"), message


@pytest.mark.parametrize(("cmd", "tool"), [
    pytest.param(b'CMD ["gosu", "app", "run"]', "gosu", id="exec-form"),
    # exec form read as its words: in the JSON text `su` and `-c` are not adjacent
    pytest.param(b'CMD ["su", "-c", "run", "app"]', "su -c", id="exec-form-words"),
    pytest.param(b"CMD su -c run app", "su -c", id="shell-form"),
])
def test_privilege_drop_in_the_command(project, cmd, tool):
    [(reason, message)] = declines(project, b"FROM debian\n" + cmd + b"\n")
    assert reason == "privilege-drop-entrypoint"
    assert message.startswith(f"`CMD` drops privileges itself with `{tool}`;"), message


def test_privilege_drop_s6_init_with_arguments(project):
    """s6-overlay's ``/init`` is the program: the first word, whatever follows."""
    [(reason, message)] = declines(project, b'FROM alpine\nENTRYPOINT ["/init", "myapp"]\n')
    assert reason == "privilege-drop-entrypoint"
    assert message.startswith("the entrypoint is s6-overlay's /init, which manages users itself")


def test_privilege_drop_in_the_entrypoint_script_of_the_build_context(project):
    (project / "entrypoint.sh").write_text('#!/bin/sh\nexec gosu app "$@"\n')
    [(reason, message)] = declines(
        project,
        b'FROM debian\nCOPY entrypoint.sh /usr/local/bin/\nENTRYPOINT ["entrypoint.sh"]\n')
    assert reason == "privilege-drop-entrypoint"
    assert message.startswith(
        "the entrypoint script `entrypoint.sh` drops privileges with `gosu`;"), message


def test_privilege_drop_not_in_the_entrypoint_script_is_fixed(project):
    """A script that drops nothing is no reason to decline: the file is fixed."""
    (project / "entrypoint.sh").write_text('#!/bin/sh\nexec "$@"\n')
    (project / "Dockerfile").write_bytes(
        b'FROM debian\nCOPY entrypoint.sh /usr/local/bin/\nENTRYPOINT ["entrypoint.sh"]\n')
    proc = run_dockfix("Dockerfile", cwd=project)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"+USER " in proc.stdout

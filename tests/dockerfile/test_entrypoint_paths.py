"""Variables in the paths of the scripts an entrypoint sources or runs
(``judge.context._script_calls``), through the real command: a path the script's own
assignments or the image's ``ENV`` resolve is read; any other is left alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_dockfix

DOCKERFILE = ('FROM debian:bookworm-slim\n{env}COPY docker/ /opt/app/\n'
              'ENTRYPOINT ["/opt/app/entrypoint.sh"]\nCMD ["/opt/app/serve"]\n')


def outcome(tmp_path: Path, entrypoint: str, env: str = "") -> tuple[str, list[str]]:
    (tmp_path / ".git").mkdir()
    d = tmp_path / "docker"
    (d / "lib").mkdir(parents=True)
    (d / "entrypoint.sh").write_text("#!/bin/sh\nset -e\n" + entrypoint + 'exec "$@"\n')
    (d / "lib" / "prepare.sh").write_text("#!/bin/sh\nchown -R app /data\n")
    (d / "serve").write_text("#!/bin/sh\nexec sleep infinity\n")
    (tmp_path / "Dockerfile").write_text(DOCKERFILE.format(env=env))
    proc = run_dockfix("--output-format", "json", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    [f] = json.loads(proc.stdout)["files"]
    return f["status"], [e for d in f["declines"] for e in d["evidence"]]


@pytest.mark.parametrize("entrypoint, env", [
    ('. "$(dirname "$0")/lib/prepare.sh"\n', ""),
    ('DIR="$(cd "$(dirname "$0")" && pwd)"\n. "$DIR/lib/prepare.sh"\n', ""),
    ('HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" >/dev/null 2>&1 && pwd)"\nsource ${HERE}/lib/prepare.sh\n', ""),
    ('"$(dirname "$(readlink -f "$0")")/lib/prepare.sh"\n', ""),
    ('LIB=/opt/app/lib\n. "$LIB/prepare.sh"\n', ""),
    ('. "${APP_LIB}/prepare.sh"\n', "ENV APP_LIB=/opt/app/lib\n"),
    ('. "${APP_LIB:-/opt/app/lib}/prepare.sh"\n', ""),
])
def test_a_resolved_path_is_read(tmp_path: Path, entrypoint: str, env: str) -> None:
    status, evidence = outcome(tmp_path, entrypoint, env)
    assert status == "declined"
    assert "docker/lib/prepare.sh:2: chown -R app /data" in evidence


@pytest.mark.parametrize("entrypoint, env", [
    # set by whoever runs the container
    ('. "$CONF_DIR/prepare.sh"\n', ""),
    # assigned two values: which one holds is unknown
    ('LIB=/opt/app/lib\n[ -n "$X" ] && LIB=/opt/other\n. "$LIB/prepare.sh"\n', ""),
    # assigned after the call
    ('. "$LIB/prepare.sh"\nLIB=/opt/app/lib\n', ""),
    # a build argument is not in the running container's environment
    ('. "${APP_LIB}/prepare.sh"\n', "ARG APP_LIB=/opt/app/lib\n"),
])
def test_an_unresolved_path_is_not_followed(tmp_path: Path, entrypoint: str, env: str) -> None:
    status, _ = outcome(tmp_path, entrypoint, env)
    assert status == "would-fix"

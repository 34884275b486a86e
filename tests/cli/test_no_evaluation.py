"""dockfix never executes, sources or evaluates anything it reads.

No shell, no ``eval``/``exec``/``compile``, no pickle/marshal/shelve, no YAML;
variable expansion is string substitution.  Two checks: the source of
``rewriter`` uses none of those, and a Dockerfile full of commands that would
leave a mark if anything ran them leaves none.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import REPO, run_dockfix

SOURCES = sorted((REPO / "rewriter").rglob("*.py"))
FORBIDDEN_MODULES = {"subprocess", "pickle", "marshal", "shelve", "yaml", "ctypes", "pty",
                     "code", "codeop", "runpy", "dill", "cloudpickle"}
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "execfile", "input"}
FORBIDDEN_ATTRS = {("os", name) for name in (
    "system", "popen", "execv", "execve", "execvp", "execvpe", "execl", "execle", "execlp",
    "spawnv", "spawnve", "spawnl", "posix_spawn", "posix_spawnp", "fork", "forkpty")}
#: ``importlib.import_module`` is allowed only with a name checked against a
#: fixed table first, in these places.
IMPORT_MODULE_OK = {"rewriter/report/formats/__init__.py"}
#: Modules allowed an ``exec`` (none).
EXEC_OK: set[str] = set()
#: The bot's one module that runs a program: ``git``, with a fixed argument
#: list, no shell, hooks, filters and submodules off (see its docstring).
SUBPROCESS_OK = {"rewriter/bot/git.py"}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_source_never_evaluates(path: Path):
    rel = str(path.relative_to(REPO))
    tree = ast.parse(path.read_text(), rel)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            allowed = {"subprocess"} if rel in SUBPROCESS_OK else set()
            assert not {a.name.split(".")[0] for a in node.names} & FORBIDDEN_MODULES - allowed, \
                (rel, node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.module.split(".")[0] not in FORBIDDEN_MODULES, (rel, node.lineno)
        elif isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name):
                if not (f.id == "exec" and rel in EXEC_OK):
                    assert f.id not in FORBIDDEN_CALLS, (rel, node.lineno, f.id)
            elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
                assert (f.value.id, f.attr) not in FORBIDDEN_ATTRS, (rel, node.lineno)
                if (f.value.id, f.attr) == ("importlib", "import_module"):
                    assert rel in IMPORT_MODULE_OK, (rel, node.lineno)
            if isinstance(f, ast.Attribute) and f.attr in ("load", "loads") \
                    and isinstance(f.value, ast.Name) and f.value.id in ("yaml", "pickle"):
                raise AssertionError((rel, node.lineno))
        elif isinstance(node, ast.keyword) and node.arg == "shell":
            assert not (isinstance(node.value, ast.Constant) and node.value.value), \
                (rel, node.lineno)


#: What each run of the test below ends with: the file parses (a parse error
#: would stop dockfix before any rule looked at it) and its build stage runs
#: as ``USER $(...)``, not root: nothing to change, exit 0.
EXPECTED_CODES = {"--check": 0, "--write": 0, "--output-format": 0, "-": 0}


def test_a_dockerfile_that_would_leave_marks_leaves_none(tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    m = str(marks)
    (tmp_path / ".git").mkdir()
    text = f"""\
# syntax=docker/dockerfile:1
ARG A=$(touch {m}/arg-subst)
ARG B=`touch {m}/arg-backtick`
FROM alpine:3.19 AS build
ENV C="$(touch {m}/env-subst)" D="${{A:-$(touch {m}/env-default)}}"
RUN touch {m}/run && sh -c "touch {m}/sh-c"
RUN <<EOF
touch {m}/heredoc
EOF
COPY <<EOF /x
$(touch {m}/copy-heredoc)
EOF
USER $(touch {m}/user)
VOLUME ["$(touch {m}/volume)"]
ENTRYPOINT ["/bin/sh", "-c", "touch {m}/entrypoint"]
HEALTHCHECK CMD touch {m}/healthcheck
ONBUILD RUN touch {m}/onbuild
""".replace("\n", "\n")
    (tmp_path / "Dockerfile").write_text(text)
    (tmp_path / ".dockfix.toml").write_text(f'target = "build"\n[build-args]\nX = "$(touch {m}/cfg)"\n')
    codes = {}
    for args in (["--check", "Dockerfile"], ["--write", "--unsafe-fixes", "Dockerfile"],
                 ["--output-format", "json", "Dockerfile"], ["-"]):
        proc = run_dockfix(*args, cwd=tmp_path, input=text.encode())
        err = proc.stderr.decode()
        assert "Traceback" not in err and "internal error" not in err, err
        codes[args[0]] = proc.returncode
    assert list(marks.iterdir()) == []
    # each run did its whole work (a crash before the rules ran would leave no marks too)
    assert codes == EXPECTED_CODES, codes

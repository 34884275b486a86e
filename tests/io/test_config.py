from __future__ import annotations

import io
import os
import textwrap
from pathlib import Path

import pytest
from conftest import make_rule

from rewriter.cli import runner
from rewriter.io import config
from rewriter.io.config import ConfigError, parse_config, settings_for
from rewriter.core.settings import Settings

FULL = """\
uid = 4242
gid = 0
user = "svc"
group = "svcgrp"
unsafe-fixes = true
select = ["df001", "DF002,DF003"]
ignore = "DF9"
target = "runtime"
mappings = ["maps/extra.toml", "/abs/other.toml"]

[build-args]
PYTHON_VERSION = "3.12"
PORT = 8000
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / ".git").mkdir()  # the search stops here, whatever /tmp holds
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_every_key_of_dockfix_toml(tmp_path):
    path = str(tmp_path / ".dockfix.toml")
    cfg = parse_config(FULL.encode(), path)
    assert cfg is not None and cfg.path == path
    assert dict(cfg.values) == {
        "uid": 4242,
        "gid": 0,
        "user": "svc",
        "group": "svcgrp",
        "unsafe_fixes": True,
        "select": ("DF001", "DF002", "DF003"),
        "ignore": ("DF9",),
        "target": "runtime",
        "mappings": (str(tmp_path / "maps" / "extra.toml"), "/abs/other.toml"),
        "build_args": {"PYTHON_VERSION": "3.12", "PORT": "8000"},
    }
    s = settings_for(cfg, {})
    assert isinstance(s, Settings) and s.uid == 4242 and s.unsafe_fixes


def test_pyproject_table(tmp_path):
    text = "[project]\nname = 'x'\n\n[tool.dockfix]\nuid = 5000\n[tool.dockfix.build-args]\nA = 'b'\n"
    cfg = parse_config(text.encode(), str(tmp_path / "pyproject.toml"))
    assert cfg is not None and dict(cfg.values) == {"uid": 5000, "build_args": {"A": "b"}}


def test_pyproject_without_table_is_no_config(tmp_path):
    assert parse_config(b"[tool.black]\nline-length = 99\n", str(tmp_path / "pyproject.toml")) is None


def test_top_level_keys_of_pyproject_are_not_ours(tmp_path):
    assert parse_config(b"uid = 7\n", str(tmp_path / "pyproject.toml")) is None


def test_empty_dockfix_toml_is_a_config(tmp_path):
    cfg = parse_config(b"", str(tmp_path / ".dockfix.toml"))
    assert cfg is not None and dict(cfg.values) == {}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("uid = 'abc'", "uid: expected an integer, got 'abc'"),
        ("uid = 0", "uid: expected a non-root user id"),
        ("uid = true", "uid: expected an integer"),
        ("gid = -1", "gid: expected a group id from 0"),
        ("user = 'root'", "user: 'root' is what dockfix moves away from"),
        ("user = 'bad name'", "user: 'bad name' is not a valid name"),
        ("group = 3", "group: expected a string"),
        ("unsafe-fixes = 'yes'", "unsafe-fixes: expected true or false"),
        ("unsafe_fixes = true", "unsafe_fixes: did you mean 'unsafe-fixes'?"),
        ("colour = true", "colour: unknown key (known: uid, gid"),
        ("select = ['DF-1']", "select: 'DF-1' is not a rule code"),
        ("ignore = 3", "ignore: expected a list of rule codes"),
        ("target = ''", "target: expected a stage name"),
        ("mappings = [1]", "mappings: expected a list of file paths"),
        ("build-args = 'A=b'", "build-args: expected a table"),
        ("[build-args]\nA = [1]", "build-args: build argument 'A': expected a string"),
        ("[build-args]\n'A B' = 'x'", "build-args: 'A B' is not a build argument name"),
        ("uid = ", "invalid TOML"),
    ],
)
def test_invalid_values(tmp_path, text, needle):
    path = str(tmp_path / ".dockfix.toml")
    with pytest.raises(ConfigError) as info:
        parse_config(text.encode(), path)
    assert needle in str(info.value)
    assert str(info.value).startswith(path + ": ")
    assert "\n" not in str(info.value)


def test_invalid_pyproject_names_the_table(tmp_path):
    with pytest.raises(ConfigError, match=r"\[tool.dockfix\] uid: expected an integer"):
        parse_config(b"[tool.dockfix]\nuid = 'x'\n", str(tmp_path / "pyproject.toml"))
    with pytest.raises(ConfigError, match=r"\[tool.dockfix\] must be a table"):
        parse_config(b"[tool]\ndockfix = 1\n", str(tmp_path / "pyproject.toml"))


def test_not_utf8(tmp_path):
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        parse_config(b"user = '\xff'\n", str(tmp_path / ".dockfix.toml"))


def test_bom_is_accepted(tmp_path):
    cfg = parse_config("\ufeffuid = 7\n".encode(), str(tmp_path / ".dockfix.toml"))
    assert cfg is not None and cfg.values["uid"] == 7


# --- discovery ----------------------------------------------------------------


def test_found_by_walking_up(project):
    write(project / ".dockfix.toml", "uid = 1111\n")
    df = write(project / "a" / "b" / "Dockerfile", "FROM x\n")
    cfg = runner.config_for(str(df))
    assert cfg is not None and cfg.path == str(project / ".dockfix.toml")


def test_nearest_wins(project):
    write(project / ".dockfix.toml", "uid = 1111\n")
    write(project / "a" / ".dockfix.toml", "uid = 2222\n")
    cfg = runner.config_for(str(project / "a" / "b" / "Dockerfile"))
    assert cfg is not None and cfg.values["uid"] == 2222


def test_dockfix_toml_wins_over_pyproject_in_one_dir(project):
    write(project / "pyproject.toml", "[tool.dockfix]\nuid = 1111\n")
    write(project / ".dockfix.toml", "uid = 2222\n")
    cfg = runner.config_for(str(project / "Dockerfile"))
    assert cfg is not None and cfg.values["uid"] == 2222


def test_pyproject_in_one_dir_is_used(project):
    write(project / "svc" / "pyproject.toml", "[tool.dockfix]\nuid = 1111\n")
    cfg = runner.config_for(str(project / "svc" / "Dockerfile"))
    assert cfg is not None and cfg.path.endswith("pyproject.toml")


def test_pyproject_without_table_does_not_stop_the_search(project):
    write(project / ".dockfix.toml", "uid = 1111\n")
    write(project / "svc" / "pyproject.toml", "[project]\nname = 'svc'\n")
    cfg = runner.config_for(str(project / "svc" / "Dockerfile"))
    assert cfg is not None and cfg.values["uid"] == 1111


def test_search_stops_at_git(tmp_path):
    write(tmp_path / ".dockfix.toml", "uid = 1111\n")
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    assert runner.config_for(str(tmp_path / "repo" / "sub" / "Dockerfile")) is None
    # the directory holding .git is still searched
    write(tmp_path / "repo" / ".dockfix.toml", "uid = 2222\n")
    cfg = runner.config_for(str(tmp_path / "repo" / "sub" / "Dockerfile"))
    assert cfg is not None and cfg.values["uid"] == 2222


def test_git_file_is_a_boundary_too(tmp_path):
    write(tmp_path / ".dockfix.toml", "uid = 1111\n")
    write(tmp_path / "wt" / ".git", "gitdir: /elsewhere\n")
    assert runner.config_for(str(tmp_path / "wt" / "Dockerfile")) is None


def test_a_directory_named_like_a_config_is_skipped(project):
    (project / "svc" / ".dockfix.toml").mkdir(parents=True)
    write(project / ".dockfix.toml", "uid = 1111\n")
    cfg = runner.config_for(str(project / "svc" / "Dockerfile"))
    assert cfg is not None and cfg.values["uid"] == 1111


def test_find_config_uses_only_the_given_lookups():
    files = {"/r/.dockfix.toml": b"uid = 3\n"}
    seen = []

    def read(path):
        seen.append(path)
        return files.get(path)

    cfg = config.find_config("/r/a", read, lambda p: p == "/r/.git")
    assert cfg is not None and cfg.values["uid"] == 3
    assert seen == ["/r/a/.dockfix.toml", "/r/a/pyproject.toml", "/r/.dockfix.toml"]


# --- merging with the command line ----------------------------------------------


def test_command_line_wins():
    cfg = config.Config("/x/.dockfix.toml", {"uid": 1, "user": "a", "select": ("DF1",)})
    s = settings_for(cfg, {"uid": 2, "select": ("DF2",)})
    assert (s.uid, s.user, s.select) == (2, "a", ("DF2",))


def test_build_args_are_merged_key_by_key():
    cfg = config.Config("/x/.dockfix.toml", {"build_args": {"A": "1", "B": "2"}})
    s = settings_for(cfg, {"build_args": {"B": "3", "C": "4"}})
    assert s.build_args == {"A": "1", "B": "3", "C": "4"}


def test_defaults_without_config():
    assert settings_for(None, {}) == Settings()


def test_check_build_arg():
    assert config.check_build_arg("A=b=c") == ("A", "b=c")
    assert config.check_build_arg("A=") == ("A", "")
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        config.check_build_arg("A")


# --- through the runner: per file, command line precedence, errors --------------

RULE = """
from rewriter.core.edits import Edit, Fix
from rewriter.dockerfile.rules._types import Violation
CODE, NAME, PRIORITY = "DF999", "fake-settings-echo", 0

def check(ctx):
    s = ctx.settings
    if any(i.cmd == "USER" for i in ctx.df.instructions):
        return
    last = ctx.df.instructions[-1]
    line = f"USER {s.uid}:{s.gid} # {s.user or '(named-after-app)'} {','.join(s.select)} {s.build_args} {s.mappings}"
    yield Violation(CODE, NAME, last.span, "runs as root",
                    Fix("Add USER", (Edit.insert(last.span.start, line + ctx.newline),)))
"""


ECHO = make_rule(RULE)


def run(paths, cwd, **options):
    """``runner.run`` in ``cwd`` with the settings-echo rule."""
    out, err = io.BytesIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        code = runner.run(paths, runner.Options(rules=(ECHO,), **options), stdin=io.BytesIO(b""),
                          stdout=out, stderr=err, environ={})
    finally:
        os.chdir(old)
    return code, out.getvalue().decode(), err.getvalue()


def test_each_file_finds_its_own_config(project):
    write(project / "a" / ".dockfix.toml", "uid = 1111\nselect = ['DF9']\n")
    write(project / "b" / "pyproject.toml", "[tool.dockfix]\nuid = 2222\n")
    write(project / "a" / "Dockerfile", "FROM x\nCMD y\n")
    write(project / "b" / "Dockerfile", "FROM x\nCMD y\n")
    write(project / "c" / "Dockerfile", "FROM x\nCMD y\n")
    code, out, err = run(["."], project)
    assert code == 0, err
    assert "+USER 1111:10001 # (named-after-app) DF9 {} ()" in out
    assert "+USER 2222:10001 # (named-after-app)  {} ()" in out
    assert "+USER 10001:10001 # (named-after-app)  {} ()" in out


def test_command_line_wins_through_the_runner(project):
    write(project / ".dockfix.toml", """\
        uid = 1111
        user = "svc"
        mappings = ["m.toml"]
        [build-args]
        A = "1"
        B = "2"
        """)
    write(project / "m.toml", "")
    write(project / "Dockerfile", "FROM x\nCMD y\n")
    code, out, err = run(["Dockerfile"], project,
                         overrides={"uid": 3333, "build_args": {"B": "9"}})
    assert code == 0, err
    mapping = str(project / "m.toml")
    assert f"+USER 3333:10001 # svc  {{'A': '1', 'B': '9'}} ('{mapping}',)" in out


def test_invalid_config_is_one_error_and_exit_2(project):
    write(project / "bad" / ".dockfix.toml", "uid = 'x'\n")
    write(project / "bad" / "Dockerfile", "FROM x\nCMD y\n")
    write(project / "bad" / "Dockerfile.dev", "FROM x\nCMD y\n")
    write(project / "good" / "Dockerfile", "FROM x\nCMD y\n")
    code, out, err = run(["."], project)
    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("dockfix: error:")]
    assert errors == [f"dockfix: error: {os.path.join('bad', '.dockfix.toml')}: "
                      "uid: expected an integer, got 'x'"]
    assert "+++ b/good/Dockerfile" in out and "bad/Dockerfile" not in out
    assert err.splitlines()[-1] == "1 file would be fixed, 2 files failed"


def test_missing_mappings_file_in_config(project):
    write(project / ".dockfix.toml", "mappings = ['nope.toml']\n")
    write(project / "Dockerfile", "FROM x\nCMD y\n")
    code, out, err = run(["Dockerfile"], project)
    assert code == 2
    assert f"mappings: {project / 'nope.toml'}: no such file" in err

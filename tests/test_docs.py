"""Rule documentation and the generated docs: ``dockfix rules``, ``dockfix rule``,
``docs/rules.md``, the generated blocks of the README and of docs/, the pages'
links and file names, the README's size, and the coverage of every option,
configuration key and hostile-input message by the reference pages."""

from __future__ import annotations

import errno
import importlib.util
import json
import os
import re
import sys
from pathlib import Path

import pytest
from conftest import REPO, run_dockfix

from rewriter.io import config
from rewriter.report import ruledocs
from rewriter.dockerfile.syntax import ParseError
from rewriter.core.edits import Applicability
import rewriter  # noqa: F401  (registers every language and its rules)
from rewriter.core.rules import REGISTRY

RULES = REGISTRY.rules()  #: Dockerfile and Python rules

README = (REPO / "README.md").read_text(encoding="utf-8")
USAGE = (REPO / "docs" / "usage.md").read_text(encoding="utf-8")
#: README.md and every page of docs/
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def _gen_docs():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_docs", REPO / "scripts" / "gen_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_docs"] = module
    spec.loader.exec_module(module)
    return module


def test_generated_docs_are_current() -> None:
    """docs/rules.md, the README's rules table and the examples of the README and
    docs/ (the real output for examples/Dockerfile) are what scripts/gen_docs.py writes."""
    stale = _gen_docs().stale()
    assert not stale, (f"out of date: {[str(p.relative_to(REPO)) for p in stale]}; "
                       "run: python scripts/gen_docs.py")


def test_readme_shows_every_format() -> None:
    """One example of each format on the front page, every one in full in docs/."""
    for name in ("diff", "text", "github", "json-excerpt", "sarif-excerpt", "markdown-excerpt"):
        assert f"<!-- example: {name} -->\n" in README
    formats = (REPO / "docs" / "output-formats.md").read_text(encoding="utf-8")
    for name in ("diff", "text", "json", "sarif", "github", "markdown"):
        assert f"<!-- example: {name} -->\n" in formats
    assert "<!-- rules table: generated -->\n| code | name |" in README


def test_readme_is_a_front_page() -> None:
    """Under 15 KB, with the two set-up commands; the reference is in docs/."""
    assert len(README.encode()) < 15 * 1024, len(README.encode())
    assert "make example" in README and "make test" in README
    for page in ("usage", "output-formats", "hostile-input", "speed", "rules"):
        assert f"(docs/{page}.md)" in README


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(text: str) -> set[str]:
    out, fenced = set(), False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"#+ (.*)", line)):
            out.add(_slug(m.group(1)))
    return out


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_links_and_file_names_resolve(page: Path) -> None:
    """Every relative link goes to a file of the repository (and a heading of it),
    and every file named as `tests/...`, `bench/...`, `scripts/...` exists."""
    text = page.read_text(encoding="utf-8")
    prose = re.sub(r"^(`{3,}).*?^\1", "", text, flags=re.M | re.S)  # not inside code blocks
    for target in re.findall(r"\]\(([^)\s]+)\)", prose):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        assert dest.exists(), f"{page.name}: broken link {target}"
        if anchor and dest.suffix == ".md":
            assert anchor in _anchors(dest.read_text(encoding="utf-8")), (
                f"{page.name}: no heading for {target}")
    for name in re.findall(r"`((?:tests|bench|scripts|fuzz|rewriter)/[\w./-]+\.\w+)`", prose):
        assert (REPO / name).exists(), f"{page.name}: {name} does not exist"


def test_hostile_input_messages_are_the_real_ones() -> None:
    """Each message the hostile-input table quotes is one dockfix (or the kernel) writes:
    its fixed parts, between placeholders such as N, PATH and ..., are in the source."""
    page = (REPO / "docs" / "hostile-input.md").read_text(encoding="utf-8")
    source = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "rewriter").rglob("*.py"))
    source = re.sub(r'"\s*\n\s*(?:rf|fr|f|r)?"', "", source)  # adjacent literals joined
    kernel = "\n".join(os.strerror(e) for e in errno.errorcode)
    rows = [ln.split(" | ", 1)[1] for ln in page.splitlines()
            if ln.startswith("| ") and not ln.startswith(("| input", "| ---"))]
    checked = 0
    for cell in rows:
        for quoted in re.findall(r"`([^`]+)`", cell):
            if len(quoted.split()) < 3:
                continue
            for part in re.split(r"\.\.\.|0x\.\.|\b[A-Z]+\b|\d+|\([a-z-]+\)|; |: (?=[A-Z])",
                                 quoted):
                part = part.strip(" ;:()")
                if len(part) >= 10:
                    assert part in source or part in kernel, f"not a message of dockfix: {part!r}"
                    checked += 1
    assert checked >= 15


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_every_rule_is_documented(rule) -> None:  # type: ignore[no-untyped-def]
    doc = ruledocs.from_rule(rule)
    assert rule.doc.splitlines()[0] == f"{rule.code} {rule.name}"
    parts = ruledocs.sections(doc.body)
    for section in ("What it does", "Why is this bad?", "Fix safety"):
        assert parts.get(section), f"{rule.code}: no '## {section}'"
    assert doc.summary and doc.why and doc.fix_safety
    assert rule.applicability is None or isinstance(rule.applicability, Applicability)
    assert f"## {rule.code} {rule.name}\n" in (REPO / ruledocs.DOCS_PATH).read_text()


def test_dockfix_rules(tmp_path: Path) -> None:
    proc = run_dockfix("rules", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == b""
    lines = proc.stdout.decode().splitlines()
    assert lines[0].split() == ["CODE", "NAME", "FIXABLE", "APPLICABILITY"]
    rows = {ln.split()[0]: ln.split()[1:] for ln in lines[1:]}
    assert set(rows) == {r.code for r in RULES}
    assert rows["DF001"] == ["missing-nonroot-user", "yes", "safe"]
    assert rows["DF006"] == ["privileged-port", "no", "-"]
    assert rows["DF007"] == ["named-user", "yes", "unsafe"]
    data = json.loads(run_dockfix("rules", "--output-format", "json", cwd=tmp_path).stdout)
    assert [d["code"] for d in data] == sorted(r.code for r in RULES)
    assert data[0] == {"code": "DF001", "name": "missing-nonroot-user", "fixable": True,
                       "applicability": "safe", "summary": ruledocs.find("DF001").summary}


def test_dockfix_rule(tmp_path: Path) -> None:
    from rewriter.dockerfile.rules import run_chown_after_copy

    proc = run_dockfix("rule", "df002", cwd=tmp_path)
    assert proc.returncode == 0
    out = proc.stdout.decode()
    assert out.startswith("# DF002 run-chown-after-copy\n\nFix: safe: applied by default.\n")
    body = run_chown_after_copy.__doc__.split("\n", 1)[1].strip()
    assert body in out  # the docstring is the documentation
    by_name = run_dockfix("rule", "run-chown-after-copy", cwd=tmp_path)
    assert by_name.stdout == proc.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["rule", "DF999"], "rule: unknown rule 'DF999' (see 'dockfix rules')"),
    (["rule"], "rule: expected one rule code or name, e.g. 'dockfix rule DF001'"),
    (["rule", "DF001", "DF002"], "rule: expected one rule code or name"),
    (["rules", "--bogus"], "No such option: --bogus"),
    (["rules", "--output-format", "xml"], "rules: --output-format: expected text or json"),
])
def test_subcommand_errors(tmp_path: Path, args: list[str], message: str) -> None:
    proc = run_dockfix(*args, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == b""
    assert proc.stderr.decode().startswith(f"dockfix: error: {message}")


def test_subcommand_help(tmp_path: Path) -> None:
    proc = run_dockfix("rules", "--help", cwd=tmp_path)
    assert proc.returncode == 0 and b"dockfix rule CODE" in proc.stdout
    help_text = b" ".join(run_dockfix("--help", cwd=tmp_path).stdout.split())
    assert b"'dockfix rules' lists the rules" in help_text


def test_a_file_named_rules_is_still_a_path(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "rules").write_text('FROM python:3.12-slim\nCOPY . /app\nCMD ["app"]\n')
    proc = run_dockfix("./rules", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.startswith(b"--- a/rules\n+++ b/rules\n")
    # after an option, "rules" is a path too
    proc = run_dockfix("--check", "rules", cwd=tmp_path)
    assert proc.returncode == 1


def test_usage_documents_every_config_key() -> None:
    toml = re.search(r"```toml\n# \.dockfix\.toml.*?```", USAGE, re.S)
    assert toml
    table = USAGE.split("Every key, with its type and default:")[1].split("\n\n")[1]
    for key in config.KEYS:
        assert re.search(rf"^\[?{re.escape(key)}\]? = ", toml.group(0), re.M) or (
            f"[{key}]" in toml.group(0)), f"{key} has no example"
        assert f"| `{key}` |" in table, f"{key} is not in docs/usage.md's table of keys"


def test_readme_documents_every_option() -> None:
    import typer

    from rewriter.cli.main import app

    for param in typer.main.get_command(app).params:
        if param.name in ("paths", "jobs"):  # jobs: documented by its own issue
            continue
        assert f"`{param.opts[0]}" in README, f"{param.opts[0]} is not in the README"
        assert f"`{param.opts[0]}" in USAGE, f"{param.opts[0]} is not in docs/usage.md"


def test_fix_applicability_matches_what_rules_do() -> None:
    """Over the rule fixtures: a rule declared without a fix never offers edits,
    and a rule with one offers its declared applicability at least once."""
    from rewriter.core.engine import fix_text
    from rewriter.core.settings import Settings

    seen: dict[str, set[Applicability | None]] = {}
    for path in sorted((REPO / "tests" / "fixtures" / "rules").rglob("*.Dockerfile")):
        for unsafe in (False, True):
            try:
                result = fix_text(path.read_text(encoding="utf-8"), Settings(unsafe_fixes=unsafe))
            except ParseError:  # fixtures of parse errors
                continue
            for f in result.findings:
                fix = f.violation.fix
                seen.setdefault(f.violation.code, set()).add(
                    fix.applicability if fix is not None and fix.edits else None)
    for rule in RULES:
        if rule.code not in seen:
            continue
        if rule.applicability is None:
            assert seen[rule.code] == {None}, rule.code
        else:
            assert rule.applicability in seen[rule.code], (rule.code, seen[rule.code])

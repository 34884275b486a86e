"""Write the generated parts of the documentation, from their single sources.

    python scripts/gen_docs.py          # rewrite docs/rules.md and the generated blocks of the pages
    python scripts/gen_docs.py --check  # exit 1 (and say which) if any is out of date

* ``docs/rules.md``: every rule's documentation, from the rule modules'
  docstrings (``rewriter.report.ruledocs.rules_markdown``);
* README.md, between ``<!-- rules table: generated -->`` and
  ``<!-- end of rules table -->``: the rules table (``ruledocs.readme_table``);
* README.md and every other page of ``docs/``, between ``<!-- example: NAME -->``
  and ``<!-- end of example -->``: the real output of ``dockfix`` on
  ``examples/Dockerfile``, run as a subprocess from the repository's root, for
  each entry of ``EXAMPLES`` (an ``-excerpt`` shows its first lines only).

``tests/test_docs.py`` runs ``generate()`` and fails when a file differs.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from rewriter.report import ruledocs  # noqa: E402

EXAMPLE = "examples/Dockerfile"
RULES_START, RULES_END = "<!-- rules table: generated -->", "<!-- end of rules table -->"
EXAMPLE_START = re.compile(r"<!-- example: ([a-z-]+) -->\n")
EXAMPLE_END = "<!-- end of example -->"

#: name -> (command-line arguments, fence language, folded into <details>)
EXAMPLES: dict[str, tuple[list[str], str, bool]] = {
    "diff": ([EXAMPLE], "diff", False),
    "text": (["--check", EXAMPLE], "", False),
    "json": (["--output-format", "json", EXAMPLE], "json", True),
    "sarif": (["--output-format", "sarif", EXAMPLE], "json", True),
    "github": (["--output-format", "github", EXAMPLE], "", False),
    "markdown": (["--output-format", "markdown", EXAMPLE], "markdown", True),
}
#: excerpts for the README: NAME-excerpt is COUNT lines of NAME's output, from the
#: first line that holds START (from the top when it is empty), unfolded
EXCERPT_LINES: dict[str, tuple[str, int]] = {
    "json": ("", 16), "sarif": ('"level"', 28), "markdown": ("", 11)}


def dockfix(*args: str) -> tuple[str, str]:
    """Run the real command from the repository's root: (stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKFIX_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env["NO_COLOR"] = "1"
    proc = subprocess.run([sys.executable, "-m", "rewriter", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"dockfix {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout, proc.stderr


def _fence(text: str, lang: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{lang}\n{text if text.endswith(chr(10)) else text + chr(10)}{fence}\n"


def example_block(name: str) -> str:
    name, _, excerpt = name.partition("-")
    args, lang, fold = EXAMPLES[name]
    out, err = dockfix(*args)
    if name == "text":  # what a terminal shows: messages on stderr, nothing on stdout
        body = _fence(f"$ dockfix {' '.join(args)}\n{err}", lang)
    elif excerpt:
        start, count = EXCERPT_LINES[name]
        lines = out.splitlines()
        first = next(i for i, line in enumerate(lines) if start in line)
        shown = (["..."] if first else []) + lines[first:first + count] + ["..."]
        return _fence(f"$ dockfix {' '.join(args)}\n" + "\n".join(shown) + "\n", "")
    else:
        body = _fence(out, lang)
    if fold:
        return (f"<details><summary><code>dockfix {' '.join(args)}</code></summary>\n\n"
                f"{body}\n</details>\n")
    return body


def page(text: str, name: str = "README.md") -> str:
    """``text`` (README.md or a page of docs/) with every generated block written afresh."""
    if RULES_START in text:
        start = text.index(RULES_START) + len(RULES_START)
        end = text.find(RULES_END, start)
        if end < 0:
            raise SystemExit(f"{name}: {RULES_START} has no {RULES_END} after it")
        text = text[:start] + "\n" + ruledocs.readme_table(ruledocs.all_rules()) + text[end:]
    out = []
    pos = 0
    for m in EXAMPLE_START.finditer(text):
        if m.start() < pos:
            continue
        example, _, excerpt = m.group(1).partition("-")
        if example not in EXAMPLES or excerpt not in ("", "excerpt") or (
                excerpt and example not in EXCERPT_LINES):
            raise SystemExit(f"{name}: unknown example {m.group(1)!r}")
        end = text.find(EXAMPLE_END, m.end())
        if end < 0:
            raise SystemExit(f"{name}: example {m.group(1)!r} has no {EXAMPLE_END}")
        out.append(text[pos:m.end()])
        out.append(example_block(m.group(1)))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def pages() -> list[Path]:
    """README.md and the hand-written pages of docs/ (those that may hold generated blocks)."""
    rules = REPO / ruledocs.DOCS_PATH
    return [REPO / "README.md", *(p for p in sorted((REPO / "docs").glob("*.md")) if p != rules)]


def generate() -> dict[Path, str]:
    """Every generated file: path -> the text it should have."""
    out = {REPO / ruledocs.DOCS_PATH: ruledocs.rules_markdown(ruledocs.all_rules())}
    for path in pages():
        name = str(path.relative_to(REPO))
        out[path] = page(path.read_text(encoding="utf-8"), name)
    return out


def stale() -> list[Path]:
    """The generated files that are not current."""
    return [p for p, text in generate().items()
            if not p.is_file() or p.read_text(encoding="utf-8") != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only tell whether it is current")
    args = parser.parse_args(argv)
    if args.check:
        old = stale()
        for p in old:
            print(f"{p.relative_to(REPO)} is out of date: run python scripts/gen_docs.py",
                  file=sys.stderr)
        return 1 if old else 0
    for path, text in generate().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

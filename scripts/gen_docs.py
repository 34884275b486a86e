"""Write the generated parts of the documentation, from their single sources.

    python scripts/gen_docs.py          # rewrite docs/rules.md and README.md's generated blocks
    python scripts/gen_docs.py --check  # exit 1 (and say which) if any is out of date

* ``docs/rules.md``: every rule's documentation, from the rule modules'
  docstrings (``rewriter.report.ruledocs.rules_markdown``);
* README.md, between ``<!-- rules table: generated -->`` and
  ``<!-- end of rules table -->``: the rules table (``ruledocs.readme_table``);
* README.md, between ``<!-- example: NAME -->`` and ``<!-- end of example -->``:
  the real output of ``dockfix`` on ``examples/Dockerfile``, run as a
  subprocess from the repository's root, for each entry of ``EXAMPLES``.

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
    args, lang, fold = EXAMPLES[name]
    out, err = dockfix(*args)
    if name == "text":  # what a terminal shows: messages on stderr, nothing on stdout
        body = _fence(f"$ dockfix {' '.join(args)}\n{err}", lang)
    else:
        body = _fence(out, lang)
    if fold:
        return (f"<details><summary><code>dockfix {' '.join(args)}</code></summary>\n\n"
                f"{body}\n</details>\n")
    return body


def readme(text: str) -> str:
    """``text`` (README.md) with every generated block written afresh."""
    docs = ruledocs.all_rules()
    start = text.index(RULES_START) + len(RULES_START)
    end = text.find(RULES_END, start)
    if end < 0:
        raise SystemExit(f"README.md: {RULES_START} has no {RULES_END} after it")
    text = text[:start] + "\n" + ruledocs.readme_table(docs) + text[end:]
    out = []
    pos = 0
    for m in EXAMPLE_START.finditer(text):
        if m.start() < pos:
            continue
        if m.group(1) not in EXAMPLES:
            raise SystemExit(f"README.md: unknown example {m.group(1)!r}")
        end = text.find(EXAMPLE_END, m.end())
        if end < 0:
            raise SystemExit(f"README.md: example {m.group(1)!r} has no {EXAMPLE_END}")
        out.append(text[pos:m.end()])
        out.append(example_block(m.group(1)))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def generate() -> dict[Path, str]:
    """Every generated file: path -> the text it should have."""
    return {
        REPO / ruledocs.DOCS_PATH: ruledocs.rules_markdown(ruledocs.all_rules()),
        REPO / "README.md": readme((REPO / "README.md").read_text(encoding="utf-8")),
    }


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

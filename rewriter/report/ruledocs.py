"""Rule documentation, from the one place it is written: each rule module's docstring.

A rule's docstring starts with ``CODE name`` on its first line, then Markdown
sections in ruff's order (``## What it does``, ``## Why is this bad?``,
``## Example``, ``Use instead:``, ``## Fix safety``, ...).  Everything here
reads them: ``dockfix rules``, ``dockfix rule CODE``, the rule metadata of the
SARIF output, the reasons in the Markdown output, ``docs/rules.md`` and the
rules table of the README (both written by ``scripts/gen_docs.py``, and tested
to be current).

This module does no I/O.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass

from rewriter.core.rules import REGISTRY, Rule

#: Where the generated rule reference lives in the repository.
DOCS_PATH = "docs/rules.md"

_SECTION = re.compile(r"^## +(.+?)\s*$", re.M)


@dataclass(frozen=True, slots=True)
class RuleDoc:
    """A rule's documentation, in the pieces the output formats show."""

    code: str  #: e.g. ``DF002``
    name: str  #: e.g. ``run-chown-after-copy``
    summary: str  #: the first paragraph of "What it does", on one line
    why: str  #: the first paragraph of "Why is this bad?", on one line
    fix_safety: str  #: the "Fix safety" section, on one line
    #: the applicability its fix usually has: ``safe``, ``unsafe``, ``display-only``;
    #: ``None`` when it never offers an edit
    applicability: str | None
    body: str  #: the documentation in Markdown (the docstring after its title line)

    @property
    def fixable(self) -> bool:
        return self.applicability in ("safe", "unsafe")

    @property
    def title(self) -> str:
        return f"{self.code} {self.name}"


def _paragraph(text: str) -> str:
    """The first paragraph of ``text``, joined into one line."""
    para = text.strip().split("\n\n", 1)[0]
    return " ".join(para.split())


def sections(body: str) -> dict[str, str]:
    """``## Heading`` -> the text under it (up to the next heading)."""
    out: dict[str, str] = {}
    matches = list(_SECTION.finditer(body))
    for m, nxt in zip(matches, matches[1:] + [None]):
        out[m.group(1)] = body[m.end(): nxt.start() if nxt else len(body)].strip()
    return out


def from_rule(rule: Rule) -> RuleDoc:
    """The documentation of one rule."""
    doc = inspect.cleandoc(rule.doc)
    first, _, body = doc.partition("\n")
    parts = sections(body)
    applicability = rule.applicability
    return RuleDoc(
        code=rule.code,
        name=rule.name,
        summary=_paragraph(parts.get("What it does", "")) or first.strip(),
        why=_paragraph(parts.get("Why is this bad?", "")),
        fix_safety=_paragraph(parts.get("Fix safety", "")),
        applicability=applicability.label if applicability is not None else None,
        body=body.strip() + "\n",
    )


def all_rules() -> list[RuleDoc]:
    """Every registered rule, by code."""
    return sorted((from_rule(r) for r in REGISTRY.rules()), key=lambda d: d.code)


def find(code_or_name: str) -> RuleDoc | None:
    """A rule by code (``DF001``, any case) or by name (``missing-nonroot-user``)."""
    key = code_or_name.strip()
    for doc in all_rules():
        if doc.code == key.upper() or doc.name == key.lower():
            return doc
    return None


def applicability_words(doc: RuleDoc) -> str:
    """What happens to the rule's fix by default, in a few words."""
    return {
        "safe": "safe: applied by default",
        "unsafe": "unsafe: applied with --unsafe-fixes",
        "display-only": "display-only: shown, never applied",
        None: "none: reports only",
    }[doc.applicability]


def rule_text(doc: RuleDoc) -> str:
    """What ``dockfix rule CODE`` prints: the rule's documentation, in Markdown."""
    return f"# {doc.title}\n\nFix: {applicability_words(doc)}.\n\n{doc.body}"


def rules_table(docs: list[RuleDoc]) -> str:
    """What ``dockfix rules`` prints: one line per rule, in columns."""
    rows = [("CODE", "NAME", "FIXABLE", "APPLICABILITY")]
    rows += [(d.code, d.name, "yes" if d.fixable else "no", d.applicability or "-") for d in docs]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "".join(
        "  ".join(c.ljust(w) for c, w in zip(r[:3], widths)) + "  " + r[3] + "\n" for r in rows
    )


def readme_table(docs: list[RuleDoc]) -> str:
    """The rules table of the README, in Markdown."""
    lines = [
        "| code | name | fix by default |",
        "| --- | --- | --- |",
    ]
    for d in docs:
        anchor = f"{DOCS_PATH}#{d.code.lower()}-{d.name}"
        lines.append(f"| [{d.code}]({anchor}) | `{d.name}` | {applicability_words(d)} |")
    return "\n".join(lines) + "\n"


def _demote(body: str) -> str:
    """Headings one level down (``##`` -> ``###``), outside code blocks."""
    out = []
    fenced = False
    for line in body.split("\n"):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            line = "#" + line
        out.append(line)
    return "\n".join(out)


def rules_markdown(docs: list[RuleDoc]) -> str:
    """``docs/rules.md``: every rule's documentation, one after another."""
    parts = [
        "# dockfix rules\n\n"
        "<!-- Generated by scripts/gen_docs.py from the rule modules' docstrings "
        "(rewriter/rules/*.py); edit those, not this file. -->\n\n"
        "Each rule is one module in `rewriter/rules/`, and its docstring is this text. "
        "`dockfix rule CODE` prints the same. Turn a rule off for one instruction with "
        "`# dockfix: ignore=CODE` on the line above it, for a whole file with "
        "`# dockfix: ignore-file=CODE`, or everywhere with `ignore = [\"CODE\"]` in "
        "`.dockfix.toml`.\n\n",
        "| code | name | fixable | fix by default |\n| --- | --- | --- | --- |\n",
    ]
    parts += [f"| [{d.code}](#{d.code.lower()}-{d.name}) | `{d.name}` | "
              f"{'yes' if d.fixable else 'no'} | {applicability_words(d)} |\n" for d in docs]
    for d in docs:
        parts.append(f"\n## {d.code} {d.name}\n\nFix: {applicability_words(d)}.\n\n"
                     f"{_demote(d.body)}")
    return "".join(parts)

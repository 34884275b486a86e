"""Rules as values, what they produce, and the registry of rules and languages.

A ``Rule`` is a record: its code and name, the language it reads, its
priority (lower runs first, and its fixes win an overlap), the applicability
its fix usually has, its documentation and its ``check`` function.  A rule's
``check(ctx)`` gets the analysis context of its language and yields
``Violation``s (each with an optional ``Fix``) and ``Decline``s.

``REGISTRY`` holds the languages and rules dockfix ships; each language's
subpackage adds its own when it is imported, or, for a language most runs do
not read, when it is first needed (``Registry.defer``).  The engine runs the rules it is
handed, by default the registered rules of the language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from rewriter.core.edits import Applicability, Fix
from rewriter.core.language import Language
from rewriter.core.source import Span

__all__ = ["INFO_REASONS", "REGISTRY", "Decline", "Registry", "Rule", "Violation", "rule_of", "rules_of"]


@dataclass(frozen=True, slots=True)
class Violation:
    """A problem a rule found, with the fix it offers (if any)."""

    code: str  #: e.g. ``DF001``
    name: str  #: kebab-case name of the problem, e.g. ``missing-nonroot-user``
    span: Span  #: where in the text the rule read
    message: str  #: states the problem
    fix: Fix | None = None


#: Decline reasons that mean "nothing to do" rather than "could not do it".
INFO_REASONS = frozenset({"already-nonroot", "empty-stage"})


@dataclass(frozen=True, slots=True)
class Decline:
    """dockfix chose not to change something, and says why."""

    reason: str  #: kebab-case reason code, e.g. ``privilege-drop-entrypoint``
    message: str  #: what the user can do about it
    line: int | None = None  #: 1-based line it is about
    stage: str | None = None  #: stage name or index
    #: what the file was judged to be (app, base-image, ci-builder, ...), when judged
    kind: str | None = None
    #: ``path:line: text`` lines that show why, for a reviewer to check
    evidence: tuple[str, ...] = ()

    @property
    def informational(self) -> bool:
        """True when there was nothing to fix (the file is fine as it is)."""
        return self.reason in INFO_REASONS


#: ``check(ctx)``: the findings of one rule in the analysis context ``ctx``.
Check = Callable[[Any], Iterable["Violation | Decline"]]


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule as a value: its metadata, its documentation and its ``check``."""

    code: str  #: ``DF`` + 3 digits (Dockerfile rules), never reused
    name: str  #: kebab-case, names the problem
    language: str  #: the ``Language.name`` whose analysis context ``check`` reads
    priority: int  #: lower first; an earlier fix wins an overlap
    #: the applicability its fix usually has; ``None``: it reports, never edits
    applicability: Applicability | None
    doc: str  #: ``CODE name`` line, then Markdown sections (see ``report.ruledocs``)
    check: Check


def rule_of(module: ModuleType, language: str) -> Rule:
    """The ``Rule`` a rule module defines: its ``CODE``, ``NAME``, ``PRIORITY``,
    ``FIX_APPLICABILITY`` and ``check``, documented by its docstring."""
    return Rule(code=module.CODE, name=module.NAME, language=language,
                priority=module.PRIORITY, applicability=module.FIX_APPLICABILITY,
                doc=module.__doc__ or "", check=module.check)


def rules_of(modules: Iterable[ModuleType], language: str) -> tuple[Rule, ...]:
    """The rules the modules define, by priority."""
    return tuple(sorted((rule_of(m, language) for m in modules), key=lambda r: r.priority))


class Registry:
    """The languages dockfix knows and the rules of each."""

    def __init__(self) -> None:
        self._languages: dict[str, Language] = {}
        self._rules: dict[str, Rule] = {}
        self._deferred: list[tuple[frozenset[str], Callable[[], object]]] = []

    def defer(self, languages: Iterable[str], load: Callable[[], object]) -> None:
        """``load()`` registers ``languages`` and their rules (it imports the
        modules that do): it runs when one of them, or the list of every rule,
        is first asked for, so a run that reads none of them never imports them."""
        self._deferred.append((frozenset(languages), load))

    def _load(self, language: str | None) -> None:
        """Run the deferred loads that register ``language`` (all of them for ``None``)."""
        for entry in [d for d in self._deferred if language is None or language in d[0]]:
            self._deferred.remove(entry)
            languages, load = entry
            load()
            missing = languages - self._languages.keys()
            if missing:
                raise LookupError(f"loading did not register {', '.join(sorted(missing))}")

    def add_language(self, language: Language) -> None:
        self._languages[language.name] = language

    def add(self, rule: Rule) -> None:
        if rule.language not in self._languages:
            raise ValueError(f"{rule.code}: unknown language {rule.language!r}")
        known = self._rules.get(rule.code)
        if known is not None and known != rule:
            raise ValueError(f"{rule.code}: two rules with one code")
        self._rules[rule.code] = rule

    def language(self, name: str) -> Language:
        if name not in self._languages:
            self._load(name)
        try:
            return self._languages[name]
        except KeyError:
            raise LookupError(f"no language {name!r} is registered") from None

    def rules(self, language: str | None = None) -> tuple[Rule, ...]:
        """The rules of ``language`` (all of them when ``None``), by priority."""
        self._load(language)
        chosen = (r for r in self._rules.values() if language in (None, r.language))
        return tuple(sorted(chosen, key=lambda r: (r.priority, r.code)))

    def find(self, code_or_name: str) -> Rule | None:
        """A rule by code (``DF001``, any case) or by name (``missing-nonroot-user``)."""
        self._load(None)
        key = code_or_name.strip()
        for rule in self._rules.values():
            if rule.code == key.upper() or rule.name == key.lower():
                return rule
        return None


REGISTRY = Registry()

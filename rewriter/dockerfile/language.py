"""The Dockerfile language, as the engine sees it, and its registration.

Importing this module registers the language and its rules
(``rewriter.dockerfile.rules``) with ``rewriter.core.rules.REGISTRY``.
"""

from __future__ import annotations

from rewriter.core.language import Language
from rewriter.core.rules import REGISTRY
from rewriter.core.settings import Settings
from rewriter.dockerfile import rules
from rewriter.dockerfile.analysis import Context
from rewriter.dockerfile.syntax import KNOWN_INSTRUCTIONS, Dockerfile, parse
from rewriter.io.context import BuildContext

NAME = rules.LANGUAGE


def analyse(df: Dockerfile, settings: Settings, path: str | None,
            build_context: BuildContext | None) -> Context:
    return Context(df, settings, path, build_context)


def breakage(before: Dockerfile, after: Dockerfile) -> str | None:
    """Why BuildKit would reject ``after`` when it accepted ``before``."""

    def unknown(df: Dockerfile) -> int:
        return sum(1 for i in df.instructions if i.keyword.lower() not in KNOWN_INSTRUCTIONS)

    if unknown(after) > unknown(before):
        return "the fix produced an unknown instruction"
    if len(after.stages) != len(before.stages):
        return "the fix changed the number of build stages"
    for i in after.instructions:
        if i.cmd == "USER" and not i.args:
            return "the fix produced a USER without a user"
    return None


DOCKERFILE = Language(NAME, parse, analyse, breakage)

REGISTRY.add_language(DOCKERFILE)
for _rule in rules.RULES:
    REGISTRY.add(_rule)

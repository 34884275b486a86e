"""The rules for Python files that configure Celery (codes DFC001...), as
``rewriter.core.rules.Rule`` values, by priority.

Each rule is a module with ``CODE``, ``NAME``, ``PRIORITY``,
``FIX_APPLICABILITY`` and ``check(ctx)`` (``ctx``: a
``rewriter.python.context.PyContext``), documented by its docstring, as the
Dockerfile rules are.  ``rewriter.python.language`` registers them.  None of
them imports libcst.
"""

from __future__ import annotations

from types import ModuleType

from rewriter.core.rules import Rule
from rewriter.python.rules import (
    accept_content,
    auth_without_security,
    broker_password,
    broker_without_tls,
    insecure_serializer,
)

#: The language the rules read (``rewriter.python.language.NAME``).
LANGUAGE = "python"


def rule_of(module: ModuleType) -> Rule:
    """The ``Rule`` a rule module defines."""
    return Rule(code=module.CODE, name=module.NAME, language=LANGUAGE,
                priority=module.PRIORITY, applicability=module.FIX_APPLICABILITY,
                doc=module.__doc__ or "", check=module.check)


RULES: tuple[Rule, ...] = tuple(
    sorted(
        (rule_of(m) for m in (insecure_serializer, accept_content, auth_without_security,
                              broker_password, broker_without_tls)),
        key=lambda r: r.priority,
    )
)

"""The rules for Python files that configure Celery (codes DFC001...), as
``rewriter.core.rules.Rule`` values, by priority.

Each rule is a module with ``CODE``, ``NAME``, ``PRIORITY``,
``FIX_APPLICABILITY`` and ``check(ctx)`` (``ctx``: a
``rewriter.python.context.PyContext``), documented by its docstring, as the
Dockerfile rules are.  ``rewriter.python.language`` registers them.  None of
them imports libcst.
"""

from __future__ import annotations

from rewriter.core.rules import Rule, rules_of
from rewriter.python.rules import accept_content, auth_without_security
from rewriter.python.rules import broker_password, broker_without_tls, insecure_serializer

#: The language the rules read (``rewriter.python.language.NAME``).
LANGUAGE = "python"


RULES: tuple[Rule, ...] = rules_of((insecure_serializer, accept_content, auth_without_security,
                                    broker_password, broker_without_tls), LANGUAGE)

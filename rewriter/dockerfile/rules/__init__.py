"""The Dockerfile rules, as ``rewriter.core.rules.Rule`` values, by priority.

Each rule is a module with ``CODE``, ``NAME``, ``PRIORITY``,
``FIX_APPLICABILITY`` and ``check(ctx)``, and its docstring is its
documentation; ``rule_of`` makes the value from the module.  The list is
explicit (hadolint's Process.hs).  ``rewriter.dockerfile.language`` registers
them.
"""

from __future__ import annotations

from types import ModuleType

from rewriter.core.rules import Rule
from rewriter.dockerfile.rules import (
    celery_force_root,
    missing_nonroot_user,
    named_user,
    privileged_port,
    run_chown_after_copy,
    sudo_in_run,
    user_reverted_to_root,
    volume_not_owned,
)

#: The language the rules read (``rewriter.dockerfile.language.NAME``).
LANGUAGE = "dockerfile"


def rule_of(module: ModuleType) -> Rule:
    """The ``Rule`` a rule module defines."""
    return Rule(
        code=module.CODE,
        name=module.NAME,
        language=LANGUAGE,
        priority=module.PRIORITY,
        applicability=module.FIX_APPLICABILITY,
        doc=module.__doc__ or "",
        check=module.check,
    )


RULES: tuple[Rule, ...] = tuple(
    sorted(
        (
            rule_of(m)
            for m in (
                missing_nonroot_user,
                user_reverted_to_root,
                run_chown_after_copy,
                volume_not_owned,
                celery_force_root,
                named_user,
                privileged_port,
                sudo_in_run,
            )
        ),
        key=lambda r: r.priority,
    )
)

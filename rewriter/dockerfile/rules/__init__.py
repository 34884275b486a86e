"""The Dockerfile rules, as ``rewriter.core.rules.Rule`` values, by priority.

Each rule is a module with ``CODE``, ``NAME``, ``PRIORITY``,
``FIX_APPLICABILITY`` and ``check(ctx)``, and its docstring is its
documentation; ``rewriter.core.rules.rule_of`` makes the value from the module.  The list is
explicit (hadolint's Process.hs).  ``rewriter.dockerfile.language`` registers
them.
"""

from __future__ import annotations

from rewriter.core.rules import Rule, rules_of
from rewriter.dockerfile.rules import celery_force_root, missing_nonroot_user, named_user, privileged_port
from rewriter.dockerfile.rules import run_chown_after_copy, sudo_in_run, user_reverted_to_root, volume_not_owned

#: The language the rules read (``rewriter.dockerfile.language.NAME``).
LANGUAGE = "dockerfile"


RULES: tuple[Rule, ...] = rules_of((missing_nonroot_user, user_reverted_to_root, run_chown_after_copy,
                                    volume_not_owned, celery_force_root, named_user, privileged_port,
                                    sudo_in_run), LANGUAGE)

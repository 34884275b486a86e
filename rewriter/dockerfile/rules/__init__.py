"""The rules, in the order their fixes are tried (lower priority first).

An explicit, ordered tuple (hadolint's Process.hs): each rule is a module with
``CODE``, ``NAME``, ``PRIORITY`` and ``check(ctx)``, and its docstring is its
documentation.
"""

from __future__ import annotations

from types import ModuleType

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

RULES: tuple[ModuleType, ...] = tuple(
    sorted(
        (
            missing_nonroot_user,
            user_reverted_to_root,
            run_chown_after_copy,
            volume_not_owned,
            celery_force_root,
            named_user,
            privileged_port,
            sudo_in_run,
        ),
        key=lambda m: m.PRIORITY,
    )
)


def by_code(code: str) -> ModuleType | None:
    for rule in RULES:
        if rule.CODE == code.upper():
            return rule
    return None

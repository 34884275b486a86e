"""The rules, in the order their fixes are tried (lower priority first)."""

from __future__ import annotations

from types import ModuleType

RULES: tuple[ModuleType, ...] = ()

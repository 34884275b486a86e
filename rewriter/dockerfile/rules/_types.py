"""What rules produce: violations (with an optional fix) and declines.

They are the same for every language, so they live in ``rewriter.core.rules``.
"""

from __future__ import annotations

from rewriter.core.rules import INFO_REASONS, Decline, Violation

__all__ = ["INFO_REASONS", "Decline", "Violation"]

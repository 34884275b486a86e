"""What rules produce: violations (with an optional fix) and declines."""

from __future__ import annotations

from rewriter._records import dataclass

from rewriter.core.edits import Fix
from rewriter.dockerfile.syntax import Span


@dataclass(frozen=True)
class Violation:
    code: str  #: e.g. ``DF001``
    name: str  #: kebab-case name of the problem, e.g. ``missing-nonroot-user``
    span: Span  #: where in the original text
    message: str  #: states the problem
    fix: Fix | None = None


#: Decline reasons that mean "nothing to do" rather than "could not do it".
INFO_REASONS = frozenset({"already-nonroot", "empty-stage"})


@dataclass(frozen=True)
class Decline:
    """dockfix chose not to change something, and says why."""

    reason: str  #: kebab-case reason code, e.g. ``privilege-drop-entrypoint``
    message: str  #: what the user can do about it
    line: int | None = None  #: 1-based line it is about
    stage: str | None = None  #: stage name or index

    @property
    def informational(self) -> bool:
        """True when there was nothing to fix (the file is fine as it is)."""
        return self.reason in INFO_REASONS

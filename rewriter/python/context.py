"""What the Python rules are given: the file's Celery configuration and the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rewriter.core.settings import Settings
from rewriter.core.source import Span
from rewriter.python.model import Config, Setting
from rewriter.python.names import SERIALIZERS

#: serializers that run code or are not JSON, by their names and content types
INSECURE = frozenset({
    "pickle", "yaml", "msgpack",
    "application/x-python-serialize", "application/x-yaml", "application/x-msgpack",
})
JSON = frozenset({"json", "application/json"})


@dataclass
class Pragmas:
    file: set[str] = field(default_factory=set)  #: codes off for the file ("*": all)
    lines: dict[int, set[str]] = field(default_factory=dict)  #: 1-based line -> codes


@dataclass
class PyContext:
    """The analysis context of the Python rules (the engine reads ``settings``,
    ``ignored`` and ``line``)."""

    config: Config
    settings: Settings
    path: str | None = None
    pragmas: Pragmas = field(default_factory=Pragmas)

    def line(self, offset: int) -> int:
        return self.config.source.line_col(offset)[0]

    def ignored(self, code: str, span: Span, *_: Any) -> bool:
        """``# dockfix: ignore[=CODES]`` on the finding's line or the line above,
        or ``# dockfix: ignore-file[=CODES]``, turns ``code`` off."""
        if "*" in self.pragmas.file or code in self.pragmas.file:
            return True
        line = self.line(span.start)
        for n in (line, line - 1):
            codes = self.pragmas.lines.get(n, ())
            if "*" in codes or code in codes:
                return True
        return False

    def serializers(self) -> list[Setting]:
        return self.config.named(*SERIALIZERS)

    def serializer_values(self) -> list[str | None]:
        """Each serializer setting's value (lowercase), ``None`` when not a literal string."""
        return [s.python.lower() if s.literal and isinstance(s.python, str) else None
                for s in self.serializers()]

"""Files that start Celery workers: compose files, Procfiles, systemd units.

A small line-based language of the engine (``celery-worker``): the text is
kept as it is, ``parse`` only splits it into lines (``rewriter.core.source``)
and notes which lines start a worker.  Its one rule, DFC006, removes what
makes a worker run as root.  Which files are read this way is decided by
name (``rewriter.python.detect.WORKER_PATTERNS``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rewriter.core.language import Language
from rewriter.core.rules import REGISTRY
from rewriter.core.settings import Settings
from rewriter.core.source import Source
from rewriter.python.context import Pragmas
from rewriter.python.language import pragmas
from rewriter.python.model import mask
from rewriter.python.rules import worker_as_root

NAME = worker_as_root.LANGUAGE

_WORKER = re.compile(r"\bcelery\b.*\bworker\b", re.I)
_SERVICE_SECTION = re.compile(r"^[ \t]*\[Service\][ \t]*\r?$", re.M)


@dataclass
class WorkerFile:
    source: Source

    @property
    def text(self) -> str:
        return self.source.text

    def line_text(self, i: int) -> str:
        ln = self.source.lines[i]
        return self.text[ln.start:ln.content_end]

    @property
    def systemd(self) -> bool:
        """A systemd unit: it has a ``[Service]`` section."""
        return _SERVICE_SECTION.search(self.text) is not None

    def starts_worker(self, i: int) -> bool:
        return _WORKER.search(self.line_text(i)) is not None

    def statement_at(self, offset: int) -> str:
        if not self.source.lines:
            return ""
        return mask(" ".join(self.line_text(self.source.line_index(offset)).split()))


@dataclass
class WorkerContext:
    tree: WorkerFile
    settings: Settings
    path: str | None = None
    pragmas: Pragmas | None = None

    def line(self, offset: int) -> int:
        return self.tree.source.line_col(offset)[0]

    def ignored(self, code: str, span: Any, *_: Any) -> bool:
        p = self.pragmas
        if p is None:
            return False
        if "*" in p.file or code in p.file:
            return True
        line = self.line(span.start)
        return any("*" in p.lines.get(n, ()) or code in p.lines.get(n, ()) for n in (line, line - 1))


def parse(text: str) -> WorkerFile:
    return WorkerFile(Source(text))


def analyse(tree: WorkerFile, settings: Settings, path: str | None = None,
            build_context: Any = None) -> WorkerContext:
    return WorkerContext(tree, settings, path, pragmas(tree.source))


def breakage(before: WorkerFile, after: WorkerFile) -> str | None:
    return None  # every edit removes a whole line or one option of a command


WORKER = Language(NAME, parse, analyse, breakage)

REGISTRY.add_language(WORKER)
REGISTRY.add(worker_as_root.RULE)

"""``# dockfix: ignore`` comments.

* ``# dockfix: ignore`` on the comment line(s) right above an instruction turns
  off every rule for that instruction; ``# dockfix: ignore=DF001,DF002`` only
  those rules.  Rules that fix a whole stage (DF001) report on the stage's
  ``FROM`` line, so a pragma above ``FROM`` turns them off for that stage.
* ``# dockfix: ignore-file`` (or ``ignore-file=DF001,...``) anywhere in the file
  turns rules off for the whole file.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from rewriter.dockerfile.syntax import Dockerfile, Instruction, Span, Trivia

_PRAGMA = re.compile(
    r"^\s*#\s*dockfix:\s*(ignore-file|ignore)\s*(?:=\s*([A-Za-z0-9_,\s]*))?\s*$", re.I
)
ALL = "*"


@dataclass
class Pragmas:
    """The ``# dockfix: ignore`` comments of a file."""

    file: set[str] = field(default_factory=set)  #: codes off for the file (or ALL)
    lines: dict[int, set[str]] = field(default_factory=dict)  #: instruction start offset -> codes

    def ignored(self, code: str, span: Span, instructions: list[Instruction]) -> bool:
        """Whether ``code`` is off for a violation over ``span``: file-wide, or by
        a pragma above any instruction the span covers."""
        if ALL in self.file or code in self.file:
            return True
        if not self.lines:
            return False
        # the first instruction that may reach the span (they are in order)
        first = max(bisect.bisect_right(instructions, span.start, key=_start) - 1, 0)
        for k in range(first, len(instructions)):
            ins = instructions[k]
            if ins.span.end <= span.start:
                continue
            if ins.span.start >= max(span.end, span.start + 1):
                break
            codes = self.lines.get(ins.span.start)
            if codes and (ALL in codes or code in codes):
                return True
        return False


def _start(ins: Instruction) -> int:
    return ins.span.start


def read(df: Dockerfile) -> Pragmas:
    p = Pragmas()
    text = df.text
    pending: set[str] = set()
    for node in df.nodes:
        if isinstance(node, Trivia):
            if node.kind != "comment":
                pending = set()
                continue
            m = _PRAGMA.match(text[node.span.start:node.span.end].rstrip("\r\n"))
            if not m:
                continue
            codes = {c.strip().upper() for c in (m.group(2) or "").split(",") if c.strip()}
            codes = codes or {ALL}
            if m.group(1).lower() == "ignore-file":
                p.file |= codes
            else:
                pending |= codes
        else:
            if pending:
                p.lines[node.span.start] = pending
            pending = set()
    return p

'''DFC006 worker-as-root

## What it does
Finds what makes a Celery worker run as root in the files that start it:
`C_FORCE_ROOT` in a compose file's `environment:`, a Procfile command or a
systemd unit's `Environment=`; `--uid`/`--gid` options of `celery worker`
(the worker starts as root and drops to that user itself); and `user: root`
(or `0`) on a compose service that starts a worker. It removes them, so the
worker runs as the image's own non-root `USER` (which DF001 adds).

## Why is this bad?
A worker running as root that is tricked into running code (a pickle
message, a vulnerable task) owns the container. `C_FORCE_ROOT` exists only to
silence Celery's refusal to run as root with pickle enabled; `--uid` means the
process starts as root and must give it up correctly.

## Example
```yaml
  worker:
    command: celery -A proj worker --uid=nobody -l INFO
    environment:
      - C_FORCE_ROOT=true
```

Use instead:
```yaml
  worker:
    command: celery -A proj worker -l INFO
```

## Fix safety
Removing `C_FORCE_ROOT` is safe: as a non-root user it does nothing, and as
root the worker then refuses pickle. Removing `--uid`/`--gid` or `user: root`
is unsafe: the worker then runs as the image's `USER`, so what the command
does as root first (copying certificates, `chown`) may fail, and when the
image has no non-root `USER` the option was the only thing that made the
worker drop root; check the image first (DF001). A
`C_FORCE_ROOT` that is the only entry of an `environment:` block, or shares a
systemd `Environment=` line, and `User=root` in a systemd unit (whose default
is root too) are only reported.

## Relationship to other rules
DF005 removes `ENV C_FORCE_ROOT` from a Dockerfile once its stage is non-root.

## References
- https://docs.celeryq.dev/en/stable/userguide/security.html
- https://docs.celeryq.dev/en/stable/reference/cli.html#celery-worker
'''

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from rewriter.core.edits import Applicability, Edit, Fix
from rewriter.core.rules import Rule, Violation
from rewriter.core.source import Span

CODE = "DFC006"
NAME = "worker-as-root"
PRIORITY = 10
FIX_APPLICABILITY: Applicability | None = Applicability.SAFE
LANGUAGE = "celery-worker"

_LIST_ITEM = re.compile(r"""^\s*-\s*["']?C_FORCE_ROOT(=[^"'#]*)?["']?\s*(#.*)?$""")
_MAP_ITEM = re.compile(r"""^\s*["']?C_FORCE_ROOT["']?\s*:.*$""")
_SYSTEMD_ENV = re.compile(r"^\s*Environment\s*=(.*)$")
_PREFIX = re.compile(r"(?:\bexport\s+)?\bC_FORCE_ROOT=\S*\s+")
_UIDGID = re.compile(r"\s+--(?:uid|gid)(?:=|\s+)(?:\"[^\"]*\"|'[^']*'|[^\s'\"]+)")
_COMPOSE_USER = re.compile(r"""^\s*user\s*:\s*["']?(root|0)(:(root|0))?["']?\s*(#.*)?$""")
_SYSTEMD_USER = re.compile(r"^\s*User\s*=\s*(root|0)\s*$")


def _indent(s: str) -> int:
    return len(s) - len(s.lstrip(" "))


def _block(f: Any, i: int) -> range:
    """The lines of the YAML mapping that holds line ``i`` (by indentation)."""
    lines = f.source.lines
    ind = _indent(f.line_text(i))
    start = i
    while start > 0 and (not f.line_text(start - 1).strip()
                         or _indent(f.line_text(start - 1)) >= ind):
        start -= 1
    end = i + 1
    while end < len(lines) and (not f.line_text(end).strip()
                                or _indent(f.line_text(end)) >= ind):
        end += 1
    return range(start, end)


def _only_entry(f: Any, i: int) -> bool:
    """Line ``i`` is the only entry under its ``environment:`` key."""
    block = [k for k in _block(f, i) if f.line_text(k).strip()]
    return block == [i]


def check(ctx: Any) -> Iterator[Violation]:
    f = ctx.tree
    worker = any(f.starts_worker(i) for i in range(len(f.source.lines)))
    for i, ln in enumerate(f.source.lines):
        line = f.line_text(i)
        whole = Edit.delete(ln.start, ln.end)
        span = Span(ln.start, ln.content_end)
        if "C_FORCE_ROOT" in line:
            if _LIST_ITEM.match(line) or _MAP_ITEM.match(line):
                fix = Fix("Remove `C_FORCE_ROOT`", (whole,), Applicability.SAFE)
                if _only_entry(f, i):
                    fix = Fix("Remove `C_FORCE_ROOT` (and its `environment:` key)", (),
                              Applicability.DISPLAY_ONLY)
            elif m := _SYSTEMD_ENV.match(line):
                alone = len(m.group(1).split()) == 1
                fix = Fix("Remove `C_FORCE_ROOT`", (whole,) if alone else (),
                          Applicability.SAFE if alone else Applicability.DISPLAY_ONLY)
            elif m := _PREFIX.search(line):
                fix = Fix("Remove `C_FORCE_ROOT`",
                          (Edit.delete(ln.start + m.start(), ln.start + m.end()),),
                          Applicability.SAFE)
            else:
                fix = Fix("Remove `C_FORCE_ROOT`", (), Applicability.DISPLAY_ONLY)
            yield Violation(CODE, NAME, span,
                            "`C_FORCE_ROOT` lets a Celery worker run as root with pickle", fix)
        if f.starts_worker(i):
            edits = tuple(Edit.delete(ln.start + m.start(), ln.start + m.end())
                          for m in _UIDGID.finditer(line))
            if edits:
                yield Violation(
                    CODE, NAME, span,
                    "`celery worker --uid/--gid` starts the worker as root and drops privileges "
                    "itself",
                    Fix("Remove `--uid`/`--gid` and run the image as its non-root USER (DF001)",
                        edits, Applicability.UNSAFE))
        if worker and _COMPOSE_USER.match(line):
            if any(f.starts_worker(k) for k in _block(f, i)):
                yield Violation(CODE, NAME, span,
                                "the service that starts a Celery worker runs as root",
                                Fix("Remove `user: root`: run as the image's non-root USER",
                                    (whole,), Applicability.UNSAFE))
        if worker and _SYSTEMD_USER.match(line):
            yield Violation(CODE, NAME, span,
                            "the unit that starts a Celery worker runs it as root",
                            Fix("Set `User=` to a dedicated account", (),
                                Applicability.DISPLAY_ONLY))


RULE = Rule(CODE, NAME, LANGUAGE, PRIORITY, FIX_APPLICABILITY, __doc__ or "", check)

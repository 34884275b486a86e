'''DFC006 worker-as-root

## What it does
Finds what makes a Celery worker run as root in the files that start it:
`C_FORCE_ROOT` in a compose file's `environment:`, a Procfile command or a
systemd unit's `Environment=`; `--uid`/`--gid` options of `celery worker`
(the worker starts as root and drops to that user itself), in a command
written as a string, a flow sequence (`["celery", ..., "--uid", "nobody"]`),
a block sequence (`- --uid` / `- nobody`), a folded string or lines joined by
a backslash, and with the `celery` of a compose service's `entrypoint:`;
`user: root` (or `0`) on a compose service that starts a worker, `User=root`
in a systemd unit, and a wrapper's `-u root` / `--user root` (`sudo -u root
celery worker`). It removes what it can, so the worker runs as the image's
own non-root `USER` (which DF001 adds).

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
worker drop root; check the image first (DF001). Removing `--uid`/`--gid` is
safe where the service (`user: "1000"`) or the unit (`User=celery`) already
runs as a non-root user: a worker that is not root cannot change its groups,
so the options only stop it. In a systemd unit without a non-root `User=`,
`--uid` is what drops root: it is only reported (set `User=` first). A
`C_FORCE_ROOT` that is the only entry of an `environment:` block, or shares a
systemd `Environment=` line, `User=root` in a systemd unit (whose default is
root too) and a wrapper's `-u root` are only reported.

## Relationship to other rules
DF005 does the same in a Dockerfile once its stage is non-root: it removes
`ENV C_FORCE_ROOT`, and `--uid`/`--gid` from the `CMD`/`ENTRYPOINT` that
starts the worker.

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

# The patterns are strings that ``re`` compiles (and keeps) when a file first
# needs them: only files that start Celery workers do.
_LIST_ITEM = r"""^\s*-\s*["']?C_FORCE_ROOT(=[^"'#]*)?["']?\s*(#.*)?$"""
_MAP_ITEM = r"""^\s*["']?C_FORCE_ROOT["']?\s*:.*$"""
_SYSTEMD_ENV = r"^\s*Environment\s*=(.*)$"
_PREFIX = r"(?:\bexport\s+)?\bC_FORCE_ROOT=\S*\s+"
_UIDGID = r"\s+--(?:uid|gid)(?:=|\s+)(?:\"[^\"]*\"|'[^']*'|[^\s'\"]+)"
_COMPOSE_USER = r"""^\s*user\s*:\s*["']?(root|0)(:(root|0))?["']?\s*(#.*)?$"""
_SYSTEMD_USER = r"^\s*User\s*=\s*(root|0)\s*$"
_SYSTEMD_ANY_USER = r"^\s*User\s*=\s*(\S+)\s*$"
_COMPOSE_ANY_USER = r"""^\s*user\s*:\s*["']?([^"'\s#]*)["']?\s*(#.*)?$"""
_WORKER = r"(?is)\bcelery\b.*\bworker\b"
_ENTRYPOINT_KEY = r"^\s*entrypoint\s*:"
_WORD_WORKER = r"(?i)\bworker\b"
_WORD_CELERY = r"(?i)\bcelery\b"
_COMMAND_KEY = r"^\s*(?:-\s+)?(?:command|entrypoint)\s*:"
#: a block sequence item ``- --uid``, ``- "--gid=nogroup"``
_SEQ_ITEM = r"""^\s*-\s+(["']?)--(?:uid|gid)(?P<value>=[^"'#]*)?\1\s*(#.*)?$"""
_SEQ_VALUE = r"^\s*-\s+\S"
#: ``, "--uid", "nobody"``, ``, --gid=nogroup`` in a flow sequence
_FLOW_UIDGID = r"""\s*,\s*(["']?)--(?:uid|gid)(?:\1\s*,\s*(["']?)[^,\]"']*\2|=[^,\]"']*\1)"""
#: a wrapper's option that runs the command after it as root (``sudo -u root``)
_RUN_AS_ROOT = r"""(?<!\S)(?:-u|--user)(?:=|\s+)["']?(?:root|0)(?::(?:root|0))?["']?(?=\s)"""


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


def _units(f: Any) -> Iterator[range]:
    """The lines of each command: a compose ``command:``/``entrypoint:`` with the
    lines of its value (a block or flow sequence, a folded string), lines joined
    by a trailing backslash, and every other line alone."""
    n = len(f.source.lines)
    i = 0
    while i < n:
        line = f.line_text(i)
        end = i + 1
        if re.match(_COMMAND_KEY, line):
            ind = _indent(line)
            while end < n:
                nxt = f.line_text(end)
                if not nxt.strip() or not (_indent(nxt) > ind
                                           or (_indent(nxt) == ind and nxt.lstrip().startswith("- "))):
                    break
                end += 1
        else:
            while end < n and f.line_text(end - 1).rstrip().endswith("\\"):
                end += 1
        yield range(i, end)
        i = end


def _uid_edits(f: Any, unit: range) -> list[Edit]:
    """Deletions of ``--uid``/``--gid`` (and their values) in a worker's command."""
    lines = f.source.lines
    edits: list[Edit] = []
    skip = -1
    for k in unit:
        if k == skip:
            continue
        line, ln = f.line_text(k), lines[k]
        if m := re.match(_SEQ_ITEM, line):  # a block sequence item: the line goes
            edits.append(Edit.delete(ln.start, ln.end))
            if not m.group("value") and k + 1 in unit and re.match(_SEQ_VALUE, f.line_text(k + 1)):
                skip = k + 1
                edits.append(Edit.delete(lines[skip].start, lines[skip].end))
            continue
        taken: list[tuple[int, int]] = []
        for m in re.finditer(_FLOW_UIDGID, line):
            taken.append(m.span())
        for m in re.finditer(_UIDGID, line):
            if not any(a < m.end() and m.start() < b for a, b in taken):
                taken.append(m.span())
        if not taken:
            continue
        rest = "".join(line[b:a] for b, a in zip([0, *(b for _, b in sorted(taken))],
                                                 [*(a for a, _ in sorted(taken)), len(line)]))
        continued = k > unit.start and f.line_text(k - 1).rstrip().endswith("\\")
        if rest.strip() in ("", "\\") and not (continued and k == unit.stop - 1):
            edits.append(Edit.delete(ln.start, ln.end))  # nothing else was on the line
        else:
            edits += [Edit.delete(ln.start + a, ln.start + b) for a, b in sorted(taken)]
    return edits


def _nonroot_user(f: Any, k: int) -> bool:
    """The compose service or systemd unit that holds line ``k`` sets a non-root user."""
    if f.systemd:
        users = [m.group(1) for i in range(len(f.source.lines))
                 if (m := re.match(_SYSTEMD_ANY_USER, f.line_text(i)))]
        return bool(users) and users[-1] not in ("root", "0")
    for i in _block(f, k):
        if (m := re.match(_COMPOSE_ANY_USER, f.line_text(i))):
            return m.group(1).split(":")[0] not in ("root", "0", "")
    return False


def check(ctx: Any) -> Iterator[Violation]:
    f = ctx.tree
    units = list(_units(f))
    workers = [u for u in units if _starts_worker(f, u, units)]
    worker = bool(workers)
    for i, ln in enumerate(f.source.lines):
        line = f.line_text(i)
        whole = Edit.delete(ln.start, ln.end)
        span = Span(ln.start, ln.content_end)
        if "C_FORCE_ROOT" in line:
            if re.match(_LIST_ITEM, line) or re.match(_MAP_ITEM, line):
                fix = Fix("Remove `C_FORCE_ROOT`", (whole,), Applicability.SAFE)
                if _only_entry(f, i):
                    fix = Fix("Remove `C_FORCE_ROOT` (and its `environment:` key)", (),
                              Applicability.DISPLAY_ONLY)
            elif m := re.match(_SYSTEMD_ENV, line):
                alone = len(m.group(1).split()) == 1
                fix = Fix("Remove `C_FORCE_ROOT`", (whole,) if alone else (),
                          Applicability.SAFE if alone else Applicability.DISPLAY_ONLY)
            elif m := re.search(_PREFIX, line):
                fix = Fix("Remove `C_FORCE_ROOT`",
                          (Edit.delete(ln.start + m.start(), ln.start + m.end()),),
                          Applicability.SAFE)
            else:
                fix = Fix("Remove `C_FORCE_ROOT`", (), Applicability.DISPLAY_ONLY)
            yield Violation(CODE, NAME, span,
                            "`C_FORCE_ROOT` lets a Celery worker run as root with pickle", fix)
        if worker and re.match(_COMPOSE_USER, line):
            block = _block(f, i)
            if any(u.start in block for u in workers):
                yield Violation(CODE, NAME, span,
                                "the service that starts a Celery worker runs as root",
                                Fix("Remove `user: root`: run as the image's non-root USER",
                                    (whole,), Applicability.UNSAFE))
        if worker and re.match(_SYSTEMD_USER, line):
            yield Violation(CODE, NAME, span,
                            "the unit that starts a Celery worker runs it as root",
                            Fix("Set `User=` to a dedicated account", (),
                                Applicability.DISPLAY_ONLY))
    for unit in workers:
        first = f.source.lines[unit.start]
        span = Span(first.start, f.source.lines[unit.stop - 1].content_end)
        text = _joined(f, unit)
        if m := re.search(_RUN_AS_ROOT, text):
            if (w := re.search(_WORKER, text)) is None or m.start() < w.start():
                yield Violation(CODE, NAME, span,
                                f"`{' '.join(m.group(0).split())}` runs the Celery worker as root",
                                Fix("Run the worker as a non-root user", (),
                                    Applicability.DISPLAY_ONLY))
        edits = _uid_edits(f, unit)
        if not edits:
            continue
        message = ("`celery worker --uid/--gid` starts the worker as root and drops privileges "
                   "itself")
        if _nonroot_user(f, unit.start):
            fix = Fix("Remove `--uid`/`--gid`: under a non-root user they stop the worker",
                      tuple(edits), Applicability.SAFE)
        elif f.systemd:
            fix = Fix("Set `User=` to the account `--uid` names, then remove `--uid`/`--gid`",
                      (), Applicability.DISPLAY_ONLY)
        else:
            fix = Fix("Remove `--uid`/`--gid` and run the image as its non-root USER (DF001)",
                      tuple(edits), Applicability.UNSAFE)
        yield Violation(CODE, NAME, span, message, fix)


def _starts_worker(f: Any, unit: range, units: list[range]) -> bool:
    """The command starts a Celery worker; a compose ``command:`` also counts
    as ``celery`` when the ``entrypoint:`` of its service runs celery."""
    text = _joined(f, unit)
    if re.search(_WORKER, text):
        return True
    if not (re.match(_COMMAND_KEY, f.line_text(unit.start)) and re.search(_WORD_WORKER, text)):
        return False
    block = _block(f, unit.start)
    return any(u.start in block and re.match(_ENTRYPOINT_KEY, f.line_text(u.start))
               and re.search(_WORD_CELERY, _joined(f, u)) for u in units)


def _joined(f: Any, unit: range) -> str:
    return "\n".join(f.line_text(k) for k in unit)


RULE = Rule(CODE, NAME, LANGUAGE, PRIORITY, FIX_APPLICABILITY, __doc__ or "", check)

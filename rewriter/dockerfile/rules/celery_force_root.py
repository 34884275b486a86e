"""DF005 celery-force-root

## What it does
Finds, in a runtime stage that runs as a non-root user, what only makes sense
for a Celery worker started as root: `ENV C_FORCE_ROOT=...`, a
`C_FORCE_ROOT=1` prefix on the `CMD`/`ENTRYPOINT` that starts the worker, and
`celery worker --uid`/`--gid` in that `CMD`/`ENTRYPOINT` (exec form or shell
form).

## Why is this bad?
`C_FORCE_ROOT` only exists to let a Celery worker run as root while it accepts
pickle messages, which lets anyone who can write to the broker run code in the
worker. Once the container runs as a non-root user it does nothing but signal
that running as root is fine. Celery's security guide: never run workers as
root, accept JSON only (`accept_content = ["json"]`). `--uid`/`--gid` make a
worker started as root drop to that user itself; started as a non-root user,
the worker cannot change its groups, so it stops at once with
`PermissionError: [Errno 1] Operation not permitted`.

## Example
```dockerfile
ENV C_FORCE_ROOT=1
USER 10001:10001
CMD ["celery", "-A", "proj", "worker", "--uid", "nobody"]
```

Use instead:
```dockerfile
USER 10001:10001
CMD ["celery", "-A", "proj", "worker"]
```

## Fix safety
Safe when the `ENV` sets only `C_FORCE_ROOT` (the whole line goes); otherwise
display-only, since the other variables on the line must stay. Removing
`--uid`/`--gid` and a `C_FORCE_ROOT=` prefix from the worker's command is safe:
under a non-root `USER` the options can only stop the worker, and the prefix
does nothing. The worker then runs as the stage's `USER`, not as the user
`--uid` named: files it must write belong to that `USER` (DF001 owns the
`WORKDIR` for it).

## Relationship to other rules
Fires once DF001 or DF003 has made the stage non-root (the engine's second
pass). DFC006 does the same in compose files, Procfiles and systemd units.

## References
- https://docs.celeryq.dev/en/stable/userguide/security.html
- https://docs.celeryq.dev/en/stable/reference/cli.html#celery-worker
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rewriter.dockerfile.analysis import Context
from rewriter.core.edits import Applicability, Edit, Fix
from rewriter.dockerfile.model import StageInfo, _pairs
from rewriter.dockerfile.syntax import Instruction
from rewriter.dockerfile.rules._types import Violation

CODE = "DF005"
NAME = "celery-force-root"
PRIORITY = 40
#: the applicability its fix usually has (``None``: it never offers an edit)
FIX_APPLICABILITY: Applicability | None = Applicability.SAFE

_WORKER = re.compile(r"\bcelery\b.*\bworker\b", re.I | re.S)
#: ``, "--uid", "nobody"`` or ``, "--uid=nobody"`` in an exec form
_JSON_UIDGID = re.compile(r'\s*,\s*"--(?:uid|gid)(?:"\s*,\s*"|=)(?:[^"\\]|\\.)*"')
#: `` --uid nobody`` or `` --gid=nogroup`` in a shell form (or a ``sh -c`` string)
_SHELL_UIDGID = re.compile(r"""\s+--(?:uid|gid)(?:=|\s+)(?:"[^"]*"|'[^']*'|[^\s'"]+)""")
#: ``C_FORCE_ROOT=1 `` before the command of a shell form
_PREFIX = re.compile(r"""(?<![^\s"'])(?<!export )C_FORCE_ROOT=[^\s"';&|]*\s+(?=[\w/$])""")


def check(ctx: Context) -> Iterator[Violation]:
    info = ctx.model.nonroot_runtime
    if info is None:
        return
    for _, ins in info.chain_instructions("ENV"):
        pairs = _pairs(ins, ctx.df.escape)
        if not any(k == "C_FORCE_ROOT" for k, _ in pairs):
            continue
        only = len(pairs) == 1
        fix = Fix("Remove `ENV C_FORCE_ROOT`",
                  (Edit.delete(ins.span.start, ins.span.end),) if only else (),
                  Applicability.SAFE if only else Applicability.DISPLAY_ONLY)
        yield Violation(CODE, NAME, ins.span,
                        "`C_FORCE_ROOT` lets Celery run as root with pickle; the stage "
                        "runs as a non-root user now", fix)

    yield from _worker_command(info)


def _worker_command(info: StageInfo) -> Iterator[Violation]:
    """``--uid``/``--gid`` and ``C_FORCE_ROOT=`` on the effective CMD/ENTRYPOINT
    that starts a Celery worker."""
    effective: dict[str, Instruction] = {}
    for _, ins in info.chain_instructions("CMD", "ENTRYPOINT", oldest_first=True):
        effective[ins.cmd] = ins  # the last one of each is the one the container runs
    command = " ".join(effective[k].logical[effective[k].args_at:]
                       for k in ("ENTRYPOINT", "CMD") if k in effective)
    if not _WORKER.search(command):
        return
    for ins in effective.values():
        args = ins.logical
        found = list(_JSON_UIDGID.finditer(args, ins.args_at)) if ins.json else []
        found += _SHELL_UIDGID.finditer(args, ins.args_at)
        if found:
            edits = tuple(Edit.delete(ins.src(m.start()), ins.src_end(m.end()))
                          for m in sorted(found, key=lambda m: m.start()))
            yield Violation(
                CODE, NAME, ins.span,
                "`celery worker --uid/--gid` cannot drop privileges under a non-root USER: "
                "the worker stops with 'Operation not permitted'",
                Fix("Remove `--uid`/`--gid`: the worker runs as the stage's USER", edits,
                    Applicability.SAFE))
        if m := _PREFIX.search(args, ins.args_at):
            yield Violation(CODE, NAME, ins.span,
                            "`C_FORCE_ROOT` lets Celery run as root with pickle; the stage "
                            "runs as a non-root user now",
                            Fix("Remove `C_FORCE_ROOT=`",
                                (Edit.delete(ins.src(m.start()), ins.src_end(m.end())),),
                                Applicability.SAFE))

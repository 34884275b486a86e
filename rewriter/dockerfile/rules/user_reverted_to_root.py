"""DF003 user-reverted-to-root

## What it does
Finds a runtime stage that switches to a non-root `USER` and later back to
`USER root` (usually to install packages) and never switches back, so the
container runs as root after all.

## Why is this bad?
The author meant the image to run as the non-root user; the `USER root` added
for a later install silently undid that.

## Example
```dockerfile
FROM node:20-slim
USER node
COPY --chown=node:node . /home/node/app
USER root
RUN apt-get update && apt-get install -y --no-install-recommends tini
CMD ["node", "/home/node/app/server.js"]
```

Use instead:
```dockerfile
FROM node:20-slim
COPY --chown=node:node . /home/node/app
RUN apt-get update && apt-get install -y --no-install-recommends tini
USER node
CMD ["node", "/home/node/app/server.js"]
```

## Fix safety
Moving the first `USER` below the root-only steps (and dropping the
now-redundant `USER root`) is safe when nothing between the two `USER` lines
depends on who runs it (no `RUN`, no `WORKDIR`) and both are in the same stage.
Otherwise the fix only adds `USER <user>` again after the last build step,
which changes nothing before it; also safe.

## Relationship to other rules
DF001 makes way for this rule when the stage had a non-root user before.
DF001's declines (privilege-dropping entrypoints, Windows) apply here too.

## References
- https://docs.docker.com/reference/dockerfile/#user
"""

from __future__ import annotations

from collections.abc import Iterator

from rewriter.dockerfile.analysis import Context
from rewriter.core.edits import Applicability, Edit, Fix
from rewriter.dockerfile.model import StageInfo, is_root
from rewriter.dockerfile.rules import missing_nonroot_user as df001
from rewriter.dockerfile.rules._common import insert_after, tail_anchor
from rewriter.dockerfile.rules._types import Decline, Violation
from rewriter.dockerfile.syntax import Instruction

CODE = "DF003"
NAME = "user-reverted-to-root"
PRIORITY = 15
#: the applicability its fix usually has (``None``: it never offers an edit)
FIX_APPLICABILITY: Applicability | None = Applicability.SAFE

_USER_DEPENDENT = frozenset({"RUN", "WORKDIR"})


def check(ctx: Context) -> Iterator[Violation | Decline]:
    info = ctx.model.runtime
    if info is None or not df001.reverted_user(info):
        return
    p = df001.plan(ctx)
    if isinstance(p, Decline):
        yield p  # the same reasons hold here (the engine drops duplicates)
        return
    if p is not None:
        return
    entries = [(s, ins, value, ok) for s in reversed(info.chain) for ins, value, ok in s.users]
    root_at = max(i for i, e in enumerate(entries) if not is_root(e[2]))
    stage_x, x_ins, x_value, x_ok = entries[root_at]
    stage_r, root_ins, _, _ = entries[root_at + 1]
    if not x_ok:
        return
    anchor = tail_anchor(info)
    if anchor.span.start < root_ins.span.start:
        anchor = _last_user(info)
    between = _between(stage_x.stage.instructions, x_ins, root_ins)
    movable = (
        stage_x is stage_r
        and between is not None
        and not any(i.cmd in _USER_DEPENDENT for i in between)
    )
    edits = [insert_after(ctx, anchor, f"USER {x_value}\n")]
    if movable:
        edits += [Edit.delete(x_ins.span.start, x_ins.span.end),
                  Edit.delete(root_ins.span.start, root_ins.span.end)]
        title = f"Move `USER {x_value}` below the steps that need root"
    else:
        title = f"Switch back to `USER {x_value}` after the steps that need root"
    if any(e.start < e.end and e.start <= anchor.span.end <= e.end for e in edits[1:]):
        edits = edits[:1]
        title = f"Switch back to `USER {x_value}` after the steps that need root"
    yield Violation(
        CODE, NAME, root_ins.span,
        f"`USER root` undoes `USER {x_value}`: stage `{info.name}` runs as root",
        Fix(title, tuple(edits)),
    )


def _last_user(info: StageInfo) -> Instruction:
    return info.users[-1][0] if info.users else info.stage.from_


def _between(seq: tuple[Instruction, ...], a: Instruction, b: Instruction) -> list[Instruction] | None:
    try:
        i, j = seq.index(a), seq.index(b)
    except ValueError:
        return None
    return list(seq[i + 1:j])

"""DF005 celery-force-root

## What it does
Finds `ENV C_FORCE_ROOT=...` in a runtime stage that runs as a non-root user.

## Why is this bad?
`C_FORCE_ROOT` only exists to let a Celery worker run as root while it accepts
pickle messages, which lets anyone who can write to the broker run code in the
worker. Once the container runs as a non-root user it does nothing but signal
that running as root is fine. Celery's security guide: never run workers as
root, accept JSON only (`accept_content = ["json"]`).

## Example
```dockerfile
ENV C_FORCE_ROOT=1
USER 10001:10001
```

Use instead:
```dockerfile
USER 10001:10001
```

## Fix safety
Safe when the `ENV` sets only `C_FORCE_ROOT` (the whole line goes); otherwise
display-only, since the other variables on the line must stay.

## Relationship to other rules
Fires once DF001 or DF003 has made the stage non-root (the engine's second
pass).

## References
- https://docs.celeryq.dev/en/stable/userguide/security.html
"""

from __future__ import annotations

from collections.abc import Iterator

from rewriter.dockerfile.analysis import Context
from rewriter.core.edits import Applicability, Edit, Fix
from rewriter.dockerfile.model import _pairs, is_root
from rewriter.dockerfile.rules._types import Violation

CODE = "DF005"
NAME = "celery-force-root"
PRIORITY = 40
#: the applicability its fix usually has (``None``: it never offers an edit)
FIX_APPLICABILITY: Applicability | None = Applicability.SAFE


def check(ctx: Context) -> Iterator[Violation]:
    info = ctx.model.runtime
    if info is None or is_root(info.final_user):
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

"""DF007 named-user

## What it does
Finds a runtime stage whose final `USER` is a name rather than a numeric
`uid[:gid]`.

## Why is this bad?
Kubernetes' `runAsNonRoot` cannot verify a name ("container has runAsNonRoot
and image has non-numeric user, cannot verify user is non-root"), and a name
needs an `/etc/passwd` entry in the final image.

## Example
```dockerfile
RUN useradd --uid 10001 app
USER app
```

Use instead:
```dockerfile
RUN useradd --uid 10001 app
USER 10001
```

## Fix safety
Unsafe when the file states the uid (a numeric `USER` does not load the
user's supplementary groups from `/etc/group`); display-only otherwise.

## References
- https://github.com/kubernetes/kubernetes/issues/56503
"""

from __future__ import annotations

from collections.abc import Iterator

from rewriter.dockerfile.analysis import Context
from rewriter.core.edits import Applicability, Edit, Fix
from rewriter.dockerfile.model import is_root, numeric
from rewriter.dockerfile.rules._common import uid_of
from rewriter.dockerfile.rules._types import Violation

CODE = "DF007"
NAME = "named-user"
PRIORITY = 80
#: the applicability its fix usually has (``None``: it never offers an edit)
FIX_APPLICABILITY: Applicability | None = Applicability.UNSAFE


def check(ctx: Context) -> Iterator[Violation]:
    info = ctx.model.runtime
    if info is None or not info.users or not info.final_user_resolved:
        return
    ins, value, _ = info.users[-1]
    if is_root(value) or numeric(value) or "$" in ins.args:
        return
    uid, gid = uid_of(info, value)
    msg = f"`USER {value}` is not numeric; Kubernetes runAsNonRoot cannot verify it"
    if uid is None:
        yield Violation(CODE, NAME, ins.span, msg,
                        Fix(f"Use the numeric uid of `{value}`", (), Applicability.DISPLAY_ONLY))
        return
    spec = f"{uid}:{gid}" if gid is not None else str(uid)
    args = ins.args_span
    yield Violation(CODE, NAME, ins.span, msg,
                    Fix(f"Use `USER {spec}`", (Edit(args.start, args.end, spec),),
                        Applicability.UNSAFE))

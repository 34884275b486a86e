"""DF004 volume-not-owned

## What it does
Finds `VOLUME` paths (and log/data directories the stage creates with
`mkdir`) of a runtime stage that runs as a non-root user but never gives those
directories to that user.

## Why is this bad?
Docker initialises a new volume from the image's directory, and creates a
missing mount point owned by root. A non-root process then cannot write its
data or logs, and projects revert their non-root change over it.

## Example
```dockerfile
FROM debian:bookworm-slim
RUN useradd --system --uid 10001 app
VOLUME /data
USER 10001
```

Use instead:
```dockerfile
FROM debian:bookworm-slim
RUN useradd --system --uid 10001 app
VOLUME /data
RUN mkdir -p /data && chown 10001 /data
USER 10001
```

## Fix safety
Safe: the directory is created if missing and only the directory itself is
re-owned (no `chown -R`, no layer copy). Display-only when the stage has no
shell (distroless, scratch) or its non-root user comes from a parent stage or
the base image, where there is no `USER` line to put the step before.

## Relationship to other rules
DF001 puts these directories in the user block it inserts; this rule covers
stages that were already non-root.

## References
- https://docs.docker.com/reference/dockerfile/#volume
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator

from rewriter.dockerfile.analysis import Context
from rewriter.core.edits import Applicability, Edit, Fix
from rewriter.dockerfile.model import StageInfo, commands_named, expand
from rewriter.dockerfile.paths import writable_dirs
from rewriter.dockerfile.rules._types import Violation
from rewriter.dockerfile.templates import own_dirs

CODE = "DF004"
NAME = "volume-not-owned"
PRIORITY = 30
#: the applicability its fix usually has (``None``: it never offers an edit)
FIX_APPLICABILITY: Applicability | None = Applicability.SAFE


def owned_dirs(info: StageInfo) -> set[str]:
    """Directories some RUN in the stage chain chowns (``-R``: and below)."""
    out: set[str] = set()
    for _, ins in info.chain_instructions("RUN"):
        for cmd in commands_named(ins, "chown"):
            args = cmd.args_after_name()
            recursive = any(a in ("-R", "--recursive") for a in args)
            paths = [a for a in args if not a.startswith("-")][1:]
            for p in paths:
                p = posixpath.normpath(p)
                out.add(p + "/**" if recursive else p)
    return out


def _is_owned(path: str, owned: set[str]) -> bool:
    if path in owned or path + "/**" in owned:
        return True
    return any(o.endswith("/**") and path.startswith(o[:-3].rstrip("/") + "/") for o in owned)


def check(ctx: Context) -> Iterator[Violation]:
    info = ctx.model.nonroot_runtime
    if info is None or not info.final_user_resolved:
        return
    owned = owned_dirs(info)
    missing = [d for d in writable_dirs(info) if not _is_owned(d, owned)]
    if not missing:
        return
    user = info.final_user or ""
    own_user = info.users[-1][0] if info.users else None
    paths = " ".join(shlex.quote(d) for d in missing)
    message = f"`{', '.join(missing)}` will be owned by root, but the container runs as `{user}`"
    if own_user is None or not info.family.shell:
        yield Violation(CODE, NAME, info.stage.from_.span, message,
                        Fix(f"Create and chown {paths} for `{user}`", (), Applicability.DISPLAY_ONLY))
        return
    block = own_dirs(missing, user, ctx.newline)
    at = own_user.span.start
    # A VOLUME before the USER line that names one of them: own it before the
    # VOLUME (the classic builder discards what later steps do to a volume).
    if re.fullmatch(r"\d+(?::\d+)?", user):
        for ins in info.stage.instructions:
            if ins is own_user:
                break
            if ins.cmd == "VOLUME" and any(
                    (expand(v, info.env)[0].rstrip("/") or "/") in missing for v in ins.values):
                at = ctx.df.text.rfind("\n", 0, ins.span.start) + 1
                break
    yield Violation(CODE, NAME, own_user.span, message,
                    Fix(f"Create {paths} owned by `{user}` before `USER`",
                        (Edit.insert(at, block),)))

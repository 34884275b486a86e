"""DF008 sudo-in-run

## What it does
Warns about `sudo` in a `RUN` of the runtime stage. No edit.

## Why is this bad?
`sudo` in an image means a user that can become root, which undoes running
as non-root; and build steps that need root should run before `USER`, not
through `sudo`.

## Use instead
Run root-only steps before switching `USER`, and leave `sudo` out of the image.

## Fix safety
Display-only.

## References
- https://github.com/hadolint/hadolint/wiki/DL3004
"""

from __future__ import annotations

from collections.abc import Iterator

from rewriter.dockerfile.analysis import Context
from rewriter.core.edits import Applicability
from rewriter.dockerfile.model import may_run, run_commands
from rewriter.dockerfile.rules._types import Violation

CODE = "DF008"
NAME = "sudo-in-run"
PRIORITY = 95
#: the applicability its fix usually has (``None``: it never offers an edit)
FIX_APPLICABILITY: Applicability | None = None


def check(ctx: Context) -> Iterator[Violation]:
    info = ctx.model.runtime
    if info is None:
        return
    for _, ins in info.chain_instructions():
        if may_run(ins, ("sudo",)) and any(c.argv and c.argv[0] == "sudo"
                                           for c in run_commands(ins)):
            yield Violation(CODE, NAME, ins.span,
                            "`sudo` in RUN: run root-only steps before USER instead")

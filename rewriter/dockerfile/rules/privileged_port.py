"""DF006 privileged-port

## What it does
Warns about `EXPOSE` of a port below 1024 in a runtime stage that runs as a
non-root user. No edit.

## Why is this bad?
A non-root process cannot bind a port below 1024 unless the runtime allows it
(Docker >= 20.10 sets `net.ipv4.ip_unprivileged_port_start=0`; other runtimes
and Kubernetes nodes may not): `bind() to 0.0.0.0:80 failed (13: Permission
denied)`.

## Use instead
Listen on a port >= 1024 (e.g. 8080) and map it, or grant the capability:
`--cap-add=NET_BIND_SERVICE` / `securityContext.capabilities.add`.

## Fix safety
Display-only: the port is the application's configuration.

## References
- https://docs.docker.com/engine/security/#linux-kernel-capabilities
"""

from __future__ import annotations

from collections.abc import Iterator

from rewriter.dockerfile.analysis import Context
from rewriter.core.edits import Applicability
from rewriter.dockerfile.model import expand, port_number
from rewriter.dockerfile.rules._types import Violation

CODE = "DF006"
NAME = "privileged-port"
PRIORITY = 90
#: the applicability its fix usually has (``None``: it never offers an edit)
FIX_APPLICABILITY: Applicability | None = None


def check(ctx: Context) -> Iterator[Violation]:
    info = ctx.model.nonroot_runtime
    if info is None:
        return
    for s, ins in info.chain_instructions("EXPOSE"):
        seen: set[int] = set()
        for v in ins.values:
            value, ok = expand(v, s.env)
            port = port_number(value)
            if ok and port is not None and 0 < port < 1024 and port not in seen:
                seen.add(port)
                yield Violation(
                    CODE, NAME, ins.span,
                    f"port {port} is below 1024: a non-root process may not bind it; "
                    "listen on a port >= 1024 or grant NET_BIND_SERVICE",
                )

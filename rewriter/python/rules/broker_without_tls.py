'''DFC005 broker-without-tls

## What it does
Finds a broker URL to a host that is not this machine (not `localhost`, not
`127.0.0.0/8` or `::1`) over a plain-text protocol (`redis://`, `amqp://`),
in a file that does not set `broker_use_ssl`.

## Why is this bad?
Messages, and the broker's password, cross the network in clear text: anyone
on the path can read the tasks and, with the password, send the workers their
own. `rediss://` and `amqps://`, or `broker_use_ssl`, encrypt the connection.

## Example
```python
broker_url = "amqp://worker@rabbitmq.internal:5672//"
```

Use instead:
```python
broker_url = "amqps://worker@rabbitmq.internal:5671//"
```

## Fix safety
Display-only: the broker must be set up for TLS first (certificates, port).
A URL whose value is not written in the file is not checked.

## References
- https://docs.celeryq.dev/en/stable/userguide/configuration.html#broker-use-ssl
- https://docs.celeryq.dev/en/stable/userguide/security.html
'''

from __future__ import annotations

from collections.abc import Iterator

from rewriter.core.edits import Applicability, Fix
from rewriter.core.rules import Violation
from rewriter.python.context import PyContext
from rewriter.python.rules._urls import PLAIN, loopback, masked, split, urls

CODE = "DFC005"
NAME = "broker-without-tls"
PRIORITY = 50
FIX_APPLICABILITY: Applicability | None = Applicability.DISPLAY_ONLY


def check(ctx: PyContext) -> Iterator[Violation]:
    if ctx.config.named("broker_use_ssl"):
        return
    for s in ctx.config.named("broker_url"):
        for url in urls(s):
            parts = split(url)
            if parts is None or parts.scheme.lower() not in PLAIN or loopback(url):
                continue
            secure = {"redis": "rediss", "sentinel": "rediss"}.get(parts.scheme.lower(), "amqps")
            yield Violation(
                CODE, NAME, s.span,
                f"`{s.spelled}` connects to {parts.hostname} in plain text ({masked(url)})",
                Fix(f"Use `{secure}://` or set `broker_use_ssl`", (), Applicability.DISPLAY_ONLY))
            break

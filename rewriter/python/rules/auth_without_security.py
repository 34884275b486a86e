'''DFC003 auth-without-security

## What it does
Finds `task_serializer = 'auth'` (signed messages) in a file that does not
also set `security_key`, `security_certificate` and `security_cert_store`,
or never calls `app.setup_security()`.

## Why is this bad?
The `auth` serializer signs messages with the worker's key and checks them
against the certificates in the store; it only exists once
`app.setup_security()` has run with all three settings. Without them the
worker either fails to start or, worse, is believed to check signatures that
nobody verifies.

## Example
```python
app.conf.update(task_serializer="auth", accept_content=["auth"])
```

Use instead:
```python
app.conf.update(
    security_key="/etc/ssl/private/worker.key",
    security_certificate="/etc/ssl/certs/worker.pem",
    security_cert_store="/etc/ssl/certs/*.pem",
    task_serializer="auth",
    accept_content=["auth"],
)
app.setup_security()
```

## Fix safety
No fix: only the project knows where its keys and certificates are. Settings
set in another file (a `config_from_object` module) are not seen: the rule
says so when the file loads one.

## References
- https://docs.celeryq.dev/en/stable/userguide/security.html#message-signing
'''

from __future__ import annotations

from collections.abc import Iterator

from rewriter.core.edits import Applicability
from rewriter.core.rules import Violation
from rewriter.python.context import PyContext
from rewriter.python.names import SECURITY

CODE = "DFC003"
NAME = "auth-without-security"
PRIORITY = 30
FIX_APPLICABILITY: Applicability | None = None


def check(ctx: PyContext) -> Iterator[Violation]:
    signed = [s for s in ctx.config.named("task_serializer")
              if s.literal and isinstance(s.python, str) and s.python.lower() == "auth"]
    if not signed:
        return
    missing = [f"`{name}`" for name in SECURITY if not ctx.config.named(name)]
    if not ctx.config.setup_security:
        missing.append("a call of `app.setup_security()`")
    if not missing:
        return
    loaded = " (settings loaded from elsewhere in this file are not seen)" \
        if ctx.config.elsewhere else ""
    for s in signed:
        yield Violation(CODE, NAME, s.span,
                        f"`{s.spelled}` is 'auth' (signed messages) without "
                        f"{', '.join(missing)}{loaded}")

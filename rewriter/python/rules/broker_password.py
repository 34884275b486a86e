'''DFC004 broker-password-in-code

## What it does
Finds a broker URL (`broker_url`, `BROKER_URL`, `CELERY_BROKER_URL`,
`Celery(broker=...)`) or a result backend URL with a password written in the
code.

## Why is this bad?
A password in the source is in every clone, image layer and log of the
repository, and changing it means a release. Whoever has it can write to the
broker, and a worker runs what the broker hands it.

## Example
```python
broker_url = "redis://:s3cret@redis.internal:6379/0"
```

Use instead:
```python
import os

broker_url = os.environ["CELERY_BROKER_URL"]
```

## Fix safety
Display-only: where the password comes from instead (an environment variable,
a secrets file) is the project's choice. Messages never show the password.

## References
- https://docs.celeryq.dev/en/stable/userguide/configuration.html#broker-url
'''

from __future__ import annotations

from collections.abc import Iterator

from rewriter.core.edits import Applicability, Fix
from rewriter.core.rules import Violation
from rewriter.python.context import PyContext
from rewriter.python.rules._urls import URL_SETTINGS, has_password, masked, urls

CODE = "DFC004"
NAME = "broker-password-in-code"
PRIORITY = 40
FIX_APPLICABILITY: Applicability | None = Applicability.DISPLAY_ONLY


def check(ctx: PyContext) -> Iterator[Violation]:
    for s in ctx.config.named(*URL_SETTINGS):
        for url in urls(s):
            if has_password(url):
                env = "CELERY_BROKER_URL" if s.name == "broker_url" else "CELERY_RESULT_BACKEND"
                yield Violation(
                    CODE, NAME, s.span,
                    f"`{s.spelled}` holds a password in the code ({masked(url)})",
                    Fix(f"Read the URL from the environment, e.g. `os.environ[\"{env}\"]`", (),
                        Applicability.DISPLAY_ONLY))
                break

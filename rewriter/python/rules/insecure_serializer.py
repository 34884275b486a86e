'''DFC001 insecure-serializer

## What it does
Finds `pickle`, `yaml` or `msgpack` as a Celery `task_serializer`,
`result_serializer` or `event_serializer`, in every way Celery reads one
(`Celery(...)` and `app.conf.update(...)` keywords, `app.conf.NAME = ...`, a
`celeryconfig` module, Django settings with `CELERY_` names, old uppercase
names too), and changes it to `json`.

## Why is this bad?
A worker that reads pickle runs whatever code a message tells it to: anyone who
can write to the broker owns the worker. Celery's security guide asks for JSON.
YAML and msgpack are not JSON either, and keep the worker reading more than it
needs.

## Example
```python
app.conf.task_serializer = "pickle"
```

Use instead:
```python
app.conf.task_serializer = "json"
```

## Fix safety
Unsafe: task arguments and results that JSON cannot carry (datetimes, bytes,
sets, model instances, custom classes) make the task fail once it sends JSON.
Check what the tasks are called with before applying it. A serializer whose
value is not written in the file (an environment lookup, an import, a computed
value) is left alone, with a note.

## Relationship to other rules
DFC002 narrows `accept_content` to match; apply both (`--unsafe-fixes`).

## References
- https://docs.celeryq.dev/en/stable/userguide/security.html#serializers
- https://docs.celeryq.dev/en/stable/userguide/configuration.html#task-serializer
'''

from __future__ import annotations

from collections.abc import Iterator

from rewriter.core.edits import Applicability, Fix
from rewriter.core.rules import Decline, Violation
from rewriter.python.context import INSECURE, PyContext
from rewriter.python.rules._common import test_module, elsewhere_note, replace_string

CODE = "DFC001"
NAME = "insecure-serializer"
PRIORITY = 10
FIX_APPLICABILITY: Applicability | None = Applicability.UNSAFE


def check(ctx: PyContext) -> Iterator[Violation | Decline]:
    test = test_module(ctx.path)
    if test is not None:
        yield test
        return
    text = ctx.config.source.text
    for s in ctx.serializers():
        if not s.literal:
            yield elsewhere_note(s)
            continue
        if not isinstance(s.python, str) or s.python.lower() not in INSECURE:
            continue
        edit = replace_string(text, s, "json")
        fix = Fix(f"Set `{s.spelled}` to 'json' (check that every task's arguments and results "
                  "are JSON: no datetimes, bytes, sets or objects)",
                  (edit,) if edit else (), Applicability.UNSAFE if edit else
                  Applicability.DISPLAY_ONLY)
        why = ("a worker that reads pickle runs the code a message carries"
               if s.python.lower() == "pickle" else "Celery's security guide asks for JSON")
        yield Violation(CODE, NAME, s.span, f"`{s.spelled}` is {s.python!r}: {why}", fix)


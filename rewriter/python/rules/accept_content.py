'''DFC002 accept-content

## What it does
Finds a Celery `accept_content` or `result_accept_content` that allows pickle,
yaml or msgpack (by name or content type, e.g. `application/x-python-serialize`),
and a file that chooses serializers but never says what the worker accepts.
It sets the list to JSON (`['json']`, or the entries it had minus the insecure
ones), written the way the file writes its other settings.

## Why is this bad?
`accept_content` is the worker's whitelist: a message of any other content
type is refused before it is decoded. Whatever the serializers are, a worker
that accepts pickle runs the code an attacker's message carries. Celery's
security guide asks for an explicit `accept_content = ['json']`.
`result_accept_content` does the same for results, and defaults to
`accept_content`, so it is only checked where it is set.

## Example
```python
task_serializer = "json"
accept_content = ["json", "pickle"]
```

Use instead:
```python
task_serializer = "json"
accept_content = ["json"]
```

## Fix safety
Safe when every serializer the file sets is `json` (or it sets none, and
nothing else in the file loads configuration: `config_from_object`,
`conf.update(mapping)`), and, for a missing `accept_content`, when nothing
else could set it; unsafe otherwise, since messages in another format are
then refused.
A value holding comments is only suggested (the edit would drop them). A
value that is not written in the file is left alone, with a note. A file that
signs its messages (`task_serializer = 'auth'`) gets a note instead of a
missing `accept_content`: it must accept `auth`.

## Relationship to other rules
Pairs with DFC001, which turns the serializers to `json`.

## References
- https://docs.celeryq.dev/en/stable/userguide/security.html#serializers
- https://docs.celeryq.dev/en/stable/userguide/configuration.html#accept-content
'''

from __future__ import annotations

from collections.abc import Iterator

from rewriter.core.edits import Applicability, Edit, Fix
from rewriter.core.rules import Decline, Violation
from rewriter.python.context import INSECURE, JSON, PyContext
from rewriter.python.model import Setting
from rewriter.python.names import ACCEPTS, SERIALIZERS, spelled_like
from rewriter.python.rules._common import test_module, elsewhere_note, string_list

CODE = "DFC002"
NAME = "accept-content"
PRIORITY = 20
FIX_APPLICABILITY: Applicability | None = Applicability.SAFE


def check(ctx: PyContext) -> Iterator[Violation | Decline]:
    test = test_module(ctx.path)
    if test is not None:
        yield test
        return
    values = ctx.serializer_values()
    # what the workers are sent is JSON: every serializer set here is json, or
    # none is set and nothing else in the file could set one (Celery's default)
    all_json = all(v in JSON for v in values) and bool(values or not ctx.config.elsewhere)
    accepts = ctx.config.named(*ACCEPTS)
    for s in accepts:
        if not s.literal:
            yield elsewhere_note(s)
            continue
        v = _allowing(ctx, s, values, all_json)
        if v is not None:
            yield v
    if not ctx.config.named("accept_content") and ctx.serializers():
        yield from _missing(ctx, values, all_json)


def _allowing(ctx: PyContext, s: Setting, values: list[str | None],
              all_json: bool) -> Violation | None:
    items = [s.python] if isinstance(s.python, str) else list(s.python or ())
    if not all(isinstance(i, str) for i in items):
        return None
    bad = [i for i in items if i.lower() in INSECURE]
    if not bad:
        return None
    kept = [i for i in items if i.lower() not in INSECURE]
    # the serializers send JSON (or will, once DFC001 is applied; or by default)
    sends_json = not values or any(v in JSON or v in INSECURE for v in values)
    if not kept or (sends_json and not any(i.lower() in JSON for i in kept)):
        kept.append("json")
    kind = s.kind if s.kind in ("List", "Set", "Tuple") else "List"
    new = string_list(kept, kind, s.quote)
    applicability = Applicability.SAFE if all_json else Applicability.UNSAFE
    if s.comments:
        applicability = Applicability.DISPLAY_ONLY
    fix = Fix(f"Set `{s.spelled}` to {new}", (Edit(s.value.start, s.value.end, new),),
              applicability)
    why = ("a worker that accepts pickle runs the code a message carries"
           if any("pickle" in b.lower() or "python" in b.lower() for b in bad)
           else "Celery's security guide asks for JSON only")
    return Violation(CODE, NAME, s.span,
                     f"`{s.spelled}` accepts {', '.join(repr(b) for b in bad)}: {why}", fix)


def _missing(ctx: PyContext, values: list[str | None], all_json: bool) -> Iterator[Violation | Decline]:
    serializers = ctx.serializers()
    if "auth" in values:
        yield Decline("signed-messages",
                      "the messages are signed (`task_serializer = 'auth'`): set "
                      "`accept_content = ['auth']` yourself", serializers[0].line)
        return
    order = {name: i for i, name in enumerate(SERIALIZERS)}
    anchors = sorted(serializers, key=lambda s: (order[s.name], s.span.start))
    anchor = next((s for s in anchors if s.insert_at >= 0), anchors[0])
    key = spelled_like("accept_content", anchor.spelled)
    quote = anchor.quote if anchor.kind == "SimpleString" else ctx.config.quote
    value = f"[{quote}json{quote}]"
    place = anchor.sibling(key, value)
    safe = all_json and not ctx.config.elsewhere
    fix = Fix(f"Add `{key} = {value}` beside `{anchor.spelled}`",
              (Edit.insert(*place),) if place else (),
              (Applicability.SAFE if safe else Applicability.UNSAFE) if place
              else Applicability.DISPLAY_ONLY)
    yield Violation(CODE, NAME, anchor.span,
                    f"`{anchor.spelled}` is set but `{key}` is not: the worker's whitelist of "
                    "content types is left to defaults (pickle, before Celery 4)", fix)

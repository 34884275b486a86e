"""Compare our reading of a Dockerfile with BuildKit's own parser.

BuildKit's parser is reached through the PyPI package ``dockerfile`` (a Go
extension wrapping ``moby/buildkit/frontend/dockerfile/parser``).  It is a
test and benchmark oracle only: nothing on the fixing path imports it, and
every function here imports it lazily.
"""

from __future__ import annotations

from typing import Any

from rewriter.dockerfile.syntax import Instruction, ParseError, parse

#: Instructions whose ``values`` BuildKit reports as we compute them.
_VALUE_CMDS = frozenset({"FROM", "EXPOSE", "COPY", "ADD", "VOLUME", "RUN", "CMD",
                         "ENTRYPOINT", "SHELL"})


# ``dockerfile`` (BuildKit's parser, in Go) is an optional test dependency:
# imported lazily, so that dockfix runs without it.


def available() -> bool:
    try:
        import dockerfile  # noqa: F401
    except ImportError:
        return False
    return True


def buildkit_parse(text: str) -> tuple[Any, ...] | str:
    """BuildKit's instruction list, or its error message as a ``str``."""
    import dockerfile

    try:
        return tuple(dockerfile.parse_string(text))
    except dockerfile.GoParseError as exc:
        return str(exc)
    except UnicodeDecodeError as exc:
        # BuildKit's byte-wise flag scanner can cut a UTF-8 character in half,
        # and the binding then cannot decode its own output.
        return f"undecodable BuildKit output: {exc}"


def buildkit_accepts(text: str) -> bool:
    return not isinstance(buildkit_parse(text), str)


def _ours(ins: Instruction) -> dict[str, Any]:
    target = ins.sub if ins.sub is not None else ins
    d: dict[str, Any] = {
        "cmd": ins.keyword,
        "sub_cmd": target.keyword if ins.sub is not None else None,
        "start_line": ins.start_line,
        "end_line": ins.end_line,
        "json": target.json,
        "flags": tuple(f.text for f in ins.flags),
    }
    if ins.sub is None:
        d["heredocs"] = tuple((h.name, h.content) for h in ins.heredocs)
        if not ins.heredocs:
            d["original"] = ins.logical
        if ins.cmd in _VALUE_CMDS and not ins.heredocs:
            d["values"] = ins.values
    return d


def _theirs(cmd: Any, like: dict[str, Any]) -> dict[str, Any]:
    d: dict[str, Any] = {
        "cmd": cmd.cmd or "",
        "sub_cmd": cmd.sub_cmd,
        "start_line": cmd.start_line,
        "end_line": cmd.end_line,
        "json": cmd.json,
        "flags": tuple(cmd.flags),
    }
    if "heredocs" in like:
        d["heredocs"] = tuple((h.name, h.content) for h in cmd.heredocs)
    if "original" in like:
        d["original"] = cmd.original or ""
    if "values" in like:
        d["values"] = tuple(cmd.value)
    return d


def compare(text: str) -> list[str]:
    """Differences between our parse and BuildKit's; empty when they agree."""
    theirs = buildkit_parse(text)
    try:
        ours = parse(text)
    except ParseError as exc:
        if isinstance(theirs, str):
            return []
        return [f"we reject ({exc}), BuildKit accepts"]
    if isinstance(theirs, str):
        return [f"we accept, BuildKit rejects: {theirs}"]
    mine = ours.instructions
    diffs: list[str] = []
    if len(mine) != len(theirs):
        diffs.append(f"instruction count: ours {len(mine)}, BuildKit {len(theirs)}")
    for a, b in zip(mine, theirs):
        da = _ours(a)
        db = _theirs(b, da)
        if da != db:
            keys = [k for k in da if da[k] != db.get(k)]
            diffs.append(
                f"line {a.start_line}: "
                + "; ".join(f"{k}: ours {da[k]!r}, BuildKit {db.get(k)!r}" for k in keys)
            )
            if len(diffs) > 5:
                break
    return diffs

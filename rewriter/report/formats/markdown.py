"""The markdown format: a pull-request body a maintainer can merge from.

For each changed file: which stage now runs as whom, every fix in plain words
(what dockfix found, what it did, and why that matters, from the rule's
documentation), the diff, and what a reviewer should check before merging
(ports below 1024, volumes, the entrypoint). Then what was not changed or was
declined, and why, and how to opt out with ``# dockfix: ignore=...``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rewriter import __version__
from rewriter.report.formats._common import counts, fix_line, plural
from rewriter.report.outcome import (
    DECLINED,
    ERROR,
    FIXED,
    UNCHANGED,
    WOULD_FIX,
    FileOutcome,
    FindingInfo,
)
from rewriter.report.ruledocs import RuleDoc


def _code(text: str) -> str:
    """``text`` as inline code, whatever backticks it holds."""
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _fence(text: str, lang: str) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    body = text if text.endswith("\n") else text + "\n"
    return f"{fence}{lang}\n{body}{fence}\n"


def _is_root(user: str | None) -> bool:
    return user is None or user.split(":", 1)[0].strip() in ("", "root", "0")


def _who(user: str | None) -> str:
    return "root" if user is None else _code(user)


def _line(n: int | None) -> str:
    return f"line {n}" if n else "the file"


def _what(o: FileOutcome, f: FindingInfo, rules: Mapping[str, RuleDoc]) -> list[str]:
    """One fix, as a numbered item's lines."""
    title = f.fix.title if f.fix is not None else f.message
    out = [f"**{title}** ({f.code} {_code(f.name)}, {_line(f.range.start.line)})",
           f"   Found: {f.message}."]
    doc = rules.get(f.code)
    if doc is not None and doc.why:
        out.append(f"   Why: {doc.why}")
    return out


def _checks(o: FileOutcome) -> list[str]:
    """What a reviewer should look at before merging."""
    runtime = next((s for s in o.stages if s.runtime), None)
    r = o.runtime
    if runtime is None or r is None:
        return []
    user = runtime.user_after or ""
    volumes = [
        f"- [ ] **Volume {_code(path)}** ({_line(line)}). A new named volume is filled from "
        "the image, so it starts out owned as the image has it. An existing volume or a bind "
        f"mount keeps its owner: give it to {_code(user)} once (`chown -R {user} ...`) "
        "before deploying this image."
        for path, line in r.volumes
    ]
    if not (_is_root(runtime.user_before) and not _is_root(runtime.user_after)):
        return [f"- [ ] **User.** The stage {_code(runtime.name)} still runs as "
                f"{_who(runtime.user_after)}; only the lines in the diff changed.", *volumes]
    out = [f"- [ ] **User.** The container runs as {_code(user)} now, not root. Whatever "
           "the process writes at run time (caches, uploads, PID or socket files) must be "
           "in a directory that user owns; files it only reads are fine as they are."]
    if r.ports:
        low = [p for p in r.ports if p.number is not None and p.number < 1024]
        if low:
            out.extend(
                f"- [ ] **Port {p.number}** ({_line(p.line)}) is below 1024. A non-root process "
                "can bind it only where the runtime allows it (Docker 20.10 and later does; "
                "other runtimes and Kubernetes nodes may not). Move the process to a port of "
                "1024 or above and map it, or grant `NET_BIND_SERVICE`." for p in low)
        else:
            ports = ", ".join(f"{_code(p.port)} ({_line(p.line)})" for p in r.ports)
            them = "it" if len(r.ports) == 1 else "them"
            out.append(f"- [ ] **Ports.** {ports}: 1024 or above, so a non-root process can "
                       f"bind {them}. Check the process listens there and nowhere lower.")
    else:
        out.append("- [ ] **Ports.** The file exposes no port. If the process listens on a "
                   "port below 1024, it can no longer bind it as a non-root user.")
    out += volumes
    for c in r.commands:
        out.append(f"- [ ] **{c.instruction}** {_code(c.instruction + ' ' + c.text)} "
                   f"({_line(c.line)}) starts as {_code(user)} now. Check it needs no root "
                   "at start: writing under /etc, /root or /var, installing packages, "
                   "changing owners, binding ports below 1024.")
    if not r.commands:
        out.append("- [ ] **Entrypoint.** The file sets no `ENTRYPOINT` or `CMD`: the base "
                   f"image's now starts as {_code(user)}. Check it needs no root at start.")
    return out


def _left(o: FileOutcome) -> list[str]:
    """Findings still there, and declines."""
    out = []
    left = [f for f in o.findings if f.remaining]
    if left:
        out += ["", "#### Not changed", "",
                "dockfix found these but did not change them; they need a person:", ""]
        for f in left:
            extra = fix_line(o, f)
            out.append(f"- {_line(f.range.start.line).capitalize()}: {f.code} {_code(f.name)}: "
                       f"{f.message}." + (f" {extra}." if extra else ""))
    declines = [d for d in o.declines if not d.informational]
    if declines:
        out += ["", "#### Declined", "",
                "dockfix chose not to change these, and says why:", ""]
        for d in declines:
            kind = f" (judged: {d.kind})" if d.kind else ""
            out.append(f"- {_line(d.line).capitalize()}: {_code(d.reason)}{kind}: {d.message}")
            out += [f"  - evidence: {_code(e)}" for e in d.evidence]
    return out


def _changed(o: FileOutcome, rules: Mapping[str, RuleDoc]) -> list[str]:
    out = ["", f"### {_code(o.path)}", ""]
    runtime = next((s for s in o.stages if s.runtime), None)
    if runtime is not None:
        family = "" if runtime.family == "unknown" else f", {runtime.family}"
        before, after = _who(runtime.user_before), _who(runtime.user_after)
        now = f"it now runs as {after}" if before != after else "it still does"
        out.append(f"The runtime stage {_code(runtime.name)} ({_code(runtime.base)}{family}) "
                   f"ran as {before}; {now}.")
        out.append("")
    applied = sorted((f for f in o.findings if f.applied),
                     key=lambda f: (f.range.start.line, f.range.start.column, f.code))
    out += ["#### What changed, and why", ""]
    for i, f in enumerate(applied, 1):
        first, *rest = _what(o, f, rules)
        out.append(f"{i}. {first}  ")
        out.extend(line + "  " for line in rest[:-1])
        out.extend(rest[-1:])
    out += ["", "<details open><summary>The diff</summary>", "", _fence(o.diff, "diff"),
            "</details>", ""]
    checks = _checks(o)
    if checks:
        out += ["#### Before you merge, check", "", *checks]
    out += _left(o)
    return out


def _opt_out(outcomes: Sequence[FileOutcome]) -> list[str]:
    applied = [f for o in outcomes for f in o.findings if f.applied]
    example = next((f for f in applied if f.code != "DF001"), applied[0] if applied else None)
    code = example.code if example else "DF002"
    instruction = example.instruction if example else "RUN chown -R 10001:10001 /app"
    return [
        "", "### How to opt out", "",
        "If a change is wrong for one instruction, put a comment on the line above it, "
        "and dockfix leaves that instruction alone from then on:", "",
        _fence(f"# dockfix: ignore={code}\n{instruction}\n", "dockerfile").rstrip("\n"), "",
        "A bare `# dockfix: ignore` turns off every rule for the instruction below it. "
        "DF001 reports on a stage's `FROM` line, so its comment goes above `FROM`. "
        "`# dockfix: ignore-file=DF001` anywhere in a Dockerfile turns a rule off for that "
        "file, and `ignore = [\"DF001\"]` in `.dockfix.toml` (or under `[tool.dockfix]` in "
        "`pyproject.toml`) for every Dockerfile below it. `dockfix rule DF001` explains a rule.",
    ]


def render(outcomes: Sequence[FileOutcome], rules: Mapping[str, RuleDoc]) -> str:
    n = counts(outcomes)
    changed = [o for o in outcomes if o.changed]
    verb = "changed" if n[FIXED] else "would change"
    out = ["## Run containers as a non-root user" if changed else "## dockfix: nothing to change",
           ""]
    if changed:
        out.append(
            f"dockfix {verb} {plural(len(changed), 'Dockerfile', 'Dockerfiles')} so that "
            f"{'its container runs' if len(changed) == 1 else 'their containers run'} as a "
            "non-root user instead of root. Each change is a small "
            "edit: every line the diff does not show is exactly as it was, comments and "
            "formatting included.")
    else:
        out.append("dockfix found nothing it could change safely.")
    out += ["", "| file | result | fixes |", "| --- | --- | --- |"]
    for o in outcomes:
        result = {FIXED: "changed", WOULD_FIX: "would change", UNCHANGED: "nothing to change",
                  ERROR: "error: not read"}.get(o.status, o.status)
        out.append(f"| {_code(o.path)} | {result} | {o.applied if o.changed else '-'} |")
    for o in changed:
        out += _changed(o, rules)
    for o in outcomes:
        if o.status == DECLINED or (o.status == UNCHANGED and any(f.remaining for f in o.findings)):
            out += ["", f"### {_code(o.path)}", "", "Not changed."] + _left(o)
    errors = [o for o in outcomes if o.status == ERROR]
    if errors:
        out += ["", "### Files dockfix could not read", ""]
        out += [f"- {_code(o.path)}: {(o.error or '').removeprefix(o.path + ': ')}"
                for o in errors]
    if changed:
        out += _opt_out(outcomes)
    out += ["", f"<sub>Written by dockfix {__version__}.</sub>"]
    return "\n".join(out) + "\n"

"""Helpers the rules share: where to insert, how to insert, who runs."""

from __future__ import annotations

import re

from rewriter.dockerfile.analysis import Context
from rewriter.dockerfile.judge import entrypoint_scripts, own_user_switch, sibling_base_entrypoint
from rewriter.core.edits import Edit
from rewriter.dockerfile.model import (
    StageInfo,
    is_root,
    numeric,
)
from rewriter.dockerfile.syntax import Instruction
from rewriter.io.context import dockerfile_dir

#: Instructions whose effect on the image depends on, or is done by, the
#: current user at build time; USER goes after the last of them (and after
#: the last USER, so that nothing switches back to root behind it).
BUILD_STEPS = frozenset({"RUN", "COPY", "ADD", "WORKDIR", "USER"})

#: Programs (and patterns) of entrypoints that start as root and drop
#: privileges themselves; adding USER breaks them.
_PRIV_DROP = re.compile(
    r"\b(gosu|su-exec|setpriv|runuser|s6-setuidgid|s6-applyuidgid|chpst\s+-u|"
    r"chroot\s+--userspec|setuidgid|start-stop-daemon\s+.*--chuid|supervisord|"
    r"exec\s+su\s|su\s+-c|su\s+-s|sudo\s+(?:-[A-Za-z]*\s+)*(?:-[A-Za-z]*u|--user)|"
    r"setuser(?=\s+\w))\b"
)
_PRIV_TOOL = re.compile(r"\b(gosu|su-exec|setpriv|runuser|s6-overlay|s6-setuidgid|supervisord?|"
                        r"chroot\s+--userspec|suexec)\b")
#: A word each of ``_PRIV_TOOL``'s tools contains: a text with none of them
#: cannot match it, and ``in`` finds that out four times as fast as the search
#: (which tries its alternatives at every character).
_PRIV_WORDS = ("gosu", "su-exec", "setpriv", "runuser", "s6-", "supervisor", "chroot", "suexec")
_INDENT = re.compile(r"[ \t]*")
_S6_INIT = re.compile(r"^/init$|s6-overlay|/command/with-contenv")


def tail_anchor(info: StageInfo) -> Instruction:
    """The last build step of the stage (USER and the user block go after it)."""
    anchor = info.stage.from_
    for ins in info.stage.instructions:
        if ins.cmd in BUILD_STEPS:
            anchor = ins
        elif ins.cmd == "ONBUILD":
            continue
    return anchor


def insert_before(ctx: Context, ins: Instruction, block: str) -> Edit:
    """An edit inserting ``block`` (whole lines, ``\\n``-separated) on the lines
    before ``ins``, in the file's newline style and with ``ins``'s indentation."""
    text = ctx.df.text
    start = text.rfind("\n", 0, ins.span.start) + 1
    indent = _INDENT.match(text, start).group(0)  # type: ignore[union-attr]
    lines = block.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return Edit.insert(start, "".join(indent + ln + ctx.newline for ln in lines))


def insert_after(ctx: Context, ins: Instruction, block: str) -> Edit:
    """An edit inserting ``block`` (whole lines, ``\\n``-separated) after ``ins``,
    in the file's newline style and with ``ins``'s indentation."""
    text = ctx.df.text
    nl = ctx.newline
    indent = _INDENT.match(text, ins.span.start).group(0)  # type: ignore[union-attr]
    lines = block.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    body = "".join(indent + ln + nl for ln in lines)
    at = ins.span.end
    if not text[:at].endswith("\n"):
        # The file ends without a newline: start a new line, keep the missing one.
        return Edit.insert(at, nl + body[: -len(nl)])
    return Edit.insert(at, body)


def uid_of(info: StageInfo, user: str) -> tuple[int | None, int | None]:
    """Numeric uid and gid of ``user`` (``name``, ``uid``, ``uid:gid``, ``name:group``)
    as far as the file and the family table tell."""
    name, _, group = user.partition(":")
    uid: int | None = int(name) if name.isdigit() else None
    gid: int | None = int(group) if group.isdigit() else None
    if uid is None:
        created = info.known_users().get(name)
        if created is not None:
            uid = created.uid
            if not group:
                gid = created.gid
        elif name in info.image_users():
            uid = info.image_users()[name]
            if not group:
                gid = uid
    if gid is None and group and not group.isdigit():
        for s in info.chain:
            if s.groups.get(group) is not None:
                gid = s.groups[group]
    return uid, gid


def runs_as_root(info: StageInfo) -> bool:
    return is_root(info.final_user)


def _priv_tool(text: str) -> re.Match[str] | None:
    """``_PRIV_TOOL.search(text)``, when a word of ``_PRIV_WORDS`` is in it."""
    return _PRIV_TOOL.search(text) if any(w in text for w in _PRIV_WORDS) else None


def privilege_drop(ctx: Context, info: StageInfo) -> str | None:
    """Why the runtime stage must start as root, or None."""
    root = info.chain[-1]
    if root.image is not None and root.image.privilege_drop:
        overridden = any(i.cmd == "ENTRYPOINT" for s in info.chain for i in s.stage.instructions)
        if not overridden:
            return (f"the entrypoint of `{root.base}` starts as root and drops privileges "
                    "itself (gosu, su-exec or its own worker user); a USER line would break it")
    # A privilege-dropping tool named anywhere in the file (a builder stage may
    # fetch gosu for the runtime stage to COPY) is reason enough to stay away.
    for ins in ctx.df.instructions:
        if ins.cmd in ("RUN", "COPY", "ADD") or (ins.cmd == "ONBUILD" and ins.sub):
            m = _priv_tool(ins.logical) or next(
                (m for h in ins.heredocs if (m := _priv_tool(h.content))), None)
            if m:
                return f"the file installs or copies `{m.group(1)}`, which drops privileges at start"
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd in ("ENTRYPOINT", "CMD"):
                text = " ".join(ins.values) if ins.json else ins.args
                how = _drops(text, "itself ")
                if how:
                    return f"`{ins.cmd}` {how}"
                if ins.json and ins.values and _S6_INIT.search(ins.values[0]):
                    return "the entrypoint is s6-overlay's /init, which manages users itself"
    # the entrypoint script the file copies in, and the scripts it sources or runs,
    # named as the Dockerfile's COPY names them (from its own directory)
    here = dockerfile_dir(ctx.build) if ctx.build is not None else ""
    for path, body in entrypoint_scripts(ctx, info):
        how = _drops(body)
        if how:
            name = path[len(here) + 1:] if here and path.startswith(here + "/") else path
            return f"the entrypoint script `{name}` {how}"
    return None


def _drops(text: str, itself: str = "") -> str | None:
    """How ``text`` (a command line or a script) drops privileges once started
    as root, as a message's verb phrase; None when it does not."""
    m = _PRIV_DROP.search(text)
    if m:
        return f"drops privileges {itself}with `{m.group(1)}`"
    own = own_user_switch(text)
    if own:
        return f"starts `{own}`, which switches to that user itself"
    return None


def parent_privilege_drop(ctx: Context, info: StageInfo) -> tuple[str, str] | None:
    """(why, evidence) when the image sets no ENTRYPOINT of its own and the
    base image another Dockerfile of the repository builds has one that starts
    as root and drops privileges itself (s6-overlay's /init, gosu, su-exec,
    supervisord, a script that switches user): the image inherits it."""
    found = sibling_base_entrypoint(ctx, info)
    if found is None:
        return None
    entry, cite, scripts = found
    text = " ".join(entry.values) if entry.json else entry.args
    base = f"`{info.chain[-1].base}` (built in this repository)"
    how = _drops(text)
    if how:
        return f"{base} has an ENTRYPOINT that {how}", cite
    if entry.json and entry.values and _S6_INIT.search(entry.values[0]):
        return (f"{base} has s6-overlay's /init as its ENTRYPOINT, which starts as root "
                "and manages users itself"), cite
    for path, body in scripts:
        how = _drops(body)
        if how:
            return f"{base} has an ENTRYPOINT script, `{path}`, that {how}", cite
    return None


__all__ = ["insert_after", "numeric", "parent_privilege_drop", "privilege_drop", "runs_as_root",
           "tail_anchor", "uid_of"]

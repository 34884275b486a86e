"""DF004 volume-not-owned

## What it does
Finds `VOLUME` paths (and log/data directories the stage creates with
`mkdir`) of a runtime stage that runs as a non-root user but never gives those
directories to that user.

## Why is this bad?
Docker initialises a new volume from the image's directory, and creates a
missing mount point owned by root. A non-root process then cannot write its
data or logs, and projects revert their non-root change over it.

## Example
```dockerfile
FROM debian:bookworm-slim
RUN useradd --system --uid 10001 app
VOLUME /data
USER 10001
```

Use instead:
```dockerfile
FROM debian:bookworm-slim
RUN useradd --system --uid 10001 app
VOLUME /data
RUN mkdir -p /data && chown 10001 /data
USER 10001
```

Only where the build leaves the directory root's: not when it is chowned
(variables read as BuildKit reads them), made world-writable (`chmod 1777`,
`a+w`), created by a step that runs as the user, or the destination of a
`COPY --chown`; not when the build runs a script the file copies from its
context and the context does not hold (`RUN sh /tmp/install.sh`: it may create
them for the user; declined as `unreadable-build-script`, which says so);
not for shared scratch directories (`/tmp`), sockets, a source
checkout the host mounts (`VOLUME /src`), a path a build step hands to a script
dockfix cannot follow (`fix-permissions.sh /var/lib/mysql`), or a package's
own account's directories (`postgres` and `/var/lib/postgresql`), a directory
the stage makes with `mkdir` and then fills with `COPY`/`ADD` (data the app
reads; a `VOLUME` still counts); and not in an image that is no app by its path
or make (a test fixture, a devcontainer, a generated file) or whose command only
prints and exits (`CMD ["echo", ...]`: a data-volume container). An image
already non-root gets no edit without that evidence.

A directory the build makes writable to group 0 (`chgrp -R 0 /x && chmod -R
g=u /x`) is the user's when it runs in group 0 (`USER 10001:0`).

## Fix safety
Safe: the directory is created if missing and only the directory itself is
re-owned (no `chown -R`, no layer copy). The step goes before a `VOLUME` that
names the directory (the classic builder discards what later steps do to a
volume). Display-only when the stage has no shell (distroless, scratch) or its
non-root user comes from a parent stage or the base image, where there is no
`USER` line to put the step before; and when that `VOLUME` comes before anything
that shows the named user exists (a `useradd` in a `RUN` before it; a numeric
`USER` needs none).

## Relationship to other rules
DF001 puts these directories in the user block it inserts; this rule covers
stages that were already non-root.

## References
- https://docs.docker.com/reference/dockerfile/#volume
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator

from rewriter.dockerfile.analysis import Context
from rewriter.core.edits import Applicability, Edit, Fix
from rewriter.dockerfile.judge import (
    group_zero_writable, not_an_app, packaged_user, unread_run_script)
from rewriter.dockerfile.model import StageInfo, commands_named, expand, is_root, workdir_path
from rewriter.dockerfile.paths import SOURCE_DIRS, command_words, shared_dir, volume_paths, writable_dirs
from rewriter.dockerfile.shell import programs
from rewriter.dockerfile.rules._types import Decline, Violation
from rewriter.dockerfile.templates import own_dirs

CODE = "DF004"
NAME = "volume-not-owned"
PRIORITY = 30
#: the applicability its fix usually has (``None``: it never offers an edit)
FIX_APPLICABILITY: Applicability | None = Applicability.SAFE


def owned_dirs(info: StageInfo) -> set[str] | None:
    """Directories the build gives to a user (``-R``, a COPY --chown, ``/**``:
    and below): chowned, made world-writable (``chmod 777``, ``a+w``), or
    created by a RUN or WORKDIR that runs as a non-root user. None when a chown
    or chmod names a path that cannot be read (an unset variable): then any
    directory may be owned."""
    out: set[str] = set()
    user = "root"
    for s, ins in info.chain_instructions(oldest_first=True):
        if ins.cmd == "USER":
            user = expand(ins.args.strip(), s.env)[0] or "root"
        elif ins.cmd == "WORKDIR" and not is_root(user):
            out.add(posixpath.normpath(expand(ins.args.strip().strip("\"'"), s.env)[0]))
        elif ins.cmd in ("COPY", "ADD") and ins.flag("chown") and len(ins.values) >= 2:
            out.add(posixpath.normpath(expand(ins.values[-1], s.env)[0]) + "/**")
        elif ins.cmd == "RUN":
            named: list[tuple[list[str], bool]] = []
            for cmd in commands_named(ins, "chown"):
                args = cmd.args_after_name()
                named.append(([a for a in args if not a.startswith("-")][1:],
                              any(a in ("-R", "--recursive") for a in args)))
            for cmd in commands_named(ins, "chmod"):
                argv = cmd.args_after_name()
                words = [a for a in argv if not a.startswith("-")]
                if words and _WORLD_WRITABLE.search(words[0]):
                    named.append((words[1:], any(a in ("-R", "--recursive") for a in argv)))
            if not is_root(user):
                for cmd in commands_named(ins, "mkdir"):
                    named.append(([a for a in cmd.args_after_name() if not a.startswith("-")],
                                  False))
            for paths, recursive in named:
                for raw in paths:
                    p, ok = expand(raw, s.env)
                    if not ok:
                        return None
                    p = posixpath.normpath(p)
                    out.add(p + "/**" if recursive else p)
    return out


#: a chmod mode that lets every user write: ``777``, ``1777``, ``666``, ``a+w``, ``o+rwx``
_WORLD_WRITABLE = re.compile(r"^[0-7]?[0-7]{2}[2367]$|(?:^|,)[ugo]*[ao][ugo]*[+=][rwxXst]*w")


def _needs_owner(info: StageInfo, path: str) -> bool:
    """Whether DF004 should give ``path`` to the user: not a shared scratch
    directory, not a socket or file mount point, not a source checkout the
    host mounts (``VOLUME /src``), and not a path a build step hands to a
    script or tool dockfix cannot follow (``./fix-permissions.sh /var/lib/mysql``)."""
    if shared_dir(path):
        return False
    if path.endswith((".sock", ".socket", ".pid")):
        return False
    if posixpath.dirname(path) == "/" and path[1:] in SOURCE_DIRS:
        return False
    token = re.compile(r"(?<![\w./-])" + re.escape(path) + r"(?![\w.-])")
    for s, ins in info.chain_instructions("RUN"):
        text = expand(ins.logical, s.env)[0]
        if not token.search(text):
            continue
        for prog, args in programs(text):
            if prog not in ("mkdir", "chown", "chmod", "chgrp", "sudo") and \
                    any(token.fullmatch(expand(a, s.env)[0].rstrip("/") or "/") for a in args):
                return False
    return True


#: commands that only print and exit (a data-volume container's ``CMD ["echo", ...]``):
#: the process writes nothing, so no directory needs its user
_WRITES_NOTHING = frozenset({"echo", "true", "printf", ":"})


def _filled(info: StageInfo, path: str) -> bool:
    """A ``COPY``/``ADD`` puts files into ``path``: data shipped with the image,
    which the app reads (``mkdir -p /data`` then ``COPY leaderboards /data/leaderboards``)."""
    for s, ins in info.chain_instructions("COPY", "ADD"):
        if len(ins.values) + len(ins.heredocs) < 2:
            continue
        dest = posixpath.normpath(workdir_path(s, ins, expand(ins.values[-1], s.env)[0]))
        if dest == path or dest.startswith(path.rstrip("/") + "/"):
            return True
    return False


def _is_owned(path: str, owned: set[str]) -> bool:
    if path in owned or path + "/**" in owned:
        return True
    return any(o.endswith("/**") and path.startswith(o[:-3].rstrip("/") + "/") for o in owned)


def check(ctx: Context) -> Iterator[Violation | Decline]:
    info = ctx.model.nonroot_runtime
    if info is None or not info.final_user_resolved:
        return
    owned = owned_dirs(info)
    if owned is None or not_an_app(ctx, info) is not None:
        return
    words = [w for w, _ in command_words(info)]
    if words and posixpath.basename(words[0]) in _WRITES_NOTHING:
        return
    user = info.final_user or ""
    volumes = set(volume_paths(info))
    missing = [d for d in writable_dirs(info) if not _is_owned(d, owned)
               and _needs_owner(info, d)
               # a data directory the build only made and filled is read, not written
               and (d in volumes or not _filled(info, d))
               # a package's own account already owns the directories its package made
               and not (packaged_user(user) and any(seg.startswith(user)
                                                   for seg in d.split("/")))]
    if missing and user.partition(":")[2] in ("0", "root"):
        # it runs in group 0: what the build made writable to group 0 is its own
        zero = group_zero_writable(ctx, info)
        missing = [d for d in missing if zero is None or not zero.covers(d)]
    if not missing:
        return
    unread = unread_run_script(ctx, info)
    if unread is not None:
        # that script may make the directories and give them to the user
        src, line, evidence = unread
        yield Decline("unreadable-build-script",
                      f"`{', '.join(missing)}` may be root's, but the build runs `{src}`, which "
                      "the file copies from its context and the context dockfix reads does not "
                      f"hold: it may create {'them' if len(missing) > 1 else 'it'} for the user, "
                      "so nothing is changed without "
                      "that evidence; run dockfix from the repository (or pass --context) so it "
                      "can read it", line, info.name, kind="app", evidence=evidence)
        return
    own_user = info.users[-1][0] if info.users else None
    paths = " ".join(shlex.quote(d) for d in missing)
    message = f"`{', '.join(missing)}` will be owned by root, but the container runs as `{user}`"
    if own_user is None or not info.family.shell:
        yield Violation(CODE, NAME, info.stage.from_.span, message,
                        Fix(f"Create and chown {paths} for `{user}`", (), Applicability.DISPLAY_ONLY))
        return
    block = own_dirs(missing, user, ctx.newline)
    at = own_user.span.start
    # A VOLUME before the USER line that names one of them: own it before the
    # VOLUME (the classic builder discards what later steps do to a volume), by
    # a numeric id or by a name that a RUN before the VOLUME creates.
    name = user.partition(":")[0]
    made = info.known_users().get(name)
    # the user exists from the start: the base image's, or made in an earlier stage
    created = name in info.image_users() or (
        made is not None and all(made.ins is not i for i in info.stage.instructions))
    for ins in info.stage.instructions:
        if ins is own_user:
            break
        if made is not None and ins is made.ins:
            created = True
        if ins.cmd == "VOLUME" and any(
                (expand(v, info.env)[0].rstrip("/") or "/") in missing for v in ins.values):
            if not (created or re.fullmatch(r"\d+(?::\d+)?", user)):
                yield Violation(CODE, NAME, own_user.span,
                                f"{message}; the step must come before the `VOLUME` on line "
                                f"{ins.start_line}, where nothing shows that `{name}` exists",
                                Fix(f"Create {paths} owned by `{user}` before that `VOLUME`", (),
                                    Applicability.DISPLAY_ONLY))
                return
            at = ctx.df.text.rfind("\n", 0, ins.span.start) + 1
            break
    yield Violation(CODE, NAME, own_user.span, message,
                    Fix(f"Create {paths} owned by `{user}` before `USER`",
                        (Edit.insert(at, block),)))

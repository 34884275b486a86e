"""Paths the build makes writable to group 0 (OpenShift's arbitrary uid), and whether
the image's user joins that group.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass

from rewriter.core.settings import Settings
from rewriter.dockerfile.analysis import Context
from rewriter.dockerfile.model import StageInfo, expand, may_run, run_commands, workdir_path
from rewriter.dockerfile.shell import Command, commands, run_script
from rewriter.dockerfile.usage import sh_expand
from rewriter.dockerfile.judge.evidence import _cite, _df_name, _in_shell_comment, _ins_cite
from rewriter.dockerfile.judge.context import _GLOB_CHARS, _path_variables, _run_scripts


@dataclass(frozen=True)
class GroupZero:
    """Paths the build gives group 0 write on, the way images made for
    OpenShift's arbitrary uid do (``chgrp -R 0 /x && chmod -R g=u /x``): any
    uid in group 0 can write them."""

    paths: tuple[tuple[str, bool], ...]  #: (path, recursively)
    evidence: tuple[str, ...]  #: ``path:line: text`` of the commands

    def covers(self, path: str) -> bool:
        """``path`` is one of the paths, or inside one made so recursively."""
        path = path.rstrip("/") or "/"
        return any(path == p or (deep and path.startswith(p.rstrip("/") + "/"))
                   for p, deep in self.paths)


#: files every image ships owned by group root (``chmod g+w /etc/passwd`` lets
#: an arbitrary uid add its own entry at start)
_ROOT_GROUP_FILES = ("/etc/passwd", "/etc/group")
_RECURSIVE = r"-[a-zA-Z]*R[a-zA-Z]*|--recursive"  # compiled on first use
#: a comment that states the arbitrary-uid convention (compiled on first use)
_CONVENTION = (r"(?im)^[ \t]*#.*(?:\bopenshift\b|\barbitrary\s+(?:uid|user)|"
               r"\b(?:gid|group)\s+0\b|\broot\s+group\b)")


def _mode_group_write(mode: str) -> bool:
    """``chmod``'s mode gives the group write: an octal mode with the group's
    2 bit (``775``, ``0770``), or a clause for ``g`` or ``a`` that adds or sets
    ``w`` or the user's bits (``g+rwX``, ``g=u``, ``ug+w``, ``a+rw``)."""
    if re.fullmatch(r"[0-7]{3,4}", mode):
        return bool(int(mode[-2]) & 2)
    for clause in mode.split(","):
        m = re.fullmatch(r"([ugoa]*)((?:[-+=][rwxXstugo]*)+)", clause)
        if not m or not re.search(r"[ga]", m.group(1)):
            continue
        for op, perms in re.findall(r"([-+=])([rwxXstugo]*)", m.group(2)):
            if op in "+=" and ("w" in perms or "u" in perms):
                return True
    return False


def _owner_group(spec: str) -> str | None:
    """The group of a ``chown`` owner (``1001:0``, ``app:root``, ``:0``), or None."""
    user, sep, group = spec.partition(":")
    if not sep and "." in user:  # the old ``user.group`` spelling
        user, _, group = user.partition(".")
    return group or None


def _group_zero_steps(cmd: Command, value: Callable[[str], str | None]
                      ) -> list[tuple[str, str, bool]]:
    """(``group``/``write``/``other``, path, recursive) for each path ``cmd``
    sets the group of (to 0: ``group``; to another: ``other``) or gives the
    group write on (``write``); ``value`` reads a word (None: unresolved)."""
    name = cmd.name
    if name not in ("chgrp", "chown", "chmod"):
        return []
    argv = cmd.argv
    args = argv[argv.index(next(a for a in argv if a.rsplit("/", 1)[-1] == name)) + 1:]
    recursive = any(re.fullmatch(_RECURSIVE, a) for a in args)
    words = [a for a in args if not a.startswith("-")]
    if len(words) < 2:
        return []
    head = value(words[0])
    paths = [p for p in (value(w) for w in words[1:]) if p and p.startswith("/")
             and not re.compile(_GLOB_CHARS).search(p)]
    if head is None:
        return []
    if name == "chmod":
        kind = "write" if _mode_group_write(head) else ""
    else:
        group = head if name == "chgrp" else _owner_group(head)
        kind = "" if group is None else "group" if group in ("0", "root") else "other"
    return [(kind, posixpath.normpath(p), recursive) for p in paths] if kind else []


def group_zero_writable(ctx: Context, info: StageInfo) -> GroupZero | None:
    """What the runtime chain makes writable to group 0: paths it gives group 0
    (``chgrp 0``/``root``, ``chown UID:0``, ``COPY --chown=UID:0``; ``/etc/passwd``
    and ``/etc/group`` are root's group already) and the group write
    (``chmod g=u``, ``g+rwX``, ``775``), in its RUN lines and in the scripts of
    the build context they run. None when nothing is."""
    steps: list[tuple[str, str, bool, str]] = []  # kind, path, recursive, cite

    def add(cmd: Command, value: Callable[[str], str | None], cite: str,
            stated: bool = False) -> None:
        for k, p, r in _group_zero_steps(cmd, value):
            steps.append((k, p, r, cite))
            if k == "write" and stated:
                # a root-made path is group 0's already: where the text says it
                # makes files group-writable for OpenShift's group 0, a bare
                # `chmod 775 /etc/app` is the convention's other half
                steps.append(("group", p, r, ""))

    scripts: dict[int, list[tuple[str, str]]] = {}
    for s, ins, path, text in _run_scripts(ctx, info):
        scripts.setdefault(id(ins), []).append((path, text))
    for s in reversed(info.chain):
        for ins in s.stage.instructions:
            chown = ins.flag("chown") if ins.cmd in ("COPY", "ADD") else None
            if chown is not None and chown.value and len(ins.values) >= 2:
                group = _owner_group(expand(chown.value, s.env)[0])
                if group in ("0", "root"):
                    dest = workdir_path(s, ins, expand(ins.values[-1], s.env)[0])
                    steps.append(("group", posixpath.normpath(dest), True, _ins_cite(ctx, ins)))
            if ins.cmd != "RUN":
                continue
            if may_run(ins, ("chgrp", "chown", "chmod")):
                env = s.env
                stated = re.search(_CONVENTION, ctx.df.text) is not None

                def df_word(w: str, env: dict[str, str] = env) -> str | None:
                    v, ok = expand(w, env)
                    return v if ok else None
                # the command's own line of a shell-form RUN (heredoc bodies: the RUN's)
                lines = run_script(ins) is not None
                for cmd in run_commands(ins):
                    at = ins.src(cmd.start) if lines else ins.span.start
                    add(cmd, df_word, _cite(_df_name(ctx), ctx.df.text, at), stated)
            for path, text in scripts.get(id(ins), []):
                if not re.search(r"\b(?:chgrp|chmod|chown)\b", text):
                    continue
                said = re.search(_CONVENTION, text) is not None
                for cmd in commands(text).commands:
                    if _in_shell_comment(text, cmd.start):
                        continue
                    known = _path_variables(text, cmd.start, s.env)

                    def sh_word(w: str, known: dict[str, str | None] = known) -> str | None:
                        v = sh_expand(w, known) if "$" in w else w
                        return None if "$" in v else v
                    add(cmd, sh_word, _cite(path, text, cmd.start), said)
    group0: list[tuple[str, bool, str]] = [(f, False, "") for f in _ROOT_GROUP_FILES]
    writes: list[tuple[str, bool, str]] = []
    for kind, path, deep, cite in steps:
        if kind == "write":
            writes.append((path, deep, cite))
        elif kind == "group":
            group0.append((path, deep, cite))
        else:  # given to another group: what was group 0's there no longer is
            group0 = [g for g in group0 if g[0] != path]

    def under(path: str, top: str, deep: bool) -> bool:
        return path == top or (deep and path.startswith(top.rstrip("/") + "/"))
    paths: dict[str, bool] = {}
    evidence: dict[str, None] = {}
    for wpath, wdeep, wcite in writes:
        for gpath, gdeep, gcite in group0:
            if under(wpath, gpath, gdeep):
                path, deep = wpath, wdeep and (gdeep or wpath != gpath)
            elif under(gpath, wpath, wdeep):
                path, deep = gpath, gdeep
            else:
                continue
            paths[path] = paths.get(path, False) or deep
            evidence.update((c, None) for c in (gcite, wcite) if c)
    if not paths:
        return None
    return GroupZero(tuple(paths.items()), tuple(evidence))


def joins_group_zero(ctx: Context, info: StageInfo) -> GroupZero | None:
    """:func:`group_zero_writable`, when the fix's user joins group 0 for it:
    unless ``--gid`` names another group (the default, or ``--gid 0``)."""
    if ctx.settings.gid not in (Settings.gid, 0):
        return None
    key = "_group_zero"
    if key not in info.__dict__:  # asked by the judge and by DF001, once a stage
        info.__dict__[key] = group_zero_writable(ctx, info)
    found: GroupZero | None = info.__dict__[key]
    return found

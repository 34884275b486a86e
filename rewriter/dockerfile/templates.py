"""Render the RUN instruction that creates dockfix's user, per image family.

The shell text lives in ``templates/adduser/<name>.Dockerfile.j2`` (one file per
family template, see ``Family.template``); this module validates the inputs, so a
template can never be handed anything that would turn into shell syntax, and
fits the output to the Dockerfile it goes into: its escape character and its
newline.
"""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rewriter.core.settings import MAX_ID, NAME, is_id

if TYPE_CHECKING:
    import jinja2

__all__ = ["available", "own_dirs", "render", "templates_dir"]

_TEMPLATE = re.compile(r"[a-z0-9][a-z0-9-]*")
_SUFFIX = ".Dockerfile.j2"


def render(
    template: str,
    *,
    user: str,
    group: str,
    uid: int,
    gid: int,
    dirs: Sequence[str] = (),
    trees: Sequence[str] = (),
    escape: str = "\\",
    newline: str = "\n",
    login_shell: bool = False,
    readable: Sequence[str] = (),
    groups: Sequence[str] = (),
) -> str:
    """One complete ``RUN`` instruction that creates ``user``:``group`` with
    ``uid``:``gid``, with a home directory ``/home/<user>``, gives it ``dirs``
    (absolute paths: the directories themselves) and ``trees`` (the directories and
    everything in them: the app's WORKDIR), and makes the files ``readable``
    readable to all (``chmod a+r``: what ``ADD <url>`` left at mode 600), ending
    in ``newline``.

    Continuation lines end in `` <escape>`` (``\\`` or a backtick from a
    ``# escape=`` directive); every line break is ``newline`` (``\\n`` or
    ``\\r\\n``).  The user's shell is the family's ``nologin`` unless
    ``login_shell`` asks for ``/bin/sh`` (for a program that starts it).
    ``groups`` are supplementary groups the image already has (``audio``,
    ``video``) that the user joins.
    ``gid`` 0 with ``group`` ``root`` puts the user in root's group, which
    every image has, and creates no group (OpenShift's arbitrary-uid convention).
    Raises ValueError for an unknown template or an input that is not a plain
    name, a valid id or a clean absolute path, and when the template's tool
    cannot take the id (BusyBox: up to 60000; Alpine: up to 256000).
    """
    if not isinstance(template, str) or not _TEMPLATE.fullmatch(template):
        raise ValueError(f"bad template name {template!r}")
    if template not in available():
        raise ValueError(f"no template {template!r} (have: {', '.join(available())})")
    if isinstance(groups, str):
        raise ValueError("groups must be a sequence of group names, not one string")
    for what, name in (("user", user), ("group", group), *(("group", g) for g in groups)):
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise ValueError(f"bad {what} name {name!r}: must match {NAME.pattern}")
    for what, value in (("uid", uid), ("gid", gid)):
        if not is_id(value, 1) and not (what == "gid" and value == 0 and group == "root"):
            raise ValueError(f"bad {what} {value!r}: must be an integer in 1..{MAX_ID}")
    if escape not in ("\\", "`"):
        raise ValueError(f"bad escape character {escape!r}: must be '\\\\' or '`'")
    if newline not in ("\n", "\r\n"):
        raise ValueError(f"bad newline {newline!r}: must be '\\n' or '\\r\\n'")
    if isinstance(dirs, str) or isinstance(trees, str) or isinstance(readable, str):
        raise ValueError("dirs, trees and readable must be sequences of paths, not one string")
    own = ownership_commands(_clean_dirs(dirs), f"{uid}:{gid}", _clean_dirs(trees))
    own += read_commands(_clean_dirs(readable))
    text = _env().get_template(f"adduser/{template}{_SUFFIX}").render(
        user=user, group=group, uid=uid, gid=gid, own=own, escape=escape,
        login_shell=login_shell, groups=list(groups),
    )
    if not (text.startswith("RUN ") and text.endswith("\n") and "\r" not in text):
        raise AssertionError(f"template {template!r} must render one RUN ending in a newline")
    return text.replace("\n", newline) if newline != "\n" else text


@functools.cache
def available() -> tuple[str, ...]:
    """The names of the adduser templates, sorted.  They are files of the
    package, as the compiled templates ``_env`` keeps are: listed once a
    process, not on every ``render`` (once per change in an editor)."""
    root = templates_dir() / "adduser"
    return tuple(sorted(p.name[: -len(_SUFFIX)] for p in root.glob(f"*{_SUFFIX}")))


def templates_dir() -> Path:
    """The ``templates`` directory: in the wheel (``rewriter/templates``), else the
    source checkout's top-level ``templates`` (also what an editable install uses)."""
    here = Path(__file__).parent.parent  # the rewriter package
    for candidate in (here / "templates", here.resolve().parent / "templates"):
        if (candidate / "adduser").is_dir():
            return candidate
    raise FileNotFoundError(f"no templates/adduser directory next to {here} or its parent")


@functools.cache
def _env() -> jinja2.Environment:
    """The one jinja2 environment of the process (it keeps compiled templates)."""
    # Imported here, not at the top: jinja2 takes about 30 ms to import, and a
    # run that renders no user block (nothing to fix, --check of a clean file)
    # should not pay for it.
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.globals["fail"] = _fail
    return env


def _fail(message: str) -> str:
    """``{{ fail("why") }}``: a template refuses its inputs (e.g. an id its tool can't take)."""
    raise ValueError(message)


def own_dirs(dirs: Sequence[str], owner: str, newline: str = "\n",
             trees: Sequence[str] = (), readable: Sequence[str] = ()) -> str:
    """``RUN mkdir -p DIRS && chown OWNER DIRS``: the instruction that gives
    ``owner`` (``uid``, ``uid:gid`` or names) the directories ``dirs``
    (absolute paths, quoted here), and with ``chown -R`` the ``trees`` (the
    app's WORKDIR: it writes beside its code), then ``chmod a+r`` the files
    ``readable``, ending in ``newline``."""
    commands = ownership_commands(dirs, owner, trees, one_mkdir=True) if dirs or trees else []
    return "RUN " + " && ".join(commands + read_commands(readable)) + newline


def read_commands(files: Sequence[str]) -> list[str]:
    """``chmod a+r FILES`` (absolute paths, quoted here): the files a download
    left at mode 600 made readable to the new user; none for no files."""
    return [f"chmod a+r {_quoted(files)}"] if files else []


def ownership_commands(dirs: Sequence[str], owner: str, trees: Sequence[str] = (),
                       *, one_mkdir: bool = False) -> list[str]:
    """The shell commands that create ``dirs`` and ``trees`` (absolute paths,
    quoted here) and give them to ``owner``: ``chown`` for the directories
    themselves, ``chown -R`` for the trees.  With ``one_mkdir`` a single
    ``mkdir -p`` creates them all (a ``RUN`` of its own); otherwise each group
    gets its own ``mkdir -p`` (the tail of a user block, a command a line)."""
    plain = [d for d in dirs if d not in trees]
    groups = [(paths, chown) for paths, chown in ((plain, "chown"), (trees, "chown -R")) if paths]
    commands = [f"mkdir -p {_quoted([*plain, *trees])}"] if one_mkdir else []
    for paths, chown in groups:
        if not one_mkdir:
            commands.append(f"mkdir -p {_quoted(paths)}")
        commands.append(f"{chown} {owner} {_quoted(paths)}")
    return commands


def _quoted(paths: Sequence[str]) -> str:
    return " ".join(shlex.quote(p) for p in paths)


def _clean_dirs(dirs: Sequence[str]) -> list[str]:
    """``dirs`` checked (absolute, no control characters, no ``..``, not ``/``)
    and without duplicates, in order."""
    out: dict[str, None] = {}  # ordered, without a scan per membership test
    for d in dirs:
        if not isinstance(d, str) or not d.startswith("/"):
            raise ValueError(f"bad directory {d!r}: must be an absolute path")
        if any(ord(c) < 32 or ord(c) == 127 for c in d):
            raise ValueError(f"bad directory {d!r}: control characters")
        parts = [p for p in d.split("/") if p]
        if ".." in parts:
            raise ValueError(f"bad directory {d!r}: '..' components")
        if not parts or parts == ["."] * len(parts):
            raise ValueError(f"bad directory {d!r}: refusing to chown /")
        out[d] = None
    return list(out)

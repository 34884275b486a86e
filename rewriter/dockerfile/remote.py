"""Files that ``ADD <http(s) url>`` leaves only root can read.

Docker writes a file it downloads for ``ADD`` with mode 600, owned by root (or
by ``--chown``): an image that later switches to another user cannot read it
(docs/pitfalls.md #16).  ``unreadable_downloads`` finds each such file of a
stage's chain that the build leaves at that mode, where it lands (the
destination expanded and made absolute as the model does), and which ones
nobody can place for sure (a destination with a variable that has no value, a
URL that names no file).  Reading only: nothing is fetched.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from rewriter.dockerfile.model import (
    StageInfo,
    commands_named,
    expand,
    may_run,
    run_commands,
    workdir_path,
)
from rewriter.dockerfile.syntax import Instruction

__all__ = ["Download", "unreadable_downloads"]

#: Directories every Linux image with a filesystem has, or that the packages
#: that put files there create: an ``ADD`` to one of them (no trailing ``/``)
#: puts the file inside it, as Docker does with an existing directory.
_KNOWN_DIRS = frozenset({
    "/", "/bin", "/sbin", "/lib", "/lib64", "/etc", "/opt", "/srv", "/tmp", "/var", "/home",
    "/root", "/mnt", "/media", "/run", "/usr", "/usr/bin", "/usr/sbin", "/usr/lib",
    "/usr/lib64", "/usr/share", "/usr/src", "/usr/include", "/usr/local", "/usr/local/bin",
    "/usr/local/sbin", "/usr/local/lib", "/usr/local/share", "/usr/local/src",
    "/usr/local/etc", "/usr/local/include", "/var/lib", "/var/cache", "/var/log", "/var/tmp",
    "/var/run", "/var/spool", "/var/opt", "/etc/ssl", "/etc/ssl/certs", "/etc/profile.d",
    "/etc/default", "/etc/init.d", "/etc/cron.d", "/etc/ld.so.conf.d", "/etc/apt",
    "/etc/apt/trusted.gpg.d", "/etc/apt/sources.list.d", "/etc/apt/keyrings",
    "/usr/share/keyrings", "/usr/local/share/ca-certificates", "/etc/yum.repos.d",
    "/etc/pki", "/etc/pki/rpm-gpg", "/etc/pki/ca-trust/source/anchors",
})
_GLOB = re.compile(r"[*?\[]")
_VAR = re.compile(r"\$(?:\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Download:
    """A file an ``ADD`` downloads: where it lands, or why that is not known."""

    ins: Instruction
    url: str  #: as written
    path: str | None  #: the absolute path of the file; None when it cannot be told
    why: str = ""  #: why ``path`` is None, in words

    def note(self, user: str) -> str:
        """What the user should check, for a download dockfix cannot place."""
        return (f"`ADD {self.url}` (line {self.ins.start_line}) leaves its file at mode 600 "
                f"and {self.why}: check that `{user}` can read it (`chmod a+r` it before `USER`)")


def unreadable_downloads(info: StageInfo, same_user: Callable[[str], bool],
                         owned_trees: tuple[str, ...] = ()) -> list[Download]:
    """The files an ``ADD <http(s) url>`` of ``info``'s chain leaves at mode 600
    that the new user would not read: without ``--chmod``, not ``--chown`` to it
    (``same_user(owner)`` says), not made readable to others by a later ``RUN
    chmod`` (or given to the user by ``chown``), not under ``owned_trees`` (given
    to the user recursively), and not removed by a later ``RUN rm``.  A file
    whose place is not known, or that a later step may move or remove, comes
    back with ``path`` None and ``why`` set."""
    steps = list(info.chain_instructions(oldest_first=True))
    known = set(_KNOWN_DIRS)
    out: list[Download] = []
    for n, (s, ins) in enumerate(steps):
        if ins.cmd in ("ADD", "COPY"):
            found = _downloads(s, ins, known) if ins.cmd == "ADD" else []
            for d in found:
                left = _after(s, d, steps[n + 1:], same_user) if d.path is not None else d
                if left is not None and not (left.path and _under(left.path, owned_trees)):
                    out.append(left)
            _learn_dirs(s, ins, known)
        elif ins.cmd == "WORKDIR":
            _add_dir(known, workdir_path(s, ins, expand(ins.args.strip().strip("\"'"),
                                                        s.env)[0]))
        elif ins.cmd == "RUN":
            for cmd in commands_named(ins, "mkdir"):
                for a in cmd.args_after_name():
                    path, ok = expand(a, s.env)
                    if ok and not a.startswith("-"):
                        _add_dir(known, workdir_path(s, ins, path))
    seen: set[str] = set()
    unique = []
    for d in out:
        key = d.path or f"{id(d.ins)} {d.url}"
        if key not in seen:
            seen.add(key)
            unique.append(d)
    return unique


def _add_dir(known: set[str], path: str) -> None:
    while path not in known:
        known.add(path)
        path = posixpath.dirname(path)


def _learn_dirs(s: StageInfo, ins: Instruction, known: set[str]) -> None:
    """The directories a ``COPY``/``ADD`` leaves (its destination or its parent)."""
    if len(ins.values) < 2 or ins.heredocs:
        return
    dest, ok = expand(ins.values[-1], s.env)
    if not ok:
        return
    path = workdir_path(s, ins, dest)
    _add_dir(known, path if _dir_dest(dest, path, len(ins.values) - 1, known)
             else posixpath.dirname(path))


def _dir_dest(dest: str, path: str, sources: int, known: set[str]) -> bool:
    """The destination is a directory: Docker's rule (a trailing ``/``, more than
    one source) or a directory known to exist there."""
    return (dest.endswith("/") or dest in (".", "..") or dest.endswith(("/.", "/.."))
            or sources > 1 or path in known)


def _is_url(src: str) -> bool:
    """A source BuildKit downloads: ``http(s)://``, but not a Git repository
    (``https://host/repo.git#ref``), which it clones into a directory."""
    if not src.startswith(("http://", "https://")):
        return False
    return not urlsplit(src).path.endswith(".git")


def _downloads(s: StageInfo, ins: Instruction, known: set[str]) -> list[Download]:
    if len(ins.values) < 2 or ins.heredocs or ins.flag("chmod") is not None:
        return []
    sources = ins.values[:-1]
    urls = [u for u in sources if _is_url(u)]
    if not urls:
        return []
    raw_dest = ins.values[-1]
    dest, ok = expand(raw_dest, s.env)
    if not ok:
        return [Download(ins, u, None, f"its destination `{raw_dest}` uses a variable with "
                         "no value") for u in urls]
    path = workdir_path(s, ins, dest)
    if not _dir_dest(dest, path, len(sources), known):
        return [Download(ins, urls[0], path)]
    out = []
    for u in urls:
        url, ok = expand(u, s.env)
        name = posixpath.basename(unquote(urlsplit(url).path)) if ok else ""
        if not ok:
            out.append(Download(ins, u, None, "its file name comes from a variable with no value"))
        elif name in ("", ".", "..") or any(ord(c) < 32 or c == "/" for c in name):
            out.append(Download(ins, u, None, "the URL names no file (the server's reply "
                                "names it)"))
        else:
            out.append(Download(ins, u, posixpath.join(path, name)))
    return out


def _under(path: str, dirs: tuple[str, ...]) -> bool:
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in dirs)


def _after(stage: StageInfo, d: Download, later: list[tuple[StageInfo, Instruction]],
           same_user: Callable[[str], bool]) -> Download | None:
    """``d`` as the steps after its ``ADD`` (of ``stage``) leave it: None when it
    ends readable by the user (or removed); ``path`` None when a step may move
    or remove it."""
    path = d.path or ""
    chown = d.ins.flag("chown")
    readable = chown is not None and same_user(expand(chown.value or "", stage.env)[0])
    for s, ins in later:
        if ins.cmd in ("ADD", "COPY") and len(ins.values) >= 2 and not ins.heredocs:
            dest, ok = expand(ins.values[-1], s.env)
            if ok and workdir_path(s, ins, dest) == path and len(ins.values) == 2 \
                    and not dest.endswith("/"):
                return None  # replaced by another file: that one's mode is its own
            continue
        if ins.cmd != "RUN":
            continue
        for cmd in commands_named(ins, "rm"):
            hit = max((_match(s, ins, a, path, parents=True)
                       for a in cmd.args_after_name() if not a.startswith("-")), default=0)
            if hit == 2:
                return None
            if hit == 1:
                return Download(d.ins, d.url, None, f"line {ins.start_line} may remove it")
        for cmd in commands_named(ins, "mv"):
            words = [a for a in cmd.args_after_name() if not a.startswith("-")]
            if any(_match(s, ins, a, path, parents=True) for a in words[:-1]):
                return Download(d.ins, d.url, None, f"line {ins.start_line} moves it")
        if may_run(ins, _REPLACERS):
            for cmd in run_commands(ins):
                if cmd.name in _REPLACERS and _replaces(s, ins, cmd.name,
                                                        cmd.args_after_name(), path):
                    return Download(d.ins, d.url, None,
                                    f"line {ins.start_line} may remove or rename it "
                                    f"(`{cmd.name}`)")
        for cmd in commands_named(ins, "chmod"):
            argv = cmd.args_after_name()
            words = [a for a in argv if not a.startswith("-") or _MODE.fullmatch(a)]
            if len(words) < 2:
                continue
            recursive = any(a in ("-R", "--recursive") for a in argv)
            if any(_match(s, ins, a, path, parents=recursive) == 2 for a in words[1:]):
                grants = _others_read(words[0])
                if grants is not None:
                    readable = grants
        for cmd in commands_named(ins, "chown"):
            argv = cmd.args_after_name()
            words = [a for a in argv if not a.startswith("-")]
            recursive = any(a in ("-R", "--recursive") for a in argv)
            if len(words) >= 2 and same_user(
                    expand(words[0], s.env)[0]) and any(
                    _match(s, ins, a, path, parents=recursive) == 2 for a in words[1:]):
                readable = True
    return None if readable else d


#: programs that may remove or rename a file they are given: a decompressor
#: replaces ``x.gz`` with ``x`` (unless told to keep it), ``find -delete``
_REPLACERS = ("gunzip", "gzip", "bunzip2", "bzip2", "unxz", "xz", "unlzma", "lzma",
              "uncompress", "unlink", "shred", "find")
_KEEP = frozenset({"-k", "--keep", "-c", "--stdout", "--to-stdout", "-l", "--list",
                   "-t", "--test"})
_FIND_DELETE = frozenset({"-delete", "rm", "-exec", "-execdir"})

def _replaces(s: StageInfo, ins: Instruction, name: str, argv: list[str], path: str) -> bool:
    """Whether the command ``name argv`` (one of ``_REPLACERS``) may remove ``path``."""
    if _KEEP & set(argv) or (name == "find" and not _FIND_DELETE & set(argv)):
        return False
    finds = name == "find"
    return any(_match(s, ins, a, path, parents=finds) or (finds and a == "/")
               for a in argv if not a.startswith("-"))


#: a symbolic mode that starts with ``-`` (``chmod -w f``), not an option
_MODE = re.compile(r"-[rwxXst]+")


def _match(s: StageInfo, ins: Instruction, arg: str, path: str, *, parents: bool) -> int:
    """Whether the word ``arg`` of a command names ``path`` (or, with
    ``parents``, a directory above it): 2 surely, 1 perhaps (a variable with no
    value, a relative path after a ``cd``), 0 not."""
    value, ok = expand(arg, s.env)
    candidates = [path]
    if parents:
        p = path
        while posixpath.dirname(p) != p:
            p = posixpath.dirname(p)
            candidates.append(p)
        candidates.remove("/")
    if not ok:
        pattern = _VAR.sub("*", arg)
        return 1 if any(fnmatch.fnmatchcase(c, pattern) for c in candidates) else 0
    if not value or value.startswith("-"):
        return 0
    pattern = workdir_path(s, ins, value) if not _GLOB.search(value) else (
        value if value.startswith("/") else posixpath.normpath(
            posixpath.join(workdir_path(s, ins, "."), value)))
    if any(fnmatch.fnmatchcase(c, pattern) for c in candidates):
        return 2
    if not value.startswith("/"):
        # relative: a `cd` earlier in the RUN may have moved it
        rel = "*/" + value.rstrip("/")
        if any(fnmatch.fnmatchcase(c, rel) for c in candidates):
            return 1
    return 0


def _others_read(mode: str) -> bool | None:
    """What ``chmod MODE`` does to others' read permission: True gives it, False
    takes it, None leaves it (or cannot tell)."""
    if re.fullmatch(r"[0-7]{1,4}", mode):
        return bool(int(mode[-1]) & 4)
    result: bool | None = None
    for clause in mode.split(","):
        m = re.fullmatch(r"([ugoa]*)((?:[-+=][rwxXst]*)+)", clause)
        if m is None:
            return None
        who = m.group(1)
        if who and not set(who) & {"o", "a"}:
            continue
        for op, perms in re.findall(r"([-+=])([rwxXst]*)", m.group(2)):
            if op == "+" and "r" in perms:
                result = True
            elif op == "=":
                result = "r" in perms
            elif op == "-" and "r" in perms:
                result = False
    return result

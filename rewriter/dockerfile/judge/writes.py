"""Checks of the paths the process writes: root-owned paths its command, its scripts,
its program's source or a Skaffold sync write, and relative paths written in the
working directory.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable

from rewriter.core.globs import fnmatch
from rewriter.dockerfile.analysis import Context
from rewriter.dockerfile.model import StageInfo
from rewriter.dockerfile.paths import (
    app_trees, build_databases, command_relative_stores, config_writes, final_workdir, owned_by_file,
    run_dir, shared_dir, writable_dirs)
from rewriter.dockerfile.syntax import Instruction
from rewriter.dockerfile.usage import skaffold_artifacts, skaffold_own
from rewriter.dockerfile.judge.knowledge import Judgement, _Knowledge
from rewriter.dockerfile.judge.evidence import (
    _cite, _Command, _df_name, _in_shell_comment, _ins_cite, _program_name, _SHELLS)
from rewriter.dockerfile.judge.context import _scripts
from rewriter.dockerfile.judge.source import _program_sources, _source_writes
from rewriter.dockerfile.judge.groupzero import joins_group_zero


#: where a command or script writes: ``> /p``, ``>> /p``, ``tee [-a] /p``,
#: ``touch /p``, ``mkdir [-p] /p``, ``git clone URL /p``
_WRITE = (
    r"(?:(?:(?<![0-9&<>])|(?<![\w&<>])[0-9])>>?\s*|\btee\s+(?:-a\s+)?|\btouch\s+|\bmkdir\s+(?:-p\s+|-m\s*\S+\s+)*|"
    r"\bgit\s+clone\s+(?:-\S+\s+(?:\S+\s+)?)*[^\s-]\S*\s+)['\"]?(/[\w.@%+-][\w./@%+-]*)")
#: paths any user may write
_SCRATCH = ("/dev/", "/proc/self/", "/tmp/", "/var/tmp/", "/dev/shm/")


def _root_owned_writes(ctx: Context, info: StageInfo, command: _Command,
                       copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """The command or its entrypoint script writes a path that a fix would
    leave root-owned (outside the app's directories, its volumes and /tmp)."""
    owned = writable_dirs(info, workdir=info.family.shell)

    def root_owned(path: str) -> bool:
        path = posixpath.normpath(path)
        if path in ("/tmp", "/var/tmp", "/dev/null") or path.startswith(_SCRATCH):
            return False
        if any(path == d or path.startswith(d.rstrip("/") + "/") for d in owned) \
                or owned_by_file(info, path):
            return False
        zero = joins_group_zero(ctx, info)  # made writable to group 0, which the user joins
        return zero is None or not zero.covers(path)

    sources: list[tuple[str, str]] = []
    line = ""
    if command.ins is not None:
        line = " ".join(command.words) if command.ins.json else command.ins.args
        sources.append((_df_name(ctx), line))
    sources += _scripts(ctx, info, command, copied)
    for path, ins in config_writes(info):
        if root_owned(path):
            return Judgement("writes-root-owned-path", "app",
                             f"the build sets `{path}` in a configuration, which the program "
                             f"writes at start; `{posixpath.dirname(path)}` is root's, and a fix "
                             "that moved it would change the configuration",
                             (_ins_cite(ctx, ins),),
                             "point the configuration at a directory the user owns (or at "
                             "stdout), then add USER")
    relative = _relative_writes(info, command, line, _scripts(ctx, info, command, copied))
    if relative is not None:
        path, text, pos, target = relative
        if root_owned(target):
            in_command = text is line
            cwd = posixpath.dirname(target)
            shown = re.compile(_RELATIVE_WRITE).match(text, pos).group(0).strip()  # type: ignore[union-attr]
            where = (f"the command writes a file with `{shown}`" if in_command else
                     f"the entrypoint script `{path}` writes a file with `{shown}` at start")
            return Judgement("writes-root-owned-path", "app",
                             f"{where} into its working directory `{cwd}`, which would stay "
                             "root-owned for a new user",
                             (_ins_cite(ctx, command.ins) if in_command and command.ins is not None
                              else _cite(path, text, pos),),
                             "write under a directory the user owns (set a WORKDIR the fix can "
                             "give it, or redirect to /dev/null), then add USER")
    for target, cite, what in _source_writes(ctx, info, command, copied):
        if root_owned(target):
            return Judgement("writes-root-owned-path", "app",
                             what.format(f"`{target}`") + ", which would stay root-owned for "
                             "a new user", (cite,),
                             f"give `{target}` to the user in the Dockerfile (or make the "
                             "program write under the app's directory), then add USER")
    for path, ins in build_databases(info):
        if root_owned(path):
            return Judgement("writes-root-owned-path", "app",
                             f"the build creates the database `{path}` as root in "
                             f"`{posixpath.dirname(path)}`, a directory a fix cannot give to a "
                             "new user: the program writes it, and its journal beside it, at "
                             "run time",
                             (_ins_cite(ctx, ins),),
                             "create the database under a directory of the app's own (or a "
                             "VOLUME), then add USER")
    synced = _skaffold_sync(ctx, info, copied, root_owned)
    if synced is not None:
        return synced
    for flag, value, ins in command_relative_stores(info):
        cwd = run_dir(info) or "/"
        if root_owned(posixpath.normpath(posixpath.join(cwd, value))):
            return Judgement("writes-root-owned-path", "app",
                             f"the command's `{flag}` names `{value}`, relative to its working "
                             f"directory `{cwd}`, which a fix cannot give to a new user",
                             (_ins_cite(ctx, ins),),
                             "set a WORKDIR of the app's own (or an absolute path under a "
                             "directory the user owns), then add USER")
    source = _source_relative_write(info, _program_sources(ctx, info, command, copied)
                                    + _scripts(ctx, info, command, copied))
    if source is not None:
        path, text, pos, target = source
        if root_owned(target):
            cwd = run_dir(info) or "/"
            return Judgement("writes-root-owned-path", "app",
                             f"the program `{path}` writes `{posixpath.relpath(target, cwd)}` "
                             f"relative to its working directory `{cwd}`, which a fix cannot "
                             "give to a new user",
                             (_cite(path, text, pos),),
                             "set a WORKDIR of the app's own (or make the path absolute, under "
                             "a directory the user owns), then add USER")
    for path, text in sources:
        for m in re.compile(_WRITE).finditer(text):
            target = m.group(1)
            if not root_owned(target) or _in_shell_comment(text, m.start()):
                continue
            in_command = command.ins is not None and text is line
            where = (f"the command writes `{target}`" if in_command else
                     f"the entrypoint script `{path}` writes `{target}` at start")
            cite = _ins_cite(ctx, command.ins) if in_command and command.ins is not None \
                else _cite(path, text, m.start())
            return Judgement("writes-root-owned-path", "app",
                             f"{where}, which would stay root-owned for a new user",
                             (cite,),
                             f"give `{posixpath.dirname(target) or target}` to the user in the "
                             "Dockerfile (or write under the app's directory), then add USER")
    return None


def _skaffold_sync(ctx: Context, info: StageInfo, copied: list[tuple[str, str, Instruction]],
                   root_owned: Callable[[str], bool]) -> Judgement | None:
    """A skaffold.yaml artifact that builds this Dockerfile syncs files into
    the running container (``sync: manual:`` to its ``dest:``, relative to the
    WORKDIR; ``sync: infer:`` to where the Dockerfile COPYs them). skaffold
    extracts them there as the container's user, so a destination a fix leaves
    root-owned (``/``, a system directory) breaks the sync."""
    build = ctx.build
    arts = skaffold_own(build, skaffold_artifacts(build))
    if not arts:
        return None
    wd = final_workdir(info) or "/"
    for art in arts:
        targets = [(posixpath.normpath(posixpath.join(wd, dest)), line, text)
                   for line, text, dest in art.sync_dests if dest and "$" not in dest]
        for line, text, pattern in art.sync_infer:
            for src, dest, copy in copied:
                if copy.flag("from") is not None:
                    continue  # skaffold infers only what the file copies from its context
                rel = posixpath.relpath(src, art.context or ".")
                if build is not None and build.is_dir(src):
                    targets.append((dest, line, text))  # `COPY . /app`: its files go under it
                elif any(fnmatch(rel, p) for p in (pattern, pattern.removeprefix("**/"))):
                    same = posixpath.basename(dest) == posixpath.basename(src)
                    targets.append((posixpath.dirname(dest) if same else dest, line, text))
        for target, line, text in targets:
            if root_owned(posixpath.join(target, "synced")):
                return Judgement("writes-root-owned-path", "app",
                                 f"`{art.path}` syncs files into the running container at "
                                 f"`{target}`, which skaffold writes as the container's user: "
                                 "a new user could not write there, and the sync would fail",
                                 (f"{art.path}:{line}: {text}",),
                                 "sync into a directory of the app's own (a WORKDIR the fix "
                                 "gives the user), then add USER")
    return None


#: a redirect or ``tee`` into a relative file: ``> out.log``, ``2>> err``,
#: ``> -`` (in sh, a file named ``-``)
_RELATIVE_WRITE = (r"(?:(?<![\w&<>$=-])[0-9]?>>?|\btee\s+(?:-a\s+)?)[ \t]*(?!&)['\"]?"
                   r"([\w.@%+-][\w./@%+-]*)")


def _quoted(text: str, pos: int) -> bool:
    """Whether ``pos`` is inside quotes on its line (a ``>`` in a message)."""
    start = text.rfind("\n", 0, pos) + 1
    single = double = False
    i = start
    while i < pos:
        c = text[i]
        if c == "\\" and not single:
            i += 2
            continue
        if c == "'" and not double:
            single = not single
        elif c == '"' and not single:
            double = not double
        i += 1
    return single or double


def _relative_writes(info: StageInfo, command: _Command, line: str,
                     scripts: list[tuple[str, str]]) -> tuple[str, str, int, str] | None:
    """(where, text, offset, absolute path) of the first relative file the
    command (in shell form, or a shell's ``-c`` text) or an entrypoint script
    that never changes directory writes: it lands in the run directory (the
    directory the command changes into, else the WORKDIR; ``/`` when the file
    sets neither)."""
    cwd = run_dir(info) or "/"
    texts: list[tuple[str, str]] = []
    if command.ins is not None and not command.ins.json:
        texts.append(("", line))
    elif command.ins is not None and "-c" in command.words and \
            _program_name(command.program) in _SHELLS:
        texts.append(("", line))
    texts += [(p, t) for p, t in scripts
              if (p.endswith((".sh", ".bash")) or re.match(r"#!\s*\S*/(?:env\s+)?(?:ba|da|a)?sh\b", t))
              and not re.search(r"(?m)(?:^|[;&|(]|\bthen|\bdo)\s*(?:cd|pushd)\b", t)]
    for path, text in texts:
        for m in re.compile(_RELATIVE_WRITE).finditer(text):
            target = m.group(1)
            if target.startswith("-") and target != "-" or target.isdigit() or (m.group(0).lstrip().startswith("tee")
                                                            and target == "-"):
                continue
            if _quoted(text, m.start()) or _in_shell_comment(text, m.start()):
                continue
            return path, text, m.start(), posixpath.normpath(posixpath.join(cwd, target))
    return None


#: a relative path as a source file's string literal: ``'logs'``, ``"./data/"``,
#: ``'../out.csv'`` (no URL, variable, format field or home)
_REL_LITERAL = r"""(?P<q>['"`])(?P<rel>(?:\.{1,2}/)*[\w][\w.-]*(?:/[\w.-]+)*/?)(?P=q)"""
#: calls of a program's own source that write a path (Python, JavaScript, Ruby):
#: ``open('out.txt', 'w')``, ``os.makedirs('logs')``, ``SummaryWriter('./logs')``,
#: ``logging.FileHandler('app.log')``, ``sqlite3.connect('app.db')``,
#: ``fs.writeFileSync('x.json', ...)``, ``multer({dest: 'uploads/'})``,
#: ``File.write('x', ...)``
_SOURCE_WRITES = (
    r"(?P<call>\bopen\(|\bos\.(?:makedirs|mkdir)\("
    r"|\b(?:SummaryWriter|FileHandler|RotatingFileHandler|TimedRotatingFileHandler)\(\s*"
    r"(?:(?:log_?dir|filename)\s*=)?"
    r"|\bbasicConfig\([^)]*?\bfilename\s*=|\bsqlite3\.connect\("
    r"|\bfs\.(?:writeFile|appendFile|mkdir|createWriteStream)(?:Sync)?\("
    r"|\bmulter\(\s*\{[^}]*?\bdest\s*:|\bnew\s+(?:sqlite3\.)?Database\("
    r"|\bFile\.(?:write|open)\(|\b(?:os|ioutil)\.(?:MkdirAll|Mkdir|Create|WriteFile)\()\s*"
    + _REL_LITERAL +
    r"(?P<mode>\s*,\s*(?:mode\s*=\s*)?['\"][rb+]*[wax])?"
)
_SOURCE_SUFFIXES = (".py", ".js", ".mjs", ".cjs", ".ts", ".rb", ".go")


def _source_relative_write(info: StageInfo, scripts: list[tuple[str, str]]
                           ) -> tuple[str, str, int, str] | None:
    """(file, text, offset, absolute path) of the first relative path that a
    source file the command runs (``python /var/train.py``, ``node server.js``)
    writes, outside comments: it lands in the run directory."""
    cwd = run_dir(info) or "/"
    for path, text in scripts:
        if not path.endswith(_SOURCE_SUFFIXES):
            continue
        for m in re.compile(_SOURCE_WRITES).finditer(text):
            rel = m.group("rel")
            if m.group("call").endswith("open(") and not m.group("mode"):
                continue  # opened for reading
            start = text.rfind("\n", 0, m.start()) + 1
            if re.match(r"\s*(?:#|//|\*)", text[start:m.start()]) or rel in (".", "..") \
                    or rel.lower() in ("memory", "nul"):
                continue
            return path, text, m.start(), posixpath.normpath(posixpath.join(cwd, rel))
    return None


def _default_data(ctx: Context, info: StageInfo, command: _Command,
                  copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """A server that keeps its data relative to its working directory by
    default (``relative_data`` in ``judge.toml``: etcd's ``default.etcd``),
    with no flag or variable that moves it, in a working directory a fix
    leaves root-owned: none set (``/``), a system one, or any on ``scratch``
    (no shell to chown with)."""
    if command.ins is None:
        return None
    prog = _program_name(command.program)
    entry = k.relative_data.get(prog)
    if entry is None:
        return None
    path, flags, env = entry
    if any(w.split("=", 1)[0] in flags for w in command.words) or \
            any(info.env.get(name) for name in env):
        return None
    cwd = run_dir(info) or "/"
    target = posixpath.normpath(posixpath.join(cwd, path))
    scratch = info.chain[-1].base.lower() == "scratch"
    if not scratch and shared_dir(target):
        return None  # every user may write there (scratch has no /tmp at all)
    if not scratch and (cwd != "/" or path.startswith("/")):
        owned = writable_dirs(info, workdir=info.family.shell) + app_trees(info)
        if any(target == d or target.startswith(d.rstrip("/") + "/") for d in owned) or \
                owned_by_file(info, target) or (
                    not path.startswith("/") and owned_by_file(info, cwd)):
            return None
    where = "`/`, as the file sets no WORKDIR" if cwd == "/" else f"`{cwd}`"
    said = (f"`{prog}` keeps its data in `{path}` by default, a path a fix leaves root-owned"
            if path.startswith("/") else
            f"`{prog}` keeps its data in `{path}` under its working directory by "
            f"default, here {where}, which a fix leaves root-owned")
    return Judgement("writes-root-owned-path", "app", said
                     + (" (on `scratch` there is no shell to chown it)" if scratch else "")
                     + f", and nothing moves it ({', '.join(f'`{f}`' for f in sorted(flags))})",
                     (_ins_cite(ctx, command.ins),),
                     f"give it a data directory the user owns ({sorted(flags)[0]}), then add USER")

"""Checks of host directories mounted into the container: bind mounts of compose
services, documented runs and Kubernetes pods, and a project mounted from the host
into an empty WORKDIR (a project tool, a generator, a WORKDIR that is a VOLUME).
"""

from __future__ import annotations

import posixpath
import re

from rewriter.core.globs import fnmatch
from rewriter.dockerfile.analysis import Context
from rewriter.dockerfile.model import StageInfo, expand, workdir_path
from rewriter.dockerfile.paths import SOURCE_DIRS, app_trees, final_workdir, run_dir, writable_dirs
from rewriter.dockerfile.shell import programs
from rewriter.dockerfile.syntax import Instruction
from rewriter.io.context import dockerfile_dir
from rewriter.dockerfile.judge.knowledge import Judgement, _Knowledge
from rewriter.dockerfile.judge.evidence import _cite, _Command, _ins_cite, _program_name, _SHELLS, _WRAPPERS
from rewriter.dockerfile.judge.context import (
    _compose_volumes, _own_script, _pod_volumes, _runs, _services)


def _written(info: StageInfo, target: str) -> bool:
    """``target`` is the WORKDIR, or in a directory the app writes (its trees,
    volumes, the data dirs it creates)."""
    target = posixpath.normpath(target)
    wd = final_workdir(info)
    dirs = writable_dirs(info, workdir=True) + ([wd] if wd and wd != "/" else [])
    return any(target == d or target.startswith(d.rstrip("/") + "/") for d in dirs)


def _bind_mounts(ctx: Context, info: StageInfo, command: _Command,
                 copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """A host directory is mounted read-write where the app writes (a
    compose file's working tree anywhere; a documented ``docker run``'s host
    directory, the working tree included, onto the WORKDIR, a directory the app
    writes or a path its command names): the container writes into host-owned files, and
    Docker creates a missing host directory owned by root. A new user can write
    them only if its uid owns them on the host."""
    build = ctx.build
    hint = ("set `user:` (or `docker run -u`) to the host owner's uid, or use a named volume")
    for path, block, at in _services(ctx, command):
        full = build.read_text(path) if build else None
        for src, dst, ro, pos in _compose_volumes(block):
            if ro or not src.startswith((".", "/", "~", "$")):
                continue
            if src.startswith("/") and (src.endswith(".sock") or not _written(info, dst)):
                continue
            if full is not None:
                return Judgement("host-bind-mount", "app",
                                 f"`{path}` mounts the host's `{src}` at `{dst}`: "
                                 "a new user can write it only if its uid owns it on the host",
                                 (_cite(path, full, at + pos),), hint)
    for run in _runs(ctx, command):
        if run.user:
            continue
        for mount in run.mounts:
            if not mount.bind or mount.read_only:
                continue
            named = any(w == mount.target or w.startswith(mount.target.rstrip("/") + "/")
                        for w in command.words)
            # `-v $(pwd):/workdir -w /workdir`: the program works in the host's
            # directory, where a tool's output lands
            works_there = run.workdir is not None and \
                run.workdir.rstrip("/") == mount.target.rstrip("/")
            # a generator, converter or in-place file tool (protoc, pandoc,
            # fdupes, `prettier --write`) works on the files the run gives it:
            # those it mounts
            # (not a socket, the X display's or the system's: no files to work on)
            tool = None if re.match(_NOT_FILES, mount.source) or \
                mount.source.endswith(".sock") else \
                _file_tool(ctx, info, command, copied, k, run.command)
            if tool is not None:
                what = "the working tree" if mount.working_tree else f"the host's `{mount.source}`"
                return Judgement("host-bind-mount", "app",
                                 f"the container runs `{tool[0]}`, a one-shot tool whose job "
                                 f"is writing files, and its documented `docker run` mounts "
                                 f"{what} at `{mount.target}` for it to work on: its output "
                                 "lands in host-owned files, which a new user can write only "
                                 "if its uid owns them",
                                 tuple(dict.fromkeys((run.cite(mount.target), *tool[1]))),
                                 _FILE_TOOL_HINT)
            if _written(info, mount.target) or named or works_there:
                what = "the working tree" if mount.working_tree else f"`{mount.source}`"
                return Judgement("host-bind-mount", "app",
                                 f"its documented `docker run` mounts {what} at `{mount.target}`, "
                                 "where the container writes host-owned files: a new user can "
                                 "write them only if its uid owns them on the host",
                                 (run.cite(mount.target),), hint)
    for vol in _pod_volumes(ctx, command):
        if vol.read_only or vol.source.startswith(("/proc", "/sys", "/dev")) or \
                vol.source.endswith(".sock"):
            continue
        where = f" read-write at `{vol.target}`" if vol.target else " read-write"
        owner = "the NFS server" if vol.kind == "nfs" else "the host"
        return Judgement("host-bind-mount", "app",
                         f"`{vol.path}` runs it in a Kubernetes pod that mounts {owner}'s "
                         f"`{vol.source}` ({vol.kind}){where}: a new user can write there only "
                         f"if its uid owns the directory on {owner}",
                         (vol.cite(),), "leave it as root, or set the pod's "
                         "`securityContext.runAsUser` to the owner of the directory")
    prog = _program_name(command.program)
    if command.ins is not None and prog in k.storage_provisioners:
        return Judgement("host-bind-mount", "app",
                         f"the container runs `{prog}`, a Kubernetes storage provisioner: it "
                         "makes, chowns and removes a directory per volume in the export "
                         "mounted into its pod (a hostPath or NFS share, root-owned on the "
                         "host or the NFS server), which only root may",
                         (_ins_cite(ctx, command.ins),), "leave it as root, as it is deployed")
    return None


#: host paths that hold no files for a tool to work on: sockets, devices, the
#: system's configuration (``/etc/localtime``), the X display's socket directory
_NOT_FILES = r"^/(?:proc|sys|dev|run|var/run|etc|tmp/\.X11-unix)(?:/|$)"
#: what a file tool's decline asks of its users
_FILE_TOOL_HINT = ("run it with `--user $(id -u):$(id -g)` so its output belongs to you "
                   "(compose: `user:`), and leave the image's user as it is")
#: commands a script or shell line may end with after its program, which change nothing
_AFTERWARDS = frozenset({"echo", "printf", "true", "exit", "fi", "done", "esac", "}", "wait",
                         "ls", "cat", "sync", "return"})


def _last_program(text: str) -> tuple[str, list[str]] | None:
    """The last command a shell text runs (past what only reports or ends a
    block: ``echo``, ``fi``, ``exit``), as (program, arguments)."""
    found = None
    for prog, args in programs(text):
        if prog not in _AFTERWARDS and prog not in ("cd", "export", "set", "source", ".",
                                                     "umask", "ulimit", "shift"):
            found = (prog, args)
    return found


def _tool_mode(name: str, args: list[str] | tuple[str, ...], k: _Knowledge) -> bool:
    """``name`` run with ``args`` is a file tool writing files: a converter or
    generator (``file_tools``), or a tool in a mode that writes (``prettier
    --write``, ``hugo`` but not ``hugo server``: ``file_tool_modes``)."""
    if name in k.file_tools:
        return True
    mode = k.file_tool_modes.get(name)
    if mode is None:
        return False
    writes, never = mode
    # a subcommand (`hugo server`, `terraform fmt`) or an option (`--write`,
    # `--convert-to=pdf`) anywhere in its arguments
    words = {a.split("=", 1)[0] for a in args}
    return (not writes or bool(words & writes)) and not (words & never)


def _file_tool(ctx: Context, info: StageInfo, command: _Command,
               copied: list[tuple[str, str, Instruction]], k: _Knowledge,
               extra: tuple[str, ...] = ()) -> tuple[str, tuple[str, ...]] | None:
    """(tool, evidence) when the container's own program is a file tool in a
    mode that writes files (:func:`_tool_mode`): its ENTRYPOINT/CMD program,
    the last command of its shell line, or the program the entrypoint script
    it runs (as the context holds it) ends by exec-ing. ``extra``: the words a
    documented run gives it. A program the image names by a relative path
    (``./convert``) is its own, not the tool of that name."""
    if command.ins is None or not command.program:
        return None
    text = command.program if re.search(r"\s", command.program) else \
        " ".join(command.words[command.words.index(command.program):]
                 if command.program in command.words else [command.program])
    last = _last_program(text)
    if last is None:
        return None
    prog, args = last
    word = next((w for w in text.split() if posixpath.basename(w.strip("'\"")) == prog), prog)
    if "/" in word and not word.startswith("/"):
        return None
    if _tool_mode(prog, [*args, *extra], k):
        return prog, (_ins_cite(ctx, command.ins),)
    script = _own_script(ctx, info, command, copied)
    if script is None:
        return None
    path, body = script
    lines = body.splitlines()
    code = "\n".join("" if ln.lstrip().startswith("#") else ln for ln in lines)
    last = _last_program(code)
    if last is None or not _tool_mode(last[0], [*last[1], *extra], k):
        return None
    at = max((i for i, ln in enumerate(lines, 1)
              if re.search(r"(?<![\w.-])" + re.escape(last[0]) + r"(?![\w.-])", ln)
              and not ln.lstrip().startswith("#")), default=1)
    return last[0], (_ins_cite(ctx, command.ins), f"{path}:{at}: {lines[at - 1].strip()[:100]}")


def _file_tool_output(ctx: Context, info: StageInfo, command: _Command,
                      copied: list[tuple[str, str, Instruction]],
                      k: _Knowledge) -> Judgement | None:
    """The container's own program is a file tool (:func:`_file_tool`: a
    converter, a generator, a formatter that rewrites files, a static site
    build), run as a one-shot command (no EXPOSE: it serves nothing), and its
    output lands where a fix cannot make it the new user's: the file sets no
    WORKDIR (the run directory is root-owned ``/``, or a host directory the run
    mounts with ``-w``), its WORKDIR is a system or build directory the fix
    leaves root-owned (``/tmp/tool/src``), or the build puts nothing in its
    WORKDIR (the host's files are mounted there). A tool working on files its
    image holds, in a WORKDIR the fix owns, is fixed."""
    found = _file_tool(ctx, info, command, copied, k)
    if found is None or any(i.cmd == "EXPOSE" for s in info.chain for i in s.stage.instructions):
        return None
    tool, cites = found
    # the documented runs that mount a host directory (read-only, or with --user) are
    # evidence too: the files it works on are the host's
    runs = tuple(dict.fromkeys(run.cite(m.target) for run in _runs(ctx, command)
                               for m in run.mounts if m.bind))[:2]
    evidence = tuple(dict.fromkeys((*cites, *runs)))
    cwd = run_dir(info)
    if cwd is None or cwd == "/":
        if cwd is None and any(w.startswith("/") for w in command.words[
                command.words.index(command.program) + 1:] if command.program in command.words):
            return None  # it names its own files: where they are is where it writes
        return Judgement("host-bind-mount", "app",
                         f"the container runs `{tool}`, a one-shot tool whose job is writing "
                         "files in its working directory or beside the files it is given, and "
                         "the file sets no WORKDIR: it works in root-owned `/`, or in a host "
                         "directory mounted at run time (`-v \"$PWD\":/work -w /work`), and a "
                         "new user can write neither", evidence, _FILE_TOOL_HINT)
    if cwd in ("/tmp", "/var/tmp"):
        return None
    # what a fix owns: each of those directories, and the app's trees with all
    # they hold; on scratch, nothing (no RUN to chown with)
    scratch = info.chain[-1].base.lower() == "scratch"
    owned = [] if scratch else writable_dirs(info, workdir=True)
    trees = [] if scratch else app_trees(info)
    if cwd not in owned and not any(cwd.startswith(d.rstrip("/") + "/") for d in trees):
        return Judgement("host-bind-mount", "app",
                         f"the container runs `{tool}`, a one-shot tool whose job is writing "
                         f"files in its working directory, and that directory, `{cwd}`, is "
                         "none that a fix would own" + (" (on `scratch`, with no shell to "
                         "chown it)" if scratch else "") + ": it stays root-owned, "
                         "or the files the tool is given are mounted there from the host, "
                         "where a new user can write only if its uid owns them",
                         evidence, _FILE_TOOL_HINT)
    where = _left_empty(info, cwd, ctx=ctx)
    if where is not None:
        return Judgement("host-bind-mount", "app",
                         f"the container runs `{tool}`, a one-shot tool whose job is writing "
                         f"files in its working directory `{cwd}`, and the build puts nothing "
                         "there: the files it works on are the host's, mounted at run time "
                         f"(`-v \"$PWD\":{cwd}`), where a new user can write only if its uid "
                         "owns them", (*evidence, _ins_cite(ctx, where)), _FILE_TOOL_HINT)
    return None


#: a source file an interpreter or tool is given by a relative path (``manage.py``,
#: ``linux/mkall.go``): it is read from the working directory
_PROJECT_FILE = (r"^(?:\./)?(?:[\w.-]+/)*[\w-][\w.-]*\.(?:py|js|mjs|cjs|ts|rb|php|go|"
                 r"pl|lua|jar|R|jl|exs?|clj|scala|groovy)$")
#: what a build step may run in the working directory without putting files there
_SYSTEM_STEPS = frozenset({"apt-get", "apt", "apk", "yum", "dnf", "microdnf", "zypper", "rm",
                           "echo", "set", "true", "export", "locale-gen", "localedef",
                           "update-ca-certificates", "dpkg-reconfigure", "ln", "useradd",
                           "groupadd", "adduser", "addgroup", "chmod", "chown", "gem"})


def _mounted_project(ctx: Context, info: StageInfo, command: _Command,
                     copied: list[tuple[str, str, Instruction]],
                     k: _Knowledge) -> Judgement | None:
    """The command works on a project in its WORKDIR (``rails server``, ``ant``,
    ``jekyll serve``, ``go run main.go``), or the file declares a VOLUME for
    sources (``VOLUME /src``), and the build puts nothing there: the project is
    the host's directory, mounted there at run time, and what the tool writes
    into it (pid files, caches, build output) lands in host-owned files that a
    new user can write only if its uid owns them on the host."""
    if command.ins is None:
        return None
    hint = ("leave the user to the run: `docker run --user \"$(id -u):$(id -g)\"` "
            "(compose: `user:`) writes as the host's owner")
    wd = final_workdir(info)
    need = _project_need(command, k)
    # a generator or converter (protoc, pandoc) works on files, not a project
    what = "the files" if need is not None and need.split()[0] in k.file_tools else "a project"
    if what == "the files":
        hint = _FILE_TOOL_HINT
    if wd is not None and need is not None and wd not in ("/", "/tmp", "/var/tmp") and \
            not (wd == "/root" or wd.startswith("/root/")):
        where = _left_empty(info, wd)
        if where is not None and where.cmd == "WORKDIR":
            return Judgement("host-bind-mount", "app",
                             f"the container runs `{need}`, which works on {what} in its "
                             f"working directory `{wd}`, and the build puts nothing there: the "
                             f"{what.split()[-1]} {'are' if what == 'the files' else 'is'} "
                             "mounted from the host at run time, where a new user "
                             "can write only if its uid owns the files",
                             (_ins_cite(ctx, command.ins), _ins_cite(ctx, where)), hint)
    if wd is None and need is not None and _official(info) and not any(
            i.cmd in ("COPY", "ADD", "ONBUILD") for s in info.chain for i in s.stage.instructions):
        return Judgement("host-bind-mount", "app",
                         f"the container runs `{need}`, which works on {what} in its working "
                         "directory, and the file sets no WORKDIR and copies nothing in: the "
                         f"{what.split()[-1]} {'are' if what == 'the files' else 'is'} the "
                         "host's, mounted at run time (`-v \"$PWD\":/work -w /work`), where a "
                         "new user can write only if its uid owns the files",
                         (_ins_cite(ctx, command.ins),), hint)
    if wd is None and need is not None and what == "the files" and _official(info) and \
            not any(a.startswith("/") for a in command.words[command.words.index(
                command.program) + 1:] if command.program in command.words) and \
            not any(i.cmd in ("ONBUILD", "EXPOSE") for s in info.chain
                    for i in s.stage.instructions):
        # what it copies in is the tool itself (`COPY --from=build /out/ /`):
        # the files it works on are the ones `docker run` gives it
        return Judgement("host-bind-mount", "app",
                         f"the container runs `{need}`, which writes its output beside the "
                         "files it is given, and the file sets no WORKDIR, serves nothing and "
                         "names no file of its own: the files are the host's, mounted at run "
                         "time (`-v \"$PWD\":/work -w /work`), where a new user can write only "
                         "if its uid owns them", (_ins_cite(ctx, command.ins),), hint)
    tool = _volume_workdir_tool(ctx, info, command, k, wd)
    if tool is not None:
        return Judgement("host-bind-mount", "app",
                         f"the container runs `{tool[0]}` in `{wd}`, which is both its WORKDIR "
                         "and a VOLUME that the build leaves empty, and it serves nothing (no "
                         f"EXPOSE): a tool run on the host's files mounted there (`-v "
                         f"\"$PWD\":{wd}`), where a new user can write only if its uid owns them",
                         (_ins_cite(ctx, tool[1]), _ins_cite(ctx, tool[2]),
                          _ins_cite(ctx, command.ins)), hint)
    volume = _workdir_volume(info, wd)
    if volume is not None:
        return Judgement("host-bind-mount", "app",
                         f"the working directory `{wd}` is also a VOLUME: the container works "
                         "in a directory meant to be mounted at run time (a checkout, a "
                         "workspace, a data folder), and a host directory mounted there keeps "
                         "its host owner, which a new user can write only if its uid owns it",
                         (_ins_cite(ctx, volume),
                          *((_ins_cite(ctx, command.ins),) if command.ins else ())), hint)
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd != "VOLUME":
                continue
            for v in ins.values:
                path = posixpath.normpath(expand(v, s.env)[0])
                if posixpath.dirname(path) == "/" and path[1:] in SOURCE_DIRS and \
                        _left_empty(info, path) is not None:
                    return Judgement("host-bind-mount", "app",
                                     f"`VOLUME {path}` is where the host's sources are mounted "
                                     "(the build puts nothing there), and what the tool writes "
                                     "into them is host-owned: a new user can write it only if "
                                     "its uid owns the files", (_ins_cite(ctx, ins),), hint)
    return None


#: a program named as a server or daemon (``redis-server``, ``mongod``, ``etcd``)
_DAEMON_NAME = r"(?:server|daemon|[a-z0-9]{2,}d)$"


def _volume_workdir_tool(ctx: Context, info: StageInfo, command: _Command, k: _Knowledge,
                         wd: str | None) -> tuple[str, Instruction, Instruction] | None:
    """(program, VOLUME, WORKDIR) when the WORKDIR is itself a VOLUME that the
    build leaves empty (``VOLUME /workdir`` + ``WORKDIR /workdir``) and the
    command is a tool, not a server: no EXPOSE, and not a program known as a
    service or daemon. Such an image is run on the host's directory mounted
    there. On an official base only, as for :func:`_left_empty`: another base
    may seed the directory, which makes it a data volume."""
    if command.ins is None or wd is None or wd in ("/", "/tmp", "/var/tmp", "/root") or \
            wd.startswith("/root/"):
        return None
    prog = _program_name(command.program)
    if not prog or prog in _SHELLS or prog in k.init_programs or prog in k.dind_programs or \
            prog in k.port_programs or prog in k.port_configs or \
            any(prog in sv.programs for sv in k.services) or \
            any(fnmatch(prog, g) for g in k.init_programs) or \
            re.search(_DAEMON_NAME, prog):
        return None
    if any(i.cmd == "EXPOSE" for s in info.chain for i in s.stage.instructions):
        return None
    volume = _volume_of(info, wd)
    where = _left_empty(info, wd)  # the WORKDIR that makes it, when one does
    if volume is None or where is None or where.cmd != "WORKDIR":
        return None
    return prog, volume, where


#: where a program keeps its own state: a VOLUME there is a data volume, not a
#: mounted working tree
_STATE_PLACES = ("/var/lib/", "/var/cache/", "/var/log/", "/var/spool/", "/var/run/", "/run/")


def _workdir_volume(info: StageInfo, wd: str | None) -> Instruction | None:
    """The VOLUME instruction that names the final WORKDIR (``WORKDIR /src`` +
    ``VOLUME /src``), unless the directory is a program's state under /var/lib
    and the like, or a scratch or root-owned place another rule judges."""
    if wd is None or wd in ("/", "/tmp", "/var/tmp", "/root") or wd.startswith(
            ("/root/", *_STATE_PLACES)):
        return None
    return _volume_of(info, wd)


def _volume_of(info: StageInfo, path: str) -> Instruction | None:
    """The last VOLUME instruction of the chain that names ``path``."""
    found = None
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd == "VOLUME" and any(
                    posixpath.normpath(expand(v, s.env)[0]) == path for v in ins.values):
                found = ins
    return found


def _official(info: StageInfo) -> bool:
    """The stage's base is a Docker Official Image (no namespace: ``ubuntu``,
    ``ruby``), which holds no project of its own."""
    name = re.sub(r"^(?:docker\.io/)?(?:library/)?", "", info.chain[-1].base.lower())
    return "/" not in name.split(":")[0].split("@")[0]


def _context_file(ctx: Context, src: str) -> bool:
    """``src``, a COPY source, is one file of the build context (not a
    directory, a glob or a URL)."""
    build = ctx.build
    if build is None or re.search(r"[*?\[$]|://", src):
        return False
    cand = posixpath.normpath(posixpath.join(dockerfile_dir(build), src))
    if cand.startswith("..") or cand == ".":
        return False
    return posixpath.basename(cand) in build.list_dir(posixpath.dirname(cand)) and \
        not build.is_dir(cand)


def _left_empty(info: StageInfo, path: str, ctx: Context | None = None) -> Instruction | None:
    """The instruction that makes ``path`` (its WORKDIR, else its VOLUME), when the
    build puts nothing in it: no COPY/ADD into it or above it, no step that runs
    there or names it (other than a package install, or to create or own it),
    no ONBUILD, on an official base image (another base may hold files there).
    With ``ctx`` (for a file tool, whose files are the caller's on any base): a
    COPY above it of files only, which the context shows (``COPY hugo /``), puts
    nothing in it."""
    if ctx is None and not _official(info):
        return None
    build = ctx.build if ctx is not None else None
    where = None
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd == "ONBUILD":
                return None
            if ins.cmd in ("COPY", "ADD") and ins.values and len(ins.values) + len(ins.heredocs) >= 2:
                dest = workdir_path(s, ins, expand(ins.values[-1], s.env)[0])
                if ctx is not None and build is not None and not ins.heredocs and \
                        ins.flag("from") is None and path.startswith(dest.rstrip("/") + "/"):
                    if all(_context_file(ctx, expand(v, s.env)[0]) for v in ins.values[:-1]):
                        continue
                if dest in ("/", path) or dest.startswith(path.rstrip("/") + "/") or \
                        path.startswith(dest.rstrip("/") + "/"):
                    return None
            elif ins.cmd == "RUN" and _fills(s, ins, path):
                return None
            elif ins.cmd == "WORKDIR" and workdir_path(s, ins, expand(
                    ins.args.strip().strip("\"'"), s.env)[0]) == path:
                where = ins
            elif ins.cmd == "VOLUME" and where is None and any(
                    posixpath.normpath(expand(v, s.env)[0]) == path for v in ins.values):
                where = ins
    return where


def _project_need(command: _Command, k: _Knowledge) -> str | None:
    """The part of the command that reads a project from the working
    directory: a project tool and its subcommand, or a relative source file."""
    first = command.program
    if first.startswith("./") or ("/" in first and not first.startswith(("/", "$", "~", "../"))):
        return first  # `./build.sh`, `man/generate.sh`: a program read from the working directory
    text = " ".join(command.words) if command.ins is not None and command.ins.json \
        else (command.ins.args if command.ins is not None else "")
    for prog, args in programs(text):
        argv = [prog, *args]
        for i, word in enumerate(argv):
            name = _program_name(word)
            rest = [a for a in argv[i + 1:] if not a.startswith("-")]
            if name == "java" and "-jar" in argv[i + 1:-1]:
                # `java -jar /opt/plantuml-1.2.jar`: the tool the jar is named after
                jar = re.sub(r"(?i)(?:[-_.]v?\d[\w.-]*)?\.jar$", "",
                             posixpath.basename(argv[argv.index("-jar", i) + 1]))
                if jar.lower() in k.file_tools:
                    return jar.lower()
            subs = frozenset() if name in k.file_tools else k.project_tools.get(name)
            if subs is not None and (not subs or (rest and rest[0] in subs)):
                return " ".join([name, *rest[:1]])
            if (name in k.interpreters or subs is not None) and rest and \
                    re.compile(_PROJECT_FILE).match(rest[0]) and "-m" not in argv[i + 1:argv.index(rest[0])]:
                return f"{name} {rest[0]}"
            if name not in _WRAPPERS and name not in ("tini", "dumb-init", "gosu", "su-exec",
                                                      "exec", "bundle", "npx", "poetry",
                                                      "pipenv", "run"):
                break
    return None


def _fills(s: StageInfo, ins: Instruction, wd: str) -> bool:
    """Whether a build step may put files in ``wd``: it runs there (other than
    a system package install), or names it (other than to create or own it)."""
    body = ins.logical + "".join(h.content for h in ins.heredocs)
    if ins.heredocs or ins.json:
        return wd in body or workdir_path(s, ins, ".") == wd
    cwd = workdir_path(s, ins, ".")
    here = cwd == wd
    named = re.compile(r"(?<![\w./-])" + re.escape(wd) + r"(?![\w.-])")
    for prog, args in programs(ins.logical):
        # `cd app && make`, `git clone URL` (into ./NAME): relative to the step's WORKDIR
        operands = [a for a in args[1:] if not a.startswith("-")] if prog == "git" and \
            args[:1] == ["clone"] else []
        into = operands[1] if len(operands) > 1 else (re.sub(
            r"\.git$", "", operands[0].rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1])
            if operands else None)
        if prog == "cd" and args and not args[0].startswith("-"):
            into = args[0]
        if into and not into.startswith(("$", "~")):
            target = posixpath.normpath(posixpath.join(cwd, into))
            if target == wd or target.startswith(wd.rstrip("/") + "/"):
                return True
        if here and prog not in _SYSTEM_STEPS and not (
                prog in ("pip", "pip3") and args[:1] == ["install"]
                and not {"-r", "-e", ".", "--requirement", "--editable"} & set(args)) and not (
                prog in ("npm", "yarn", "pnpm") and ("-g" in args or "global" in args)):
            return True
        if prog not in ("mkdir", "chown", "chmod", "chgrp", "rm") and \
                any(named.match(a) for a in args):
            return True
    return False

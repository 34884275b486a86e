"""Checks of scripts the judge cannot read: an entrypoint or build script that the
command or a RUN runs but the build context does not hold.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from rewriter.core.globs import fnmatchcase
from rewriter.dockerfile.analysis import Context
from rewriter.dockerfile.model import StageInfo, expand, run_commands, workdir_path
from rewriter.dockerfile.paths import final_workdir
from rewriter.dockerfile.syntax import Instruction
from rewriter.dockerfile.judge.knowledge import Judgement, _Knowledge
from rewriter.dockerfile.judge.evidence import (
    _Command, _ins_cite, _program_name, _SCRIPT_NAME, _SHELLS, _WRAPPERS)
from rewriter.dockerfile.judge.context import (
    _copied_sources,
    _GLOB_CHARS, _from_stages, _local_copies, _run_paths, _written_by_run)


def _unfound_copies(info: StageInfo, copied: list[tuple[str, str, Instruction]]
                    ) -> Iterator[tuple[StageInfo, Instruction, list[str]]]:
    """(stage, instruction, its sources expanded) of each local COPY/ADD of the
    chain none of whose sources the build context holds (``copied`` lists those
    it does)."""
    found = {id(ins) for _, _, ins in copied}
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd in ("COPY", "ADD") and not ins.flag("from") and not ins.heredocs \
                    and len(ins.values) >= 2 and id(ins) not in found:
                yield s, ins, [expand(v, s.env)[0] for v in ins.values[:-1]]


def _unread_script(ctx: Context, info: StageInfo, command: _Command,
                   copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """The container starts a script the file copies from its build context,
    but the context dockfix reads does not hold it: what it does at start (drop
    privileges, write /etc, start services) cannot be checked."""
    build = ctx.build
    if build is None or command.ins is None:
        return None
    words = command.names
    names = {n for n in words if re.compile(_SCRIPT_NAME).search(n)}
    if not words:
        return None
    for s, ins, srcs in _unfound_copies(info, copied):
        dest = expand(ins.values[-1], s.env)[0]
        for src in srcs:
            if "://" in src:
                continue
            if re.compile(_GLOB_CHARS).search(src):
                # `COPY *.sh /usr/local/bin/` that matches nothing here
                pattern = posixpath.basename(src.rstrip("/"))
                target = next((n for n in sorted(names)
                               if fnmatchcase(n, pattern)), "")
            else:
                target = posixpath.basename(src.rstrip("/")) if dest.endswith("/") or \
                    len(srcs) > 1 else posixpath.basename(dest.rstrip("/"))
            # a script by its name, or by the folder it comes from (`script/tmpmount`)
            if target in names or (target in words and re.search(
                    r"(?:^|/)scripts?/[^/]+$", src.removeprefix("./"))):
                return Judgement(
                    "unreadable-entrypoint", "app",
                    f"the container starts `{target}`, which the file copies from `{src}`; "
                    "that file is not in the build context dockfix reads, so what it does "
                    "at start (drop privileges, write /etc, start services) is unknown",
                    (_ins_cite(ctx, ins),),
                    "run dockfix from the repository (or pass --context) so it can read it")
    if not names:
        return None
    return _missing_under_copy(ctx, info, command, copied) or \
        _missing_through_stage(ctx, info, command, names) or \
        _missing_in_build_stage(ctx, info, command, names)


def _missing_through_stage(ctx: Context, info: StageInfo, command: _Command,
                           names: set[str]) -> Judgement | None:
    """The container starts a script that another stage copies from the build
    context by its name (``ADD boot.sh /out/bin/boot.sh``) and a ``COPY --from``
    of that stage hands over (``COPY --from=build /out /``), but the context
    dockfix reads does not hold it. A script that stage's RUNs write (built or
    generated) is the build's, and does not count."""
    for s, frm, stage in _from_stages(ctx, info):
        vals = [expand(v, s.env)[0] for v in frm.values]
        srcs = [posixpath.normpath(posixpath.join("/", v)) for v in vals[:-1]
                if "$" not in v and not re.compile(_GLOB_CHARS).search(v)]
        dest = workdir_path(s, frm, vals[-1])
        into = vals[-1].endswith("/") or vals[-1] == "." or len(vals) > 2
        found = {id(ins) for _, _, ins, _ in _local_copies(ctx, stage)}
        for st in stage.chain:
            for ins in st.stage.instructions:
                if ins.cmd not in ("COPY", "ADD") or ins.flag("from") or ins.heredocs \
                        or len(ins.values) < 2 or id(ins) in found:
                    continue
                values = [expand(v, st.env)[0] for v in ins.values]
                at_dest = workdir_path(st, ins, values[-1])
                inside = values[-1].endswith("/") or values[-1] == "." or len(values) > 2
                for v in values[:-1]:
                    if "://" in v or "$" in v or re.compile(_GLOB_CHARS).search(v):
                        continue
                    at = posixpath.join(at_dest, posixpath.basename(v.rstrip("/"))) \
                        if inside else at_dest
                    for src in srcs:
                        if not (at == src or at.startswith(src.rstrip("/") + "/")):
                            continue
                        image = posixpath.join(dest, posixpath.basename(src)) \
                            if at == src and into else \
                            posixpath.normpath(posixpath.join(dest, posixpath.relpath(at, src)))
                        name = posixpath.basename(image)
                        if name not in names or _written_by_run(stage, at):
                            continue
                        return Judgement(
                            "unreadable-entrypoint", "app",
                            f"the container starts `{image}`, which stage "
                            f"`{stage.stage.alias or stage.stage.index}` copies from `{v}` and "
                            "the file hands over with `COPY --from`; that file is not in the "
                            "build context dockfix reads, so what it does at start (drop "
                            "privileges, write /etc, start services) is unknown",
                            (_ins_cite(ctx, ins), _ins_cite(ctx, frm)),
                            "run dockfix from the repository (or pass --context) so it can read it")
    return None


def _missing_in_build_stage(ctx: Context, info: StageInfo, command: _Command,
                            names: set[str]) -> Judgement | None:
    """The container starts a script that another stage copies out of the
    whole build context (``ADD . /src`` + ``cp service.sh /opt/``) and hands
    over with ``COPY --from``, but the context dockfix reads does not hold it."""
    build = ctx.build
    assert build is not None
    froms = {(f.value or "").lower() for st in info.chain for i in st.stage.instructions
             if i.cmd == "COPY" and (f := i.flag("from")) is not None}
    top = set(build.list_dir(""))
    for s in ctx.model.stages:
        if not ({(s.stage.alias or "").lower(), str(s.stage.index)} & froms) or any(
                s is st for st in info.chain):
            continue
        if not any(i.cmd in ("COPY", "ADD") and not i.flag("from") and len(i.values) >= 2 and
                   any(v.rstrip("/") in (".", "./") or v == "./" for v in i.values[:-1])
                   for i in s.stage.instructions):
            continue  # it does not copy the whole context
        for ins in s.stage.instructions:
            for cmd in run_commands(ins):
                if cmd.name not in ("cp", "mv", "install"):
                    continue
                args = [a for a in cmd.args_after_name() if not a.startswith("-")]
                for a in args[:-1]:
                    name = a.removeprefix("./")
                    if name in names and "/" not in name and name not in top:
                        return Judgement(
                            "unreadable-entrypoint", "app",
                            f"the container starts `{name}`, which stage "
                            f"`{s.stage.alias or s.stage.index}` copies out of the build context "
                            f"(`{a}`); that file is not in the build context dockfix reads, so "
                            "what it does at start (drop privileges, write /etc, start services) "
                            "is unknown", (_ins_cite(ctx, ins),),
                            "run dockfix from the repository (or pass --context) so it can read it")
    return None


def _missing_run_scripts(ctx: Context, info: StageInfo,
                         copied: list[tuple[str, str, Instruction]]
                         ) -> dict[str, tuple[str, Instruction]]:
    """The scripts the file copies in from its build context that the context
    dockfix reads does not hold: image path -> (context source, the COPY)."""
    build = ctx.build
    assert build is not None
    missing: dict[str, tuple[str, Instruction]] = {}  # image path -> (context source, COPY)
    for s, ins, srcs in _unfound_copies(info, copied):
        dest = workdir_path(s, ins, expand(ins.values[-1], s.env)[0])
        for src in srcs:
            if "://" in src or "$" in src or re.compile(_GLOB_CHARS).search(src):
                continue
            into = ins.values[-1].endswith("/") or len(srcs) > 1
            inside = posixpath.join(dest, posixpath.basename(src.rstrip("/")))
            missing[inside if into else dest] = (src, ins)
            if not into:  # (`COPY install.sh /tmp`: into a directory the image has)
                missing.setdefault(inside, (src, ins))
    # a script under a folder the file copies in whole (`ADD . /container` +
    # `RUN /container/install.sh`) that the context does not hold there
    # (not one a COPY --from hands over: the other stage's build may make it)
    dirs = [(src, dest, ins) for src, dest, ins in copied
            if build.is_dir(src) and ins.flag("from") is None]
    for _, run, path in _run_paths(info) if dirs else ():
        for src, dest, copy in dirs:
            if not path.startswith(dest.rstrip("/") + "/"):
                continue
            rest = path[len(dest.rstrip("/")) + 1:]
            cand = posixpath.join(src, rest) if src not in ("", ".") else rest
            base = posixpath.basename(cand)
            if not cand.endswith((".sh", ".bash")) or build.read_text(cand) is not None or \
                    base in build.list_dir(posixpath.dirname(cand)):
                continue
            # nothing else writes it: no other step names it, no COPY --from or heredoc
            if any(i is not run and i is not copy and (
                    base in i.logical or i.heredocs or
                    (i.cmd == "COPY" and i.flag("from") is not None))
                   for st in info.chain for i in st.stage.instructions
                   if i.cmd in ("RUN", "COPY", "ADD", "ONBUILD")):
                continue
            missing.setdefault(path, (posixpath.join(
                _raw_source(copy) or src, rest), copy))
    return missing


def unread_run_script(ctx: Context, info: StageInfo) -> tuple[str, int, tuple[str, ...]] | None:
    """A script a ``RUN`` of the runtime chain executes that the file copies in
    from its build context, which the context dockfix reads does not hold:
    (its context source, the RUN's line, the COPY and the RUN cited), or None.
    Such a script may create directories and give them to a user, which
    dockfix cannot see."""
    if ctx.build is None:
        return None
    missing = _missing_run_scripts(ctx, info, _copied_sources(ctx, info))
    for _, ins, path in _run_paths(info) if missing else ():
        if path in missing:
            src, copy = missing[path]
            return src, ins.start_line, (_ins_cite(ctx, copy), _ins_cite(ctx, ins))
    return None


def _unread_build_script(ctx: Context, info: StageInfo, command: _Command,
                         copied: list[tuple[str, str, Instruction]],
                         k: _Knowledge) -> Judgement | None:
    """A RUN executes a script that the file copies from its build context, the
    context dockfix reads does not hold it, and nothing else in the file names
    the program the container runs: that script installs the program, and the
    user it may create and the directories it may give that user are unknown
    (a new uid may be able to read none of them)."""
    build = ctx.build
    if build is None or command.ins is None:
        return None
    # the program, by a name with no extension (`couchdb`, not `server.js`)
    name = _program_name(command.program)
    # (a script's name, `cockpit-kube-launch`, counts when it is a system path a package fills)
    if not re.fullmatch(r"[A-Za-z][\w-]{2,}", name) or "$" in command.program or \
            name in _SHELLS or name in k.interpreters or (
                re.compile(_SCRIPT_NAME).search(name) and
                not re.match(r"/usr/(?:s?bin|libexec|lib)/", command.program)):
        return None
    # named nowhere in the file but in the command itself
    others = "\n".join(ins.logical for s in info.chain for ins in s.stage.instructions
                       if ins.cmd not in ("CMD", "ENTRYPOINT"))
    if re.search(r"(?i)(?<![\w.-])" + re.escape(name) + r"(?![\w-])", others):
        return None
    missing = _missing_run_scripts(ctx, info, copied)
    if not missing:
        return None
    for _, ins, path in _run_paths(info):
        if path in missing:
            src, copy = missing[path]
            return Judgement(
                "unreadable-build-script", "app",
                f"the build runs `{src}`, which the file copies from its context, but that file "
                "is not in the build context dockfix reads; nothing else in the file installs "
                f"`{name}`, so that script does, and the user it may create and the "
                "directories it may give that user (which a new uid could not read) are unknown",
                (_ins_cite(ctx, copy), _ins_cite(ctx, ins)),
                "run dockfix from the repository (or pass --context) so it can read it")
    return None


def _raw_source(ins: Instruction) -> str:
    """The first source of a COPY/ADD as the file writes it."""
    return ins.values[0] if len(ins.values) >= 2 else ""


def _missing_under_copy(ctx: Context, info: StageInfo, command: _Command,
                        copied: list[tuple[str, str, Instruction]]) -> Judgement | None:
    """The container starts a script under a directory the file copies in
    (``COPY . /silo`` + ``ENTRYPOINT ["/silo/entrypoint"]``) that the context
    does not hold there, and nothing in the build makes it."""
    build = ctx.build
    assert build is not None and command.ins is not None
    cwd = final_workdir(info) or "/"
    for w in command.words[:4]:
        if w.startswith("-") or w in _WRAPPERS or "$" in w or not re.compile(_SCRIPT_NAME).search(
                _program_name(w)):
            continue
        if not w.startswith("/") and not w.startswith("./"):
            continue  # a bare name: a program on PATH
        image = posixpath.normpath(posixpath.join(cwd, w))
        name = posixpath.basename(image)
        if "." in name and not name.endswith((".sh", ".bash")):
            continue  # a file an interpreter runs, perhaps built (lib/server.js)
        for src, dest, ins in [*copied, *_missing_dirs(ctx, info, copied)]:
            if ins.flag("from") is not None:
                continue  # handed over from another stage, whose build may make it
            if not image.startswith(dest.rstrip("/") + "/"):
                continue
            rest = image[len(dest.rstrip("/")) + 1:]
            if build.is_dir(src):
                cand = posixpath.join(src, rest)
                if build.is_dir(cand) or build.read_text(cand) is not None or \
                        name in build.list_dir(posixpath.dirname(cand)):
                    return None  # there (perhaps binary or too big to read)
                missing = f"the build context has no `{rest}` there"
            elif build.read_text(src) is None and not build.list_dir(src):
                missing = "the build context has no such directory"
            else:
                continue  # a file copied into the directory, not the program
            if _made_by_build(info, ins, image, dest):
                return None
            return Judgement(
                "unreadable-entrypoint", "app",
                f"the container starts `{image}`, under `{dest}`, which the file copies from "
                f"`{src}`; {missing}, so what it does at start "
                "(drop privileges, write /etc, start services) is unknown",
                (_ins_cite(ctx, command.ins),),
                "run dockfix from the repository (or pass --context) so it can read it")
    return None


def _missing_dirs(ctx: Context, info: StageInfo,
                  copied: list[tuple[str, str, Instruction]]) -> list[tuple[str, str, Instruction]]:
    """(source, destination, instruction) of each COPY/ADD of a directory-like
    source (no extension, no glob) of which the build context holds nothing
    (``COPY scripts /opt/app/scripts`` without ``scripts/``)."""
    found = {id(ins) for _, _, ins in copied}
    out: list[tuple[str, str, Instruction]] = []
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd not in ("COPY", "ADD") or ins.flag("from") or ins.heredocs \
                    or len(ins.values) < 2 or id(ins) in found:
                continue
            dest = workdir_path(s, ins, expand(ins.values[-1], s.env)[0])
            for v in ins.values[:-1]:
                src = posixpath.normpath(expand(v, s.env)[0])
                name = posixpath.basename(src)
                if "://" in src or "$" in src or re.compile(_GLOB_CHARS).search(src) or "." in name \
                        or src.startswith(".."):
                    continue
                out.append((src, dest, ins))
    return out


#: a build step whose output lands in its working directory under a name it
#: need not spell out: `go build` (named after the directory), `make`, a compiler
_COMPILES_HERE = (r"(?:^RUN\s+|[;&|(]\s*|\b(?:then|do)\s+)(?:\w+=\S*\s+)*"
                  r"(?:go\s+build\b|make\b|cmake\s+--build\b|"
                  r"cargo\s+build\b|(?:gcc|g\+\+|cc|clang|clang\+\+)\s|ghc\s|rustc\s|swift\s+build\b)")


def _made_by_build(info: StageInfo, copy: Instruction, image: str, copy_dest: str) -> bool:
    """Whether something other than ``copy`` may put ``image`` in the image: a
    RUN that names it (``go build -o``, a download), a COPY --from, another COPY
    or ADD into it, or anything the file does not spell out (ONBUILD)."""
    name = posixpath.basename(image)
    # the program's directories below the copy's destination (`mv ... /app/bin`)
    dirs: list[str] = []
    d = posixpath.dirname(image)
    while d.startswith(copy_dest.rstrip("/") + "/") and d != "/" and d not in dirs:
        dirs.append(d)
        d = posixpath.dirname(d)
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins is copy:
                continue
            body = ins.logical + "".join(h.content for h in ins.heredocs)
            if ins.cmd in ("RUN", "ONBUILD") and (
                    name in body or any(re.search(re.escape(d) + r"(?![\w.-])", body)
                                        for d in dirs)):
                return True
            if ins.cmd == "RUN" and workdir_path(s, ins, ".") == posixpath.dirname(image) and \
                    re.search(_COMPILES_HERE, body):
                return True  # `go build .` in /go/src/app makes /go/src/app/app
            if ins.cmd in ("COPY", "ADD") and len(ins.values) >= 2:
                dest = workdir_path(s, ins, expand(ins.values[-1], s.env)[0])
                if ins.flag("from") is not None or ins.heredocs or "://" in ins.logical:
                    if image == dest or image.startswith(dest.rstrip("/") + "/") or \
                            posixpath.dirname(image) == dest:
                        return True
                elif any(name == posixpath.basename(v.rstrip("/")) for v in ins.values[:-1]):
                    return True
    return False

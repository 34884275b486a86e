"""Checks that the image is a build tool (a CI builder): a build or packaging tool as
its program, a command that builds and exits, a CI script, a compiler toolset's
shell, or an exporter that streams an archive of what the build made.
"""

from __future__ import annotations

import posixpath
import re

from rewriter.core.globs import fnmatch
from rewriter.dockerfile.analysis import Context
from rewriter.dockerfile.model import StageInfo, expand
from rewriter.dockerfile.paths import command_parts, final_workdir
from rewriter.dockerfile.shell import programs
from rewriter.dockerfile.syntax import Instruction
from rewriter.dockerfile.judge.knowledge import Judgement, _Knowledge
from rewriter.dockerfile.judge.evidence import (
    _Command, _env_pairs, _ins_cite, _program_name, _SHELLS, _WRAPPERS)
from rewriter.dockerfile.judge.context import _scripts
from rewriter.dockerfile.judge.documented import _SETUP_WORDS


def _builder_tool(ctx: Context, info: StageInfo, command: _Command,
                  copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """A build or packaging tool as the program (fpm, kcov, goreleaser), or a Rancher
    Dapper build image (``DAPPER_*`` settings): run as root against a mounted workspace.
    Or a command that builds and exits, a CI script, a compiler toolset's shell
    (:func:`_builds`); or one that only streams an archive of what was built."""
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd in ("ENV", "ARG"):
                key = next((w for w in re.findall(r"(?:^|\s)(DAPPER_[A-Z0-9_]+)", ins.args)), None)
                if key:
                    return Judgement("ci-builder", "ci-builder",
                                     f"a Dapper build image (`{key}`): dapper runs the build in "
                                     "it against the mounted source tree, as root",
                                     (_ins_cite(ctx, ins),), "leave the build image as it is")
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd == "ENV":
                key = next((key for key, _ in _env_pairs(ins)
                            if re.compile(k.cross_toolchain_env).search(key)), None)
                if key:
                    return Judgement("ci-builder", "ci-builder",
                                     f"a cross-compilation toolchain image (`{key}`): builds run "
                                     "in it against the caller's mounted workspace, as the "
                                     "caller's uid, and images built FROM it install more as root",
                                     (_ins_cite(ctx, ins),), "leave the build image as it is")
    if command.ins is None:
        return None
    prog = _program_name(command.program)
    if prog in k.builder_programs:
        return Judgement("ci-builder", "ci-builder",
                         f"the container runs `{prog}`, a build or packaging tool run against a "
                         "mounted workspace: a CI builder, whose output the CI job owns",
                         (_ins_cite(ctx, command.ins),),
                         "the CI job (or `docker run --user`) chooses the user")
    text = " ".join(command.words) if command.ins.json else command.ins.args
    built = _builds(ctx, info, command, copied, text, k)
    if built is not None:
        return built
    # only an archive of what the build made: a command that also builds at run
    # time (`make && tar cf - *.png`) writes in its tree, as the user
    progs = list(programs(text))
    if all(name in ("tar", "cd", "echo", "printf", "set", "true") for name, _ in progs):
        for name, args in progs:
            if name == "tar" and _tar_to_stdout(args) and not any(">" in a for a in args):
                return Judgement(
                    "ci-builder", "ci-builder",
                    f"the container runs `tar {' '.join(args)}`, which streams an archive of "
                    "what the build made to its standard output: a builder whose artifacts a "
                    "Makefile or pipeline unpacks (`docker run IMAGE | tar x`), and that "
                    "writes no file as its user",
                    tuple(_ins_cite(ctx, ins) for ins, _ in command_parts(info)),
                    "leave the build image as it is; the caller's `tar x` writes the files as "
                    "the caller")
    return None


#: what a build's command may do after the build: move, copy, pack or list what
#: it made, and the shell's own words (``fi``, ``done``)
_COLLECT_STEPS = frozenset({"mv", "cp", "tar", "zip", "gzip", "xz", "bzip2", "chmod", "chown",
                            "chgrp", "ls", "rm", "mkdir", "sha256sum", "sha1sum", "md5sum",
                            "strip", "upx", "install", "find", "du", "file", "touch", "cat", "fi",
                            "done", "esac", "exit", "wait", "}"})
#: a script named as a CI job or a build (``ci.sh``, ``cibuild``, ``docker_build_cpp.sh``,
#: ``build-release.sh``), not one that starts or serves
_BUILD_SCRIPT = (r"(?i)^(?:ci|cibuild|ci[-_][\w-]+|[\w-]+[-_]ci|build|build[-_][\w-]+|"
                 r"[\w-]+[-_]build(?:[-_][\w-]+)?)(?:\.(?:sh|bash))?$")
#: a Software Collections toolset of compilers (``scl enable devtoolset-8 bash``)
_TOOLSET = r"^(?:devtoolset|gcc-toolset|llvm-toolset|go-toolset|rust-toolset)(?:-[\w.]+)?$"


def _build_step(text: str, k: _Knowledge) -> str | None:
    """The build step that ends ``text`` (``gox``, ``python3 setup.py dist``,
    ``go build -o /out/app``), when its last step, past set-up (``cd``,
    ``export``) and collecting steps (``mv *.deb dist/``), is one: a builder
    program, or a program of ``build_steps`` given the subcommand or option that
    makes it a build. None when a step after the build starts something else
    (``go build && ./app``), or when an archive streams to standard output."""
    last: tuple[str, list[str]] | None = None
    for prog, args in programs(text):
        if prog == "tar" and _tar_to_stdout(args):
            return None
        if prog in _SETUP_WORDS or prog in _COLLECT_STEPS or not prog or prog.startswith("-"):
            continue  # `-m x` after a `$(...)` or backticks: the arguments go on
        last = (prog, args)
    if last is None:
        return None
    prog, args = last
    shown = [prog]
    if prog in k.interpreters:
        ops = [a for a in args if not a.startswith("-")]
        if ops and posixpath.basename(ops[0]) in k.build_steps:
            shown = [prog, ops[0]]
            prog, args = posixpath.basename(ops[0]), args[args.index(ops[0]) + 1:]
    words = k.build_steps.get(prog)
    if prog not in k.builder_programs and words is None:
        return None
    operands = {a for a in args if not a.startswith("-") and "=" not in a}
    if prog in k.builder_programs or not words or operands & set(words) or any(
            fnmatch(a, w) for w in words if w.startswith("-") for a in args):
        line = " ".join([*shown, *args])
        return line if len(line) <= 80 else line[:77] + "..."
    return None


def _builds(ctx: Context, info: StageInfo, command: _Command,
            copied: list[tuple[str, str, Instruction]], text: str,
            k: _Knowledge) -> Judgement | None:
    """The container's command, or the script it runs, builds or packages and
    exits (:func:`_build_step`); or it runs a script named as a CI job or a
    build that the context does not hold; or it opens a shell in a compiler
    toolset: a builder image, run on the caller's source tree or into an
    output directory mounted from the host."""
    assert command.ins is not None
    hint = ("leave the build image as it is: the CI job or `docker run --user "
            "\"$(id -u):$(id -g)\"` writes the output as the host's owner")
    cites = [_ins_cite(ctx, command.ins)]
    step = _build_step(text, k)
    where = "the container's command"
    prog = _program_name(command.program)
    scripts = _scripts(ctx, info, command, copied)  # the first is the one it runs
    if step is None and scripts:
        path, body = scripts[0]
        lines = [ln for ln in body.splitlines() if not ln.lstrip().startswith("#")]
        step = _build_step("\n".join(lines), k)
        if step is not None:
            where = f"`{path}`, the script the container runs,"
            at = next((i for i, ln in enumerate(body.splitlines(), 1)
                       if step.split()[0] in ln and not ln.lstrip().startswith("#")), 1)
            cites.append(f"{path}:{at}: {body.splitlines()[at - 1].strip()[:100]}")
    if step is not None:
        wd = final_workdir(info)
        volume = None
        for s in info.chain:
            for ins in s.stage.instructions:
                # a VOLUME in the WORKDIR, or one the command names (`-o /out`)
                if ins.cmd == "VOLUME" and any(
                        p != "/" and ((wd and wd != "/" and (p == wd or p.startswith(wd + "/")))
                                      or re.search(r"(?<![\w.-])" + re.escape(p) + r"(?![\w.-])",
                                                   text))
                        for v in ins.values for p in [posixpath.normpath(expand(v, s.env)[0])]):
                    volume = ins
        out = (f" (`VOLUME {' '.join(volume.values)}`)" if volume is not None else "")
        return Judgement("ci-builder", "ci-builder",
                         f"{where} builds and exits (`{step}`): a builder image, whose output "
                         f"lands in the source tree or output directory{out} mounted from the "
                         "host, where a fixed uid can write only if it owns the files there",
                         tuple(cites + ([_ins_cite(ctx, volume)] if volume is not None else [])),
                         hint)
    first = next((w for w in command.words if w not in _WRAPPERS and not w.startswith("-")), "")
    if first and not scripts and "$" not in first and (
            re.search(_BUILD_SCRIPT, prog) or "ci" in first.split("/")[:-1]) and \
            not re.search(r"(?i)run|start|serve|entrypoint|init|boot|launch", prog):
        return Judgement("ci-builder", "ci-builder",
                         f"the container runs `{first}`, a script named as a CI job or a build "
                         "that the build context does not hold: a builder image, run on the "
                         "caller's source tree mounted from the host, where a fixed uid can "
                         "write only if it owns the files", tuple(cites), hint)
    words = command.words
    if prog == "scl" and "enable" in words:
        rest = words[words.index("enable") + 1:]
        toolset = next((w for w in rest if re.match(_TOOLSET, w)), None)
        if toolset is not None and rest and _program_name(rest[-1]) in _SHELLS:
            return Judgement("ci-builder", "ci-builder",
                             f"the container opens a shell in the `{toolset}` compiler "
                             "toolset (`scl enable`): a build environment, where builds run "
                             "as root or as the caller on a mounted source tree",
                             tuple(cites), hint)
    return None


def _tar_to_stdout(args: list[str]) -> bool:
    """``tar`` with these arguments creates an archive on its standard output
    (``cf -``, ``-czf -``, ``--file=-``, or ``-c`` with no archive named: GNU
    tar's default archive is ``-``)."""
    create, archive = False, None
    i = 0
    while i < len(args):
        a = args[i]
        if i == 0 and re.fullmatch(r"[A-Za-z]+", a):  # old style: `tar cvzf - .`
            create = "c" in a
            if "f" in a:
                archive = args[1] if len(args) > 1 else ""
                i += 1
        elif a == "--create":
            create = True
        elif a.startswith("--file="):
            archive = a[len("--file="):]
        elif a == "--file":
            archive = args[i + 1] if i + 1 < len(args) else ""
            i += 1
        elif a.startswith("-") and not a.startswith("--") and len(a) > 1:
            letters, _, rest = a[1:].partition("f")
            create = create or "c" in letters
            if "f" in a[1:]:
                if rest:  # `-f-`, `-cf-`
                    archive = rest
                else:
                    archive = args[i + 1] if i + 1 < len(args) else ""
                    i += 1
        i += 1
    return create and archive in (None, "-")

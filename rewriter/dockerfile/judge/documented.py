"""The command the documentation runs the image with, when the file sets no CMD or
ENTRYPOINT of its own (``docker run IMAGE serve`` in its README), and the command
the judgement reads: the file's, else that one.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from rewriter.dockerfile.analysis import Context
from rewriter.dockerfile.model import StageInfo
from rewriter.dockerfile.syntax import ParseError
from rewriter.dockerfile.usage import Invocation, documented_runs
from rewriter.dockerfile.judge.knowledge import _Knowledge, knowledge
from rewriter.dockerfile.judge.evidence import (
    _Command, _command, _df_name, _DocumentedCommand, _program_name, _program_of, _SHELLS)
from rewriter.dockerfile.judge.context import _compose_named_volumes, _runs, _services


#: a documented command that builds something (the image is the build's, not an
#: app's): its program, or one of the two words after it
_BUILD_PROGRAM = (r"^(?:c?make|gmake|ninja|meson|bazel(?:isk)?|scons|gcc|g\+\+|c\+\+|cc|"
                  r"clang(?:\+\+)?|javac|ant|mvn|mvnw|gradlew?|sbt|cargo|rustc|go|"
                  r"msbuild|autoreconf|configure|rpmbuild|dpkg-buildpackage|debuild|"
                  r"pyinstaller)$")
_BUILD_WORD = r"^(?:build|compile|install|setup\.py|bdist\w*|wheel|sdist|package|dist|publish)$"
#: what separates the commands of a shell line
_SHELL_SEP = r"\s*(?:;|&&|\|\||\|)\s*"
#: a shell line's set-up commands before the program (``cd /src && ./serve``)
_SETUP_WORDS = frozenset({"cd", "export", "set", "source", ".", "umask", "ulimit", "echo",
                          "printf", "true", "mkdir", "sleep"})
#: Project Atomic's install and uninstall runs (``LABEL INSTALL='docker run ...'``)
_INSTALL_LABEL = r"(?i)LABEL\s+[\"']?(?:UN)?INSTALL\b"
#: what an image reference looks like (``org/app:1.2``, ``$IMAGE``, ``${NAME}:latest``)
_IMAGE_WORD = r"[\w${}<][\w.${}<>/:@-]*"
#: a placeholder, not a program (``<command>``, ``[CMD]``, ``COMMAND``, ``$CMD``, ``...``)
_PLACEHOLDER_PROGRAM = r"^(?:[<\[{$].*|\.\.\.|[A-Z][A-Z_]+)$"


def _documented_command(ctx: Context, info: StageInfo, command: _Command,
                        k: _Knowledge) -> _Command | None:
    """The command the documentation runs the image with, when the file sets
    none: every documented run that names a program names an app's command
    (not a bare shell or interpreter, not a build), and no run opens a
    terminal on the image's own default (``docker run -it IMAGE``: a toolbox)."""
    if command.ins is not None or any(
            i.cmd == "ONBUILD" for s in info.chain for i in s.stage.instructions):
        return None
    found: tuple[Invocation, list[str], str] | None = None
    for run in _runs(ctx, command):
        if not re.fullmatch(_IMAGE_WORD, run.image) or _install_label(ctx, run):
            # prose ("a shared volume in docker run command, then launch ..."), or
            # the installer that ``atomic install`` runs, not the image's process
            continue
        words = ([run.entrypoint] if run.entrypoint else []) + list(run.command)
        if not words:
            if run.interactive:
                return None  # a terminal in the image as it is
            continue
        program = _program_of(words)
        if re.search(r"\s", program):
            # ``sh -c "cd /src && python app.py"``: the commands of the line
            segments = [seg.split() for seg in re.split(_SHELL_SEP, program)]
        else:
            segments = [[program] + (words[words.index(program) + 1:] if program in words
                                     else [])]
        segments = [seg[1:] if seg[:1] == ["exec"] else seg for seg in segments]
        segments = [seg for seg in segments if seg] or [[""]]
        line = next((seg for seg in segments if seg[0] not in _SETUP_WORDS), segments[0])
        name = _program_name(line[0])
        if re.match(_PLACEHOLDER_PROGRAM, line[0]):
            continue  # ``docker run IMAGE <command>``: the reader fills it in
        if not re.fullmatch(r"[\w./+@:~=-]+", line[0]) or line[0].startswith("-"):
            return None  # arguments for the base image's entrypoint, or unreadable
        if (name in _SHELLS or name in k.interpreters) and \
                not [w for w in line[1:] if not w.startswith("-")]:
            return None  # a bare shell or interpreter: a toolbox or a runtime
        if any(re.match(_BUILD_PROGRAM, _program_name(seg[0])) or seg[0] in k.builder_programs
               or any(re.match(_BUILD_WORD, _program_name(w)) for w in seg[1:3])
               for seg in segments):
            return None  # run to build: a build image (ci-builder with compilers)
        if found is None:
            found = (run, words, program)
    if found is None:
        return None
    run, words, program = found
    try:
        ins = _DocumentedCommand.of(run, words)
    except ParseError:
        return None
    return _Command(ins, words, program, info, runs=command.runs, scripts=command.scripts,
                    compose=command.compose, documented=run)


def _install_label(ctx: Context, run: Invocation) -> bool:
    """The run is the Dockerfile's ``LABEL INSTALL``/``UNINSTALL``."""
    if run.path != _df_name(ctx):
        return False
    lines = ctx.df.text.splitlines()
    return 0 < run.line <= len(lines) and re.match(_INSTALL_LABEL, lines[run.line - 1].strip()) \
        is not None


@dataclass(frozen=True)
class DocumentedRun:
    """The documented command an image is judged by, when its file sets none."""

    cite: str  #: ``file:line: text`` of the line that holds the command


#: where a documented mount is the host's or the system's, never the app's to own
_NOT_APP_MOUNTS = r"^/(?:proc|sys|dev|etc|run|tmp|root|boot|usr|bin|sbin|lib\w*|var/(?:run|lib/docker|log))(?:/|$)"


def _judged_command(ctx: Context, info: StageInfo, k: _Knowledge) -> _Command:
    """The command the judgement reads: the file's, else the one its documentation
    runs (:func:`_documented_command`); worked out once a stage, since the judge
    and DF001 both ask."""
    key = "_judged_command"
    if key not in info.__dict__:
        command = _command(info)
        if command.ins is None:  # the documentation may say what it runs
            command = _documented_command(ctx, info, command, k) or command
        info.__dict__[key] = command
    found: _Command = info.__dict__[key]
    return found


def documented_command(ctx: Context, info: StageInfo) -> DocumentedRun | None:
    """The documented run whose command the judgement took, when the file sets
    no CMD or ENTRYPOINT of its own; else None."""
    found = _judged_command(ctx, info, knowledge())
    if not isinstance(found.ins, _DocumentedCommand):
        return None
    return DocumentedRun(found.ins.cite)


def documented_volumes(ctx: Context, info: StageInfo) -> tuple[str, ...]:
    """The directories the image's documented runs mount a named or anonymous
    volume at (``-v registry-data:/var/lib/registry``, ``-v /var/lib/registry``),
    and so do the compose services that build it (``- db-data:/var/lib/app``):
    the program's data, which it writes. A new volume takes its mount point's
    owner from the image, so a fix owns those directories, as it owns a
    VOLUME's. Read-only mounts are not among them, nor host directories, nor a
    volume name that stands for one; but when the image is judged by a
    documented command (its file sets none), every directory that run mounts
    read-write is its data, the host's too."""
    found = _judged_command(ctx, info, knowledge())
    documented = isinstance(found.ins, _DocumentedCommand)
    mounts = [(m.source, m.target, m.read_only, m.bind) for run in _runs(ctx, found)
              for m in run.mounts]
    mounts += [(name, target, ro, False) for _, block, _ in _services(ctx, found)
               for name, target, ro in _compose_named_volumes(block)]
    dirs: list[str] = []
    for source, target, read_only, bind in mounts:
        target = posixpath.normpath(target)
        # a volume name that stands for a host directory (``-v
        # repo_dir_on_host:/repo``, ``-v path_to_data:/data``) is one to the reader
        host = bind or re.search(r"(?i)host|dir|path|folder", source)
        # a file (``-v ./app.yml:/app/app.yml``) must not become a directory
        if read_only or (host and not documented) or not target.startswith("/") or \
                "." in posixpath.basename(target) or re.search(r"[$*?{}<>]", target) or \
                re.match(_NOT_APP_MOUNTS, target) or \
                target in ("/", "/var", "/opt", "/srv", "/home", "/mnt", "/media") or \
                target in dirs:
            continue
        dirs.append(target)
    return tuple(dirs)


def own_usage_runs(ctx: Context) -> list[Invocation]:
    """The ``docker run`` lines the Dockerfile's own comments document."""
    name = _df_name(ctx)
    return [r for r in documented_runs(None, ctx.df.text, name) if r.path == name]

"""Judge the image before changing it: what is it for, and what does its process need?

A Dockerfile that builds and ends with ``USER 10001`` can still be a change no
maintainer merges: the image is a base image others extend, a CI builder whose
steps write root-owned mounts, a devcontainer, a test fixture, an init system
running several services, a service that binds port 80, or an entrypoint that
does root-only work at start. DF001 asks :func:`judge` first and declines, with
the kind and the evidence (``file:line``), whenever the answer is not "an app
whose process can run as a dedicated user".

The judge reads the Dockerfile and its build context (entrypoint scripts and
configs the file copies in, compose files, devcontainer.json, template files),
never executes anything, and decides from evidence a reviewer can check. Its
knowledge (which programs need root, which base images bind port 80, ...) is
data in ``rewriter/data/judge.toml``.

See docs/judgement.md for each kind and the evidence it takes.
"""

from __future__ import annotations

import functools
import json
import os
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from rewriter.core.globs import fnmatch, fnmatchcase
from rewriter.core.settings import Settings
from rewriter.dockerfile import purpose
from rewriter.dockerfile.analysis import Context
from rewriter.dockerfile.model import (
    StageInfo,
    is_root,
    _pairs,
    _parse_user_command,
    commands_named,
    expand,
    may_run,
    run_commands,
    workdir_path,
)
from rewriter.dockerfile.imageref import split_ref
from rewriter.dockerfile.makefile import make_call, makefile_paths, recipes
from rewriter.dockerfile.paths import (
    SOURCE_DIRS,
    build_databases,
    command_parts,
    command_relative_stores,
    config_writes,
    final_workdir,
    owned_by_file,
    run_dir,
    writable_dirs,
)
from rewriter.dockerfile.shell import Command, commands, form_words, programs, run_script
from rewriter.dockerfile.syntax import Dockerfile, Instruction, ParseError, parse
from rewriter.dockerfile.usage import (
    DOCKERFILE_NAME,
    HostVolume,
    Invocation,
    built_tags,
    code_lines,
    companion_readme,
    documented_runs,
    image_names,
    image_readmes,
    image_ref_name,
    manifest_ports,
    manifest_volumes,
    offered_images,
    own_readme,
    sh_expand,
    sh_variables,
    skaffold_artifacts,
    skaffold_own,
)
from rewriter.io.context import BuildContext, ancestors, dockerfile_dir

_DATA = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "judge.toml")


@dataclass(frozen=True)
class Judgement:
    """Why the runtime stage should stay as it is (``reason`` is the decline code)."""

    reason: str  #: e.g. ``base-image``, ``binds-privileged-port``
    kind: str  #: what the image is: app, base-image, ci-builder, devcontainer, ...
    message: str
    evidence: tuple[str, ...] = ()  #: ``path:line: text`` a reviewer can check
    hint: str = ""  #: what the maintainer can do instead


@dataclass(frozen=True)
class _AppListen:
    """``judge.toml`` ``[configs.app_listen]``: application configs the file copies
    in, and the keys that set the port the program itself listens on."""

    globs: tuple[str, ...]
    keys: frozenset[str]  #: ``port``, ``listen_address``, ... (lower case, ``_``)
    sections: frozenset[str]  #: the sections (and key prefixes) a listening key may be in
    config_dirs: frozenset[str]  #: directories of a copied folder whose files count
    skip_dirs: frozenset[str]  #: directories whose files never count
    skip_names: str  #: a regex of file names that never count (examples, templates)


@dataclass
class _Knowledge:
    """What ``judge.toml`` knows.  Its patterns are strings: ``re`` compiles
    (and keeps) one when a file first needs it, as most files need few of them."""

    root_programs: frozenset[str]
    init_programs: frozenset[str]
    dind_programs: frozenset[str]
    interpreters: frozenset[str]
    toolchain_packages: frozenset[str]
    port_images: dict[str, int]
    nonroot_images: list[str]
    root_entrypoint_images: list[str]
    docker_cli: frozenset[str]
    fixture_dirs: frozenset[str]
    builder_dirs: frozenset[str]
    builder_names: list[str]
    ci_files: frozenset[str]
    generic_programs: frozenset[str] = frozenset()
    packaged_users: frozenset[str] = frozenset()
    #: (a config file's glob, a multi-line regex of the port it listens on)
    daemon_configs: list[tuple[str, str]] = field(default_factory=list)
    #: application configs and the keys that set the port the program listens on
    app_listen: _AppListen | None = None
    root_subcommands: dict[str, frozenset[str]] = field(default_factory=dict)
    docker_clients: frozenset[str] = frozenset()
    docker_providers: dict[str, str] = field(default_factory=dict)
    builder_programs: frozenset[str] = frozenset()
    device_packages: frozenset[str] = frozenset()
    device_images: list[str] = field(default_factory=list)
    services: list[_Service] = field(default_factory=list)
    #: program -> (the port it listens on by default, a regex of the flags that set
    #: another, a regex of the flags that make it listen there: "" when it always does)
    port_programs: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    #: program -> (its config file's name, a regex of the flags that name another)
    port_configs: dict[str, tuple[str, str]] = field(default_factory=dict)
    unix_socket_commands: str = ""
    unix_socket_clients: frozenset[str] = frozenset()
    #: those package names in a requirements file (``requests_unixsocket``, any case)
    unix_socket_requirement: str = ""
    journal_readers: frozenset[str] = frozenset()
    journal_libraries: frozenset[str] = frozenset()
    journal_shippers: str = ""
    journal_inputs: list[str] = field(default_factory=list)
    journal_reader_code: str = ""
    root_host_paths: dict[str, str] = field(default_factory=dict)  #: host dir -> what it holds
    host_log_inputs: str = ""  #: a log shipper's config line that reads the host's logs
    host_log_prose: str = ""  #: a log shipper's own words that it collects the hosts' logs
    storage_provisioners: frozenset[str] = frozenset()
    login_shell_programs: frozenset[str] = frozenset()
    #: program -> its own flags that switch to another user once started as root
    user_switch_flags: dict[str, tuple[str, ...]] = field(default_factory=dict)
    packet_capture: frozenset[str] = frozenset()
    fuse: frozenset[str] = frozenset()
    ebpf: frozenset[str] = frozenset()
    cron_packages: frozenset[str] = frozenset()  #: cron daemons, which run as root
    rootless_cron: frozenset[str] = frozenset()  #: crons that run as any user (supercronic)
    cross_toolchain_env: str = ""
    libvirt_system: str = ""
    #: program -> the subcommands that work on the project in the working directory
    project_tools: dict[str, frozenset[str]] = field(default_factory=dict)
    #: generators and converters run on the caller's files (protoc, pandoc)
    file_tools: frozenset[str] = frozenset()
    #: program -> the subcommands or options (globs) that make it a build step
    build_steps: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: images whose environment sets the port (``judge.toml`` ``env_ports``)
    env_port_images: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class _Service:
    """A service whose distribution package creates its own account."""

    programs: frozenset[str]
    packages: tuple[str, ...]  #: globs
    users: dict[str, str]  #: family name -> the package's user


@functools.lru_cache(maxsize=1)
def knowledge() -> _Knowledge:
    # Read when a runtime stage is first judged, not at import: most files need
    # only the parser (a file with nothing to change never gets here).
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    with open(_DATA, "rb") as fh:
        raw = tomllib.load(fh)
    return _Knowledge(
        root_programs=frozenset(raw["programs"]["need_root"]),
        init_programs=frozenset(raw["programs"]["init"]),
        dind_programs=frozenset(raw["programs"]["docker_daemon"]),
        interpreters=frozenset(raw["programs"]["interpreters"]),
        toolchain_packages=frozenset(raw["packages"]["toolchain"]),
        port_images={k: int(v) for k, v in raw["images"]["binds_port"].items()},
        env_port_images=list(raw["images"].get("env_ports", ())),
        nonroot_images=list(raw["images"]["runs_nonroot"]),
        root_entrypoint_images=list(raw["images"]["root_entrypoint"]),
        docker_cli=frozenset(raw["packages"]["docker_cli"]),
        fixture_dirs=frozenset(raw["paths"]["fixture_dirs"]),
        builder_dirs=frozenset(raw["paths"]["builder_dirs"]),
        builder_names=list(raw["paths"]["builder_names"]),
        ci_files=frozenset(raw["paths"]["ci_files"]),
        generic_programs=frozenset(raw["programs"]["generic"]),
        login_shell_programs=frozenset(raw["programs"].get("login_shell", ())),
        user_switch_flags={k: tuple(v) for k, v in raw["programs"].get("user_switch", {}).items()},
        packaged_users=frozenset(raw["programs"]["packaged_users"]),
        daemon_configs=[(c["glob"], c["listen"]) for c in raw["configs"]["listen"]],
        app_listen=_AppListen(
            globs=tuple(raw["configs"]["app_listen"]["globs"]),
            keys=frozenset(raw["configs"]["app_listen"]["keys"]),
            sections=frozenset(raw["configs"]["app_listen"]["sections"]),
            config_dirs=frozenset(raw["configs"]["app_listen"]["config_dirs"]),
            skip_dirs=frozenset(raw["configs"]["app_listen"]["skip_dirs"]),
            skip_names=raw["configs"]["app_listen"]["skip_names"]),
        root_subcommands={p: frozenset(v) for p, v in
                          raw["programs"]["need_root_subcommands"].items()},
        docker_clients=frozenset(raw["programs"]["docker_clients"]),
        docker_providers=dict(raw["programs"]["docker_providers"]),
        builder_programs=frozenset(raw["programs"]["builders"]),
        device_packages=frozenset(raw["packages"]["devices"]),
        device_images=list(raw["images"]["devices"]),
        services=[_Service(frozenset(sv["programs"]), tuple(sv["packages"]), dict(sv["users"]))
                  for sv in raw["services"]],
        port_programs={p: (int(v["port"]), _port_flags(v["flags"]), _switch_flags(v.get("when", [])))
                       for p, v in raw["programs"]["binds_port"].items()},
        port_configs={p: (v["name"], _value_flags(v["flags"]))
                      for p, v in raw["programs"]["port_configs"].items()},
        unix_socket_commands=raw["programs"]["unix_socket_commands"],
        unix_socket_clients=frozenset(raw["packages"]["unix_socket_clients"]),
        unix_socket_requirement=r"(?i)(?<![\w.-])(?:%s)(?![\w-])" % "|".join(
            re.escape(n).replace(r"\-", "[-_.]") for n in raw["packages"]["unix_socket_clients"]),
        journal_readers=frozenset(raw["programs"]["journal_readers"]),
        journal_libraries=frozenset(raw["packages"]["journal_libraries"]),
        journal_shippers=r"(?i)(?<![\w.-])(?:%s)(?![\w.-])" % "|".join(
            re.escape(n) for n in raw["configs"]["journal"]["shippers"]),
        journal_inputs=list(raw["configs"]["journal"]["inputs"]),
        journal_reader_code=raw["configs"]["journal"]["journal_reader_code"],
        host_log_inputs=raw["configs"]["journal"]["host_log_inputs"],
        host_log_prose=raw["configs"]["journal"]["host_log_prose"],
        storage_provisioners=frozenset(raw["programs"]["storage_provisioners"]),
        root_host_paths=dict(raw["paths"]["root_host_paths"]),
        project_tools={p: frozenset(v) for p, v in raw["programs"]["project_tools"].items()},
        file_tools=frozenset(raw["programs"]["file_tools"]),
        build_steps={p: tuple(v) for p, v in raw["programs"]["build_steps"].items()},
        packet_capture=frozenset(raw["packages"]["packet_capture"]),
        fuse=frozenset(raw["packages"]["fuse"]),
        ebpf=frozenset(raw["packages"]["ebpf"]),
        cron_packages=frozenset(raw["packages"]["cron"]),
        rootless_cron=frozenset(raw["packages"]["rootless_cron"]),
        cross_toolchain_env="|".join(raw["programs"]["cross_toolchain_env"]),
        libvirt_system=raw["programs"]["libvirt_system"],
    )


def _value_flags(flags: list[str]) -> str:
    """``-conf /etc/coredns/Corefile``, ``--conf=...``: the path a flag names."""
    if not flags:
        return r"(?!)"
    names = "|".join(re.escape(f.lstrip("-")) for f in flags)
    return rf"(?:^|\s)--?(?:{names})(?:=|\s+)['\"]?([^\s'\"]+)"


def _switch_flags(flags: list[str]) -> str:
    """``-prod``, ``--prod``, ``-prod=true``: a flag that turns a mode on ("" for none)."""
    if not flags:
        return ""
    names = "|".join(re.escape(f.lstrip("-")) for f in flags)
    return rf"(?:^|\s)['\"]?--?(?:{names})(?:=(?:true|1|t)\b|(?![\w.=-]))"


def _port_flags(flags: list[str]) -> str:
    """``-addr :5353``, ``--addr=0.0.0.0:5353``, ``-dns.port 1053``: the port a flag sets."""
    if not flags:
        return r"(?!)"
    names = "|".join(re.escape(f.lstrip("-")) for f in flags)
    return rf"(?:^|\s)--?(?:{names})(?:=|\s+)['\"]?(?:[\w.\[\]-]*:)?(\d{{1,5}})\b"


# ---------------------------------------------------------------------------
# Patterns of the text itself
# ---------------------------------------------------------------------------

# Patterns that only some files need are kept as strings, and ``re`` compiles
# (and keeps) each when a file first needs it: a small Dockerfile alone in its
# directory needs few of them, and compiling them all at import cost it milliseconds.
_GENERATED = (
    r"(?i)\b(do\s+not\s+edit|generated\s+(?:by|via|from|with|using)\b|auto-?generated|"
    r"this\s+file\s+(?:is|was)\s+(?:automatically\s+)?generated)")
_PORT_ARG = (
    r"(?:^|[\s=])(?:-b|--bind|--listen|--host|--port|-p|--http-port|--server\.port|"
    r"listen|PORT)[= ]?(?:[\w.\[\]-]*:)?(\d{1,5})\b|(?:0\.0\.0\.0|\[::\]|\*|localhost):(\d{1,5})\b")
_ENV_PORT = r"^(?:[A-Z0-9_]*_)?PORT$"
_VERSION_ENV = r"^[A-Z][A-Z0-9]*_VERSION$"
#: root-only work an entrypoint script may do at start
_SCRIPT_ROOT = [
    (r"(?m)^\s*(?:exec\s+)?(?:sudo\s+)?(chown|chgrp)\s+(?!--help)",
     "changes file ownership"),
    (r"(?m)^\s*(?:useradd|adduser|groupadd|addgroup|usermod|groupmod)\b",
     "creates or edits users"),
    (r"(?m)(?:sed\s+-i[^\n]*\s/etc/|>>?\s*/etc/|\btee\s+(?:-a\s+)?/etc/|"
     r"\b(?:cp|mv|ln\s+-sf?|install)\s[^\n;&|]*\s/etc/\S*\s*$)",
     "writes into /etc"),  # _ETC_WRITE
    (r"(?:\bservice\s+\S+\s+(?:start|restart)|(?<![\w./-])/etc/init\.d/\S+\s+(?:start|restart)|"
     r"\bsystemctl\s+(?:start|restart)|\brc-service\s+\S+\s+start)\b", "starts system services"),
    (r"(?m)^\s*(?:apt-get|apt|apk|yum|dnf|microdnf|zypper)\s+(?:-\S+\s+)*"
     r"(?:install|add|update|upgrade)\b", "installs packages at start"),
    (r"(?m)^\s*(?:mount(?![ \t]*(?:\||$|>))|sysctl(?![ \t]+-[a-zA-Z]*[naNAX]\b|[ \t]+[\w./]+[ \t]*(?:$|[|;&)]))|"
     r"iptables|ip6tables|nft|modprobe|insmod|setcap|swapon|ulimit\s+-[a-zA-Z]*n)\b"
     r"|\bip(?:\s+-\S+)*\s+(?:link|route|r|addr|address|a|rule|neigh|tuntap)\s+"
     r"(?:add|set|del|delete|replace|change|flush)\b",
     "changes the kernel or network setup"),
    (r"(?m)^\s*exec\s+(?:/sbin/init|/usr/sbin/init|/lib/systemd/systemd|"
     r"/usr/bin/supervisord|supervisord|runsvdir|s6-svscan|/init)\b",
     "starts an init system"),
]


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _cite(path: str, text: str, pos: int) -> str:
    line = _line_of(text, pos)
    body = text.splitlines()[line - 1].strip() if text else ""
    if len(body) > 100:
        body = body[:97] + "..."
    return f"{path}:{line}: {body}"


def _df_name(ctx: Context) -> str:
    build = ctx.build
    if build is not None and build.dockerfile:
        return build.dockerfile
    return posixpath.basename(ctx.path) if ctx.path and ctx.path != "-" else "Dockerfile"


def _ins_cite(ctx: Context, ins: Instruction) -> str:
    if isinstance(ins, _DocumentedCommand):
        return ins.cite
    return _cite(_df_name(ctx), ctx.df.text, ins.span.start)


# ---------------------------------------------------------------------------
# The command the container runs
# ---------------------------------------------------------------------------

_WRAPPERS = frozenset({"/bin/sh", "sh", "/bin/bash", "bash", "-c", "-e", "-ex", "-x", "exec",
                       "tini", "/sbin/tini", "/tini", "/usr/bin/tini", "--", "dumb-init",
                       "/usr/bin/dumb-init", "/usr/local/bin/dumb-init", "env", "/usr/bin/env",
                       "-g", "-s"})


_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})


@dataclass
class _Command:
    """The command the runtime stage runs, as the judgement reads it."""

    ins: Instruction | None  #: the ENTRYPOINT/CMD that sets it (None: none in the file)
    words: list[str]  #: the whole command line, entrypoint then cmd
    program: str  #: the first word that is not a wrapper ("" when none)
    stage: StageInfo | None
    runs: list[Invocation] | None = None  #: its documented ``docker run`` lines (read lazily)
    scripts: list[tuple[str, str]] | None = None  #: its entrypoint scripts (read lazily)
    #: the compose services that build this file (read lazily)
    compose: list[tuple[str, str, int]] | None = None
    #: the hostPath/nfs volumes of the Kubernetes pods that run it (read lazily)
    volumes: list[HostVolume] | None = None
    #: the documented run whose command this is, when the file sets none
    documented: Invocation | None = None
    #: (context path, text) of the program's own source files (read lazily)
    sources: list[tuple[str, str]] | None = None


def _command(info: StageInfo) -> _Command:
    parts = command_parts(info)
    first = parts[0] if parts else None
    words = [expand(v, s.env)[0] for ins, s in parts for v in form_words(ins)]
    return _Command(first[0] if first else None, words, _program_of(words),
                    first[1] if first else None)


def _program_of(words: list[str]) -> str:
    """The program a command line starts: its first word that is not a wrapper,
    past a ``cd DIR &&`` (or ``;``) that only picks its run directory."""
    program = ""
    skip = 0
    for i, w in enumerate(words):
        if skip:
            skip -= 1
            continue
        if w in _WRAPPERS or w.startswith("-"):
            continue
        if w == "cd" and i + 2 < len(words) and words[i + 2] in ("&&", ";"):
            skip = 2
            continue
        if w == "cd" and i + 1 < len(words) and words[i + 1].endswith(";") and \
                words[i + 1] != ";":
            skip = 1
            continue
        m = re.match(r"cd\s+[^\s;&|]+\s*(?:&&|;)\s*(\S.*)", w, re.S)
        program = m.group(1) if m else w  # a shell's `-c` text: the rest of it
        break
    if not program and "-c" not in words:
        # a bare shell (`ENTRYPOINT ["/bin/bash"]`, `CMD ["sh"]`) is the command itself,
        # not the absence of one
        program = next((w for w in words if _program_name(w) in _SHELLS), "")
    return program


def _program_name(program: str) -> str:
    return posixpath.basename(program.strip("\"'"))


class _DocumentedCommand(Instruction):
    """The ``CMD`` (or ``ENTRYPOINT``) that a documented ``docker run`` gives an
    image whose file sets none; cited as the documentation's line."""

    __slots__ = ("cite",)
    cite: str  #: ``path:line: text`` of the documentation's line

    @classmethod
    def of(cls, run: Invocation, words: list[str]) -> _DocumentedCommand:
        keyword = "ENTRYPOINT" if run.entrypoint else "CMD"
        parsed = parse(f"FROM scratch\n{keyword} {json.dumps(words)}\n").instructions[-1]
        doc = cls.__new__(cls)
        for slot in Instruction.__slots__:
            if hasattr(parsed, slot):
                setattr(doc, slot, getattr(parsed, slot))
        doc.cite = _command_cite(run, words)
        return doc


def _command_cite(run: Invocation, words: list[str]) -> str:
    """``path:line: text`` of the documented run's line that holds its command
    (``g -c conf.yaml`` below the image), else of its first line."""
    seen_image = False
    for i, raw in enumerate(run.span):
        at = raw.find(run.image) if run.image and not seen_image else -1
        if at >= 0:
            seen_image, raw = True, raw[at + len(run.image):]
        if seen_image and words and words[0] in raw:
            line = run.span[i].strip()
            body = line if len(line) <= 100 else line[:97] + "..."
            return f"{run.path}:{run.line + i}: {body}"
    return run.cite()


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
    if command.ins is not None or info.chain[-1].base.lower() == "scratch" or any(
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
    #: the directories its documented runs mount read-write (``-v /srv/x:/data``,
    #: ``-v data:/data``): a fix creates them owned by the new user, as a named
    #: volume takes its mount point's owner
    mounts: tuple[str, ...] = ()


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
    mounts: list[str] = []
    for run in found.runs or []:
        for m in run.mounts:
            target = posixpath.normpath(m.target)
            # a file (``-v ./app.yml:/app/app.yml``) must not become a directory
            if m.read_only or not target.startswith("/") or "." in posixpath.basename(target) \
                    or re.search(r"[$*?{}<>]", target) or re.match(_NOT_APP_MOUNTS, target) \
                    or target in ("/", "/var", "/opt", "/srv", "/home", "/mnt", "/media") \
                    or target in mounts:
                continue
            mounts.append(target)
    return DocumentedRun(found.ins.cite, tuple(mounts))


# ---------------------------------------------------------------------------
# The build context
# ---------------------------------------------------------------------------


def _copied_sources(ctx: Context, info: StageInfo) -> list[tuple[str, str, Instruction]]:
    """(context path, destination, instruction) of each local COPY/ADD source
    of the runtime chain that exists in the build context."""
    build = ctx.build
    if build is None:
        return []
    here = dockerfile_dir(build)
    out: list[tuple[str, str, Instruction]] = []
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd not in ("COPY", "ADD") or ins.flag("from") or ins.heredocs:
                continue
            vals = [expand(v, s.env)[0] for v in ins.values]
            if len(vals) < 2:
                continue
            dest = workdir_path(s, ins, vals[-1])
            for src in vals[:-1]:
                if "://" in src:
                    continue
                for base in (here, *[a for a in ancestors(build.dockerfile or "") if a != here]):
                    cand = posixpath.normpath(posixpath.join(base, src)) if base else \
                        posixpath.normpath(src)
                    if cand.startswith(".."):
                        continue
                    if re.compile(_GLOB_CHARS).search(src):
                        hits = _glob(build, cand)
                        out += [(h, dest, ins) for h in hits]
                        if hits:
                            break
                    elif build.is_dir(cand) or build.read_text(cand) is not None:
                        out.append((cand, dest, ins))
                        break
    return out


_GLOB_CHARS = r"[*?\[]"


def _glob(build: BuildContext, pattern: str) -> list[str]:
    """The context paths a COPY source glob (``*.sh``, ``scripts/*``) matches,
    when only its last segment is a pattern (as nearly all are); BuildKit
    matches each segment as Go's ``filepath.Match`` does, like fnmatch here."""
    parent, _, name = pattern.rpartition("/")
    if re.compile(_GLOB_CHARS).search(parent):
        return []
    return [f"{parent}/{e}" if parent else e for e in sorted(build.list_dir(parent))
            if fnmatchcase(e, name)][:200]


def _files_under(build: BuildContext, path: str, limit: int = 400) -> list[str]:
    """The files of a context directory (a COPY of a whole folder), breadth
    first, at most ``limit`` of them."""
    if not build.is_dir(path):
        return [path]
    out: list[str] = []
    queue = [path]
    while queue and len(out) < limit:
        d = queue.pop(0)
        for name in build.list_dir(d):
            if len(out) >= limit:
                break
            p = f"{d}/{name}" if d else name
            if build.is_dir(p):
                if name not in (".git", "node_modules"):
                    queue.append(p)
            else:
                out.append(p)
    return out


def _entrypoint_scripts(ctx: Context, info: StageInfo, command: _Command,
                        copied: list[tuple[str, str, Instruction]]) -> list[tuple[str, str]]:
    """(context path, text) of the scripts the container's command runs, when the
    file copies them in from the build context."""
    build = ctx.build
    if build is None or not command.words:
        return []
    names = {_program_name(w) for w in command.words[:4] if not w.startswith("-")}
    names = {n for n in names if n and n not in _WRAPPERS}
    runs_entrypoint = any("entrypoint" in n for n in names)
    out: list[tuple[str, str]] = []
    for src, dest, _ in copied:
        for f in _files_under(build, src, 200):
            parent = posixpath.basename(posixpath.dirname(f)) or posixpath.basename(dest)
            if posixpath.basename(f) in names or (
                    posixpath.basename(dest) in names and not build.is_dir(src)) or (
                    runs_entrypoint and re.search(r"entrypoint.*\.d$|^init\.d$", parent)
                    and f.endswith(".sh")):
                text = build.read_text(f)
                if text is not None and (f, text) not in out:
                    out.append((f, text))
    out = out[:8]
    # a command that runs make (`make serve`) runs the recipe of its target
    cwd = final_workdir(info) or "/"
    for argv, at in _argvs_in(command.words, cwd):
        for made in _make_recipes(build, copied, argv, at):
            if made not in out and len(out) < 8:
                out.append(made)
    # What those scripts source or run from the context, two levels down, at
    # most 8 scripts in all: the work done at start may sit in a helper.
    level = list(out)
    env = _runtime_env(info)
    for _ in range(2):
        found: list[tuple[str, str]] = []
        for path, text in level:
            for f in _script_calls(build, path, text, copied, env):
                if len(out) + len(found) >= 8:
                    break
                body = build.read_text(f)
                if body is not None and _is_shell(f, body) and \
                        all(f != p for p, _ in out + found):
                    found.append((f, body))
        out += found
        level = found
    return out


#: where a script runs or sources another: ``source x``, ``. x``, ``exec x``,
#: ``bash x``, ``run-parts DIR``, ``for f in DIR/*.sh``, or a path run as a command
_CALL = (
    r"(?:^|[;&|])[ \t]*(?:(?:then|do|else|\{|!)[ \t]+)?(?:(?P<src>source|\.)[ \t]+|(?P<kw>exec|(?:ba|da)?sh)[ \t]+"
    r"(?:-\w+[ \t]+)*|(?P<parts>run-parts)[ \t]+(?:-\S+[ \t]+)*|"
    r"for[ \t]+\w+[ \t]+in[ \t]+(?P<glob>))?"
    r"[\"']?(?P<path>(?:\$\(dirname[ \t]+\"?\$(?:0|\{?BASH_SOURCE(?:\[0\])?\}?)\"?\)|"
    r'\$\{0%/\*\}|\$\{[A-Za-z_]\w*(?::?[-=][^}\s]*)?\}|\$[A-Za-z_]\w*(?=[/"])|[\w.~/-])'
    r'[\w./${}()"*:-]*)')  # with re.M
_HERE = r"^(?:\$\(dirname[ \t]+\"?\$(?:0|\{?BASH_SOURCE(?:\[0\])?\}?)\"?\)|\$\{0%/\*\})"
#: the script's own directory, as scripts write it (read as ``${0%/*}``):
#: ``$(cd "$(dirname "$0")" && pwd)``, ``$(dirname "$(readlink -f "$0")")``,
#: ``$(realpath "$(dirname "$0")")``, with ``BASH_SOURCE`` for ``$0``
_ZERO = r'\$(?:0|\{0\}|\{?BASH_SOURCE(?:\[0\])?\}?)'
_SELF_DIR = (
    r'\$\([ \t]*cd[ \t]+(?:-P[ \t]+)?(?:--[ \t]+)?"?\$\(dirname[ \t]+"?' + _ZERO + r'"?\)"?'
    r'(?:[ \t]*>[ \t]*/dev/null(?:[ \t]+2>&1)?)?[ \t]*&&[ \t]*pwd(?:[ \t]+-P)?[ \t]*\)'
    r'|\$\(dirname[ \t]+"?\$\((?:readlink[ \t]+-f|realpath)[ \t]+"?' + _ZERO + r'"?\)"?\)'
    r'|\$\(realpath[ \t]+"?\$\(dirname[ \t]+"?' + _ZERO + r'"?\)"?\)'
    r'|\$\(dirname[ \t]+"?' + _ZERO + r'"?\)')


def _runtime_env(info: StageInfo) -> dict[str, str]:
    """The ``ENV`` values the running container has (not build-only ``ARG``s)."""
    env: dict[str, str] = {}
    for s in reversed(info.chain):
        for ins in s.stage.instructions:
            if ins.cmd == "ENV":
                for k, v in _env_pairs(ins):
                    env[k] = expand(v, s.env)[0]
    return env


def _path_variables(text: str, end: int, env: dict[str, str]) -> dict[str, str | None]:
    """What a script's variables hold at ``end``: its simple assignments before
    it (a name it sets in two ways is unknown), else the image's ``ENV``."""
    out: dict[str, str | None] = dict(env)
    out.update(sh_variables(text, end))
    return out


def _argvs_in(words: list[str], cwd: str) -> list[tuple[list[str], str]]:
    """(argv, run directory) of the commands a command line runs: the line
    itself past its wrappers, or what its shell's ``-c`` string runs, past a
    ``cd DIR`` (``sh -c "cd app && make serve"``)."""
    if "-c" in words[:-1] and any(_program_name(w) in _SHELLS for w in words[:words.index("-c")]):
        inner = words[words.index("-c") + 1]
        return list(_argvs_with_cwd(commands(inner).commands, cwd)) if len(inner) < 4096 else []
    # past an entrypoint script that runs its arguments (`/entrypoint.sh make serve`)
    at = next((i for i, w in enumerate(words[:4]) if _program_name(w) in ("make", "gmake")), None)
    if at is not None:
        return [(words[at:], cwd)]
    rest = list(words)
    while rest and (rest[0] in _WRAPPERS or rest[0].startswith("-")):
        rest.pop(0)
    return [(rest, cwd)] if rest else []


def _argvs_with_cwd(cmds: Iterable[Command], cwd: str) -> Iterator[tuple[list[str], str]]:
    """(argv, run directory) of each command, past the ``cd DIR`` before it."""
    for argv in _run_argvs(cmds):
        if argv[:1] == ["cd"] and len(argv) == 2 and "$" not in argv[1]:
            cwd = posixpath.normpath(posixpath.join(cwd, argv[1]))
            continue
        yield argv, cwd


def _make_recipes(build: BuildContext, copied: list[tuple[str, str, Instruction]],
                  argv: list[str], cwd: str) -> list[tuple[str, str]]:
    """(context path, recipes) of the Makefile that ``argv`` runs, when it is a
    ``make`` command run in ``cwd`` and the context holds the Makefile the
    image has there: its text with only the recipe lines of the targets named
    (:func:`rewriter.dockerfile.makefile.recipes`), line numbers kept."""
    while argv and _program_name(argv[0]) in ("sudo", "env", "nohup", "time", "exec"):
        argv = argv[1:]
    call = make_call(argv)
    if call is None:
        return []
    for image in makefile_paths(cwd, call):
        for found in _in_context(build, "", image, copied):
            if build.is_dir(found):
                continue
            text = build.read_text(found)
            if text is None:
                continue
            body = recipes(text, call[2])
            return [(found, body)] if body is not None else []
    return []


def _script_calls(build: BuildContext, path: str, text: str,
                  copied: list[tuple[str, str, Instruction]],
                  env: dict[str, str] | None = None) -> list[str]:
    """The context files the script at ``path`` sources or runs: a path inside
    the image is mapped back through the COPY/ADD that put it there; a relative
    one is read beside the script. Variables in the path are read from the
    script's own assignments before the call, then from the image's ``ENV``
    (``env``); a path with a variable neither sets is not followed."""
    out: list[str] = []
    text = re.sub(_SELF_DIR, "${0%/*}", text) if "$(" in text else text
    for m in re.finditer(_CALL, text, re.M):
        if _in_shell_comment(text, m.start("path")):
            continue
        raw = m.group("path").replace('"', "").replace("'", "")
        if "$" in re.sub(_HERE, "", raw):
            raw = sh_expand(raw, _path_variables(text, m.start(), env or {}))
        raw = re.sub(_HERE, ".", raw)
        is_dir = m.group("parts") is not None
        pattern = ""
        if m.group("glob") is not None:
            raw, _, pattern = raw.rpartition("/")
            if "*" not in pattern:
                continue
            is_dir = True
        elif "*" in raw:
            continue
        keyword = any(m.group(g) is not None for g in ("src", "kw", "parts", "glob"))
        if "$" in raw or "~" in raw or not raw or (not keyword and "/" not in raw):
            continue
        for cand in _in_context(build, path, raw, copied):
            if is_dir and build.is_dir(cand):
                for name in sorted(build.list_dir(cand))[:20]:
                    f = f"{cand}/{name}"
                    if fnmatch(name, pattern or "*") and not build.is_dir(f):
                        out.append(f)
                break
            if not is_dir and not build.is_dir(cand) and build.read_text(cand) is not None:
                out.append(cand)
                break
    return out


def _is_shell(path: str, text: str) -> bool:
    """A shell script (by its name or its ``#!`` line), not a program in another
    language that the shell's patterns would misread."""
    first = text.split("\n", 1)[0]
    if first.startswith("#!"):
        return bool(re.search(r"\b(?:ba|da|a|z)?sh\b", first))
    return path.endswith((".sh", ".bash")) or "." not in posixpath.basename(path)


def _in_context(build: BuildContext, script: str, raw: str,
                copied: list[tuple[str, str, Instruction]]) -> list[str]:
    """Where ``raw``, named by the context file ``script``, may be in the context."""
    if not raw.startswith("/"):
        return [posixpath.normpath(posixpath.join(posixpath.dirname(script), raw))]
    raw = posixpath.normpath(raw)
    out = []
    for src, dest, _ in copied:
        if build.is_dir(src):
            if raw == dest or raw.startswith(dest.rstrip("/") + "/"):
                rest = raw[len(dest):].lstrip("/")
                out.append(posixpath.normpath(posixpath.join(src, rest)) if rest else src)
        elif raw in (dest, posixpath.join(dest, posixpath.basename(src))):
            out.append(src)
    return out


def _scripts(ctx: Context, info: StageInfo, command: _Command,
             copied: list[tuple[str, str, Instruction]]) -> list[tuple[str, str]]:
    """:func:`_entrypoint_scripts` of the judged command, found once per judgement."""
    if command.scripts is None:
        command.scripts = _entrypoint_scripts(ctx, info, command, copied)
    return command.scripts


def entrypoint_scripts(ctx: Context, info: StageInfo) -> list[tuple[str, str]]:
    """(context path, text) of the scripts the runtime stage's command runs,
    and of those they source or run, as far as the build context holds them."""
    return _entrypoint_scripts(ctx, info, _command(info), _copied_sources(ctx, info))


_COMPOSE_NAME = r"(?:docker-)?compose[\w.-]*\.ya?ml"
_TEMPLATE_SUFFIXES = (".template", ".tmpl", ".tpl", ".j2", ".jinja", ".in", ".erb", ".m4")


# A directory's listing is the same tuple for every Dockerfile of a run that
# reads it (rewriter.io.context.Listings): what these pick out of it is kept.
@functools.lru_cache(maxsize=256)
def _compose_files(entries: tuple[str, ...]) -> tuple[str, ...]:
    """The compose files among a directory's entries."""
    return tuple(n for n in entries if "compose" in n and re.compile(_COMPOSE_NAME).fullmatch(n))


@functools.lru_cache(maxsize=256)
def _templates(entries: tuple[str, ...]) -> tuple[str, ...]:
    """The template files among a directory's entries."""
    return tuple(n for n in entries if n.endswith(_TEMPLATE_SUFFIXES))


def _compose_services(ctx: Context) -> list[tuple[str, str, int]]:
    """(compose file, service block text, offset) of services that build this Dockerfile."""
    build = ctx.build
    if build is None or not build.dockerfile:
        return []
    df_dir = dockerfile_dir(build)
    df_base = posixpath.basename(build.dockerfile)
    out: list[tuple[str, str, int]] = []
    for d in ancestors(build.dockerfile)[:4]:
        for name in _compose_files(build.list_dir(d)):
            path = f"{d}/{name}" if d else name
            text = build.read_text(path)
            if not text:
                continue
            env = _dotenv(build.read_text(f"{d}/.env" if d else ".env") or "")
            for block, at in _service_blocks(text):
                m = re.search(r"^[ \t]*(?:build|context):[ \t]*['\"]?([^'\"\n#]+?)['\"]?[ \t]*$", block, re.M)
                if not m:
                    continue
                ctx_dir = posixpath.normpath(posixpath.join(d, _subst(m.group(1).strip(), env)))
                ctx_dir = "" if ctx_dir == "." else ctx_dir
                dfm = re.search(r"^[ \t]*dockerfile:[ \t]*['\"]?([^'\"\n#]+?)['\"]?[ \t]*$", block, re.M)
                want = _subst(dfm.group(1).strip(), env) if dfm else "Dockerfile"
                target = posixpath.normpath(posixpath.join(ctx_dir, want))
                if target == build.dockerfile:
                    out.append((path, block, at))
    return out


def _services(ctx: Context, command: _Command) -> list[tuple[str, str, int]]:
    """:func:`_compose_services`, read once per judgement (seven checks ask)."""
    if command.compose is None:
        command.compose = _compose_services(ctx)
    return command.compose


def _dotenv(text: str) -> dict[str, str]:
    """``KEY=value`` lines of a compose ``.env`` file."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = re.match(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$", line)
        if m:
            out[m.group(1)] = m.group(2).strip("'\"")
    return out


def _subst(text: str, env: dict[str, str]) -> str:
    """``${VAR}``, ``${VAR:-default}`` and ``$VAR`` from a compose ``.env`` (string substitution)."""
    return re.sub(r"\$\{(\w+)(?::?-([^}]*))?\}|\$(\w+)",
                  lambda m: env.get(m.group(1) or m.group(3), m.group(2) or ""), text)


def _service_blocks(text: str) -> list[tuple[str, int]]:
    """The blocks under ``services:`` of a compose file, by indentation."""
    lines = text.splitlines(keepends=True)
    out: list[tuple[str, int]] = []
    pos, in_services, start = 0, False, 0
    indent: int | None = None
    buf: list[str] = []
    for ln in lines:
        stripped = ln.strip()
        lead = len(ln) - len(ln.lstrip(" "))
        if re.match(r"^services:\s*$", ln):
            in_services, indent = True, None
        elif in_services and stripped and not stripped.startswith("#"):
            if lead == 0:
                if buf:
                    out.append(("".join(buf), start))
                buf, in_services = [], False
            elif indent is None or lead <= indent:
                if buf:
                    out.append(("".join(buf), start))
                indent, start, buf = lead, pos, [ln]
            else:
                buf.append(ln)
        elif in_services and buf:
            buf.append(ln)
        pos += len(ln)
    if buf:
        out.append(("".join(buf), start))
    return out


# ---------------------------------------------------------------------------
# The judgement
# ---------------------------------------------------------------------------


def judge(ctx: Context, info: StageInfo) -> Judgement | None:
    """Why the runtime stage should not be switched to a new user, or None (an app)."""
    k = knowledge()
    command = _judged_command(ctx, info, k)
    copied = _copied_sources(ctx, info)
    for check in (_generated, _by_path, _devcontainer_json, _compose_target, _linuxkit,
                  _unknown_base, _dind,
                  _already_nonroot, _root_chosen, _by_command, _root_only_program, _init_system,
                  _needs_root,
                  _host_access,
                  _packaged_service,
                  _unread_script, _unread_build_script, _setuid, _devices, _host_pid, _ports,
                  _no_process, _base_image,
                  _built_upon, _shown_as_base,
                  _documented_purpose, _root_home, _root_owned_writes, _bind_mounts,
                  _builder_tool, _mounted_project):
        j = check(ctx, info, command, copied, k)
        if j is not None:
            return j
    return None


def not_an_app(ctx: Context, info: StageInfo) -> Judgement | None:
    """Why the image is not an app, from where and what the file is alone
    (generated, a test fixture or CI builder by its path, a devcontainer), or
    None: for images already non-root, which other rules would still edit."""
    k = knowledge()
    command = _command(info)
    for check in (_generated, _by_path, _devcontainer_json):
        j = check(ctx, info, command, [], k)
        if j is not None:
            return j
    return None


def packaged_user(name: str) -> bool:
    """Whether ``name`` is an account that packages or base images create."""
    return name in knowledge().packaged_users


_FIRST_COMMENT = r"[ \t]*#[^\n]*"
_NEXT_COMMENT = r"\n([ \t]*#[^\n]*)"


@functools.lru_cache(maxsize=2)
def _comment_lines(text: str) -> tuple[tuple[int, str], ...]:
    """Each line of ``text`` that is a comment (blanks, then ``#``): its offset
    and its text, as ``re.finditer(r"^[ \t]*#[^\n]*", text, re.M)`` finds them.
    Read by three checks, for every stage: found once a text (keyed by the
    text itself), and by a search that jumps from newline to newline, which
    is four times as fast as trying ``^`` at every character."""
    first = re.compile(_FIRST_COMMENT).match(text)
    out = [(0, first.group(0))] if first else []
    out += [(m.start(1), m.group(1)) for m in re.compile(_NEXT_COMMENT).finditer(text)]
    return tuple(out)


#: instructions whose words a project template fills in (``WORKDIR /usr/src/{{project_name}}``);
#: a RUN, CMD or HEALTHCHECK may hold a Go template of a tool (``--format '{{.Id}}'``)
_TEMPLATED = frozenset({"FROM", "WORKDIR", "COPY", "ADD", "USER", "EXPOSE", "VOLUME", "ENV",
                        "ARG"})
#: a Jinja/Django/cookiecutter placeholder (``{{ project_name }}``,
#: ``{{cookiecutter.slug}}``, ``{% if ... %}``), not a Go template's ``{{.Name}}``
_PLACEHOLDER = r"\{\{-?\s*[A-Za-z_][\w.]*(?:\s*\|\s*\w+)?\s*-?\}\}|\{%-?\s*\w+[^%]*%\}"


def _generated(ctx: Context, info: StageInfo, command: _Command,
               copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    text = ctx.df.text
    name = _df_name(ctx)
    for at, comment in _comment_lines(text):
        g = re.search(_GENERATED, comment)
        if g:
            return Judgement("generated-file", "generated",
                             "the file says it is generated; change its template instead",
                             (_cite(name, text, at),),
                             "fix the template or generator, then regenerate")
    for ins in ctx.df.instructions:
        if ins.cmd in _TEMPLATED and "{" in ins.args:
            m = re.search(_PLACEHOLDER, ins.args)
            if m:
                return Judgement("generated-file", "generated",
                                 f"the file is a template (`{m.group(0)}`): a generator fills it "
                                 "in to make the Dockerfile, so the paths and names it will "
                                 "hold are not known here", (_ins_cite(ctx, ins),),
                                 "fix the template by hand, or run dockfix on a Dockerfile "
                                 "made from it")
    build = ctx.build
    if build is not None and build.dockerfile:
        base = posixpath.basename(build.dockerfile)
        here = dockerfile_dir(build)
        for d in ancestors(build.dockerfile)[:3]:
            for entry in _templates(build.list_dir(d)):
                low = entry.lower()
                if low.startswith(("dockerfile", base.lower())):
                    path = f"{d}/{entry}" if d else entry
                    if d == here or "dockerfile" in low:
                        return Judgement(
                            "generated-file", "generated",
                            f"the file is made from the template `{path}`; change the template",
                            (f"{path}: the template",), "fix the template, then regenerate")
    return None


def _parts(ctx: Context) -> list[str]:
    build = ctx.build
    path = build.dockerfile if build is not None and build.dockerfile else None
    if path is None:
        return []
    return [p.lower() for p in path.split("/")]


_TEST_WORD = r"(?i)(?:^|[-_.])(?:e2e|tests?|specs?|testsuite|test-runner)(?:[-_.]|$)"


def _by_command(ctx: Context, info: StageInfo, command: _Command,
                copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """What the container's command says of the image."""
    if command.ins is None:
        return None
    if command.program.endswith(".wasm"):
        return Judgement("wasm-module", "other",
                         "the entrypoint is a WebAssembly module: it runs in a Wasm runtime, "
                         "with no Linux user for USER to act on", (_ins_cite(ctx, command.ins),))
    for w in command.words[:6]:
        name = _program_name(w)
        if name in ("test", "[") or w.startswith("-") or "=" in w:
            continue
        if re.compile(_TEST_WORD).search(name) and name not in k.root_programs:
            return Judgement("test-fixture", "test-fixture",
                             f"the container runs `{w}`: a test run, not a service",
                             (_ins_cite(ctx, command.ins),))
    runner = purpose.runs_tests(" ".join(command.words)) if command.documented is None else None
    if runner is not None:  # `npm run test`, `go test ./...`, `pytest`
        return Judgement("test-fixture", "test-fixture",
                         f"its command runs the tests (`{runner}`): a test image, run to check "
                         "the code and thrown away, not a service", (_ins_cite(ctx, command.ins),),
                         "leave the test image as it is; switch the user of the image that is "
                         "deployed")
    return None


#: a chmod mode that leaves others without execute: ``744``, ``0700``, ``o-x``, ``go-rwx``
_NO_OTHER_EXEC = r"^(?:0?[0-7]{2}[0246]|[ug]*o[ug]*-[rw]*x[rw]*|a?-[rw]*x[rw]*|=[rw]*)$"


def _root_only_program(ctx: Context, info: StageInfo, command: _Command,
                       copied: list[tuple[str, str, Instruction]],
                       k: _Knowledge) -> Judgement | None:
    """The build leaves the program the container runs executable by its
    owner only (``chmod 744 /usr/bin/app``): root can start it, another user
    cannot. The last chmod of that file decides (``chmod 755`` after it mends it)."""
    if command.ins is None or not command.program or "$" in command.program:
        return None
    program = command.program
    before = command.words[:command.words.index(program)] if program in command.words else []
    if any(_program_name(w) in _SHELLS or _program_name(w) in k.interpreters for w in before):
        return None  # `sh /usr/local/bin/run.sh`: read by the shell, not executed
    last: tuple[str, str, Instruction] | None = None
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd != "RUN":
                continue
            for prog, args in programs(ins.logical):
                ops = [a.strip("\"'") for a in args if not a.startswith("-") or
                       re.match(r"^-[rwx]+$", a)]
                if prog != "chmod" or len(ops) < 2:
                    continue
                for target in ops[1:]:
                    full = target if target.startswith("/") else \
                        posixpath.normpath(posixpath.join(workdir_path(s, ins, "."), target))
                    if full == program or ("/" not in program and
                                           posixpath.basename(full) == program and
                                           posixpath.dirname(full) in _BIN_DIRS):
                        last = (ops[0], full, ins)
    if last is None or not re.search(_NO_OTHER_EXEC, last[0]):
        return None
    mode, full, ins = last
    return Judgement("root-only-program", "app",
                     f"the build makes `{full}`, the program the container runs, executable "
                     f"by its owner, root, only (`chmod {mode}`): another user cannot start it",
                     (_ins_cite(ctx, ins),), "let every user run it (`chmod 755`), then add USER")


def _setuid(ctx: Context, info: StageInfo, command: _Command,
            copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """The file installs a setuid program: the image is about privileges."""
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd == "RUN" and re.search(r"\bchmod\s+(?:-\w+\s+)*(?:[ugoa]*\+[rwx]*s|[4-7][0-7]{3})\b",
                                              ins.logical):
                return Judgement("setuid-program", "other",
                                 "the file makes a program setuid: what the image does is about "
                                 "privileges, so a USER line changes its meaning",
                                 (_ins_cite(ctx, ins),))
    return None


def _by_path(ctx: Context, info: StageInfo, command: _Command,
             copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    parts = _parts(ctx)
    if not parts:
        return None
    path = ctx.build.dockerfile if ctx.build is not None and ctx.build.dockerfile else "/".join(parts)
    dirs, base = parts[:-1], parts[-1]
    if ".devcontainer" in dirs:
        return Judgement("devcontainer", "devcontainer",
                         "a devcontainer: the editor connects as the user devcontainer.json "
                         "names (remoteUser), and its features install as root",
                         (f"{path}: in .devcontainer/",),
                         "set remoteUser/containerUser in devcontainer.json")
    hit = next((d for d in dirs if d in ("vendor", "third_party", "third-party", "node_modules",
                                         "external", "_vendor", "deps")), None)
    if hit:
        return Judgement("vendored", "other",
                         f"a copy of another project's file (under `{hit}/`): change it upstream",
                         (f"{path}: under {hit}/",))
    hit = next((d for d in dirs if any(fnmatch(d, g) for g in k.fixture_dirs)), None)
    if hit:
        return Judgement("test-fixture", "test-fixture",
                         f"a test fixture (under `{hit}/`): it is built by tests, not run as a "
                         "service", (f"{path}: under {hit}/",))
    hit = next((d for d in dirs if d in k.builder_dirs), None)
    name_hit = next((g for g in k.builder_names if fnmatch(base, g)), None)
    if (hit or name_hit) and (command.ins is None or command.documented is not None):
        return Judgement("ci-builder", "ci-builder",
                         "a build or CI image: its steps run as root and write the "
                         "workspace the CI mounts", (f"{path}: {'under ' + hit + '/' if hit else 'named ' + base}",),
                         "images built FROM it, or the CI job, choose the user")
    build = ctx.build
    if build is not None:
        here = dockerfile_dir(build)
        for name in ("action.yml", "action.yaml"):
            p = f"{here}/{name}" if here else name
            text = build.read_text(p)
            m = re.search(r"^\s*using:\s*['\"]?docker['\"]?\s*$", text or "", re.M)
            if text and m:
                return Judgement("ci-builder", "ci-builder",
                                 f"a GitHub Docker container action (`{p}`): GitHub runs it as "
                                 "root in the runner's workspace and documents that its "
                                 "Dockerfile must not set USER", (_cite(p, text, m.start()),),
                                 "leave the action's image as it is")
        for entry in build.list_dir(here):
            if entry in k.ci_files:
                p = f"{here}/{entry}" if here else entry
                text = build.read_text(p) or ""
                if re.search(r"\b(?:docker|image|dockerfile|Dockerfile)\b", text) and \
                        (command.ins is None or command.documented is not None):
                    return Judgement("ci-builder", "ci-builder",
                                     f"a CI builder image: `{p}` runs its steps in it",
                                     (f"{p}: the CI configuration beside it",))
    return None


def _linuxkit(ctx: Context, info: StageInfo, command: _Command,
              copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """A LinuxKit package: LinuxKit runs it with the user, capabilities and
    mounts of its YAML or of the image's ``org.mobyproject.config`` label,
    not with the image's USER."""
    for s in ctx.model.stages:
        for ins in s.stage.instructions:
            if ins.cmd == "LABEL" and "org.mobyproject.config" in ins.args:
                return Judgement("linuxkit-package", "other",
                                 "a LinuxKit package (`org.mobyproject.config`): LinuxKit runs it "
                                 "with the user and capabilities its YAML or this label sets, "
                                 "and the image's USER is not read", (_ins_cite(ctx, ins),),
                                 "set the user in the package's configuration")
    for s in ctx.model.stages:
        ref = split_ref(s.base) if s.base else None
        if ref is not None and ref[0].startswith("linuxkit/"):
            return Judgement("linuxkit-package", "other",
                             f"a LinuxKit package (built on `{s.base}`): LinuxKit runs it with "
                             "the user and capabilities of its YAML or its "
                             "`org.mobyproject.config` label, and the image's USER is not read",
                             (_ins_cite(ctx, s.stage.from_),),
                             "set the user in the package's configuration")
    return None


def _devcontainer_json(ctx: Context, info: StageInfo, command: _Command,
                       copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    build = ctx.build
    if build is None or not build.dockerfile:
        return None
    here = dockerfile_dir(build)
    base = posixpath.basename(build.dockerfile)
    for d in (here, posixpath.join(here, ".devcontainer") if here else ".devcontainer"):
        for name in ("devcontainer.json", ".devcontainer.json"):
            p = f"{d}/{name}" if d else name
            text = build.read_text(p)
            if text and re.search(r'"dockerFile"\s*:\s*"[^"]*' + re.escape(base) + '"', text, re.I):
                return Judgement("devcontainer", "devcontainer",
                                 f"a devcontainer image (`{p}` builds it)", (f"{p}: builds {base}",),
                                 "set remoteUser/containerUser in devcontainer.json")
    return None


def _unknown_base(ctx: Context, info: StageInfo, command: _Command,
                  copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """The base image is chosen at build time (``FROM $BUILD_FROM`` with no
    default): nothing tells what it is or what its entrypoint does."""
    root = info.chain[-1]
    if root.base_resolved:
        return None
    words = [w for w in root.stage.from_.args.split() if not w.startswith("--")]
    ref = words[0] if words else root.base
    return Judgement("unknown-base", "app",
                     f"the base image `{ref}` is chosen at build time: its family and "
                     "entrypoint are unknown",
                     (_ins_cite(ctx, root.stage.from_),),
                     "pass the base with --build-arg so dockfix can judge it")


def _dind(ctx: Context, info: StageInfo, command: _Command,
          copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    for s in info.chain:
        base = s.base.lower()
        if s.parent is None and re.match(r"^(?:docker\.io/)?(?:library/)?docker:[^/]*dind", base):
            return Judgement("dind", "dind", "Docker-in-Docker: dockerd needs root",
                             (_ins_cite(ctx, s.stage.from_),))
    if _program_name(command.program) in k.dind_programs and command.ins is not None:
        return Judgement("dind", "dind", "the container runs a Docker daemon, which needs root",
                         (_ins_cite(ctx, command.ins),))
    return None


def _already_nonroot(ctx: Context, info: StageInfo, command: _Command,
                     copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    root = info.chain[-1]
    base = root.base.lower()
    for pat in k.nonroot_images:
        if fnmatch(base.split("@")[0], pat):
            return Judgement("already-nonroot", "app",
                             f"`{root.base}` already runs as a non-root user",
                             (_ins_cite(ctx, root.stage.from_),))
    if info.users or any(s.users for s in info.chain):
        return None
    for s in info.chain:
        for ins in s.stage.instructions:
            if not may_run(ins, ("sudo",)):  # cheap: most RUNs cannot hold it
                continue
            for c in run_commands(ins):
                if c.argv and posixpath.basename(c.argv[0]) == "sudo":
                    return Judgement(
                        "already-nonroot", "app",
                        "the build runs `sudo` with no USER in the file: the base image "
                        "already runs as a non-root user", (_ins_cite(ctx, ins),))
    return None


#: a comment stating that the image runs as root on purpose ("fluentd is run with
#: root permission to read /var/log/containers", "must run as root")
_ROOT_STATED = (r"(?i)\b(?:runs?|must|needs?|requires?)\b[^\n]{0,40}?\b(?:as|with)"
                r"\s+root\b(?:\s+(?:permissions?|privileges?|rights))?")
_NEGATED = r"(?i)\b(?:not|never|don'?t|doesn'?t|avoid|instead of|no longer|without)\b"


def _root_chosen(ctx: Context, info: StageInfo, command: _Command,
                 copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """The authors chose root: the stage says ``USER root`` (or 0) on a base that
    runs as root anyway, with no other user before it, or a comment says the
    image runs as root on purpose."""
    own = info.users[-1] if info.users else None
    if own is not None and is_root(own[1]) and not any(
            not is_root(v) for s in info.chain for _, v, _ in s.users):
        image = info.chain[-1].image
        if image is None or image.default_user is None or is_root(image.default_user):
            return Judgement("root-chosen", "app",
                             f"the file sets `USER {own[1]}` on a base that already runs as root: "
                             "its authors chose root for this image", (_ins_cite(ctx, own[0]),),
                             "ask them why before changing it; remove that line to let dockfix "
                             "judge the image")
    for at, comment in _comment_lines(ctx.df.text):
        m = re.search(_ROOT_STATED, comment)
        if m and not re.search(_NEGATED, comment[:m.end()]):
            return Judgement("root-chosen", "app",
                             "a comment says the image runs as root on purpose",
                             (_cite(_df_name(ctx), ctx.df.text, at),),
                             "follow the reason it gives; add USER by hand once it no longer holds")
    return None


def _no_process(ctx: Context, info: StageInfo, command: _Command,
                copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """No ENTRYPOINT or CMD anywhere in the file's runtime chain (or empty ones)."""
    if command.ins is not None and command.program:
        return None
    frm = info.stage.from_
    if info.chain[-1].base.lower() == "scratch":
        return Judgement("data-only", "data-only",
                         "a `FROM scratch` image with no command: it carries files and runs "
                         "no process", (_ins_cite(ctx, frm),))
    if _installs(info, k.toolchain_packages):
        return Judgement("ci-builder", "ci-builder",
                         "no CMD or ENTRYPOINT, and it installs compilers: a build image whose "
                         "steps run as root", (_ins_cite(ctx, frm),),
                         "images built FROM it choose their user")
    if any(i.cmd == "ONBUILD" for s in info.chain for i in s.stage.instructions):
        return Judgement("base-image", "base-image",
                         "an ONBUILD base image: the images built FROM it run its steps",
                         (_ins_cite(ctx, frm),), "switch the user in the images built FROM it")
    return Judgement("base-image", "base-image",
                     "the file sets no CMD or ENTRYPOINT: an image to build FROM or to run "
                     "other commands in, whose users still need root for their own steps",
                     (_ins_cite(ctx, frm),),
                     "switch the user in the images built FROM it")


def _installs(info: StageInfo, packages: frozenset[str]) -> Instruction | None:
    """The RUN that installs one of ``packages`` (by a word of its command, or a
    package file of that name: ``dpkg -i filebeat-6.4.0-amd64.deb``), or None."""
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd != "RUN":
                continue
            words = set(re.findall(r"[\w.+-]+", ins.logical)) | set(_file_packages(ins.logical))
            if words & packages:
                return ins
    return None


#: a package installed from a file: ``dpkg -i x.deb``, ``apt-get install ./x.deb``,
#: ``gdebi -n x.deb``, ``rpm -ivh x.rpm``, ``yum localinstall x.rpm``, ``dnf install x.rpm``
_PACKAGE_FILE_INSTALL = (
    r"\b(?:dpkg[ \t]+(?:-\S+[ \t]+)*?(?:-i|--install)\b|gdebi\b|"
    r"rpm[ \t]+(?:-\S+[ \t]+)*?-(?:-install|-upgrade|[a-zA-Z]*[iU][a-zA-Z]*)\b|"
    r"(?:apt-get|apt|yum|dnf|microdnf|zypper)[ \t]+(?:-\S+[ \t]+)*?(?:local)?install\b)"
    r"([^;&|\n]*)")


def _file_packages(text: str) -> list[str]:
    """The names of the packages ``text`` installs from package files, read
    from the file names as Debian and RPM name them (``name_version_arch.deb``,
    ``name-version-release.arch.rpm``, ``filebeat-6.4.0-amd64.deb``)."""
    if ".deb" not in text and ".rpm" not in text:
        return []
    out: list[str] = []
    for m in re.finditer(_PACKAGE_FILE_INSTALL, text):
        for word in m.group(1).split():
            base = posixpath.basename(word.strip("\"'"))
            stem = re.sub(r"\.(?:deb|rpm)$", "", base)
            if stem == base or not stem:
                continue
            name = stem.split("_", 1)[0] if "_" in stem else \
                re.split(r"-(?=\d|\$|v\d)", stem, maxsplit=1)[0]
            if re.fullmatch(r"[a-z0-9][a-z0-9.+-]*", name.lower()):
                out.append(name.lower())
    return out


def _init_system(ctx: Context, info: StageInfo, command: _Command,
                 copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    prog = _program_name(command.program)
    if command.ins is not None and (any(fnmatch(prog, g) for g in k.init_programs)
                                    or command.program == "/init"):
        return Judgement("system-init", "system-init",
                         f"the container runs `{prog}`, an init system that starts services "
                         "as their own users", (_ins_cite(ctx, command.ins),))
    if command.ins is not None and any(w in ("&&", ";", "||") or "&&" in w for w in command.words):
        # last in a shell command line: `rails db:migrate && foreman start`
        for name, _ in list(programs(" ".join(command.words)))[1:]:
            if any(fnmatch(name, g) for g in k.init_programs):
                return Judgement("system-init", "system-init",
                                 f"the container's command ends by running `{name}`, an init "
                                 "system that starts services as their own users",
                                 (_ins_cite(ctx, command.ins),))
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd == "STOPSIGNAL" and "RTMIN+3" in ins.args:
                return Judgement("system-init", "system-init", "systemd runs as PID 1",
                                 (_ins_cite(ctx, ins),))
    build = ctx.build
    if build is not None:
        for src, dest, ins in copied:
            for f in _files_under(build, src, 300):
                low = f.lower()
                if re.search(r"(^|/)(services\.d|cont-init\.d|s6-overlay|s6-rc\.d|"
                             r"supervisord?\.conf|supervisor/conf\.d|runit|sv)(/|$)", low):
                    return Judgement("system-init", "system-init",
                                     "the image ships service definitions for an init system "
                                     f"(`{f}`)", (_ins_cite(ctx, ins), f"{f}: a service definition"))
    return None


_ETC_WRITE = "writes into /etc"
_ETC_TARGET = r"/etc/[\w.@+-]+(?:/[\w.@+-]+)*"  # compiled on first use


#: a shell test that the script runs as root: ``[ "$(id -u)" = 0 ]``,
#: ``[[ $EUID -eq 0 ]]``, ``[ "$(whoami)" = root ]`` (``ne``: that it does not)
_UID_WORD = (r"[\"']?(?:\$\((?:id[ \t]+-u|whoami)\)|`(?:id[ \t]+-u|whoami)`|\$\{?E?UID\}?)[\"']?")
_ROOT_IS = r"[ \t]*(?:==?|-eq)[ \t]*[\"']?(?:0|root)\b[\"']?"
_ROOT_NOT = r"[ \t]*(?:!=|-ne|-gt)[ \t]*[\"']?(?:0|root)\b[\"']?"
_ROOT_TEST = (r"(?:\[\[?|\btest)[ \t]+(?P<bang>![ \t]+)?" + _UID_WORD +
              r"(?:(?P<is>" + _ROOT_IS + r")|(?P<not>" + _ROOT_NOT + r"))[ \t]*\]?\]?")


#: a branch that leaves the script without an error: ``exec "$@"``, ``exit``, ``exit 0``
_LEAVES = (r"(?m)^\s*(?:exec\b|exit(?:[ \t]+0)?\s*$|return\b)|"
           r"[;&|][ \t]*(?:exec\b|exit(?:[ \t]+0)?\b(?![ \t]+[1-9]))")


@functools.lru_cache(maxsize=16)
def _root_branches(text: str) -> tuple[tuple[int, int], ...]:
    """The spans of a start script that run only as root: the branch of an
    ``if`` that tests for uid 0 (to its ``else``/``fi``), the rest of a line
    after ``[ "$(id -u)" = 0 ] &&``, and everything after a block that leaves
    the script when it is not root (``if [ "$(id -u)" != 0 ]; then exec "$@"; fi``)."""
    if "id -u" not in text and "UID" not in text and "whoami" not in text:
        return ()
    out: list[tuple[int, int]] = []
    for m in re.finditer(_ROOT_TEST, text):
        root = bool(m.group("is")) != bool(m.group("bang"))
        line_end = text.find("\n", m.end())
        line_end = len(text) if line_end < 0 else line_end
        after = text[m.end():line_end]
        before = text[text.rfind("\n", 0, m.start()) + 1:m.start()]
        if re.match(r"[ \t]*&&", after) and root:
            out.append((m.end(), line_end))
            continue
        if re.match(r"[ \t]*\|\|", after) and not root:
            out.append((m.end(), line_end))
            continue
        if not re.search(r"\b(?:if|elif)[ \t]+$", before):
            continue
        then = re.compile(r"\bthen\b").search(text, m.end())
        if then is None:
            continue
        depth, end, stop = 0, len(text), len(text)
        for t in re.finditer(r"(?<![\w-])(if|fi|else|elif)(?![\w-])", text[then.end():]):
            word, at = t.group(1), then.end() + t.start()
            if word == "if":
                depth += 1
            elif word == "fi" and depth:
                depth -= 1
            elif depth == 0:
                end = min(end, at)
                if word == "fi":
                    stop = at + 2
                    break
        if root:
            out.append((then.end(), end))
        elif re.search(_LEAVES, text[then.end():end]):
            # not root: it leaves (runs the command as it is), so what follows runs as root
            out.append((stop, len(text)))
    return tuple(out)


#: a program's own check that it runs as root, then its exit: shell, Python,
#: Ruby, JavaScript, Go (``if not os.geteuid() == 0: sys.exit("Must be root")``)
_REFUSES = {
    "sh": (r"(?P<if>\bif[ \t]+)?(?:" + _ROOT_TEST + r")[ \t;]*(?:then)?",
           r"^\s*exit[ \t]+(?:[1-9]|\$)|[;&|{][ \t]*exit[ \t]+(?:[1-9]|\$)"),
    "py": (r"\bif[ \t(]+(?:not[ \t(]+os\.gete?uid\(\)[ \t)]*==[ \t]*0|os\.gete?uid\(\)[ \t]*(?:!=|>)[ \t]*0|"
           r"os\.gete?uid\(\)[ \t)]*:)",
           r"\bsys\.exit\(|\bexit\(|\bquit\(|\braise\b|\bos\._exit\("),
    "rb": (r"\b(?:if[ \t]+Process\.e?uid[ \t]*(?:!=[ \t]*0|\.nonzero\?|>[ \t]*0)|"
           r"unless[ \t]+Process\.e?uid[ \t]*(?:==[ \t]*0|\.zero\?))",
           r"\b(?:exit|abort|raise|fail)\b"),
    "js": (r"\bprocess\.gete?uid\(\)[ \t]*(?:!==?|>)[ \t]*0",
           r"\bprocess\.exit\(|\bthrow\b"),
    "go": (r"\bos\.Gete?uid\(\)[ \t]*(?:!=|>)[ \t]*0",
           r"\blog\.Fatal|\bos\.Exit\(|\bpanic\(|\blogrus\.Fatal|\bklog\.Fatal"),
}


def _language(path: str, text: str) -> str | None:
    """The language of a program's source, for :data:`_REFUSES`."""
    first = text.split("\n", 1)[0] if text.startswith("#!") else ""
    ext = posixpath.splitext(path)[1].lower()
    if ext == ".py" or "python" in first:
        return "py"
    if ext == ".rb" or "ruby" in first:
        return "rb"
    if ext in (".js", ".mjs", ".cjs", ".ts") or "node" in first:
        return "js"
    if ext == ".go":
        return "go"
    return "sh" if _is_shell(path, text) else None


def _refuses_non_root(path: str, text: str) -> int | None:
    """Where a program's source stops unless it runs as root: the uid test,
    followed within three lines (or on its own line, for Ruby's ``abort ...
    unless Process.euid == 0``) by an exit."""
    lang = _language(path, text)
    if lang is None or not re.search(r"(?i)uid|whoami|id[ \t]+-u", text):
        return None
    test, leave = _REFUSES[lang]
    for m in re.finditer(test, text):
        if _in_shell_comment(text, m.start()) or (lang != "sh" and _in_code_comment(text, m.start())):
            continue
        start = text.rfind("\n", 0, m.start()) + 1
        end = m.end()
        for _ in range(4):
            nxt = text.find("\n", end + 1)
            end = len(text) if nxt < 0 else nxt
        window = _block(text[start:end], lang)
        if lang == "sh":
            # a test that it is not root: `if [ "$(id -u)" != 0 ]; then ... exit 1`,
            # or `[ "$EUID" != 0 ] && exit 4` on one line (`= 0 ] || exit 1` alike)
            root = bool(m.group("is")) != bool(m.group("bang"))
            if m.group("if"):
                if root:
                    continue
                fi = re.search(r"(?<![\w-])(?:fi|else|elif)(?![\w-])", text[m.end():end])
                window = text[m.end():m.end() + fi.start()] if fi else text[m.end():end]
            else:
                line_end = text.find("\n", m.end())
                rest = text[m.end():len(text) if line_end < 0 else line_end]
                joined = r"\|\|" if root else "&&"
                if not re.match(r"[ \t]*" + joined + r"[ \t]*(?:\{[ \t]*)?(?:(?:echo|printf)[^;|\n]*;[ \t]*)?"
                                r"exit[ \t]+(?:[1-9]|\$)", rest):
                    continue
                return m.start()
        if re.search(leave, window, re.M):
            return m.start()
    return None


def _block(window: str, lang: str) -> str:
    """The lines of ``window`` (a test's line and the three after it) up to the end
    of the test's block: a line of its own `}` or `end`, or for Python a line
    indented no deeper than the test's."""
    lines = window.split("\n")
    indent = len(lines[0]) - len(lines[0].lstrip())
    out = [lines[0]]
    for line in lines[1:]:
        bare = line.strip()
        if lang in ("js", "go", "rb") and bare in ("}", "end", "};"):
            break
        if lang == "py" and bare and len(line) - len(line.lstrip()) <= indent:
            break
        out.append(line)
    return "\n".join(out)


def _in_code_comment(text: str, pos: int) -> bool:
    start = text.rfind("\n", 0, pos) + 1
    return text[start:pos].lstrip().startswith(("#", "//", "*", "/*"))


def _root_work(ctx: Context, info: StageInfo, rx: str, what: str,
               text: str) -> re.Match[str] | None:
    """The first place ``text`` does the root-only work ``rx`` finds, skipping
    writes into /etc that the build made writable to group 0 for a user who
    joins it (``chmod g+w /etc/passwd``, ``chgrp -R 0 /etc/app && chmod -R g=u``)."""
    guarded = _root_branches(text)
    for m in re.compile(rx).finditer(text):
        if any(a <= m.start() < b for a, b in guarded):
            continue
        if what == _ETC_WRITE:
            target = re.compile(_ETC_TARGET).search(text, m.start() + m.group(0).rfind("/etc/"))
            zero = joins_group_zero(ctx, info) if target else None
            if target and zero is not None and zero.covers(target.group(0)):
                continue
        return m
    return None


def _needs_root(ctx: Context, info: StageInfo, command: _Command,
                copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    root = info.chain[-1]
    base = root.base.lower().split("@")[0]
    if not _overrides_command(info):
        for glob in k.root_entrypoint_images:
            if fnmatch(base, glob):
                return Judgement("entrypoint-needs-root", "app",
                                 f"the entrypoint of `{root.base}`, which this file keeps, does "
                                 "root-only work at start (writes /etc, starts its services)",
                                 (_ins_cite(ctx, root.stage.from_),))
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd == "RUN":
                # by name, or from a package file (`dpkg -i docker-ce-cli_20.10_amd64.deb`)
                words = set(_file_packages(ins.logical))
                if re.search(r"\b(?:apt-get|apt|apk|yum|dnf|microdnf|zypper)\b[^;&|]*\binstall\b|"
                             r"\bapk\s+add\b", ins.logical):
                    words |= set(re.findall(r"[\w.+-]+", ins.logical))
                hit = sorted(words & k.docker_cli)
                if hit:
                    return Judgement("needs-devices", "app",
                                     f"it installs the Docker CLI (`{hit[0]}`): the container "
                                     "drives the host's Docker socket, which only root (or the "
                                     "docker group) may open", (_ins_cite(ctx, ins),))
            flag = ins.flag("from") if ins.cmd == "COPY" else None
            docker_from = (flag.value or "") if flag is not None else ""
            if docker_from and re.search(r"(?:^|/)docker(?:[:@/]|$)", docker_from.lower()):
                return Judgement("needs-devices", "app",
                                 f"it copies the Docker tools from `{docker_from}`: the container "
                                 "drives the host's Docker socket, which only root (or the "
                                 "docker group) may open", (_ins_cite(ctx, ins),))
            body = ins.logical + "\n" + "".join(h.content for h in ins.heredocs)
            if ins.cmd == "RUN" and re.search(
                    r"\b(?:groupadd|addgroup)\b[^;&|\n]*\sdocker[ \t]*(?:$|[;&|\n])", body, re.M):
                return Judgement("needs-devices", "app",
                                 "it creates a `docker` group, the group that may open the host's "
                                 "Docker socket: the container talks to the Docker daemon, whose "
                                 "socket's group on the host need not match", (_ins_cite(ctx, ins),))
    if command.ins is not None:
        j = _docker_client(ctx, command, copied, k) or _root_subcommand(ctx, command, k)
        if j is not None:
            return j
        for w in command.words[:6]:
            if _program_name(w) in k.root_programs:
                return Judgement("entrypoint-needs-root", "app",
                                 f"the container runs `{_program_name(w)}`, which needs root",
                                 (_ins_cite(ctx, command.ins),))
        joined = " ".join(command.words)
        for rx, what in _SCRIPT_ROOT:
            m = _root_work(ctx, info, rx, what, joined)
            if m and "exec" not in what:
                return Judgement("entrypoint-needs-root", "app",
                                 f"the command {what}, which needs root",
                                 (_ins_cite(ctx, command.ins),))
    for path, text in _scripts(ctx, info, command, copied):
        work = _start_work(ctx, info, text, k, path)
        if work is not None:
            what, at, hint = work
            which = "" if what.endswith("as root") else ", which needs root"
            script = ("make recipe in" if "makefile" in posixpath.basename(path).lower()
                      or path.endswith(".mk") else
                      "entrypoint script" if _language(path, text) == "sh" else "program")
            return Judgement("entrypoint-needs-root", "app",
                             f"the {script} `{path}` {what}{which}",
                             (_cite(path, text, at),), hint)
    for ins, name, text in _built_scripts(info, command):
        work = _start_work(ctx, info, text, k)
        if work is not None:
            what, _, hint = work
            which = "" if what.endswith("as root") else ", which needs root"
            return Judgement("entrypoint-needs-root", "app",
                             f"the build writes the container's script `{name}`: it {what}"
                             f"{which}", (_ins_cite(ctx, ins),), hint)
    for source, body in _entry_sources(ctx, info, command, copied, k):
        refusal = _refuses_non_root(source, body)
        if refusal is not None:
            return Judgement("entrypoint-needs-root", "app",
                             f"the program's source `{source}` stops unless it runs as root",
                             (_cite(source, body, refusal),))
    return _cron_script(ctx, info, command, copied, k)


#: an interpreter handed a source file or module in a start script:
#: ``exec python3 /app/main.py``, ``node server.js``, ``python -m app.main``
_INTERPRETED = (r"(?m)(?:^|&&|;)[ \t]*(?:exec[ \t]+)?(?:\S*/)?(?P<interp>python[\d.]*|node|nodejs|ruby)"
                r"(?:[ \t]+-[uBOE]+)*[ \t]+(?P<m>-m[ \t]+)?['\"]?(?P<file>[\w./-]+)")


def _entry_sources(ctx: Context, info: StageInfo, command: _Command,
                   copied: list[tuple[str, str, Instruction]],
                   k: _Knowledge) -> list[tuple[str, str]]:
    """(context path, text) of the program's own entry source, besides the
    scripts of :func:`_scripts`: the module ``python -m`` runs, the source file an
    interpreter is handed in an entrypoint script (``exec python3 /app/main.py``),
    and the ``package main`` files a build stage compiles into the program (``go
    build -o /app/server ./cmd/server``, found by :func:`_program_sources`)."""
    build = ctx.build
    if build is None or command.ins is None:
        return []
    seen = {p for p, _ in _scripts(ctx, info, command, copied)}
    out: list[tuple[str, str]] = []
    cwd = final_workdir(info) or "/"

    def add(raw: str, module: bool) -> None:
        cands = [raw]
        if module:
            base = raw.replace(".", "/")
            cands = [base + ".py", base + "/__main__.py"]
        for c in cands:
            # a relative file is the WORKDIR's, where the script runs it
            image = c if c.startswith("/") else posixpath.normpath(posixpath.join(cwd, c))
            for f in _in_context(build, "", image, copied):
                text = build.read_text(f) if not build.is_dir(f) else None
                if text is not None and f not in seen and len(out) < 8:
                    seen.add(f)
                    out.append((f, text))

    words = command.words
    for i, w in enumerate(words[:-2]):
        if re.fullmatch(r"python[\d.]*", _program_name(w)) and words[i + 1] == "-m":
            add(words[i + 2], True)
            break
    for path, text in _scripts(ctx, info, command, copied):
        if _language(path, text) != "sh":
            continue
        for m in re.finditer(_INTERPRETED, text):
            if not _in_shell_comment(text, m.start("file")) and "$" not in m.group("file"):
                add(m.group("file"), bool(m.group("m")))
    # Go: the package main a build stage compiles into the program, or that
    # `go run` runs (:func:`_program_sources`)
    for full, go in _program_sources(ctx, info, command, copied):
        if full.endswith(".go") and full not in seen and "package main" in go and len(out) < 12:
            out.append((full, go))
    return out


#: a script named for cron: ``run_cron.sh``, ``cron.sh``, ``start-crond``, ``crontab-entrypoint.sh``
_CRON_NAME = r"(?i)(?:^|[-_.])cron(?:d|tab|job|jobs)?(?:[-_.]|$)"


def _cron_script(ctx: Context, info: StageInfo, command: _Command,
                 copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """The image installs a cron daemon and starts a script named for cron that
    the context does not hold (a script it does hold is read for ``cron``):
    cron runs as root, to run each crontab as its own user, and writes its pid
    file under /var/run. Not when a cron that needs no root (supercronic) is there."""
    if command.ins is None:
        return None
    name = _program_name(command.program)
    if not re.search(_CRON_NAME, name) or name in k.root_programs:
        return None
    if any(posixpath.basename(p) == name for p, _ in _scripts(ctx, info, command, copied)):
        return None
    installs = _package_install(info, k.cron_packages)
    if installs is None or re.search(
            r"(?i)(?<![\w-])(?:%s)(?![\w-])" % "|".join(map(re.escape, sorted(k.rootless_cron))),
            ctx.df.text):
        return None
    ins, pkg = installs
    return Judgement("entrypoint-needs-root", "app",
                     f"the image installs cron (`{pkg}`) and starts `{name}`, a script named for "
                     "it that dockfix cannot read: the cron daemon runs as root, to run each "
                     "crontab as its own user, and writes its pid file under /var/run",
                     (_ins_cite(ctx, ins), _ins_cite(ctx, command.ins)),
                     "run the jobs with a cron that needs no root (supercronic), then add USER")


def _start_work(ctx: Context, info: StageInfo, text: str, k: _Knowledge,
                path: str = "start.sh") -> tuple[str, int, str] | None:
    """The root-only work a start script does (``_SCRIPT_ROOT``, or a program
    that needs root): what it does, where in ``text``, and the hint."""
    at = _refuses_non_root(path, text)
    if at is not None:
        return "stops unless it runs as root", at, ""
    for rx, what in _SCRIPT_ROOT:
        m = _root_work(ctx, info, rx, what, text)
        if m:
            return f"{what} at start", m.start(), "move that work into the build, then add USER"
    guarded = _root_branches(text)
    # a program run at the start of a line, or after `&&` in a shell script
    rx = r"(?:^|&&)[ \t]*(?:(?:exec|nohup|busybox)[ \t]+)*([^\s;&|()]+)" if \
        _is_shell(path, text) else r"^\s*(?:exec\s+)?(\S+)"
    for m in re.finditer(rx, text, re.M):
        # (`sysctl` and `mount` change something only with their arguments: _SCRIPT_ROOT reads them)
        if posixpath.basename(m.group(1)) in k.root_programs - _READS_TOO and \
                not _in_shell_comment(text, m.start(1)) and \
                not any(a <= m.start(1) < b for a, b in guarded):
            return f"starts `{posixpath.basename(m.group(1))}`", m.start(1), ""
    return None


#: root-only programs that also just read (``sysctl vm.max_map_count``, ``mount | grep``)
_READS_TOO = frozenset({"sysctl", "mount"})


#: ``echo|printf WORDS > FILE`` (or ``>>``): a line the build writes into FILE
_ECHO_INTO = (r"\b(?:echo|printf)(?:[ \t]+-[neE]+)*[ \t]+((?:[^;&|>\n\\]|\\.)*?)[ \t]*"
              r">>?[ \t]*['\"]?([\w./-]+)")


def _built_scripts(info: StageInfo, command: _Command) -> list[tuple[Instruction, str, str]]:
    """(RUN, script name, text) for what the build writes into a script the
    container's command runs, a line at a time (``RUN echo service mongodb
    start > start.sh`` for ``CMD ./start.sh``) or from a heredoc."""
    names = {_program_name(w) for w in command.words[:4] if not w.startswith("-")}
    names = {n for n in names if n and n not in _WRAPPERS}
    if not names:
        return []
    out: list[tuple[Instruction, str, str]] = []
    for s in reversed(info.chain):
        for ins in s.stage.instructions:
            if ins.cmd != "RUN" or not any(n in ins.logical for n in names):
                continue
            lines = []
            for m in re.finditer(_ECHO_INTO, ins.logical):
                if posixpath.basename(m.group(2)) in names:
                    words = m.group(1).strip()
                    if len(words) > 1 and words[0] == words[-1] and words[0] in "'\"":
                        words = words[1:-1]
                    lines.append(words.replace("\\n", "\n"))
            for h in ins.heredocs:
                if re.search(r">>?[ \t]*['\"]?[\w./-]*(?:" + "|".join(map(re.escape, names))
                             + r")\b", ins.logical):
                    lines.append(h.content)
            if lines:
                name = next(n for n in names if n in ins.logical)
                out.append((ins, name, "\n".join(lines)))
    return out


def _docker_client(ctx: Context, command: _Command, copied: list[tuple[str, str, Instruction]],
                   k: _Knowledge) -> Judgement | None:
    """The program's whole job is the Docker API (watchtower, docker-gen, cadvisor, ...),
    or it is configured to use it (traefik's docker provider)."""
    assert command.ins is not None
    prog = _program_name(command.program)
    why, hint = _SOCKET_WHY, _SOCKET_HINT
    if prog in k.docker_clients:
        return Judgement("needs-devices", "app",
                         f"the container runs `{prog}`, a Docker API client: {why}",
                         (_ins_cite(ctx, command.ins),), hint)
    provider = k.docker_providers.get(prog)
    if provider is None:
        return None
    rx = re.compile(provider)
    if rx.search(" ".join(command.words)):
        return Judgement("needs-devices", "app",
                         f"the container runs `{prog}` with its Docker provider: {why}",
                         (_ins_cite(ctx, command.ins),), hint)
    build = ctx.build
    if build is None:
        return None
    for src, _, _ in copied:
        for f in _files_under(build, src, 200):
            if prog not in f.lower() or not f.lower().endswith((".toml", ".yml", ".yaml")):
                continue
            body = build.read_text(f) or ""
            m = rx.search(body)
            if m:
                return Judgement("needs-devices", "app",
                                 f"the container runs `{prog}`, and `{f}` turns on its Docker "
                                 f"provider: {why}",
                                 (_ins_cite(ctx, command.ins), _cite(f, body, m.start())), hint)
    return None


#: why a client of the host's Docker socket cannot run as a new user, and what helps
_SOCKET_WHY = ("it needs the host's Docker socket, which only root (or the socket's group) "
               "may open")
_SOCKET_HINT = ("leave it as root, or run it with the socket's group "
                "(`docker run --group-add $(stat -c %g /var/run/docker.sock)`)")
_JOURNAL_WHY = ("the host's journal files are root:systemd-journal 0640, so a new user can "
                "read them only with the host's systemd-journal group id, which the "
                "Dockerfile cannot know")
_JOURNAL_HINT = ("leave it as root, or run it with the host's journal group "
                 "(`docker run --group-add $(getent group systemd-journal | cut -d: -f3)`)")
#: files that list a Python project's dependencies
_REQUIREMENTS = (r"(?i)(?:^|/)(?:[\w.-]*requirements[\w.-]*\.(?:txt|in)|Pipfile|"
                 r"pyproject\.toml|setup\.py|setup\.cfg)$")
#: config files a log shipper reads
_CONFIG_FILE = r"(?i)\.(?:conf|cfg|ini|ya?ml|toml|json|river|alloy)$"
#: source files that may open the journal (C, C++, Go, Python, Rust)
_SOURCE_FILE = r"\.(?:c|h|cc|cpp|cxx|go|py|rs)$"
#: a program started at the start of a script's line, after a pipe or in ``$(...)``
_SCRIPT_PROGRAM = (r"(?:^|[;&|]|\$\()[ \t]*(?:exec[ \t]+|sudo[ \t]+)?"
                   r"(?:[\w./-]*/)?([\w.-]+)")  # with re.M


def _host_access(ctx: Context, info: StageInfo, command: _Command,
                 copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """The program's job needs a host resource a new user cannot reach: a unix
    socket it calls over HTTP (the host's Docker socket), or the host's systemd
    journal (root:systemd-journal 0640)."""
    if command.ins is None:
        return None
    return _unix_socket_client(ctx, info, command, copied, k) or \
        _journal_reader(ctx, info, command, copied, k) or \
        _root_host_files(ctx, command, copied, k)


def _root_host_files(ctx: Context, command: _Command,
                     copied: list[tuple[str, str, Instruction]],
                     k: _Knowledge) -> Judgement | None:
    """Its documented ``docker run``, a compose service that builds it or a
    Kubernetes pod that runs it mounts a host directory whose files only root
    may read (Docker's data, the system logs); or it is a log shipper whose
    config (copied in) or own words say it reads the containers' or the
    system's log files on the host."""
    def root_only(src: str) -> str | None:
        src = posixpath.normpath(src) if src.startswith("/") else ""
        return next((p for p in k.root_host_paths if src == p or src.startswith(p + "/")), None)

    hint = "leave it as root, as it is documented to run"
    for run in _runs(ctx, command):
        for m in run.mounts:
            top = root_only(m.source) if m.bind else None
            if top:
                return Judgement("host-logs", "app",
                                 f"its documented `docker run` mounts the host's `{m.source}` "
                                 f"at `{m.target}`: {k.root_host_paths[top]}",
                                 (run.cite(m.source),), hint)
    build = ctx.build
    for path, block, at in _services(ctx, command):
        for src, dst, _, pos in _compose_volumes(block):
            top = root_only(src)
            if top and build is not None:
                full = build.read_text(path) or ""
                return Judgement("host-logs", "app",
                                 f"`{path}` mounts the host's `{src}` at `{dst}`: "
                                 f"{k.root_host_paths[top]}", (_cite(path, full, at + pos),),
                                 hint)
    for vol in _pod_volumes(ctx, command):
        top = root_only(vol.source) if vol.kind == "hostPath" else None
        if top:
            where = f" at `{vol.target}`" if vol.target else ""
            return Judgement("host-logs", "app",
                             f"`{vol.path}` runs it in a Kubernetes pod that mounts the host's "
                             f"`{vol.source}` (hostPath){where}: {k.root_host_paths[top]}",
                             (vol.cite(),), hint)
    return _log_shipper_reads_host(ctx, command, copied, k)


def _log_shipper_reads_host(ctx: Context, command: _Command,
                            copied: list[tuple[str, str, Instruction]],
                            k: _Knowledge) -> Judgement | None:
    """A log shipper (fluentd, fluent-bit, filebeat, promtail, ... named in the
    Dockerfile) whose config copied in reads the host's container or system log
    files (``path /var/log/containers/*.log``), or whose Dockerfile comments or
    documenting README say it collects the containers' (pods', nodes') logs: it
    runs as a DaemonSet over the host's root-only log files."""
    if not re.compile(k.journal_shippers).search(ctx.df.text):
        return None
    why = ("the containers' logs on the host (/var/log/containers and /var/log/pods link "
           "to /var/lib/docker/containers, root 0640 under 0700 directories) and the "
           "system logs are readable by root only, and the shipper records its read "
           "positions beside them")
    hint = "leave it as root, as log collectors run (a DaemonSet over the host's logs)"
    build = ctx.build
    rx = re.compile(k.host_log_inputs)
    if build is not None:
        for f, body, ins in _copied_files(build, copied, re.compile(_CONFIG_FILE)):
            for m in rx.finditer(body):
                if not _in_shell_comment(body, m.end()):
                    return Judgement("host-logs", "app",
                                     f"`{f}`, which the file copies in, has the log shipper "
                                     f"read the host's log files: {why}",
                                     (_cite(f, body, m.end()), _ins_cite(ctx, ins)), hint)
    prose = re.compile(k.host_log_prose)
    texts = [(_df_name(ctx), "\n".join(ln if ln.lstrip().startswith("#") else ""
                                        for ln in ctx.df.text.splitlines()))]
    if build is not None:
        texts += [(p, build.read_text(p) or "") for p in image_readmes(build)]
    for path, text in texts:
        said = prose.search(text)
        if said:
            return Judgement("host-logs", "app",
                             f"`{path}` says the log shipper collects the containers' logs "
                             f"(\"{said.group(0)}\"), which it reads on the host: {why}",
                             (_cite(path, text, said.start()),), hint)
    return None


def _pod_volumes(ctx: Context, command: _Command) -> list[HostVolume]:
    """The hostPath/nfs volumes of the Kubernetes pods that run this image, read
    once per judgement."""
    if command.volumes is None:
        command.volumes = manifest_volumes(ctx.build, ctx.df.text,
                                           _program_name(command.program))
    return command.volumes


def _unix_socket_client(ctx: Context, info: StageInfo, command: _Command,
                        copied: list[tuple[str, str, Instruction]],
                        k: _Knowledge) -> Judgement | None:
    """HTTP over a unix socket: ``curl --unix-socket``, ``socat UNIX-CONNECT:`` in
    the command or its entrypoint script, or a unix-socket client package installed
    (pip, apk, apt) or listed in a requirements file the file copies in."""
    assert command.ins is not None
    line = " ".join(command.words)
    for m in re.compile(k.unix_socket_commands).finditer(line):
        socket = _socket_path(line, m.end())
        if not socket.startswith(_SCRATCH):
            return Judgement("needs-devices", "app",
                             f"the command calls {_socket_name(socket)} "
                             f"(`{m.group(0).strip()}`): {_SOCKET_WHY}",
                             (_ins_cite(ctx, command.ins),), _SOCKET_HINT)
    for path, text in _scripts(ctx, info, command, copied):
        for m in re.compile(k.unix_socket_commands).finditer(text):
            socket = _socket_path(text, m.end())
            if not socket.startswith(_SCRATCH) and not _in_shell_comment(text, m.start()):
                return Judgement("needs-devices", "app",
                                 f"the entrypoint script `{path}` calls "
                                 f"{_socket_name(socket)} (`{m.group(0).strip()}`): "
                                 f"{_SOCKET_WHY}",
                                 (_cite(path, text, m.start()),), _SOCKET_HINT)
    names = k.unix_socket_clients
    hit = _package_install(info, names, pip=True)
    if hit is not None:
        return Judgement("needs-devices", "app",
                         f"it installs `{hit[1]}`, a client for HTTP over a unix socket: "
                         f"{_SOCKET_WHY}", (_ins_cite(ctx, hit[0]),), _SOCKET_HINT)
    build = ctx.build
    if build is None:
        return None
    rx = re.compile(k.unix_socket_requirement)
    for f, body, ins in _copied_files(build, copied, re.compile(_REQUIREMENTS)):
        for m in rx.finditer(body):
            if not _in_shell_comment(body, m.start()):
                return Judgement("needs-devices", "app",
                                 f"`{f}`, which the file copies in, lists `{m.group(0)}`, a "
                                 f"client for HTTP over a unix socket: {_SOCKET_WHY}",
                                 (_ins_cite(ctx, ins), _cite(f, body, m.start())),
                                 _SOCKET_HINT)
    return None


def _copied_files(build: BuildContext, copied: list[tuple[str, str, Instruction]],
                  name: re.Pattern[str]) -> Iterator[tuple[str, str, Instruction]]:
    """(path, text, the COPY/ADD) of each file the file copies in whose path
    ``name`` matches (200 files a source at most)."""
    for src, _, ins in copied:
        for f in _files_under(build, src, 200):
            if name.search(f):
                yield posixpath.normpath(f), build.read_text(f) or "", ins


def _socket_path(text: str, end: int) -> str:
    """The socket path that follows a unix-socket client's flag (``--unix-socket
    /var/run/docker.sock``, ``UNIX-CONNECT:$SOCK``), or "" when none is written."""
    m = re.match(r"[= \t]*['\"]?([^\s'\",;|&)]+)", text[end:])
    return m.group(1) if m else ""


def _socket_name(socket: str) -> str:
    return f"the unix socket `{socket}`" if socket else "a unix socket"


def _journal_reader(ctx: Context, info: StageInfo, command: _Command,
                    copied: list[tuple[str, str, Instruction]],
                    k: _Knowledge) -> Judgement | None:
    """The program reads the host's systemd journal: it runs ``journalctl``,
    journalbeat or systemd-journal-upload; a documented ``docker run`` or compose
    service mounts /var/log/journal or /run/log/journal; a log shipper's config
    copied in turns on a journal input; or it installs a journal library and the
    sources copied in open the journal to read it."""
    assert command.ins is not None
    for w in command.words[:6]:
        if _program_name(w) in k.journal_readers:
            return Judgement("host-journal", "app",
                             f"the container runs `{_program_name(w)}`, which reads the host's "
                             f"systemd journal: {_JOURNAL_WHY}", (_ins_cite(ctx, command.ins),),
                             _JOURNAL_HINT)
    for path, text in _scripts(ctx, info, command, copied):
        for m in re.finditer(_SCRIPT_PROGRAM, text, re.M):
            if m.group(1) in k.journal_readers and not _in_shell_comment(text, m.start(1)):
                return Judgement("host-journal", "app",
                                 f"the entrypoint script `{path}` runs `{m.group(1)}`, which "
                                 f"reads the host's systemd journal: {_JOURNAL_WHY}",
                                 (_cite(path, text, m.start(1)),), _JOURNAL_HINT)
    journal = re.compile(r"^/(?:var|run)/log/journal(?:/|$)")
    for run in _runs(ctx, command):
        mount = next((m for m in run.mounts if journal.match(m.source or "")
                      or journal.match(m.target)), None)
        if mount is not None:
            return Judgement("host-journal", "app",
                             f"its documented `docker run` mounts `{mount.source}` at "
                             f"`{mount.target}`, so the program reads the host's systemd "
                             f"journal: {_JOURNAL_WHY}", (run.cite(mount.target),), _JOURNAL_HINT)
    build = ctx.build
    if build is None:
        return None
    for path, block, at in _services(ctx, command):
        for src, dst, _, pos in _compose_volumes(block):
            if journal.match(src) or journal.match(dst):
                full = build.read_text(path) or ""
                return Judgement("host-journal", "app",
                                 f"`{path}` mounts `{src}` at `{dst}`, so the program reads "
                                 f"the host's systemd journal: {_JOURNAL_WHY}",
                                 (_cite(path, full, at + pos),), _JOURNAL_HINT)
    if re.compile(k.journal_shippers).search(ctx.df.text):
        # a log shipper is the base or the program: read the configs it ships
        for f, body, ins in _copied_files(build, copied, re.compile(_CONFIG_FILE)):
            for rx in k.journal_inputs:
                found = re.compile(rx).search(body)
                if found and not _in_shell_comment(body, found.start()):
                    return Judgement("host-journal", "app",
                                     f"`{f}`, which the file copies in, turns on a journal "
                                     "input, so the log shipper reads the host's systemd "
                                     f"journal: {_JOURNAL_WHY}",
                                     # the line that names the input (the
                                     # match may start at its section)
                                     (_cite(f, body, max(found.start(), body.rfind(
                                         "\n", found.start(), found.end()) + 1)),
                                      _ins_cite(ctx, ins)),
                                     _JOURNAL_HINT)
    # reader code: built in any stage of the file (a Go or C build stage), so read
    # what every stage copies in, when a stage installs a journal library or builds
    # Go with go-systemd (whose sdjournal opens libsystemd at run time)
    stages = ctx.model.stages
    lib = next((hit for st in stages
                if (hit := _package_install(st, k.journal_libraries, pip=True))), None)
    sources = list(dict.fromkeys(src for st in stages for src, _, _ in _copied_sources(ctx, st)))
    go_mod = lib is None and re.search(r"\bgo\s+(?:build|install)\b", ctx.df.text) is not None \
        and any("go-systemd" in (build.read_text(f) or "")
                for src in sources for f in _files_under(build, src, 200)
                if posixpath.basename(f) == "go.mod")
    if lib is None and not go_mod:
        return None
    prog = _program_name(command.program)
    if lib is not None and "journal" in prog.lower():
        # built against the journal's library, and named for it (`journalstream`)
        return Judgement("host-journal", "app",
                         f"it installs `{lib[1]}` and runs `{prog}`, a program built against "
                         f"the systemd journal and named for it: {_JOURNAL_WHY}",
                         (_ins_cite(ctx, lib[0]), _ins_cite(ctx, command.ins)), _JOURNAL_HINT)
    for src in sources:
        for f in _files_under(build, src, 400):
            if not re.search(_SOURCE_FILE, f):
                continue
            body = build.read_text(f) or ""
            code = re.compile(k.journal_reader_code).search(body)
            f = posixpath.normpath(f)
            if code:
                what = f"it installs `{lib[1]}` and " if lib else ""
                return Judgement("host-journal", "app",
                                 f"{what}`{f}` opens the systemd journal to read it: "
                                 f"{_JOURNAL_WHY}",
                                 ((_ins_cite(ctx, lib[0]),) if lib else ()) +
                                 (_cite(f, body, code.start()),), _JOURNAL_HINT)
    return None


#: arguments that leave the sub-command to ``docker run``
_HELP_ARGS = frozenset({"--help", "-h", "-help", "help", "--version", "-v", "version"})


def _root_subcommand(ctx: Context, command: _Command, k: _Knowledge) -> Judgement | None:
    """A CLI whose sub-command needs root (``nomad agent``): named in the command,
    or left to ``docker run`` by an image whose command is the bare CLI."""
    assert command.ins is not None
    prog = _program_name(command.program)
    subs = k.root_subcommands.get(prog)
    if not subs or command.program not in command.words:
        return None
    rest = command.words[command.words.index(command.program) + 1:]
    args = [w for w in rest if not w.startswith("-")]
    sub = sorted(subs)[0]
    if args and args[0] in subs:
        what = f"the container runs `{prog} {args[0]}`, which needs root"
    elif all(w in _HELP_ARGS for w in rest):
        what = (f"the image is the bare `{prog}` CLI, run as `{prog} {sub}` (chosen at "
                "`docker run`), which needs root")
    else:
        return None
    return Judgement("entrypoint-needs-root", "app", what, (_ins_cite(ctx, command.ins),),
                     f"if the image only runs other `{prog}` sub-commands, add USER by hand")


def _package_install(info: StageInfo, globs: frozenset[str] | tuple[str, ...],
                     pip: bool = False) -> tuple[Instruction, str] | None:
    """The RUN that installs one of ``globs`` with a package manager, and the package."""
    managers = r"apt-get|apt|apk|yum|dnf|microdnf|zypper" + (r"|pip3?" if pip else "")
    rx = re.compile(rf"\b(?:{managers})\b[^;&|]*?\b(?:install|add)\b([^;&|]*)")
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd != "RUN":
                continue
            for m in rx.finditer(ins.logical):
                for word in re.findall(r"[\w.+-]+", m.group(1)):
                    low = word.lower().split("=")[0]
                    if any(fnmatchcase(low, g) for g in globs):
                        return ins, word
            for name in _file_packages(ins.logical):
                if any(fnmatchcase(name, g) for g in globs):
                    return ins, name
    return None


def _copied_library(info: StageInfo, names: frozenset[str]) -> tuple[Instruction, str] | None:
    """The COPY that brings one of the libraries ``names`` in from another stage
    (``COPY --from=build /usr/lib64/libbcc.so.0 /usr/lib/``), and its name."""
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd != "COPY" or ins.flag("from") is None:
                continue
            for src in ins.values[:-1]:
                base = posixpath.basename(src.rstrip("/")).lower()
                lib = base.split(".so")[0] if ".so" in base else ""
                if lib and any(fnmatchcase(lib, g) for g in names):
                    return ins, base
    return None


def _packaged_service(ctx: Context, info: StageInfo, command: _Command,
                      copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """The container runs a service from a distribution package that creates its own
    account and gives it the config and data: a new uid cannot read them."""
    if command.ins is None:
        return None
    prog = _program_name(command.program)
    for sv in k.services:
        if prog not in sv.programs:
            continue
        hit = _package_install(info, sv.packages)
        if hit is None:
            continue
        ins, pkg = hit
        user = sv.users.get(info.family.name)
        users = f"`{user}`" if user else " or ".join(
            f"`{u}` ({f})" for f, u in sv.users.items() if f != "ubuntu")
        return Judgement("packaged-service-user", "app",
                         f"the container runs `{prog}` from the `{pkg}` package, which creates "
                         f"its own account ({users}) and gives it the service's config and "
                         "data: a new user outside that group cannot read them",
                         (_ins_cite(ctx, ins), _ins_cite(ctx, command.ins)),
                         f"add `USER {user or 'the package user'}` (the package's own account) "
                         "once its config and data paths are checked")
    return None


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


#: names of programs that are scripts a reviewer would read before switching the user
_SCRIPT_NAME = (r"(?i)\.(?:sh|bash)$|entrypoint|^(?:start|run|init|boot|startup|"
                r"launch|docker-[\w-]+|run-[\w-]+|start-[\w-]+|"
                r"[\w.]+[-_](?:start|run|init|boot|launch|startup))(?:\.\w+)?$")


def _unread_script(ctx: Context, info: StageInfo, command: _Command,
                   copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """The container starts a script the file copies from its build context,
    but the context dockfix reads does not hold it: what it does at start (drop
    privileges, write /etc, start services) cannot be checked."""
    build = ctx.build
    if build is None or command.ins is None:
        return None
    words = {_program_name(w) for w in command.words[:4] if not w.startswith("-")}
    words = {n for n in words if n and n not in _WRAPPERS}
    names = {n for n in words if re.compile(_SCRIPT_NAME).search(n)}
    if not words:
        return None
    found = {id(ins) for _, _, ins in copied}
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd not in ("COPY", "ADD") or ins.flag("from") or ins.heredocs \
                    or len(ins.values) < 2 or id(ins) in found:
                continue
            srcs = [expand(v, s.env)[0] for v in ins.values[:-1]]
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
        _missing_in_build_stage(ctx, info, command, names)


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
    found = {id(ins) for _, _, ins in copied}
    missing: dict[str, tuple[str, Instruction]] = {}  # image path -> (context source, COPY)
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd not in ("COPY", "ADD") or ins.flag("from") or ins.heredocs \
                    or len(ins.values) < 2 or id(ins) in found:
                continue
            srcs = [expand(v, s.env)[0] for v in ins.values[:-1]]
            dest = workdir_path(s, ins, expand(ins.values[-1], s.env)[0])
            for src in srcs:
                if "://" in src or "$" in src or re.compile(_GLOB_CHARS).search(src):
                    continue
                into = ins.values[-1].endswith("/") or len(srcs) > 1
                missing[posixpath.join(dest, posixpath.basename(src.rstrip("/"))) if into
                        else dest] = (src, ins)
    # a script under a folder the file copies in whole (`ADD . /container` +
    # `RUN /container/install.sh`) that the context does not hold there
    dirs = [(src, dest, ins) for src, dest, ins in copied if build.is_dir(src)]
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
            for src, dest, _ in copied:
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


def _in_shell_comment(text: str, pos: int) -> bool:
    start = text.rfind("\n", 0, pos) + 1
    return text[start:pos].lstrip().startswith("#")


def _runs(ctx: Context, command: _Command) -> list[Invocation]:
    """The documented ``docker run`` lines of this image (usage comments, README,
    Makefiles and scripts beside it, docs pages), read once per judgement."""
    if command.runs is None:
        services = frozenset(m.group(1) for _, block, _ in _services(ctx, command)
                             for m in [re.match(r"\s*['\"]?([\w.-]+)['\"]?\s*:", block)] if m)
        command.runs = documented_runs(ctx.build, ctx.df.text, _df_name(ctx),
                                       _program_name(command.program), services)
    return command.runs


def _devices(ctx: Context, info: StageInfo, command: _Command,
             copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    for run in _runs(ctx, command):
        what = ("--privileged" if run.privileged else
                f"--device {run.devices[0]}" if run.devices else
                "--gpus" if run.gpus else
                next((f"-v {m.source}:{m.target}" for m in run.mounts
                      if m.source.endswith("docker.sock") or m.target.endswith("docker.sock")
                      or (m.bind and m.source.startswith("/dev/"))), None) or
                next((f"--cap-add {c}" for c in run.cap_add
                      if c.upper().removeprefix("CAP_") != "NET_BIND_SERVICE"), None))
        if what:
            hint = ("the Docker socket's group on the host decides who may open it"
                    if "docker.sock" in what else "")
            frag = what.split(" ", 1)[-1].split(":")[0]
            return Judgement("needs-devices", "app",
                             f"its documented `docker run` uses `{what}`: the container "
                             "needs root or the host's devices", (run.cite(frag),), hint)
    for path, block, at in _services(ctx, command):
        full = ctx.build.read_text(path) if ctx.build else None
        for rx, what in ((r"^\s*privileged:\s*true", "privileged: true"),
                          (r"^\s*devices:", "devices"),
                          (r"/var/run/docker\.sock", "the Docker socket"),
                          (r"^\s*cap_add:", "cap_add"),
                          (r"^\s*user:\s*['\"]?(?:root|0)\b", "user: root")):
            hit = re.search(rx, block, re.M)
            if hit and full is not None:
                return Judgement("needs-devices", "app",
                                 f"`{path}` runs it with {what}",
                                 (_cite(path, full, at + hit.start()),))
    root = info.chain[-1]
    base = root.base.lower().split("@")[0]
    for glob in k.device_images:
        if fnmatch(base, glob):
            return Judgement("needs-devices", "app",
                             f"`{root.base}` is an IoT base image, meant to run privileged with "
                             "the device's hardware", (_ins_cite(ctx, root.stage.from_),))
    # kernel facilities the program needs a capability for, which Docker gives to root only
    facilities: list[tuple[tuple[Instruction, str] | None, str, str]] = [
        (_package_install(info, k.ebpf) or _copied_library(info, k.ebpf),
         "it ships `{}`, an eBPF toolkit: loading eBPF programs and kprobes needs "
         "CAP_SYS_ADMIN (or CAP_BPF) and the host's /sys/kernel/debug",
         "leave it root, run with --privileged or the capabilities"),
        (_package_install(info, k.packet_capture),
         "it installs `{}`, for packet capture: capturing needs raw sockets "
         "(CAP_NET_RAW)", "leave it root, or give the program the capability with `setcap`"),
        (_package_install(info, k.fuse),
         "it installs `{}`, for FUSE file systems: a mount needs /dev/fuse and CAP_SYS_ADMIN",
         "leave it root, run with `--device /dev/fuse --cap-add SYS_ADMIN`"),
    ] if command.ins is not None else []
    for installed, says, hint in facilities:
        if installed is not None:
            return Judgement("needs-devices", "app",
                             says.format(installed[1]) + ", which Docker gives to root only",
                             (_ins_cite(ctx, installed[0]),), hint)
    if command.ins is not None:
        for path, text in [("", " ".join(command.words)), *_scripts(ctx, info, command, copied)]:
            m = re.compile(k.libvirt_system).search(text)
            if m:
                return Judgement("needs-devices", "app",
                                 f"it connects to libvirt's system daemon (`{m.group(0)}`), "
                                 "whose socket only root (or the host's libvirt group) may open",
                                 (_cite(path, text, m.start()) if path else
                                  _ins_cite(ctx, command.ins),),
                                 "leave it root, or run it with the host's libvirt group")
    installed = _package_install(info, k.device_packages, pip=True)
    if installed is not None:
        return Judgement("needs-devices", "app",
                         f"it installs `{installed[1]}`, which drives hardware devices (GPIO, I2C, "
                         "the board's firmware, cameras, sound cards, GPUs) that only root or a "
                         "host group (video, audio) may open",
                         (_ins_cite(ctx, installed[0]),),
                         "run it with the device's group, not a new user")
    return None


def _host_pid(ctx: Context, info: StageInfo, command: _Command,
              copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """It is run in the host's process namespace (``--pid host``, ``pid: host``):
    a tool that inspects or signals the host's processes, which needs root."""
    for run in _runs(ctx, command):
        if run.pid_host:
            return Judgement("host-pid", "app",
                             "its documented `docker run` uses `--pid host`: the tool inspects "
                             "the host's processes, which only root may read in full",
                             (run.cite("--pid"),), "leave it root, as it is documented to run")
    build = ctx.build
    for path, block, at in _services(ctx, command):
        hit = re.search(r"^\s*pid:\s*['\"]?host\b", block, re.M)
        full = build.read_text(path) if build else None
        if hit and full is not None:
            return Judgement("host-pid", "app",
                             f"`{path}` runs it with `pid: host`: the tool inspects the host's "
                             "processes, which only root may read in full",
                             (_cite(path, full, at + hit.start()),))
    return None


#: a compose short-syntax volume: ``- SRC:DST[:OPTS]``
_COMPOSE_VOLUME = (
    r"^\s*-\s*['\"]?(\.{1,2}(?:/[^:'\"\s]*)?|\$\{?PWD\}?[^:'\"\s]*|~/[^:'\"\s]*|/[^:'\"\s]*):"
    r"(/[^:'\"\s]*)(:[a-z,]+)?['\"]?\s*$")  # with re.M


#: a compose long-syntax volume: ``- type: bind`` and the keys under it
_COMPOSE_LONG = r"^([ \t]*)-[ \t]*type:[ \t]*['\"]?bind['\"]?[ \t]*\n((?:\1[ \t]+\S[^\n]*\n?)*)"  # re.M


def _compose_volumes(block: str) -> list[tuple[str, str, bool, int]]:
    """(source, target, read-only, offset) of the host mounts of a compose
    service, short (``- ./data:/data:ro``) and long (``type: bind``) syntax."""
    out = [(m.group(1), m.group(2), bool(m.group(3) and "ro" in m.group(3).split(",")), m.start())
           for m in re.finditer(_COMPOSE_VOLUME, block, re.M)]
    for m in re.finditer(_COMPOSE_LONG, block, re.M):
        keys = dict(re.findall(r"^[ \t]*(\w+):[ \t]*['\"]?([^'\"\n#]*?)['\"]?[ \t]*$",
                               m.group(2), re.M))
        src, dst = keys.get("source", ""), keys.get("target", "")
        if src and dst.startswith("/"):
            out.append((src, dst, keys.get("read_only", "").lower() == "true", m.start()))
    return out


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
            # fdupes) works on the files the run gives it: those it mounts
            tool = _program_name(command.program) in k.file_tools
            if _written(info, mount.target) or named or works_there or tool:
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


def _left_empty(info: StageInfo, path: str) -> Instruction | None:
    """The instruction that makes ``path`` (its WORKDIR, else its VOLUME), when the
    build puts nothing in it: no COPY/ADD into it or above it, no step that runs
    there or names it (other than a package install, or to create or own it),
    no ONBUILD, on an official base image (another base may hold files there)."""
    if not _official(info):
        return None
    where = None
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd == "ONBUILD":
                return None
            if ins.cmd in ("COPY", "ADD") and ins.values and len(ins.values) + len(ins.heredocs) >= 2:
                dest = workdir_path(s, ins, expand(ins.values[-1], s.env)[0])
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


def _compose_target(ctx: Context, info: StageInfo, command: _Command,
                    copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """A compose service builds another stage (``build.target``) than the one
    dockfix would change: the image it runs would not get the fix."""
    if ctx.settings.target is not None:
        return None
    build = ctx.build
    alias = (info.stage.alias or "").lower()
    stages = {m.group(1).lower() for ins in ctx.df.instructions if ins.cmd == "FROM"
              for m in [re.search(r"(?i)\sas\s+([\w.-]+)\s*$", ins.args)] if m}
    for path, block, at in _services(ctx, command):
        m = re.search(r"^[ \t]*target:[ \t]*['\"]?([\w.-]+)['\"]?[ \t]*$", block, re.M)
        full = build.read_text(path) if build else None
        if m and full is not None and m.group(1).lower() != alias \
                and m.group(1).lower() in stages:
            return Judgement("compose-target", "app",
                             f"`{path}` runs the stage `{m.group(1)}`, not the last stage "
                             f"(`{info.stage.alias or 'unnamed'}`) that the fix would change",
                             (_cite(path, full, at + m.start()),),
                             f"run dockfix with --target {m.group(1)} to judge the stage it runs")
    return None


def _ports(ctx: Context, info: StageInfo, command: _Command,
           copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    low: list[tuple[int, str]] = []
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd == "EXPOSE":
                for v in ins.values:
                    p, _ = expand(v, s.env)
                    m = re.match(r"(\d+)", p)
                    if m and 0 < int(m.group(1)) < 1024:
                        low.append((int(m.group(1)), _ins_cite(ctx, ins)))
            elif ins.cmd == "ENV":
                for key, value in _env_pairs(ins):
                    if re.compile(_ENV_PORT).match(key) and value.isdigit() and 0 < int(value) < 1024:
                        low.append((int(value), _ins_cite(ctx, ins)))
    if command.ins is not None:
        for m in re.compile(_PORT_ARG).finditer(" " + " ".join(command.words)):
            port = int(m.group(1) or m.group(2))
            if 0 < port < 1024:
                low.append((port, _ins_cite(ctx, command.ins)))
        prog = _program_name(command.program)
        if prog in k.port_programs:
            # a server that listens below 1024 unless its command sets another port
            default, flags, when = k.port_programs[prog]
            line = " " + " ".join(command.words)
            mode = re.search(when, line) if when else None
            if when and mode is None:
                default = 0  # it listens there only in a mode its command does not turn on
            set_ports = [int(m.group(1)) for m in re.compile(flags).finditer(line)] + [
                int(m.group(1) or m.group(2)) for m in re.compile(_PORT_ARG).finditer(line)]
            port = set_ports[0] if set_ports else default
            config = _config_ports(ctx, info, command, copied, k, prog, port)
            if config is not None:
                # its config file says where it listens (a Corefile's server blocks)
                low += [(p, where) for p, where in config if 0 < p < 1024]
            elif 0 < port < 1024:
                low.append((port, _ins_cite(ctx, command.ins) + (
                    "" if set_ports else f" (`{prog}` listens on {port} with `{mode.group().strip()}`)" if mode
                    else f" (`{prog}` listens on {port} by default)")))
    root = info.chain[-1]
    base = root.base.lower().split("@")[0]
    for pat, port in k.port_images.items():
        if fnmatch(base, pat) and not _overrides_command(info):
            low.append((port, _ins_cite(ctx, root.stage.from_) + f" (`{root.base}` listens on {port})"))
            break
    low += _env_ports(ctx, info, command, copied, k)
    for run in _runs(ctx, command):
        for _, container in run.ports:
            if 0 < container < 1024:
                low.append((container, run.cite(f":{container}")))
    # a Kubernetes container of this image that declares `containerPort: 80`
    low += [(p, where) for p, where in manifest_ports(ctx.build, ctx.df.text,
                                                       _program_name(command.program))
            if 0 < p < 1024]
    build = ctx.build
    if build is not None:
        for src, dest, ins in copied:
            for f in _files_under(build, src, 200):
                for glob, listen in k.daemon_configs:
                    if not fnmatch(f.lower(), glob):
                        continue
                    body = build.read_text(f)
                    if not body:
                        continue
                    for m in re.compile(listen, re.M).finditer(body):
                        if 0 < int(m.group(1)) < 1024:
                            low.append((int(m.group(1)), _cite(f, body, m.start())))
                            break
        if k.app_listen is not None:
            low += _app_config_ports(build, copied, k, k.app_listen)
        if command.ins is not None and not _sets_own_port(info, command):
            low += _readme_ports(build)
        low += _source_ports(ctx, info, command, copied, k)
        low += _spring_ports(ctx, info, command, copied)
        for path, block, at in _services(ctx, command):
            full = build.read_text(path) or ""
            for m in re.finditer(r"['\"]?(?:[\d.]+:)?\d+:(\d+)(?:/tcp|/udp)?['\"]?", block):
                if int(m.group(1)) < 1024:
                    low.append((int(m.group(1)), _cite(path, full, at + m.start())))
    if not low:
        return None
    port, where = low[0]
    return Judgement("binds-privileged-port", "app",
                     f"the process listens on port {port}, below 1024, which needs root "
                     "(or NET_BIND_SERVICE)", tuple(w for _, w in low[:3]),
                     "move it to a port >= 1024 everywhere it is set, then add USER")


#: ``key: value``, ``key = value``, ``"key": value,``, ``export KEY=value``, and
#: in a ``.conf``, ``key value``
_APP_KEY = (r"^(?:-\s+)?(?:export\s+)?[\"']?(?P<key>[A-Za-z_][\w.-]*)[\"']?"
            r"(?:\s*[:=](?!:)|(?P<space>[ \t]))\s*(?P<value>.*)$")
#: a listening address or port: ``80``, ``:443``, ``0.0.0.0:80``, ``[::]:80``, ``*:80``
_LISTEN_VALUE = (r"(?:(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]*\]|\*|localhost)?:)?"
                 r"(\d{1,5})")


def _app_config_ports(build: BuildContext, copied: list[tuple[str, str, Instruction]],
                      k: _Knowledge, spec: _AppListen) -> list[tuple[int, str]]:
    """(port, ``file:line``) of each port below 1024 that an application config the
    file copies in listens on: a copied file itself, or in a copied directory a
    top-level file or one in a config directory (``conf/``, ``config/``), never an
    example, a template or a file under tests, docs or deployment manifests.
    Configs that :attr:`_Knowledge.daemon_configs` reads (nginx, httpd, ...) are
    read there instead."""
    out: list[tuple[int, str]] = []
    for src, _, _ in copied:
        whole = build.is_dir(src)
        for f in _files_under(build, src, 200):
            name = posixpath.basename(f).lower()
            if not any(fnmatch(name, g) for g in spec.globs) or \
                    re.compile(spec.skip_names).search(name) or \
                    any(fnmatch(f.lower(), glob) for glob, _ in k.daemon_configs):
                continue
            if whole:
                dirs = posixpath.relpath(f, src).lower().split("/")[:-1]
                if any(d in spec.skip_dirs for d in dirs) or \
                        not all(d in spec.config_dirs for d in dirs):
                    continue
            body = build.read_text(f)
            if body:
                out += _listening_keys(f, body, spec)
    return out


def _listening_keys(path: str, text: str, spec: _AppListen) -> list[tuple[int, str]]:
    """(port, ``file:line``) of each key of a YAML, INI, TOML, JSON, .properties or
    .env file that sets a listening port below 1024, at the top level or under
    sections that ``spec`` names (parents by indentation, ``[section]`` headers and
    dotted prefixes: ``server.port``, ``[server]``, ``http:``)."""
    out: list[tuple[int, str]] = []
    parents: list[tuple[int, str]] = []
    spaced = path.lower().endswith(".conf")
    pos = 0
    for line in text.splitlines(keepends=True):
        at, pos = pos, pos + len(line)
        body = line.rstrip("\r\n")
        stripped = body.strip()
        if not stripped or stripped.startswith(("#", ";", "//")):
            continue
        header = re.fullmatch(r"\[\[?\s*([^\]]+?)\s*\]\]?", stripped)
        if header:
            parents = [(-1, n.strip("\"' ")) for n in header.group(1).split(".")]
            continue
        indent = len(body) - len(body.lstrip(" \t-"))
        while parents and parents[-1][0] >= indent:
            parents.pop()
        m = re.match(_APP_KEY, stripped)
        if not m or (m.group("space") and not spaced):
            continue
        value = re.sub(r"\s+[#;].*$", "", m.group("value")).strip().rstrip(",;").strip()
        key = m.group("key").lower().replace("-", "_")
        if value in ("", "{", "[", "|", ">") or value.endswith("{"):
            parents.append((indent, key))
            continue
        *prefix, last = key.split(".")
        sections = [n.lower().replace("-", "_") for _, n in parents] + prefix
        if last not in spec.keys or not all(n in spec.sections for n in sections):
            continue
        v = re.fullmatch(_LISTEN_VALUE, value.strip("\"'"))
        if v and 0 < int(v.group(1)) < 1024:
            out.append((int(v.group(1)), _cite(path, text, at)))
    return out


#: a README sentence that ties a port below 1024 to where the program listens:
#: "listens on port 80", "serving on :443", "binds to 0.0.0.0:80"
_README_LISTENS = (
    r"(?i)\b(?:listen(?:s|ing)?|serv(?:es|ing)|binds?|bound)\s+(?:only\s+)?(?:on|to|at)\s+"
    r"(?:the\s+)?(?:(?:tcp|udp|http|https)\s+)?(?:port\s+`?(\d{1,5})\b|`?%s\b)"
    % r"(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]*\]|\*|localhost)?:(\d{1,5})")
#: "defaults to 0.0.0.0:80", "The default is to use `0.0.0.0:80`", "(default ":80")",
#: "| `-addr` | `:80` |", on a line that says it is a listen (or bind, serve) address
_README_DEFAULT = (
    r"(?i)\bdefault(?:s|\s+is|\s+value)?\b[^.\n]{0,30}?[`'\"]%s[`'\"]"
    % r"((?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]*\]|\*|localhost)?:(\d{1,5}))")
_README_LISTEN_WORD = r"(?i)\b(?:listen\w*|bind\w*|serv(?:e|es|ing)\b)|(?:^|\s)`?--?(?:addr|http)\b"
#: a line about a port the program connects to, not one it listens on
_README_CLIENT = (r"(?i)\b(?:upstream|proxy_pass|remote|target|backend|connect\w*|smtp|mail|"
                  r"redis|database|db|mysql|postgres\w*|ldap|registry|forward\w*|docker\s+run|"
                  r"-p\s)")


def _readme_ports(build: BuildContext) -> list[tuple[int, str]]:
    """(port, ``README:line``) of the ports below 1024 that the image's companion
    README (:func:`companion_readme`) says its program listens on, or listens on by
    default: "listens on port 80", "The default is `0.0.0.0:80`" on a line about the
    listen address. A sentence about a port it connects to (an upstream, a
    database, a ``docker run -p``) ends the line's count."""
    readme = companion_readme(build)
    text = build.read_text(readme) if readme else None
    if not readme or not text:
        return []
    out: list[tuple[int, str]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        at, pos = pos, pos + len(line)
        listen = re.search(_README_LISTEN_WORD, line)
        sentences = re.split(r"(?<=[.!?;])\s+", line)
        for i, sentence in enumerate(sentences):
            if re.search(_README_CLIENT, " ".join(sentences[:i + 1])):
                break
            ports = [int(m.group(1) or m.group(2))
                     for m in re.finditer(_README_LISTENS, sentence)]
            if listen:
                ports += [int(m.group(2)) for m in re.finditer(_README_DEFAULT, sentence)]
            out += [(p, _cite(readme, text, at)) for p in ports if 0 < p < 1024]
    return out


def _sets_own_port(info: StageInfo, command: _Command) -> bool:
    """The file sets where its program listens: a port or address argument, or an
    ``ENV`` port or address, or an ``EXPOSE`` (a low one declines by itself). A
    README's default then says nothing about this image."""
    line = " " + " ".join(command.words)
    if re.search(_PORT_ARG, line) or re.search(
            r"(?i)(?:^|\s)--?[\w.-]*(?:port|addr|address|listen|bind)\b|:\d{2,5}\b", line):
        return True
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd == "ENV" and any(re.search(r"(?i)port|addr|listen|bind", key)
                                        for key, _ in _env_pairs(ins)):
                return True
            if ins.cmd == "EXPOSE":
                return True
    return False


# ---------------------------------------------------------------------------
# The program's own source: what it listens on and the paths it creates
# ---------------------------------------------------------------------------

#: ``go build``/``go install`` flags that take the next word as their value
_GO_VALUE_FLAGS = frozenset({"-o", "-p", "-ldflags", "-gcflags", "-asmflags", "-tags", "-mod",
                             "-modfile", "-buildmode", "-compiler", "-installsuffix", "-pkgdir",
                             "-toolexec", "-overlay", "-pgo", "-C", "-exec"})
#: directories whose files are never the program's (tests, examples, vendored code)
_NOT_PROGRAM_DIRS = frozenset({"test", "tests", "testdata", "testing", "example", "examples",
                               "vendor", "third_party", "node_modules", "fixtures", "docs"})
_MAX_SOURCE_FILES = 100


def _go_builds(ctx: Context, stage: StageInfo) -> Iterator[tuple[Instruction, str, str, list[str]]]:
    """(RUN, output name, directory it runs in, local package or file arguments) of
    each ``go build``/``go install`` of ``stage`` that builds one local package."""
    for ins in stage.stage.instructions:
        if ins.cmd != "RUN" or "go" not in ins.logical:
            continue
        for cmd in commands_named(ins, "go"):
            args = cmd.args_after_name()
            if not args or args[0] not in ("build", "install"):
                continue
            out, pkgs, i = "", [], 1
            while i < len(args):
                a = args[i]
                if a in _GO_VALUE_FLAGS:
                    if a == "-o" and i + 1 < len(args):
                        out = args[i + 1]
                    i += 2
                    continue
                if a.startswith("-o="):
                    out = a[3:]
                elif not a.startswith("-"):
                    pkgs.append(a)
                i += 1
            if any("..." in p or "$" in p for p in pkgs) or \
                    (pkgs and not all(p.startswith(".") or p.endswith(".go") for p in pkgs)):
                continue  # several packages, or one fetched by its import path
            cwd = workdir_path(stage, ins, ".")
            files = [p for p in pkgs if p.endswith(".go")]
            pkg = posixpath.normpath(posixpath.join(cwd, posixpath.dirname(files[0]) if files
                                                    else (pkgs[0] if pkgs else ".")))
            if out and not out.endswith("/") and "$" not in out:
                name = posixpath.basename(out)
            elif files:
                name = posixpath.basename(files[0])[:-3]
            else:
                name = posixpath.basename(pkg)
            yield ins, name, pkg, [posixpath.basename(f) for f in files]


def _entry_file(build: BuildContext, prog: str, rest: list[str], cwd: str,
                copied: list[tuple[str, str, Instruction]]) -> list[str]:
    """The context path of the file ``prog`` (python, node, nodemon) runs with the
    arguments ``rest`` in ``cwd``: ``app.py``, ``-m pkg.app``, ``server.js``,
    ``./bin/www`` (node's extension-less script), ``server`` (node's ``server.js``).
    ``copied`` empty: ``cwd`` is a
    directory of the context (``/`` its root)."""
    i = 0
    while i < len(rest) and rest[i].startswith("-") and rest[i] != "-m":
        i += 2 if rest[i] in ("-X", "-W", "-r", "--require", "--watch", "-w") else 1
    if i >= len(rest):
        return []
    python = prog.startswith("python")
    if rest[i] == "-m":
        if not python or i + 1 >= len(rest):
            return []
        script = rest[i + 1].replace(".", "/") + ".py"
    elif re.search(r"\.(?:py)$" if python else r"\.(?:js|mjs|cjs)$|^[\w./-]*/[\w-]+$", rest[i]):
        script = rest[i]
    elif not python and re.fullmatch(r"[\w-]+", rest[i]):
        script = rest[i] + ".js"  # `node server` runs server.js
    else:
        return []
    full = posixpath.normpath(posixpath.join(cwd, script))
    if not copied:
        return [full.lstrip("/")]
    return _in_context(build, "", full, copied)


def _go_local_imports(build: BuildContext, files: list[str]) -> list[str]:
    """The Go files of the packages of its own module that the main package
    ``files`` imports (``example.com/app/internal/server``), one level deep: the
    ``go.mod`` above them names the module."""
    if not files:
        return []
    d = posixpath.dirname(posixpath.normpath(files[0]))
    while True:
        mod = build.read_text(posixpath.join(d, "go.mod") if d else "go.mod")
        if mod is not None or not d:
            break
        d = posixpath.dirname(d)
    m = re.search(r"(?m)^module\s+(\S+)", mod or "")
    if m is None:
        return []
    module = m.group(1).strip("\"")
    out: list[str] = []
    seen: set[str] = set()
    for f in files:
        for imp in re.findall(r'"%s/([\w./-]+)"' % re.escape(module), build.read_text(f) or ""):
            pkg = posixpath.normpath(posixpath.join(d, imp)) if d else posixpath.normpath(imp)
            if pkg in seen or pkg.startswith("..") or not build.is_dir(pkg):
                continue
            seen.add(pkg)
            out += [posixpath.join(pkg, n) for n in build.list_dir(pkg)
                    if n.endswith(".go") and not n.endswith("_test.go")][:_MAX_SOURCE_FILES]
    return out


def _program_sources(ctx: Context, info: StageInfo, command: _Command,
                     copied: list[tuple[str, str, Instruction]]) -> list[tuple[str, str]]:
    """(context path, text) of the source files of the program the command runs,
    when the build context holds them: the Go main package that a stage builds
    (``go build -o app ./cmd/app``) into the program the command runs, or that the
    command runs (``go run .``); the Python or Node file the command runs
    (``python app.py``, ``node server.js``, ``npm start``'s ``node`` script). Never
    a test, an example or vendored code; at most :data:`_MAX_SOURCE_FILES` files."""
    if command.sources is not None:
        return command.sources
    command.sources = []
    build = ctx.build
    if build is None or command.ins is None:
        return command.sources
    words = command.words
    prog = _program_name(command.program)
    at = words.index(command.program) if command.program in words else 0
    rest = words[at + 1:]
    cwd = run_dir(info) or "/"
    dirs: list[tuple[str, list[tuple[str, str, Instruction]], list[str]]] = []
    files: list[str] = []
    if prog == "go" and rest[:1] == ["run"]:
        pkgs = [w for w in rest[1:] if not w.startswith("-")]
        gofiles = [p for p in pkgs if p.endswith(".go")]
        target = posixpath.dirname(gofiles[0]) if gofiles else (pkgs[0] if pkgs else ".")
        if target.startswith(".") or gofiles:
            dirs.append((posixpath.normpath(posixpath.join(cwd, target)), copied,
                         [posixpath.basename(f) for f in gofiles]))
    elif re.fullmatch(r"python[\d.]*|node|nodejs|nodemon", prog):
        files += _entry_file(build, prog, rest, cwd, copied)
    elif prog in ("npm", "yarn", "pnpm"):
        # `npm start`, `npm run serve`, `yarn start`: the package.json script, when it
        # runs one node file (`node server.js`, `nodemon ./bin/www`)
        task = rest[1:2] if rest[:1] in (["run"], ["run-script"]) else rest[:1]
        for pj in _in_context(build, "", posixpath.join(cwd, "package.json"), copied):
            try:
                script = json.loads(build.read_text(pj) or "{}").get("scripts", {}).get(
                    task[0] if task else "")
            except (ValueError, AttributeError):
                script = None
            if isinstance(script, str) and re.fullmatch(r"[\w ./=-]+", script) and \
                    script.split()[0] in ("node", "nodejs", "nodemon"):
                here = posixpath.dirname(pj)
                files += _entry_file(build, script.split()[0], script.split()[1:],
                                     "/" + here if here else "/", [])
            break
    else:
        # a Go program built by this file: the chain's own stages, and those it copies
        # from; the command runs it, or an entrypoint script of it does
        names = {prog} | {m.group(1) for _, text in _scripts(ctx, info, command, copied)
                          for m in re.finditer(_SCRIPT_PROGRAM, text, re.M)}
        froms: set[str] = set()
        for s in info.chain:
            for ins in s.stage.instructions:
                frm = ins.flag("from") if ins.cmd == "COPY" else None
                if frm is None or not frm.value or len(ins.values) < 2:
                    continue
                froms.add(frm.value.lower())
                dest = ins.values[-1]
                for src in ins.values[:-1]:
                    if posixpath.basename(dest.rstrip("/")) == prog or (
                            dest.endswith("/") and posixpath.basename(src) == prog):
                        names.add(posixpath.basename(src.rstrip("/")))
        stages = [s for s in ctx.model.stages
                  if any(s is c for c in info.chain) or
                  ({(s.stage.alias or "").lower(), str(s.stage.index)} & froms)]
        for s in stages:
            stage_copied: list[tuple[str, str, Instruction]] | None = None
            for s2 in s.chain:
                for ins, name, pkg, gofiles in _go_builds(ctx, s2):
                    if name in names:
                        if stage_copied is None:
                            stage_copied = _copied_sources(ctx, s)
                        dirs.append((pkg, stage_copied, gofiles))
    for pkg, where, gofiles in dirs:
        if gofiles:
            files += [c for g in gofiles for c in _in_context(build, "", posixpath.join(pkg, g), where)
                      if not build.is_dir(c)][:len(gofiles)]
            continue
        found = next((d for d in _in_context(build, "", pkg, where) if build.is_dir(d)), None)
        if found is not None:
            files += [posixpath.join(found, n) if found else n for n in build.list_dir(found)
                      if n.endswith(".go") and not n.endswith("_test.go")]
        else:  # its files copied one by one (``COPY *.go ./``)
            files += [src for src, dest, _ in where if src.endswith(".go") and
                      pkg in (dest.rstrip("/"), posixpath.dirname(dest)) and
                      not src.endswith("_test.go") and not build.is_dir(src)]
    files += _go_local_imports(build, [f for f in files if f.endswith(".go")])
    out: list[tuple[str, str]] = []
    for f in dict.fromkeys(posixpath.normpath(f) for f in files):
        if len(out) >= _MAX_SOURCE_FILES:
            break
        parts = f.lower().split("/")
        if any(p in _NOT_PROGRAM_DIRS for p in parts[:-1]) or \
                re.search(r"(?:^|[._-])(?:test|spec|example)s?(?:[._-]|$)", parts[-1]):
            continue
        text = build.read_text(f)
        if text:
            out.append((f, text))
    command.sources = out
    return out


def _spring_configs(ctx: Context, info: StageInfo, command: _Command) -> list[tuple[str, str]]:
    """(context path, text) of a Spring Boot app's own settings,
    ``src/main/resources/application.properties`` (or ``.yml``) and the profile's
    ``application-PROFILE.*`` that ``SPRING_PROFILES_ACTIVE`` names, when a stage
    builds it (Maven or Gradle) and the command runs ``java``."""
    build = ctx.build
    if build is None or command.ins is None or _program_name(command.program) != "java" or \
            not re.search(r"(?m)\b(?:mvn|mvnw|gradle|gradlew)\b", ctx.df.text):
        return []
    env = {key: v for s in info.chain for ins in s.stage.instructions if ins.cmd == "ENV"
           for key, v in _env_pairs(ins)}
    profiles = [p.strip() for p in env.get("SPRING_PROFILES_ACTIVE", "").split(",") if p.strip()]
    names = {f"application.{ext}" for ext in ("properties", "yml", "yaml")} | {
        f"application-{p}.{ext}" for p in profiles for ext in ("properties", "yml", "yaml")}
    sources = dict.fromkeys(src for st in ctx.model.stages for src, _, _ in _copied_sources(ctx, st))
    out: list[tuple[str, str]] = []
    for src in sources:
        for f in _files_under(build, src, 400):
            parts = f.split("/")
            if parts[-1] not in names or "/".join(parts[-4:-1]) != "src/main/resources" or \
                    any(d.lower() in _NOT_PROGRAM_DIRS for d in parts[:-1]):
                continue
            text = build.read_text(f)
            if text:
                out.append((f, text))
    return out


def _spring_ports(ctx: Context, info: StageInfo, command: _Command,
                  copied: list[tuple[str, str, Instruction]]) -> list[tuple[int, str]]:
    """(port, ``file:line``) of a port below 1024 that a Spring Boot app's own
    settings (:func:`_spring_configs`) set as ``server.port``, unless the file, its
    command or a compose service sets the port."""
    configs = _spring_configs(ctx, info, command)
    if not configs:
        return []
    env = {key for s in info.chain for ins in s.stage.instructions if ins.cmd == "ENV"
           for key, _ in _env_pairs(ins)}
    line = " ".join(command.words)
    blocks = [block for _, block, _ in _services(ctx, command)]
    if "SERVER_PORT" in env or re.search(r"server\.port|SERVER_PORT", line) or \
            any(re.search(r"\bSERVER_PORT\b|server\.port", block) for block in blocks):
        return []
    out: list[tuple[int, str]] = []
    for f, text in configs:
        for m in re.finditer(_SPRING_PORT, text):
            port = int(m.group("a") or m.group("b"))
            var = m.group("env") or m.group("env2")
            if var and (var in env or var in line or
                        any(re.search(r"\b%s\b" % var, b) for b in blocks)):
                continue  # `${PORT:80}`: the file sets PORT
            if 0 < port < 1024:
                out.append((port, _cite(f, text, m.start("a") if m.group("a") else m.start("b"))))
    return out


#: where a Spring Boot app writes its log: ``logging.file.name=/var/log/app.log``,
#: ``logging.file.path=/var/log/app`` (and the older ``logging.file``, ``logging.path``)
_SPRING_LOG = (r"(?m)^[ \t]*logging\.(?:file(?:\.name|\.path)?|path)[ \t]*[=:][ \t]*['\"]?"
               r"(/[\w./@+-]+)")


#: Spring Boot's own port: ``server.port=80`` (``.properties``, or a YAML key as
#: one), or ``port:`` under a top-level ``server:`` in YAML; ``${PORT:80}`` is 80
#: unless ``PORT`` is set
_SPRING_PORT = (r"(?m)^[ \t]*server\.port[ \t]*[=:][ \t]*['\"]?(?:\$\{(?P<env>\w+):)?(?P<a>\d{1,5})\b"
                r"|^server:[ \t]*\n(?:(?:[ \t]*#.*|[ \t]*|[ \t]{2,}\S.*)\n)*?"
                r"(?P<indent>[ \t]+)port:[ \t]*['\"]?(?:\$\{(?P<env2>\w+):)?(?P<b>\d{1,5})\b")


#: a listening address in source: ``":80"``, ``"0.0.0.0:443"``, ``"[::]:80"`` (a host
#: name before the port is a place the program connects to, never counted)
_SRC_ADDR = r"""["'](?:0\.0\.0\.0|\[::\]|\*)?:\d{1,5}["']"""
#: a call that listens on its address or port, with the argument it is given
#: a call's argument: up to its next ``,`` or ``)`` outside nested parentheses
_SRC_ARG = r"[^,()\n]*(?:\([^()\n]*(?:\([^()\n]*\)[^()\n]*)*\)[^,()\n]*)*"
_SRC_LISTEN = (
    # Go: http.ListenAndServe(":80", ...), net.Listen("tcp", ":443"), Addr: ":443"
    r"\b(?:ListenAndServe(?:TLS)?|ListenTCP|ListenUDP|(?:net|tls)\.Listen(?:Packet)?)\(\s*"
    r"""(?:["'](?:tcp|udp)[46]?["']\s*,\s*)?(?P<arg>%s)"""
    r"|\bAddr:\s*(?P<arg2>%s)"
    # Python: app.run(port=80), uvicorn.run(app, port=80), web.run_app(app, port=443)
    r"|\b(?:run|run_app|serve|run_simple)\((?:%s,\s*)*?port\s*=\s*(?P<arg3>%s)"
    # Python: HTTPServer(("", 80), ...), sock.bind(("0.0.0.0", 80))
    r"""|\b(?:\w*Server|bind)\(\s*\(\s*["'](?:0\.0\.0\.0|::)?["']\s*,\s*(?P<arg4>%s)\)"""
    # Node: app.listen(80), server.listen(process.env.PORT || 443)
    r"|\.listen\(\s*(?P<arg5>%s)"
) % (_SRC_ARG, _SRC_ARG, _SRC_ARG, _SRC_ARG, _SRC_ARG, _SRC_ARG)
#: the files each kind of listen call of :data:`_SRC_LISTEN` is read in
_SRC_LANGUAGE = {"arg": "go", "arg2": "go", "arg3": "py", "arg4": "py", "arg5": "js"}
#: a flag whose default is a listening address or port: Go's ``flag.String("addr",
#: ":80", ...)``, pflag's ``StringVarP(&a, "listen", "l", ":443", ...)``, Python's
#: ``add_argument("--port", default=80)``
_SRC_FLAG = (
    r"""\b(?:String|Int|Uint)(?:Var)?P?\(\s*(?:&[\w.\[\]]+\s*,\s*)?["'](?P<name>[\w.-]+)["']\s*,"""
    r"""\s*(?:["']\w?["']\s*,\s*)?(?:(?P<addr>%s)|(?P<num>\d{1,5})\s*,)"""
    r"""|\badd_argument\(\s*["']-{1,2}(?P<name2>[\w.-]+)["'][^)\n]*?\bdefault\s*=\s*(?:(?P<addr2>%s)|["']?(?P<num2>\d{1,5})\b)"""
) % (_SRC_ADDR, _SRC_ADDR)
#: an environment variable read with a default: ``os.environ.get("PORT", 80)``,
#: ``process.env.PORT || 80``, ``getenv("PORT", "80")``
_SRC_ENV = (r"""(?:\bgetenv|\benviron\.get|\bEnv(?:OrDefault)?)\(\s*["'](?P<env>\w+)["']\s*,"""
            r"""\s*["']?(?::)?(?P<num>\d{1,5})\b"""
            r"|\bprocess\.env\.(?P<env2>\w+)\s*\|\|\s*[\"']?(?P<num2>\d{1,5})\b")
#: a boolean flag of the program (``flag.Bool("prod", ...)``)
_SRC_BOOL_FLAG = r"""\bBool(?:Var)?P?\(\s*(?:&[\w.\[\]]+\s*,\s*)?["'](?P<name>[\w.-]+)["']"""


def _addr_port(addr: str) -> int:
    """The port of an address or port literal (``":80"``, ``"0.0.0.0:443"``, ``80``)."""
    return int(re.findall(r"\d{1,5}", addr)[-1])


def _source_ports(ctx: Context, info: StageInfo, command: _Command,
                  copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> list[tuple[int, str]]:
    """(port, ``file:line``) of each port below 1024 that the program's own source
    (:func:`_program_sources`) listens on: a literal address or port in a listen
    call, or the default of a flag or environment variable that the call is given,
    unless the command sets that flag or the file sets that variable. When the
    source also listens on a port >= 1024, a low one counts only if the command
    turns on one of the program's boolean flags (a ``-prod`` mode)."""
    sources = _program_sources(ctx, info, command, copied)
    if not sources:
        return []
    # the command line, and the entrypoint scripts that may set a flag or variable
    line = " ".join([""] + command.words[1:] + [t for _, t in _scripts(ctx, info, command, copied)])
    env = {key for s in info.chain for ins in s.stage.instructions if ins.cmd == "ENV"
           for key, _ in _env_pairs(ins)} | set(re.findall(r"(?:^|\s)(\w+)=", line))
    # a compose service that builds this file may set it too (`environment:`)
    env |= {m.group(1) for _, block, _ in _services(ctx, command)
            for m in re.finditer(r"(?m)^[ \t]*(?:-[ \t]*)?['\"]?(\w+)['\"]?[ \t]*[:=]", block)}

    def flag_set(name: str) -> bool:
        return re.search(r"(?:^|\s)--?%s(?:[=\s]|$)" % re.escape(name), line + " ") is not None

    def value(text: str, arg: str) -> tuple[int, int] | None:
        """The port that ``arg``, a listen call's argument, names, and where this
        file sets it (-1: in the call): a literal, an
        environment variable's or a flag's default (None when the file or the
        command sets it), or a name set to one of those in this file."""
        arg = arg.strip()
        lit = re.fullmatch(r"(%s|[\"']?\d{1,5}[\"']?)" % _SRC_ADDR, arg)
        if lit:
            return _addr_port(arg), -1
        envm = re.search(_SRC_ENV, arg)
        if envm:
            return None if (envm.group("env") or envm.group("env2")) in env else \
                (int(envm.group("num") or envm.group("num2")), -1)
        # a name (``":" + port``, ``fmt.Sprintf(":%d", *port)``, ``PORT``): the flag,
        # variable or constant that this file sets it from
        m = re.fullmatch(r"""(?:["']:["']\s*\+\s*|\w+\.Sprintf\(\s*["']:%[sdv]["']\s*,\s*)?"""
                         r"\*?([A-Za-z_][\w.]*)\)?(?:\s*\+\s*[\"']{2})?", arg)
        if not m:
            return None
        name = m.group(1).split(".")[-1]
        port: tuple[int, int] | None = None
        for m in re.finditer(r"(?m)^\s*(?:(?:const|let|var)\s+)?%s(?:\s+\w+)?\s*(?::=|=(?!=))"
                             r"\s*([^\n;]+)" % re.escape(name), text):
            rhs = re.sub(r"\s(?://|#).*$", "", m.group(1)).strip()
            flag = re.search(_SRC_FLAG, rhs)
            if flag:
                if flag_set(flag.group("name") or flag.group("name2")):
                    return None
                addr = flag.group("addr") or flag.group("addr2")
                return (_addr_port(addr) if addr else int(flag.group("num") or flag.group("num2")),
                        m.start())
            envm = re.search(_SRC_ENV, rhs)
            if envm:
                return None if (envm.group("env") or envm.group("env2")) in env else \
                    (int(envm.group("num") or envm.group("num2")), m.start())
            read = re.search(r"""\b(?:Getenv|getenv|environ\.get|LookupEnv)\(\s*["'](\w+)["']\s*\)"""
                             r"|\benviron\[\s*[\"'](\w+)[\"']\s*\]|\bprocess\.env\.(\w+)\b", rhs)
            if read:  # read from the environment; a literal set after it is its default
                if (read.group(1) or read.group(2) or read.group(3)) in env:
                    return None
                continue
            lit = re.fullmatch(r"(%s|[\"']?\d{1,5}[\"']?)" % _SRC_ADDR, rhs)
            if lit:
                port = (_addr_port(rhs), m.start()) if port is None else port
        return port

    low: list[tuple[int, str]] = []
    high = False
    for path, text in sources:
        for m in re.finditer(_SRC_LISTEN, text):
            if _in_code_comment(text, m.start()):
                continue
            group = next(g for g in ("arg", "arg2", "arg3", "arg4", "arg5")
                         if m.group(g) is not None)
            if _language(path, text) != _SRC_LANGUAGE[group]:
                continue  # Python's `sock.listen(5)` is a backlog, not a port
            arg = m.group(group)
            found = value(text, arg)
            if found is None:
                continue
            port, where = found
            if 0 < port < 1024:
                low.append((port, _cite(path, text, m.start())))
                if where >= 0:
                    low.append((port, _cite(path, text, where + len(text[where:]) -
                                             len(text[where:].lstrip()))))
            elif port >= 1024:
                high = True
        for m in re.finditer(_SRC_FLAG, text):
            # a flag that is a listening address (``-addr :443``) counts by itself
            name = m.group("name") or m.group("name2") or ""
            if _language(path, text) != ("go" if m.group("name") else "py"):
                continue
            addr = m.group("addr") or m.group("addr2")
            num = m.group("num") or m.group("num2")
            listens = addr is not None or (
                k.app_listen is not None and name.lower().replace("-", "_") in k.app_listen.keys)
            if not listens or _in_code_comment(text, m.start()):
                continue
            port = _addr_port(addr) if addr else int(num or 0)
            if flag_set(name):
                continue
            cite = _cite(path, text, m.start())
            if 0 < port < 1024:
                if all(c != cite for _, c in low):
                    low.append((port, cite))
            elif port >= 1024:
                high = True
    if low and high:
        modes = {m.group("name") for _, text in sources for m in re.finditer(_SRC_BOOL_FLAG, text)}
        if not any(flag_set(n) for n in modes):
            return []
    if low and any(ins.cmd == "EXPOSE" for s in info.chain for ins in s.stage.instructions):
        # the file says where it listens: its EXPOSE of a low port declines by itself
        return []
    return low


#: a call that creates (or writes) an absolute path when the program runs
_SRC_CREATES = (
    r"""\bos\.(?:MkdirAll|Mkdir|Create|WriteFile)\(\s*"(?P<go>/[^"\s%]*)"""
    r"""|\bioutil\.WriteFile\(\s*"(?P<go2>/[^"\s%]*)"""
    r"""|\bautocert\.DirCache\(\s*"(?P<go3>/[^"\s%]*)"""
    r"""|\bos\.(?:makedirs|mkdir)\(\s*r?["'](?P<py>/[^"'\s%{]*)"""
    r"""|\bPath\(\s*r?["'](?P<py2>/[^"'\s%{]*)["']\s*\)\.mkdir\("""
    r"""|\bfs(?:\.promises)?\.(?:mkdirSync|mkdir|writeFileSync|appendFileSync)\(\s*["'`](?P<js>/[^"'`\s$]*)"""
    r"""|\bDirectory\.CreateDirectory\(\s*@?"(?P<cs>/[^"\s{]*)"""
    # a file opened for writing: Go's os.OpenFile(..., os.O_CREATE...), Python's
    # open("/x", "w"), a log file handler, Node's write stream
    r"""|\bos\.OpenFile\(\s*"(?P<go4>/[^"\s%]*)"[^)\n]*\bO_(?:CREATE|WRONLY|RDWR|APPEND)\b"""
    r"""|(?<![\w.])open\(\s*r?["'](?P<py3>/[^"'\s%{]*)["']\s*,\s*(?:mode\s*=\s*)?r?["'][^"']*[wax+]"""
    r"""|\b(?:FileHandler|RotatingFileHandler|TimedRotatingFileHandler|WatchedFileHandler)\("""
    r"""\s*(?:filename\s*=\s*)?r?["'](?P<py4>/[^"'\s%{]*)"""
    r"""|\bbasicConfig\([^)\n]*\bfilename\s*=\s*r?["'](?P<py5>/[^"'\s%{]*)"""
    r"""|\bfs\.createWriteStream\(\s*["'`](?P<js2>/[^"'`\s$]*)""")


def _source_writes(ctx: Context, info: StageInfo, command: _Command,
                   copied: list[tuple[str, str, Instruction]]) -> list[tuple[str, str, str]]:
    """(absolute path, ``file:line``, what it does: a format with ``{}`` for the
    path) of each path the program's own source
    (:func:`_program_sources`) creates or writes by a literal name, and of each
    working directory an ASP.NET Core app's settings name (:func:`_appsettings_dirs`)."""
    out: list[tuple[str, str, str]] = []
    for path, text in _program_sources(ctx, info, command, copied):
        for m in re.finditer(_SRC_CREATES, text):
            if _in_code_comment(text, m.start()):
                continue
            target = next(g for g in m.groups() if g is not None).rstrip("/") or "/"
            out.append((target, _cite(path, text, m.start()), "the program's source creates or writes {} when it runs"))
    for path, text in _spring_configs(ctx, info, command):
        out += [(m.group(1).rstrip("/"), _cite(path, text, m.start(1)),
                 "the app's settings make it write its log at {} when it runs")
                for m in re.finditer(_SPRING_LOG, text)]
    if _program_name(command.program) == "dotnet" and ctx.build is not None:
        out += [(p, c, "the app's settings name {} as the working directory it creates "
                 "when it runs")
                for p, c in _appsettings_dirs(ctx, info, command)]
    return out


#: an appsettings key that names a directory the app works in (``BaseWorkingPath``,
#: ``DataDirectory``, ``UploadFolder``, ``LogPath``), not one it only reads
_WORK_DIR_KEY = (r"(?i)^\w*(?:work|working|data|storage|cache|upload|uploads|output|temp|tmp|"
                 r"log|logs|state|spool|queue)\w*(?:path|dir|directory|folder|root)$")


def _appsettings_dirs(ctx: Context, info: StageInfo, command: _Command) -> list[tuple[str, str]]:
    """(absolute path, ``file:line``) of each working directory that the ASP.NET Core
    app's settings name (``appsettings.json`` and ``appsettings.Production.json``, or
    the environment ``ASPNETCORE_ENVIRONMENT`` names), in the project the command runs:
    the app creates and writes them when it runs."""
    build = ctx.build
    project = _dotnet_project(ctx, info, command)
    if build is None or project is None:
        return []
    folder = project[0]
    env = next((v for s in info.chain for ins in s.stage.instructions if ins.cmd == "ENV"
                for key, v in _env_pairs(ins) if key in ("ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT")),
               "Production")
    out: list[tuple[str, str]] = []
    for name in ("appsettings.json", f"appsettings.{env}.json"):
        path = posixpath.join(folder, name) if folder else name
        text = build.read_text(path)
        if not text:
            continue
        try:
            data = json.loads(re.sub(r"(?m)^\s*//.*$", "", text))
        except ValueError:
            continue
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack += node
            elif isinstance(node, dict):
                for key, value in node.items():
                    if isinstance(value, (dict, list)):
                        stack.append(value)
                    elif isinstance(value, str) and value.startswith("/") and \
                            re.search(_WORK_DIR_KEY, str(key)):
                        at = re.search(r'"%s"\s*:\s*"%s"' % (re.escape(key), re.escape(value)), text)
                        out.append((value.rstrip("/") or "/", _cite(path, text, at.start() if at else 0)))
    return out


def _dotnet_project(ctx: Context, info: StageInfo, command: _Command) -> tuple[str, str] | None:
    """(directory, project file text) of the .NET project whose assembly the command
    runs (``dotnet App.dll``): the ``App.csproj`` (or one whose ``AssemblyName`` is
    ``App``) among the files the file's stages copy in from the build context."""
    build = ctx.build
    dll = next((w for w in command.words if w.lower().endswith(".dll")), None)
    if build is None or dll is None:
        return None
    name = posixpath.basename(dll)[:-4]
    sources = dict.fromkeys(src for st in ctx.model.stages for src, _, _ in _copied_sources(ctx, st))
    for src in sources:
        for f in _files_under(build, src, 400):
            if not f.endswith(".csproj") or any(
                    p in _NOT_PROGRAM_DIRS for p in f.lower().split("/")[:-1]):
                continue
            text = build.read_text(f) or ""
            assembly = re.search(r"<AssemblyName>\s*([^<\s]+)\s*</AssemblyName>", text)
            if (assembly.group(1) if assembly else posixpath.basename(f)[:-7]) == name:
                return posixpath.dirname(f), text
    return None


def _env_ports(ctx: Context, info: StageInfo, command: _Command,
               copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> list[tuple[int, str]]:
    """(port, ``file:line``) of the port that the base image's environment makes its
    program listen on (ASP.NET Core before 8: ``ASPNETCORE_URLS=http://+:80``),
    whatever ENTRYPOINT starts it, unless the file, its command or a compose service
    sets another, or the app's project in the context sets its own (or is no web app)."""
    if command.ins is None:
        return []
    root = info.chain[-1]
    base = root.base.lower().split("@")[0]
    prog = _program_name(command.program)
    line = " " + " ".join(command.words)
    for spec in k.env_port_images:
        if prog != spec["program"] or not any(fnmatch(base, g) for g in spec["images"]):
            continue
        names = set(spec["env"])
        if any(key in names for s in info.chain for ins in s.stage.instructions
               if ins.cmd == "ENV" for key, _ in _env_pairs(ins)) or \
                any(re.search(r"(?:^|\s)%s(?:[=\s]|$)" % re.escape(f), line) for f in spec["flags"]) or \
                any(re.search(r"\b%s\b" % re.escape(n), block)
                    for _, block, _ in _services(ctx, command) for n in names):
            return []
        project = _dotnet_project(ctx, info, command)
        build = ctx.build
        if project is not None and build is not None:
            folder, text = project
            if not re.search(r"(?i)Sdk\s*=\s*\"Microsoft\.NET\.Sdk\.Web\"", text):
                return []  # a worker or a console program: it listens on nothing
            for f in build.list_dir(folder):
                path = posixpath.join(folder, f) if folder else f
                if re.fullmatch(r"(?i)(?:appsettings[\w.]*\.json|[\w.]+\.cs)", f) and \
                        re.search(spec["own"], build.read_text(path) or ""):
                    return []
        return [(int(spec["port"]), _ins_cite(ctx, root.stage.from_) +
                 f" (`{root.base}` sets {spec['env'][0]} to listen on {spec['port']})")]
    return []


#: a Corefile server block's key: ``.:53 {``, ``example.org:1053 {``, ``tls://.:853``
_SERVER_KEY = r"^(?:(?P<scheme>[a-z]+)://)?[^\s:{}]*(?::(?P<port>\d{1,5}))?$"
#: the port of a Corefile key with none, by scheme (the DNS one is the program's default)
_SCHEME_PORTS = {"tls": 853, "https": 443, "grpc": 443, "quic": 853, "https3": 443}


def _config_ports(ctx: Context, info: StageInfo, command: _Command,
                  copied: list[tuple[str, str, Instruction]], k: _Knowledge, prog: str,
                  default: int) -> list[tuple[int, str]] | None:
    """The ports a server's config file (a CoreDNS ``Corefile``) listens on, each
    with its ``file:line``, when the file copies that config in: the one its command
    names (``-conf /etc/coredns/Corefile``), else the one in its working directory.
    None when the config it reads is not in the context. A Corefile copied elsewhere
    counts only for the ports below 1024 it names."""
    build = ctx.build
    spec = k.port_configs.get(prog)
    if build is None or spec is None:
        return None
    name, flags = spec
    m = re.compile(flags).search(" " + " ".join(command.words))
    target = posixpath.normpath(posixpath.join(final_workdir(info) or "/",
                                               m.group(1) if m else name))
    used = next((c for c in _in_context(build, "", target, copied)
                 if not build.is_dir(c) and build.read_text(c) is not None), None)
    if used is not None:
        return _server_block_ports(used, build.read_text(used) or "", default)
    others = [f for src, _, _ in copied for f in _files_under(build, src, 200)
              if posixpath.basename(f) == name]
    low = [(p, where) for f in others
           for p, where in _server_block_ports(f, build.read_text(f) or "", default) if p < 1024]
    return low or None


def _server_block_ports(path: str, text: str, default: int) -> list[tuple[int, str]]:
    """(port, ``file:line``) of each server block key of a Corefile (Caddyfile
    syntax: keys, then ``{``, at brace depth 0)."""
    out: list[tuple[int, str]] = []
    depth, pos = 0, 0
    for line in text.splitlines(keepends=True):
        body = line.split("#", 1)[0].strip()
        if depth == 0 and body and not body.startswith("}"):
            for key in re.split(r"[\s,]+", body.rstrip("{").strip()):
                m = re.match(_SERVER_KEY, key)
                if key and m and not key.startswith(("(", "import")):
                    port = int(m.group("port")) if m.group("port") else \
                        _SCHEME_PORTS.get(m.group("scheme") or "dns", default)
                    out.append((port, _cite(path, text, pos)))
        depth += body.count("{") - body.count("}")
        depth = max(depth, 0)
        pos += len(line)
    return out


def _overrides_command(info: StageInfo) -> bool:
    """The file sets its own ENTRYPOINT (so the base image's server may not run)."""
    return any(i.cmd == "ENTRYPOINT" for s in info.chain for i in s.stage.instructions)


def _env_pairs(ins: Instruction) -> list[tuple[str, str]]:
    """The ``KEY=value`` pairs of an ``ENV`` (or ``ARG``), as BuildKit reads them."""
    return [(k, v or "") for k, v in _pairs(ins, "\\")]


#: a build step that leaves files in root's home for the program to use later
_ROOT_HOME_WRITE = (
    r"(?:\b(?:mkdir|cp|mv|ln|install|touch|tee)\b[^;&|\n]*\s|>>?\s*|\bgit\s+clone\s[^;&|\n]*\s|"
    r"\btar\b[^;&|\n]*\s-C\s*|--prefix[= ]|\s-d\s+)(?:/root|~|\$HOME|\$\{HOME\})/[\w.-]"
    r"|\bpip3?\s+install\s[^;&|\n]*--user\b|\bcabal\s+(?:v\d-)?install\b|"
    r"\bvagrant\s+plugin\s+install\b|\bstack\s+install\b|"
    r"\bnpm\s+config\s+set\s+prefix\s*=?\s*['\"]?(?:/root|~|\$HOME|\$\{HOME\})(?:/|['\"\s]|$)")
#: a build step that edits a file in root's home in place (a configuration the
#: program wrote on its first run: ``sed -i 's/x = false/x = true/' /root/.tool/tool.conf``)
_ROOT_HOME_EDIT = (
    r"\b(?:sed|perl)\s(?:[^;&|\n]*?\s)?-[a-zA-Z]*i\S*\s[^;&|\n]*?"
    r"((?:/root|~|\$HOME|\$\{HOME\})/[\w.-][\w./-]*)")
#: tools that keep what they install in the caller's home unless told otherwise:
#: (the step, settings that put it elsewhere, where it lands)
_HOME_TOOLS = (
    (r"\bpipenv\s+(?:--?\w[\w-]*\s+)*(?:install|sync)\b(?![^;&|\n]*--system)",
     r"\bPIPENV_VENV_IN_PROJECT\b|\bWORKON_HOME\b",
     "a virtualenv under /root/.local/share/virtualenvs"),
    (r"\bpoetry\s+(?:--?\w[\w-]*\s+)*install\b",
     r"\bvirtualenvs\.(?:create\s+(?:false|0)|in-project\s+(?:true|1)|path\b)|"
     r"\bPOETRY_VIRTUALENVS_(?:CREATE|IN_PROJECT|PATH)\b|\bVIRTUAL_ENV\b",
     "a virtualenv under /root/.cache/pypoetry"),
)
#: settings whose value is where a tool installs (a new user cannot reach /root)
_TOOL_HOMES = frozenset({"NPM_CONFIG_PREFIX", "GOPATH", "GOBIN", "CARGO_HOME", "RUSTUP_HOME",
                         "PIPX_HOME", "PIPX_BIN_DIR", "WORKON_HOME", "POETRY_VIRTUALENVS_PATH",
                         "GEM_HOME", "BUNDLE_PATH", "VIRTUAL_ENV", "PYTHONUSERBASE"})


#: build steps that store a program's settings in the caller's home by default:
#: (the step, the home entry it writes)
_HOME_CONFIG_TOOLS = (
    (r"\bvncpasswd\b(?![^;&|\n]*\s-f\b)(?![^;&|\n]*\s/(?!root/))", ".vnc"),
    (r"\bx11vnc\s[^;&|\n]*-storepasswd(?:\s+\S+)?(?:\s*$|\s*[;&|]|\s+(?:~|\$HOME|\$\{HOME\}|/root)/)",
     ".vnc"),
    (r"\bssh-keygen\b(?![^;&|\n]*\s-[A-Za-z]*[AfFRlyH])", ".ssh"),
    (r"\bssh-keygen\b[^;&|\n]*\s-f\s*['\"]?(?:~|\$HOME|\$\{HOME\}|/root)/", ".ssh"),
    (r"\bgit\s+config\s+--global\b", ".gitconfig"),
)
#: a settings entry the build writes at ``/`` for a HOME of ``/`` (``mkdir /.vnc``)
_SLASH_HOME_WRITE = (
    r"(?:\b(?:mkdir|cp|mv|ln|install|touch|tee)\b[^;&|\n]*\s|>>?\s*|\s-storepasswd\s+\S+\s+)"
    r"['\"]?/(\.[\w][\w.-]*)")
#: home entries that are only caches or a shell's own files: losing them breaks nothing
_HOME_CACHES = frozenset({".cache", ".npm", ".pip", ".yarn", ".bashrc", ".profile", ".bash_profile",
                          ".zshrc", ".inputrc", ".wget-hsts", ".dockerenv"})


def _home_config(info: StageInfo, ins: Instruction, reads: str) -> str | None:
    """What a build step leaves in root's home (or at ``/`` when HOME is ``/``)
    that the program it runs reads back: a tool's settings (``x11vnc
    -storepasswd``, ``git config --global``), when the container's command or
    its scripts name the tool the entry is for (``.vnc``: ``vncserver``)."""
    home = info.env.get("HOME")
    for step, entry in _HOME_CONFIG_TOOLS:
        m = re.compile(step).search(ins.logical)
        if m and (home is None or home.rstrip("/") == "/root") and \
                re.search(rf"(?i)(?<![a-z]){re.escape(entry.lstrip('.').removesuffix('config'))}", reads):
            return f"`{m.group(0).strip()}` writes root's `~/{entry}`"
    if home is None or home.rstrip("/") == "":
        for m in re.compile(_SLASH_HOME_WRITE).finditer(ins.logical):
            entry = m.group(1)
            key = entry.lstrip(".").split(".")[0]
            if entry not in _HOME_CACHES and len(key) >= 3 and re.search(rf"(?i)(?<![a-z]){re.escape(key)}", reads):
                return f"`{m.group(0).strip()}` writes `/{entry}`, a home's settings"
    return None


def _home_tool(info: StageInfo, ins: Instruction) -> str | None:
    """What a build step leaves in root's home through a tool's defaults."""
    found = _home_tool_in(info, ins.logical)
    return found[0] if found else None


def _home_tool_in(info: StageInfo, text: str, settings: str = "") -> tuple[str, int] | None:
    """What a build step's text leaves in root's home through a tool's
    defaults, and where; ``settings`` is more text that may set the tool's
    place (the whole Makefile of a recipe)."""
    env = " ".join(i.args for s in info.chain for i in s.stage.instructions
                   if i.cmd in ("ENV", "RUN")) + "\n" + settings
    for step, elsewhere, lands in _HOME_TOOLS:
        for m in re.compile(step).finditer(text):
            if not _in_shell_comment(text, m.start()) and not re.compile(elsewhere).search(env):
                return f"`{m.group(0).strip()}` leaves {lands}", m.start()
    return None


def _recipe_root_home(ctx: Context, info: StageInfo, ins: Instruction) -> Judgement | None:
    """A ``make`` the RUN ``ins`` runs leaves what the program uses in root's
    home, as the RUN's own line would (``RUN make init`` with ``init:``
    running ``pipenv install``)."""
    build = ctx.build
    for _, run, path, text in _run_makefiles(ctx, info):
        if run is not ins or build is None:
            continue
        what, at = None, -1
        for m in re.compile(_ROOT_HOME_WRITE).finditer(text):
            if not _in_shell_comment(text, m.start()):
                what, at = f"it installs into root's home (`{m.group(0).strip()}`)", m.start()
                break
        if what is None:
            found = _home_tool_in(info, text, build.read_text(path) or "")
            if found is not None:
                what, at = found
        if what is not None:
            return Judgement("root-home", "app",
                             f"the build runs the recipe of `{path}`: {what}, which a new user "
                             "cannot reach (root's home is mode 700)",
                             (_cite(path, text, at), _ins_cite(ctx, ins)),
                             "install outside /root, then add USER")
    return None


def _root_home(ctx: Context, info: StageInfo, command: _Command,
               copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """The app lives in /root, which only root may enter."""
    for run in _runs(ctx, command):
        mount = next((m for m in run.mounts if m.target.rstrip("/") == "/root"
                      or m.target.startswith("/root/")), None)
        if mount is not None and not (run.user and not is_root(run.user)):
            return Judgement("root-home", "app",
                             f"its documented `docker run` mounts `{mount.source or 'a volume'}` "
                             f"at `{mount.target}`, inside root's home (mode 700): another user "
                             "cannot reach the mounted data", (run.cite(mount.target),),
                             "mount it under the new user's home (and say so in the usage), "
                             "then add USER")
    wd = final_workdir(info)
    if wd is not None and (wd == "/root" or wd.startswith("/root/")):
        ins = next(i for s in info.chain for i in reversed(s.stage.instructions)
                   if i.cmd == "WORKDIR")
        return Judgement("root-home", "app",
                         f"the app works in `{wd}`, inside root's home (mode 700): another user "
                         "cannot enter it", (_ins_cite(ctx, ins),),
                         "move the app out of /root, then add USER")
    if command.program.startswith("/root/"):
        return Judgement("root-home", "app",
                         f"the program `{command.program}` lives in root's home (mode 700)",
                         (_ins_cite(ctx, command.ins),) if command.ins else (),
                         "move the app out of /root, then add USER")
    for w in command.words:
        m = re.search(r"(?:^|[=:,])(/root/[^\s,:;]*)", w)
        if m and command.ins is not None:
            return Judgement("root-home", "app",
                             f"the command reads `{m.group(1)}`, inside root's home (mode 700)",
                             (_ins_cite(ctx, command.ins),),
                             "move those files out of /root, then add USER")
    read = _script_reads_root_home(ctx, info, command, copied)
    if read is not None:
        return read
    for path in writable_dirs(info, workdir=info.family.shell):
        if path == "/root" or path.startswith("/root/"):
            ins = next((i for s in info.chain for i in s.stage.instructions
                        if i.cmd in ("VOLUME", "RUN") and path in i.logical), info.stage.from_)
            return Judgement("root-home", "app",
                             f"the app writes `{path}`, inside root's home (mode 700): another "
                             "user cannot reach it even when it owns it", (_ins_cite(ctx, ins),),
                             "move that directory out of /root, then add USER")
    user = "root"
    reads: str | None = None  # the container's command and scripts, read once
    for s in reversed(info.chain):  # in build order, with the USER in force
        for ins in s.stage.instructions:
            what = None
            if ins.cmd == "USER":
                user = ins.args.strip() or "root"
            if not is_root(expand(user, s.env)[0]):
                continue
            if ins.cmd in ("COPY", "ADD") and len(ins.values) >= 2:
                dest = workdir_path(s, ins, expand(ins.values[-1], s.env)[0])
                if dest == "/root" or dest.startswith("/root/"):
                    what = f"copies files into `{dest}`"
            elif ins.cmd == "RUN":
                m = re.compile(_ROOT_HOME_WRITE).search(ins.logical)
                edit = re.compile(_ROOT_HOME_EDIT).search(ins.logical)
                if m:
                    what = f"installs into root's home (`{m.group(0).strip()}`)"
                elif edit:
                    what = f"edits a file in root's home (`{edit.group(1)}`) for the program"
                else:
                    what = _home_tool(info, ins)
                if what is None and re.search(r"\bg?make\b", ins.logical):
                    found = _recipe_root_home(ctx, info, ins)
                    if found is not None:
                        return found
                if what is None and command.ins is not None:
                    if reads is None:
                        reads = " ".join(command.words) + "\n" + "\n".join(
                            t for _, t in _scripts(ctx, info, command, copied))
                    what = _home_config(info, ins, reads)
                    if what:
                        return Judgement("root-home", "app",
                                         f"the build {what}, which the program reads from its "
                                         "HOME at start: a new user has another home, without it",
                                         (_ins_cite(ctx, ins),),
                                         "make those settings in the new user's home (after "
                                         "creating the user), then add USER")
            if what:
                return Judgement("root-home", "app",
                                 f"the build {what}, which a new user cannot reach (root's home "
                                 "is mode 700)", (_ins_cite(ctx, ins),),
                                 "move that configuration to the new user's home, then add USER"
                                 if what.startswith("edits") else
                                 "install outside /root, then add USER")
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd != "ENV":
                continue
            for key, value in _env_pairs(ins):
                full = expand(value, s.env)[0]
                if key == "HOME" and full.rstrip("/") == "/root":
                    return Judgement("root-home", "app",
                                     "`HOME` is set to root's home, and an ENV wins over the "
                                     "user's own home: another user gets a HOME it cannot write",
                                     (_ins_cite(ctx, ins),),
                                     "set HOME to the new user's home, then add USER")
                if (key in _TOOL_HOMES or key.endswith(("_HOME", "_DIR"))) and (
                        re.match(r"(?:/root|~|\$HOME|\$\{HOME\})(?:/|$)", value)
                        or full.startswith("/root/")):
                    return Judgement("root-home", "app",
                                     f"`{key}` puts what the build installs in root's home "
                                     f"(`{value}`), which another user cannot reach",
                                     (_ins_cite(ctx, ins),),
                                     "install the tools outside /root, then add USER")
                if key == "PATH" and re.search(r"(?:^|:)(?:/root/|~/|\$HOME/)", value):
                    return Judgement("root-home", "app",
                                     "`PATH` includes root's home, where the build installed "
                                     "programs another user cannot reach", (_ins_cite(ctx, ins),),
                                     "install the tools outside /root, then add USER")
    return None


#: a path in root's home that a script reads or enters (``source /root/.profile``,
#: ``cd /root/app``, ``/root/bin/tool``)
_ROOT_PATH = r"(?m)(?<![\w$}.-])/root(?:/[\w.@%+-][\w./@%+-]*|/?(?=[\s;\"'`)]|$))"


def _script_reads_root_home(ctx: Context, info: StageInfo, command: _Command,
                            copied: list[tuple[str, str, Instruction]]) -> Judgement | None:
    """A script the container runs at start uses root's home: a script of the
    context (or one it sources), or one the build writes (``echo "source
    /root/.bash_profile" > /opt/app/start.sh`` for ``CMD sh /opt/app/start.sh``)."""
    for path, text in _scripts(ctx, info, command, copied):
        for m in re.compile(_ROOT_PATH).finditer(text):
            if not _in_shell_comment(text, m.start()):
                return Judgement("root-home", "app",
                                 f"the container's script uses `{m.group(0)}`, inside root's "
                                 "home (mode 700), which another user cannot enter",
                                 (_cite(path, text, m.start()),),
                                 "move what it reads out of /root, then add USER")
    targets = {w for w in command.words if w.startswith("/") and not w.startswith("/root")}
    if not targets:
        return None
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd != "RUN":
                continue
            for w in re.compile(_WRITE).finditer(ins.logical):
                if w.group(1) not in targets:
                    continue
                used = re.compile(_ROOT_PATH).search(ins.logical)
                if used is not None:
                    return Judgement("root-home", "app",
                                     f"the build writes the container's script `{w.group(1)}` "
                                     f"with `{used.group(0)}` in it, inside root's home (mode 700), "
                                     "which another user cannot enter", (_ins_cite(ctx, ins),),
                                     "move what it reads out of /root, then add USER")
    return None


def _base_image(ctx: Context, info: StageInfo, command: _Command,
                copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """A runtime or toolbox image meant to be extended or to run other commands
    in: its default command is a bare interpreter or shell given as ``CMD``
    (``docker run IMAGE anything`` replaces it), with no ENTRYPOINT of an app;
    or a stage with ONBUILD triggers, whatever its command."""
    trigger = next((i for i in info.stage.instructions if i.cmd == "ONBUILD"), None)
    if trigger is not None:
        return Judgement("base-image", "base-image",
                         "an ONBUILD base image: its triggers run in the builds of the images "
                         "FROM it, as the user it leaves in force", (_ins_cite(ctx, trigger),),
                         "switch the user in the images built FROM it, after their triggers")
    if command.ins is not None and command.ins.cmd == "ENTRYPOINT" and \
            _program_name(command.program) in _SHELLS and \
            all(w == command.program or w.startswith("-") or w in _WRAPPERS
                for w in command.words):
        return Judgement("base-image", "base-image",
                         f"its entrypoint is a bare `{_program_name(command.program)}`: a shell "
                         "image to run commands in, or to build FROM", (_ins_cite(ctx, command.ins),),
                         "switch the user in the images built FROM it (or add USER by hand when "
                         "it is an interactive tool of its own)")
    if command.ins is None or command.ins.cmd != "CMD":
        return None
    entry = next((i for s in info.chain for i in s.stage.instructions if i.cmd == "ENTRYPOINT"),
                 None)
    if entry is not None:
        words = form_words(entry)
        if words and not re.search(r"(?:^|[-_/])entrypoint(?:\.sh)?$|^docker-.*-entrypoint$",
                                   words[0]):
            return None
    args = [w for w in form_words(command.ins)
            if w not in _WRAPPERS or w in ("bash", "sh", "/bin/bash", "/bin/sh")]
    prog = _program_name(args[0]) if args else ""
    bare = prog in k.interpreters and len(args) <= 2 and not any(
        "/" in a or "." in a for a in args[1:])
    if not bare:
        return None
    if prog in ("node", "nodejs") and any(not a.startswith("-") for a in args[1:]):
        return None  # `node server` runs a script (server.js), no bare interpreter
    versioned = [(key, ins) for s in info.chain for ins in s.stage.instructions
                 if ins.cmd == "ENV" for key, _ in _env_pairs(ins) if re.match(_VERSION_ENV, key)]
    evidence = [_ins_cite(ctx, command.ins)]
    if versioned:
        evidence.insert(0, _ins_cite(ctx, versioned[0][1]))
    return Judgement("base-image", "base-image",
                     f"its default command is a bare `{prog}` (a CMD that `docker run IMAGE "
                     "COMMAND` replaces): a runtime or toolbox image to build FROM or run "
                     "commands in", tuple(evidence),
                     "switch the user in the images built FROM it")




#: a ``FROM`` line's image: ``FROM org/base:1 AS x`` -> ``org/base:1``
_FROM_REF = r"(?im)^[ \t]*FROM[ \t]+(?:--platform=\S+[ \t]+)?([^\s]+)"
#: directory names too generic to name an image by
_GENERIC_DIRS = frozenset({"docker", "dockerfiles", "build", "images", "image", "src", "app",
                           "deploy", "ci", "containers", "container", ""})


def _built_upon(ctx: Context, info: StageInfo, command: _Command,
                copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """Another Dockerfile of the repository builds FROM this image: its
    directory's name (``base/``) is the last part of a namespaced image that a
    Dockerfile beside it, or in a directory beside its own, starts from
    (``FROM myorg/base``), or that image is a namespaced tag that a ``docker
    build -t`` in this file's comments or its companion README gives it. The
    images built on it run their own steps, as root."""
    build = ctx.build
    if build is None or not build.dockerfile:
        return None
    required = _skaffold_required(build)
    if required is not None:
        return required
    here = dockerfile_dir(build)
    name = posixpath.basename(here).lower()
    tags = {r[0] for r in map(split_ref, built_tags(build, build.dockerfile, ctx.df.text))
            if r is not None and "/" in r[0]}
    if name in _GENERIC_DIRS:
        name = ""
        if not tags:
            return None
    parent = posixpath.dirname(here)
    dirs = [here] + [f"{parent}/{e}" if parent else e for e in build.list_dir(parent)
                     if (f"{parent}/{e}" if parent else e) != here][:60]
    seen = 0
    for d in dirs:
        if not build.is_dir(d):
            continue
        for entry in build.list_dir(d):
            path = f"{d}/{entry}" if d else entry
            if path == build.dockerfile or not re.match(DOCKERFILE_NAME, entry):
                continue
            seen += 1
            if seen > 60:
                return None
            text = build.read_text(path) or ""
            for m in re.finditer(_FROM_REF, text):
                ref = split_ref(m.group(1))
                if ref is not None and "/" in ref[0] and (
                        ref[0].rsplit("/", 1)[-1] == name or ref[0] in tags):
                    return Judgement("base-image", "base-image",
                                     f"`{path}` builds FROM it (`FROM {m.group(1)}`): a base "
                                     "image, whose children run their own build steps as root",
                                     (_cite(path, text, m.start(1)),),
                                     "switch the user in the images built FROM it")
    return None


def _skaffold_required(build: BuildContext) -> Judgement | None:
    """A skaffold.yaml artifact that builds this Dockerfile is one another
    artifact ``requires``, and that one builds on it: its Dockerfile starts
    ``FROM $ALIAS`` (the ``alias:`` skaffold passes as a build argument), or
    it names the image as its ``fromImage``, ``builder`` or ``runImage``."""
    arts = skaffold_artifacts(build)
    for own in skaffold_own(build, arts):
        for other in arts:
            if other.path != own.path or other is own:
                continue
            for line, text, image, alias in other.requires:
                if image != own.image:
                    continue
                uses = re.search(rf"^[ \t]*(?:fromImage|builder|runImage):[ \t]*['\"]?"
                                 rf"{re.escape(image)}['\"]?[ \t]*(?:#.*)?$", other.item, re.M)
                if alias and uses is None:
                    paths = [other.dockerfile]
                    if other.context and not build.is_dir(other.context):
                        paths.append(posixpath.join(posixpath.dirname(other.path),
                                                    f"Dockerfile.{other.image.rsplit('/', 1)[-1]}"))
                    uses = next((m for p in paths for m in [re.search(
                        rf"(?im)^[ \t]*FROM[ \t]+(?:--platform=\S+[ \t]+)?\$\{{?{re.escape(alias)}\b",
                        build.read_text(p) or "")] if m), None)
                if uses is None:
                    continue
                return Judgement("base-image", "base-image",
                                 f"`{own.path}` builds it as the artifact `{own.image}`, which "
                                 f"the artifact `{other.image}` requires and builds on: a base "
                                 "image, whose children run their own build steps as root",
                                 (f"{own.path}:{line}: {text}",),
                                 "switch the user in the images built FROM it")
    return None


#: a Dockerfile's ``FROM`` line shown in a README's code: ``FROM org/base:1``
_SHOWN_FROM = r"^\s*(?:[$>]\s*)?FROM[ \t]+(?:--platform=\S+[ \t]+)?(\S+)(?:[ \t]+AS[ \t]+\S+)?\s*$"


def _shown_as_base(ctx: Context, info: StageInfo, command: _Command,
                   copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """A README that documents this image (its companion README, or the ones
    ``image_readmes`` gives) shows, in its code, a Dockerfile built FROM it:
    ``FROM org/base`` of a namespaced image that is none of this file's own
    bases, and that the README names as this image (its directory's or
    program's name, a tag it builds) or tells its reader to pull, run or build."""
    build = ctx.build
    if build is None or not build.dockerfile:
        return None
    readmes = image_readmes(build)
    if not readmes:
        return None
    own_bases = {r[0] for r in (split_ref(m.group(1)) for m in re.finditer(_FROM_REF, ctx.df.text))
                 if r is not None}
    own_bases |= {r[0] for s in info.chain for r in [split_ref(s.base)] if r is not None}
    own_bases |= {r[0] for m in re.finditer(r"(?im)^[ \t]*ARG[ \t]+\w+=[\"']?([^\s\"']+)",
                                              ctx.df.text) for r in [split_ref(m.group(1))]
                  if r is not None}
    program = _program_name(command.program)
    if program in k.interpreters or program in k.generic_programs or program in _WRAPPERS:
        program = ""
    for path in readmes:
        text = build.read_text(path)
        if not text or "FROM" not in text:
            continue
        shown = [(i, m.group(1)) for i, ln in code_lines(text, path.lower().endswith(".rst"))
                 for m in [re.match(_SHOWN_FROM, ln)] if m]
        if not shown:
            continue
        own, tags = image_names(build, ctx.df.text, program, (text,))
        own -= {re.sub(r"[-_.]", "", d) for d in _GENERIC_DIRS}
        offered = {r[0] for r in map(split_ref, offered_images(text)) if r is not None}
        for i, ref in shown:
            parts = split_ref(ref)
            if parts is None or "/" not in parts[0] or parts[0] in own_bases:
                continue
            name = image_ref_name(ref)
            if parts[0] in offered:
                why = "an image it tells the reader to pull, run or build"
            elif name in tags:
                why = "the image it builds"
            elif name in own:
                why = "named after this image"
            else:
                continue
            lines = text.splitlines()
            body = lines[i].strip()
            return Judgement("base-image", "base-image",
                             f"`{path}` shows a Dockerfile built FROM it (`FROM {ref}`, {why}): "
                             "a base image, whose children run their own build steps as root",
                             (f"{path}:{i + 1}: {body if len(body) <= 100 else body[:97] + '...'}",),
                             "switch the user in the images built FROM it")
    return None


def _documented_purpose(ctx: Context, info: StageInfo, command: _Command,
                        copied: list[tuple[str, str, Instruction]],
                        k: _Knowledge) -> Judgement | None:
    """The repository's docs, compose files or CI files say the image exists
    only to run tests, or is the container of CI jobs (rewriter.dockerfile.purpose)."""
    build = ctx.build
    if build is None or not build.dockerfile:
        return None
    program = _program_name(command.program)
    if program in k.interpreters or program in k.generic_programs or program in _WRAPPERS:
        program = ""  # `python`, `server`: names that say nothing of this image
    readmes = image_readmes(build)
    found = purpose.described_as_test(build, own_readme(build)) or \
        purpose.only_tests(build, readmes, ctx.df.text, program, _runs(ctx, command),
                           _compose_services(ctx))
    if found is not None:
        return Judgement("test-fixture", "test-fixture", found.message, found.evidence,
                         "leave the test image as it is; switch the user of the image that "
                         "is deployed")
    found = purpose.ci_job(build, readmes, ctx.df.text, program)
    if found is not None:
        return Judgement("ci-builder", "ci-builder", found.message, found.evidence,
                         "leave the CI image as it is; a job that must not run as root can "
                         "set its own user (`options: --user`, `docker.image().inside('-u')`)")
    return None


#: where plain programs live (a program elsewhere is the app's own file: ``/app/server``)
_BIN_DIRS = ("/usr/bin", "/usr/local/bin", "/bin", "/usr/sbin", "/usr/local/sbin", "/usr/games",
             "/sbin")
#: shell builtins and keywords that can start a command line
_SHELL_WORDS = frozenset({
    "cd", "exec", "set", "export", "source", "eval", "trap", "test", "if", "for", "while",
    "until", "case", "echo", "printf", "true", "false", "sleep", "wait", "read", "umask",
    "ulimit", "unset", "shift", "command", "builtin", "let", "local", "declare", "time",
    "nohup", "nice", "timeout", "xargs", "env", "sudo", "su", "chroot", "stdbuf", "ionice",
})
#: front-end and packaging suffixes of a program's name (``transmission-gtk``)
_VARIANT = r"(?:-(?:gtk3?|qt[456]?|gui|x11|desktop|esr|bin|stable|beta|nightly))+$"


def own_user_switch(text: str) -> str | None:
    """The daemon in ``text`` (a command line or a script) that switches to
    another user itself with a flag of its own (``memcached -u daemon``), as
    that text shows it; None when there is none, or the user it names is root."""
    flags = knowledge().user_switch_flags
    for program in flags:
        if program not in text:
            continue
        alts = "|".join(re.escape(f) for f in sorted(flags[program], key=len, reverse=True))
        m = re.search(r"(?:^|[\s/\"'\[,])" + re.escape(program) + r"\b[\"',]?(?:[^\n;&|#]*?[\s\"',])?(?:"
                      + alts + r")(?:[\s\"',=]+)([\w.$-][\w.${}-]*)", text, re.M)
        if m and m.group(1).strip("\"'") not in ("root", "0"):
            return m.group(0).lstrip(" \t\"'[,/").replace('", "', " ").replace('","', " ")
    return None


def needs_login_shell(info: StageInfo) -> bool:
    """The container's program starts its user's login shell (a terminal
    emulator, a multiplexer, a web terminal): a user made for it needs a real
    shell in its passwd entry, not ``nologin``."""
    command = _command(info)
    names = {_program_name(w) for w in command.words[:4] if not w.startswith("-")}
    return bool(names & knowledge().login_shell_programs)


def app_user_name(info: StageInfo) -> str | None:
    """The name for a new user, after the program the container runs, when
    that program is a plain installed one (``ENTRYPOINT ["firefox"]``:
    ``firefox``), not an interpreter, a script, a generic name, a daemon
    named ``*d`` (``qpidd``) or a user that packages create; None otherwise
    (the caller picks ``appuser``)."""
    k = knowledge()
    command = _command(info)
    program = command.program.strip("\"'")
    if not program or "$" in program or command.ins is None:
        return None
    if not command.ins.json and re.search(r"[;&|<>`()]", command.ins.args):
        return None  # a shell line: its first word need not be the program that runs
    d = posixpath.dirname(program)
    if d and d not in _BIN_DIRS and not d.startswith(("/usr/lib/", "/opt/")):
        return None
    base = posixpath.basename(program)
    name = re.compile(_VARIANT).sub("", base.lower())
    if not re.fullmatch(r"[a-z][a-z0-9-]{1,30}", name) or re.compile(_SCRIPT_NAME).search(base):
        return None
    if d.startswith(("/usr/lib/", "/opt/")) and name != posixpath.basename(d).lower():
        return None  # /usr/lib/slack/slack, not /usr/lib/x86_64-linux-gnu/notify-osd
    taken = set(info.image_users()) | {u.name for u in info.known_users().values()}
    for s in info.chain:
        taken |= set(s.groups)
    if name.endswith(("-wrapper", "-entrypoint", "-run", "-start")) or name in _SHELL_WORDS:
        return None
    if re.match(r"(?:start|run|launch)[a-z]", name):
        return None  # a launcher of something else (`startxfce4` starts a desktop session)
    if (name in k.interpreters or name in k.root_programs or name in k.generic_programs
            or name in k.packaged_users or name in taken or name in _WRAPPERS
            or name in k.init_programs or name in k.dind_programs):
        return None
    if re.fullmatch(r"[a-z0-9-]{2,}d", name):
        return None  # a daemon's package often makes an account of its name (`qpidd`, `nscd`)
    # A build step other than a package install that names the program may have
    # an account of that name (an install script's `td-agent`, whose init script
    # the build edits: `USER=td-agent`), which a groupadd of the same name fails on.
    word = re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w-])")
    for s in info.chain:
        for ins in s.stage.instructions:
            body = ins.logical + "".join(h.content for h in ins.heredocs)
            if ins.cmd == "RUN" and word.search(body) and not re.search(
                    r"\b(?:apt-get|apt|apk|yum|dnf|microdnf|zypper|pip3?|npm|gem)\b[^;&|]*"
                    r"\b(?:install|add)\b", body):
                return None
    return name


# ---------------------------------------------------------------------------
# Users the build context creates
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ContextUser:
    """A user created outside the Dockerfile's own RUN lines."""

    name: str
    uid: int | None
    gid: int | None
    evidence: str  #: ``path:line: text``


def _context_user(cmd: Command, evidence: str) -> ContextUser | None:
    """The user a ``useradd``/``adduser`` command creates, with its ids when given."""
    parsed = _parse_user_command(cmd)
    if parsed is None or parsed[0] != "user":
        return None
    _, name, opts = parsed
    uid = opts.get("-u") or opts.get("--uid")
    gid = opts.get("-g") or opts.get("--gid")
    return ContextUser(name, int(uid) if uid and uid.isdigit() else None,
                       int(gid) if gid and gid.isdigit() else None, evidence)


def _users_in_script(path: str, text: str) -> list[ContextUser]:
    if not re.search(r"\b(?:useradd|adduser)\b", text):
        return []
    users = (_context_user(cmd, _cite(path, text, cmd.start)) for cmd in commands(text).commands)
    return [u for u in users if u is not None]


def _run_scripts(ctx: Context, info: StageInfo
                 ) -> list[tuple[StageInfo, Instruction, str, str]]:
    """(stage, RUN, context path, text) of each script of the build context that
    a RUN of the runtime chain executes, in build order: a path of the image
    (``/tmp/install.sh``, ``./install.sh`` in the WORKDIR) that a COPY/ADD put
    there from the context, as a file (``COPY install.sh /tmp/``) or inside a
    directory (``ADD . /container`` + ``RUN /container/install.sh``)."""
    build = ctx.build
    if build is None:
        return []
    copied = _copied_sources(ctx, info)
    if not copied:
        return []
    out: list[tuple[StageInfo, Instruction, str, str]] = []
    for s, ins, path in _run_paths(info):
        for found in _in_context(build, "", path, copied):
            if build.is_dir(found):
                continue
            text = build.read_text(found)
            if text and _is_shell(found, text) and all(found != f for _, _, f, _ in out):
                out.append((s, ins, found, text))
            break
    return out + [r for r in _run_makefiles(ctx, info, copied)
                  if all(r[2:] != o[2:] for o in out)]


def _run_makefiles(ctx: Context, info: StageInfo,
                   copied: list[tuple[str, str, Instruction]] | None = None
                   ) -> list[tuple[StageInfo, Instruction, str, str]]:
    """(stage, RUN, Makefile, recipes) of each ``make`` a RUN of the runtime
    chain runs (``RUN make init``, ``RUN cd app && make -f build.mk``) with a
    Makefile of the build context: the recipe lines of its targets, read as a
    script (:func:`_make_recipes`)."""
    build = ctx.build
    if build is None:
        return []
    copied = _copied_sources(ctx, info) if copied is None else copied
    if not copied:
        return []
    out: list[tuple[StageInfo, Instruction, str, str]] = []
    for s in reversed(info.chain):
        for ins in s.stage.instructions:
            if ins.cmd != "RUN" or not re.search(r"\bg?make\b", ins.logical):
                continue
            for argv, cwd in _argvs_with_cwd(run_commands(ins), workdir_path(s, ins, ".")):
                for path, text in _make_recipes(build, copied, argv, cwd):
                    if all((path, text) != (p, t) for _, _, p, t in out):
                        out.append((s, ins, path, text))
    return out


def _run_paths(info: StageInfo) -> Iterator[tuple[StageInfo, Instruction, str]]:
    """(stage, RUN, absolute path) of each file a RUN of the runtime chain may
    execute as a script, in build order: a path it runs (``/tmp/install.sh``,
    ``./install.sh``), or a file a shell or ``.`` is handed (``bash
    setup/install.sh``), against the WORKDIR or a ``cd`` before it, also
    inside ``sh -c "..."``."""
    for s in reversed(info.chain):
        for ins in s.stage.instructions:
            if ins.cmd != "RUN":
                continue
            cwd = workdir_path(s, ins, ".")
            for argv in _run_argvs(run_commands(ins)):
                if argv[:1] == ["cd"] and len(argv) == 2 and "$" not in argv[1]:
                    cwd = posixpath.normpath(posixpath.join(cwd, argv[1]))  # `cd /x && ./run.sh`
                    continue
                for j, w in enumerate(_run_words(argv)):
                    if "$" in w or not (w.startswith(("/", "./", "../")) or j and (
                            "/" in w or w.endswith(".sh")) and
                            any(_program_name(a) in _RUNNERS for a in argv[:j])):
                        continue
                    yield s, ins, posixpath.normpath(posixpath.join(cwd, w))


_RUNNERS = frozenset({*_SHELLS, ".", "source", "exec", "sudo", "env", "nohup", "time"})


def _run_argvs(cmds: Iterable[Command]) -> Iterator[list[str]]:
    """The argv of each command, and of the commands that a shell's ``-c``
    string runs (``sh -c "cd /x && ./install.sh"``), in order."""
    for cmd in cmds:
        argv = cmd.argv
        yield argv
        if _program_name(cmd.name) in _SHELLS and "-c" in argv[:-1]:
            inner = argv[argv.index("-c") + 1]
            if len(inner) < 4096:
                yield from _run_argvs(commands(inner).commands)


def _run_words(argv: list[str]) -> list[str]:
    """The words of a command that may be a script it runs: its program, and a
    file a shell or ``source`` is handed (``sh -e /tmp/install.sh``), not the
    arguments of another program (``cp /container/x.conf /etc/``)."""
    out: list[str] = []
    for w in argv:
        out.append(w)
        if not (w.startswith("-") or "=" in w.split("/", 1)[0] or _program_name(w) in _RUNNERS):
            break
    return out


def script_users(ctx: Context, info: StageInfo) -> list[ContextUser]:
    """Users created by scripts the file copies in from its context and runs
    in a RUN (``COPY install.sh /tmp/`` then ``RUN sh /tmp/install.sh``)."""
    return [u for _, _, path, text in _run_scripts(ctx, info)
            for u in _users_in_script(path, text)]


# ---------------------------------------------------------------------------
# Paths the build makes writable to group 0 (OpenShift's arbitrary uid)
# ---------------------------------------------------------------------------


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


def _tagged_beside(build: BuildContext, base: str) -> list[str]:
    """The Dockerfile beside this one that builds the namespaced image ``base``,
    as a ``docker build -t`` in its comments or its companion README tags it
    (``docker build -t org/base -f Dockerfile.base .``)."""
    repo = split_ref(base)
    if repo is None or "/" not in repo[0] or not build.dockerfile:
        return []
    here = dockerfile_dir(build)
    beside = [f"{here}/{e}" if here else e for e in sorted(build.list_dir(here))
              if re.match(DOCKERFILE_NAME, e)][:60]
    name = repo[0].rsplit("/", 1)[-1]
    # the file's own ARG/LABEL naming where it lives (label-schema's
    # ``dockerfile`` label: ``ARG DOCKERFILE=base/Dockerfile``)
    own_path = re.compile(rf"(?i)(?:^|[\s=/\"']){re.escape(name)}/Dockerfile(?:$|[\s\"'])")
    # its companion README's Docker Hub or microbadger link to the image
    hub = re.compile(rf"(?i)(?:hub\.docker\.com/r|microbadger\.com/images)/{re.escape(repo[0])}(?![\w.-])")
    for path in beside:
        if path == build.dockerfile or build.is_dir(path):
            continue
        text = build.read_text(path) or ""
        if any(r is not None and r[0] == repo[0]
               for r in map(split_ref, built_tags(build, path, text))):
            return [path]
        try:
            df = parse(text)
        except ParseError:
            continue
        if any(ins.cmd in ("ARG", "LABEL") and own_path.search(ins.args) for ins in df.instructions):
            return [path]
        companion = companion_readme(build, path)
        if companion is not None and hub.search(build.read_text(companion) or ""):
            return [path]
    return []


def sibling_base(ctx: Context, info: StageInfo) -> tuple[str, str, Dockerfile] | None:
    """(path, text, parsed) of the Dockerfile of this repository that builds
    the runtime chain's base image (``FROM org/kubernetes-master`` and
    ``kubernetes/master/Dockerfile``; or a Dockerfile beside this one that a
    ``docker build -t``, its own ARG/LABEL path or its README's Docker Hub link
    names), or None."""
    build = ctx.build
    root = info.chain[-1]
    if build is None or root.parent is not None:
        return None
    name = root.base.lower().split("@")[0].split(":")[0].rsplit("/", 1)[-1]
    if not name or name in ("scratch",):
        return None
    # Where another Dockerfile of this repository would build that image:
    # ``kubernetes-master`` from ``kubernetes/master/`` or ``kubernetes-master/``,
    # next to this file's directory or at the root (no walk of the tree).
    dirs: list[str] = []
    for top in dict.fromkeys([posixpath.dirname(dockerfile_dir(build)), dockerfile_dir(build), ""]):
        for rel in (name, name.replace("-", "/")):
            d = posixpath.join(top, rel) if top else rel
            if d not in dirs:
                dirs.append(d)
    paths = [p for p in (f"{d}/Dockerfile" for d in dirs)
             if p != build.dockerfile and build.read_text(p)]
    if not paths:
        paths = _tagged_beside(build, root.base)
    for path in paths:
        if path == build.dockerfile:
            continue
        text = build.read_text(path)
        if not text:
            continue
        try:
            return path, text, parse(text)
        except ParseError:
            continue
    return None


def sibling_base_entrypoint(ctx: Context, info: StageInfo) -> tuple[Instruction, str, list[tuple[str, str]]] | None:
    """The ENTRYPOINT the image inherits from its base built in this
    repository (:func:`sibling_base`), when the runtime chain sets none of its
    own: (the instruction, its ``path:line`` cite, and the (path, text) of the
    script it runs when that Dockerfile copies it in from beside itself)."""
    if any(i.cmd == "ENTRYPOINT" for s in info.chain for i in s.stage.instructions):
        return None
    found = sibling_base(ctx, info)
    if found is None or ctx.build is None:
        return None
    path, text, df = found
    last = df.stages[-1].instructions if df.stages else []
    entry = next((i for i in reversed(last) if i.cmd == "ENTRYPOINT"), None)
    if entry is None:
        return None
    words = entry.values if entry.json else entry.args.split()
    scripts: list[tuple[str, str]] = []
    target = words[0] if words else ""
    here = posixpath.dirname(path)
    for ins in last:
        if ins.cmd not in ("COPY", "ADD") or ins.flag("from") is not None or len(ins.values) < 2:
            continue
        dest = ins.values[-1]
        for src in ins.values[:-1]:
            at = dest + posixpath.basename(src) if dest.endswith("/") else dest
            if target.startswith("/") and posixpath.normpath(at) == posixpath.normpath(target):
                rel = posixpath.normpath(posixpath.join(here, src)) if here else posixpath.normpath(src)
                body = ctx.build.read_text(rel)
                if body:
                    scripts.append((rel, body))
    return entry, _cite(path, text, entry.span.start), scripts


def sibling_base_users(ctx: Context, info: StageInfo) -> tuple[list[ContextUser], str | None]:
    """Users of a base image that another Dockerfile of the repository builds
    (:func:`sibling_base`), and the USER that Dockerfile ends with (``None``:
    root or not found)."""
    found = sibling_base(ctx, info)
    if found is not None:
        path, text, df = found
        users: list[ContextUser] = []
        last_user = None
        for ins in df.instructions:
            if ins.cmd == "RUN":
                for cmd in run_commands(ins):
                    u = _context_user(cmd, _cite(path, text, ins.span.start))
                    if u is not None:
                        users.append(u)
            elif ins.cmd == "FROM":
                last_user = None
            elif ins.cmd == "USER":
                last_user = ins.args.strip()
        return users, last_user
    return [], None


__all__ = ["ContextUser", "GroupZero", "Judgement", "DocumentedRun", "app_user_name", "documented_command",
           "group_zero_writable", "joins_group_zero",
           "judge", "knowledge", "script_users", "sibling_base", "sibling_base_entrypoint",
           "sibling_base_users"]

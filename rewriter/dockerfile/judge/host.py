"""Checks of what the process needs from the host: the Docker socket or another unix
socket, the systemd journal, the host's log files, devices and privileges
(``--privileged``, ``--device``, hardware packages), and the host's pid namespace.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Iterator

from rewriter.core.globs import fnmatch
from rewriter.dockerfile.analysis import Context
from rewriter.dockerfile.model import StageInfo
from rewriter.dockerfile.syntax import Instruction
from rewriter.dockerfile.usage import image_readmes
from rewriter.io.context import BuildContext
from rewriter.dockerfile.judge.knowledge import Judgement, _Knowledge
from rewriter.dockerfile.judge.evidence import (
    _cite, _Command, _df_name, _in_shell_comment, _ins_cite, _program_name)
from rewriter.dockerfile.judge.context import (
    _compose_volumes, _copied_sources, _files_under, _own_script, _pod_volumes, _runs, _scripts,
    _services)
from rewriter.dockerfile.judge.packages import _named_in, _copied_library, _package_install
from rewriter.dockerfile.judge.source import _SCRIPT_PROGRAM
from rewriter.dockerfile.judge.writes import _SCRATCH


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
    default = _passthrough_default(ctx, command, copied)
    if default is not None and default[0] in k.docker_clients:
        return Judgement("needs-devices", "app",
                         f"the container runs `{default[0]}`, a Docker API client, through "
                         f"its entrypoint script: {why}",
                         (_ins_cite(ctx, command.ins), default[1]), hint)
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


#: a pass-through entrypoint's default program (docker-node's pattern): arguments
#: that are options or no command become the program's, ``set -- pack "$@"``,
#: before ``exec "$@"``
_DEFAULT_PROGRAM = r'(?m)^[ \t]*set[ \t]+--[ \t]+([\w.+-]+)[ \t]+"\$@"'


def _passthrough_default(ctx: Context, command: _Command,
                         copied: list[tuple[str, str, Instruction]]) -> tuple[str, str] | None:
    """(program, evidence) when the command is an entrypoint script, as the
    context holds it, that runs its arguments (``exec "$@"``) with a program of
    its own put first when they name none (``set -- pack "$@"``): the image's
    program is that one."""
    if command.stage is None:
        return None
    script = _own_script(ctx, command.stage, command, copied)
    if script is None:
        return None
    path, body = script
    m = re.search(_DEFAULT_PROGRAM, body)
    if m is None or not re.search(r'(?m)^[ \t]*exec[ \t]+"\$@"', body):
        return None
    return m.group(1), _cite(path, body, m.start(1))


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


def _host_access(ctx: Context, info: StageInfo, command: _Command,
                 copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """The program's job needs a host resource a new user cannot reach: a unix
    socket it calls over HTTP (the host's Docker socket), or the host's systemd
    journal (root:systemd-journal 0640)."""
    if command.ins is None:
        return None
    return _unix_socket_client(ctx, info, command, copied, k) or \
        _docker_sdk(ctx, copied) or \
        _journal_reader(ctx, info, command, copied, k) or \
        _root_host_files(ctx, command, copied, k)


#: a project's dependency manifests (not a test's or a developer's: no ``dev``,
#: ``test`` or ``doc`` in the name), and how each lists a Docker Engine SDK, the
#: library a program talks to the Docker daemon's socket with: Python's
#: ``docker`` (docker-py), Ruby's ``docker-api``, Node's ``dockerode``
_DOCKER_SDKS = (
    (r"(?i)(?:^|/)(?![^/]*(?:dev|test|doc|lint))[\w.-]*requirements[\w.-]*\.(?:txt|in)$",
     r"(?im)^[ \t]*(docker(?:-py)?)[ \t]*(?:[=<>!~;\[#]|$)"),
    (r"(?:^|/)(?:pyproject\.toml|setup\.py|setup\.cfg)$",
     r"(?im)^[ \t]*['\"]?(docker(?:-py)?)[ \t]*(?:[=<>!~;\[][^'\"\n]*)?['\"]?,?[ \t]*(?:#.*)?$"),
    (r"(?:^|/)Pipfile$", r"(?m)^[ \t]*['\"]?(docker(?:-py)?)['\"]?[ \t]*="),
    (r"(?:^|/)Gemfile$", r"(?m)^[ \t]*gem[ \t(]+['\"](docker-api)['\"]"),
    (r"(?:^|/)package\.json$", r'"(dockerode)"[ \t]*:'),
)


def _docker_sdk(ctx: Context, copied: list[tuple[str, str, Instruction]]) -> Judgement | None:
    """A dependency manifest the file copies in, by name or at the top of a
    copied folder, lists a Docker Engine SDK (:data:`_DOCKER_SDKS`): the program
    drives the Docker daemon through its socket. A Gemfile's ``group :development, :test`` and a package.json's
    ``devDependencies`` do not count."""
    build = ctx.build
    if build is None:
        return None
    # the project's own manifests: a file copied by name, or one at the top of
    # a copied folder (not a helper script's `tools/requirements.txt`)
    tops = [(src, ins) for src, _, ins in copied]
    for name, listed in _DOCKER_SDKS:
        for f, body, ins in _copied_files(build, copied, re.compile(name)):
            if not any(i is ins and _at_top(f, src) for src, i in tops):
                continue
            for m in re.finditer(listed, body):
                if _in_shell_comment(body, m.start()) or _dev_only(f, body, m.start()):
                    continue
                return Judgement("needs-devices", "app",
                                 f"`{f}`, which the file copies in, lists `{m.group(1)}`, a "
                                 f"Docker Engine SDK: the program drives the Docker daemon, and "
                                 f"{_SOCKET_WHY}",
                                 (_ins_cite(ctx, ins), _cite(f, body, m.start(1))), _SOCKET_HINT)
    return None


def _at_top(path: str, src: str) -> bool:
    """``path`` is the copied source ``src`` itself, or a file directly in it."""
    src = posixpath.normpath(src)
    return path == src or posixpath.dirname(path) == ("" if src == "." else src)


def _dev_only(path: str, body: str, at: int) -> bool:
    """The dependency at ``at`` is a developer's: inside a Gemfile ``group``
    block of development or test only, or under a package.json's
    ``devDependencies``."""
    if path.endswith("package.json"):
        dev = body.rfind('"devDependencies"', 0, at)
        return dev > body.rfind('"dependencies"', 0, at)
    if path.endswith("Gemfile"):
        blocks: list[str] = []  # the open `do` blocks: a group's arguments, or ""
        for m in re.finditer(r"(?m)^[ \t]*(?:(group\b[^\n]*?)[ \t]+do\b[^\n]*|end\b[^\n]*|"
                             r"[^\n#]*\bdo(?:[ \t]*\|[^|\n]*\|)?[ \t]*)$", body[:at]):
            if m.group(0).strip().startswith("end"):
                if blocks:
                    blocks.pop()
            else:
                blocks.append(m.group(1) or "")
        return any(g and not re.search(r":(?:default|production)\b", g) for g in blocks)
    return False


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


def _names_shipper(k: _Knowledge, dockerfile_text: str) -> bool:
    """The Dockerfile names a log shipper (``journal_shippers``)."""
    return _names_any(k.journal_shippers, k.journal_shipper_names, dockerfile_text)


@functools.lru_cache(maxsize=16)
def _names_any(pattern: str, names: tuple[str, ...], text: str) -> bool:
    """``pattern``, a case-blind match of one of ``names``, matches ``text``:
    searched once a file, for the two checks that ask. A long file is slow to
    search, so an ASCII text is first looked through for the names in lower
    case (for ASCII, what a case-blind match finds)."""
    if text.isascii():
        low = text.lower()
        if not any(n in low for n in names):
            return False
    return re.compile(pattern).search(text) is not None


def _log_shipper_reads_host(ctx: Context, command: _Command,
                            copied: list[tuple[str, str, Instruction]],
                            k: _Knowledge) -> Judgement | None:
    """A log shipper (fluentd, fluent-bit, filebeat, promtail, ... named in the
    Dockerfile) whose config copied in reads the host's container or system log
    files (``path /var/log/containers/*.log``), or whose Dockerfile comments or
    documenting README say it collects the containers' (pods', nodes') logs: it
    runs as a DaemonSet over the host's root-only log files."""
    if not _names_shipper(k, ctx.df.text):
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
    if _names_shipper(k, ctx.df.text):
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
    named = ctx.df.text + "\n" + "\n".join(ctx.settings.build_args.values())
    lib = next((hit for st in stages
                if (hit := _package_install(st, k.journal_libraries, pip=True))), None) \
        if _named_in(named, k.journal_libraries) else None
    if lib is None and not ("go" in ctx.df.text and
                            re.search(r"\bgo\s+(?:build|install)\b", ctx.df.text)):
        return None  # (before the sources of every stage are looked up)
    sources = list(dict.fromkeys(src for st in stages
                                 for src, _, _ in _copied_sources(ctx, st, through=False)))
    go_mod = lib is None and any("go-systemd" in (build.read_text(f) or "")
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

"""What the judge knows, and what it answers: the tables of ``rewriter/data/judge.toml``
(:func:`knowledge`: which programs need root, which base images bind port 80, ...),
read once, and :class:`Judgement`, the decline every check returns.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from typing import Any



_DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "data", "judge.toml")


@dataclass(frozen=True)
class Judgement:
    """Why the runtime stage should stay as it is (``reason`` is the decline code)."""

    reason: str  #: e.g. ``base-image``, ``binds-privileged-port``
    kind: str  #: what the image is: app, base-image, ci-builder, devcontainer, ...
    message: str
    evidence: tuple[str, ...] = ()  #: ``path:line: text`` a reviewer can check
    hint: str = ""  #: what the maintainer can do instead


@dataclass(frozen=True)
class _Subcommands:
    """``judge.toml`` ``need_root_subcommands``: a CLI's sub-commands that need
    root, the flags that make them not (``vault server -dev``), why (for the
    message), and a regex of a copied config line that turns the need off."""

    names: frozenset[str]
    unless: frozenset[str]
    why: str
    unless_config: str


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
    #: (base image globs, directories their program writes at run time)
    image_writes: list[tuple[tuple[str, ...], tuple[str, ...]]]
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
    root_subcommands: dict[str, _Subcommands] = field(default_factory=dict)
    docker_clients: frozenset[str] = frozenset()
    docker_providers: dict[str, str] = field(default_factory=dict)
    builder_programs: frozenset[str] = frozenset()
    device_packages: frozenset[str] = frozenset()
    device_images: list[str] = field(default_factory=list)
    services: list[_Service] = field(default_factory=list)
    #: program -> (the port it listens on by default, a regex of the flags that set
    #: another, a regex of the flags that make it listen there: "" when it always does)
    port_programs: dict[str, tuple[int, str, str, tuple[str, ...]]] = field(default_factory=dict)
    #: program -> (its config file's name, a regex of the flags that name another)
    port_configs: dict[str, tuple[str, str]] = field(default_factory=dict)
    unix_socket_commands: str = ""
    unix_socket_clients: frozenset[str] = frozenset()
    #: those package names in a requirements file (``requests_unixsocket``, any case)
    unix_socket_requirement: str = ""
    journal_readers: frozenset[str] = frozenset()
    journal_libraries: frozenset[str] = frozenset()
    journal_shippers: str = ""
    journal_shipper_names: tuple[str, ...] = ()  #: the names ``journal_shippers`` matches, any case
    journal_inputs: list[str] = field(default_factory=list)
    journal_reader_code: str = ""
    root_host_paths: dict[str, str] = field(default_factory=dict)  #: host dir -> what it holds
    host_log_inputs: str = ""  #: a log shipper's config line that reads the host's logs
    host_log_prose: str = ""  #: a log shipper's own words that it collects the hosts' logs
    storage_provisioners: frozenset[str] = frozenset()
    login_shell_programs: frozenset[str] = frozenset()
    #: program -> (where in the home it keeps its credentials, variables that move them)
    home_credentials: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    #: program -> (the data path it writes relative to its working directory by
    #: default, the flags and the environment variables that move it)
    relative_data: dict[str, tuple[str, frozenset[str], frozenset[str]]] = field(default_factory=dict)
    #: group -> (package globs, programs) of a desktop app that opens the host's
    #: devices of that group (``audio``: /dev/snd, ``video``: /dev/dri)
    device_groups: dict[str, tuple[tuple[str, ...], frozenset[str]]] = field(default_factory=dict)
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
    #: program -> (the words of which a run that writes files gives one: empty for
    #: any; the words that make it write none: a server, a check)
    file_tool_modes: dict[str, tuple[frozenset[str], frozenset[str]]] = field(default_factory=dict)
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
    #: the families where the service runs in the foreground as that user, with
    #: the package's own config, and needs nothing else it would not own
    reuse: frozenset[str] = frozenset()
    #: started without a config file, it keeps its data in the working directory,
    #: which the fix makes this directory (the package's, its account's own)
    #: when the file sets none
    cwd: str = ""
    #: the flags that name where it keeps its data instead (``--dir``)
    data_flags: tuple[str, ...] = ()
    #: the config and data the package sets up: a build step that names them
    #: (copies a file there, edits one, initialises the data as root) may move
    #: the data anywhere, or leave it root's
    config: tuple[str, ...] = ()
    #: directories under /run it writes at start, which the package leaves to
    #: the init system to make
    run: tuple[str, ...] = ()


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
        image_writes=[(tuple(w["images"]), tuple(w["dirs"])) for w in raw["images"].get("writes", ())],
        docker_cli=frozenset(raw["packages"]["docker_cli"]),
        fixture_dirs=frozenset(raw["paths"]["fixture_dirs"]),
        builder_dirs=frozenset(raw["paths"]["builder_dirs"]),
        builder_names=list(raw["paths"]["builder_names"]),
        ci_files=frozenset(raw["paths"]["ci_files"]),
        generic_programs=frozenset(raw["programs"]["generic"]),
        login_shell_programs=frozenset(raw["programs"].get("login_shell", ())),
        home_credentials={k: (v["home"], tuple(v.get("env", ())))
                          for k, v in raw["programs"].get("home_credentials", {}).items()},
        device_groups={g: (tuple(v["packages"]), frozenset(v["programs"]))
                       for g, v in raw["device_groups"].items()},
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
        root_subcommands={p: _Subcommands(frozenset(v["subcommands"]), frozenset(v.get("unless", ())),
                                          v.get("why", ""), v.get("unless_config", ""))
                          for p, v in raw["programs"]["need_root_subcommands"].items()},
        docker_clients=frozenset(raw["programs"]["docker_clients"]),
        docker_providers=dict(raw["programs"]["docker_providers"]),
        builder_programs=frozenset(raw["programs"]["builders"]),
        device_packages=frozenset(raw["packages"]["devices"]),
        device_images=list(raw["images"]["devices"]),
        services=[_Service(frozenset(sv["programs"]), tuple(sv["packages"]), dict(sv["users"]),
                           reuse=frozenset(sv.get("reuse", ())), cwd=sv.get("cwd", ""),
                           data_flags=tuple(sv.get("data_flags", ())),
                           config=tuple(sv.get("config", ())), run=tuple(sv.get("run", ())))
                  for sv in raw["services"]],
        port_programs={p: (int(v["port"]), _port_flags(v["flags"]), _switch_flags(v.get("when", [])),
                           tuple(v.get("env", ())))
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
        journal_shipper_names=tuple(n.lower() for n in raw["configs"]["journal"]["shippers"]),
        journal_inputs=list(raw["configs"]["journal"]["inputs"]),
        journal_reader_code=raw["configs"]["journal"]["journal_reader_code"],
        host_log_inputs=raw["configs"]["journal"]["host_log_inputs"],
        host_log_prose=raw["configs"]["journal"]["host_log_prose"],
        storage_provisioners=frozenset(raw["programs"]["storage_provisioners"]),
        root_host_paths=dict(raw["paths"]["root_host_paths"]),
        project_tools={p: frozenset(v) for p, v in raw["programs"]["project_tools"].items()},
        file_tools=frozenset(raw["programs"]["file_tools"]),
        relative_data={p: (v["path"], frozenset(v.get("flags", ())), frozenset(v.get("env", ())))
                       for p, v in raw["programs"]["relative_data"].items()},
        file_tool_modes={p: (frozenset(v.get("writes", ())), frozenset(v.get("not", ())))
                         for p, v in raw["programs"].get("file_tool_modes", {}).items()},
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


def packaged_user(name: str) -> bool:
    """Whether ``name`` is an account that packages or base images create."""
    return name in knowledge().packaged_users

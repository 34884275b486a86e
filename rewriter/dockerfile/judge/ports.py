"""Checks of the port the process listens on: a privileged port (below 1024) set by
the file, its command, a server image or program's default, a config copied in, a
README, a compose service, a Kubernetes manifest or the program's own source.
"""

from __future__ import annotations

import posixpath
import re

from rewriter.core.globs import fnmatch
from rewriter.dockerfile.analysis import Context
from rewriter.dockerfile.model import StageInfo, expand
from rewriter.dockerfile.paths import final_workdir
from rewriter.dockerfile.syntax import Instruction
from rewriter.dockerfile.usage import companion_readme, manifest_ports
from rewriter.io.context import BuildContext
from rewriter.dockerfile.judge.knowledge import _AppListen, Judgement, _Knowledge
from rewriter.dockerfile.judge.evidence import (
    _cite, _Command, _env_pairs, _ins_cite, _overrides_command, _program_name)
from rewriter.dockerfile.judge.context import _files_under, _in_context, _runs, _services
from rewriter.dockerfile.judge.source import _dotnet_project, _source_ports, _spring_ports


_PORT_ARG = (
    r"(?:^|[\s=])(?:-b|--bind|--listen|--host|--port|-p|--http-port|--server\.port|"
    r"listen|PORT)[= ]?(?:[\w.\[\]-]*:)?(\d{1,5})\b|(?:0\.0\.0\.0|\[::\]|\*|localhost):(\d{1,5})\b")
_ENV_PORT = r"^(?:[A-Z0-9_]*_)?PORT$"


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
            default, flags, when, env_names = k.port_programs[prog]
            line = " " + " ".join(command.words)
            mode = re.search(when, line) if when else None
            if when and mode is None:
                default = 0  # it listens there only in a mode its command does not turn on
            set_ports = [int(m.group(1)) for m in re.compile(flags).finditer(line)] + [
                int(m.group(1) or m.group(2)) for m in re.compile(_PORT_ARG).finditer(line)]
            # the environment variable it reads its address from (`ADDRESS=:8443`)
            set_ports += [int(m.group(1)) for name in env_names
                          for m in [re.search(r"(?:^|:)(\d+)$", info.env.get(name, "").strip())] if m]
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

"""The program's own source in the build context: the Go package a stage builds, the
Python or Node file the command runs, a Spring Boot app's settings, an ASP.NET
Core project; where it listens (its ports) and the paths it creates.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator

from rewriter.dockerfile.analysis import Context
from rewriter.dockerfile.model import StageInfo, commands_named, workdir_path
from rewriter.dockerfile.paths import run_dir
from rewriter.dockerfile.syntax import Instruction
from rewriter.io.context import BuildContext
from rewriter.dockerfile.judge.knowledge import _Knowledge
from rewriter.dockerfile.judge.evidence import (
    _cite, _Command, _env_pairs, _in_code_comment, _language, _program_name)
from rewriter.dockerfile.judge.context import _copied_sources, _files_under, _in_context, _scripts, _services


#: a program started at the start of a script's line, after a pipe or in ``$(...)``
_SCRIPT_PROGRAM = (r"(?:^|[;&|]|\$\()[ \t]*(?:exec[ \t]+|sudo[ \t]+)?"
                   r"(?:[\w./-]*/)?([\w.-]+)")  # with re.M


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
    sources = dict.fromkeys(src for st in ctx.model.stages
                            for src, _, _ in _copied_sources(ctx, st, through=False))
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
    sources = dict.fromkeys(src for st in ctx.model.stages
                            for src, _, _ in _copied_sources(ctx, st, through=False))
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

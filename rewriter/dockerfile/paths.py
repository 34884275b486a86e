"""What a stage's process reads and writes, by path: its WORKDIR, the app's own
directories, its volumes and data dirs, and the paths the file already gives
to someone. The judge and the rules that make a stage non-root share these."""

from __future__ import annotations

import posixpath
import re

from rewriter.dockerfile.model import (
    StageInfo, abspath, commands_named, expand, run_commands, workdir_path,
)
from rewriter.dockerfile.shell import form_words, programs
from rewriter.dockerfile.syntax import Instruction


_DATA_DIR = re.compile(r"(^|/)(logs?|data|cache|uploads|storage|state|tmp|run|media|sessions)(/|$)")
#: paths every user may already write (sticky, world-writable), where a chown
#: changes nothing for the app and takes the directory from everyone else
_SHARED_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock")
_SYSTEM_DIRS = frozenset({"/", "/tmp", "/run", "/var/run", "/var/tmp", "/var/log", "/var/cache",
                          "/var/lib", "/var", "/usr", "/etc", "/opt", "/home", "/root", "/srv",
                          "/mnt", "/media"})


def volume_paths(info: StageInfo) -> list[str]:
    out: dict[str, None] = {}  # ordered, and a membership test that does not scan
    for s in reversed(info.chain):
        for ins in s.stage.instructions:
            if ins.cmd == "VOLUME":
                for v in ins.values:
                    path, ok = expand(v, s.env)
                    if ok and path.startswith("/") and path not in out:
                        out[path.rstrip("/") or "/"] = None
    return list(out)


def final_workdir(info: StageInfo) -> str | None:
    """The WORKDIR the container starts in, when the file sets one (and every
    variable in it has a value)."""
    cwd, seen = "/", False
    for s in reversed(info.chain):
        for ins in s.stage.instructions:
            if ins.cmd == "WORKDIR":
                value, ok = expand(ins.args.strip().strip("\"'"), s.env)
                if not ok:
                    return None
                cwd, seen = posixpath.join(cwd, value), True
    return abspath(cwd) if seen else None


#: Top-level directories that, declared as a VOLUME the build leaves empty, hold
#: the host's checkout (``VOLUME /src``).
SOURCE_DIRS = frozenset({"src", "source", "sources", "code", "workspace", "project",
                         "projects", "repo", "git"})

#: Directories (and the trees under them) that belong to the system, never to one app.
_SYSTEM_TREES = ("/usr/", "/etc/", "/bin/", "/sbin/", "/lib", "/proc/", "/sys/", "/dev/",
                 "/root/", "/tmp/", "/var/lib/dpkg", "/var/cache/apt", "/var/tmp/", "/run/",
                 "/var/run/", "/boot/")
#: the directories of ``/usr`` that belong to the system (FHS, and what distributions add)
_USR_DIRS = frozenset({"bin", "sbin", "lib", "lib32", "lib64", "libx32", "libexec", "include",
                       "share", "local", "src", "games", "X11R6", "X11R7", "etc", "var", "tmp",
                       "man", "doc", "info", "java", "lib-gnu", "libdata", "obj", "ports",
                       "spool", "standalone"})
#: ... except the places where sources and apps are unpacked.
_APP_TREES_IN_SYSTEM = ("/usr/src/", "/usr/local/src/")


def _app_dir(path: str | None) -> str | None:
    """``path`` when it may be an app's own directory (not a system one)."""
    if path is None or path in _SYSTEM_DIRS or any(c in path for c in "*?[]{}$"):
        return None
    if path.startswith(_APP_TREES_IN_SYSTEM) and path.count("/") >= 3:
        return path
    m = re.match(r"^/usr/([^/]+)(?:/|$)", path)
    if m is not None and m.group(1) not in _USR_DIRS:
        return path  # /usr/deploy/app: no part of the system lives there
    if (path.rstrip("/") + "/").startswith(_SYSTEM_TREES):  # `/bin` itself too
        return None
    return path


#: commands a shell line may run before it changes into the app's directory
_SETUP = frozenset({".", "source", "set", "export", "umask", "ulimit"})


def command_cd(info: StageInfo) -> str | None:
    """The directory the container's shell command changes into before it
    starts its program (``CMD cd web && node server.js``, ``sh -c "cd /app &&
    npm start"``), resolved against the WORKDIR; None when the command starts
    no shell, or runs something else first (``. /.profile`` and ``set -e``
    aside)."""
    for ins, s in command_parts(info):
        if ins.json:
            words = list(ins.values)
            at = next((i for i, w in enumerate(words[:3]) if re.fullmatch(r"-[a-z]*c", w)), None)
            if at is None or posixpath.basename(words[0]) not in _SHELL_NAMES \
                    or at + 1 >= len(words):
                continue
            text = words[at + 1]
        else:
            text = ins.args
        for program, args in programs(text):
            if program in _SETUP:
                continue
            if program != "cd" or not args or args[0].startswith("-"):
                return None
            path, ok = expand(args[0].strip("'\""), s.env)
            if not ok or any(c in path for c in "$`*?[]{}~"):
                return None
            return abspath(posixpath.join(final_workdir(info) or "/", path))
    return None


_SHELL_NAMES = frozenset({"sh", "bash", "ash", "dash", "zsh"})


def run_dir(info: StageInfo) -> str | None:
    """The directory the program runs in: the one its shell command changes
    into, else the WORKDIR (None when the file sets neither)."""
    return command_cd(info) or final_workdir(info)


def app_workdir(info: StageInfo) -> str | None:
    """The run directory (:func:`run_dir`: the WORKDIR, or the directory the
    command changes into), when it is the app's own directory (not a system
    one) that the app may write into: logs, caches, data, uploads beside its
    code. The source trees ``/usr/src`` and ``/usr/local/src`` count when the
    file copies its app straight into them (``WORKDIR /usr/src`` + ``COPY . .``).
    A WORKDIR of the app's own holds the directories its command changes into
    (``cd utils && ...``): the WORKDIR is the tree then."""
    workdir = _app_workdir(info, final_workdir(info))
    cd = command_cd(info)
    if cd is None or (workdir is not None and (cd + "/").startswith(workdir.rstrip("/") + "/")):
        return workdir
    return _app_workdir(info, cd)


def _app_workdir(info: StageInfo, wd: str | None) -> str | None:
    if wd is not None and wd.rstrip("/") in _SOURCE_DIRS and _copied_into(info, wd.rstrip("/")):
        return wd.rstrip("/")
    local = _local_app(info, wd)
    return local if local is not None else _app_dir(wd)


#: the standard directories of ``/usr/local``, which belong to the system
_LOCAL_DIRS = frozenset({"bin", "sbin", "lib", "lib32", "lib64", "libexec", "include", "share",
                         "etc", "man", "games", "src", "var"})


def _local_app(info: StageInfo, wd: str | None) -> str | None:
    """``/usr/local/NAME``, when the run directory is in it and the file itself
    names it other than by that ``WORKDIR`` (``ENV GLASSFISH_HOME=/usr/local/glassfish4``,
    the program ``/usr/local/app/bin/app``, a ``COPY`` into it): an app unpacked
    or installed there, not a system directory nor one the base image ships."""
    m = re.match(r"^/usr/local/([^/]+)(?:/|$)", wd or "")
    if m is None or m.group(1) in _LOCAL_DIRS or any(c in m.group(1) for c in "*?[]{}$"):
        return None
    top = "/usr/local/" + m.group(1)
    mention = re.compile(rf"(?<![\w.-]){re.escape(top)}(?![\w.-])")
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd not in ("WORKDIR", "LABEL", "EXPOSE", "FROM") and (
                    mention.search(ins.args) or mention.search(expand(ins.args, s.env)[0])):
                return top
    return None


_SOURCE_DIRS = frozenset(d.rstrip("/") for d in _APP_TREES_IN_SYSTEM)


def _copied_into(info: StageInfo, path: str) -> bool:
    """A local ``COPY``/``ADD`` of the runtime chain puts files right into ``path``."""
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd in ("COPY", "ADD") and ins.flag("from") is None and len(ins.values) >= 2:
                dest = workdir_path(s, ins, expand(ins.values[-1], s.env)[0])
                if posixpath.normpath(dest) == path:
                    return True
    return False


#: absolute paths in a command's words: ``/app/run``, ``--config=/app/x``, ``file=/d/x,if=mtd``
_CMD_PATH = re.compile(r"(?:^|[=:,])(/[\w.@%+-][\w./@%+-]*)")


def _created_dirs(info: StageInfo) -> list[str]:
    """Directories the runtime stage's own instructions create: ``mkdir``
    arguments, ``WORKDIR`` and the destinations of ``COPY``/``ADD``."""
    out: dict[str, None] = {}
    for s in reversed(info.chain):
        for ins in s.stage.instructions:
            if ins.cmd == "WORKDIR":
                wd = workdir_path(s, ins, expand(ins.args.strip().strip("\"'"), s.env)[0])
                out[posixpath.normpath(wd)] = None
            elif ins.cmd in ("COPY", "ADD") and not ins.json and len(ins.values) >= 2:
                dest = expand(ins.values[-1], s.env)[0]
                path = workdir_path(s, ins, dest)
                if dest.endswith("/") or len(ins.values) > 2:
                    out[posixpath.normpath(path)] = None
                else:
                    out[posixpath.dirname(posixpath.normpath(path))] = None
            elif ins.cmd == "RUN":
                for cmd in commands_named(ins, "mkdir"):
                    for a in cmd.args_after_name():
                        path, ok = expand(a, s.env)
                        if ok and path.startswith("/"):
                            out[posixpath.normpath(path)] = None
    return [d for d in out if _app_dir(d) is not None]


def command_parts(info: StageInfo) -> list[tuple[Instruction, StageInfo]]:
    """The container's command as the file sets it: the nearest ENTRYPOINT, then
    the CMD it runs with (a CMD of a stage before that ENTRYPOINT's is reset by
    it), each with its stage; empty when the file sets neither."""
    entry = cmd = None
    for s in info.chain:  # nearest first
        for ins in reversed(s.stage.instructions):
            if ins.cmd == "ENTRYPOINT" and entry is None:
                entry = (ins, s)
            if ins.cmd == "CMD" and cmd is None and entry is None:
                cmd = (ins, s)
        if entry is not None:
            break
    return [p for p in (entry, cmd) if p is not None]


def command_words(info: StageInfo) -> list[tuple[str, StageInfo]]:
    """The words of the container's ENTRYPOINT and CMD, variables expanded."""
    return [(expand(v, s.env)[0], s) for ins, s in command_parts(info) for v in form_words(ins)]


#: a command word that names a file relative to the working directory
#: (``./registry``, ``bin/app``, ``main.py``): the program reads its own tree
_RELATIVE_FILE = re.compile(r"^(?:\.{1,2}/|[\w.-]+/[\w./-]*$|[\w-][\w.-]*\.(?:go|py|js|mjs|cjs|"
                            r"ts|rb|php|pl|lua|jar|sh|R|jl|exs?|clj|scala|groovy)$)")
#: programs that run sources, not a compiled binary (``go run``, ``sh -c``)
_SOURCE_RUNNERS = frozenset({"go", "go-wrapper", "sh", "bash", "ash", "dash", "zsh", "make"})


#: programs that start the container's program: its first word after them is the program
_STARTERS = frozenset({"tini", "/sbin/tini", "/tini", "--", "dumb-init", "exec",
                       "/usr/bin/dumb-init", "/usr/local/bin/dumb-init"})


def program_words(info: StageInfo) -> list[str]:
    """The container's command from its program on: the words of
    :func:`command_words` after an init shim (``tini --``, ``dumb-init``, ``exec``)."""
    words = [w for w, _ in command_words(info)]
    while words and words[0] in _STARTERS:
        words = words[1:]
    return words


def _go_source_tree(info: StageInfo, wd: str) -> bool:
    """``wd`` is a package's directory in a Go workspace (``/go/src/...``,
    ``$GOPATH/src/...``) and the container runs a compiled program installed
    outside it: a bare name found on ``PATH`` (``registry``) or an absolute
    path elsewhere (``/go/bin/app``), with no word of the command naming a file
    relative to the WORKDIR and no ``go run``. Such a program never writes its
    source tree, so the fix need not own it (a ``chown -R`` of a checkout with
    its vendored code only copies a large layer)."""
    roots = {"/go"} | {abspath(p) for p in (info.env.get("GOPATH") or "").split(":")
                       if p.startswith("/")}
    if not any(wd.startswith(r.rstrip("/") + "/src/") for r in roots if r != "/"):
        return False
    words = program_words(info)
    if not words:
        return False
    prog = words[0]
    if posixpath.basename(prog) in _SOURCE_RUNNERS:
        return False
    # on PATH, or in a bin directory outside the tree (not a script copied to `/`)
    if "/" in prog and not (posixpath.basename(posixpath.dirname(prog)) in ("bin", "sbin")
                            and not prog.startswith(wd.rstrip("/") + "/")):
        return False
    # a relative path, alone or as a flag's value (`--output=build/x`, `-o out/`),
    # is read or written in the tree
    values = [w.partition("=")[2] if w.startswith("-") else w for w in words[1:]]
    if any(_RELATIVE_FILE.match(v) or re.match(r"^[\w.-]+/", v) for v in values if v):
        return False
    # and the build compiles this tree: `go build`/`go install`/`go get` or `make`,
    # run in it or naming its package (`go install example.com/app/cmd/app`)
    package = wd.split("/src/", 1)[1]
    return any((name == "make" or (name == "go" and args[:1] in (["build"], ["install"], ["get"])))
               and (workdir_path(s, ins, ".") == wd or package in ins.logical)
               for s in info.chain for ins in s.stage.instructions if ins.cmd == "RUN"
               for name, args in programs(ins.logical))


#: a database file by its name: ``app.db``, ``data.sqlite3``
_DB_FILE = re.compile(r"[^/]\.(?:db|db3|sqlite|sqlite3)$")


def build_databases(info: StageInfo) -> list[tuple[str, Instruction]]:
    """(path, RUN) of each database file the build creates for the app
    (``touch app.db``, ``sqlite3 /srv/x.sqlite < schema.sql``): the program
    writes it, and its journal beside it, at run time. A ``RUN`` that changes
    directory first is not followed."""
    found: list[tuple[str, Instruction]] = []
    for s in reversed(info.chain):
        for ins in s.stage.instructions:
            if ins.cmd != "RUN" or "touch" not in ins.logical and "sqlite3" not in ins.logical:
                continue
            if any(name in ("cd", "pushd") for name, _ in programs(ins.logical)):
                continue
            for name in ("touch", "sqlite3"):
                for cmd in commands_named(ins, name):
                    args = [a for a in cmd.args_after_name() if not a.startswith("-")]
                    for a in args[:1] if name == "sqlite3" else args:
                        path, ok = expand(a, s.env)
                        if ok and _DB_FILE.search(path) and not any(c in path for c in "$*?[]{}"):
                            path = posixpath.normpath(workdir_path(s, ins, path))
                            if (path, ins) not in found:
                                found.append((path, ins))
    return found


#: a Python environment's directory by its usual names (``/venv``, ``/opt/.venv``)
_VENV_NAME = re.compile(r"^\.?(?:venv|virtualenv|pyenv)$|[-_.]venv$")


def _environment(info: StageInfo, top: str, path: str) -> bool:
    """``top`` is a Python virtual environment the command runs a program of
    (``/venv/bin/python app.py``, ``/opt/venv/bin/gunicorn``): its interpreter
    and installed packages, which the app only reads, not the app's own tree.
    Known by a ``bin/`` program of it and its name, ``VIRTUAL_ENV``, or a
    ``bin/python`` the command names."""
    if not path.startswith(top.rstrip("/") + "/bin/"):
        return False
    if _VENV_NAME.search(posixpath.basename(top)):
        return True
    if abspath(info.env.get("VIRTUAL_ENV") or "/").rstrip("/") == top.rstrip("/"):
        return True
    return any(re.fullmatch(re.escape(top.rstrip("/")) + r"/bin/python[\d.]*", w)
               for w, _ in command_words(info))


def _only_program(info: StageInfo, top: str, path: str) -> bool:
    """All the build puts in ``top`` is the program ``path`` itself, the
    command's executable (not a script an interpreter runs), one file copied
    there (``COPY --from=build /app/server /app/server``): a compiled program
    does not write beside itself, and owning the directory would only
    let the user rewrite its own binary. Not when a WORKDIR, a ``mkdir`` or
    another ``COPY`` makes or fills anything else there."""
    words = program_words(info)
    # the program itself, a compiled one: not a script an interpreter is given
    if not words or words[0] != path or re.search(r"\.(?:sh|bash|py|js|mjs|rb|pl|php|jar)$", path):
        return False
    inside = top.rstrip("/") + "/"
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd == "WORKDIR":
                wd = posixpath.normpath(workdir_path(s, ins, expand(ins.args.strip().strip("\"'"), s.env)[0]))
                if wd == top or wd.startswith(inside):
                    return False
            elif ins.cmd in ("COPY", "ADD") and len(ins.values) >= 2:
                dest = expand(ins.values[-1], s.env)[0]
                at = posixpath.normpath(workdir_path(s, ins, dest))
                if at == top or at.startswith(inside):
                    if at != path or dest.endswith("/") or len(ins.values) > 2 or ins.heredocs:
                        return False
            elif ins.cmd == "RUN":
                for cmd in commands_named(ins, "mkdir"):
                    for a in cmd.args_after_name():
                        made = posixpath.normpath(expand(a, s.env)[0])
                        if made == top or made.startswith(inside):
                            return False
    return True


def app_trees(info: StageInfo) -> list[str]:
    """:func:`_app_trees`, worked out once a stage: the judge and several rules ask."""
    if "_app_trees" not in info.__dict__:
        info.__dict__["_app_trees"] = _app_trees(info)
    return list(info.__dict__["_app_trees"])


def _app_trees(info: StageInfo) -> list[str]:
    """The app's own directories, owned recursively by a fix: the WORKDIR, and
    each directory the file creates that holds the program the container runs
    or a file its command names (an Erlang release writing ``log/`` beside
    ``bin/``, an emulator opening its disk image read-write). A Go package's
    source tree as the WORKDIR is not the app's when the program is a binary
    installed outside it (:func:`_go_source_tree`). And the directory of a
    database file the build creates there (:func:`build_databases`)."""
    out: list[str] = []
    wd = app_workdir(info)
    if wd is not None and not _go_source_tree(info, wd):
        out.append(wd)
    created = sorted(_created_dirs(info), key=len)
    for word, _ in command_words(info):
        for m in _CMD_PATH.finditer(word):
            path = posixpath.normpath(m.group(1))
            top = next((d for d in created if path == d or path.startswith(d + "/")), None)
            if top is not None and (_environment(info, top, path) or _only_program(info, top, path)):
                continue
            if top is not None and top not in out and not any(
                    top.startswith(o + "/") for o in out):
                # a run directory inside it (`cd /src/app/build`) is owned with it
                inner = [i for i, o in enumerate(out) if o.startswith(top + "/")]
                out = [o for i, o in enumerate(out) if i not in inner[1:]]
                if inner:
                    out[inner[0]] = top
                else:
                    out.append(top)
    # the directory of a database the build creates, with the file (its journal goes there)
    for path, _ in build_databases(info):
        d = _app_dir(posixpath.dirname(path))
        if d is not None and not any(d == o or d.startswith(o + "/") for o in out):
            out.append(d)
    return out


def owned_by_file(info: StageInfo, path: str) -> bool:
    """The file already gives ``path`` (or a directory above it) to someone:
    ``COPY --chown`` into it, or a ``RUN chown`` of it."""
    above = {path}
    p, up = path, posixpath.dirname(path)
    while up != p:
        p, up = up, posixpath.dirname(up)
        above.add(p)
    above.discard("/")
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd in ("COPY", "ADD") and ins.flag("chown") is not None and ins.values:
                dest = workdir_path(s, ins, expand(ins.values[-1], s.env)[0]).rstrip("/")
                if dest in above:
                    return True
            elif any(posixpath.normpath(expand(a, s.env)[0]) in above
                     for cmd in commands_named(ins, "chown")
                     for a in cmd.args_after_name() if a.startswith("/")):
                return True
    return False


#: a command's flag that names where the program keeps what it writes
#: (``--data-dir``, ``--git=/data``, ``-storage.path``, ``--state``)
_STORE_FLAG = re.compile(r"^--?[\w.-]*(?:data|dir|store|storage|db|git|repo|state|cache|"
                         r"home|logs?|out|output|save|volume|root)[\w.-]*$", re.I)
#: a flag of that kind that names no place on disk (``--db-host``, ``--log-level``)
_NOT_A_PATH_FLAG = re.compile(r"host|url|uri|addr|port|name|user|pass|level|format|type|mode|"
                              r"driver|version|size|time|ttl|engine|backend|region|bucket|"
                              r"table|schema|key|id\b|max|min|count|limit", re.I)


def command_relative_stores(info: StageInfo) -> list[tuple[str, str, Instruction]]:
    """(flag, relative path, CMD/ENTRYPOINT) of each flag of the container's
    command that names, relative to the run directory, where the program keeps
    what it writes (``--data-dir data``, ``-db=./app.db``, ``--log-file
    app.log``): a path with a ``/`` or a file name with an extension."""
    found: list[tuple[str, str, Instruction]] = []
    for ins, s in command_parts(info):
        words = [expand(v, s.env)[0] for v in form_words(ins)]
        for i, w in enumerate(words):
            flag, eq, value = w.partition("=")
            if not eq:
                value = words[i + 1] if i + 1 < len(words) else ""
            if not _STORE_FLAG.match(flag) or _NOT_A_PATH_FLAG.search(flag):
                continue
            if not re.fullmatch(r"(?:\.{1,2}/)*[\w-][\w.-]*(?:/[\w.-]+)*/?", value) or \
                    value.startswith("-") or not ("/" in value or re.search(r"\.[a-z]\w*$", value)):
                continue
            found.append((flag, value, ins))
    return found


#: top-level directories of every Linux image, and those no app should own
_FHS_TOPS = frozenset({"bin", "boot", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32",
                       "media", "mnt", "opt", "proc", "root", "run", "sbin", "srv", "sys",
                       "tmp", "usr", "var"})


#: where the system keeps a program's own directory (``/var/lib/NAME``)
_PROGRAM_PLACES = ("/var/lib/", "/var/cache/", "/var/log/", "/var/spool/", "/srv/", "/opt/")
#: a command's flag that names a place the program only reads (``--config-dir``,
#: ``--static-root``, ``--plugin-path``) or a URL path (``--root-path /api``)
_CONFIG_WORDS = frozenset({"conf", "config", "configs", "cfg", "etc"})
_READ_ONLY_WORDS = frozenset({
    "include", "includes", "plugin", "plugins",
    "static", "statics", "template", "templates", "tpl", "asset", "assets", "public", "html",
    "www", "doc", "docs", "web", "theme", "themes", "locale", "locales", "i18n", "schema",
    "schemas", "cert", "certs", "ssl", "tls", "key", "keys", "ca", "bin", "lib", "libs",
    "module", "modules", "src", "source", "sources", "prefix", "base", "url", "uri", "route",
    "api", "context", "script", "scripts", "ui", "frontend"})


def _read_only_flag(flag: str, config: bool) -> bool:
    """The flag names a place the program only reads (``--staticroot``,
    ``--plugin-path``; with ``config``, ``--config-path`` too) or a URL path
    (``--root-path /api``)."""
    parts = [p for p in re.split(r"[-_.]", flag.lstrip("-").lower()) if p]
    if parts[-2:] == ["root", "path"]:
        return True
    words = _READ_ONLY_WORDS | _CONFIG_WORDS if config else _READ_ONLY_WORDS
    return any(re.sub(r"(?:dir|root|path)s?$", "", p) in words for p in parts)


#: a command's flag that names a directory (``--*-root``, ``--*-dir``, ``--spool*``,
#: ``--state*``, ``--cache*``, ``--work*``): where the program writes, unless it is
#: one :func:`_read_only_flag` names. Not ``--*-path``: more often a URL path
#: (``--health-path=/healthz``) or a file than a directory the program fills
_DIR_FLAG = re.compile(r"^--?(?:[\w.-]*(?:root|dir)|(?:spool|state|cache|work)(?![a-z])[\w.-]*)$",
                       re.I)


def command_dirs(info: StageInfo) -> list[str]:
    """Directories the container's command names for what the program writes
    (``CMD ["--git=/data"]``, ``--data-dir /state``) that nothing in the file
    makes: outside the usual top-level directories, or a program's own directory
    in the system's places for one (``/var/lib/NAME``, ``/srv/NAME``), never named
    by an instruction. The program would create them at start, under a
    root-owned parent, so a fix creates them for its user."""
    words = [w for w, _ in command_words(info)]
    found: list[str] = []
    for i, w in enumerate(words):
        flag, eq, value = w.partition("=")
        if not eq:
            value = words[i + 1] if i + 1 < len(words) else ""
        # a store flag (`--data-dir`, `--config-dir`, which some programs write), or
        # one naming a directory that is no configuration's (`--spool-root`)
        store = bool(_STORE_FLAG.match(flag))
        if not (store or _DIR_FLAG.match(flag)) or _read_only_flag(flag, not store) \
                or not re.fullmatch(r"/[\w.@%+-]+(?:/[\w.@%+-]+)*/?", value):
            continue  # not a plain path: `/tmp"` from quoted text, `$DIR`, a glob
        path = abspath(value)
        top = path.split("/")[1]
        # a top-level directory of its own (`/data`), or a program's own directory in
        # the system's places for one (`/var/lib/obfsproxy`, `/srv/app`)
        own = next((d for d in _PROGRAM_PLACES if path.startswith(d)
                    and path[len(d):].split("/")[0]), None)
        if not top or (top in _FHS_TOPS and own is None) or \
                "." in posixpath.basename(path) or any(c in path for c in "*?[]{}$:,"):
            continue
        mine = own + path[len(own):].split("/")[0] if own is not None else "/" + top
        mention = re.compile(rf"(?<![\w.-]){re.escape(mine)}(?![\w.-])")
        named = any(mention.search(ins.args) for st in info.chain for ins in st.stage.instructions
                    if ins.cmd not in ("CMD", "ENTRYPOINT", "LABEL", "EXPOSE", "ENV", "ARG"))
        if not named and path not in found:
            found.append(path)
    return found


#: a pid or log file that a configuration names: ``pidfile = /run/ssdb.pid``,
#: ``logfile /var/log/app.log``, ``error_log /var/log/x/error.log``
_CONFIG_WRITE = re.compile(
    r"(?<![\w.-])(?:pid_?file|pid|log_?file|log_?path|log|error_log|access_log)"
    r"['\"]?\s*(?:[=:]\s*|\s+)['\"]?(/[\w.@%+-][\w./@%+-]*)", re.I)
#: ``echo "..." >> /etc/app.conf``: what the build writes into a configuration
_CONFIG_ECHO = re.compile(
    r"\b(?:echo|printf)\s+(?:-\w+\s+)*(['\"])((?:(?!\1).)*)\1\s*"
    r"(?:>>?|\|\s*tee\s+(?:-a\s+)?)\s*['\"]?/[\w./-]*\.(?:conf|cfg|ini|toml|ya?ml)\b")
#: trees a fix never gives to a user
_NEVER_OWNED = ("/usr/", "/etc/", "/bin/", "/sbin/", "/lib", "/proc/", "/sys/", "/dev/",
                "/root/", "/boot/", "/tmp/", "/var/tmp/")


def _sed_replacements(args: list[str]) -> list[str]:
    """The text a ``sed -i`` puts into a file: the replacement of each ``s``
    command, the whole of any other (``/^pid/c pidfile /run/x.pid``)."""
    out: list[str] = []
    for a in args:
        if a.startswith("-"):
            continue
        for expr in re.split(r"\n|;", a) if not a.startswith("s") else [a]:
            if len(expr) > 2 and expr[0] == "s" and not expr[1].isalnum():
                parts = re.split(r"(?<!\\)" + re.escape(expr[1]), expr[2:])
                out.append(parts[1] if len(parts) > 1 else "")
            else:
                out.append(expr)
    return out


def config_writes(info: StageInfo) -> list[tuple[str, Instruction]]:
    """(file, RUN) of each pid or log file the build puts into a configuration
    it edits (``sed -i 's@pidfile = .*@pidfile = /run/ssdb.pid@' ssdb.conf``) or
    writes (``echo "logfile /var/log/x.log" >> /etc/x.conf``): the program
    writes it at run time. ``/dev/*`` (``/dev/stdout``) is no file."""
    found: list[tuple[str, Instruction]] = []
    for s in reversed(info.chain):
        for ins in s.stage.instructions:
            if ins.cmd != "RUN":
                continue
            texts: list[str] = []
            for cmd in commands_named(ins, "sed"):
                args = cmd.args_after_name()
                if any(re.match(r"-[a-zA-Z]*i|--in-place", a) for a in args):
                    texts += _sed_replacements(args)
            if "echo" in ins.logical or "printf" in ins.logical:  # a quick test for a long RUN
                texts += [m.group(2) for m in _CONFIG_ECHO.finditer(ins.logical)]
            for t in texts:
                for m in _CONFIG_WRITE.finditer(t):
                    path = posixpath.normpath(expand(m.group(1), s.env)[0])
                    if not path.startswith(("/dev/", "/proc/")) and "$" not in path and \
                            (path, ins) not in found:
                        found.append((path, ins))
    return found


def config_write_dir(path: str) -> str | None:
    """The directory a fix gives its user for a pid or log file a
    configuration names, or None when it cannot: a system directory (``/run``,
    ``/var/log``, ``/``) or a system tree (``/etc``, ``/usr``)."""
    d = posixpath.dirname(path)
    if d in _SYSTEM_DIRS or (d + "/").startswith(_NEVER_OWNED):
        return None
    return d


def shared_dir(path: str) -> bool:
    """A shared scratch directory (``VOLUME /tmp``): every user may write it."""
    return any(path == d or path.startswith(d + "/") for d in _SHARED_DIRS)


def writable_dirs(info: StageInfo, workdir: bool = False) -> list[str]:
    """:func:`_writable_dirs`, worked out once a stage: the judge and several rules ask."""
    key = "_writable_dirs_workdir" if workdir else "_writable_dirs"
    if key not in info.__dict__:
        info.__dict__[key] = _writable_dirs(info, workdir)
    return list(info.__dict__[key])


def _writable_dirs(info: StageInfo, workdir: bool) -> list[str]:
    """Directories the runtime user must own: every VOLUME, log/data dirs the
    stage itself creates with ``mkdir``, and with ``workdir`` the app's WORKDIR
    (when a fix switches the user: the app may write beside its code)."""
    dirs = [d for d in volume_paths(info) if d != "/" and not shared_dir(d)]
    for wd in app_trees(info) if workdir else []:
        if wd not in dirs and not owned_by_file(info, wd):
            dirs.append(wd)
    if workdir:
        dirs += [d for d in command_dirs(info) if d not in dirs]
        # `ENV HOME=/webex` wins over the new user's passwd home: it must exist, and be its own
        home = abspath(info.env.get("HOME") or "/")
        if home not in _SYSTEM_DIRS and not home.startswith("/root/") and "$" not in home \
                and home not in dirs and not owned_by_file(info, home):
            dirs.append(home)
        for path, _ in config_writes(info):
            d = config_write_dir(path)
            if d is not None and d not in dirs and not owned_by_file(info, d):
                dirs.append(d)
    seen = set(dirs)
    for ins in info.stage.instructions:
        for cmd in commands_named(ins, "mkdir"):
            for a in cmd.args_after_name():
                path, ok = expand(a, info.env)
                if not ok or a.startswith("-") or not path.startswith("/"):
                    continue
                path = posixpath.normpath(path)
                if any(c in path for c in "*?[]{}$") or path in _SYSTEM_DIRS or shared_dir(path):
                    continue  # (a directory under /tmp is every user's already)
                if _DATA_DIR.search(path) and path not in seen:
                    seen.add(path)
                    dirs.append(path)
    return dirs


#: commands that name a volume's directory without putting anything in it
_NOT_FILLING = frozenset({"mkdir", "chown", "chmod", "chgrp", "ls", "test", "[", "stat", "du",
                          "echo", "printf"})
#: the file a shell redirection writes (``> /data/state``, ``>> "$DATA/log"``)
_REDIRECT_TO = re.compile(r"(?<![0-9&])>>?\s*['\"]?(/[^\s'\";&|)]+)")


def filled_volumes(info: StageInfo) -> list[str]:
    """The ``VOLUME`` directories the build puts files in: a ``COPY`` or ``ADD``
    into one, or a ``RUN`` command (not ``mkdir``, ``chown`` or ``chmod``) that
    names the directory or a path inside it (``mv *.pem $DATA``, ``tool init
    --dir=$DATA``) or redirects into it (``echo seed > $DATA/state``). What
    they hold is the first content of the volume, the program's data: a fix
    owns them recursively, like the app's trees. Not a configuration directory
    under ``/etc``, which the program only reads."""
    vols = [v for v in volume_paths(info)
            if v != "/" and not shared_dir(v) and v not in _SYSTEM_DIRS and not v.startswith("/etc/")]
    if not vols:
        return []
    out: list[str] = []

    def names(path: str) -> None:
        if not path.startswith("/"):
            return
        path = posixpath.normpath(path)
        for v in vols:
            if (path == v or path.startswith(v + "/")) and v not in out:
                out.append(v)

    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd in ("COPY", "ADD") and len(ins.values) >= 2:
                names(workdir_path(s, ins, expand(ins.values[-1], s.env)[0]))
            elif ins.cmd == "RUN":
                text, _ = expand(ins.args, s.env)
                for m in _REDIRECT_TO.finditer(text):  # `echo seed > $DATA/state`
                    names(m.group(1))
                for cmd in run_commands(ins):
                    if cmd.name in _NOT_FILLING:
                        continue
                    for a in cmd.args_after_name():
                        value, ok = expand(a.split("=", 1)[-1] if a.startswith("-") else a, s.env)
                        if ok:
                            names(value)
    return out

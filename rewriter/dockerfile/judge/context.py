"""Reading the build context around the Dockerfile: the files its COPY/ADD bring in,
the entrypoint scripts the command runs (and what they source or run, a ``make``
target's recipe), the scripts its RUN lines execute, the compose services that
build it and their volumes, the Kubernetes pods that run it, and its documented
``docker run`` lines.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Iterable, Iterator

from rewriter.core.globs import fnmatch, fnmatchcase
from rewriter.dockerfile.analysis import Context
from rewriter.dockerfile.model import StageInfo, expand, run_commands, workdir_path
from rewriter.dockerfile.makefile import make_call, makefile_paths, recipes
from rewriter.dockerfile.paths import final_workdir
from rewriter.dockerfile.shell import Command, commands
from rewriter.dockerfile.syntax import Instruction
from rewriter.dockerfile.usage import (
    HostVolume, Invocation, documented_runs, manifest_volumes, sh_expand, sh_variables)
from rewriter.io.context import BuildContext, ancestors, dockerfile_dir
from rewriter.dockerfile.judge.evidence import (
    _Command, _command, _df_name, _env_pairs, _in_shell_comment, _is_shell, _program_name, _SHELLS,
    _WRAPPERS)


def _copied_sources(ctx: Context, info: StageInfo,
                    through: bool = True) -> list[tuple[str, str, Instruction]]:
    """(context path, destination, instruction) of each local COPY/ADD source
    of the runtime chain that exists in the build context; with ``through``,
    also those that reach it through another stage of the file (a build stage
    copies them in, a ``COPY --from`` of that stage hands them over), cited by
    that ``COPY --from`` (:func:`_through_stages`). Worked out once a stage:
    the judge, DF001 and several checks ask, and each source is looked up in
    the build context."""
    key = "_copied_sources" if through else "_local_sources"
    if key not in info.__dict__:
        out = [(src, dest, ins) for src, dest, ins, _ in _local_copies(ctx, info)]
        if through and ctx.build is not None:
            out += [(src, dest, ins) for src, dest, ins, _ in _through_stages(ctx, info, _DEPTH)]
        info.__dict__[key] = out
    return list(info.__dict__[key])


#: how many stages deep a ``COPY --from`` is followed (a stage copying from a stage ...)
_DEPTH = 3


def _local_copies(ctx: Context, info: StageInfo) -> list[tuple[str, str, Instruction, bool]]:
    """(context path, destination, instruction, into) of each local COPY/ADD
    source of the chain that exists in the build context; ``into`` when a file
    lands inside the destination (``COPY a.sh /bin/``, several sources, ``.``)."""
    build = ctx.build
    if build is None:
        return []
    here = dockerfile_dir(build)
    out: list[tuple[str, str, Instruction, bool]] = []
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd not in ("COPY", "ADD") or ins.flag("from") or ins.heredocs:
                continue
            vals = [expand(v, s.env)[0] for v in ins.values]
            if len(vals) < 2:
                continue
            dest = workdir_path(s, ins, vals[-1])
            into = vals[-1].endswith("/") or vals[-1] == "." or len(vals) > 2
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
                        out += [(h, dest, ins, True) for h in hits]
                        if hits:
                            break
                    elif build.is_dir(cand) or build.read_text(cand) is not None:
                        out.append((cand, dest, ins, into))
                        break
    return out


def _from_stages(ctx: Context, info: StageInfo
                 ) -> Iterator[tuple[StageInfo, Instruction, StageInfo]]:
    """(stage of the chain, ``COPY --from``, the stage it copies from) of each
    ``COPY --from`` of the chain that names an earlier stage of this file, by
    name or index (not an external image)."""
    for s in info.chain:
        for ins in s.stage.instructions:
            flag = ins.flag("from") if ins.cmd == "COPY" and not ins.heredocs else None
            if flag is None or not flag.value or len(ins.values) < 2:
                continue
            name = expand(flag.value, s.env)[0].lower()
            found = next((st for st in ctx.model.stages if st.stage.index < s.stage.index and
                          name in ((st.stage.alias or "").lower(), str(st.stage.index))), None)
            if found is not None:
                yield s, ins, found


def _through_stages(ctx: Context, info: StageInfo,
                    depth: int) -> list[tuple[str, str, Instruction, bool]]:
    """(context path, destination, ``COPY --from``, into) of the build-context
    files another stage copies in and a ``COPY --from`` of the chain hands over:
    a file or folder the stage put at or under the copied path lands at the
    destination plus the rest (``ADD x.sh /out/bin/x.sh`` + ``COPY --from=b /out
    /``: ``/bin/x.sh``); a path inside a folder the stage copied in lands at the
    destination when the context holds it (``COPY . /src`` + ``COPY --from=b
    /src/conf /etc/app``). A path a RUN of the stage writes (``go build -o``,
    ``> file``, ``cp``/``mv`` onto it) is the build's, not the context's."""
    build = ctx.build
    if build is None or depth <= 0:
        return []
    out: list[tuple[str, str, Instruction, bool]] = []
    for s, ins, stage in _from_stages(ctx, info):
        inner = _local_copies(ctx, stage) + _through_stages(ctx, stage, depth - 1)
        if not inner:
            continue
        vals = [expand(v, s.env)[0] for v in ins.values]
        dest = workdir_path(s, ins, vals[-1])
        into = vals[-1].endswith("/") or vals[-1] == "." or len(vals) > 2
        for raw in vals[:-1]:
            if "$" in raw or "://" in raw:
                continue
            src = posixpath.normpath(posixpath.join("/", raw))
            if _written_by_run(stage, src):
                continue
            for hit in _map_through(build, inner, src, dest, into):
                if hit[:2] not in [o[:2] for o in out]:
                    out.append((hit[0], hit[1], ins, hit[2]))
            if len(out) > 400:
                return out
    return out


def _map_through(build: BuildContext, inner: list[tuple[str, str, Instruction, bool]],
                 src: str, dest: str, into: bool) -> list[tuple[str, str, bool]]:
    """(context path, destination, into) in the copying stage of what ``COPY
    --from`` of ``src`` to ``dest`` takes of ``inner``, the copied stage's own
    build-context sources."""
    out: list[tuple[str, str, bool]] = []
    glob = re.compile(_GLOB_CHARS)
    parent, _, pattern = src.rpartition("/")
    parent = parent or "/"
    if glob.search(parent):
        return []
    for csrc, d, _, into0 in inner:
        is_dir = build.is_dir(csrc)
        # where it is in the copied stage: a folder's files under ``d``; a file at
        # ``d``, or inside it
        at = d if is_dir or not into0 else posixpath.join(d, posixpath.basename(csrc))
        if glob.search(pattern):
            if _under(at, parent) and at != parent:
                first, _, rest = posixpath.relpath(at, parent).partition("/")
                if fnmatchcase(first, pattern):
                    if not rest and not is_dir:
                        out.append((csrc, posixpath.join(dest, first), False))
                    else:
                        out.append((csrc, posixpath.normpath(posixpath.join(dest, rest)), into0))
            elif is_dir and _under(parent, at):
                cdir = posixpath.normpath(posixpath.join(csrc, posixpath.relpath(parent, at)))
                for h in _glob(build, posixpath.join(cdir, pattern) if cdir != "." else pattern):
                    out.append((h, dest if build.is_dir(h) else
                                posixpath.join(dest, posixpath.basename(h)), False))
            continue
        if _under(at, src):
            if at == src and not is_dir:
                out.append((csrc, posixpath.join(dest, posixpath.basename(src)) if into
                            else dest, False))
            else:
                out.append((csrc, posixpath.normpath(posixpath.join(
                    dest, posixpath.relpath(at, src))), into0))
        elif is_dir and _under(src, at):
            sub = posixpath.normpath(posixpath.join(csrc, posixpath.relpath(src, at)))
            if build.is_dir(sub):
                out.append((sub, dest, False))
            elif build.read_text(sub) is not None:
                out.append((sub, posixpath.join(dest, posixpath.basename(src)) if into
                            else dest, False))
    return out


def _under(path: str, top: str) -> bool:
    """``path`` is ``top`` or lies under it."""
    return path == top or top == "/" or path.startswith(top.rstrip("/") + "/")


def _written_by_run(stage: StageInfo, path: str) -> bool:
    """A RUN of the stage's chain writes ``path``: names it as an output
    (``-o``, ``--output``, ``>``) or as the target of ``cp``, ``mv``, ``install``
    or ``ln``, by its absolute path or relative to the RUN's WORKDIR."""
    for s in stage.chain:
        for ins in s.stage.instructions:
            if ins.cmd != "RUN":
                continue
            cwd = workdir_path(s, ins, ".")
            names = {path}
            if _under(path, cwd) and path != cwd:
                rel = posixpath.relpath(path, cwd)
                names |= {rel, "./" + rel}
            alt = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
            if re.search(r"(?:(?:^|\s)(?:-o|--output|--out)(?:\s+|=)|>\s*)['\"]?(?:" + alt +
                         r")(?![\w./-])", ins.logical):
                return True
            for cmd in run_commands(ins):
                args = [a for a in cmd.args_after_name() if not a.startswith("-")]
                if cmd.name in ("cp", "mv", "install", "ln") and len(args) >= 2 and \
                        posixpath.normpath(posixpath.join(cwd, args[-1])) == path:
                    return True
    return False


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
    names = command.names
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


def _own_script(ctx: Context, info: StageInfo, command: _Command,
                copied: list[tuple[str, str, Instruction]]) -> tuple[str, str] | None:
    """(context path, text) of the script that is the command's program itself
    (``ENTRYPOINT ["/entrypoint.sh"]``, ``sh /entrypoint.sh``), as the build
    context holds it; None when the program is not a script the context has."""
    scripts = _scripts(ctx, info, command, copied)
    if not scripts or posixpath.basename(scripts[0][0]) != _program_name(command.program):
        return None
    return scripts[0]


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


def _pod_volumes(ctx: Context, command: _Command) -> list[HostVolume]:
    """The hostPath/nfs volumes of the Kubernetes pods that run this image, read
    once per judgement."""
    if command.volumes is None:
        command.volumes = manifest_volumes(ctx.build, ctx.df.text,
                                           _program_name(command.program))
    return command.volumes


def _runs(ctx: Context, command: _Command) -> list[Invocation]:
    """The documented ``docker run`` lines of this image (usage comments, README,
    Makefiles and scripts beside it, docs pages), read once per judgement."""
    if command.runs is None:
        services = frozenset(m.group(1) for _, block, _ in _services(ctx, command)
                             for m in [re.match(r"\s*['\"]?([\w.-]+)['\"]?\s*:", block)] if m)
        command.runs = documented_runs(ctx.build, ctx.df.text, _df_name(ctx),
                                       _program_name(command.program), services)
    return command.runs


#: a compose short-syntax volume: ``- SRC:DST[:OPTS]``
_COMPOSE_VOLUME = (
    r"^\s*-\s*['\"]?(\.{1,2}(?:/[^:'\"\s]*)?|\$\{?PWD\}?[^:'\"\s]*|~/[^:'\"\s]*|/[^:'\"\s]*):"
    r"(/[^:'\"\s]*)(:[a-z,]+)?['\"]?\s*$")  # with re.M


#: a compose long-syntax volume: ``- type: bind`` and the keys under it
_COMPOSE_LONG = r"^([ \t]*)-[ \t]*type:[ \t]*['\"]?bind['\"]?[ \t]*\n((?:\1[ \t]+\S[^\n]*\n?)*)"  # re.M


def _read_only(options: str | None) -> bool:
    """A compose short-syntax volume's options (``:ro``, ``:ro,z``) make it read-only."""
    return options is not None and "ro" in options.lstrip(":").split(",")


def _compose_volumes(block: str) -> list[tuple[str, str, bool, int]]:
    """(source, target, read-only, offset) of the host mounts of a compose
    service, short (``- ./data:/data:ro``) and long (``type: bind``) syntax."""
    out = [(m.group(1), m.group(2), _read_only(m.group(3)), m.start())
           for m in re.finditer(_COMPOSE_VOLUME, block, re.M)]
    for m in re.finditer(_COMPOSE_LONG, block, re.M):
        keys = dict(re.findall(r"^[ \t]*(\w+):[ \t]*['\"]?([^'\"\n#]*?)['\"]?[ \t]*$",
                               m.group(2), re.M))
        src, dst = keys.get("source", ""), keys.get("target", "")
        if src and dst.startswith("/"):
            out.append((src, dst, keys.get("read_only", "").lower() == "true", m.start()))
    return out


#: a compose service's named volume, short syntax: ``- db-data:/var/lib/app[:ro]``
_COMPOSE_NAMED = (r"(?m)^[ \t]*-[ \t]*['\"]?([A-Za-z0-9][\w.-]*):(/[^:'\"\s]*)(:[a-z,]+)?"
                  r"['\"]?[ \t]*(?:#.*)?$")


def _compose_named_volumes(block: str) -> list[tuple[str, str, bool]]:
    """(volume, target, read-only) of the named volumes a compose service mounts,
    short syntax: what :func:`_compose_volumes` leaves out (a host path starts
    with ``.``, ``/``, ``~`` or ``$``)."""
    return [(m.group(1), m.group(2), _read_only(m.group(3)))
            for m in re.finditer(_COMPOSE_NAMED, block)]


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

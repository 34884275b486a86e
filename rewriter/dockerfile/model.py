"""What a Dockerfile means for its users: stages, ARGs, base families, who runs.

``analyse()`` resolves global ``ARG``s (with ``--build-arg`` overrides) in
``FROM`` lines, links ``FROM <stage>`` chains, finds each stage's base family
(from the family table, else from package-manager evidence in its ``RUN``
lines, else ``unknown``), follows ``USER`` to the effective user at the end of
every stage, and collects the users and groups the file itself creates.

Variable expansion is string substitution only.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from rewriter.core.settings import Settings
from rewriter.dockerfile import families
from rewriter.dockerfile.families import Family, ImageInfo
from rewriter.dockerfile.shell import Command, commands, run_script
from rewriter.dockerfile.syntax import Dockerfile, Instruction, Stage, parse_words

#: The start of a variable: ``$NAME``, ``${NAME}``, or ``${NAME`` and an operator
#: (``:-``, ``-``, ``:+``, ``+``) whose word runs to the next ``}``.  That ``}`` is
#: found with a cached search, not by the pattern: a pattern that looks ahead
#: for it from every ``$`` is quadratic (``${A:-`` twenty thousand times over).
_VAR_HEAD = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(:?[-+])?|([A-Za-z_][A-Za-z0-9_]*))")


#: The most text ``expand`` puts in for variables in one call.  ``ENV A=$A$A``
#: forty times over would otherwise ask for a terabyte; no real value comes near.
MAX_EXPANSION = 64 * 1024


class _TooLong(Exception):
    pass


def expand(text: str, env: dict[str, str]) -> tuple[str, bool]:
    """Substitute ``$X``, ``${X}``, ``${X:-d}``, ``${X-d}``, ``${X:+a}``, ``${X+a}``
    from ``env``; the flag is False when a variable had no value, or when the
    values put in would come to more than ``MAX_EXPANSION`` characters (then
    ``text`` comes back as it is).  String substitution only: nothing is ever
    run or evaluated."""
    if "$" not in text:
        return text, True
    ok = True
    size = 0  #: of what the variables were replaced with

    def sub(name: str, op: str | None, word: str, whole: str) -> str:
        nonlocal size
        out = _sub(name, op, word, whole)
        size += len(out)
        if size > MAX_EXPANSION:
            raise _TooLong
        return out

    def _sub(name: str, op: str | None, word: str, whole: str) -> str:
        nonlocal ok
        val = env.get(name)
        if op in (":-", "-"):
            if val is None or (op == ":-" and val == ""):
                inner, inner_ok = expand(word, env)
                ok = ok and inner_ok
                return inner
            return val
        if op in (":+", "+"):
            if val is None or (op == ":+" and val == ""):
                return ""
            return expand(word, env)[0]
        if val is None:
            ok = False
            return whole
        return val

    try:
        return _substitute(text, sub), ok
    except _TooLong:
        return text, False


def _substitute(text: str, sub: Callable[[str, str | None, str, str], str]) -> str:
    """``text`` with each variable replaced by ``sub(name, op, word, whole)``,
    in one pass (linear in ``text``)."""
    out: list[str] = []
    pos = 0
    close = -1  #: the first ``}`` at or after some earlier place (len: none)
    n = len(text)
    at = text.find("$")
    while at >= 0:
        m = _VAR_HEAD.match(text, at)
        end = -1
        if m is not None:
            if m.group(3) is not None:
                name, op, word, end = m.group(3), None, "", m.end()
            else:
                name, op = m.group(1), m.group(2)
                head_end = m.end()
                if close < head_end:
                    close = text.find("}", head_end)
                    if close < 0:
                        close = n
                if close < n and (op is not None or close == head_end):
                    word, end = text[head_end:close], close + 1
        if end < 0:
            at = text.find("$", at + 1)
            continue
        out.append(text[pos:at])
        out.append(sub(name, op, word, text[at:end]))
        pos = end
        at = text.find("$", end)
    out.append(text[pos:])
    return "".join(out)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _pairs(ins: Instruction, escape: str) -> list[tuple[str, str | None]]:
    """NAME[=value] pairs of an ARG or ENV (ENV's old ``ENV K V`` form too)."""
    words = parse_words(ins.args, escape)
    if ins.cmd == "ENV" and words and "=" not in words[0]:
        parts = ins.args.split(None, 1)
        return [(parts[0], _unquote(parts[1].strip()) if len(parts) > 1 else "")]
    out: list[tuple[str, str | None]] = []
    for w in words:
        if "=" in w:
            k, v = w.split("=", 1)
            out.append((k, _unquote(v)))
        else:
            out.append((w, None))
    return out


#: An ``EXPOSE`` value: ``PORT``, ``PORT/PROTO`` or ``FROM-TO[/PROTO]``.
PORT = re.compile(r"^(\d+)(?:-\d+)?(?:/\w+)?$")


def port_number(value: str) -> int | None:
    """The (first) port of an expanded ``EXPOSE`` value, if it is one."""
    m = PORT.match(value)
    return int(m.group(1)) if m else None


def is_root(user: str | None) -> bool:
    """``None`` (no USER anywhere), ``root``, ``0`` and ``root:*`` / ``0:*`` are root."""
    if user is None:
        return True
    name = user.split(":", 1)[0].strip()
    return name in ("", "root", "0")


def numeric(user: str) -> bool:
    return bool(re.fullmatch(r"\d+(:\d+)?", user))


@dataclass
class CreatedUser:
    """A user a ``RUN`` creates (useradd, adduser)."""

    name: str
    uid: int | None
    gid: int | None
    group: str | None
    ins: Instruction


@dataclass
class StageInfo:
    """What the model knows of one build stage."""

    stage: Stage
    base: str  #: the base reference with ARGs expanded
    base_resolved: bool  #: False when an ARG in FROM has no value
    parent: StageInfo | None  #: the stage this one is built FROM
    image: ImageInfo | None  #: what the family table knows of the external base
    family: Family
    family_source: str  #: table | evidence | parent | unknown
    env: dict[str, str]  #: ARG and ENV values in force at the end of the stage
    users: list[tuple[Instruction, str, bool]] = field(default_factory=list)
    #: (USER instruction, expanded value, resolved)
    created: list[CreatedUser] = field(default_factory=list)  #: by this stage's RUNs
    groups: dict[str, int | None] = field(default_factory=dict)  #: created groups
    #: (strong, weak) families the RUNs of this stage and its ancestors point to,
    #: when the family had to be guessed from them
    evidence: tuple[frozenset[str], frozenset[str]] | None = None

    @property
    def name(self) -> str:
        return self.stage.name

    # These walk the chain in a loop, not by recursion: a file may build a
    # thousand stages each FROM the one before.

    @property
    def start_user(self) -> str | None:
        """Who the stage runs as before its own USER lines."""
        if self.parent is not None:
            return self.parent.final_user
        return self.image.default_user if self.image else None

    @property
    def final_user(self) -> str | None:
        for s in self.chain:
            if s.users:
                return s.users[-1][1]
        root = self.chain[-1]
        return root.image.default_user if root.image else None

    @property
    def final_user_resolved(self) -> bool:
        for s in self.chain:
            if s.users:
                return s.users[-1][2]
        return True

    @property
    def chain(self) -> list[StageInfo]:
        """This stage and its ancestors, nearest first."""
        out: list[StageInfo] = []
        seen: set[int] = set()
        s: StageInfo | None = self
        while s is not None and id(s) not in seen:
            seen.add(id(s))
            out.append(s)
            s = s.parent
        return out

    def chain_instructions(self, *cmds: str,
                           oldest_first: bool = False) -> Iterator[tuple[StageInfo, Instruction]]:
        """The instructions of this stage and its ancestors (of ``cmds`` only,
        when given), each with its stage: nearest stage first, or
        ``oldest_first``; in file order within a stage."""
        chain = reversed(self.chain) if oldest_first else self.chain
        for s in chain:
            for ins in s.stage.instructions:
                if not cmds or ins.cmd in cmds:
                    yield s, ins

    def known_users(self) -> dict[str, CreatedUser]:
        """Users created by this stage or its ancestors, by name."""
        out: dict[str, CreatedUser] = {}
        for s in reversed(self.chain):
            for u in s.created:
                out[u.name] = u
        return out

    def image_users(self) -> dict[str, int]:
        root = self.chain[-1]
        return dict(root.image.users) if root.image else {}


@dataclass
class Model:
    """The stages of a Dockerfile, resolved, and the one that runs."""

    df: Dockerfile
    stages: list[StageInfo]
    runtime: StageInfo | None  #: the target stage (default: the last one)
    meta: dict[str, str]

    @property
    def runtime_chain(self) -> list[StageInfo]:
        return self.runtime.chain if self.runtime else []

    @property
    def nonroot_runtime(self) -> StageInfo | None:
        """The runtime stage when it ends as a non-root user, else None."""
        info = self.runtime
        return None if info is None or is_root(info.final_user) else info


def _script_texts(ins: Instruction) -> list[str]:
    """Shell text a RUN executes: its logical line and its heredoc bodies."""
    if ins.cmd != "RUN" or ins.json:
        return []
    texts = [ins.args]
    texts += [h.content for h in ins.heredocs]
    return texts


#: ``run_commands`` and ``may_run`` keep what they derive (in ``ins.derived``)
#: only for RUNs longer than this or with heredocs; a short one's is made again.
_UNCACHED = 256


def run_commands(ins: Instruction) -> list[Command]:
    """Every simple command of a RUN (its line and heredoc bodies), for reading."""
    if ins.cmd != "RUN" or ins.json:
        return []
    derived = ins.derived if ins.derived is not None else {}
    found = derived.get("run_commands")
    if not isinstance(found, tuple):  # rules ask for the same RUN's commands many times
        script = run_script(ins)
        if script is not None:
            found = script.commands
        else:
            found = tuple(c for text in _script_texts(ins) for c in commands(text).commands)
        if ins.heredocs or len(ins.args) > _UNCACHED:  # see ``may_run``
            derived["run_commands"] = found
            ins.derived = derived
    return list(found)


def _int(v: str | None) -> int | None:
    return int(v) if v is not None and v.isdigit() else None


def _parse_user_command(cmd: Command) -> tuple[str, str, dict[str, str | None]] | None:
    """(kind, name, options) of useradd/adduser/groupadd/addgroup."""
    name = cmd.name
    if name not in ("useradd", "adduser", "groupadd", "addgroup"):
        return None
    args = cmd.args_after_name()
    opts: dict[str, str | None] = {}
    positional: list[str] = []
    takes_value = {"-u", "--uid", "-g", "--gid", "-G", "--groups", "--ingroup", "-s", "--shell",
                   "-h", "--home", "-d", "--home-dir", "-c", "--comment", "--gecos", "-k",
                   "-K", "-e", "-f", "-p", "--password", "--firstuid", "--lastuid"}
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("--") and "=" in a:
            k, v = a.split("=", 1)
            opts[k] = v
        elif a in takes_value and i + 1 < len(args):
            opts[a] = args[i + 1]
            i += 1
        elif a.startswith("-") and not a.startswith("--") and len(a) > 2:
            # getopt's bundled short options: `-ms /bin/bash` is `-m -s /bin/bash`,
            # `-u1000` is `-u 1000`
            for j, letter in enumerate(a[1:], 1):
                flag = "-" + letter
                if flag in takes_value:
                    rest = a[j + 1:]
                    if rest:
                        opts[flag] = rest
                    elif i + 1 < len(args):
                        opts[flag] = args[i + 1]
                        i += 1
                    break
                opts[flag] = None
        elif a.startswith("-"):
            opts[a] = None
        else:
            positional.append(a)
        i += 1
    if not positional:
        return None
    kind = "group" if name in ("groupadd", "addgroup") else "user"
    if name == "adduser" and len(positional) >= 2 and "--ingroup" not in opts:
        # `adduser USER GROUP` adds an existing user to a group.
        return None
    if name == "addgroup" and len(positional) >= 2:
        return None
    return kind, positional[0], opts


_USER_TOOLS = ("useradd", "adduser", "groupadd", "addgroup")
#: What unquoting may remove between the letters of a word (see ``shell``).
_UNQUOTE = str.maketrans("", "", "'\"\\\n")


def may_run(ins: Instruction, programs: tuple[str, ...]) -> bool:
    """False when no command of the RUN ``ins`` can be one of ``programs``: its
    text, with every character that unquoting could drop removed, names none
    of them.  Rules ask this before ``run_commands``, which splits the RUN into
    words and costs far more (a RUN can be thousands of lines long)."""
    if ins.cmd != "RUN" or ins.json:
        return False
    if not ins.heredocs and len(ins.args) <= _UNCACHED:
        # short: made again each time, not kept (a 10 MiB file of one-word RUNs
        # would keep two million dictionaries)
        text = ins.args
        if "'" in text or '"' in text or "\\" in text or "\n" in text:  # most have none
            text = text.translate(_UNQUOTE)
        return any(p in text for p in programs)
    derived = ins.derived if ins.derived is not None else {}
    bare = derived.get("bare")
    if bare is None:
        bare = derived["bare"] = "\0".join(t.translate(_UNQUOTE) for t in _script_texts(ins))
        ins.derived = derived
    return any(p in bare for p in programs)  # type: ignore[operator]


def commands_named(ins: Instruction, program: str) -> Iterator[Command]:
    """The commands of the RUN ``ins`` that run ``program`` (``Command.name``)."""
    if may_run(ins, (program,)):
        for cmd in run_commands(ins):
            if cmd.name == program:
                yield cmd


def _collect_users(info: StageInfo, ins: Instruction) -> None:
    if not may_run(ins, _USER_TOOLS):
        return
    for cmd in run_commands(ins):
        parsed = _parse_user_command(cmd)
        if parsed is None:
            continue
        kind, name, opts = parsed
        if kind == "group":
            info.groups[name] = _int(opts.get("-g") or opts.get("--gid"))
            continue
        prog = cmd.name
        uid = _int(opts.get("-u") or opts.get("--uid"))
        gid: int | None = None
        group: str | None = None
        if prog == "useradd":
            g = opts.get("-g") or opts.get("--gid")
        elif prog == "adduser" and ("-G" in opts or "-D" in opts or "-S" in opts):
            g = opts.get("-G")  # BusyBox: -G is the group, -g the GECOS field
        else:
            g = opts.get("--ingroup") or opts.get("--gid")
        if g is not None:
            if g.isdigit():
                gid = int(g)
            else:
                group, gid = g, info.groups.get(g)
        info.created.append(CreatedUser(name, uid, gid, group, ins))


def analyse(df: Dockerfile, settings: Settings, path: str | None = None) -> Model:
    meta: dict[str, str] = {}
    for ins in df.meta_args:
        for k, v in _pairs(ins, df.escape):
            if k in settings.build_args:
                meta[k] = settings.build_args[k]
            elif v is not None:
                meta[k] = expand(v, meta)[0]
    infos: list[StageInfo] = []
    by_name: dict[str, StageInfo] = {}
    table = families.table_for(settings)
    bases: dict[str, tuple[str, bool]] = {}  #: each FROM's reference expanded, once a file
    for stage in df.stages:
        if stage.base not in bases:
            bases[stage.base] = expand(stage.base, meta)
        base, ok = bases[stage.base]
        parent = by_name.get(base.lower()) if ok else None
        image = None
        if parent is not None:
            fam, source = parent.family, "parent"
            env = dict(parent.env)
        else:
            image = families.lookup(base, table) if ok else None
            env = dict(image.env) if image is not None else {}
            if image is not None:
                fam, source = image.family, "table"
            else:
                fam, source = families.family("unknown", table), "unknown"
        info = StageInfo(stage, base, ok, parent, image, fam, source, env)
        stage_args: dict[str, str] = {}
        for ins in stage.instructions:
            if ins.cmd == "ARG":
                for k, v in _pairs(ins, df.escape):
                    if k in settings.build_args:
                        stage_args[k] = settings.build_args[k]
                    elif v is not None:
                        stage_args[k] = expand(v, {**env, **stage_args})[0]
                    elif k in meta:
                        stage_args[k] = meta[k]
                env.update(stage_args)
            elif ins.cmd == "ENV":
                for k, v in _pairs(ins, df.escape):
                    if v is not None:
                        env[k] = expand(v, env)[0]
            elif ins.cmd == "USER":
                value, resolved = expand(_unquote(ins.args.strip()), env)
                info.users.append((ins, value, resolved))
            elif ins.cmd == "RUN":
                _collect_users(info, ins)
        if info.family.name == "unknown":
            # what this stage runs, with what its ancestors run: the parent's
            # union is kept, so a long chain of stages costs no more per stage
            strong, weak = families.evidence(
                (t for i in stage.instructions for t in _script_texts(i)), table)
            if parent is not None and parent.evidence is not None:
                strong, weak = strong | parent.evidence[0], weak | parent.evidence[1]
            info.evidence = (strong, weak)
            found = families.family_for_evidence(strong, weak, table)
            if found is not None:
                info.family, info.family_source = found, "evidence"
        infos.append(info)
        if stage.alias:
            by_name[stage.alias.lower()] = info
    runtime = _target(infos, settings.target)
    return Model(df, infos, runtime, meta)


def _target(infos: list[StageInfo], target: str | None) -> StageInfo | None:
    if not infos:
        return None
    if target is None:
        return infos[-1]
    for info in infos:
        if info.stage.alias and info.stage.alias.lower() == target.lower():
            return info
    if target.isdigit() and int(target) < len(infos):
        return infos[int(target)]
    return None


def abspath(path: str) -> str:
    """``posixpath.normpath``, with a leading ``//`` made ``/`` as Docker reads
    it (``WORKDIR /$HOME`` with an absolute ``$HOME``): POSIX keeps the ``//``,
    and its ``dirname`` is itself."""
    path = posixpath.normpath(path)
    return "/" + path.lstrip("/") if path.startswith("//") else path


def workdir_path(stage: StageInfo, ins: Instruction, path: str) -> str:
    """``path`` made absolute against the WORKDIR in force at ``ins``."""
    cwds = stage.__dict__.get("_cwds")
    if cwds is None:  # once per stage: rules ask this for every instruction
        cwds = stage.__dict__["_cwds"] = _workdirs(stage)
    cwd = cwds.get(id(ins))
    if cwd is None:  # not an instruction of this stage
        cwd = "/"
        for s in reversed(stage.chain):
            for i in s.stage.instructions:
                if i is ins:
                    break
                if i.cmd == "WORKDIR":
                    cwd = posixpath.join(cwd, expand(_unquote(i.args.strip()), s.env)[0])
    return abspath(posixpath.join(cwd, path))


def _workdirs(stage: StageInfo) -> dict[int, str]:
    """The WORKDIR in force at each instruction of ``stage`` (by ``id``)."""
    cwd = "/"
    for s in reversed(stage.chain[1:]):
        for i in s.stage.instructions:
            if i.cmd == "WORKDIR":
                cwd = posixpath.join(cwd, expand(_unquote(i.args.strip()), s.env)[0])
    out: dict[int, str] = {}
    for i in stage.stage.instructions:
        out[id(i)] = cwd
        if i.cmd == "WORKDIR":
            cwd = posixpath.join(cwd, expand(_unquote(i.args.strip()), stage.env)[0])
    return out

"""The users around the image: the account a daemon switches to itself
(``memcached -u daemon``), whether the program needs a login shell, the name a new
user takes after the program, and the users that scripts of the build context
create.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from rewriter.dockerfile.analysis import Context
from rewriter.dockerfile.model import StageInfo, _parse_user_command
from rewriter.dockerfile.shell import Command, commands
from rewriter.dockerfile.judge.knowledge import knowledge
from rewriter.dockerfile.judge.evidence import _cite, _command, _SCRIPT_NAME, _WRAPPERS
from rewriter.dockerfile.judge.context import _run_scripts
from rewriter.dockerfile.judge.packages import _package_install


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
    return bool(_command(info).names & knowledge().login_shell_programs)


def taken_names(info: StageInfo) -> set[str]:
    """The user and group names the image or the file already has: a new
    user must not take one of them (its `groupadd` would fail)."""
    taken = set(info.image_users()) | {u.name for u in info.known_users().values()}
    for s in info.chain:
        taken |= set(s.groups)
    return taken


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
    taken = taken_names(info)
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
    if any(i.cmd == "EXPOSE" for st in info.chain for i in st.stage.instructions) and \
            _package_install(info, (name,)) is not None:
        return None  # so does a service's (Alpine's `tinyproxy`, `icecast`): a second group fails
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


def script_users(ctx: Context, info: StageInfo) -> list[ContextUser]:
    """Users created by scripts the file copies in from its context and runs
    in a RUN (``COPY install.sh /tmp/`` then ``RUN sh /tmp/install.sh``)."""
    return [u for _, _, path, text in _run_scripts(ctx, info)
            for u in _users_in_script(path, text)]


#: the process user of an OCI runtime spec (``"user": {"uid": 996, "gid": 994}``)
_SPEC_USER = re.compile(r'"user"\s*:\s*\{[^{}]*?"uid"\s*:\s*(\d+)\s*,\s*"gid"\s*:\s*(\d+)')
#: the files an Atomic system container ships beside its Dockerfile: runc runs the
#: image with that spec, whose ``process.user`` is the account meant for it
_SPEC_FILES = ("config.json.template", "config.json")


def spec_user(ctx: Context) -> ContextUser | None:
    """The non-root user the image's own OCI runtime spec runs its process as
    (an Atomic system container's ``config.json.template`` beside the
    Dockerfile, ``"process": {"user": {"uid": 996, "gid": 994}}``): the ids of
    the account the image is made for, whose files its package set up."""
    build = ctx.build
    if build is None or not build.dockerfile:
        return None
    here = posixpath.dirname(build.dockerfile)
    for name in _SPEC_FILES:
        path = posixpath.join(here, name) if here else name
        text = build.read_text(path)
        if not text or '"ociVersion"' not in text or '"process"' not in text:
            continue
        m = _SPEC_USER.search(text)
        if m and int(m.group(1)) != 0:
            line = text.count("\n", 0, m.start()) + 1
            return ContextUser("", int(m.group(1)), int(m.group(2)),
                               f"{path}:{line}: {text.splitlines()[line - 1].strip()}")
    return None


def device_groups(info: StageInfo) -> list[str]:
    """The groups a new user joins to keep a desktop app's host devices
    (``audio``: /dev/snd, ``video``: /dev/dri), in ``judge.toml``'s order: for
    the packages the file installs and the program the container runs."""
    k = knowledge()
    names = _command(info).names
    return [g for g, (packages, programs) in k.device_groups.items()
            if names & programs or _package_install(info, packages) is not None]

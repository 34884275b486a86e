"""Checks of what the process needs root for when it starts: a program only root may
execute, a setuid program, a daemon or root-only work in the command or its
entrypoint scripts (``chown``, writes into /etc, services, packages, kernel
settings), a program that refuses to run as another user, a cron daemon, a
sub-command that needs root, or a service whose package owns its files.
"""

from __future__ import annotations

import functools
import posixpath
import re
from dataclasses import dataclass

from rewriter.core.globs import fnmatch
from rewriter.dockerfile.analysis import Context
from rewriter.dockerfile.model import StageInfo, expand, workdir_path
from rewriter.dockerfile.paths import command_parts, final_workdir, program_words
from rewriter.dockerfile.shell import form_words, programs
from rewriter.dockerfile.syntax import Instruction
from rewriter.dockerfile.judge.knowledge import Judgement, _Knowledge, _Service, knowledge
from rewriter.dockerfile.judge.documented import _judged_command
from rewriter.dockerfile.judge.evidence import (
    _cite, _Command, _in_code_comment, _in_shell_comment, _ins_cite, _is_shell, _language,
    _overrides_command, _program_name, _SHELLS)
from rewriter.dockerfile.judge.context import _files_under, _in_context, _scripts
from rewriter.dockerfile.judge.packages import _file_packages, _package_install
from rewriter.dockerfile.judge.source import _program_sources
from rewriter.dockerfile.judge.users import _BIN_DIRS
from rewriter.dockerfile.judge.groupzero import joins_group_zero
from rewriter.dockerfile.judge.host import _docker_client


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
            if ins.cmd != "RUN" or "chmod" not in ins.logical:  # quick, for a long RUN
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
            if ins.cmd == "RUN" and "chmod" in ins.logical and re.search(
                    r"\bchmod\s+(?:-\w+\s+)*(?:[ugoa]*\+[rwx]*s|[4-7][0-7]{3})\b", ins.logical):
                return Judgement("setuid-program", "other",
                                 "the file makes a program setuid: what the image does is about "
                                 "privileges, so a USER line changes its meaning",
                                 (_ins_cite(ctx, ins),))
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


def _holding(info: StageInfo, own: Instruction, word: str) -> Instruction:
    """The ENTRYPOINT or CMD in force that holds ``word`` of the command (a
    program the CMD hands an entrypoint script: ``ENTRYPOINT ["/run.sh"]``,
    ``CMD ["php5-fpm"]``), else ``own``, the command's instruction."""
    return next((ins for ins, s in command_parts(info)
                 if any(expand(v, s.env)[0] == word for v in form_words(ins))), own)


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
                words = set(_file_packages(expand(ins.logical, s.env)[0]))
                # (the words by name only when the RUN holds one: quick, for a long RUN)
                if any(name in ins.logical for name in k.docker_cli) and re.search(
                        r"\b(?:apt-get|apt|apk|yum|dnf|microdnf|zypper)\b[^;&|]*\binstall\b|"
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
            if ins.cmd == "RUN" and "group" in body and re.search(
                    r"\b(?:groupadd|addgroup)\b[^;&|\n]*\sdocker[ \t]*(?:$|[;&|\n])", body, re.M):
                return Judgement("needs-devices", "app",
                                 "it creates a `docker` group, the group that may open the host's "
                                 "Docker socket: the container talks to the Docker daemon, whose "
                                 "socket's group on the host need not match", (_ins_cite(ctx, ins),))
    if command.ins is not None:
        j = _docker_client(ctx, command, copied, k) or _root_subcommand(ctx, command, copied, k)
        if j is not None:
            return j
        for w in command.words[:6]:
            if _program_name(w) in k.root_programs:
                return Judgement("entrypoint-needs-root", "app",
                                 f"the container runs `{_program_name(w)}`, which needs root",
                                 (_ins_cite(ctx, _holding(info, command.ins, w)),))
        joined = " ".join(command.words)
        for rx, what in _SCRIPT_ROOT:
            m = _root_work(ctx, info, rx, what, joined)
            if m and "exec" not in what:
                return Judgement("entrypoint-needs-root", "app",
                                 f"the command {what}, which needs root",
                                 (_ins_cite(ctx, command.ins),))
        if not command.ins.json and command.documented is None:
            # a shell-form command is a script of its own: a root-only daemon it
            # starts before the program (`dbus-daemon --system && avahi-daemon -D && app`)
            work = _start_work(ctx, info, command.ins.args, k, "command.sh")
            if work is not None and work[0].startswith("starts"):
                return Judgement("entrypoint-needs-root", "app",
                                 f"the command {work[0]}, which needs root",
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
    names = command.names
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


#: arguments that leave the sub-command to ``docker run``
_HELP_ARGS = frozenset({"--help", "-h", "-help", "help", "--version", "-v", "version"})


def _root_subcommand(ctx: Context, command: _Command,
                     copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """A CLI whose sub-command needs root (``nomad agent``, ``vault server``):
    named in the command, or left to ``docker run`` by an image whose command
    is the bare CLI; not with a flag that turns the need off (``vault server
    -dev``), nor when a config the file copies in does (``disable_mlock =
    true``)."""
    assert command.ins is not None
    prog = _program_name(command.program)
    entry = k.root_subcommands.get(prog)
    if not entry or command.program not in command.words:
        return None
    rest = command.words[command.words.index(command.program) + 1:]
    if any(w.split("=", 1)[0] in entry.unless for w in rest):
        return None
    if entry.unless_config and ctx.build is not None:
        rx = re.compile(entry.unless_config, re.M)
        for src, _, _ in copied:
            for f in _files_under(ctx.build, src, 50):
                text = ctx.build.read_text(f)
                if text is not None and rx.search(text):
                    return None
    args = [w for w in rest if not w.startswith("-")]
    sub = sorted(entry.names)[0]
    needs = f"which {entry.why}" if entry.why else "which needs root"
    if args and args[0] in entry.names:
        what = f"the container runs `{prog} {args[0]}`, {needs}"
    elif all(w in _HELP_ARGS for w in rest):
        what = (f"the image is the bare `{prog}` CLI, run as `{prog} {sub}` (chosen at "
                f"`docker run`), {needs}")
    else:
        return None
    return Judgement("entrypoint-needs-root", "app", what, (_ins_cite(ctx, command.ins),),
                     f"if the image only runs other `{prog}` sub-commands, add USER by hand")


@dataclass(frozen=True)
class PackagedService:
    """A service the container runs from a distribution package that creates
    its own account: the program, the package and the ``RUN`` installing it,
    and the account for the image's family (None when unknown there)."""

    service: _Service
    program: str
    package: str
    install: Instruction
    user: str | None
    #: ``judge.toml`` knows the service works as that account in the image's family
    reusable: bool
    #: a step that puts a file into the package's config or edits it (``sed -i``):
    #: where the service keeps its data is then the build's, not the package's
    config_step: Instruction | None
    #: the command gives the program a config file (its first argument)
    config_argument: bool
    #: the command names where it keeps its data (a flag of ``data_flags``)
    data_flag: bool


def packaged_service(info: StageInfo, command: _Command, k: _Knowledge) -> PackagedService | None:
    """The packaged service the command runs (``redis-server`` installed by
    ``apt-get install redis-server``), or None."""
    if command.ins is None:
        return None
    prog = _program_name(command.program)
    for sv in k.services:
        if prog not in sv.programs:
            continue
        hit = _package_install(info, sv.packages)
        if hit is not None:
            words = program_words(info)
            user = sv.users.get(info.family.name)
            return PackagedService(sv, prog, hit[1], hit[0], user,
                                   user is not None and info.family.name in sv.reuse,
                                   _config_step(info, sv.config),
                                   len(words) > 1 and not words[1].startswith("-"),
                                   any(w.split("=", 1)[0] in sv.data_flags for w in words[1:]))
    return None


def _config_step(info: StageInfo, config: tuple[str, ...]) -> Instruction | None:
    """The step of the stage that copies a file into the package's config
    (``config``: its paths) or names it in a ``RUN`` (``sed -i``, ``>>``)."""
    def inside(path: str) -> bool:
        path = path.rstrip("/") or "/"
        return any(path == c or path.startswith(c + "/") or c.startswith(path + "/")
                   for c in config)

    for ins in info.stage.instructions:
        if ins.cmd in ("COPY", "ADD") and ins.values:
            if inside(workdir_path(info, ins, expand(ins.values[-1], info.env)[0])):
                return ins
        elif ins.cmd == "RUN" and any(inside(p) for p in re.findall(r"/[\w./-]+", ins.logical)):
            return ins
    return None


def running_packaged_service(ctx: Context, info: StageInfo) -> PackagedService | None:
    """:func:`packaged_service` of the command the judgement reads."""
    k = knowledge()
    return packaged_service(info, _judged_command(ctx, info, k), k)


def _packaged_service(ctx: Context, info: StageInfo, command: _Command,
                      copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """The container runs a service from a distribution package that creates its own
    account and gives it the config and data: a new uid cannot read them."""
    found = packaged_service(info, command, k)
    if found is None or command.ins is None:
        return None
    sv, prog, user = found.service, found.program, found.user
    users = f"`{user}`" if user else " or ".join(
        f"`{u}` ({f})" for f, u in sv.users.items() if f != "ubuntu")
    evidence: tuple[str, ...] = (_ins_cite(ctx, found.install), _ins_cite(ctx, command.ins))
    hint = (f"add `USER {user or 'the package user'}` (the package's own account) once its "
            "config and data paths are checked")
    if found.config_step is not None and found.reusable:
        # the account would be chosen, but for the config the build changes
        if found.config_step is not found.install:
            evidence += (_ins_cite(ctx, found.config_step),)
        hint = (f"the build changes the package's config (line {found.config_step.start_line}): "
                f"make the paths it names `{user}`'s, then add `USER {user}`")
    return Judgement("packaged-service-user", "app",
                     f"the container runs `{prog}` from the `{found.package}` package, which "
                     f"creates its own account ({users}) and gives it the service's config and "
                     "data: a new user outside that group cannot read them",
                     evidence, hint)
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

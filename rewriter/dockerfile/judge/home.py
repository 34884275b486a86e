"""Checks of root's home: files the build leaves in ``/root`` (tool configs,
caches, homes of language tools) for the program to use later, and scripts that
read or write there.
"""

from __future__ import annotations

import re

from rewriter.dockerfile.analysis import Context
from rewriter.dockerfile.model import StageInfo, is_root, expand, workdir_path
from rewriter.dockerfile.paths import final_workdir, writable_dirs
from rewriter.dockerfile.rehome import WRITE_INTO
from rewriter.dockerfile.syntax import Instruction
from rewriter.dockerfile.judge.knowledge import Judgement, _Knowledge
from rewriter.dockerfile.judge.evidence import (
    _cite, _Command, _df_name, _env_pairs, _in_shell_comment, _ins_cite, _program_name)
from rewriter.dockerfile.judge.context import _copied_sources, _run_makefiles, _runs, _scripts
from rewriter.dockerfile.judge.writes import _WRITE


#: a build step that leaves files in root's home for the program to use later
_ROOT_HOME_WRITE = (
    WRITE_INTO + r"(?:/root|~|\$HOME|\$\{HOME\})/[\w.-]"
    r"|\bpip3?\s+install\s[^;&|\n]*--user\b|\bcabal\s+(?:v\d-)?install\b|"
    r"\bvagrant\s+plugin\s+install\b|\bstack\s+install\b|"
    r"\bnpm\s+config\s+set\s+prefix\s*=?\s*['\"]?(?:/root|~|\$HOME|\$\{HOME\})(?:/|['\"\s]|$)")
#: what a text must hold for ``_ROOT_HOME_WRITE`` to match: looked for first, as
#: the search is slow on a RUN of thousands of lines
_ROOT_HOME_WRITE_NEEDS = ("/root", "~", "$HOME", "${HOME}", "--user", "cabal", "vagrant",
                          "stack", "npm")
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
    # rake-compiler builds the cross-compiling Rubies into ~/.rake-compiler and
    # writes its config.yml there, which `rake native gem` reads back (no setting
    # moves it: a build that wants it elsewhere moves the directory)
    (r"\brake-compiler\s+cross-ruby\b",
     r"\b(?:mv|cp\s+-\w*r\w*)\s+(?:/root|~|\$HOME|\$\{HOME\})/\.rake-compiler\b",
     "the cross-compiling Rubies and their config.yml under /root/.rake-compiler"),
    # Superset and Airflow keep their SQLite metadata database (users, dashboards,
    # DAG runs) in the home unless told where: ~/.superset, ~/airflow
    (r"\bsuperset\s+(?:db\s+upgrade|init|load_examples|fab\s+create-admin)\b|"
     r"\bfabmanager\s+create-admin\b",
     r"\bSUPERSET_HOME\b|\bSQLALCHEMY_DATABASE_URI\b|\bSUPERSET_CONFIG_PATH\b",
     "the metadata database under /root/.superset"),
    (r"\bairflow\s+(?:initdb|db\s+(?:init|migrate|upgrade)|users\s+create)\b",
     r"\bAIRFLOW_HOME\b|\bAIRFLOW__(?:CORE|DATABASE)__SQL_ALCHEMY_CONN\b",
     "the metadata database under /root/airflow"),
)
#: the tools of ``_HOME_TOOLS``: a step names one of them
_HOME_TOOL_NAMES = ("pipenv", "poetry", "rake-compiler", "superset", "fabmanager", "airflow")
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
#: the tools of ``_HOME_CONFIG_TOOLS``: a step names one of them
_HOME_CONFIG_TOOL_NAMES = ("vncpasswd", "x11vnc", "ssh-keygen", "git")
#: a settings entry the build writes at ``/`` for a HOME of ``/`` (``mkdir /.vnc``)
_SLASH_HOME_WRITE = (
    r"(?:\b(?:mkdir|cp|mv|ln|install|touch|tee)\b[^;&|\n]*\s|>>?\s*|\s-storepasswd\s+\S+\s+)"
    r"['\"]?/(\.[\w][\w.-]*)")
#: home entries that are only caches or a shell's own files: losing them breaks nothing
_HOME_CACHES = frozenset({".cache", ".npm", ".pip", ".yarn", ".bashrc", ".profile", ".bash_profile",
                          ".zshrc", ".inputrc", ".wget-hsts", ".dockerenv"})


def _names(text: str, words: tuple[str, ...]) -> bool:
    """``text`` holds one of ``words``: a quick test before the patterns that
    need one (a search is slow on a RUN of thousands of lines)."""
    return any(w in text for w in words)


def _home_config(info: StageInfo, ins: Instruction, reads: str) -> str | None:
    """What a build step leaves in root's home (or at ``/`` when HOME is ``/``)
    that the program it runs reads back: a tool's settings (``x11vnc
    -storepasswd``, ``git config --global``), when the container's command or
    its scripts name the tool the entry is for (``.vnc``: ``vncserver``)."""
    home = info.env.get("HOME")
    for step, entry in _HOME_CONFIG_TOOLS if _names(ins.logical, _HOME_CONFIG_TOOL_NAMES) else ():
        m = re.compile(step).search(ins.logical)
        if m and (home is None or home.rstrip("/") == "/root") and \
                re.search(rf"(?i)(?<![a-z]){re.escape(entry.lstrip('.').removesuffix('config'))}", reads):
            return f"`{m.group(0).strip()}` writes root's `~/{entry}`"
    if (home is None or home.rstrip("/") == "") and "/." in ins.logical:
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
    env = None  # the stage's ENV and RUN text, joined only when a step is found
    for step, elsewhere, lands in _HOME_TOOLS if _names(text, _HOME_TOOL_NAMES) else ():
        for m in re.compile(step).finditer(text):
            if _in_shell_comment(text, m.start()):
                continue
            if env is None:
                env = " ".join(i.args for s in info.chain for i in s.stage.instructions
                               if i.cmd in ("ENV", "RUN")) + "\n" + settings
            if not re.compile(elsewhere).search(env):
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
        for m in re.compile(_ROOT_HOME_WRITE).finditer(text) \
                if _names(text, _ROOT_HOME_WRITE_NEEDS) else ():
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
        if run.path == _df_name(ctx):
            continue  # the file's own usage comment: DF001 moves its mounts into the user's home
        mount = next((m for m in run.mounts if m.target.rstrip("/") == "/root"
                      or m.target.startswith("/root/")), None)
        if mount is not None and not (run.user and not is_root(run.user)):
            return Judgement("root-home", "app",
                             f"its documented `docker run` mounts `{mount.source or 'a volume'}` "
                             f"at `{mount.target}`, inside root's home (mode 700): another user "
                             "cannot reach the mounted data", (run.cite(mount.target),),
                             "mount it under the new user's home (and say so in the usage), "
                             "then add USER")
    cred = k.home_credentials.get(_program_name(command.program))
    if cred is not None and command.ins is not None and not any(v in info.env for v in cred[1]):
        where = cred[0]
        return Judgement("root-home", "app",
                         f"`{_program_name(command.program)}` keeps its users' credentials in "
                         f"`~/{where}`, and the users of a CLI image mount theirs from the host "
                         f"at `/root/{where}` (its vendor's own image runs as root for it): "
                         "under a new user with another home, every such run would lose them",
                         (_ins_cite(ctx, command.ins),),
                         "keep the image as root, or add USER by hand and tell its users the "
                         f"new mount point (`/home/USER/{where}`)")
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
    # the HOME of the build's steps: root's, until an ENV sets another (then
    # `~` and `$HOME` are that, and a tool's defaults land there)
    home_is_root = True
    reads: str | None = None  # the container's command and scripts, read once
    for s in reversed(info.chain):  # in build order, with the USER in force
        for ins in s.stage.instructions:
            what = None
            if ins.cmd == "USER":
                user = ins.args.strip() or "root"
            elif ins.cmd == "ENV":
                for key, value in _env_pairs(ins):
                    if key == "HOME":
                        home_is_root = expand(value, s.env)[0].rstrip("/") in ("", "/root")
            if not is_root(expand(user, s.env)[0]):
                continue
            if ins.cmd in ("COPY", "ADD") and len(ins.values) >= 2:
                dest = workdir_path(s, ins, expand(ins.values[-1], s.env)[0])
                if dest == "/root" or dest.startswith("/root/"):
                    what = f"copies files into `{dest}`"
            elif ins.cmd == "RUN":
                m = next((m for m in re.compile(_ROOT_HOME_WRITE).finditer(ins.logical)
                          if home_is_root or "/root" in m.group(0)), None) \
                    if _names(ins.logical, _ROOT_HOME_WRITE_NEEDS) else None
                edit = next((e for e in re.compile(_ROOT_HOME_EDIT).finditer(ins.logical)
                             if home_is_root or e.group(1).startswith("/root")), None) \
                    if _names(ins.logical, ("sed", "perl")) else None
                if m:
                    what = f"installs into root's home (`{m.group(0).strip()}`)"
                elif edit:
                    what = f"edits a file in root's home (`{edit.group(1)}`) for the program"
                elif home_is_root:
                    what = _home_tool(info, ins)
                if what is None and "make" in ins.logical and \
                        re.search(r"\bg?make\b", ins.logical):
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
            if ins.cmd != "RUN" or not any(t in ins.logical for t in targets):
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


def copied_file_in_root(ctx: Context, info: StageInfo) -> Judgement | None:
    """A file of the context that the runtime stage copies into root's home by
    name names ``/root`` itself (``root.dir = /root/.tool/data`` in the tool's
    settings): moving the home into a new user's would leave what it points at
    behind, where that user cannot enter."""
    build = ctx.build
    if build is None:
        return None
    own = {id(i) for i in info.stage.instructions}
    for src, dest, ins in _copied_sources(ctx, info, through=False):
        if id(ins) not in own or not (dest == "/root" or dest.startswith("/root/")):
            continue
        if build.is_dir(src):
            continue  # a folder's files are not read one by one: the app's own, not settings
        text = build.read_text(src) or ""
        m = re.compile(_ROOT_PATH).search(text) if "/root" in text else None
        if m is not None:
            path = src
            return Judgement("root-home", "app",
                             f"`{path}`, which the build copies into root's home, names "
                             f"`{m.group(0)}` itself: moved into a new user's home, it "
                             "would still point into /root, which that user cannot enter",
                             (_cite(path, text, m.start()),),
                             "point it at the user's home, then add USER")
    return None

"""DF001 missing-nonroot-user

## What it does
Finds a runtime stage (the `--target`, default the last stage) whose container
would run as root, and makes it run as a dedicated non-root user with a fixed,
numeric UID/GID.

## Why is this bad?
A process running as root inside a container is root on the files it can reach
and one kernel or runtime bug away from root on the host. Kubernetes'
`runAsNonRoot` also needs a numeric `USER` to verify anything.

## Example
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl
COPY app /app
CMD ["/app/run"]
```

Use instead:
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl
COPY app /app
RUN groupadd --system --gid 10001 appgroup \\
    && useradd --system --no-log-init --uid 10001 --gid 10001 --create-home \\
       --home-dir /home/appuser --shell /usr/sbin/nologin appuser
USER 10001:10001
CMD ["/app/run"]
```

## What it writes, by family
- alpine/busybox: `addgroup -S -g GID` / `adduser -S -D -h /home/USER -u UID -G GROUP`
  (BusyBox `-g` is the GECOS field, never the group);
- debian/ubuntu: `groupadd --system` / `useradd --system --no-log-init
  --create-home --home-dir /home/USER`;
- rhel-like and suse: `groupadd -r` / `useradd -r -l -m -d /home/USER`; `-minimal` images get
  `shadow-utils` from `microdnf` first;
- every new user gets a home, `/home/USER`, owned by it: programs keep caches
  and settings under `$HOME` (`~/.cache`, `~/.config`), and a system account
  has none by default;
- distroless and chainguard: no `RUN` (no shell): `USER 65532:65532`, the
  `nonroot` user they ship;
- a stage of a cross-building file (`FROM --platform=$BUILDPLATFORM` for the
  others) that runs no `RUN`, has no directory to own and runs a compiled
  program (not a JVM, Python or Node, which look their user up for a home):
  `USER UID:GID` only,
  since a user block would be its first step to run the target platform's
  binaries (emulation);
- ubi-micro and RHEL Atomic (a shell, but no `useradd` and no package manager
  that can install one without a subscription): `USER UID:GID` for a compiled
  program, which needs no passwd entry, its directories chowned in a `RUN`; a
  runtime there (a JVM, Python, Node looks its user up for a home) is left to
  an unsafe fix;
- scratch: `USER UID:GID` only (numeric ids need no passwd entry); so do the
  old `busybox:ubuntu-*`/`debian-*` tags, a distribution's busybox-static built
  without the adduser/addgroup applets (their directories are chowned in a `RUN`);
- a user the file already creates, or a dedicated user the base image ships
  (`node`: 1000), is reused instead of creating a second one; an Atomic system
  container whose runtime spec beside the Dockerfile (`config.json.template`)
  runs its process as a non-root uid runs as those ids (`USER 996:994`), the
  account its package set up;
- a service a distribution package installs with an account of its own
  (`redis-server`: `redis`), which `judge.toml` `[[services]]` `reuse` says
  runs in the foreground as that account with the package's config, runs as
  it (`USER redis`), when the build leaves that config as it is; the
  directories it writes outside the package's own (a `VOLUME`, a `WORKDIR`
  it saves into) become the account's, and a service that keeps its data in
  the working directory (`cwd`) works in the package's data directory when
  the file sets no `WORKDIR` (`WORKDIR /var/lib/redis`) and its command names
  no data directory (`--dir`) or config file;
- a new user takes the name `ENV USER` gives it when no account has that
  name and `HOME` is unset or `/home/NAME` (`ENV USER jovyan`: `jovyan`);
  otherwise it is named after the program the container runs when that is a
  plain installed program (`ENTRYPOINT ["firefox"]`: `firefox`, home
  `/home/firefox`) that no build step other than a package install names
  (an install script may have made an account of that name: `td-agent`) and
  that is not a daemon named `*d` (`qpidd`, `nscd`: its package often makes
  an account of that name, and a second `groupadd` of it fails), nor a
  service (it has `EXPOSE`) installed by a package of its own name (Alpine's
  `tinyproxy`, `icecast` make theirs the same way), nor a
  launcher of something else (`startxfce4`, `startfirefox`), else
  `appuser` (`--user`/`--group` choose);
- an image made for OpenShift's arbitrary uid (the build gives group 0 write:
  `chgrp -R 0 /x && chmod -R g=u /x`, `chmod g+w /etc/passwd`, in a `RUN` or a
  script from the context a `RUN` runs): the user's primary group is root's
  (`useradd -g 0`, BusyBox `adduser -G root`, no new group) and `USER UID:0`;
  those paths are not chowned again (an explicit `--gid` wins);
- a desktop app joins the groups of the host devices it is run with
  (`--device /dev/snd`: `audio`; `/dev/dri`: `video`) when the file installs
  a sound system or a GPU driver (`apulse`, `alsa-utils`, `libgl1-mesa-dri`,
  `mesa-dri-*`) or runs a browser or player (`firefox`, `chromium`, `vlc`;
  `[device_groups]` in `judge.toml`), on Debian, Ubuntu, Alpine and RHEL
  images, which all have both groups;
- its shell is the family's `nologin`, except for a program that starts its
  user's login shell (a terminal emulator, `tmux`, `screen`, a web terminal,
  a desktop session such as `startxfce4`):
  `/bin/sh`, or every new terminal would close at once.

The user block goes after the last build step (`RUN`, `COPY`, `ADD`,
`WORKDIR`) so every step still runs as it did; `USER` follows it, before
`CMD`/`ENTRYPOINT`. A stage built FROM the fixed one (the fixed one is a
`--target` that a later test or development stage extends) starts with
`USER root` (unless its first instruction is a `USER`), so its steps still
run, and it runs, as before. `VOLUME` paths are created and given to the user in the
same block, and so are the directories its documented runs (a README, a usage
comment) or a compose service that builds it mount a named or anonymous volume
at (`-v notes-data:/var/lib/notes`, `- notes-data:/var/lib/notes`:
a new volume takes its mount point's owner from the image; not a host
directory, nor a name that stands for one, `-v repo_dir_on_host:/repo`), a
`HOME` the file sets (`ENV HOME=/webex`, which wins over the user's own home),
the directories the base image's program writes in its own install, which
that image leaves root-owned (Tomcat's `logs`, `work`, `temp` and the
`webapps` it unpacks WARs in; `[images] writes` in judge.toml),
a directory the command names for its data that nothing makes (`--data-dir=/data`,
`--data-dir=/var/lib/NAME`, `--spool-root /var/spool/NAME`), and the directory of a pid or log file that the
build puts into a configuration (`sed -i 's@logfile .*@logfile
/var/log/kvd/kvd.log@'`, `echo "pidfile /srv/kvd/kvd.pid" >> kvd.conf`; one in
`/run`, `/var/log` or `/` themselves is declined instead); in a stage without a shell, the `COPY` that
creates such a directory gets `--chown` instead (or the rule declines).
A `VOLUME` the build puts files in (a `COPY` into it, `mv *.pem $DATA`,
`tool init --dir=$DATA`, `echo seed > $DATA/state`) is given to the user with everything in it
(`chown -R`): what it holds is the volume's first data, which the program
writes; one under `/etc` (a configuration the program reads) is not.
A shared scratch directory (`VOLUME /tmp`, `/var/tmp`, `/dev/shm`) keeps its
owner: every user may write it already. A Python virtual environment the
command runs a program of (`/venv/bin/python app.py`) is read, not written,
so it is not owned with the app's trees; nor is a directory that holds only
the compiled program itself (`COPY --from=build /out/server /app/server`,
`CMD ["/app/server"]`): it does not write beside itself, and the user would
only get to rewrite its own binary. A directory made under `/tmp` is no data
directory to own: every user may write there already.

A usage comment of the file that mounts host data inside root's home
(`# docker run -v $HOME/Pictures:/root/Pictures img`), where the new user could
not reach it, is moved into that user's home in the same comment
(`/home/node/Pictures`) when the mount is read-only (`:ro`) or the user's uid is
1000 (the base image's `node`): the first user's uid on most Linux hosts, so the
host files it brings stay writable. A read-write mount for another uid, or a
user whose home is not known, declines (`root-home`).

An image that keeps what its program reads in root's home (mode 700: no
other user may enter it) has it moved to the new user's home when the fix
creates that user and every use of `/root` in the runtime stage is one the
move covers: `ENV HOME /root`, a `WORKDIR` there, the destination of a
`COPY`/`ADD`, and a path a `RUN`, `CMD`, `ENTRYPOINT` or `HEALTHCHECK` names
that the stage itself puts there (`COPY john.ini /root/john.ini`, `mkdir -p
/root/.aws`, `> /root/.aws/config`). Each such `/root` becomes the home
(`/home/appuser`). The user is created right before the first instruction
that uses the home (a step there may write into it, and the base image has no
such directory); the block after the last build step gives the home to the
user with everything the build put there (`chown -R`), unless the build
builds or unpacks something in it (a `WORKDIR` below it, a clone, a
download, a `make`): then the home itself is chowned, and the app's
`WORKDIR` is owned as any other. The moved file must pass every check of the
judgement as it stands. Not moved (`root-home` declines): a `VOLUME` in the
home (its users mount it by path), another `ENV` into it
(`PATH=/root/.cargo/bin`, `GOPATH`: tools installed there), an `ARG` or a
heredoc naming it, a file there the stage does not make (`source
/root/.bash_profile`: the base image's), a file the build copies there by
name that names `/root` itself (`root.dir = /root/.tool/data` in a tool's
settings), a script of the context that reads it, a documented run that
mounts into it, and a step whose `~` or `$HOME` runs before an `ENV HOME`
the move changes (it still writes `/root`).

A file that `ADD <http(s) url>` downloads is written with mode 600, owned by
root (docs/pitfalls.md #16): the new user could not read it. Each such file of
the stage and the stages it is built from gets `chmod a+r` in the same block
(a destination ending in `/`, or a directory the file makes or every image
has, holds it under the last segment of the URL's path; a relative one is
resolved against `WORKDIR`), unless its `ADD` has `--chmod` or a `--chown` to
that user, a later `RUN chmod` (or `chown` to the user) already lets it read
the file, a later `RUN rm` removes it, or the block gives its directory to the
user with `chown -R`. A download it cannot place (a variable with no value, a
URL that names no file, a later `mv`, `gunzip` or `find -delete`, an `rm` of
a variable) is not guessed at: the finding's message says what to check. In a stage without a shell the
`ADD` gets `--chown` instead.

## When it declines
Windows stages; a runtime stage that is only `FROM image` (a re-tag); entrypoints that drop
privileges themselves (gosu, su-exec,
setpriv, runuser, s6-overlay, supervisord, and official images that do so),
or start a daemon with its own user switch (`memcached -u daemon`,
`gunicorn --user www-data`);
a `USER` whose value cannot be resolved; a UID the base image already uses;
files with bare-CR line endings; a URL download that a stage without a shell
leaves unreadable and whose `ADD` cannot take `--chown` (it has one, or is in
a parent stage).

## Fix safety
Safe when the family is known (from the image table or from package-manager
evidence in `RUN`). For an unknown family only a numeric `USER` is offered,
as an unsafe fix: nothing checks that the image can run as that id.

## Relationship to other rules
DF003 handles stages that switched to a user and back to root. DF002 and
DF004 rely on the ids this rule picks.

## References
- https://docs.docker.com/reference/dockerfile/#user
- https://kubernetes.io/docs/concepts/security/pod-security-standards/
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from rewriter.dockerfile.analysis import Context
from rewriter.core.edits import Applicability, Edit, Fix
from rewriter.dockerfile.model import StageInfo, expand, is_root, workdir_path
from rewriter.dockerfile.paths import app_trees, filled_volumes, final_workdir, program_words, writable_dirs
from rewriter.dockerfile.rehome import MovedHome, rehome
from rewriter.dockerfile.remote import unreadable_downloads
from rewriter.dockerfile.rules._common import (
    insert_after,
    insert_before,
    parent_privilege_drop,
    privilege_drop,
    tail_anchor,
    uid_of,
)
from rewriter.dockerfile.judge import (
    GroupZero,
    Judgement,
    app_user_name,
    base_image_writes,
    copied_file_in_root,
    device_groups,
    documented_command,
    documented_volumes,
    joins_group_zero,
    knowledge,
    taken_names,
    judge,
    needs_login_shell,
    own_usage_runs,
    running_packaged_service,
    script_users,
    spec_user,
    sibling_base_users,
)
from rewriter.dockerfile.rules._types import Decline, Violation
from rewriter.dockerfile.syntax import Instruction, Span, parse
from rewriter.dockerfile.templates import own_dirs, render

CODE = "DF001"
NAME = "missing-nonroot-user"
PRIORITY = 10
#: the applicability its fix usually has (``None``: it never offers an edit)
FIX_APPLICABILITY: Applicability | None = Applicability.SAFE

#: Users an image ships that are not dedicated to an application.
_SHARED_USERS = frozenset({"nobody", "daemon", "bin", "sys", "ubuntu", "www-data", "games",
                           "operator", "adm", "lp", "mail", "news", "sync", "halt", "shutdown",
                           "dockremap", "sshd", "messagebus", "_apt", "uucp", "proxy", "backup",
                           "list", "irc", "gnats", "ftp", "postfix", "ntp", "polkitd",
                           "avahi", "dnsmasq", "tss", "uuidd", "tcpdump"})


def _shared(name: str) -> bool:
    """An account made for something else (a system service, Docker's remapping,
    systemd's own), never the app's user."""
    return name in _SHARED_USERS or name.startswith(("systemd-", "_"))


def _app_user(name: str, uid: int | None) -> bool:
    """A user the app may run as: not root, not an account made for something else."""
    return not _shared(name) and name != "root" and uid != 0


#: the templates whose images all have the ``audio`` and ``video`` groups
#: (Debian's base-passwd, Alpine's baselayout, RHEL's setup package)
_DEVICE_GROUP_TEMPLATES = frozenset({"debian", "alpine", "rhel", "rhel-minimal"})


def _env_user_name(info: StageInfo) -> str | None:
    """The name the file already gives its user in ``ENV USER`` (``ENV USER
    jovyan``, ``ENV HOME /home/jovyan``) when no account has it: the new user
    takes that name, so ``$USER`` and ``$HOME`` name its own passwd entry and
    home. Only when ``HOME`` is unset or is that user's ``/home/NAME`` (the
    templates' home), and never a name the image or the file already uses."""
    name = info.env.get("USER", "").strip()
    if not re.fullmatch(r"[a-z_][a-z0-9_-]{0,30}", name) or not _app_user(name, None):
        return None
    home = info.env.get("HOME", "").rstrip("/")
    if home and home != f"/home/{name}":
        return None
    return None if name in taken_names(info) else name


def _spec(name: str, uid: int | None, gid: int | None, group_zero: bool = False) -> str:
    """What goes after ``USER`` for a user: ``uid:gid``, ``uid``, else the name;
    with ``group_zero``, in root's group (``uid:0``, ``name:root``)."""
    if group_zero:
        return f"{uid}:0" if uid is not None else f"{name}:root"
    if uid is None:
        return name
    return f"{uid}:{gid}" if gid is not None else str(uid)


def _joined_why(zero: GroupZero | None) -> str:
    """Why the user joins group 0, for the fix's title ("" when it does not)."""
    if zero is None:
        return ""
    shown = ", ".join(p for p, _ in zero.paths[:3]) + (", ..." if len(zero.paths) > 3 else "")
    return (f"; the build makes {shown} writable to group 0 (OpenShift's arbitrary-uid "
            f"convention: {'; '.join(zero.evidence[:2])}), so the user joins group 0")


@dataclass
class Plan:
    """How DF001 makes a stage non-root."""

    info: StageInfo
    user: str  #: what goes after USER
    block: str = ""  #: RUN instruction(s) to insert before USER ("" for none)
    applicability: Applicability = Applicability.SAFE
    why: str = ""  #: what the fix does, in words
    dirs: list[str] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)  #: more edits (``COPY --chown``)
    #: files ``ADD <url>`` left at mode 600 that the block makes readable
    #: (None: downloads not looked at yet)
    readable: list[str] | None = None
    notes: list[str] = field(default_factory=list)  #: what the user should check
    #: the home of the user it runs as, when known (``/home/appuser``)
    home: str | None = None


def reverted_user(info: StageInfo) -> bool:
    """The stage switched to a non-root user and later back to root (DF003)."""
    seen_nonroot = False
    for s in reversed(info.chain):
        for _, value, _ in s.users:
            if not is_root(value):
                seen_nonroot = True
    return seen_nonroot and is_root(info.final_user)


def plan(ctx: Context) -> Plan | Decline | None:
    """How to make the runtime stage non-root; None when there is nothing to do."""
    p = _complete_plan(ctx)
    if isinstance(p, Plan):
        _keep_children_root(ctx, p)
    return p


def _keep_children_root(ctx: Context, p: Plan) -> None:
    """The stages built FROM the runtime stage (it is a ``--target``, and a
    later stage extends it: a test or development stage) would inherit its new
    USER, and their steps would no longer run as root: each gets ``USER root``
    right after its ``FROM`` (unless it starts with a USER of its own), so
    they build and run as before."""
    kept = []
    for s in ctx.model.stages:
        if s.parent is not p.info:
            continue
        first = s.stage.instructions[0] if s.stage.instructions else None
        if first is not None and first.cmd == "USER":
            continue
        p.edits.append(insert_after(ctx, s.stage.from_, "USER root\n"))
        kept.append(f"`{s.name}`")
    if kept:
        p.why += (f"; {' and '.join(kept)}, built FROM this stage, "
                  f"{'start' if len(kept) > 1 else 'starts'} with `USER root`, so "
                  f"{'their' if len(kept) > 1 else 'its'} steps run as before")


def _complete_plan(ctx: Context) -> Plan | Decline | None:
    """:func:`_plan`, with the downloads it makes readable, the usage comment's
    mounts it moves, and the ``COPY --chown`` a stage without a shell needs."""
    p = _plan(ctx)
    if isinstance(p, Plan) and p.readable is None:
        p = _read_downloads(ctx, p)
    if isinstance(p, Plan):
        moved = _usage_home_edits(ctx, p)
        if isinstance(moved, Decline):
            return moved
        if moved:
            p.edits += moved
            p.why += (f"; the usage comment's mount{'s' if len(moved) > 1 else ''} inside "
                      f"/root {'move' if len(moved) > 1 else 'moves'} to `{p.home}`, the "
                      "user's home")
    if not isinstance(p, Plan) or not p.dirs or p.info.family.shell:
        return p
    # No shell to mkdir/chown with: a writable dir must come from a COPY that
    # can carry --chown, or the fixed image could not write its own data.
    edits = _copy_chown_edits(ctx, p.info, p.user, p.dirs)
    if edits is not None:  # an ADD may have its --chown already
        edits = [e for e in edits if all(e.start != o.start for o in p.edits)]
    if edits is None and p.applicability is Applicability.UNSAFE:
        # not known to lack a shell: not known at all
        return Decline("unknown-family",
                       f"the base image `{p.info.chain[-1].base}` is not in the family table, "
                       f"so dockfix cannot tell how to make `{', '.join(p.dirs)}` writable by "
                       f"{p.user}; use --mappings to describe the image",
                       p.info.stage.from_.start_line, p.info.name)
    if edits is None:
        return Decline("volume-needs-shell",
                       f"`{', '.join(p.dirs)}` must be writable by {p.user}, but the stage has "
                       "no shell to create it; copy it in with `COPY --chown` and add USER "
                       "yourself", p.info.stage.from_.start_line, p.info.name)
    p.edits += edits
    return p


def _same_user(info: StageInfo, owner: str, spec: str) -> bool:
    """``owner`` (a ``--chown`` or ``chown`` value) is the user ``spec`` names."""
    name, want = owner.partition(":")[0], spec.partition(":")[0]
    if name == want:
        return True
    uid = uid_of(info, owner)[0]
    return uid is not None and uid == uid_of(info, spec)[0]


def _downloads(p_info: StageInfo, spec: str, trees: list[str]) -> tuple[list[str], list[str]]:
    """The files ``ADD <url>`` leaves unreadable to ``spec`` (``trees``: given to it
    recursively), and what to check about those dockfix cannot place."""
    found = unreadable_downloads(p_info, lambda owner: _same_user(p_info, owner, spec),
                                 tuple(trees))
    return ([d.path for d in found if d.path is not None],
            [d.note(spec) for d in found if d.path is None])


def _readable_why(files: list[str]) -> str:
    shown = ", ".join(files[:3]) + (", ..." if len(files) > 3 else "")
    return f"; make {shown} readable (ADD from a URL leaves mode 600)" if files else ""


def _read_downloads(ctx: Context, p: Plan) -> Plan | Decline:
    """A plan with no user block of its own: a ``RUN chmod a+r`` for the files
    ``ADD <url>`` left at mode 600, or with no shell, ``--chown`` on those ``ADD``s."""
    info = p.info
    if info.family.shell:
        files, p.notes = _downloads(info, p.user, [])
        if files:
            p.block += own_dirs([], p.user, readable=files)
            p.why += _readable_why(files)
        p.readable = files
        return p
    found = unreadable_downloads(info, lambda owner: _same_user(info, owner, p.user))
    p.readable = []
    for d in found:
        if d.ins.flag("chown") is not None or all(d.ins is not i for i in info.stage.instructions):
            where = d.path or "its file"
            return Decline("download-needs-shell",
                           f"`ADD {d.url}` (line {d.ins.start_line}) leaves `{where}` at mode "
                           f"600, readable by root only, and the stage has no shell to make it "
                           f"readable by {p.user}; give it `--chown={p.user}` (or "
                           "`--chmod=644`) and add USER yourself",
                           info.stage.from_.start_line, info.name)
        at = d.ins.src(d.ins.args_at)
        if all(e.start != at for e in p.edits):
            p.edits.append(Edit.insert(at, f"--chown={p.user} "))
    if found:
        p.why += "; `ADD --chown` the files it downloads (ADD from a URL leaves mode 600)"
    return p


def _copy_chown_edits(ctx: Context, info: StageInfo, spec: str,
                      dirs: list[str]) -> list[Edit] | None:
    """``--chown`` for the COPY/ADD that creates each of ``dirs``; None if one has none."""
    chosen: dict[int, Instruction] = {}
    for d in dirs:
        found = None
        for ins in info.stage.instructions:
            if ins.cmd in ("COPY", "ADD") and not ins.json and len(ins.values) >= 2:
                dest = workdir_path(info, ins, expand(ins.values[-1], info.env)[0])
                if dest.rstrip("/") == d.rstrip("/"):
                    found = ins
        if found is None or found.flag("chown") is not None:
            return None
        chosen[id(found)] = found
    return [Edit.insert(i.src(i.args_at), f"--chown={spec} ") for i in chosen.values()]


def _plan(ctx: Context) -> Plan | Decline | None:
    model = ctx.model
    info = model.runtime
    if info is None:
        if ctx.settings.target and model.stages:
            return Decline("unknown-target", f"no stage named `{ctx.settings.target}`")
        return None
    line = info.stage.from_.start_line
    if not info.final_user_resolved:
        # the USER in force: this stage's last, or (none here) an ancestor's
        user = next(s.users[-1][1] for s in info.chain if s.users)
        return Decline("unresolved-user",
                       f"`USER {user}` uses a variable with no value; pass "
                       "`--build-arg` so dockfix can tell who runs", line, info.name)
    if not is_root(info.final_user):
        if not info.users and all(not s.users for s in info.chain):
            return Decline("already-nonroot",
                           f"`{info.chain[-1].base}` already runs as `{info.final_user}`",
                           line, info.name)
        return None
    fam = info.family
    # First: with bare CRs the whole file is one FROM line, which would
    # otherwise read as an empty stage, hiding the real reason.
    if ctx.newline == "\r":
        return Decline("cr-line-endings",
                       "the file uses bare CR line endings, which BuildKit reads as one line",
                       line, info.name)
    if not info.stage.instructions and info.parent is None:
        return Decline("empty-stage",
                       f"the runtime stage only names `{info.base}`: it re-tags an image and "
                       "runs nothing of its own", line, info.name)
    if fam.windows:
        return Decline("windows-stage",
                       "Windows containers: set `USER ContainerUser` by hand if the app "
                       "supports it; dockfix does not rewrite Windows stages", line, info.name)
    why = privilege_drop(ctx, info)
    if why:
        return Decline("privilege-drop-entrypoint",
                       f"{why}; leave the image starting as root, or drop the privilege "
                       "switch and add USER yourself", line, info.name)
    inherited = parent_privilege_drop(ctx, info)
    if inherited:
        return Decline("privilege-drop-entrypoint",
                       f"{inherited[0]}; the image inherits it, so leave it starting as root",
                       line, info.name, evidence=(inherited[1],))
    verdict = judge(ctx, info)
    if verdict is not None:
        if verdict.reason == "root-home":
            moved = _moved_home(ctx, info)
            if moved is not None:
                return moved
        if verdict.reason == "packaged-service-user":
            account = _package_account(ctx, info, verdict)
            if account is not None:
                return account
        return _declined(verdict, info)
    if reverted_user(info):
        return None  # DF003's case: switch back to the user the file chose
    s = ctx.settings
    dirs = _written_dirs(ctx, info)
    # An image made for OpenShift's arbitrary uid: the build gives group 0 write
    # on what it writes, so the user joins group 0 (unless --gid names another
    # group) and those paths need no chown.
    zero = joins_group_zero(ctx, info)
    if zero is not None:
        dirs = [d for d in dirs if not zero.covers(d)]
    joined = _joined_why(zero)
    # Reuse a user the file creates.
    created = [u for u in info.known_users().values() if _app_user(u.name, u.uid)]
    if created:
        u = created[-1]
        return _run_as(ctx, info, _spec(u.name, u.uid, u.gid, zero is not None), dirs,
                       f"run as `{u.name}`, the user this file creates{joined}")
    # Run as the user the image's own runtime spec runs it as (an Atomic system
    # container's config.json.template): the account its package set up.
    spec = spec_user(ctx)
    if spec is not None:
        return _run_as(ctx, info, f"{spec.uid}:{spec.gid}", dirs,
                       f"run as {spec.uid}:{spec.gid}, the user the image's runtime spec runs "
                       f"its process as ({spec.evidence}){joined}")
    # Reuse a user that a script the file runs creates, or that the repository's
    # own base image (another Dockerfile here) creates.
    context_users = [u for u in script_users(ctx, info) if _app_user(u.name, u.uid)]
    origin = "a script this file runs creates"
    if not context_users:
        sibling, sibling_user = sibling_base_users(ctx, info)
        if sibling_user is not None and not is_root(sibling_user):
            return Decline("already-nonroot",
                           f"`{info.chain[-1].base}` is built here and ends with "
                           f"`USER {sibling_user}`", line, info.name, kind="app",
                           evidence=tuple(u.evidence for u in sibling[:1]))
        context_users = [u for u in sibling if _app_user(u.name, u.uid)]
        origin = f"`{info.chain[-1].base}` (built in this repository) creates"
    if context_users:
        cu = context_users[-1]
        return _run_as(ctx, info, _spec(cu.name, cu.uid, cu.gid, zero is not None), dirs,
                       f"run as `{cu.name}`, the user {origin} ({cu.evidence}){joined}")
    image_users = {k: v for k, v in info.image_users().items() if _app_user(k, v)}
    if image_users and fam.shell:
        name, uid = next(iter(image_users.items()))
        shipped = _run_as(ctx, info, f"{uid}:{0 if zero is not None else uid}", dirs,
                          f"run as `{name}` ({uid}), the user the base image ships{joined}")
        # a regular account an image adds (uid 1000 and up) has its home in /home
        shipped.home = f"/home/{name}" if uid >= 1000 else None
        return shipped
    root_image = info.chain[-1].image
    # 0 is root's, in every image (and the templates cannot create it)
    used = (root_image.used_uids if root_image else frozenset()) | {0}
    gid = 0 if zero is not None else s.gid
    if fam.template and fam.shell and not dirs and _cross_built(ctx, info) and \
            not (s.uid in used or (gid and gid in used)):
        # a RUN here would run the target platform's binaries (emulation, which
        # building the other stages on the build platform avoids); numeric ids
        # need no passwd entry
        return Plan(info, f"{s.uid}:{gid}",
                    why=f"run as {s.uid}:{gid} with no user block: the file cross-builds "
                    "(`--platform=$BUILDPLATFORM`) and this stage runs no `RUN`, which would "
                    f"need emulation for other platforms; numeric ids need no passwd entry{joined}")
    if fam.template and fam.shell:
        if s.uid in used or (gid and gid in used):
            return Decline("uid-taken",
                           f"uid/gid {s.uid}/{s.gid} is already used in `{info.chain[-1].base}`; "
                           "pick another with --uid/--gid", line, info.name)
        app = _trees(info)
        # the user (and its home) must exist before the first step that uses
        # a moved home; the block after the last build step then owns it
        first = None
        if ctx.moved_home is not None:
            home = ctx.moved_home.home
            if not _builds_in(info, home):
                # the home with what the build puts there (a build tree there
                # is owned as the app's trees always are)
                dirs = [d for d in dirs if not d.startswith(home + "/")]
                app = [home, *(d for d in app if d != home and not d.startswith(home + "/"))]
            dirs = [home, *(d for d in dirs if d != home)]
            first = next((i for i in info.stage.instructions
                          if i.span.start <= ctx.moved_home.first < i.span.end), None)
            if first is not None and first.span.end > tail_anchor(info).span.end:
                first = None
        late, early = _split_dirs(ctx, info, f"{s.uid}:{gid}", dirs)
        trees = [d for d in late if d in app]
        own = [d for d in late if d not in app]
        user = _new_user_name(ctx, info)
        named = None if s.user else _env_user_name(info) or app_user_name(info)
        group = "root" if gid == 0 else s.group or named or "appgroup"
        files, notes = _downloads(info, f"{s.uid}:{gid}", trees)
        # the groups of the host devices a desktop app opens; every image of
        # these families has them (other families may not)
        groups = device_groups(info) if fam.template in _DEVICE_GROUP_TEMPLATES else []
        try:
            # with an early user, the template creates it alone, and the block
            # only owns the directories
            block = render(fam.template, user=user, group=group, uid=s.uid, gid=gid,
                           dirs=[] if first else own, trees=[] if first else trees,
                           escape=ctx.df.escape, newline="\n",
                           login_shell=needs_login_shell(info),
                           readable=[] if first else files, groups=groups)
        except ValueError as exc:  # e.g. a VOLUME path with control characters
            return Decline("template-refused", f"cannot write the user block: {exc}",
                           line, info.name)
        if first is not None:
            early = [insert_before(ctx, first, block), *early]
            block = own_dirs(own, f"{s.uid}:{gid}", trees=trees, readable=files) \
                if own or trees or files else ""
        in_groups = (f", in the groups {' and '.join(f'`{g}`' for g in groups)} of the sound "
                     "and GPU devices a desktop app is run with" if groups else "")
        # `USER uid:gid` sets no supplementary groups: with groups, the uid alone
        # (its passwd entry gives the primary group, /etc/group the others)
        return Plan(info, str(s.uid) if groups else f"{s.uid}:{gid}", block,
                    why=f"create `{user}` ({s.uid}:{gid}) with the {fam.name} "
                    f"tools{in_groups}{joined}{_readable_why(files)}",
                    dirs=dirs, edits=early, readable=files, notes=notes, home=f"/home/{user}")
    if fam.default_nonroot_uid:
        uid = fam.default_nonroot_uid
        return Plan(info, f"{uid}:{uid}", why=f"run as `nonroot` ({uid}), which {fam.name} "
                    "images ship", dirs=dirs)
    if not fam.passwd:
        # (with a shell, as a distribution's busybox-static has, the directories
        # are given to the ids in a RUN)
        return _run_as(ctx, info, f"{s.uid}:{gid}", dirs,
                       f"run as {s.uid}:{gid} (numeric ids need no passwd entry){joined}")
    if fam.shell and fam.template is None and _compiled_program(info) and \
            not (s.uid in used or (gid and gid in used)):
        # a shell but no useradd and no package manager to get one (ubi-micro,
        # RHEL Atomic): a compiled program needs no passwd entry for its ids
        return _run_as(ctx, info, f"{s.uid}:{gid}", dirs,
                       f"run as {s.uid}:{gid}: {info.chain[-1].base} has no useradd to "
                       f"create a user with, and a compiled program needs no passwd entry{joined}")
    unknown = ("the base image family is unknown" if not (fam.shell and fam.template is None)
               else "the base image cannot create a user")
    return Plan(info, f"{s.uid}:{gid}", applicability=Applicability.UNSAFE,
                why=f"run as {s.uid}:{gid}; {unknown}, so nothing "
                f"checks that the image works as that id{joined}", dirs=dirs)


def _written_dirs(ctx: Context, info: StageInfo) -> list[str]:
    """The directories the process writes, which the user it runs as must own."""
    dirs = writable_dirs(info, workdir=info.family.shell)
    if info.family.shell:
        # the volumes its documented runs and compose services mount: its data
        dirs += [d for d in documented_volumes(ctx, info) if d not in dirs]
        # and what its base image's program writes in its own install (Tomcat)
        dirs += [d for d in base_image_writes(info) if d not in dirs]
    return dirs


def _package_account(ctx: Context, info: StageInfo, verdict: Judgement) -> Plan | Decline | None:
    """The plan that runs a packaged service as the account its package
    creates for it (``USER redis``), which owns the service's config and data:
    when ``judge.toml`` knows the service runs in the foreground as that account
    in the image's family, the build leaves the package's config as it is, and
    nothing else keeps the image root (else that reason's decline). The
    directories it writes outside the package's own (a ``VOLUME``, the working
    directory it keeps its data in) are given to the account. None when the
    account cannot be used."""
    found = running_packaged_service(ctx, info)
    if found is None or not found.reusable or found.config_step is not None or found.user is None:
        return None
    rest = judge(ctx, info, answered=frozenset({"packaged-service-user"}))
    if rest is not None:
        return _declined(rest, info)
    dirs = _written_dirs(ctx, info)
    dirs += [d for d in found.service.run if d not in dirs]
    workdir = ""
    if found.service.cwd and not (found.config_argument or found.data_flag):
        wd = final_workdir(info)
        if wd is None or wd == "/":
            # its data would go in /: work in the package's data directory
            workdir = found.service.cwd
        elif wd not in dirs:
            dirs.append(wd)
    # the account exists once the package is installed: a VOLUME before that
    # cannot be owned in time
    order = {id(i): n for n, i in enumerate(info.stage.instructions)}
    installed = order.get(id(found.install), -1)
    for ins in info.stage.instructions:
        if ins.cmd == "VOLUME" and order[id(ins)] < installed and \
                any(expand(v, info.env)[0].rstrip("/") in dirs for v in ins.values):
            return _declined(replace(verdict, hint=(
                f"the `VOLUME` on line {ins.start_line} comes before the install that makes "
                f"`{found.user}` (line {found.install.start_line}), so nothing can give it to "
                f"that account in time: declare it after the install, then add "
                f"`USER {found.user}`")), info)
    user = found.user
    p = _run_as(ctx, info, user, dirs,
                f"run as `{user}`, the account the `{found.package}` package creates for "
                f"`{found.program}` (line {found.install.start_line}), which owns its config "
                "and data", named=True)
    if workdir:
        p.block += f"WORKDIR {workdir}{ctx.newline}"
        p.why += (f"; it keeps its data in the working directory, so it works in `{workdir}`, "
                  "the package's data directory (the file set none)")
    return p


#: a step that builds or unpacks something, not a setting
_BUILD_STEP = re.compile(r"\b(?:git\s+clone|tar|unzip|wget|curl|g?make|cmake|configure|"
                         r"npm|yarn|pip3?|go|cargo|mvn|gradle)\b")


def _declined(verdict: Judgement, info: StageInfo) -> Decline:
    """The judge's ``verdict`` on the runtime stage ``info``, as DF001's decline."""
    hint = f"; {verdict.hint}" if verdict.hint else ""
    return Decline(verdict.reason, verdict.message + hint, info.stage.from_.start_line,
                   info.name, kind=verdict.kind, evidence=verdict.evidence)


def _new_user_name(ctx: Context, info: StageInfo) -> str:
    """The name of the user a template creates: ``--user``, else the name
    ``ENV USER`` or the program gives it, else ``appuser``."""
    s = ctx.settings
    return s.user or _env_user_name(info) or app_user_name(info) or "appuser"


def _builds_in(info: StageInfo, home: str) -> bool:
    """The stage builds or unpacks something in ``home`` (a ``WORKDIR`` below
    it, a ``cd`` into it, a clone or a download there), more than the few
    settings files a home holds: owning it all would copy it in a layer."""
    mention = re.compile(rf"(?:{re.escape(home)}|~|\$\{{?HOME\b)")
    for ins in info.stage.instructions:
        if ins.cmd == "WORKDIR" and workdir_path(info, ins, expand(ins.args, info.env)[0]) \
                .startswith(home + "/"):
            return True
        if ins.cmd == "RUN" and mention.search(ins.logical) and _BUILD_STEP.search(ins.logical):
            return True
    return False


def _moved_home(ctx: Context, info: StageInfo) -> Plan | Decline | None:
    """The plan for the file with root's home moved into the new user's
    (``ENV HOME /root``, ``WORKDIR /root``, ``COPY app.ini /root/``, ``/root``
    in a ``RUN`` or the command): made on the moved text, which must pass the
    judge whole, and given back as edits of the original. A decline when the
    moved file still leaves something in root's home (a step that writes it
    through `~` before `ENV HOME`); None when the stage uses root's home in a
    way the move does not cover, or the fix would not create the user whose
    home that is."""
    fam, s = info.family, ctx.settings
    if ctx.moved_home is not None or not (fam.template and fam.shell):
        return None
    home = f"/home/{_new_user_name(ctx, info)}"
    move = rehome(ctx.df.text, info, home)
    if move is None:
        return None
    left = copied_file_in_root(ctx, info)
    if left is not None:
        return _declined(left, info)
    moved = Context(parse(move.text), s, ctx.path, ctx.build)
    moved.moved_home = MovedHome(home, move.edits[0].start)
    p = _plan(moved)
    if isinstance(p, Decline) and p.reason == "root-home":
        return p  # what the move leaves in root's home: the precise reason
    if not isinstance(p, Plan) or p.home != home:
        return None
    back = [move.back(e) for e in p.edits]
    if any(e is None for e in back):
        return None
    n = len(move.edits)
    p.info = info
    p.edits = [*move.edits, *(e for e in back if e is not None)]
    p.why += (f"; what the image kept in root's home (mode 700) moves to `{home}`, the user's "
              f"own ({n} `/root` path{'s' if n > 1 else ''} rewritten)")
    return p


#: a mount target in root's home in a usage line (``-v ~/Pictures:/root/Pictures``)
_ROOT_TARGET = r"(?<=:)/root(?=[/:\s\\'\"]|$)"


def _usage_home_edits(ctx: Context, p: Plan) -> list[Edit] | Decline:
    """The file's own usage comments mount host data inside root's home
    (``# docker run -v $HOME/Pictures:/root/Pictures ...``), where the new user
    cannot reach it: the edits that move those mounts to the user's home, or a
    decline when that home is not known."""
    if "/root" not in ctx.df.text:
        return []
    edits: list[Edit] = []
    lines = ctx.df.text.splitlines(keepends=True)
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln))
    for run in own_usage_runs(ctx):
        in_root = [m for m in run.mounts
                   if m.target.rstrip("/") == "/root" or m.target.startswith("/root/")]
        if not in_root or (run.user and not is_root(run.user)):
            continue
        # host files mounted read-write stay writable only for the host user's
        # uid: 1000, the first user's on most Linux hosts (node's, in its image)
        host_uid = p.user.split(":")[0] == "1000"
        if p.home is None or not host_uid and any(not m.read_only for m in in_root):
            mount = next(m for m in in_root if not m.read_only or p.home is None)
            return Decline("root-home",
                           f"its documented `docker run` mounts `{mount.source or 'a volume'}` "
                           f"at `{mount.target}`, inside root's home (mode 700): the user it "
                           f"would run as ({p.user}) cannot reach it there"
                           + (", and its home is not known" if p.home is None else
                              ", nor write the host's files the mount brings unless its uid "
                              "owns them")
                           + "; mount it under that user's home (and say so in the usage), "
                           "then add USER",
                           p.info.stage.from_.start_line, p.info.name, kind="app",
                           evidence=(run.cite(mount.target),))
        for i in range(len(run.span)):
            n = run.line - 1 + i
            if n >= len(lines) or not lines[n].lstrip().startswith("#"):
                continue
            for m in re.finditer(_ROOT_TARGET, lines[n]):
                edits.append(Edit(starts[n] + m.start(), starts[n] + m.end(), p.home))
    return edits


def _compiled_program(info: StageInfo) -> bool:
    """The container runs a program of its own, not one a runtime runs: a
    runtime (a JVM, Python, Node) looks its user up in passwd for its home
    (`user.home` is `?` without an entry)."""
    words = program_words(info)
    return bool(words) and posixpath.basename(words[0]) not in knowledge().interpreters


def _cross_built(ctx: Context, info: StageInfo) -> bool:
    """The file builds its other stages on the build platform
    (``FROM --platform=$BUILDPLATFORM``), and the runtime stage, with the stages
    of the file it is built FROM, runs no ``RUN``: nothing in it executes the
    target platform's binaries, and a user block would be the first to. Only
    for a compiled program, not one an interpreter or a JVM runs."""
    if any(i.cmd == "RUN" for st in info.chain for i in st.stage.instructions):
        return False
    if not _compiled_program(info):
        return False
    for st in ctx.model.stages:
        flag = st.stage.from_.flag("platform")
        if flag is not None and flag.value and "BUILDPLATFORM" in flag.value:
            return True
    return False


def _split_dirs(ctx: Context, info: StageInfo, spec: str,
                dirs: list[str], named: bool = False) -> tuple[list[str], list[Edit]]:
    """Dirs a ``VOLUME`` of the stage declares before the user block goes in must be
    owned before that line (the classic builder discards what a step after
    ``VOLUME`` does to it). With numeric ids (or, ``named``, a user that exists
    before every such ``VOLUME``), a ``RUN mkdir && chown`` goes right before
    that ``VOLUME``; the rest stay in the user block."""
    if not info.family.shell or not (named or re.fullmatch(r"\d+(?::\d+)?", spec)):
        return dirs, []
    anchor = tail_anchor(info)
    order = {id(i): n for n, i in enumerate(info.stage.instructions)}
    at_anchor = order.get(id(anchor), -1)
    early: dict[int, tuple[Instruction, list[str]]] = {}
    for ins in info.stage.instructions:
        if ins.cmd != "VOLUME" or order[id(ins)] > at_anchor:
            continue
        for v in ins.values:
            path, ok = expand(v, info.env)
            path = path.rstrip("/") or "/"
            if ok and path in dirs and not any(path in ds for _, ds in early.values()):
                early.setdefault(id(ins), (ins, []))[1].append(path)
    if not early:
        return dirs, []

    edits = []
    moved: set[str] = set()
    filled = filled_volumes(info)
    for ins, ds in early.values():
        start = ctx.df.text.rfind("\n", 0, ins.span.start) + 1
        indent = ctx.df.text[start:ins.span.start]
        edits.append(Edit.insert(start, indent + own_dirs(ds, spec, ctx.newline,
                                                          trees=[d for d in ds if d in filled])))
        moved.update(ds)
    return [d for d in dirs if d not in moved], edits


def _trees(info: StageInfo) -> list[str]:
    """The directories a fix owns recursively: the app's trees, and the
    volumes the build fills (their files are the program's first data)."""
    app = app_trees(info)
    return app + [v for v in filled_volumes(info) if v not in app]


def _run_as(ctx: Context, info: StageInfo, spec: str, dirs: list[str], why: str,
            named: bool = False) -> Plan:
    """The plan that runs the stage as an existing user ``spec`` and gives it
    ``dirs`` (before a ``VOLUME`` too when ``named``: see :func:`_split_dirs`)."""
    late, early = _split_dirs(ctx, info, spec, dirs, named)
    if not info.family.shell:
        return Plan(info, spec, why=why, dirs=dirs, edits=early)
    app = _trees(info)
    trees = [d for d in late if d in app]
    files, notes = _downloads(info, spec, trees)
    block = own_dirs(late, spec, trees=trees, readable=files) if late or files else ""
    return Plan(info, spec, block, why=why + _readable_why(files), dirs=dirs, edits=early,
                readable=files, notes=notes)


def check(ctx: Context) -> Iterator[Violation | Decline]:
    p = plan(ctx)
    if p is None:
        return
    if isinstance(p, Decline):
        yield p
        return
    info = p.info
    frm = info.stage.from_
    anchor = tail_anchor(info)
    block = p.block + f"USER {p.user}\n"
    edits = [insert_after(ctx, anchor, block), *p.edits]
    title = f"Add `USER {p.user}`: {p.why}"
    documented = documented_command(ctx, info)
    if documented is not None:
        # the file sets no command: the one judged is the documentation's
        title += (f"; the file sets no CMD or ENTRYPOINT, so its process was judged by the "
                  f"command its documentation runs ({documented.cite}); no CMD is added")
    if p.applicability is Applicability.UNSAFE:
        known = info.family.shell and info.family.template is None
        yield Decline("unknown-family",
                      f"the base image `{info.chain[-1].base}` has no useradd to create a user "
                      "with, and the program's runtime looks its user up for a home; an unsafe "
                      f"fix adds `USER {p.user}` (use --unsafe-fixes)" if known else
                      f"the base image `{info.chain[-1].base}` is not in the family table; an "
                      f"unsafe fix adds `USER {p.user}` (use --unsafe-fixes, or --mappings to "
                      "describe the image)", frm.start_line, info.name)
    last = info.stage.instructions[-1] if info.stage.instructions else frm
    yield Violation(
        CODE, NAME, Span(frm.span.start, last.span.end),
        f"stage `{info.name}` runs as root" + "".join(f"; {n}" for n in p.notes),
        Fix(title, tuple(edits), p.applicability),
    )


__all__ = ["CODE", "NAME", "PRIORITY", "Plan", "check", "plan"]

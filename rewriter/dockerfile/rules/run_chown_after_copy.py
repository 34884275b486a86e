"""DF002 run-chown-after-copy

## What it does
Finds `RUN chown [-R] OWNER PATH...` (a whole `RUN`, or one `&&` segment) in the
runtime stage chain whose only job is to re-own what a `COPY`/`ADD` earlier in
the same stage wrote to PATH, and moves the owner into `COPY --chown=OWNER`.

## Why is this bad?
Changing a file's owner copies the whole file into the new layer: every byte
under PATH is shipped twice. `COPY --chown` sets the owner while copying.

## Example
```dockerfile
COPY app/ /srv/app/
RUN chown -R 10001:10001 /srv/app
```

Use instead:
```dockerfile
COPY --chown=10001:10001 app/ /srv/app/
```

## Fix safety
Matching is exact: each PATH (variables expanded, resolved against `WORKDIR`)
must equal the destination of the last `COPY`/`ADD` to it in the same stage,
and nothing may touch PATH in between: no `RUN` naming it or working inside
it, no `COPY`/`WORKDIR` below it, no earlier command of the same `RUN`.
Several paths are fine when each has its own `COPY`; each gets `--chown`.
The owner is kept as written: `$APP_USER` stays (BuildKit and current classic
builders expand `--chown`), and is only accepted when the file resolves it.

Safe when the removal leaves a valid `&&` chain, `-R` is given, the owner is
`user:group` or `uid:gid` (a named user or group must exist before the `COPY`),
the destination did not exist before the `COPY` as far as the file shows, and
its parent does (checked against real builds: `COPY --chown` leaves an existing
destination directory's owner alone, and BuildKit gives the parents it creates
to the owner, both unlike `chown -R PATH`).

Unsafe when: the owner has no `:group` (chown keeps the group, `--chown` sets
the user's); the destination existed (an earlier `WORKDIR` or `RUN` naming it,
or a directory base images ship, like `/usr/local/bin`); the parent may be
created by the `COPY` (anything but `/`, the family's standard directories and
what the file creates), or the `COPY` has `--link` and a parent other than `/`;
chown without `-R` (if the source is a directory, `--chown` also re-owns its
contents); other chown flags than `-R`/`-h`; `;` next to the chown or `||`
anywhere in the chain; a comment or blank line in the deleted text.

No fix, but reported: a named user or group that no `RUN` creates before the
`COPY` (`useradd`, `groupadd`, ...) and the image does not ship (the classic
builder fails on it, BuildKit silently keeps root), or a `COPY` that already
has `--chown`. No fix, not reported: globs, unresolved variables, a path with
no matching `COPY` or a `--mount` on it, `chmod` of the path in the same `RUN`,
`ADD` of a local archive (`--chown` does not reach extracted files), pipes and
`&`, opaque shell, exec-form or heredoc `RUN`, a non-POSIX `SHELL`, Windows
stages, stages outside the target's chain.

## Relationship to other rules
Runs after DF001 (priority 10), whose user block goes after the last build
step; numeric owners need no passwd entry, so the two fixes combine.

## References
- https://docs.docker.com/reference/dockerfile/#copy---chown---chmod
- https://github.com/moby/moby/issues/22810 (the duplicated layer)
- https://github.com/moby/buildkit/issues/3912 (`--link --chown` and parents)
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Iterator

from rewriter.dockerfile.analysis import Context
from rewriter.core.edits import Applicability, Edit, Fix
from rewriter.dockerfile.model import StageInfo, expand, may_run, run_commands, workdir_path
from rewriter.dockerfile.rules._types import Decline, Violation
from rewriter.dockerfile.shell import Command, Word, run_script
from rewriter.dockerfile.syntax import Instruction, Span

CODE = "DF002"
NAME = "run-chown-after-copy"
PRIORITY = 20
#: the applicability its fix usually has (``None``: it never offers an edit)
FIX_APPLICABILITY: Applicability | None = Applicability.SAFE

_NAME = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
_OWNER = re.compile(rf"({_NAME})(?::({_NAME}))?")
_ARCHIVE = re.compile(r"\.(tar|tgz|tbz2?|txz|tzst|gz|bz2|xz|zst|lz4)$", re.I)
_POSIX_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "busybox"})
#: Directories base images ship: a destination among them existed before (in
#: every image of a family whose table entry says ``fhs``; busybox has no /usr).
_IMAGE_DIRS = frozenset(
    "/bin /etc /home /lib /media /mnt /opt /root /run /sbin /srv /tmp /usr /usr/bin /usr/lib "
    "/usr/local /usr/local/bin /usr/local/lib /usr/local/share /usr/sbin /usr/share /var "
    "/var/cache /var/lib /var/log /var/tmp".split())
_MAYBE_IMAGE_DIRS = _IMAGE_DIRS | {"/usr/src", "/var/www", "/var/www/html", "/usr/share/nginx/html"}
_Step = tuple[StageInfo, Instruction]


#: How many earlier instructions the rule looks back over, summed over all the
#: paths of every ``RUN chown`` of a file (each path is checked against
#: everything before it, and against the RUN's other commands).  Real
#: files stay far below; a generated one with thousands of chowns would take
#: minutes, so the rule leaves such a file alone, and says so.
MAX_LOOKBACK = 50_000


def check(ctx: Context) -> Iterator[Violation | Decline]:
    info = ctx.model.runtime
    if info is None or info.family.windows:
        return
    chain = list(reversed(info.chain))
    chowns: list[tuple[int, list[Command], int]] = []  #: (step, its commands, command)
    foreign = False  # a SHELL before this step made RUN something other than a POSIX shell
    runs = (i for s in chain for i in s.stage.instructions)
    for n, run in enumerate(runs):
        if run.cmd == "SHELL" and run.values:
            foreign = posixpath.basename(run.values[0]) not in _POSIX_SHELLS
            continue
        if foreign or not may_run(run, ("chown",)):
            continue
        script = run_script(run)
        if script is None or script.opaque:
            continue
        cmds = list(script.commands)
        chowns += [(n, cmds, k) for k, cmd in enumerate(cmds)
                   if cmd.words[0].text in ("chown", "/bin/chown", "/usr/bin/chown")]
    if not chowns:
        return
    # (stage, instruction) of every step: made only now, as most files have no chown
    steps = [(s, i) for s in chain for i in s.stage.instructions]
    # each path a chown names is looked for over the steps before it and the
    # RUN's other commands: the work is their product, kept under the bound
    if sum((n + len(cmds)) * max(1, len(cmds[k].words) - 1) for n, cmds, k in chowns) > (
            MAX_LOOKBACK):
        yield Decline("too-many-chowns",
                      f"{len(chowns)} `RUN chown` in {len(steps)} instructions: too many for "
                      f"{CODE} to check each against everything before it", None, info.name)
        return
    for n, cmds, k in chowns:
        v = _violation(ctx, steps, n, cmds, k)
        if v is not None:
            yield v


def _violation(ctx: Context, steps: list[_Step], n: int, cmds: list[Command],
               k: int) -> Violation | None:
    s, run = steps[n]
    cmd, unsafe = cmds[k], list[str]()
    opts = [w.text for w in cmd.words[1:] if w.text.startswith("-") and w.text != "-"]
    args = [w for w in cmd.words[1:] if w.text not in opts]
    joins = [c.op_before for c in cmds[k:k + 2] if c.op_before]
    after = cmds[k + 1].op_start if k + 1 < len(cmds) else len(run.logical)
    if ("--" in opts or any(o.startswith(("--from", "--reference")) for o in opts)
            or len(args) < 2 or {"|", "&"} & set(joins)
            or run.logical[cmd.end:after].strip() not in ("", ";")):
        return None
    owner = args[0].text
    real, ok = expand(owner, s.env)
    m = _OWNER.fullmatch(real)
    if not ok or not m or not re.fullmatch(r"[\w.${}:-]+", owner) or _literal_dollar(args[0]):
        return None
    if m.group(2) is None and "." in real:
        return None  # chown's old `user.group` form; `--chown` would read one user name
    found: dict[str, tuple[int, Instruction]] = {}
    for word in args[1:]:
        path, ok = expand(word.text, s.env)
        if not ok or _literal_dollar(word) or re.search(r"[*?\[\]{}~]", word.text):
            return None
        path = workdir_path(s, run, path)
        at = _match_copy(steps, n, cmds, k, path) if path != "/" else None
        if at is None:
            return None
        found[path] = (at, steps[at][1])
    kinds = "`/`".join(sorted({c.cmd for _, c in found.values()}))
    message = (f"`RUN chown` re-owns {' and '.join(f'`{p}`' for p in found)}, which `{kinds}` "
               "just wrote (a second copy of every file in a new layer)")
    span = Span(run.src(cmd.start), run.src_end(cmd.end))
    for path, (at, copy) in found.items():
        why = _owner_missing(steps, at, m.group(1), m.group(2))
        if copy.flag("chown") is not None or why:
            why = why or f"the `{copy.cmd}` already has `--chown`"
            return Violation(CODE, NAME, span, f"{message}; no fix: {why}")
        history = _history(steps, at, path)
        if history is None:
            return None
        unsafe += history
    if m.group(2) is None:
        unsafe.append("chown without `:group` keeps the group; `--chown` sets the user's")
    if not any(o == "--recursive" or re.fullmatch(r"-[hR]*R[hR]*", o) for o in opts):
        unsafe.append("without -R, chown re-owns PATH only; `--chown` also re-owns its contents")
    if any(o not in ("--recursive", "--no-dereference") and not re.fullmatch(r"-[hR]+", o)
           for o in opts):
        unsafe.append(f"chown has other flags ({' '.join(opts)})")
    if ";" in joins or "||" in [c.op_before for c in cmds]:
        unsafe.append("the chown is joined with `;`, or the chain has `||`")
    start, end = _removal(run, cmds, k)
    if any(not ln.strip() or ln.lstrip().startswith("#")
           for ln in ctx.df.text[start:end].split("\n")[1:-1]):
        unsafe.append("the deleted lines hold a comment or a blank line")
    edits = {Edit.insert(c.src(c.args_at), f"--chown={owner} ") for _, c in found.values()}
    title = f"Use `{kinds} --chown={owner}` and drop the chown"
    if unsafe:
        title += f" (unsafe: {'; '.join(dict.fromkeys(unsafe))})"
    fix = Fix(title, (*edits, Edit.delete(start, end)),
              Applicability.UNSAFE if unsafe else Applicability.SAFE)
    return Violation(CODE, NAME, span, message, fix)


def _removal(run: Instruction, cmds: list[Command], k: int) -> tuple[int, int]:
    """Source range to delete: the whole RUN, ` && chown ...` after the previous
    command, or `chown ... && ` before the next one."""
    if len(cmds) == 1:
        return run.span.start, run.span.end
    if k > 0:
        return run.src_end(cmds[k - 1].end), run.src_end(cmds[k].end)
    return run.src(cmds[0].start), run.src(cmds[1].start)


def _literal_dollar(word: Word) -> bool:
    """A `$` the shell keeps as is (single quotes), which `--chown` would expand."""
    return "$" in word.text and "'" in word.raw


def _dest(s: StageInfo, ins: Instruction) -> str | None:
    if len(ins.values) < 2:
        return None
    dest, ok = expand(ins.values[-1], s.env)
    return workdir_path(s, ins, dest) if ok else None


def _below(path: str, top: str) -> bool:
    return path.startswith(top.rstrip("/") + "/") and path != top


def _mentions(text: str, p: str, cwd: str) -> int:
    """2 if ``text`` names a path inside ``p``, 1 if it names ``p`` itself, else 0."""
    if posixpath.basename(p) not in text:  # every form of the path ends with it
        return 0
    # Bare relative names from `/` are mostly user or package names, not paths.
    forms = [p]
    if _below(p, cwd):
        rel = posixpath.relpath(p, cwd)
        forms.append(rel if cwd != "/" else f"./{rel}")
    best = 0
    for form in forms:
        if form not in text:  # what the expression needs, checked first: far cheaper
            continue
        for m in _mention(form).finditer(text):
            best = max(best, 1 if m.group(1) in (None, "/", "/.") else 2)
    return best


@functools.lru_cache(maxsize=1024)
def _mention(form: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w./$-]){re.escape(form)}(?![\w.-])(/[^\s'\";&|)]*)?")


def _effect(s: StageInfo, ins: Instruction, p: str) -> int:
    """0: ``ins`` leaves ``p`` alone; 1: it may create ``p``; 2: it may write inside ``p``."""
    if ins.cmd == "WORKDIR":
        w = workdir_path(s, ins, expand(ins.args.strip().strip("\"'"), s.env)[0])
        return 1 if w == p else 2 if _below(w, p) else 0
    if ins.cmd in ("COPY", "ADD"):
        dest = _dest(s, ins)
        if dest is None or dest == p or _below(dest, p):
            return 2
        if _below(p, dest):
            for src in ins.values[:-1]:
                name = posixpath.basename(src.rstrip("/"))
                target = posixpath.join(dest, name)
                if (ins.cmd == "ADD" or src.endswith("/") or "." not in name.strip(".")
                        or re.search(r"[*?\[$]", src) or target == p or _below(p, target)):
                    return 2
        return 0
    if ins.cmd == "RUN":
        cwd = workdir_path(s, ins, ".")
        if cwd == p or _below(cwd, p):
            return 2
        texts = [ins.args, *(h.content for h in ins.heredocs)]
        return max(_mentions(t, p, cwd) for t in texts + [expand(t, s.env)[0] for t in texts])
    return 0


def _match_copy(steps: list[_Step], n: int, cmds: list[Command], k: int,
                p: str) -> int | None:
    """Index of the COPY/ADD in the chown's stage that wrote ``p``, if nothing
    after it (nor an earlier command of the RUN, nor a chmod in it) touches ``p``."""
    s, run = steps[n]
    cwd = workdir_path(s, run, ".")
    if any(f.name == "mount" and _mentions(f.value or "", p, "/") for f in run.flags):
        return None  # PATH is (or holds) a build-time mount, not the image's files
    for i, c in enumerate(cmds):
        hit = _mentions(expand(run.logical[c.start:c.end], s.env)[0], p, cwd)
        if (i < k and (hit or cwd == p or _below(cwd, p))) or (hit and c.name == "chmod"):
            return None
    for j in range(n - 1, -1, -1):
        s2, ins = steps[j]
        if s2 is not s:
            return None
        if ins.cmd in ("COPY", "ADD") and _dest(s, ins) == p:
            local = [v for v in ins.values[:-1] if "://" not in v]
            return None if ins.cmd == "ADD" and any(_ARCHIVE.search(v) for v in local) else j
        effect = _effect(s, ins, p)
        if effect == 2 or (effect and ins.cmd == "RUN"):
            return None
    return None


def _history(steps: list[_Step], at: int, p: str) -> list[str] | None:
    """Why the fix is unsafe for what came before the COPY; None: no fix."""
    s, copy = steps[at]
    parent = posixpath.dirname(p)
    known = parent == "/" or (parent in _IMAGE_DIRS and s.family.fhs)
    existed = p in _MAYBE_IMAGE_DIRS
    for s2, ins in steps[:at]:
        effect = _effect(s2, ins, p)
        if effect == 2:
            return None
        existed = existed or effect == 1
        known = known or bool(_effect(s2, ins, parent))
    out: list[str] = []
    if existed:
        out.append(f"`{p}` exists before the `{copy.cmd}`, and `--chown` keeps its owner")
    if copy.flag("link") is not None and parent != "/":
        out.append("`--link --chown` also re-owns the parent directories")
    elif not known:
        out.append(f"BuildKit gives `{parent}` to the owner if the `{copy.cmd}` creates it")
    return out


def _owner_missing(steps: list[_Step], at: int, user: str, group: str | None) -> str | None:
    """Why ``COPY --chown=user:group`` would fail at ``steps[at]``, or None."""
    s, _ = steps[at]
    before = {id(i) for _, i in steps[:at]}
    made = {expand(k, s.env)[0]: u for k, u in s.known_users().items() if id(u.ins) in before}
    shipped = {**s.image_users(), "root": 0}
    u = made.get(user)
    if not user.isdigit() and u is None and user not in shipped:
        return (f"no user `{user}` exists before it (the classic builder fails, "
                "BuildKit silently keeps root)")
    if group is None or group.isdigit() or group == "root" or (group == user and u is None):
        return None
    if u is not None and (expand(u.group or "", s.env)[0] == group
                          or (group == user and _own_group(u.ins, u.name))):
        return None
    for s2, ins in steps[:at]:
        for c in run_commands(ins):
            a = c.args_after_name()
            if c.name in ("groupadd", "addgroup") and a and expand(a[-1], s2.env)[0] == group:
                return None
    return (f"no group `{group}` exists before it (the classic builder fails, "
            "BuildKit silently keeps root)")


def _own_group(run: Instruction, name: str) -> bool:
    """The command creating ``name`` also makes a group of the same name."""
    for c in run_commands(run):
        a = c.args_after_name()
        if name not in a:
            continue
        if c.name == "useradd":
            return not any(re.fullmatch(r"-[a-zA-Z]*[Ng][a-zA-Z]*|--no-user-group|--gid.*", x)
                           for x in a)
        if c.name == "adduser":
            if any(re.fullmatch(r"-[a-zA-Z]*G[a-zA-Z]*|--ingroup.*|--gid.*", x) for x in a):
                return False
            system = any(re.fullmatch(r"-[a-zA-Z]*S[a-zA-Z]*|--system", x) for x in a)
            return not system or "--group" in a
    return False

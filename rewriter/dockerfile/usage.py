"""How the image is documented to be run: the ``docker run`` lines of its usage
comments and of the README beside it, read (never executed) into flags.

A Dockerfile often opens with its own usage::

    # docker run -it \\
    #   -v $HOME/documents:/root/documents \\
    #   --device /dev/snd \\
    #   jess/evince

and the README of its directory shows the same in a code block. What that
command mounts and asks for (the host's devices, its process table, a bind
mount of the working tree) decides whether the process can run as another
user, so the judge reads each invocation as a :class:`Invocation`.

Which READMEs count, conservatively: ``README.md``/``README.rst``/``README``
(any case) of the Dockerfile's directory, and the repository root's README
only when the Dockerfile sits at the root or in a directory directly below it
and no other Dockerfile is beside it, at the root or in another directory
directly below it. A README's invocation
counts when it runs this image: its name is the directory's name or the
program's the container runs, or a tag that a documented ``docker build -t``
gives; or it is the only image the README runs, and the README also builds it
or is the root's README of a repository with this one Dockerfile. Usage
comments of the Dockerfile itself always count.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass

from rewriter.io.context import BuildContext, dockerfile_dir


@dataclass(frozen=True)
class Mount:
    """One ``-v``/``--volume``/``--mount`` of a documented run."""

    source: str  #: host path or volume name ("" for an anonymous volume)
    target: str  #: the path in the container
    read_only: bool
    bind: bool  #: the source is a host path (not a named or anonymous volume)

    @property
    def working_tree(self) -> bool:
        """The host's current directory (``$PWD``, ``$(pwd)``, ``.``, ``%cd%``)."""
        s = self.source.rstrip("/\\")
        return bool(re.fullmatch(r"\.|\$\{?PWD\}?|\$\(pwd\)|`pwd`|%cd%|\$\{?pwd\}?", s, re.I))


@dataclass(frozen=True)
class Invocation:
    """A documented ``docker run`` and what it asks for."""

    path: str  #: the file that documents it, relative to the context
    line: int  #: 1-based line where ``docker run`` starts
    text: str  #: that line, stripped, for citing
    image: str  #: the image it runs ("" when not found)
    mounts: tuple[Mount, ...] = ()
    privileged: bool = False
    devices: tuple[str, ...] = ()
    cap_add: tuple[str, ...] = ()
    gpus: bool = False
    pid_host: bool = False
    net_host: bool = False
    user: str | None = None
    workdir: str | None = None  #: ``-w``/``--workdir``: where the program works
    ports: tuple[tuple[int, int], ...] = ()  #: (host, container) of ``-p``

    span: tuple[str, ...] = ()  #: the raw lines of the whole invocation

    def cite(self, fragment: str = "") -> str:
        """``path:line: text`` of the line that holds ``fragment`` (a flag's
        value), else of the line where the invocation starts."""
        line, text = self.line, self.text
        for i, raw in enumerate(self.span if fragment else ()):
            if fragment in raw:
                line, text = self.line + i, raw.strip()
                break
        body = text if len(text) <= 100 else text[:97] + "..."
        return f"{self.path}:{line}: {body}"


#: ``docker run`` flags that take a value (the rest are booleans)
_VALUE_FLAGS = frozenset({
    "-v", "--volume", "--mount", "-p", "--publish", "--pid", "--net", "--network", "--device",
    "--cap-add", "--cap-drop", "-u", "--user", "-e", "--env", "--env-file", "--name", "-w",
    "--workdir", "--entrypoint", "-h", "--hostname", "--link", "--add-host", "--dns",
    "--restart", "--log-driver", "--log-opt", "--security-opt", "--ipc", "--uts", "--tmpfs",
    "--shm-size", "-m", "--memory", "--cpus", "--label", "-l", "--runtime", "--gpus",
    "--volumes-from", "--group-add", "--platform", "--ulimit", "--cidfile", "--userns",
    "--cgroupns", "--stop-signal", "--stop-timeout", "--device-cgroup-rule", "--sysctl",
    "--expose", "--network-alias", "--ip", "--ip6", "--mac-address", "--pull", "-a", "--attach",
    "--cpu-shares", "-c", "--cpuset-cpus", "--memory-swap", "--health-cmd", "--detach-keys",
    "--volume-driver", "--storage-opt", "--label-file", "--oom-score-adj",
})
#: short flags that take a value, as one letter (``-v/x:/y``, ``-p8080:80``)
_SHORT_VALUE = frozenset("vpuewhlmca")
_START = re.compile(r"\bdocker\s+(?:container\s+)?run\b")
_BUILD_TAG = re.compile(r"\bdocker\s+(?:image\s+)?build\b[^\n]*?\s(?:-t|--tag)[= ]\s*['\"]?([^\s'\"]+)")
_READMES = ("readme.md", "readme.rst", "readme", "readme.txt", "readme.markdown")
_DOCKERFILEISH = re.compile(r"(?i)^(?:dockerfile(?:[._-][\w.-]+)?|[\w.-]+\.dockerfile|containerfile)$")


def _logical_lines(lines: list[str]) -> list[tuple[int, int, str]]:
    """(index of first and last line, joined text) of each ``docker run`` and the
    lines that continue it with a trailing ``\\`` (or ``^``/`` ` `` on Windows)."""
    out: list[tuple[int, int, str]] = []
    i = 0
    while i < len(lines):
        m = _START.search(lines[i])
        if not m:
            i += 1
            continue
        start, parts = i, [lines[i][m.start():]]
        while i + 1 < len(lines):
            cur = re.sub(r"\s+#.*$", "", parts[-1]) if re.search(r"[\\^`]\s+#", parts[-1]) \
                else parts[-1]
            stripped = cur.rstrip()
            if not stripped.endswith(("\\", " ^", " `")) or len(parts) >= 40:
                break
            parts[-1] = stripped[:-1]
            i += 1
            parts.append(lines[i])
        out.append((start, i, " ".join(p.strip() for p in parts)))
        i += 1
    return out


def _words(text: str) -> list[str]:
    text = re.split(r"\s(?:\||&&|\|\||;)\s|;\s*$", text)[0]
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError:
        return text.split()


def _split_volume(spec: str) -> tuple[str, str, list[str]]:
    """``SRC:DST[:OPTS]`` (a Windows ``C:\\x`` source kept whole)."""
    drive = ""
    m = re.match(r"^([A-Za-z]:)([\\/].*)$", spec)
    if m:
        drive, spec = m.group(1), m.group(2)
    parts = spec.split(":")
    if len(parts) == 1:
        return "", drive + parts[0], []
    return drive + parts[0], parts[1], [o for p in parts[2:] for o in p.split(",")]


def _is_host_path(source: str) -> bool:
    return bool(source) and (source[0] in "/.~$%`\\" or re.match(r"^[A-Za-z]:[\\/]", source)
                             is not None)


def _mount(flag: str, value: str) -> Mount | None:
    if flag == "--mount":
        kv: dict[str, str] = {}
        for item in value.split(","):
            key, _, val = item.partition("=")
            kv[key.strip().lower()] = val.strip()
        kind = kv.get("type", "volume")
        if kind == "tmpfs":
            return None
        target = kv.get("target") or kv.get("destination") or kv.get("dst") or ""
        source = kv.get("source") or kv.get("src") or ""
        ro = "readonly" in kv or "ro" in kv
        if ro and kv.get("readonly", kv.get("ro", "")).lower() in ("false", "0"):
            ro = False
        return Mount(source, target, ro, kind == "bind") if target else None
    source, target, opts = _split_volume(value)
    if not target.startswith("/") and not re.match(r"^[A-Za-z]:[\\/]", target):
        return None
    return Mount(source, target, "ro" in opts or "readonly" in opts, _is_host_path(source))


def parse_invocation(text: str) -> tuple[str, dict[str, object]]:
    """The image and the flags of one ``docker run ...`` line (joined)."""
    words = _words(text)
    i = 0
    while i < len(words) and words[i] != "run":
        i += 1
    i += 1
    flags: dict[str, object] = {"mounts": [], "devices": [], "cap_add": [], "ports": []}
    image = ""
    while i < len(words):
        w = words[i]
        i += 1
        if not w.startswith("-") or w == "-":
            image = w
            break
        if w == "--":
            continue
        if w.startswith("--"):
            name, eq, value = w.partition("=")
            if not eq:
                if name in _VALUE_FLAGS and i < len(words):
                    value = words[i]
                    i += 1
                elif name in _VALUE_FLAGS:
                    break
                else:
                    value = ""
            _flag(flags, name, value)
            continue
        # short flags: booleans bundled (``-it``), or one that takes a value
        for j, ch in enumerate(w[1:], 1):
            if ch in _SHORT_VALUE:
                value = w[j + 1:].lstrip("=")
                if not value and i < len(words):
                    value = words[i]
                    i += 1
                _flag(flags, "-" + ch, value)
                break
    return image, flags


def _flag(flags: dict[str, object], name: str, value: str) -> None:
    def add(key: str, item: object) -> None:
        lst = flags[key]
        assert isinstance(lst, list)
        lst.append(item)

    if name in ("-v", "--volume", "--mount"):
        m = _mount(name, value)
        if m is not None:
            add("mounts", m)
    elif name == "--privileged":
        flags["privileged"] = value.lower() not in ("false", "0")
    elif name == "--device":
        add("devices", value)
    elif name == "--cap-add":
        add("cap_add", value)
    elif name == "--gpus" or (name == "--runtime" and value == "nvidia"):
        flags["gpus"] = True
    elif name == "--pid":
        flags["pid_host"] = value == "host"
    elif name in ("--net", "--network"):
        flags["net_host"] = value == "host"
    elif name in ("-u", "--user"):
        flags["user"] = value
    elif name in ("-w", "--workdir"):
        flags["workdir"] = value
    elif name in ("-p", "--publish"):
        m2 = re.search(r"(?:^|:)(\d+)(?:-\d+)?:(\d+)(?:-\d+)?(?:/\w+)?$", value)
        if m2:
            add("ports", (int(m2.group(1)), int(m2.group(2))))
        elif re.fullmatch(r"\d+(?:/\w+)?", value):
            port = int(value.split("/")[0])
            add("ports", (0, port))


def _invocations(path: str, text: str, *, comments_only: bool) -> list[Invocation]:
    if not _START.search(text):
        return []  # most files: no documented run at all
    raw = text.splitlines()
    if comments_only:
        # a usage comment: the text after ``#`` of comment lines (others end a run)
        lines = [re.sub(r"^\s*#+", "", ln) if ln.lstrip().startswith("#") else "" for ln in raw]
    else:
        lines = [re.sub(r"^\s*(?:[$>]|PS\S*>|C:\\\S*>)\s+", "", ln) for ln in raw]
    out: list[Invocation] = []
    for idx, end, joined in _logical_lines(lines):
        image, f = parse_invocation(joined)
        mounts = f["mounts"]
        devices = f["devices"]
        caps = f["cap_add"]
        ports = f["ports"]
        assert isinstance(mounts, list) and isinstance(devices, list)
        assert isinstance(caps, list) and isinstance(ports, list)
        user, workdir = f.get("user"), f.get("workdir")
        out.append(Invocation(
            path, idx + 1, raw[idx].strip(), image, tuple(mounts),
            privileged=bool(f.get("privileged")), devices=tuple(devices), cap_add=tuple(caps),
            gpus=bool(f.get("gpus")), pid_host=bool(f.get("pid_host")),
            net_host=bool(f.get("net_host")), user=user if isinstance(user, str) else None,
            workdir=workdir if isinstance(workdir, str) else None,
            ports=tuple(ports), span=tuple(raw[idx:end + 1])))
    return out


def _image_name(ref: str) -> str:
    """``ghcr.io/jess/evince:latest`` -> ``evince``."""
    ref = ref.split("@")[0]
    last = ref.rsplit("/", 1)[-1]
    return last.split(":")[0].lower()


def _norm(name: str) -> str:
    return re.sub(r"[-_.]", "", name.lower())


def _readme(build: BuildContext, d: str) -> str | None:
    for entry in build.list_dir(d):
        if entry.lower() in _READMES:
            return f"{d}/{entry}" if d else entry
    return None


def _dockerfiles_in(build: BuildContext, d: str, most: int = 2) -> int:
    """How many Dockerfiles ``d`` holds, counted up to ``most`` (only "none",
    "one" or "more" matters, and a directory may hold thousands of entries)."""
    n = 0
    for e in build.list_dir(d):
        if _DOCKERFILEISH.match(e) and not build.is_dir(f"{d}/{e}" if d else e):
            n += 1
            if n >= most:
                break
    return n


def _only_image(build: BuildContext, here: str) -> bool:
    """No other Dockerfile at the root or in a directory directly below it."""
    if here and _dockerfiles_in(build, "", 1):
        return False
    for entry in build.list_dir(""):
        if entry != here and not entry.startswith(".") and build.is_dir(entry) \
                and _dockerfiles_in(build, entry, 1):
            return False
    return True


def documented_runs(build: BuildContext | None, dockerfile_text: str,
                    dockerfile_name: str, program: str = "") -> list[Invocation]:
    """Every documented ``docker run`` of this image: the Dockerfile's usage
    comments, then the README(s) that document it (see the module docstring).
    ``program`` is what the container runs: an image named after it is this one."""
    out = _invocations(dockerfile_name, dockerfile_text, comments_only=True)
    if build is None or not build.dockerfile:
        return out
    here = dockerfile_dir(build)
    if _dockerfiles_in(build, here) > 1:
        return out
    # (README, it is the root's): the root's README of a file one directory
    # down counts only when this is the repository's one image
    readmes = [(p, not here) for p in [_readme(build, here)] if p]
    if here and "/" not in here:
        readmes += [(p, True) for p in [_readme(build, "")] if p]
    names = {_norm(posixpath.basename(here))} if here else set()
    if program:
        names.add(_norm(posixpath.basename(program)))
    tags = [m.group(1) for m in _BUILD_TAG.finditer(dockerfile_text)]
    one_image: bool | None = None  # listing the top directories only when it matters
    for p, at_root in readmes:
        text = build.read_text(p)
        if not text or not _START.search(text):
            continue
        if at_root and here:
            one_image = _only_image(build, here) if one_image is None else one_image
            if not one_image:
                continue
        runs = _invocations(p, text, comments_only=False)
        tags += [m.group(1) for m in _BUILD_TAG.finditer(text)]
        wanted = names | {_norm(_image_name(t)) for t in tags}
        images = {_norm(_image_name(r.image)) for r in runs if r.image}
        for r in runs:
            name = _norm(_image_name(r.image)) if r.image else ""
            if not name:
                continue
            if name not in wanted and len(images) == 1 and "docker build" not in text \
                    and at_root:
                one_image = _only_image(build, here) if one_image is None else one_image
                if one_image:
                    out.append(r)
            elif name in wanted or (len(images) == 1 and "docker build" in text):
                out.append(r)
    return out


__all__ = ["Invocation", "Mount", "documented_runs", "parse_invocation"]

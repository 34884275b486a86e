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

A README named after the Dockerfile, its *companion* (``README.dev.md``,
``README.dev.rst`` or ``README.dev``, any case, beside ``Dockerfile.dev`` or
``dev.Dockerfile``), documents that one Dockerfile, however many others its
directory holds: its runs count when they run an image named as above, or when
it runs only one image. It is one of the READMEs :func:`image_readmes` gives.

When the Dockerfile is alone in its directory, that directory's Makefiles
(their variables expanded: ``IMAGE ?= foo``, ``$(IMAGE):$(TAG)``) and shell
scripts (their simple assignments expanded: ``NAME="${NAME:-foo}"``) are read
too. A ``docker build -t TAG`` in them that builds this Dockerfile (no ``-f``
and a context of ``.``, or ``-f`` naming it) names the image. Their runs count
when they run an image named as above; one whose image stays unresolved
(``docker run "$1"``) only when it is the file's one run and the file builds
this Dockerfile. The root's Makefiles and scripts are read the same way when
its README would count for a file one directory down. The ``*.md`` pages of
``docs/`` beside it (and of the root's ``docs/`` when the root's README
counts) count by name only. ``docker compose
run SERVICE`` counts, anywhere, when ``SERVICE`` is one of the compose services
that build this Dockerfile (the caller names them).
"""

from __future__ import annotations

import functools
import posixpath
import re
import shlex
from dataclasses import dataclass

from rewriter.io.context import BuildContext, ancestors, dockerfile_dir


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
    #: the command words after the image (``g -c conf.yaml``): they replace the
    #: image's CMD; empty when the run names none
    command: tuple[str, ...] = ()
    entrypoint: str | None = None  #: ``--entrypoint``: replaces the image's ENTRYPOINT
    interactive: bool = False  #: ``-i``/``-t`` (``-it``): a terminal session

    span: tuple[str, ...] = ()  #: the raw lines of the whole invocation
    #: a ``docker compose run SERVICE``: ``image`` is the service's name
    compose: bool = False

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
_START = re.compile(
    r"\bdocker(?:\s+(?:container\s+)?|(?P<compose>-compose|\s+compose)\s+"
    r"(?:-[\w-]+(?:[= ](?!run\b)[^\s-]\S*)?\s+)*)run\b")
_BUILD_TAG = re.compile(r"\bdocker\s+(?:image\s+)?build\b[^\n]*?\s(?:-t|--tag)[= ]\s*['\"]?([^\s'\"]+)")
_READMES = ("readme.md", "readme.rst", "readme", "readme.txt", "readme.markdown")
DOCKERFILE_NAME = r"(?i)^(?:dockerfile(?:[._-][\w.-]+)?|[\w.-]+\.dockerfile|containerfile)$"


def logical_lines(lines: list[str], opener: re.Pattern[str] = _START,
                   ) -> list[tuple[int, int, str]]:
    """(index of first and last line, joined text) of each ``docker run`` (or
    what ``opener`` finds) and the lines that continue it with a trailing ``\\``
    (or ``^``/`` ` `` on Windows)."""
    out: list[tuple[int, int, str]] = []
    i = 0
    while i < len(lines):
        m = opener.search(lines[i])
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
    """A host path, a variable, or a placeholder the reader fills in with one
    (``-v <path>:/data``, ``-v {dir}:/data``): a named volume is a bare name."""
    return bool(source) and (source[0] in "/.~$%`\\<{[" or re.match(r"^[A-Za-z]:[\\/]", source)
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


def _command_words(words: list[str]) -> list[str]:
    """The command that follows the image, up to what ends it on a page: a
    shell comment, a redirection, the closing backtick of inline code."""
    out: list[str] = []
    for w in words:
        if w.startswith("#") or re.fullmatch(r"\d?[<>]+&?\d*|&", w):
            break
        if "`" in w:
            head = w.split("`", 1)[0]
            if head:
                out.append(head)
            break
        out.append(w)
    return out


def parse_invocation(text: str) -> tuple[str, dict[str, object]]:
    """The image and the flags of one ``docker run ...`` line (joined); the
    words after the image are the flag ``command``."""
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
            image = w.rstrip(")`;")  # ``id=$(docker run ... IMAGE)``
            if image == w:  # else it ends there, with no command
                flags["command"] = _command_words(words[i:])
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
            if ch in "it":
                flags["interactive"] = True
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
    elif name == "--entrypoint":
        flags["entrypoint"] = value
    elif name in ("--interactive", "--tty") and value.lower() not in ("false", "0"):
        flags["interactive"] = True
    elif name in ("-p", "--publish"):
        m2 = re.search(r"(?:^|:)(\d+)(?:-\d+)?:(\d+)(?:-\d+)?(?:/\w+)?$", value)
        if m2:
            add("ports", (int(m2.group(1)), int(m2.group(2))))
        elif re.fullmatch(r"\d+(?:/\w+)?", value):
            port = int(value.split("/")[0])
            add("ports", (0, port))


def _invocations(path: str, text: str, *, comments_only: bool,
                 lines: list[str] | None = None) -> list[Invocation]:
    """The runs of ``text``; ``lines``, when given, are its lines as the shell
    would see them (a Makefile's or script's variables expanded), one for each."""
    if lines is None and ("docker" not in text or not _START.search(text)):
        return []  # most files: no documented run at all
    raw = text.splitlines()
    if lines is not None:
        pass
    elif comments_only:
        # a usage comment: the text after ``#`` of comment lines (others end a run)
        lines = [re.sub(r"^\s*#+", "", ln) if ln.lstrip().startswith("#") else "" for ln in raw]
    else:
        lines = [re.sub(r"^\s*(?:[$>]|PS\S*>|C:\\\S*>)\s+", "", ln) for ln in raw]
    out: list[Invocation] = []
    for idx, end, joined in logical_lines(lines):
        image, f = parse_invocation(joined)
        start = _START.search(joined)
        mounts = f["mounts"]
        devices = f["devices"]
        caps = f["cap_add"]
        ports = f["ports"]
        assert isinstance(mounts, list) and isinstance(devices, list)
        assert isinstance(caps, list) and isinstance(ports, list)
        user, workdir = f.get("user"), f.get("workdir")
        words, entry = f.get("command", []), f.get("entrypoint")
        assert isinstance(words, list)
        out.append(Invocation(
            path, idx + 1, raw[idx].strip(), image, tuple(mounts),
            privileged=bool(f.get("privileged")), devices=tuple(devices), cap_add=tuple(caps),
            gpus=bool(f.get("gpus")), pid_host=bool(f.get("pid_host")),
            net_host=bool(f.get("net_host")), user=user if isinstance(user, str) else None,
            workdir=workdir if isinstance(workdir, str) else None,
            ports=tuple(ports), command=tuple(words),
            entrypoint=entry if isinstance(entry, str) else None,
            interactive=bool(f.get("interactive")), span=tuple(raw[idx:end + 1]),
            compose=bool(start and start.group("compose"))))
    return out


def _image_name(ref: str) -> str:
    """``ghcr.io/jess/evince:latest`` -> ``evince``."""
    ref = ref.split("@")[0]
    last = ref.rsplit("/", 1)[-1]
    return last.split(":")[0].lower()


def _norm(name: str) -> str:
    return re.sub(r"[-_.]", "", name.lower())


def _readme(build: BuildContext, d: str) -> str | None:
    by_lower = _by_lower(build.list_dir(d))
    entry = min((e for r in _READMES for e in by_lower.get(r, ())), default=None)
    return None if entry is None else f"{d}/{entry}" if d else entry


def companion_readme(build: BuildContext | None, dockerfile: str | None = None) -> str | None:
    """The README named after the Dockerfile (``dockerfile``, the context's own
    by default), beside it: ``README.dev.md``, ``README.dev.rst`` or
    ``README.dev`` (any case) for ``Dockerfile.dev`` or ``dev.Dockerfile``. It
    documents that one Dockerfile, however many others its directory holds."""
    dockerfile = dockerfile or (build.dockerfile if build is not None else None)
    if build is None or not dockerfile:
        return None
    here, base = posixpath.split(dockerfile)
    m = re.fullmatch(r"(?i)dockerfile\.([\w.-]+)|([\w.-]+)\.dockerfile", base)
    if not m:
        return None
    suffix = (m.group(1) or m.group(2)).lower()
    wanted = {f"readme.{suffix}{ext}" for ext in (".md", ".rst", "")} - set(_READMES)
    by_lower = _by_lower(build.list_dir(here))
    for entry in sorted(e for w in wanted for e in by_lower.get(w, ())):
        path = f"{here}/{entry}" if here else entry
        if not build.is_dir(path):
            return path
    return None


@functools.lru_cache(maxsize=32)
def _by_lower(names: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """The entries of a directory listing by their lower-case name: asked for
    every Dockerfile of a directory that may hold thousands."""
    out: dict[str, list[str]] = {}
    for name in names:
        out.setdefault(name.lower(), []).append(name)
    return {k: tuple(v) for k, v in out.items()}


def _dockerfiles_in(build: BuildContext, d: str, most: int = 2) -> int:
    """How many Dockerfiles ``d`` holds, counted up to ``most`` (only "none",
    "one" or "more" matters, and a directory may hold thousands of entries)."""
    n = 0
    for e in _dockerfile_names(build.list_dir(d)):
        if not build.is_dir(f"{d}/{e}" if d else e):
            n += 1
            if n >= most:
                break
    return n


@functools.lru_cache(maxsize=32)
def _dockerfile_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """The entries of a directory listing named as Dockerfiles are."""
    return tuple(e for e in names if re.match(DOCKERFILE_NAME, e))


def _only_image(build: BuildContext, here: str) -> bool:
    """No other Dockerfile at the root or in a directory directly below it."""
    if here and _dockerfiles_in(build, "", 1):
        return False
    for entry in build.list_dir(""):
        if entry != here and not entry.startswith(".") and build.is_dir(entry) \
                and _dockerfiles_in(build, entry, 1):
            return False
    return True


# ---------------------------------------------------------------------------
# Makefiles and scripts: their variables, and the builds they run
# ---------------------------------------------------------------------------

_MAKEFILES = ("makefile", "gnumakefile")
# The patterns of Makefiles and scripts are strings that ``re`` compiles (and
# keeps) when a file first needs them: most build contexts have neither.
_MAKE_ASSIGN = (
    r"^(?:(?:override|export)\s+)*([A-Za-z_][\w.-]*)\s*(\?=|::?=|:::=|\+=|!=|=)\s*(.*?)\s*$")
_MAKE_REF = r"\$\(([^()$]*)\)|\$\{([^{}$]*)\}"
_SH_ASSIGN = (
    r"(?m)(?:^|[;&|(]|\b(?:then|do|else)\b)[ \t]*"
    r"(?:(?:export|readonly|local|declare(?:[ \t]+-\w+)*)[ \t]+)?([A-Za-z_]\w*)(\+?)="
    r"(\"[^\"\n]*\"|'[^'\n]*'|[^\s;&|'\"()]*)(?=[ \t]*(?:[;&|#)]|$))")
#: other ways a script sets a name: ``for NAME in``, ``read NAME``, ``getopts OPTS NAME``
_SH_OTHER_SET = r"\bfor[ \t]+{0}[ \t]+in\b|\bread\b[^\n;&|]*[ \t]{0}\b|\bgetopts[ \t]+\S+[ \t]+{0}\b"
_SH_REF = r"\$\{(\w+)(?:(:?[-=])([^{}]*))?\}|\$([A-Za-z_]\w*)"
_BUILD = r"\bdocker\s+(?:image\s+|buildx\s+)?build\b"
#: ``docker build`` flags that take a value
_BUILD_VALUE_FLAGS = frozenset({
    "-t", "--tag", "-f", "--file", "--build-arg", "--target", "--platform", "--label",
    "--network", "--secret", "--ssh", "--cache-from", "--cache-to", "-o", "--output",
    "--progress", "--iidfile", "--add-host", "--build-context", "--shm-size", "--ulimit",
    "-m", "--memory", "--isolation", "--metadata-file", "--attest", "--provenance", "--sbom",
    "--builder", "--annotation", "--cgroup-parent", "--allow", "--squash-from",
})
#: ``docker build`` contexts that are the directory of the Makefile or script
_HERE_CONTEXTS = (
    r"\.|\./|\$\(pwd\)/?|\$\{?PWD\}?/?|\$\(dirname \S+\)|\$\{?(?:DIR|SCRIPT_DIR|HERE)\}?/?")
_MAX_SCRIPTS = 20


def _make_variables(text: str) -> dict[str, str | None]:
    """A Makefile's variables as its assignments set them, in order; None when
    only running something tells (``!=``)."""
    out: dict[str, str | None] = {}
    for line in text.replace("\\\n", " ").splitlines():
        if line.startswith("\t"):
            continue  # a recipe
        m = re.match(_MAKE_ASSIGN, line.strip())
        if not m:
            continue
        name, op, value = m.group(1), m.group(2), re.sub(r"\s#.*$", "", m.group(3))
        if op == "?=" and name in out:
            continue
        if op == "+=":
            prev = out.get(name)
            out[name] = None if prev is None and name in out else f"{prev or ''} {value}".strip()
        else:
            out[name] = None if op == "!=" else value
    return out


def _make_expand(text: str, variables: dict[str, str | None], depth: int = 0) -> str:
    """``$(NAME)``/``${NAME}`` replaced by the Makefile's value. ``$(CURDIR)``
    and ``$(shell pwd)`` are the working tree; an environment variable
    (``$(HOME)``) becomes the shell's ``${HOME}``; ``$$`` the shell's ``$``; a
    function call stays as it is (unresolved)."""
    text = text.replace("$$", "\0")

    def sub(m: re.Match[str]) -> str:
        name = (m.group(1) if m.group(1) is not None else m.group(2)).strip()
        if name in ("CURDIR", "shell pwd", "PWD"):
            return "$(pwd)"
        if " " in name or "," in name:
            return "\1" + m.group(0)[1:]  # a function: never a name
        value = variables.get(name)
        if value is None or depth > 8:
            return "${" + name + "}"
        return _make_expand(value, variables, depth + 1).replace("$", "\0")

    for _ in range(4):  # inner references first: ``$(IMAGE_$(ARCH))``
        new = re.sub(_MAKE_REF, sub, text)
        if new == text:
            break
        text = new
    return text.replace("\1", "$").replace("\0", "$")


def sh_variables(text: str, end: int | None = None) -> dict[str, str | None]:
    """A script's simple assignments (``IMAGE=foo``, ``NAME="${NAME:-foo}"``)
    before ``end``; None for a name it sets otherwise too (another value, a
    command's output, ``+=``, ``for``, ``read``): which value holds is unknown."""
    end = len(text) if end is None else end
    out: dict[str, str | None] = {}
    for m in re.compile(_SH_ASSIGN).finditer(text, 0, end):
        name, plus, value = m.group(1), m.group(2), m.group(3)
        if value[:1] in "\"'" and len(value) >= 2:
            value = value[1:-1]
        if plus or "$(" in value or "`" in value:
            out[name] = None
        elif name in out and out[name] != value:
            out[name] = None
        else:
            out.setdefault(name, value)
    for name in out:
        if re.search(_SH_OTHER_SET.format(name), text[:end]):
            out[name] = None
    return out


def sh_expand(text: str, variables: dict[str, str | None],
              seen: frozenset[str] = frozenset()) -> str:
    """``$NAME``, ``${NAME}``, ``${NAME:-default}`` replaced where the value is
    known; the others are left as they are. A name that is being expanded
    (``NAME="${NAME:-foo}"``) reads as unset."""
    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(4)
        default = m.group(3) if m.group(2) else None
        if name in seen or name not in variables:
            return sh_expand(default, variables, seen) if default is not None else m.group(0)
        value = variables[name]
        if value is None:
            return m.group(0)
        if value == "" and default is not None and m.group(2).startswith(":"):
            return sh_expand(default, variables, seen)
        return sh_expand(value, variables, seen | {name})

    if len(seen) > 8:
        return text
    return re.sub(_SH_REF, sub, text)


def _builds_this(lines: list[str], df_rel: str) -> tuple[bool, list[str]]:
    """Whether ``docker build`` lines (expanded) build the Dockerfile at
    ``df_rel`` (relative to the file that holds them), and the tags they give it."""
    builds, tags = False, []
    df_dir, df_base = posixpath.split(df_rel)
    for _, _, joined in logical_lines(lines, re.compile(_BUILD)):
        words = _words(joined)
        i = next((k + 1 for k, w in enumerate(words) if w == "build"), len(words))
        file, its_tags, positional = None, [], []
        while i < len(words):
            w = words[i]
            i += 1
            name, eq, value = w.partition("=") if w.startswith("--") else (w[:2], "", w[2:])
            if not w.startswith("-") or w == "-":
                positional.append(w)
                continue
            if name in _BUILD_VALUE_FLAGS:
                if not eq and not value:
                    value = words[i] if i < len(words) else ""
                    i += 1
                if name in ("-t", "--tag"):
                    its_tags.append(value)
                elif name in ("-f", "--file"):
                    file = value
        context = positional[0] if positional else ""
        if file is None:
            this = df_base == "Dockerfile" and (
                re.fullmatch(_HERE_CONTEXTS, context) is not None if not df_dir
                else "$" not in context and posixpath.normpath(context) == df_dir)
        else:
            folder, base = posixpath.split(file)
            this = base == df_base and (
                (folder in ("", ".") or "$" in folder) if not df_dir
                else "$" not in folder and posixpath.normpath(file) == df_rel)
        if this:
            builds = True
            tags += [t for t in its_tags if t and "$" not in t]
    return builds, tags


@dataclass
class _Written:
    """The runs a Makefile or script beside the Dockerfile writes down."""

    runs: list[Invocation]
    builds: bool  #: it also builds this Dockerfile
    tags: list[str]


def _make_runs(path: str, text: str, df_rel: str) -> _Written:
    variables = _make_variables(text)
    lines = []
    for ln in text.splitlines():
        if ln.lstrip().startswith("#") or (not ln.startswith("\t") and re.match(_MAKE_ASSIGN, ln)):
            lines.append("")  # a comment, or an assignment (the recipes use it)
            continue
        lines.append(re.sub(r"^\t[@+-]*", "", _make_expand(ln, variables)))
    builds, tags = _builds_this(lines, df_rel)
    return _Written(_invocations(path, text, comments_only=False, lines=lines), builds, tags)


def _script_runs(path: str, text: str, df_rel: str) -> _Written:
    variables = sh_variables(text)
    lines = ["" if ln.lstrip().startswith("#") else sh_expand(ln, variables)
             for ln in text.splitlines()]
    builds, tags = _builds_this(lines, df_rel)
    return _Written(_invocations(path, text, comments_only=False, lines=lines), builds, tags)


def _written_name(entry: str) -> str:
    """``make`` for a Makefile, ``sh`` for a shell script, else ``""``."""
    low = entry.lower()
    if low in _MAKEFILES or low.endswith(".mk"):
        return "make"
    return "sh" if low.endswith((".sh", ".bash")) else ""


def _written_runs(build: BuildContext, here: str, df_rel: str) -> list[_Written]:
    """The Makefiles (``Makefile``, ``*.mk``) and shell scripts (``*.sh``) of
    the directory ``here`` that run or build an image; ``df_rel`` is the
    Dockerfile's path from there."""
    out: list[_Written] = []
    n = 0
    for entry in sorted(build.list_dir(here)):
        make = _written_name(entry) == "make"
        if not _written_name(entry):
            continue
        n += 1
        if n > _MAX_SCRIPTS:
            break
        path = f"{here}/{entry}" if here else entry
        if build.is_dir(path):
            continue
        text = build.read_text(path)
        if not text or "docker" not in text:
            continue
        out.append((_make_runs if make else _script_runs)(path, text, df_rel))
    return out


def _docs(build: BuildContext, d: str, most: int = 30) -> list[str]:
    """The ``*.md`` pages of the folder ``docs`` under ``d``."""
    folder = f"{d}/docs" if d else "docs"
    if not build.is_dir(folder):
        return []
    return [f"{folder}/{e}" for e in sorted(build.list_dir(folder))[:most]
            if e.lower().endswith(".md")]


def _candidate_readmes(build: BuildContext, here: str) -> list[tuple[str, bool]]:
    """(README, it is the root's) that may document the image of ``here``: the
    root's README of a file one directory down counts only when this is the
    repository's one image (the caller checks, when it matters)."""
    readmes = [(p, not here) for p in [_readme(build, here)] if p]
    if here and "/" not in here:
        readmes += [(p, True) for p in [_readme(build, "")] if p]
    return readmes


def _own_names(here: str, program: str) -> set[str]:
    """The names an image goes by without a tag: its directory's, its program's."""
    names = {_norm(posixpath.basename(here))} if here else set()
    if program:
        names.add(_norm(posixpath.basename(program)))
    return names


def image_readmes(build: BuildContext | None) -> list[str]:
    """The READMEs that document this image, as :func:`documented_runs` counts
    them: its companion README (:func:`companion_readme`), and the directory's
    (and root's) READMEs unless its directory holds several Dockerfiles."""
    if build is None or not build.dockerfile:
        return []
    here = dockerfile_dir(build)
    companion = [p for p in [companion_readme(build)] if p]
    if _dockerfiles_in(build, here) > 1:
        return companion
    return [p for p, at_root in _candidate_readmes(build, here)
            if not (at_root and here) or _only_image(build, here)] + companion


def own_readme(build: BuildContext | None) -> str | None:
    """The README that documents this one Dockerfile: its companion README
    (:func:`companion_readme`), else the README of its directory when it is the
    only Dockerfile there."""
    if build is None or not build.dockerfile:
        return None
    companion = companion_readme(build)
    if companion is not None:
        return companion
    here = dockerfile_dir(build)
    return _readme(build, here) if _dockerfiles_in(build, here) == 1 else None


@functools.lru_cache(maxsize=16)
def _build_tags(dockerfile_text: str) -> tuple[str, ...]:
    """The tags a ``docker build -t`` in the Dockerfile's text gives it: read
    once a file, however many checks ask (a long file is slow to search)."""
    if "docker" not in dockerfile_text or "build" not in dockerfile_text:
        return ()
    return tuple(m.group(1) for m in _BUILD_TAG.finditer(dockerfile_text))


def image_names(build: BuildContext | None, dockerfile_text: str, program: str = "",
                texts: tuple[str, ...] = ()) -> tuple[set[str], set[str]]:
    """The names this image goes by, normalized: (its directory's and its program's,
    the tags a ``docker build -t`` in the Dockerfile or in ``texts`` gives it)."""
    here = dockerfile_dir(build) if build is not None and build.dockerfile else ""
    found = [*_build_tags(dockerfile_text), *(m.group(1) for t in texts for m in _BUILD_TAG.finditer(t))]
    tags = {_norm(_image_name(tag)) for tag in found}
    return _own_names(here, program), tags


def built_tags(build: BuildContext, dockerfile: str, text: str) -> list[str]:
    """The tags a ``docker build -t`` gives the Dockerfile at ``dockerfile``
    (``text``): in its own comments, or in its companion README."""
    comments = "\n".join(ln for ln in text.splitlines() if ln.lstrip().startswith("#"))
    tags = [m.group(1) for m in _BUILD_TAG.finditer(comments)]
    companion = companion_readme(build, dockerfile)
    if companion is not None:
        tags += [m.group(1) for m in _BUILD_TAG.finditer(build.read_text(companion) or "")]
    return tags


def image_ref_name(ref: str) -> str:
    """The normalized name of an image reference (``ghcr.io/jess/evince:1`` -> ``evince``)."""
    return _norm(_image_name(ref))


#: ``docker pull X``, and prose that says to pull one: "Pull `X`"
_PULL = re.compile(r"\bdocker\s+(?:image\s+)?pull\s+(?:-\S+\s+)*['\"]?([^\s'\"`]+)"
                   r"|(?i:\bpull\b)[^`\n]{0,40}`([^`\s]+)`")


def offered_images(text: str) -> list[str]:
    """The images a README tells its reader to pull, run or build: ``docker
    pull X`` (or "Pull `X`"), ``docker run ... X``, ``docker build -t X``."""
    out = [m.group(1) or m.group(2) for m in _PULL.finditer(text)]
    out += [m.group(1) for m in _BUILD_TAG.finditer(text)]
    lines = [re.sub(r"^\s*(?:[$>]|PS\S*>|C:\\\S*>)\s+", "", ln) for ln in text.splitlines()]
    out += [parse_invocation(joined)[0] for _, _, joined in logical_lines(lines)]
    return [r for r in out if r]


def code_lines(text: str, rst: bool = False) -> list[tuple[int, str]]:
    """(index, line) of the lines of a README that are code: inside a fenced
    block (```, ~~~), indented by four spaces or a tab, or (reST) the indented
    block after a paragraph that ends with ``::``."""
    out: list[tuple[int, str]] = []
    fence = ""
    literal = False
    for i, ln in enumerate(text.splitlines()):
        m = re.match(r"^\s*(`{3,}|~{3,})", ln)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = ""
            else:
                out.append((i, ln))
            continue
        if m:
            fence = m.group(1)
            continue
        if not ln.strip():
            continue
        indented = bool(re.match(r"^(?: {4}|\t)", ln))
        if rst and literal and re.match(r"^\s", ln):
            indented = True
        elif rst:
            literal = ln.rstrip().endswith("::")
        if indented:
            out.append((i, ln))
    return out


#: Project Atomic's labels: the ``docker run`` that ``atomic run``/``install``
#: performs, with ``IMAGE`` standing for this image
_ATOMIC_LABEL = (r"(?im)^[ \t]*LABEL[ \t]+[\"']?(?:RUN|INSTALL|UNINSTALL)[\"']?(?:[ \t]+|=)"
                 r"[\"']?([^\n]*?)[\"']?[ \t]*$")


def _label_runs(name: str, text: str) -> list[Invocation]:
    """The runs that the Dockerfile's ``LABEL RUN`` / ``LABEL INSTALL`` state."""
    if "LABEL" not in text.upper():
        return []
    kept = ["" for _ in text.splitlines()]
    for m in re.finditer(_ATOMIC_LABEL, text):
        # ``/usr/bin/docker/ run``: the label's value is always a ``docker run``
        kept[text.count("\n", 0, m.start())] = re.sub(r"\bdocker/(?=[ \t]+run\b)", "docker",
                                                      m.group(1))
    if not any(kept):
        return []
    return _invocations(name, "\n".join(kept), comments_only=False)


def _companion_runs(build: BuildContext, path: str, names: set[str], tags: list[str],
                    services: frozenset[str]) -> list[Invocation]:
    """The runs of the companion README that run this image: one named as the
    other READMEs' are (and a tag it gives: ``tags`` grows by them), or the
    only image it runs, since it documents this Dockerfile alone."""
    text = build.read_text(path)
    if not text or not _START.search(text):
        return []
    every = _invocations(path, text, comments_only=False)
    out = [r for r in every if r.compose and r.image in services]
    runs = [r for r in every if not r.compose and r.image]
    tags += [m.group(1) for m in _BUILD_TAG.finditer(text)]
    wanted = names | {_norm(_image_name(t)) for t in tags}
    images = {_norm(_image_name(r.image)) for r in runs}
    out += [r for r in runs if _norm(_image_name(r.image)) in wanted or len(images) == 1]
    return out


def documented_runs(build: BuildContext | None, dockerfile_text: str,
                    dockerfile_name: str, program: str = "",
                    services: frozenset[str] = frozenset()) -> list[Invocation]:
    """Every documented ``docker run`` of this image: the Dockerfile's usage
    comments, then the README(s), Makefiles, scripts and docs pages that
    document it (see the module docstring). ``program`` is what the container
    runs: an image named after it is this one; ``services`` are the compose
    services that build this Dockerfile (``docker compose run SERVICE``)."""
    out = [r for r in _invocations(dockerfile_name, dockerfile_text, comments_only=True)
           if not r.compose or r.image in services]
    out += _label_runs(dockerfile_name, dockerfile_text)
    if build is None or not build.dockerfile:
        return out
    here = dockerfile_dir(build)
    names = _own_names(here, program)
    tags = list(_build_tags(dockerfile_text))
    companion = companion_readme(build)
    if companion is not None:
        out += _companion_runs(build, companion, names, tags, services)
    if _dockerfiles_in(build, here) > 1:
        return out
    written = _written_runs(build, here, posixpath.basename(build.dockerfile))
    one_image: bool | None = None  # listing the top directories only when it matters
    if here and "/" not in here and any(_written_name(e) for e in build.list_dir("")):
        # the root's Makefiles and scripts, for the repository's one image
        one_image = _only_image(build, here)
        if one_image:
            written += _written_runs(build, "", build.dockerfile)
    readmes = _candidate_readmes(build, here)
    tags += [t for w in written for t in w.tags]
    for p, at_root in readmes:
        text = build.read_text(p)
        if not text or not _START.search(text):
            continue
        if at_root and here:
            one_image = _only_image(build, here) if one_image is None else one_image
            if not one_image:
                continue
        every = _invocations(p, text, comments_only=False)
        out += [r for r in every if r.compose and r.image in services]
        runs = [r for r in every if not r.compose]
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
    wanted = names | {_norm(_image_name(t)) for t in tags}
    # a Makefile or script beside it: a run of this image by name; one whose
    # image is unknown (``docker run $IMAGE``) only when it is the file's one
    # run and the file builds this Dockerfile
    for w in written:
        runs = [r for r in w.runs if not r.compose and r.image]
        for r in w.runs:
            if r.compose:
                if r.image in services:
                    out.append(r)
            elif "$" in r.image:
                if len(runs) == 1 and w.builds:
                    out.append(r)
            elif r.image and _norm(_image_name(r.image)) in wanted:
                out.append(r)
    # docs pages: a run of this image by a name recognised above
    pages = _docs(build, here)
    if not here or "/" not in here:
        if here:
            one_image = _only_image(build, here) if one_image is None else one_image
        if not here or one_image:
            pages += _docs(build, "") if here else []
    for p in pages:
        text = build.read_text(p)
        if not text or not _START.search(text):
            continue
        for r in _invocations(p, text, comments_only=False):
            if (r.image in services) if r.compose else (
                    r.image and "$" not in r.image and _norm(_image_name(r.image)) in wanted):
                out.append(r)
    return out


# ---------------------------------------------------------------------------
# Kubernetes manifests: the host directories a pod that runs this image mounts
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HostVolume:
    """A ``hostPath`` or ``nfs`` volume of a Kubernetes pod that runs this image."""

    path: str  #: the manifest or README that shows it, relative to the context
    line: int  #: 1-based line of the volume's ``path:``
    text: str  #: that line, stripped, for citing
    kind: str  #: ``hostPath`` or ``nfs``
    source: str  #: the host's (or the NFS export's) directory
    target: str  #: where the container mounts it ("" when no volumeMount shows it)
    read_only: bool

    def cite(self) -> str:
        return f"{self.path}:{self.line}: {self.text}"


#: the directories beside a Dockerfile where its Kubernetes manifests are kept
_MANIFEST_DIRS = ("deploy", "k8s", "kubernetes", "kube", "manifests")
_IMAGE_KEY = re.compile(r"^[ \t]*(?:-[ \t]+)?image:[ \t]*['\"]?([^\s'\"#]+)", re.M)


def _yaml_docs(lines: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Split (index, line) pairs into YAML documents: at ``---`` and wherever the
    indices jump (one README code block from the next)."""
    docs: list[list[tuple[int, str]]] = [[]]
    last = None
    for i, ln in lines:
        if ln.strip() == "---" or (last is not None and i != last + 1):
            docs.append([])
        if ln.strip() != "---":
            docs[-1].append((i, ln))
        last = i
    return [d for d in docs if d]


def _yaml_items(lines: list[str]) -> list[tuple[int, int, int]]:
    """(first line, end, key column) of each YAML list item (``- name: x`` and
    the lines under it)."""
    out: list[tuple[int, int, int]] = []
    for j, ln in enumerate(lines):
        m = re.match(r"^([ \t]*-[ \t]+)\S", ln)
        if not m:
            continue
        col = len(m.group(1))
        end = j + 1
        while end < len(lines) and (not lines[end].strip() or
                                    len(lines[end]) - len(lines[end].lstrip(" \t")) >= col):
            end += 1
        out.append((j, end, col))
    return out


def _item_key(lines: list[str], start: int, end: int, col: int,
              key: str) -> tuple[int, str] | None:
    """(line, value) of ``key`` at the item's own level."""
    for j in range(start, end):
        ln = lines[j]
        if j != start and len(ln) - len(ln.lstrip(" \t")) != col:
            continue
        m = re.match(rf"{key}:[ \t]*['\"]?([^'\"#]*?)['\"]?[ \t]*(?:#.*)?$", ln[col:])
        if m:
            return j, m.group(1)
    return None


def _doc_volumes(path: str, doc: list[tuple[int, str]]) -> list[HostVolume]:
    """The hostPath/nfs volumes of one YAML document, with their mounts."""
    lines = [ln for _, ln in doc]
    items = _yaml_items(lines)
    mounts: dict[str, tuple[str, bool]] = {}
    for start, end, col in items:
        name, target = (_item_key(lines, start, end, col, k) for k in ("name", "mountPath"))
        if name and target:
            flag = _item_key(lines, start, end, col, "readOnly")
            mounts[name[1]] = (target[1], bool(flag and flag[1].lower() == "true"))
    out: list[HostVolume] = []
    for start, end, col in items:
        name = _item_key(lines, start, end, col, "name")
        for kind in ("hostPath", "nfs"):
            hit = _item_key(lines, start, end, col, kind)
            if hit is None:
                continue
            for k in range(hit[0] + 1, end):
                p = re.match(r"^[ \t]*path:[ \t]*['\"]?(/[^\s'\"#]*)", lines[k])
                if p:
                    mounted, ro = mounts.get(name[1] if name else "", ("", False))
                    out.append(HostVolume(path, doc[k][0] + 1, lines[k].strip(), kind,
                                          p.group(1).rstrip("/") or "/", mounted, ro))
                    break
    return out


def _manifest_files(build: BuildContext, here: str, most: int = 40) -> list[str]:
    """The YAML files beside the Dockerfile and in its deploy/k8s/manifests folders."""
    out: list[str] = []
    for d in [here] + [f"{here}/{m}" if here else m for m in _MANIFEST_DIRS]:
        if d != here and not build.is_dir(d):
            continue
        for e in _yaml_names(build.list_dir(d)):
            p = f"{d}/{e}" if d else e
            if not build.is_dir(p):
                out.append(p)
    return out[:most]


@functools.lru_cache(maxsize=32)
def _yaml_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """The entries of a directory listing named as YAML files are, in order."""
    return tuple(e for e in sorted(names) if e.lower().endswith((".yaml", ".yml")))


def manifest_volumes(build: BuildContext | None, dockerfile_text: str,
                     program: str = "") -> list[HostVolume]:
    """The ``hostPath`` and ``nfs`` volumes of the Kubernetes pods that run this
    image: in the YAML code blocks of the READMEs that document it
    (:func:`image_readmes`) and in the YAML manifests beside it (and in its
    ``deploy/``, ``k8s/``, ``kubernetes/``, ``kube/``, ``manifests/`` folders).
    A pod runs this image when one of its ``image:`` lines names it (its
    directory's or its program's name, or a ``docker build -t`` tag); in the
    companion README, which documents this Dockerfile alone, also when the block
    names one image or none (a ``volumes:`` excerpt to edit); in the README of
    a directory with this one Dockerfile, when all its blocks name one image."""
    if build is None or not build.dockerfile:
        return []
    here = dockerfile_dir(build)
    names, tags = image_names(build, dockerfile_text, program)
    wanted = names | tags
    companion = companion_readme(build)
    sources: list[tuple[str, list[tuple[int, str]], str]] = []
    for p in image_readmes(build):
        text = build.read_text(p) or ""
        if "hostPath:" in text or "nfs:" in text:
            sources.append((p, code_lines(text, p.lower().endswith(".rst")),
                            "companion" if p == companion else "readme"))
    if _dockerfiles_in(build, here) <= 1 or companion is None:
        for p in _manifest_files(build, here):
            text = build.read_text(p) or ""
            if ("hostPath:" in text or "nfs:" in text) and re.search(r"^\s*containers:", text, re.M):
                sources.append((p, list(enumerate(text.splitlines())), "manifest"))
    out: list[HostVolume] = []
    for p, lines, how in sources:
        docs = _yaml_docs(lines)
        every = {image_ref_name(i) for d in docs
                 for i in _IMAGE_KEY.findall("\n".join(ln for _, ln in d))}
        for doc in docs:
            text = "\n".join(ln for _, ln in doc)
            if not re.search(r"^[ \t]*(?:-[ \t]+)?(?:hostPath|nfs):[ \t]*$", text, re.M):
                continue
            images = {image_ref_name(i) for i in _IMAGE_KEY.findall(text)}
            if not (images & wanted or (how == "companion" and len(images) <= 1)
                    or (how == "readme" and len(every) == 1 and images)):
                continue
            out += _doc_volumes(p, doc)
    return out


@dataclass(frozen=True)
class SkaffoldArtifact:
    """A ``build.artifacts`` entry of a ``skaffold.yaml`` (in any of its
    documents or ``profiles``), read line by line like the compose files."""

    path: str  #: the skaffold.yaml, relative to the context
    image: str
    dockerfile: str  #: the Dockerfile it builds, relative to the context
    context: str  #: its context directory, relative to the context ("" for the top)
    #: (line, text, image, alias) of each ``requires:`` entry
    requires: tuple[tuple[int, str, str, str], ...]
    #: (line, text, dest) of each ``sync: manual:`` entry's ``dest:``
    sync_dests: tuple[tuple[int, str, str], ...]
    #: (line, text, pattern) of each ``sync: infer:`` pattern
    sync_infer: tuple[tuple[int, str, str], ...]
    item: str  #: the entry's lines, joined


_SKAFFOLD_FILES = ("skaffold.yaml", "skaffold.yml")


def _indent(ln: str) -> int:
    return len(ln) - len(ln.lstrip(" \t"))


def _parent_key(lines: list[str], j: int) -> str:
    """The key a list item at line ``j`` sits under (``artifacts`` for
    ``artifacts:`` then ``- image: x``)."""
    dash = _indent(lines[j])
    for k in range(j - 1, -1, -1):
        ln = lines[k]
        if not ln.strip() or ln.lstrip().startswith("#"):
            continue
        ind = _indent(ln)
        if ind < dash or (ind == dash and not ln.lstrip().startswith("-")):
            m = re.match(r"^[ \t]*(?:-[ \t]+)?([\w.-]+):", ln)
            return m.group(1) if m else ""
    return ""


def _scalar(value: str) -> str:
    return re.sub(r"[ \t]+#.*$", "", value).strip().strip("'\"")


def skaffold_artifacts(build: BuildContext | None, most: int = 4) -> list[SkaffoldArtifact]:
    """The artifacts of the ``skaffold.yaml`` files in the Dockerfile's
    directory and the (three) directories above it. An artifact's ``context``
    and ``dockerfile`` (``docker.dockerfile``, else ``Dockerfile``) are
    relative to the skaffold.yaml's directory and to its context."""
    if build is None or not build.dockerfile:
        return []
    out: list[SkaffoldArtifact] = []
    for d in ancestors(build.dockerfile)[:most]:
        for name in _SKAFFOLD_FILES:
            path = f"{d}/{name}" if d else name
            text = build.read_text(path) if name in build.list_dir(d) else None
            if not text or "artifacts:" not in text:
                continue
            for doc in _yaml_docs(list(enumerate(text.splitlines()))):
                lines = [ln for _, ln in doc]
                for start, end, col in _yaml_items(lines):
                    image = _item_key(lines, start, end, col, "image")
                    if image is None or _parent_key(lines, start) != "artifacts":
                        continue
                    context = _item_key(lines, start, end, col, "context")
                    ctx_dir = posixpath.normpath(posixpath.join(
                        d, _scalar(context[1]) if context else "."))
                    ctx_dir = "" if ctx_dir == "." else ctx_dir
                    df = "Dockerfile"
                    requires: list[tuple[int, str, str, str]] = []
                    dests: list[tuple[int, str, str]] = []
                    infer: list[tuple[int, str, str]] = []
                    for j in range(start + 1, end):
                        ln = lines[j]
                        m = re.match(r"^[ \t]*dockerfile:[ \t]*(\S.*)$", ln)
                        if m:
                            df = _scalar(m.group(1))
                        m = re.match(r"^[ \t]*(?:-[ \t]+)?(image|dest|alias):[ \t]*(\S.*)$", ln)
                        if m and m.group(1) == "image" and ln.lstrip().startswith("-") and \
                                _parent_key(lines, j) == "requires":
                            alias, rcol = "", len(re.match(r"^[ \t]*-[ \t]+", ln).group(0))  # type: ignore[union-attr]
                            for k in range(j + 1, end):
                                if lines[k].strip() and (_indent(lines[k]) < rcol or
                                                         lines[k].lstrip().startswith("-")):
                                    break
                                a = re.match(r"^[ \t]*alias:[ \t]*(\S.*)$", lines[k])
                                if a:
                                    alias = _scalar(a.group(1))
                            requires.append((doc[j][0] + 1, ln.strip(), _scalar(m.group(2)), alias))
                        elif m and m.group(1) == "dest":
                            dests.append((doc[j][0] + 1, ln.strip(), _scalar(m.group(2))))
                        if re.match(r"^[ \t]*-[ \t]+\S", ln) and _parent_key(lines, j) == "infer":
                            infer.append((doc[j][0] + 1, ln.strip(),
                                          _scalar(ln.lstrip()[1:])))
                    out.append(SkaffoldArtifact(
                        path, _scalar(image[1]),
                        posixpath.normpath(posixpath.join(ctx_dir, df)), ctx_dir,
                        tuple(requires), tuple(dests), tuple(infer),
                        "\n".join(lines[start:end])))
    return out


def skaffold_own(build: BuildContext | None,
                 artifacts: list[SkaffoldArtifact]) -> list[SkaffoldArtifact]:
    """The artifacts that build this Dockerfile: by their context and
    dockerfile, or, in a sample whose contexts are not in the repository, a
    ``Dockerfile.IMAGE`` beside the skaffold.yaml."""
    if build is None or not build.dockerfile:
        return []
    out = [a for a in artifacts if a.dockerfile == build.dockerfile]
    if out:
        return out
    here, base = posixpath.split(build.dockerfile)
    return [a for a in artifacts if posixpath.dirname(a.path) == here
            and a.context and not build.is_dir(a.context)
            and base.lower() == f"dockerfile.{a.image.rsplit('/', 1)[-1].lower()}"]


def manifest_ports(build: BuildContext | None, dockerfile_text: str,
                   program: str = "") -> list[tuple[int, str]]:
    """(port, ``file:line: text``) of each ``containerPort:`` of a Kubernetes
    container whose ``image:`` names this image (as :func:`manifest_volumes`
    names it), in the manifests beside the Dockerfile and the YAML code blocks of
    the READMEs that document it: the port the container's process listens on."""
    if build is None or not build.dockerfile:
        return []
    here = dockerfile_dir(build)
    names, tags = image_names(build, dockerfile_text, program)
    wanted = names | tags
    sources: list[tuple[str, list[tuple[int, str]]]] = []
    for p in image_readmes(build):
        text = build.read_text(p) or ""
        if "containerPort:" in text:
            sources.append((p, code_lines(text, p.lower().endswith(".rst"))))
    if _dockerfiles_in(build, here) <= 1 or companion_readme(build) is None:
        for p in _manifest_files(build, here):
            text = build.read_text(p) or ""
            if "containerPort:" in text and re.search(r"^\s*containers:", text, re.M):
                sources.append((p, list(enumerate(text.splitlines()))))
    out: list[tuple[int, str]] = []
    for p, lines in sources:
        for doc in _yaml_docs(lines):
            rows = [ln for _, ln in doc]
            for start, end, col in _yaml_items(rows):
                image = _item_key(rows, start, end, col, "image")
                if image is None or image_ref_name(image[1].strip()) not in wanted:
                    continue
                for k in range(start, end):
                    m = re.match(r"^[ \t]*(?:-[ \t]+)?containerPort:[ \t]*['\"]?(\d{1,5})\b", rows[k])
                    if m:
                        out.append((int(m.group(1)), f"{p}:{doc[k][0] + 1}: {rows[k].strip()}"))
    return out


__all__ = ["DOCKERFILE_NAME", "HostVolume", "Invocation", "Mount", "built_tags", "code_lines",
           "companion_readme", "documented_runs", "image_names", "image_readmes", "image_ref_name",
           "manifest_ports", "manifest_volumes", "offered_images", "own_readme", "parse_invocation",
           "sh_expand", "sh_variables", "SkaffoldArtifact", "skaffold_artifacts", "skaffold_own"]

"""Find the Dockerfiles of a checked-out clone and fix them, as dockfix would.

The list of files comes from git's tree, not from walking the disk, so
nothing the checkout made (a link, a special file) is followed.  A file is
skipped, with its reason, when it is not plainly a Dockerfile held in the
repository: a symbolic link, a submodule, a ``.gitattributes`` filter or
encoding, a Git LFS pointer, a huge, binary or non-UTF-8 file.  Each file is
fixed with the repository's own configuration and pragmas and with the clone
as its build context; only fixes dockfix applies by default are made.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field

from rewriter.bot.git import Git
from rewriter.core.engine import fix_text
from rewriter.dockerfile.syntax import ParseError
from rewriter.io import config as _config
from rewriter.io import configs, files
from rewriter.io.context import DirectoryContext, normalize
from rewriter.report.diffing import unified_diff
from rewriter.report.outcome import FileOutcome, build, failed

#: The largest Dockerfile the bot reads (real ones are a few KiB).
MAX_BYTES = 1024 * 1024
#: The largest configuration file the bot reads (``bot_enabled``).
MAX_CONFIG_BYTES = 256 * 1024
_LFS = b"version https://git-lfs.github.com/spec/"
_REGULAR = ("100644", "100755")


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


#: Files that change what the bot does whatever it read: its configuration (found
#: in each Dockerfile's directory and above) and git's own (filters, submodules).
ALWAYS_READ = frozenset({_config.DOCKFIX_TOML, _config.PYPROJECT_TOML, ".gitattributes",
                         ".gitmodules"})
#: A record of more paths than this is not kept: any change counts then.
MAX_RECORDED = 20_000


class Reads:
    """What dockfix looked at around the Dockerfiles of a clone, as the build
    context the rules judge with (:mod:`rewriter.io.context`): the files it read
    or looked for, the paths it asked were directories, the directories it
    listed (and their entries).  A change to the repository can change what
    dockfix proposes only if it is a Dockerfile, a file of :data:`ALWAYS_READ`,
    or one of these (see :meth:`touches`)."""

    def __init__(self) -> None:
        self.read: set[str] = set()
        self.probed: set[str] = set()
        self.listed: dict[str, set[str]] = {}
        self.complete = True  #: False: too much to record, so any change counts

    def _room(self) -> bool:
        if self.complete and len(self.read) + len(self.probed) + sum(
                len(v) + 1 for v in self.listed.values()) > MAX_RECORDED:
            self.complete = False
            self.read, self.probed, self.listed = set(), set(), {}
        return self.complete

    def as_dict(self) -> dict[str, object]:
        if not self.complete:
            return {"complete": False}
        return {"complete": True, "read": sorted(self.read), "probed": sorted(self.probed),
                "listed": {d: sorted(v) for d, v in sorted(self.listed.items())}}

    @classmethod
    def from_dict(cls, doc: dict[str, object]) -> Reads:
        out = cls()
        out.complete = doc.get("complete") is True
        out.read = set(doc.get("read") or ())  # type: ignore[call-overload]
        out.probed = set(doc.get("probed") or ())  # type: ignore[call-overload]
        out.listed = {d: set(v) for d, v in (doc.get("listed") or {}).items()}  # type: ignore[attr-defined]
        return out

    def touches(self, path: str, change: str) -> bool:
        """Whether ``change`` (``added``, ``modified`` or ``removed``) of ``path``
        can change what dockfix proposes for the repository."""
        name = posixpath.basename(path)
        if not self.complete or is_dockerfile(path) or name in ALWAYS_READ:
            return True
        if path in self.read:
            return True
        if change == "modified":  # same entries, same directories: only its text counts
            return False
        if any(path == p or path.startswith(p + "/") for p in self.probed):
            return True
        parent = posixpath.dirname(path)
        if parent in self.listed:
            return True  # a listed directory has an entry more or less
        if change == "added":  # a new directory in a listed one
            for d, entries in self.listed.items():
                prefix = d + "/" if d else ""
                if path.startswith(prefix) and path[len(prefix):].split("/")[0] not in entries:
                    return True
        return False


class RecordingContext(DirectoryContext):
    """A :class:`DirectoryContext` that notes in ``reads`` what the rules look at."""

    def __init__(self, root: str, dockerfile: str | None, reads: Reads) -> None:
        super().__init__(root, dockerfile)
        self.reads = reads

    def read_text(self, path: str) -> str | None:
        rel = normalize(path)
        if rel and self.reads._room():
            self.reads.read.add(rel)
        return super().read_text(path)

    def is_dir(self, path: str) -> bool:
        rel = normalize(path)
        if rel and self.reads._room():
            self.reads.probed.add(rel)
        return super().is_dir(path)

    def list_dir(self, path: str) -> tuple[str, ...]:
        entries = super().list_dir(path)
        rel = normalize(path)
        if rel is not None and self.reads._room():
            self.reads.listed.setdefault(rel, set()).update(entries)
        return entries

    def walk(self) -> Iterator[str]:
        self.reads.complete = False  # the whole tree: any change counts
        yield from super().walk()


@dataclass
class Scan:
    outcomes: list[FileOutcome] = field(default_factory=list)
    fixed: dict[str, str] = field(default_factory=dict)  #: path -> new text, changed ones
    skipped: list[Skipped] = field(default_factory=list)
    reads: Reads = field(default_factory=Reads)  #: what dockfix read around the Dockerfiles

    @property
    def changed(self) -> bool:
        return bool(self.fixed)


def is_dockerfile(path: str) -> bool:
    """Whether the command would take the file at ``path`` (in a directory it
    searches) for a Dockerfile."""
    return files.is_dockerfile(posixpath.basename(path))


def scan(git: Git, repo: str) -> Scan:
    """Fix every Dockerfile of the checked-out clone ``repo`` (in memory)."""
    out = Scan()
    candidates: list[tuple[str, str, int]] = []
    for mode, kind, _sha, size, path in git.tree_entries(repo, "HEAD"):
        if mode == "160000":
            out.skipped.append(Skipped(path, "a submodule: not fetched, not looked into"))
        elif not any(p in files.SKIP_DIRS for p in path.split("/")[:-1]) and is_dockerfile(path):
            candidates.append((path, mode, size))
    attrs = git.attributes(repo, [c[0] for c in candidates], ("filter", "working-tree-encoding"))
    for path, mode, size in candidates:
        reason = _unusable(mode, size, attrs.get(path, {}))
        if reason:
            out.skipped.append(Skipped(path, reason))
            continue
        try:
            text = _read(repo, path)
        except _Skip as exc:
            out.skipped.append(Skipped(path, str(exc)))
            continue
        outcome, fixed = _fix(repo, path, text, out.reads)
        out.outcomes.append(outcome)
        if fixed is not None:
            out.fixed[path] = fixed
    return out


class _Skip(Exception):
    pass


def _unusable(mode: str, size: int, attrs: dict[str, str]) -> str | None:
    if mode == "120000":
        return "a symbolic link: not followed"
    if mode not in _REGULAR:
        return f"not a regular file (git mode {mode})"
    if size > MAX_BYTES:
        return f"{size:,} bytes: larger than a Dockerfile may be ({MAX_BYTES // 1024} KiB); not read"
    value = attrs.get("filter", "unspecified")
    if value not in ("unspecified", "unset"):
        return (f"a .gitattributes filter ({value}) applies: the bytes in the repository "
                "are not what is built; not changed")
    value = attrs.get("working-tree-encoding", "unspecified")
    if value not in ("unspecified", "unset"):
        return f"a .gitattributes working-tree-encoding ({value}) applies; not changed"
    return None


def _read(repo: str, path: str) -> str:
    data = _read_bytes(repo, path, MAX_BYTES)
    if data is None:
        raise _Skip("not a regular file in the checkout; not read")
    if data.startswith(_LFS):
        raise _Skip("a Git LFS pointer: the real file is not in the repository; not read")
    try:
        return files.decode(data, path)
    except files.FileError as exc:
        raise _Skip(str(exc).removeprefix(f"{path}: ") + "; not read") from None


def _read_bytes(repo: str, path: str, limit: int) -> bytes | None:
    """The bytes of the regular file ``path`` of the clone: never through a link,
    never a FIFO or a device, never more than ``limit``."""
    full = os.path.join(repo, *path.split("/"))
    real = os.path.realpath(full)
    if real != os.path.normpath(full) or not real.startswith(os.path.realpath(repo) + os.sep):
        return None
    try:
        fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = f.read(limit + 1)
    if len(data) > limit:
        raise _Skip(f"larger than {limit // 1024} KiB; not read")
    return data


def _fix(repo: str, path: str, text: str, reads: Reads | None = None
         ) -> tuple[FileOutcome, str | None]:
    reads = Reads() if reads is None else reads
    root = os.path.realpath(repo)
    directory = os.path.dirname(os.path.join(root, *path.split("/")))
    try:
        # bounded: the search stops at the clone's root
        cfg = configs.find_config(directory, bounded=True)
    except _config.ConfigError as exc:
        shown = os.path.relpath(exc.path, root) if exc.path and os.path.isabs(exc.path) else exc.path
        return failed(path, f"{path}: configuration {shown}: {exc.message}"), None
    if cfg is not None:
        # mapping files outside the clone are not read
        inside = tuple(m for m in cfg.values.get("mappings", ())
                       if os.path.realpath(m).startswith(root + os.sep))
        reads.read.update(os.path.relpath(os.path.realpath(m), root).replace(os.sep, "/")
                          for m in inside)
        cfg = _config.Config(cfg.path, {**cfg.values, "mappings": inside})
    # the bot proposes only what dockfix applies by default
    settings = _config.settings_for(cfg, {"unsafe_fixes": False})
    context = RecordingContext(root, path, reads)
    try:
        result = fix_text(text, settings, path, context)
    except ParseError as exc:
        return failed(path, f"{path}: line {exc.line}: {exc.message}"), None
    except RecursionError:
        return failed(path, f"{path}: nested too deeply to read"), None
    diff = unified_diff(result.original, result.fixed, path) if result.changed else ""
    outcome = build(path, result, settings, written=True, diff=diff)
    return outcome, (result.fixed if result.changed else None)


def bot_enabled(repo: str) -> tuple[bool, str | None]:
    """Whether the repository lets the bot in: ``[tool.dockfix.bot] enabled``
    in its top ``pyproject.toml``, or ``[bot] enabled`` in its ``.dockfix.toml``;
    and which file said no."""
    root = os.path.realpath(repo)
    for name, keys in ((_config.DOCKFIX_TOML, ("bot",)),
                       (_config.PYPROJECT_TOML, ("tool", "dockfix", "bot"))):
        try:
            data = _read_bytes(root, name, MAX_CONFIG_BYTES)
        except _Skip:
            continue
        if data is None:
            continue
        try:
            doc = _config.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            continue
        table: object = doc
        for key in keys:
            table = table.get(key) if isinstance(table, dict) else None
        if isinstance(table, dict) and table.get("enabled") is False:
            return False, name
    return True, None

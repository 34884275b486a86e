"""The build context: a read-only view of the files around a Dockerfile.

Rules that judge an image (what it is for, what its entrypoint does, which
paths it writes, which ports it binds) read the files that ``docker build``
would see and the repository around them: the scripts and configs the file
COPYs in, compose files, devcontainer.json, CI files, other Dockerfiles.
They read them through this one interface, so the same rules serve every
front end:

* the command gives a directory on disk (:class:`DirectoryContext`);
* the bot gives the directory of its clone, the same class;
* the language server gives the directory with its open buffers laid over it
  (:class:`OverlayContext`);
* tests give a dict (:class:`MemoryContext`); stdin with no file name gives
  :data:`EMPTY`.

Paths are POSIX paths relative to the context's root (``"svc/entrypoint.sh"``).
Nothing here executes, sources or evaluates what it reads. Reading is
bounded: files over :data:`MAX_FILE_BYTES`, binary files (a NUL byte) and
files that are not UTF-8 read as ``None`` and leave a note; a symbolic link
that leaves the root reads as missing; FIFOs, devices and sockets are never
opened; a walk stops after :data:`MAX_WALK_ENTRIES` entries.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Iterator, Mapping
from typing import Protocol

#: A file larger than this is not read (real configs and scripts are a few KiB).
MAX_FILE_BYTES = 256 * 1024
#: A walk of the context stops after this many directory entries.
MAX_WALK_ENTRIES = 20_000
#: A walk goes no deeper than this.
MAX_WALK_DEPTH = 12
#: Directories a walk never enters.
SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__",
                       ".tox", "vendor", "third_party", ".terraform"})


class BuildContext(Protocol):
    """What a rule may know of the files around the Dockerfile."""

    @property
    def dockerfile(self) -> str | None:
        """The Dockerfile's own path in the context (``None``: not a file in it)."""

    @property
    def notes(self) -> list[str]:
        """What was skipped while reading, and why (for the report)."""

    def read_text(self, path: str) -> str | None:
        """The text of a file, or ``None`` (missing, a directory, binary, not
        UTF-8, too large, a special file, or a link out of the context)."""

    def is_dir(self, path: str) -> bool:
        """Whether ``path`` is a directory of the context."""

    def list_dir(self, path: str) -> tuple[str, ...]:
        """The sorted entry names of a directory (``()`` when it is none)."""

    def walk(self) -> Iterator[str]:
        """Every file of the context, breadth first, within the walk's caps."""


def normalize(path: str) -> str | None:
    """``path`` as a context path: relative, POSIX, no ``..`` out of the root.
    ``None`` when it leaves the root. ``""`` is the root itself."""
    p = path.replace("\\", "/").lstrip("/")
    p = posixpath.normpath(p) if p else "."
    if p == ".." or p.startswith("../"):
        return None
    return "" if p == "." else p


def dockerfile_dir(ctx: BuildContext) -> str:
    """The directory of the Dockerfile in the context (``""``: the root)."""
    return posixpath.dirname(ctx.dockerfile or "")


def ancestors(path: str) -> list[str]:
    """``path``'s directory and each one above it, up to the root (``""``), nearest first."""
    out: list[str] = []
    d = posixpath.dirname(path)
    while True:
        out.append(d)
        if not d:
            return out
        d = posixpath.dirname(d)


class _Notes:
    def __init__(self) -> None:
        self._notes: list[str] = []

    @property
    def notes(self) -> list[str]:
        return self._notes

    def _note(self, text: str) -> None:
        if text not in self._notes and len(self._notes) < 100:
            self._notes.append(text)


class Listings:
    """What directories hold, read once: shared by the contexts of one run of
    the command, whose Dockerfiles often sit in the same repository (a
    thousand files of one directory list it once, not a thousand times).

    Keys are paths on disk. The files of a run do not come and go while it
    runs (dockfix only rewrites files in place), so nothing here goes stale
    within a run; a long-lived process (the language server) gives each check
    its own.
    """

    def __init__(self) -> None:
        self._dirs: dict[str, tuple[str, ...]] = {}
        self._is_dir: dict[str, bool] = {}

    def list_dir(self, full: str) -> tuple[str, ...]:
        """The sorted entry names of the directory ``full`` (``()``: none)."""
        names = self._dirs.get(full)
        if names is None:
            try:
                names = tuple(sorted(os.listdir(full)))
            except OSError:
                names = ()
            self._dirs[full] = names
        return names

    def is_dir(self, full: str) -> bool:
        """Whether ``full`` is a directory (one stat, then remembered)."""
        found = self._is_dir.get(full)
        if found is None:
            found = self._is_dir[full] = os.path.isdir(full)
        return found


class DirectoryContext(_Notes):
    """A directory on disk. Each read is checked against the real root, at
    the time of the read, so a link can't lead a rule out of it.

    ``listings``: directory listings shared with other contexts of the same
    run (see :class:`Listings`); by default, its own."""

    def __init__(self, root: str, dockerfile: str | None = None,
                 listings: Listings | None = None) -> None:
        super().__init__()
        self.root = os.path.realpath(root)
        self._dockerfile = normalize(dockerfile) if dockerfile is not None else None
        self._texts: dict[str, str | None] = {}
        self._dir_paths: dict[str, str | None] = {}  #: rel -> checked real path
        self._listings = listings if listings is not None else Listings()

    @classmethod
    def for_file(cls, path: str, context_dir: str | None = None,
                 listings: Listings | None = None) -> DirectoryContext:
        """The context of the Dockerfile at ``path``: ``context_dir`` when given
        (``--context``), else the repository around it (see :func:`find_root`)."""
        real = os.path.realpath(path)
        root = os.path.realpath(context_dir) if context_dir else find_root(real)
        rel = os.path.relpath(real, root)
        if rel.startswith(os.pardir):
            return cls(root, None, listings)
        return cls(root, rel.replace(os.sep, "/"), listings)

    @property
    def dockerfile(self) -> str | None:
        return self._dockerfile

    def _real(self, path: str) -> str | None:
        rel = normalize(path)
        if rel is None:
            return None
        full = os.path.realpath(os.path.join(self.root, rel))
        if full != self.root and not full.startswith(self.root + os.sep):
            self._note(f"{rel}: a link out of the build context; not read")
            return None
        return full

    def read_text(self, path: str) -> str | None:
        rel = normalize(path)
        if rel is None or not rel:
            return None
        if rel in self._texts:
            return self._texts[rel]
        text = self._read(rel)
        self._texts[rel] = text
        return text

    def _read(self, rel: str) -> str | None:
        try:
            os.stat(os.path.join(self.root, rel))
        except OSError:
            return None  # nothing there: no link to resolve (a file may copy thousands of paths)
        full = self._real(rel)
        if full is None:
            return None
        try:
            st = os.stat(full)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None  # a directory, or a FIFO/device/socket: never opened
        if st.st_size > MAX_FILE_BYTES:
            self._note(f"{rel}: larger than {MAX_FILE_BYTES // 1024} KiB; not read")
            return None
        try:
            fd = os.open(full, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            with os.fdopen(fd, "rb") as fh:
                fd = -1
                data = fh.read(MAX_FILE_BYTES + 1)
        except OSError:
            return None
        finally:
            if fd >= 0:
                os.close(fd)
        return _decode(rel, data, self._note)

    def is_dir(self, path: str) -> bool:
        # No realpath here: a directory reveals nothing of its content, and every
        # read still goes through ``_real``'s check. Asked for each entry of a
        # copied folder, so it must stay one stat.
        rel = normalize(path)
        if rel is None:
            return False
        return self._listings.is_dir(os.path.join(self.root, rel)) if rel else True

    def list_dir(self, path: str) -> tuple[str, ...]:
        rel = normalize(path)
        if rel is None:
            return ()
        if rel not in self._dir_paths:
            self._dir_paths[rel] = self._real(rel)
        full = self._dir_paths[rel]
        return self._listings.list_dir(full) if full is not None else ()

    def walk(self) -> Iterator[str]:
        seen = 0
        queue: list[tuple[str, int]] = [("", 0)]
        while queue:
            rel, depth = queue.pop(0)
            full = self._real(rel) if rel else self.root
            if full is None:
                continue
            try:
                entries = sorted(os.scandir(full), key=lambda e: e.name)
            except OSError:
                continue
            for e in entries:
                seen += 1
                if seen > MAX_WALK_ENTRIES:
                    self._note(f"more than {MAX_WALK_ENTRIES} entries; the rest not looked at")
                    return
                child = f"{rel}/{e.name}" if rel else e.name
                try:
                    if e.is_dir(follow_symlinks=False):
                        if e.name not in SKIP_DIRS and depth < MAX_WALK_DEPTH:
                            queue.append((child, depth + 1))
                    elif e.is_file(follow_symlinks=False):
                        yield child
                except OSError:
                    continue


class MemoryContext(_Notes):
    """A context held in memory: ``{path: text}`` (tests, editors, git trees)."""

    def __init__(self, files: Mapping[str, str], dockerfile: str | None = None) -> None:
        super().__init__()
        self._files = {n: t for p, t in files.items() if (n := normalize(p))}
        self._dockerfile = normalize(dockerfile) if dockerfile is not None else None
        self._dirs = {d for p in self._files for d in ancestors(p)}

    @property
    def dockerfile(self) -> str | None:
        return self._dockerfile

    def read_text(self, path: str) -> str | None:
        rel = normalize(path)
        return self._files.get(rel) if rel else None

    def is_dir(self, path: str) -> bool:
        rel = normalize(path)
        return rel is not None and rel in self._dirs

    def list_dir(self, path: str) -> tuple[str, ...]:
        rel = normalize(path)
        if rel is None or rel not in self._dirs:
            return ()
        prefix = rel + "/" if rel else ""
        return tuple(sorted({p[len(prefix):].split("/")[0] for p in self._files
                             if p.startswith(prefix)}))

    def walk(self) -> Iterator[str]:
        yield from sorted(self._files, key=lambda p: (p.count("/"), p))


class OverlayContext:
    """``base`` with some files replaced by other text (an editor's unsaved buffers)."""

    def __init__(self, base: BuildContext, overrides: Mapping[str, str]) -> None:
        self.base = base
        self._over = {n: t for p, t in overrides.items() if (n := normalize(p))}

    @property
    def dockerfile(self) -> str | None:
        return self.base.dockerfile

    @property
    def notes(self) -> list[str]:
        return self.base.notes

    def read_text(self, path: str) -> str | None:
        rel = normalize(path)
        if rel in self._over:
            return self._over[rel]
        return self.base.read_text(path)

    def is_dir(self, path: str) -> bool:
        return self.base.is_dir(path)

    def list_dir(self, path: str) -> tuple[str, ...]:
        return self.base.list_dir(path)

    def walk(self) -> Iterator[str]:
        yield from self.base.walk()


#: No files at all (stdin without ``--stdin-filename``).
EMPTY = MemoryContext({})


def find_root(path: str) -> str:
    """The root of the context of the file at ``path`` (a real path): the
    nearest directory above it holding ``.git``; else the current directory
    when it holds the file (a tool run from a project's top); else the file's
    own directory."""
    here = os.path.dirname(path)
    d = here
    while True:
        if os.path.lexists(os.path.join(d, ".git")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    cwd = os.path.realpath(os.getcwd())
    if cwd != os.sep and (here == cwd or here.startswith(cwd + os.sep)):
        return cwd
    return here


def _decode(rel: str, data: bytes, note: object) -> str | None:
    if b"\0" in data:
        note(f"{rel}: a binary file; not read")  # type: ignore[operator]
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        note(f"{rel}: not UTF-8; not read")  # type: ignore[operator]
        return None


__all__ = ["EMPTY", "MAX_FILE_BYTES", "BuildContext", "DirectoryContext", "Listings", "MemoryContext",
           "OverlayContext", "ancestors", "dockerfile_dir", "find_root", "normalize"]

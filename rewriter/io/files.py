"""Dockerfiles on disk: finding them, reading them safely, writing them atomically.

Every front end (the command, the pull-request bot, the language server) goes
through these functions, so the promises they make hold everywhere:

* ``discover(paths)``: the Dockerfiles under files and directories (and, in
  directories, the Python files that configure Celery), each once,
  in a stable order, with the tree each was found in; paths are resolved as
  the kernel resolves them (``link/../x`` is not ``x``); any depth of
  directories, no recursion.
* ``read_file(path)``: the bytes of a regular file of at most ``MAX_SIZE``
  bytes, and its status.  A FIFO, a device or a socket is refused before
  anything is read; nothing can block.  ``read_stream`` does the same for
  stdin, ``read_small_file`` for configuration files.
* ``decode(data, name)``: UTF-8 text, or one clear ``FileError``.
* ``write_atomic(path, data, before, original, root)``: the file replaced in
  one step (a reader sees the old bytes or the new ones, never a mix), its
  mode and owner kept, refused when it is read-only, has other hard links,
  changed since it was read, or is no longer inside ``root``; the directory
  is reached from ``root`` without following any symbolic link, so a link
  swapped in after discovery cannot redirect the write.

A failure that concerns one file raises ``FileError``, whose message is meant
to be shown as it is (it starts with the file's name).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator, Sequence
from typing import IO, NamedTuple

from rewriter.core.globs import fnmatchcase
from rewriter.python.detect import (
    configures_celery,
    is_python_path,
    is_worker_path,
    starts_worker,
)

#: Names of the files a directory is searched for.
PATTERNS = (
    "Dockerfile",
    "Dockerfile.*",
    "*.Dockerfile",
    "*.dockerfile",
    "Containerfile",
    "Containerfile.*",
)
#: Directories never searched (a path given on the command line always is).
SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox"}
)

#: The largest file dockfix reads.  Real Dockerfiles are a few kilobytes (the
#: largest of the 1,500 in the development corpus is under 100 KiB); a 100,000
#: line synthetic one is about 5 MiB.  Anything bigger is not worth the memory.
MAX_SIZE = 10 * 1024 * 1024

#: What a path is, when it is not a regular file (``stat.S_IFMT`` bits).
KINDS = {
    stat.S_IFDIR: "is a directory",
    stat.S_IFIFO: "is a named pipe (FIFO), not a regular file (to read a pipe, use '-')",
    stat.S_IFCHR: "is a character device, not a regular file",
    stat.S_IFBLK: "is a block device, not a regular file",
    stat.S_IFSOCK: "is a socket, not a regular file",
}

#: Byte order marks of encodings other than UTF-8, longest first.
_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"),
)

#: Where files that report no size are kernel interfaces, not files.
_KERNEL_FILES = ("/proc/", "/sys/")

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NOCTTY = getattr(os, "O_NOCTTY", 0)


class FileError(Exception):
    """One file could not be read, decoded or written; the message says why
    (starting with the file's name) and is shown as it is."""


def strerror(exc: BaseException) -> str:
    """The words of an ``OSError`` (``Permission denied``), else its text."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


# --- discovery ----------------------------------------------------------------


def is_dockerfile(name: str) -> bool:
    """Whether a file called ``name`` is searched for in a directory."""
    return any(fnmatchcase(name, p) for p in PATTERNS)


class Found(NamedTuple):
    """One result of ``discover``."""

    path: str  #: as it will be shown ("./a/Dockerfile" -> "a/Dockerfile")
    error: OSError | None  #: why it cannot be used, if it cannot
    root: str  #: the tree it was found in (its real path): writes stay inside it


def clean_path(path: str) -> str:
    """``path`` without ``.`` components and repeated slashes, and with ``x/..``
    removed only where the kernel would do the same (``x`` a directory, not a
    symbolic link): ``link/../Dockerfile`` names a file beside the link's
    target, which ``os.path.normpath`` would get wrong."""
    if not path:
        return path
    absolute = path.startswith("/")
    out: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == ".." and out and out[-1] != "..":
            prefix = ("/" if absolute else "") + "/".join(out)
            if os.path.isdir(prefix) and not os.path.islink(prefix):
                out.pop()
                continue
        if part == ".." and not out and absolute:
            continue  # "/.." is "/"
        out.append(part)
    joined = "/".join(out)
    if absolute:
        return "/" + joined
    return joined or "."


def discover(paths: Sequence[str]) -> list[Found]:
    """Each Dockerfile under ``paths``, once, in the order given (directories
    in sorted order, depth first), and each path that cannot be used, with
    its error.

    A file reached both by its own name and through a symbolic link is the
    file itself.  The tree of a directory is the directory; the tree of a file
    named on the command line is the directory it is in.  Symbolic links to
    directories are not followed inside a tree.
    """
    found: list[Found] = []
    for given in paths:
        path = clean_path(given)
        if os.path.isdir(path):
            if is_dockerfile(os.path.basename(path)) and not given.endswith(("/", os.sep)):
                # ``dockfix Dockerfile`` meant a file: an editor or a hook passes
                # files.  Searching a directory that has a Dockerfile's name
                # takes a trailing slash.
                error = IsADirectoryError(
                    21, f"is a directory, not a Dockerfile (to search it, write {path}/)")
                found.append(Found(path, error, ""))
                continue
            root = os.path.realpath(path)
            items: Iterator[tuple[str, OSError | None]] = walk(path)
        else:
            root = os.path.realpath(os.path.dirname(path) or os.curdir)
            if os.path.lexists(path):
                items = iter([(path, None)])
            else:
                items = iter([(path, FileNotFoundError(2, os.strerror(2), path))])
        found.extend(Found(clean_path(item), error, root) for item, error in items)
    chosen: dict[str, int] = {}
    for i, f in enumerate(found):
        key = f.path if f.error is not None else os.path.realpath(f.path)
        j = chosen.get(key)
        if j is None or (os.path.islink(found[j].path) and not os.path.islink(f.path)):
            chosen[key] = i
    return [found[i] for i in sorted(chosen.values())]


def walk(directory: str) -> Iterator[tuple[str, OSError | None]]:
    """The Dockerfiles under ``directory`` (depth first, each directory's own
    files before its subdirectories, names sorted), and each entry that could
    not be looked at with its error.  Iterative: any depth."""
    pending = [directory]
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            yield current, exc
            continue
        subdirs = []
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIP_DIRS:
                        subdirs.append(entry.path)
                elif is_dockerfile(entry.name) and entry.is_file():
                    yield entry.path, None
                elif is_python_path(entry.name) and entry.is_file() and _celery(entry.path):
                    yield entry.path, None
                elif is_worker_path(entry.name) and entry.is_file() and _celery(entry.path, True):
                    yield entry.path, None
            except OSError as exc:
                yield entry.path, exc
        pending.extend(reversed(subdirs))


def _celery(path: str, worker: bool = False) -> bool:
    """A Python file found in a directory is fixed when it configures Celery,
    a compose file, Procfile or unit (``worker``) when it starts a Celery
    worker (a cheap look at its text: no parser, no libcst)."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_SIZE + 1)
    except OSError:
        return True  # its error is reported where it is read
    text = data.decode("utf-8", "replace")
    return starts_worker(text) if worker else configures_celery(text)


def inside(path: str, root: str) -> bool:
    """Whether the real path ``path`` is ``root`` or below it."""
    return os.path.commonpath([path, root]) == root


def outside(path: str, root: str) -> str | None:
    """Where ``path`` really is (links followed), when that is outside ``root``."""
    real = os.path.realpath(path)
    if not root or inside(real, root):
        return None
    return real


# --- reading ------------------------------------------------------------------


def too_big(size: int) -> str:
    return (f"{size:,} bytes is more than a Dockerfile may have "
            f"({MAX_SIZE // (1024 * 1024)} MiB); not read")


def _open_regular(path: str, what: str) -> tuple[int, os.stat_result]:
    """A descriptor of the regular file ``path`` and its status.  Opened
    without blocking (a FIFO opened for reading would wait for a writer) and
    refused unless it is a regular file of at most ``MAX_SIZE`` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | _NONBLOCK | _NOCTTY | _CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket, or a FIFO on some systems
            raise FileError(f"{path}: {KINDS[stat.S_IFSOCK]}") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = KINDS.get(stat.S_IFMT(st.st_mode), "is not a regular file")
            raise FileError(f"{path}: {kind}")
        if st.st_size > MAX_SIZE:
            raise FileError(f"{path}: {what}{too_big(st.st_size)}")
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def _read_fd(fd: int, path: str, what: str) -> bytes:
    """At most ``MAX_SIZE`` bytes from ``fd``; a file that grows past it while
    being read (or a ``/proc`` file that reports no size) is refused."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = os.read(fd, min(1 << 20, MAX_SIZE + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_SIZE:
            raise FileError(f"{path}: {what}{too_big(size)}")
    return b"".join(chunks)


def read_file(path: str) -> tuple[bytes, os.stat_result]:
    """The bytes of the regular file ``path`` (at most ``MAX_SIZE``) and its
    status (``before`` for ``write_atomic``).

    Raises ``FileError`` for what is not a regular file (a directory, a FIFO,
    a device, a socket) or is too big, before anything is read, and
    ``OSError`` when the file cannot be opened or read.
    """
    fd, st = _open_regular(path, "")
    try:
        return _read_fd(fd, path, ""), st
    finally:
        os.close(fd)


def read_small_file(path: str) -> bytes | None:
    """For configuration and mapping files: the bytes of ``path``, or ``None``
    when nothing is there (or it is a directory).  Raises ``FileError`` for a
    FIFO, a device, a socket, a file over ``MAX_SIZE``, or one that cannot be
    read; nothing blocks."""
    try:
        fd, st = _open_regular(path, "")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except FileError as exc:
        if str(exc) == f"{path}: {KINDS[stat.S_IFDIR]}":
            return None
        raise
    except OSError as exc:
        raise FileError(f"{path}: cannot read: {strerror(exc)}") from None
    if st.st_size == 0 and os.path.realpath(path).startswith(_KERNEL_FILES):
        # a regular file in name only: reading it may wait for the kernel, or
        # consume what it says (``/proc/kmsg``); later readers would then block
        os.close(fd)
        raise FileError(f"{path}: is a kernel interface (/proc, /sys), not a file to read")
    try:
        return _read_fd(fd, path, "")
    except OSError as exc:  # e.g. EAGAIN from a /proc file with nothing to say
        raise FileError(f"{path}: cannot read: {strerror(exc)}") from None
    finally:
        os.close(fd)


def read_stream(stream: IO[bytes], name: str) -> bytes:
    """The bytes of ``stream`` (stdin), at most ``MAX_SIZE``."""
    data = stream.read(MAX_SIZE + 1)
    if len(data) > MAX_SIZE:
        raise FileError(f"{name}: stdin holds more than a Dockerfile may have "
                        f"({MAX_SIZE // (1024 * 1024)} MiB); not read")
    return data


def decode(data: bytes, name: str) -> str:
    """``data`` as text: UTF-8, with or without a BOM (which is kept).  Other
    encodings and binary files are refused, each with its own message."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            raise FileError(f"{name}: encoded as {encoding} (it starts with a {encoding} byte "
                            "order mark); dockfix reads UTF-8 only")
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise FileError(f"{name}: line {line}: a NUL byte: a binary file, not a Dockerfile")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 1].hex()
        raise FileError(f"{name}: line {line}: not valid UTF-8 (byte 0x{bad})") from None


# --- writing ------------------------------------------------------------------


def _read_only(st: os.stat_result, path: str) -> bool:
    """Not writable by this process, as the kernel decides (``os.access``).

    Permissions are the operating system's business, as for ``sed -i``, black
    and ruff: root may write a file without write bits, another user may not.
    Replacing the file (a rename) needs only a writable directory, so without
    this check dockfix would replace files its user cannot write.  (A file
    gone meanwhile is not read-only: ``write_atomic`` finds it changed.)"""
    return os.path.lexists(path) and not os.access(path, os.W_OK)


def _open_directory(directory: str, root: str | None) -> int:
    """A descriptor of ``directory`` (a real path), reached from ``root`` one
    component at a time without following symbolic links: a directory on the
    way that was replaced by a link makes this fail (``ELOOP``/``ENOTDIR``)."""
    if root is None:
        return os.open(directory, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    fd = os.open(root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    rel = os.path.relpath(directory, root)
    if rel == os.curdir:
        return fd
    try:
        for part in rel.split(os.sep):
            sub = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = sub
    except BaseException:
        os.close(fd)
        raise
    return fd


def _create_beside(dir_fd: int) -> tuple[int, str]:
    """A new, empty, private file ``.tmp-<random>.dockfix`` in the directory
    ``dir_fd`` (a short name: the file's own may already be 255 bytes long)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
    while True:
        tmp = f".tmp-{os.urandom(6).hex()}.dockfix"
        try:
            return os.open(tmp, flags, 0o600, dir_fd=dir_fd), tmp
        except FileExistsError:
            continue


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def write_atomic(path: str, data: bytes, before: os.stat_result, original: bytes,
                 root: str | None = None) -> None:
    """Replace the file at ``path`` by ``data`` in one step.

    ``before`` and ``original`` are what ``read_file`` gave: the file is not
    written when it changed since (its identity, size, time or bytes), and
    its mode and owner (where this process may set it) are kept.  ``root``:
    the real path of the tree the file must stay inside (``Found.root``);
    ``None`` guards only the file's own directory.

    The new bytes go to a temporary file in the same directory, which then
    replaces the old one (``os.replace``, a rename), so a reader never sees a
    partial file, and whatever goes wrong (a full disk, Ctrl-C) leaves the old
    file as it was and no temporary file behind.  A symbolic link is written
    through to its target, which must be inside ``root``.  The directory is
    opened from ``root`` without following links and every later step works
    inside that directory, so a link swapped in meanwhile can only make the
    write refuse, never send it elsewhere.  A file this process may not write
    (as the kernel decides: root may) or that has other hard links (which replacing it would cut
    off) is not written.  Raises ``FileError``; the file is then unchanged.
    """
    if _read_only(before, path):
        raise FileError(f"{path}: cannot write: the file is read-only; it is unchanged")
    if before.st_nlink > 1:
        raise FileError(f"{path}: has {before.st_nlink} hard links, which replacing it would "
                        "cut off; not written")
    real = os.path.realpath(path)
    if root is not None and not inside(real, root):
        raise FileError(f"{path}: a symbolic link to {real}, outside the tree being fixed "
                        f"({root}); not written")
    directory, base = os.path.split(real)
    changed = FileError(f"{path}: changed on disk while dockfix was fixing it; not written")
    try:
        dir_fd = _open_directory(directory, root)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.ENOENT):
            raise changed from None
        raise FileError(f"{path}: cannot write: {strerror(exc)} (in {directory}); "
                        "it is unchanged") from None
    try:
        _replace_in(dir_fd, base, path, data, before, original, changed)
    finally:
        os.close(dir_fd)


def _unchanged(dir_fd: int, base: str, before: os.stat_result, original: bytes) -> bool:
    """Whether ``base`` in ``dir_fd`` is still the very file that was read
    (not a link put in its place), with the same status and bytes."""
    try:
        fd = os.open(base, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _NOCTTY | _CLOEXEC,
                     dir_fd=dir_fd)
    except OSError:
        return False
    try:
        now = os.fstat(fd)
        if not stat.S_ISREG(now.st_mode) or not _same_file(now, before):
            return False
        if (now.st_mtime_ns, now.st_size) != (before.st_mtime_ns, before.st_size):
            return False
        return _read_fd(fd, base, "") == original
    except (OSError, FileError):
        return False
    finally:
        os.close(fd)


def _replace_in(dir_fd: int, base: str, path: str, data: bytes, before: os.stat_result,
                original: bytes, changed: FileError) -> None:
    try:
        fd, tmp = _create_beside(dir_fd)
    except OSError as exc:
        raise FileError(f"{path}: cannot write: {strerror(exc)} (in its directory); "
                        "it is unchanged") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
            mine = os.fstat(f.fileno())
            if (mine.st_uid, mine.st_gid) != (before.st_uid, before.st_gid):
                with contextlib.suppress(OSError):  # allowed for root only
                    os.fchown(f.fileno(), before.st_uid, before.st_gid)
            os.fchmod(f.fileno(), stat.S_IMODE(before.st_mode))
        if not _unchanged(dir_fd, base, before, original):
            raise changed
        os.replace(tmp, base, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        if isinstance(exc, OSError):
            raise FileError(f"{path}: cannot write: {strerror(exc)}; it is unchanged") from None
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        os.fsync(dir_fd)

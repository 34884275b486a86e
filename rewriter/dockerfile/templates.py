"""Render the RUN instruction that creates dockfix's user, per image family.

The shell text lives in ``templates/adduser/<name>.Dockerfile.j2`` (one file per
family template, see ``Family.template``); this module validates the inputs, so a
template can never be handed anything that would turn into shell syntax, and
fits the output to the Dockerfile it goes into: its escape character and its
newline.  jinja2 is imported only to render inputs not rendered before (see
``_RenderCache``), keeping it off the path of a file that needs no user block,
and of an editor that fixes the same file on every save.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rewriter import __version__

if TYPE_CHECKING:  # pragma: no cover
    import jinja2

__all__ = ["available", "render", "templates_dir"]

#: Names useradd/adduser accept everywhere (POSIX portable, shadow's default
#: NAME_REGEX without the trailing '$'), and which need no shell quoting.
_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_TEMPLATE = re.compile(r"[a-z0-9][a-z0-9-]*")
_MAX_ID = 2**31 - 2  # 2**31-1 and up break tools that store ids as signed ints; -1 is "no id"
_SUFFIX = ".Dockerfile.j2"


def render(
    template: str,
    *,
    user: str,
    group: str,
    uid: int,
    gid: int,
    dirs: Sequence[str] = (),
    escape: str = "\\",
    newline: str = "\n",
) -> str:
    """One complete ``RUN`` instruction that creates ``user``:``group`` with
    ``uid``:``gid`` and gives it ``dirs`` (absolute paths), ending in ``newline``.

    Continuation lines end in `` <escape>`` (``\\`` or a backtick from a
    ``# escape=`` directive); every line break is ``newline`` (``\\n`` or
    ``\\r\\n``).  Raises ValueError for an unknown template or an input that is not
    a plain name, a valid id or a clean absolute path, and when the template's
    tool cannot take the id (BusyBox: up to 60000; Alpine: up to 256000).
    """
    if not isinstance(template, str) or not _TEMPLATE.fullmatch(template):
        raise ValueError(f"bad template name {template!r}")
    if template not in available():
        raise ValueError(f"no template {template!r} (have: {', '.join(available())})")
    for what, name in (("user", user), ("group", group)):
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError(f"bad {what} name {name!r}: must match {_NAME.pattern}")
    for what, value in (("uid", uid), ("gid", gid)):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= _MAX_ID:
            raise ValueError(f"bad {what} {value!r}: must be an integer in 1..{_MAX_ID}")
    if escape not in ("\\", "`"):
        raise ValueError(f"bad escape character {escape!r}: must be '\\\\' or '`'")
    if newline not in ("\n", "\r\n"):
        raise ValueError(f"bad newline {newline!r}: must be '\\n' or '\\r\\n'")
    if isinstance(dirs, str):
        raise ValueError("dirs must be a sequence of paths, not one string")
    quoted = [shlex.quote(d) for d in _clean_dirs(dirs)]

    params = [template, user, group, uid, gid, quoted, escape]
    text = _cache().get(params)
    if text is None:
        text = _env().get_template(f"adduser/{template}{_SUFFIX}").render(
            user=user, group=group, uid=uid, gid=gid, dirs=quoted, escape=escape
        )
        if not _well_formed(text):
            raise AssertionError(f"template {template!r} must render one RUN ending in a newline")
        _cache().put(params, text)
    return text.replace("\n", newline) if newline != "\n" else text


def _well_formed(text: str) -> bool:
    return text.startswith("RUN ") and text.endswith("\n") and "\r" not in text


def available() -> tuple[str, ...]:
    """The names of the adduser templates, sorted."""
    return _available(templates_dir())


@functools.lru_cache(maxsize=None)
def templates_dir() -> Path:
    """The ``templates`` directory: in the wheel (``rewriter/templates``), else the
    source checkout's top-level ``templates`` (also what an editable install uses)."""
    here = Path(__file__).parent.parent  # the rewriter package
    for candidate in (here / "templates", here.resolve().parent / "templates"):
        if (candidate / "adduser").is_dir():
            return candidate
    raise FileNotFoundError(f"no templates/adduser directory next to {here} or its parent")


@functools.lru_cache(maxsize=None)
def _available(root: Path) -> tuple[str, ...]:
    return tuple(sorted(p.name[: -len(_SUFFIX)] for p in (root / "adduser").glob(f"*{_SUFFIX}")))


#: Renders kept in the cache file, at most (the oldest go first).
CACHE_SIZE = 256


class _RenderCache:
    """What the templates rendered, by their inputs, kept in a small JSON file.

    jinja2 takes several times longer to import than dockfix takes to fix a
    small file, and an editor runs dockfix on every save with the same inputs.
    So each render is kept in ``templates.json`` in the cache directory
    (``$DOCKFIX_CACHE_DIR``; else ``$XDG_CACHE_HOME/dockfix`` or
    ``~/.cache/dockfix``; ``DOCKFIX_CACHE_DIR=`` (empty) turns it off), under a
    key of the dockfix version and the text of every template, so an edited
    template is rendered afresh.  The file is only ever read as JSON, and a
    cached text is used only if it has the shape of a render (one ``RUN``
    ending in a newline); a missing, unreadable or corrupt file is ignored,
    and failing to write it changes nothing.
    """

    def __init__(self, directory: str | None) -> None:
        self.path = os.path.join(directory, "templates.json") if directory else None
        self.key = ""
        self.renders: dict[str, str] = {}
        self.loaded = False

    def _load(self) -> None:
        import hashlib
        import json

        self.loaded = True
        digest = hashlib.sha256(__version__.encode())
        for p in sorted((templates_dir() / "adduser").iterdir()):
            digest.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
        self.key = digest.hexdigest()
        if self.path is None:
            return
        try:
            with open(self.path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError):
            return
        if isinstance(doc, dict) and doc.get("key") == self.key:
            renders = doc.get("renders")
            if isinstance(renders, dict):
                self.renders = {k: v for k, v in renders.items()
                                if isinstance(k, str) and isinstance(v, str) and _well_formed(v)}

    def get(self, params: list[object]) -> str | None:
        if not self.loaded:
            self._load()
        import json

        return self.renders.get(json.dumps(params))

    def put(self, params: list[object], text: str) -> None:
        import json

        self.renders[json.dumps(params)] = text
        while len(self.renders) > CACHE_SIZE:
            del self.renders[next(iter(self.renders))]
        if self.path is None:
            return
        directory = os.path.dirname(self.path)
        tmp = f"{self.path}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
        try:
            os.makedirs(directory, mode=0o700, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump({"key": self.key, "renders": self.renders}, f)
            os.replace(tmp, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def cache_dir() -> str | None:
    """Where rendered templates are kept (None: nowhere)."""
    configured = os.environ.get("DOCKFIX_CACHE_DIR")
    if configured is not None:
        return configured or None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "dockfix")


@functools.lru_cache(maxsize=None)
def _cache() -> _RenderCache:
    return _RenderCache(cache_dir())


@functools.lru_cache(maxsize=None)
def _env() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.globals["fail"] = _fail
    return env


def _fail(message: str) -> str:
    """``{{ fail("why") }}``: a template refuses its inputs (e.g. an id its tool can't take)."""
    raise ValueError(message)


def _clean_dirs(dirs: Sequence[str]) -> list[str]:
    """``dirs`` checked (absolute, no control characters, no ``..``, not ``/``)
    and without duplicates, in order."""
    out: dict[str, None] = {}  # ordered, without a scan per membership test
    for d in dirs:
        if not isinstance(d, str) or not d.startswith("/"):
            raise ValueError(f"bad directory {d!r}: must be an absolute path")
        if any(ord(c) < 32 or ord(c) == 127 for c in d):
            raise ValueError(f"bad directory {d!r}: control characters")
        parts = [p for p in d.split("/") if p]
        if ".." in parts:
            raise ValueError(f"bad directory {d!r}: '..' components")
        if not parts or parts == ["."] * len(parts):
            raise ValueError(f"bad directory {d!r}: refusing to chown /")
        out[d] = None
    return list(out)

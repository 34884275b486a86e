"""Configuration: ``.dockfix.toml`` or ``[tool.dockfix]`` in ``pyproject.toml``.

Where it is looked for: from the Dockerfile's directory upwards.  The first
directory holding a ``.dockfix.toml`` or a ``pyproject.toml`` *with a
``[tool.dockfix]`` table* is the one; ``.dockfix.toml`` wins over
``pyproject.toml`` in the same directory.  A ``pyproject.toml`` without the
table does not stop the search (ruff does the same: a Python project beside a
Dockerfile should not hide the repository's configuration).  The search stops
after a directory holding ``.git``.  Each Dockerfile finds its own file.

The keys (top level in ``.dockfix.toml``, under ``[tool.dockfix]`` in
``pyproject.toml``) are the long command-line options: ``uid``, ``gid``,
``user``, ``group``, ``unsafe-fixes``, ``select``, ``ignore``, ``build-args``
(a table), ``target``, ``mappings`` (paths relative to the config file).
The command line wins over the file; ``build-args`` are merged, key by key.

This module reads nothing itself: ``find_config`` is given the two file system
look-ups it needs (``rewriter.io.configs`` gives it the real ones).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from rewriter.core.settings import MAX_ID, NAME, Settings, is_id

DOCKFIX_TOML = ".dockfix.toml"
PYPROJECT_TOML = "pyproject.toml"
CONFIG_FILES = (DOCKFIX_TOML, PYPROJECT_TOML)  #: in order of precedence within a directory

_CODE = re.compile(r"[A-Z]+[0-9]*")
_ARG = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ConfigError(ValueError):
    """An invalid configuration file or value."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.message = message
        self.path = path


@dataclass(frozen=True)
class Config:
    """A configuration file's checked values."""

    path: str  #: the file it was read from
    values: Mapping[str, Any]  #: ``Settings`` field names -> checked values


# --- values -------------------------------------------------------------------


def _int(value: object, low: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer, got {value!r}")
    if not is_id(value, low):
        extra = " (0 is root)" if low == 1 and value == 0 else ""
        raise ValueError(f"expected {what} from {low} to {MAX_ID}{extra}, got {value}")
    return value


def check_uid(value: object) -> int:
    return _int(value, 1, "a non-root user id")


def check_gid(value: object) -> int:
    return _int(value, 0, "a group id")


def check_name(value: object) -> str:
    """A user or group name that ``useradd``/``adduser`` on every family accept."""
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    if not NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid name (a lowercase letter or _, then lowercase "
            "letters, digits, _ or -; at most 32 characters)"
        )
    if value == "root":
        raise ValueError("'root' is what dockfix moves away from")
    return value


def check_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def check_codes(value: object) -> tuple[str, ...]:
    """Rule codes or prefixes, as a list or comma separated: ``DF001,DF00``."""
    items: list[object]
    if isinstance(value, str):
        items = [value]
    elif isinstance(value, list):
        items = value
    else:
        raise ValueError(f"expected a list of rule codes, got {value!r}")
    codes: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"expected a rule code, got {item!r}")
        for part in item.split(","):
            code = part.strip().upper()
            if not code:
                continue
            if not _CODE.fullmatch(code):
                raise ValueError(f"{part.strip()!r} is not a rule code (e.g. DF001, or DF0)")
            if code not in codes:
                codes.append(code)
    return tuple(codes)


def check_build_arg(item: str) -> tuple[str, str]:
    """``KEY=VALUE`` as given to ``--build-arg``."""
    key, sep, value = item.partition("=")
    if not sep:
        raise ValueError(f"expected KEY=VALUE, got {item!r}")
    return _arg_name(key), value


def _arg_name(key: object) -> str:
    if not isinstance(key, str) or not _ARG.fullmatch(key):
        raise ValueError(f"{key!r} is not a build argument name")
    return key


def check_build_args(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError(f"expected a table of NAME = value, got {value!r}")
    out: dict[str, str] = {}
    for key, val in value.items():
        if isinstance(val, bool) or not isinstance(val, (str, int, float)):
            raise ValueError(f"build argument {key!r}: expected a string, got {val!r}")
        out[_arg_name(key)] = str(val)
    return out


def check_target(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a stage name, got {value!r}")
    return value


def check_paths(value: object, base: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
        raise ValueError(f"expected a list of file paths, got {value!r}")
    return tuple(os.path.normpath(os.path.join(base, i)) for i in items)


#: key -> (Settings field, check); ``mappings`` is checked apart (relative paths)
_KEYS: dict[str, tuple[str, Callable[[object], Any]]] = {
    "uid": ("uid", check_uid),
    "gid": ("gid", check_gid),
    "user": ("user", check_name),
    "group": ("group", check_name),
    "unsafe-fixes": ("unsafe_fixes", check_bool),
    "select": ("select", check_codes),
    "ignore": ("ignore", check_codes),
    "build-args": ("build_args", check_build_args),
    "target": ("target", check_target),
}
KEYS = (*_KEYS, "mappings")
BOT_TABLE = "bot"  #: ``[bot]`` / ``[tool.dockfix.bot]``: read by the bot, not by the command


# --- files --------------------------------------------------------------------


def loads(text: str) -> dict[str, Any]:
    """TOML ``text`` as a dict; raises ``ValueError`` (``tomllib.TOMLDecodeError``)."""
    return tomllib.loads(text)


def parse_config(data: bytes, path: str) -> Config | None:
    """The configuration in the file ``path`` holding ``data``; ``None`` for a
    ``pyproject.toml`` without ``[tool.dockfix]``.  Raises ``ConfigError``."""
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise ConfigError("not valid UTF-8", path) from None
    try:
        doc = loads(text)
    except ValueError as exc:  # tomllib.TOMLDecodeError
        raise ConfigError(f"invalid TOML: {exc}", path) from None
    except RecursionError:  # tomllib reads nested tables and arrays recursively
        raise ConfigError("invalid TOML: nested too deeply", path) from None
    where = ""
    if os.path.basename(path) == PYPROJECT_TOML:
        tool = doc.get("tool")
        if not isinstance(tool, dict) or "dockfix" not in tool:
            return None
        doc, where = tool["dockfix"], "[tool.dockfix] "
        if not isinstance(doc, dict):
            raise ConfigError("[tool.dockfix] must be a table", path)
    return Config(path, _check_table(doc, path, where))


def _check_table(doc: Mapping[str, Any], path: str, where: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in doc.items():
        try:
            if key == BOT_TABLE:
                continue  # the pull-request bot's own table (rewriter.bot)
            if key == "mappings":
                values["mappings"] = check_paths(value, os.path.dirname(path))
            elif key in _KEYS:
                field, check = _KEYS[key]
                values[field] = check(value)
            else:
                hint = key.replace("_", "-")
                raise ValueError(
                    f"did you mean {hint!r}?" if hint in KEYS
                    else f"unknown key (known: {', '.join(KEYS)})"
                )
        except ValueError as exc:
            raise ConfigError(f"{where}{key}: {exc}", path) from None
    return values


def find_config(
    start: str,
    read: Callable[[str], bytes | None],
    exists: Callable[[str], bool],
    stop: str | None = None,
) -> Config | None:
    """The configuration for a Dockerfile in the directory ``start`` (absolute).

    ``read(path)`` gives a file's bytes, or ``None`` when it is not a file;
    ``exists(path)`` tells whether anything is at ``path`` (for ``.git``).
    ``stop``: the last directory searched (an ancestor of ``start``), if any.
    """
    directory = start
    while True:
        for name in CONFIG_FILES:
            candidate = os.path.join(directory, name)
            data = read(candidate)
            if data is None:
                continue
            config = parse_config(data, candidate)
            if config is not None:
                return config
        if directory == stop or exists(os.path.join(directory, ".git")):
            return None
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def settings_for(config: Config | None, overrides: Mapping[str, Any]) -> Settings:
    """``Settings`` from ``config`` with the command line's ``overrides`` on top."""
    values: dict[str, Any] = dict(config.values) if config else {}
    for field, value in overrides.items():
        if field == "build_args":
            value = {**values.get("build_args", {}), **value}
        values[field] = value
    return Settings(**values)


def check_values(values: Mapping[str, Any], base: str, where: str) -> dict[str, Any]:
    """The checked ``Settings`` fields of configuration keys given elsewhere
    than in a file (an editor's settings: ``where`` names them in errors);
    ``mappings`` are relative to the directory ``base``.  Keys may also be
    written in camelCase (``unsafeFixes``), as editors' settings are.
    Raises ``ConfigError``."""
    kebab = {re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", k).lower() if isinstance(k, str) else k: v
             for k, v in values.items()}
    try:
        return _check_table(kebab, os.path.join(base, "settings"), "")
    except ConfigError as exc:
        raise ConfigError(exc.message, where) from None

"""Finding the configuration of a Dockerfile on disk, once per directory.

``rewriter.io.config`` parses and checks configuration files; this module
looks for them (``find_config``: from a directory upwards, see there) with
reads that cannot block (a FIFO named ``pyproject.toml`` is an error, not a
hang), and ``Configs`` caches what each directory finds, so a batch of files
reads each configuration file once and reports a bad one once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from rewriter.core.settings import Settings
from rewriter.io import config as _config
from rewriter.io.files import FileError, read_small_file


def _read(path: str) -> bytes | None:
    try:
        return read_small_file(path)
    except FileError as exc:
        raise _config.ConfigError(str(exc).removeprefix(f"{path}: "), path) from None


def repository_root(directory: str) -> str | None:
    """The nearest directory at or above ``directory`` (absolute) holding ``.git``."""
    while True:
        if os.path.lexists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def find_config(directory: str, *, bounded: bool = False) -> _config.Config | None:
    """The configuration a Dockerfile in ``directory`` finds (raises
    ``ConfigError``).  ``bounded`` (stdin, where the directory is only where
    the command happens to run): the search stops at the repository's root,
    and without a repository only ``directory`` itself is searched."""
    directory = os.path.abspath(directory)
    stop = None
    if bounded:
        stop = repository_root(directory) or directory
    cfg = _config.find_config(directory, _read, os.path.lexists, stop)
    if cfg is not None:
        for m in cfg.values.get("mappings", ()):
            check_mapping_file(m, cfg.path)
    return cfg


def check_mapping_file(path: str, where: str | None = None) -> None:
    """Raise ``ConfigError`` unless ``path`` is a readable regular file."""
    try:
        data = read_small_file(path)
    except FileError as exc:
        raise _config.ConfigError(f"mappings: {exc}", where) from None
    if data is None:
        raise _config.ConfigError(f"mappings: {path}: no such file", where)


def config_for(path: str) -> _config.Config | None:
    """The configuration a Dockerfile at ``path`` finds (raises ``ConfigError``)."""
    return find_config(os.path.dirname(os.path.abspath(path)))


def shown(path: str) -> str:
    """``path`` relative to the current directory, unless that climbs out of it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


class Configs:
    """The settings of each directory's Dockerfiles, found once.

    ``overrides``: ``Settings`` fields given on the command line (they win);
    ``load_mappings``: called once for each distinct set of mapping files in
    use, returns what they load to (the settings carry it as
    ``family_table``) or raises ``ConfigError`` (or ``ValueError``/``OSError``)
    when they cannot be used, so a bad mappings file is one configuration
    error, not one failure per Dockerfile; ``bounded``: see ``find_config``.
    """

    def __init__(
        self,
        overrides: Mapping[str, Any],
        load_mappings: Callable[[Sequence[str]], object] | None = None,
        bounded: bool = False,
    ) -> None:
        self.overrides = overrides
        self.load_mappings = load_mappings
        self.bounded = bounded
        self.found: dict[str, _config.Config | _config.ConfigError | None] = {}
        #: mapping files -> what they loaded to, or the problem with them
        self.loaded: dict[tuple[str, ...], tuple[object, str | None]] = {}

    def settings(self, path: str | None) -> Settings:
        """The settings for a Dockerfile at ``path`` (``None``: stdin, in the
        current directory); raises ``FileError`` for a bad configuration,
        with the same message for every file using it."""
        directory = os.path.dirname(os.path.abspath(path)) if path else os.getcwd()
        if directory not in self.found:
            try:
                self.found[directory] = find_config(directory, bounded=self.bounded)
            except _config.ConfigError as exc:
                self.found[directory] = exc
        cfg = self.found[directory]
        if isinstance(cfg, _config.ConfigError):
            raise FileError(self._where(cfg))
        settings = _config.settings_for(cfg, self.overrides)
        table = self._load(settings.mappings, cfg)
        return settings if table is None else replace(settings, family_table=table)

    @staticmethod
    def _where(exc: _config.ConfigError) -> str:
        where = shown(exc.path) if exc.path else "configuration"
        return f"{where}: {exc.message}"

    def _load(self, mappings: tuple[str, ...], cfg: _config.Config | None) -> object:
        if not mappings or self.load_mappings is None:
            return None
        if mappings not in self.loaded:
            problem = None
            table = None
            try:
                table = self.load_mappings(mappings)
            except _config.ConfigError as exc:
                problem = self._where(exc)
            except (ValueError, OSError, RecursionError) as exc:
                text = " ".join(str(exc).split()) or type(exc).__name__
                if isinstance(exc, RecursionError):
                    text = "nested too deeply"
                where = shown(cfg.path) + ": " if cfg is not None and any(
                    m in cfg.values.get("mappings", ()) for m in mappings) else ""
                problem = f"{where}mappings: {text}"
            self.loaded[mappings] = (table, problem)
        table, problem = self.loaded[mappings]
        if problem is not None:
            raise FileError(problem)
        return table

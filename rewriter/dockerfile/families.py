"""Image families: what an image is built on, and what that means for a non-root user.

A *family* (alpine, debian, rhel, distroless, ...) decides whether ``RUN`` works,
which template creates a user, and which package manager installs things.  An
*image* adds what the table knows about one repository: the ``USER`` it already
sets, the users it ships, whether its entrypoint drops privileges itself.

The knowledge lives in ``rewriter/data/families.toml`` (schema in its header),
read and checked by ``rewriter.dockerfile.familytable``; image references are
normalised by ``rewriter.dockerfile.imageref``.  This module answers questions:

* ``lookup(ref, table)`` -- what is known about an image reference, or ``None``;
* ``family(name, table)`` -- a family by name;
* ``family_from_evidence(runs, table)`` -- a family from the commands a stage runs.

``table`` is a loaded ``Table`` (``table_for(settings)``: the one the settings
carry), or mapping-file paths to lay over the built-in table, or nothing: the
built-in table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from rewriter.core.settings import Settings
from rewriter.dockerfile import shell
from rewriter.dockerfile.familytable import Family, ImageInfo, Table, load
from rewriter.dockerfile.imageref import split_ref

__all__ = [
    "Family",
    "ImageInfo",
    "Table",
    "evidence",
    "family",
    "family_for_evidence",
    "family_from_evidence",
    "family_names",
    "lookup",
    "table_for",
]

#: A table, or mapping files to lay over the built-in one (none: the built-in table).
TableOrMappings = Table | Sequence[str | Path] | str | Path


def table_for(settings: Settings) -> Table:
    """The family table of a run: the one loaded for ``settings`` by the front
    end, else the built-in table with ``settings.mappings`` over it."""
    if isinstance(settings.family_table, Table):
        return settings.family_table
    return load(settings.mappings)


def _table(table: TableOrMappings) -> Table:
    if isinstance(table, Table):
        return table
    if isinstance(table, (str, Path)):
        return load([table])
    return load(table)


def lookup(ref: str, table: TableOrMappings = ()) -> ImageInfo | None:
    """What the table knows about image ``ref`` (``ARG``s already expanded).

    Returns None for a reference that still holds ``$``, that is not a valid image
    reference, or that neither the table nor the tag hints know: the caller then
    falls back to evidence (``family_from_evidence``).  ``ref`` must be an image,
    not the name of an earlier build stage.
    """
    t = _table(table)
    try:
        return t.found[ref]  # a file often names one image many times
    except KeyError:
        pass
    split = split_ref(ref)
    info = None if split is None else t.lookup(ref, *split)
    if split is not None:
        t.found[ref] = info
    return info


def family(name: str, table: TableOrMappings = ()) -> Family:
    """The family called ``name`` (or a variant key such as ``rhel-micro``).

    Raises KeyError for a name the table does not define.
    """
    return _table(table).family(name)


def family_names(table: TableOrMappings = ()) -> tuple[str, ...]:
    """The family names the table's families report, sorted."""
    return tuple(sorted({f.name for f in _table(table).families.values()}))


# --------------------------------------------------------------------------------
# Guessing from the commands a stage runs
# --------------------------------------------------------------------------------


def family_from_evidence(run_commands: Iterable[str], table: TableOrMappings = ()) -> Family | None:
    """The family the commands of a stage's RUN instructions point to, or None.

    Only words in command position count (``apk add``, ``/sbin/apk``, ``sudo
    apt-get``, ``sh -c "apk ..."``), never arguments or parts of other words
    (``echo apk``, ``./myapk.sh``).  A family's package managers and its other
    ``evidence`` programs are strong evidence; its ``weak_evidence`` (``rpm``,
    BusyBox-only ``adduser``/``addgroup`` flags) counts only when there is
    nothing strong.  Contradicting evidence (``apk`` and ``apt-get`` in one
    stage, as portable scripts do) gives None.
    """
    t = _table(table)
    return family_for_evidence(*evidence(run_commands, t), t)


def evidence(run_commands: Iterable[str], table: TableOrMappings = ()) -> tuple[frozenset[str], frozenset[str]]:
    """The family keys the commands point to: (strong, weak); see
    ``family_from_evidence``.  The evidence of several stages is the union of theirs."""
    t = _table(table)
    strong: set[str] = set()
    weak: set[str] = set()
    for text in run_commands:
        for program, args in shell.programs(text):
            key = t.strong.get(program)
            if key is not None:
                strong.add(key)
                continue
            for name, pattern, key in t.weak:
                if name == program and (pattern is None or any(pattern.fullmatch(a) for a in args)):
                    weak.add(key)
                    break
    return frozenset(strong), frozenset(weak)


def family_for_evidence(strong: frozenset[str], weak: frozenset[str],
                        table: TableOrMappings = ()) -> Family | None:
    """The family ``evidence`` points to, or None (nothing, or a contradiction)."""
    t = _table(table)
    for found in (strong, weak):
        # e.g. microdnf present: dnf/yum/rpm were installed by it
        found = found - frozenset().union(*(t.outranks.get(key, ()) for key in found))
        if not found:
            continue
        if len(found) == 1:
            return t.family(next(iter(found)))
        return None
    return None

"""The image-family table: ``rewriter/data/families.toml`` and ``--mappings`` files.

``builtin()`` is the table dockfix ships (read once: it is package data);
``load(paths)`` is that table with mapping files laid over it (their entries
win), read each time it is called, so the caller keeps the result (the
command's configuration cache puts it in ``Settings.family_table``).

Every document is checked against ``SCHEMA`` before anything is built from
it; a bad one raises ``ValueError`` naming the file, the table and the key.
The schema's meaning is documented in the header of ``families.toml``.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from rewriter.core.globs import fnmatchcase
from rewriter.core.settings import is_id

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["SCHEMA", "Family", "ImageInfo", "Table", "builtin", "load"]


@dataclass(frozen=True)
class Family:
    """An image family: how a user is created in its images."""

    name: str  #: e.g. ``debian``: the key of a ``[families.<name>]`` table
    shell: bool  #: ``RUN`` with /bin/sh works
    template: str | None  #: ``templates/adduser/<template>.Dockerfile.j2``; None: no RUN can add a user
    package_managers: tuple[str, ...]  #: e.g. ``("apt-get", "apt")``; most preferred first
    default_nonroot_uid: int | None = None  #: uid for USER when no user can be created
    fhs: bool = False  #: images have the usual directories (/usr, /var/lib, /opt, ...)
    passwd: bool = True  #: images have /etc/passwd (scratch: numeric ids only)
    windows: bool = False  #: Windows containers: no POSIX shell, no --chown


@dataclass(frozen=True)
class ImageInfo:
    """What the family table knows of one image reference."""

    ref: str  #: the reference looked up, as given
    family: Family
    default_user: str | None  #: what the image's own USER says; None or 'root': root
    users: Mapping[str, int] = field(hash=False)  #: non-root users the image ships (read-only)
    used_uids: frozenset[int]  #: uids taken in the image: never create a user with one
    privilege_drop: bool  #: starts as root and drops privileges itself (docs/pitfalls.md #3)
    #: variables the image's own ENV sets (``GOPATH=/go``): a file's ``$GOPATH`` means them
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    #: True when only naming conventions (a tag like ``-alpine``, a repository named
    #: ``*/ubuntu``) gave the family: users and default_user are then unknown.
    guessed: bool = False
    note: str | None = None  #: the table's note on the image, for messages

    @property
    def runs_as_root(self) -> bool:
        """The image's own USER is root (or unset)."""
        if self.default_user is None:
            return True
        return self.default_user.split(":", 1)[0] in ("", "root", "0")


# --------------------------------------------------------------------------------
# The schema
# --------------------------------------------------------------------------------

#: A family's name: the key of its ``[families.<name>]`` table, or its ``name``.
_FAMILY_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
#: A program name, optionally followed by a pattern one of its arguments must match.
_EVIDENCE = re.compile(r"([A-Za-z0-9_.+-]+)(?: (\S+))?")


def _str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v for v in value)


def _globs_ok(value: object) -> bool:
    return _str_list(value) and bool(value)


def _users_ok(value: object) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and is_id(v) for k, v in value.items())


def _evidence_ok(value: object) -> bool:
    if not _str_list(value):
        return False
    for item in value:  # type: ignore[attr-defined]
        m = _EVIDENCE.fullmatch(item)
        if m is None:
            return False
        if m.group(2):
            try:
                re.compile(m.group(2))
            except re.error:
                return False
    return True


#: One key of a table: (the test its value must pass, what that means, required).
_Field = tuple[Callable[[object], bool], str, bool]


def _field(check: Callable[[object], bool], what: str, required: bool = False) -> _Field:
    return (check, what, required)


_BOOL = _field(lambda v: isinstance(v, bool), "true or false")
_TEXT = _field(lambda v: isinstance(v, str), "a string")
_NAMES = _field(_str_list, "a list of names")
_UID = _field(is_id, "a uid")
_USERS = _field(_users_ok, "a table of names to uids")
_ENV = _field(lambda v: isinstance(v, dict) and all(
    isinstance(k, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k) and isinstance(x, str)
    for k, x in v.items()), "a table of variable names to strings")
_GLOBS = _field(_globs_ok, "a non-empty list of globs")

#: What each kind of table may hold.  ``families.toml``'s header says what the
#: keys mean; this says what their values must be.
SCHEMA: Mapping[str, Mapping[str, _Field]] = MappingProxyType({
    "families": {
        "name": _field(lambda v: isinstance(v, str) and bool(_FAMILY_NAME.fullmatch(v)),
                       "a family name (lowercase letters, digits, -)"),
        "shell": _field(lambda v: isinstance(v, bool), "true or false", required=True),
        "template": _field(lambda v: isinstance(v, str) and bool(v), "a name"),
        "package_managers": _NAMES,
        "evidence": _field(_str_list, "a list of programs"),
        "weak_evidence": _field(_evidence_ok, "a list of programs, each with an optional pattern"),
        "outranks": _NAMES,
        "default_nonroot_uid": _UID,
        "users": _USERS,
        "system_uids": _field(lambda v: isinstance(v, list) and all(is_id(u) for u in v), "a list of uids"),
        "fhs": _BOOL,
        "passwd": _BOOL,
        "windows": _BOOL,
        "note": _TEXT,
    },
    "tag_hints": {
        "tags": _field(_globs_ok, "a non-empty list of globs", required=True),
        "family": _field(lambda v: isinstance(v, str), "a family key", required=True),
        "users": _USERS,
        "note": _TEXT,
    },
    "images": {
        "match": _field(lambda v: (isinstance(v, str) and bool(v)) or _globs_ok(v),
                        "a name or a list of names", required=True),
        "tags": _GLOBS,
        "family": _field(lambda v: isinstance(v, str), "a family key"),
        "tag_hints": _BOOL,
        "default_user": _field(lambda v: isinstance(v, str) and bool(v), "a user"),
        "users": _USERS,
        "env": _ENV,
        "privilege_drop": _BOOL,
        "guess": _BOOL,
        "note": _TEXT,
    },
})


def _expect(ok: object, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _check(table: object, fields: Mapping[str, _Field], where: str, partial: bool = False) -> dict[str, Any]:
    """``table`` checked against ``fields`` (``partial``: required keys may be
    missing, as in an overlay's change to a family); a ValueError names what
    is wrong."""
    _expect(isinstance(table, dict), f"{where} must be a table")
    assert isinstance(table, dict)
    extra = set(table) - set(fields)
    _expect(not extra, f"{where}: unknown key(s) {', '.join(sorted(extra))} "
                       f"(allowed: {', '.join(sorted(fields))})")
    for key, (ok, what, required) in fields.items():
        if key not in table:
            _expect(partial or not required, f"{where}: `{key}` is required ({what})")
        else:
            _expect(ok(table[key]), f"{where}: `{key}` = {_short(table[key])} is not {what}")
    return table


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_document(doc: dict[str, Any], origin: str) -> None:
    """The shape of one TOML document (family references are checked later,
    against every document together)."""
    _check(doc, {k: _field(lambda v: True, "") for k in SCHEMA}, origin)
    fams = doc.get("families", {})
    _expect(isinstance(fams, dict), f"{origin}: [families] must be a table")
    for key, spec in fams.items():
        _check(spec, SCHEMA["families"], f"{origin}: [families.{key}]", partial=True)
    for kind in ("tag_hints", "images"):
        items = doc.get(kind, [])
        _expect(isinstance(items, list), f"{origin}: {kind} must be an array of tables ([[{kind}]])")
        for i, item in enumerate(items):
            _check(item, SCHEMA[kind], f"{origin}: [[{kind}]] #{i + 1}")


# --------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------

#: The table dockfix ships, in the package directory (installed or not).
_TOML = Path(__file__).parent.parent / "data" / "families.toml"
_BUILTIN = "rewriter/data/families.toml"


@functools.cache
def builtin_document() -> dict[str, Any]:
    """The built-in table as TOML gives it (checked; read once: every load
    lays mapping files over it, and nothing changes it)."""
    doc = _loads(_TOML.read_text(encoding="utf-8"), _BUILTIN)
    _check_document(doc, _BUILTIN)
    return doc


@functools.cache
def builtin() -> Table:
    """The table dockfix ships, read once per process (it never changes)."""
    return _build([(builtin_document(), _BUILTIN)])


def load(mappings: Sequence[str | Path]) -> Table:
    """The built-in table with the mapping files ``mappings`` laid over it
    (earlier files win over later ones, all over the built-in table).  Raises
    ``ValueError`` for a file that is not valid TOML or breaks the schema,
    ``OSError`` for one that cannot be read."""
    if not mappings:
        return builtin()
    docs = []
    for path in mappings:
        origin = str(path)
        with open(path, encoding="utf-8") as f:
            doc = _loads(f.read(), origin)
        _check_document(doc, origin)
        docs.append((doc, origin))
    docs.append((builtin_document(), _BUILTIN))
    return _build(docs)


def _loads(text: str, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{origin}: {e}") from None


# --------------------------------------------------------------------------------
# The table, built
# --------------------------------------------------------------------------------

_GLOB_CHARS = frozenset("*?[")


class _Globs:
    """Glob patterns (``fnmatch``, lowercase), matched one by one with
    ``rewriter.core.globs``: nearly all are ``*``-only and need no regular
    expression, and a lookup reads only the few of the entries it finds."""

    __slots__ = ("patterns",)

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(p.lower() for p in patterns)

    def fullmatch(self, text: str) -> bool:
        """Whether the whole of ``text`` matches one of the patterns."""
        return any(fnmatchcase(text, p) for p in self.patterns)


@dataclass(frozen=True, slots=True)
class _Hint:
    """A ``[[tag_hints]]`` item."""

    tags: _Globs
    family: str
    users: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class _Entry:
    """An ``[[images]]`` item (its ``match`` patterns are the index keys)."""

    tags: _Globs | None
    family: str | None
    tag_hints: bool
    default_user: str | None
    users: tuple[tuple[str, int], ...]
    env: tuple[tuple[str, str], ...]
    privilege_drop: bool
    guess: bool
    note: str | None


class Table:
    """The families, tag hints and images of one table (built-in + overlays)."""

    def __init__(
        self,
        families: dict[str, Family],
        family_users: dict[str, dict[str, int]],
        system_uids: dict[str, frozenset[int]],
        exact: dict[str, list[_Entry]],
        globs: list[tuple[_Globs, _Entry]],
        hints: list[_Hint],
        evidence: tuple[dict[str, str], list[tuple[str, re.Pattern[str] | None, str]], dict[str, frozenset[str]]],
    ) -> None:
        self.families = families
        self.family_users = family_users
        self.system_uids = system_uids
        self.exact = exact
        self.globs = globs
        self.hints = hints
        #: program -> family key (strong evidence)
        self.strong: dict[str, str] = evidence[0]
        #: (program, pattern one argument must match or None, family key): weak evidence
        self.weak: list[tuple[str, re.Pattern[str] | None, str]] = evidence[1]
        #: family key -> keys it wins over when evidence points to both
        self.outranks: dict[str, frozenset[str]] = evidence[2]
        self.found: dict[str, ImageInfo | None] = {}  #: ``lookup`` by reference, as given

    def family(self, key: str) -> Family:
        """The family ``key`` (or a variant key such as ``rhel-micro``); KeyError if unknown."""
        try:
            return self.families[key]
        except KeyError:
            known = ", ".join(sorted(self.families))
            raise KeyError(f"unknown image family {key!r} (known: {known})") from None

    def entry(self, repo: str, tag: str) -> _Entry | None:
        for e in self.exact.get(repo, ()):
            if e.tags is None or e.tags.fullmatch(tag):
                return e
        for rx, e in self.globs:
            if rx.fullmatch(repo) and (e.tags is None or e.tags.fullmatch(tag)):
                return e
        return None

    def hint(self, tag: str) -> _Hint | None:
        for h in self.hints:
            if h.tags.fullmatch(tag):
                return h
        return None

    def lookup(self, ref: str, repo: str, tag: str) -> ImageInfo | None:
        entry = self.entry(repo, tag)
        hint = self.hint(tag)
        if entry is None:
            if hint is None:
                return None
            return self._info(ref, hint.family, hint, None, guessed=True)
        key = entry.family
        use_hint = (
            hint is not None
            and entry.tag_hints
            and (key is None or self.families[key].shell)
        )
        if use_hint:
            assert hint is not None
            key = hint.family
        return self._info(ref, key or "unknown", hint if use_hint else None, entry, guessed=entry.guess)

    def _info(self, ref: str, key: str, hint: _Hint | None, entry: _Entry | None, *, guessed: bool) -> ImageInfo:
        users = dict(self.family_users.get(key, {}))
        own = dict(entry.users) if entry else {}
        if hint is not None:
            # A release's users, unless the image gave that uid to a user of its own
            # (gradle renames noble's ubuntu 1000 to gradle).
            taken = set(own.values())
            users.update((n, u) for n, u in hint.users if u not in taken)
        users.update(own)
        used = {0, *users.values(), *self.system_uids.get(key, ())}
        default_user = entry.default_user if entry else None
        if default_user is not None:
            uid = default_user.split(":", 1)[0]
            if uid.isdigit():
                used.add(int(uid))
        return ImageInfo(
            ref=ref,
            family=self.families[key],
            default_user=default_user,
            users=MappingProxyType(users),
            used_uids=frozenset(used),
            privilege_drop=entry.privilege_drop if entry else False,
            env=MappingProxyType(dict(entry.env) if entry else {}),
            guessed=guessed,
            note=entry.note if entry else None,
        )


def _build(docs: list[tuple[dict[str, Any], str]]) -> Table:
    """Index checked documents (highest precedence first)."""
    raw_families: dict[str, dict[str, Any]] = {}
    origins: dict[str, str] = {}
    for doc, origin in reversed(docs):  # lowest first, so later ones override
        for key, spec in doc.get("families", {}).items():
            raw_families[key] = {**raw_families.get(key, {}), **spec}
            origins[key] = origin

    families: dict[str, Family] = {}
    family_users: dict[str, dict[str, int]] = {}
    system_uids: dict[str, frozenset[int]] = {}
    strong: dict[str, str] = {}
    weak: list[tuple[str, re.Pattern[str] | None, str]] = []
    outranks: dict[str, frozenset[str]] = {}
    for key, spec in raw_families.items():
        where = f"{origins[key]}: [families.{key}]"
        _check(spec, SCHEMA["families"], where)  # the merged table, e.g. `shell` now given
        name = spec.get("name", key)
        _expect(_FAMILY_NAME.fullmatch(name), f"{where}: {name!r} is not a family name (lowercase letters, digits, -)")
        families[key] = Family(
            name, spec["shell"], spec.get("template"), tuple(spec.get("package_managers", [])),
            spec.get("default_nonroot_uid"), fhs=spec.get("fhs", False),
            passwd=spec.get("passwd", True), windows=spec.get("windows", False),
        )
        family_users[key] = dict(spec.get("users", {}))
        system_uids[key] = frozenset(spec.get("system_uids", []))
        # a program names the first family (in table order) that lists it:
        # apt-get says debian, which comes before ubuntu
        for program in [*spec.get("package_managers", []), *spec.get("evidence", [])]:
            strong.setdefault(program, key)
        for item in spec.get("weak_evidence", []):
            m = _EVIDENCE.fullmatch(item)
            assert m is not None
            weak.append((m.group(1), re.compile(m.group(2)) if m.group(2) else None, key))
        outranks[key] = frozenset(spec.get("outranks", []))
    _expect("unknown" in families, "[families.unknown] is missing")
    for key in families:
        where = f"{origins[key]}: [families.{key}]"
        for other in outranks[key]:
            _expect(other in families, f"{where}: `outranks`: unknown family {other!r}")

    def known_family(value: str, where: str) -> str:
        _expect(value in families, f"{where}: unknown family {value!r}")
        return value

    hints: list[_Hint] = []
    exact: dict[str, list[_Entry]] = {}
    globs: list[tuple[_Globs, _Entry]] = []
    for doc, origin in docs:
        for i, h in enumerate(doc.get("tag_hints", [])):
            where = f"{origin}: [[tag_hints]] #{i + 1}"
            hints.append(_Hint(_Globs(h["tags"]), known_family(h["family"], where),
                               tuple(h.get("users", {}).items())))
        for i, e in enumerate(doc.get("images", [])):
            where = f"{origin}: [[images]] #{i + 1}"
            fam = e.get("family")
            entry = _Entry(
                tags=_Globs(e["tags"]) if "tags" in e else None,
                family=None if fam is None else known_family(fam, where),
                tag_hints=e.get("tag_hints", True),
                default_user=e.get("default_user"),
                users=tuple(e.get("users", {}).items()),
                env=tuple(e.get("env", {}).items()),
                privilege_drop=e.get("privilege_drop", False),
                guess=e.get("guess", False),
                note=e.get("note"),
            )
            match = e["match"]
            for pat in [match] if isinstance(match, str) else match:
                pat = pat.lower()
                if _GLOB_CHARS.isdisjoint(pat):
                    exact.setdefault(pat, []).append(entry)
                else:
                    globs.append((_Globs([pat]), entry))
    return Table(families, family_users, system_uids, exact, globs, hints, (strong, weak, outranks))

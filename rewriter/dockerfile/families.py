"""Image families: what an image is built on, and what that means for a non-root user.

A *family* (alpine, debian, rhel, distroless, ...) decides whether ``RUN`` works,
which template creates a user, and which package manager installs things.  An
*image* adds what the table knows about one repository: the ``USER`` it already
sets, the users it ships, whether its entrypoint drops privileges itself.

The knowledge lives in ``rewriter/data/families.toml`` (schema in its header);
this module only reads it, on the first call.

* ``lookup(ref)`` -- what is known about an image reference, or ``None``;
* ``family(name)`` -- a family by name;
* ``family_from_evidence(runs)`` -- a family from the commands a stage runs.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from rewriter.core.settings import is_id
from rewriter.dockerfile import shell

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "FAMILY_NAMES",
    "Family",
    "ImageInfo",
    "family",
    "family_from_evidence",
    "lookup",
]

#: A family's name: the key of its ``[families.<name>]`` table, or its ``name``.
_FAMILY_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
#: The family names of the table dockfix ships (``--mappings`` may add others).
FAMILY_NAMES = (
    "alpine",
    "busybox",
    "debian",
    "ubuntu",
    "rhel",
    "rhel-minimal",
    "suse",
    "distroless",
    "chainguard",
    "scratch",
    "windows",
    "unknown",
)


@dataclass(frozen=True)
class Family:
    name: str  #: e.g. ``debian``: one of ``FAMILY_NAMES``, or one a mappings file adds
    shell: bool  #: ``RUN`` with /bin/sh works
    template: str | None  #: ``templates/adduser/<template>.Dockerfile.j2``; None: no RUN can add a user
    package_managers: tuple[str, ...]  #: e.g. ``("apt-get", "apt")``; most preferred first
    default_nonroot_uid: int | None = None  #: uid for USER when no user can be created


@dataclass(frozen=True)
class ImageInfo:
    ref: str  #: the reference looked up, as given
    family: Family
    default_user: str | None  #: what the image's own USER says; None or 'root': root
    users: Mapping[str, int] = field(hash=False)  #: non-root users the image ships (read-only)
    used_uids: frozenset[int]  #: uids taken in the image: never create a user with one
    privilege_drop: bool  #: starts as root and drops privileges itself (docs/pitfalls.md #3)
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
# Public functions
# --------------------------------------------------------------------------------


def lookup(ref: str, mappings: Sequence[str | Path] = ()) -> ImageInfo | None:
    """What the table knows about image ``ref`` (``ARG``s already expanded).

    ``mappings`` are extra TOML files with the table's schema; their entries win.
    Returns None for a reference that still holds ``$``, that is not a valid image
    reference, or that neither the table nor the tag hints know: the caller then
    falls back to evidence (``family_from_evidence``).  ``ref`` must be an image,
    not the name of an earlier build stage.
    """
    table = _table(_keys(mappings))
    if ref in table.found:
        return table.found[ref]
    split = _split_ref(ref)
    if split is None:
        return None
    repo, tag = split
    return table.cached_lookup(ref, repo, tag)


def family(name: str, mappings: Sequence[str | Path] = ()) -> Family:
    """The family called ``name`` (or a variant key such as ``rhel-micro``).

    Raises KeyError for a name the table does not define.
    """
    fams = _table(_keys(mappings)).families
    try:
        return fams[name]
    except KeyError:
        raise KeyError(f"unknown image family {name!r} (known: {', '.join(sorted(fams))})") from None


def family_from_evidence(run_commands: Iterable[str]) -> Family | None:
    """The family the commands of a stage's RUN instructions point to, or None.

    Only words in command position count (``apk add``, ``/sbin/apk``, ``sudo
    apt-get``, ``sh -c "apk ..."``), never arguments or parts of other words
    (``echo apk``, ``./myapk.sh``).  Package managers are strong evidence; ``rpm``
    and BusyBox-only ``adduser``/``addgroup`` flags are weak evidence, used only
    when there is nothing strong.  Contradicting evidence (``apk`` and ``apt-get``
    in one stage, as portable scripts do) gives None.
    """
    return family_for_evidence(*evidence(run_commands))


def evidence(run_commands: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The families the commands point to: (strong, weak); see ``family_from_evidence``.
    The evidence of several stages is the union of theirs."""
    strong: set[str] = set()
    weak: set[str] = set()
    for text in run_commands:
        for program, args in shell.programs(text):
            _evidence(program, args, strong, weak)
    return frozenset(strong), frozenset(weak)


def family_for_evidence(strong: frozenset[str], weak: frozenset[str]) -> Family | None:
    """The family ``evidence`` points to, or None (nothing, or a contradiction)."""
    for found in (strong, weak):
        if "rhel-minimal" in found:  # microdnf present: dnf/yum/rpm were installed by it
            found = found - {"rhel"}
        if not found:
            continue
        if len(found) == 1:
            return family(next(iter(found)))
        return None
    return None


# --------------------------------------------------------------------------------
# Reference normalisation
# --------------------------------------------------------------------------------

#: Hosts that are Docker Hub itself.
_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})
#: Mirrors of Docker Hub: ``prefix/`` + hub path.
_HUB_MIRRORS = ("public.ecr.aws/docker/library/", "mirror.gcr.io/")
_REF_CHARS = r"[a-z0-9._/:-]+"
_DIGEST = r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+"


def _split_ref(ref: str) -> tuple[str, str] | None:
    """``(repo, tag)``, normalised: lowercase, no digest, Docker Hub's host and
    ``library/`` removed; the tag defaults to ``latest``.  None if not an image."""
    ref, at, digest = ref.strip().partition("@")
    if at and not re.fullmatch(_DIGEST, digest):
        return None
    ref = ref.lower()
    if not ref or not re.fullmatch(_REF_CHARS, ref):
        return None  # empty, '$'-holding, whitespace, quotes, ...
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:  # a ':' after the last '/' starts the tag ("localhost:5000/x" has none)
        repo, tag = ref[:colon], ref[colon + 1 :]
    else:
        repo, tag = ref, "latest"
    first, sep, rest = repo.partition("/")
    if not repo or not tag or ":" in rest or (":" in first and not sep):
        return None  # a ':' in a repository name is only a registry's port
    for mirror in _HUB_MIRRORS:
        if repo.startswith(mirror):
            repo = repo[len(mirror) :]
            break
    first, sep, rest = repo.partition("/")
    if sep and first in _HUB_HOSTS:
        repo = rest
    if repo.startswith("library/"):
        repo = repo[len("library/") :]
    if not repo or repo.startswith("/") or repo.endswith("/") or "//" in repo:
        return None
    return repo, tag


# --------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------

_GLOB_CHARS = frozenset("*?[")


class _Hint:
    """A ``[[tag_hints]]`` item."""

    __slots__ = ("tags", "family", "users")

    def __init__(self, tags: _Globs, family: str, users: tuple[tuple[str, int], ...]) -> None:
        self.tags, self.family, self.users = tags, family, users


class _Entry:
    """An ``[[images]]`` item (its ``match`` patterns are the index keys)."""

    __slots__ = ("tags", "family", "tag_hints", "default_user", "users", "privilege_drop", "guess", "note")

    def __init__(
        self,
        *,
        tags: _Globs | None,
        family: str | None,
        tag_hints: bool,
        default_user: str | None,
        users: tuple[tuple[str, int], ...],
        privilege_drop: bool,
        guess: bool,
        note: str | None,
    ) -> None:
        self.tags, self.family, self.tag_hints = tags, family, tag_hints
        self.default_user, self.users = default_user, users
        self.privilege_drop, self.guess, self.note = privilege_drop, guess, note


class _Table:
    def __init__(
        self,
        families: dict[str, Family],
        family_users: dict[str, dict[str, int]],
        system_uids: dict[str, frozenset[int]],
        exact: dict[str, list[_Entry]],
        globs: list[tuple[_Globs, _Entry]],
        hints: list[_Hint],
    ) -> None:
        self.families = families
        self.family_users = family_users
        self.system_uids = system_uids
        self.exact = exact
        self.globs = globs
        self.hints = hints
        self.found: dict[str, ImageInfo | None] = {}  #: ``lookup`` by reference

    def cached_lookup(self, ref: str, repo: str, tag: str) -> ImageInfo | None:
        """``lookup``, once per reference (a file often names one image many times)."""
        try:
            return self.found[ref]
        except KeyError:
            info = self.found[ref] = self.lookup(ref, repo, tag)
            return info

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
            guessed=guessed,
            note=entry.note if entry else None,
        )


def _keys(mappings: Sequence[str | Path]) -> tuple[str, ...]:
    if isinstance(mappings, (str, bytes)) or hasattr(mappings, "__fspath__"):
        mappings = (mappings,)  # type: ignore[assignment]
    return tuple(os.path.abspath(os.fspath(m)) for m in mappings)


#: The table dockfix ships, in the package directory (installed or not).
_TOML = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "families.toml")


@functools.cache
def _builtin_doc() -> dict[str, Any]:
    with open(_TOML, encoding="utf-8") as f:
        return _loads(f.read(), "rewriter/data/families.toml")


def _loads(text: str, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{origin}: {e}") from None


@functools.lru_cache(maxsize=None)
def _table(mappings: tuple[str, ...]) -> _Table:
    docs = []
    for path in mappings:  # overlays first: their entries win
        with open(path, encoding="utf-8") as f:
            docs.append((_loads(f.read(), path), path))
    docs.append((_builtin_doc(), "rewriter/data/families.toml"))
    return _build(docs)


_TOP_KEYS = {"families", "images", "tag_hints"}
_FAMILY_KEYS = {"name", "shell", "template", "package_managers", "default_nonroot_uid", "users", "system_uids", "note"}
_HINT_KEYS = {"tags", "family", "users", "note"}
_IMAGE_KEYS = {"match", "tags", "family", "tag_hints", "default_user", "users", "privilege_drop", "guess", "note"}


def _build(docs: list[tuple[dict[str, Any], str]]) -> _Table:
    """Validate and index the documents (highest precedence first)."""
    raw_families: dict[str, dict[str, Any]] = {}
    origins: dict[str, str] = {}
    for doc, origin in reversed(docs):  # lowest first, so later ones override
        _check_keys(doc, _TOP_KEYS, origin)
        fams = doc.get("families", {})
        _expect(isinstance(fams, dict), f"{origin}: [families] must be a table")
        for key, spec in fams.items():
            where = f"{origin}: [families.{key}]"
            _expect(isinstance(spec, dict), f"{where} must be a table")
            _check_keys(spec, _FAMILY_KEYS, where)
            raw_families[key] = {**raw_families.get(key, {}), **spec}
            origins[key] = origin

    families: dict[str, Family] = {}
    family_users: dict[str, dict[str, int]] = {}
    system_uids: dict[str, frozenset[int]] = {}
    for key, spec in raw_families.items():
        where = f"{origins[key]}: [families.{key}]"
        name = spec.get("name", key)
        _expect(isinstance(name, str) and _FAMILY_NAME.fullmatch(name),
                f"{where}: name {name!r} is not a family name (lowercase letters, digits, -)")
        _expect(isinstance(spec.get("shell"), bool), f"{where}: `shell` must be true or false")
        template = spec.get("template")
        _expect(template is None or (isinstance(template, str) and template), f"{where}: `template` must be a name")
        pms = spec.get("package_managers", [])
        _expect(_str_list(pms), f"{where}: `package_managers` must be a list of strings")
        uid = spec.get("default_nonroot_uid")
        _expect(uid is None or _uid(uid), f"{where}: `default_nonroot_uid` must be a uid")
        families[key] = Family(name, spec["shell"], template, tuple(pms), uid)
        family_users[key] = _users(spec.get("users", {}), where)
        sys_uids = spec.get("system_uids", [])
        _expect(isinstance(sys_uids, list) and all(_uid(u) for u in sys_uids), f"{where}: `system_uids` must be uids")
        system_uids[key] = frozenset(sys_uids)
    _expect("unknown" in families, "[families.unknown] is missing")

    def known_family(value: object, where: str) -> str:
        _expect(isinstance(value, str) and value in families, f"{where}: unknown family {value!r}")
        return value  # type: ignore[return-value]

    hints: list[_Hint] = []
    exact: dict[str, list[_Entry]] = {}
    globs: list[tuple[_Globs, _Entry]] = []
    for doc, origin in docs:
        for i, h in enumerate(doc.get("tag_hints", [])):
            where = f"{origin}: [[tag_hints]] #{i + 1}"
            _expect(isinstance(h, dict), f"{where} must be a table")
            _check_keys(h, _HINT_KEYS, where)
            hints.append(
                _Hint(
                    tags=_globs(h.get("tags"), f"{where}: `tags`"),
                    family=known_family(h.get("family"), where),
                    users=tuple(_users(h.get("users", {}), where).items()),
                )
            )
        for i, e in enumerate(doc.get("images", [])):
            where = f"{origin}: [[images]] #{i + 1}"
            _expect(isinstance(e, dict), f"{where} must be a table")
            _check_keys(e, _IMAGE_KEYS, where)
            match = e.get("match")
            patterns = [match] if isinstance(match, str) else match
            _expect(_str_list(patterns) and patterns, f"{where}: `match` must be a name or a list of names")
            fam = e.get("family")
            default_user = e.get("default_user")
            _expect(default_user is None or (isinstance(default_user, str) and default_user),
                    f"{where}: bad `default_user`")
            for flag in ("tag_hints", "privilege_drop", "guess"):
                _expect(isinstance(e.get(flag, False), bool), f"{where}: `{flag}` must be true or false")
            note = e.get("note")
            _expect(note is None or isinstance(note, str), f"{where}: `note` must be a string")
            entry = _Entry(
                tags=_globs(e["tags"], f"{where}: `tags`") if "tags" in e else None,
                family=None if fam is None else known_family(fam, where),
                tag_hints=e.get("tag_hints", True),
                default_user=default_user,
                users=tuple(_users(e.get("users", {}), where).items()),
                privilege_drop=e.get("privilege_drop", False),
                guess=e.get("guess", False),
                note=note,
            )
            for pat in patterns:
                pat = pat.lower()
                if _GLOB_CHARS.isdisjoint(pat):
                    exact.setdefault(pat, []).append(entry)
                else:
                    globs.append((_globs([pat], f"{where}: `match`"), entry))
    return _Table(families, family_users, system_uids, exact, globs, hints)


class _Globs:
    """Glob patterns, matched as one regular expression compiled on first use:
    the table has about 150 of them and a lookup needs a few, so building them
    all would cost more than a small file takes to fix."""

    __slots__ = ("patterns", "_rx", "_words")

    def __init__(self, patterns: list[str]) -> None:
        self.patterns = tuple(p.lower() for p in patterns)
        self._rx: re.Pattern[str] | None = None
        #: per pattern, the literal parts a match must contain (None: no quick test)
        self._words = [None if "[" in p else [w for w in re.split(r"[*?]", p) if w]
                       for p in self.patterns]

    def fullmatch(self, text: str) -> re.Match[str] | None:
        if all(ws is not None and not all(w in text for w in ws) for ws in self._words):
            return None  # no pattern can match: not worth compiling them
        if self._rx is None:
            self._rx = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in self.patterns))
        return self._rx.fullmatch(text)


def _globs(patterns: object, where: str) -> _Globs:
    _expect(_str_list(patterns) and patterns, f"{where} must be a non-empty list of globs")
    assert isinstance(patterns, list)
    return _Globs(patterns)


def _users(value: object, where: str) -> dict[str, int]:
    _expect(
        isinstance(value, dict) and all(isinstance(k, str) and _uid(v) for k, v in value.items()),
        f"{where}: `users` must map names to uids",
    )
    assert isinstance(value, dict)
    return dict(value)


def _uid(value: object) -> bool:
    return is_id(value)


def _str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v for v in value)


def _check_keys(table: dict[str, Any], allowed: set[str], where: str) -> None:
    extra = set(table) - allowed
    _expect(not extra, f"{where}: unknown key(s) {', '.join(sorted(extra))} (allowed: {', '.join(sorted(allowed))})")


def _expect(ok: object, message: str) -> None:
    if not ok:
        raise ValueError(message)


# --------------------------------------------------------------------------------
# Evidence from RUN commands
# --------------------------------------------------------------------------------

_STRONG = {
    "apt-get": "debian",
    "apt": "debian",
    "apt-cache": "debian",
    "apt-key": "debian",
    "dpkg": "debian",
    "dpkg-reconfigure": "debian",
    "apk": "alpine",
    "microdnf": "rhel-minimal",
    "dnf": "rhel",
    "dnf5": "rhel",
    "yum": "rhel",
    "yum-config-manager": "rhel",
    "zypper": "suse",
}
#: rpm is also SUSE's; used only when no package manager says more.
_WEAK = {"rpm": "rhel"}
#: BusyBox adduser: -D no password, -S system, -H no home (Debian's adduser has no
#: short options; on Fedora-likes adduser is useradd, where these are errors).
_BUSYBOX_ADDUSER = r"-[A-Za-z]*[DSH][A-Za-z]*"
#: BusyBox addgroup: -S system, -g GID (Debian's uses --system/--gid; RHEL has none).
_BUSYBOX_ADDGROUP = r"-[A-Za-z]*[Sg][A-Za-z]*"


def _evidence(program: str, args: list[str], strong: set[str], weak: set[str]) -> None:
    """Note what running ``program`` with ``args`` says about the family."""
    if program in _STRONG:
        strong.add(_STRONG[program])
    elif program in _WEAK:
        weak.add(_WEAK[program])
    elif program == "adduser" and any(re.fullmatch(_BUSYBOX_ADDUSER, a) for a in args):
        weak.add("alpine")
    elif program == "addgroup" and any(re.fullmatch(_BUSYBOX_ADDGROUP, a) for a in args):
        weak.add("alpine")

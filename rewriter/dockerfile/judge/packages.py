"""The packages a stage installs, by a package manager or from a package file
(``dpkg -i filebeat-6.4.0-amd64.deb``), and the libraries it copies in from
another stage.
"""

from __future__ import annotations

import bisect
import functools
import posixpath
import re

from rewriter.core.globs import fnmatchcase
from rewriter.dockerfile.model import StageInfo, expand
from rewriter.dockerfile.syntax import Instruction


def _installs(info: StageInfo, packages: frozenset[str]) -> Instruction | None:
    """The RUN that installs one of ``packages`` (by a word of its command, or a
    package file of that name: ``dpkg -i filebeat-6.4.0-amd64.deb``), or None."""
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd != "RUN":
                continue
            words = set(re.findall(r"[\w.+-]+", ins.logical)) | set(
                _file_packages(expand(ins.logical, s.env)[0]))
            if words & packages:
                return ins
    return None


#: a package installed from a file: ``dpkg -i x.deb``, ``apt-get install ./x.deb``,
#: ``gdebi -n x.deb``, ``rpm -ivh x.rpm``, ``yum localinstall x.rpm``, ``dnf install x.rpm``
_PACKAGE_FILE_INSTALL = (
    r"\b(?:dpkg[ \t]+(?:-\S+[ \t]+)*?(?:-i|--install)\b|gdebi\b|"
    r"rpm[ \t]+(?:-\S+[ \t]+)*?-(?:-install|-upgrade|[a-zA-Z]*[iU][a-zA-Z]*)\b|"
    r"(?:apt-get|apt|yum|dnf|microdnf|zypper)[ \t]+(?:-\S+[ \t]+)*?(?:local)?install\b)"
    r"([^;&|\n]*)")


def _file_packages(text: str) -> list[str]:
    """The names of the packages ``text`` installs from package files, read
    from the file names as Debian and RPM name them (the callers expand the
    stage's variables first: ``dpkg -i ${GRAFANA_FILE}``) (``name_version_arch.deb``,
    ``name-version-release.arch.rpm``, ``filebeat-6.4.0-amd64.deb``)."""
    if ".deb" not in text and ".rpm" not in text:
        return []
    out: list[str] = []
    for m in re.finditer(_PACKAGE_FILE_INSTALL, text):
        for word in m.group(1).split():
            base = posixpath.basename(word.strip("\"'"))
            stem = re.sub(r"\.(?:deb|rpm)$", "", base)
            if stem == base or not stem:
                continue
            name = stem.split("_", 1)[0] if "_" in stem else \
                re.split(r"-(?=\d|\$|v\d)", stem, maxsplit=1)[0]
            if re.fullmatch(r"[a-z0-9][a-z0-9.+-]*", name.lower()):
                out.append(name.lower())
    return out


class _Installed:
    """The words a RUN's package-manager installs name (``text``, the
    installs' arguments), indexed for matching many package lists against
    thousands of words: ``words`` in order; ``first``, each package name's
    (the word in lower case) first position there; ``names`` sorted, so a
    glob's fixed start (``mesa-dri-`` of ``mesa-dri-*``) picks out the few
    names it can match."""

    def __init__(self, text: str) -> None:
        self.text = text
        # the names of ASCII text read from it in lower case at once (the same
        # words: only A-Z change), the words themselves only for a match
        names = _WORD.findall(text.lower()) if text.isascii() else [w.lower() for w in self.words]
        # from the last back, so that each name keeps its first position
        self.first = dict(zip(reversed(names), range(len(names) - 1, -1, -1)))

    @functools.cached_property
    def words(self) -> list[str]:
        return _WORD.findall(self.text)

    @functools.cached_property
    def names(self) -> list[str]:
        return sorted(self.first)

    def first_match(self, exact: frozenset[str], wild: tuple[str, ...]) -> str | None:
        """The first word whose package is one of ``exact`` or matches a glob of ``wild``."""
        if not self.first:
            return None
        if len(exact) < len(self.first):
            hits = [self.first[n] for n in exact if n in self.first]
        else:
            hits = [i for n, i in self.first.items() if n in exact]
        for glob in wild:
            fixed = glob[:min((glob.index(c) for c in "*?[" if c in glob), default=len(glob))]
            for name in self.names[bisect.bisect_left(self.names, fixed):]:
                if not name.startswith(fixed):
                    break
                if fnmatchcase(name, glob):
                    hits.append(self.first[name])
        return self.words[min(hits)] if hits else None


@functools.lru_cache(maxsize=128)
def _install_words(text: str, pip: bool) -> _Installed:
    """The words a package manager's install in the RUN ``text`` names; read
    once per RUN, however many package lists ask."""
    managers = r"apt-get|apt|apk|yum|dnf|microdnf|zypper" + (r"|pip3?" if pip else "")
    rx = re.compile(rf"\b(?:{managers})\b[^;&|]*?\b(?:install|add)\b([^;&|]*)")
    # the words of every install at once: a space keeps two installs' words apart
    return _Installed(" ".join(rx.findall(text)))


_WORD = re.compile(r"[\w.+-]+")


@functools.lru_cache(maxsize=64)
def _split_globs(globs: frozenset[str] | tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    """``globs`` as plain names and the wildcards: most are plain names, a set
    lookup (a RUN may install thousands of packages); split once a list, not
    for each of thousands of stages."""
    exact = frozenset(g for g in globs if not any(c in g for c in "*?["))
    return exact, tuple(g for g in globs if g not in exact)


def _named_in(text: str, globs: frozenset[str] | tuple[str, ...]) -> bool:
    """A literal part of one of ``globs`` (its longest run without a wildcard)
    is in ``text`` (the file, with the build arguments' values), in any case:
    no stage can install a package the text does not name. A quick test before
    asking :func:`_package_install` of every stage."""
    low = text.lower()
    return any(max(re.split(r"[*?\[\]]", g.lower()), key=len) in low for g in globs)


def _package_install(info: StageInfo, globs: frozenset[str] | tuple[str, ...],
                     pip: bool = False) -> tuple[Instruction, str] | None:
    """The RUN that installs one of ``globs`` with a package manager, and the package."""
    exact, wild = _split_globs(globs)

    def matches(name: str) -> bool:
        return name in exact or any(fnmatchcase(name, g) for g in wild)

    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd != "RUN":
                continue
            word = _install_words(ins.logical, pip).first_match(exact, wild)
            if word is not None:
                return ins, word
            for name in _file_packages(expand(ins.logical, s.env)[0]):
                if matches(name):
                    return ins, name
    return None


def _copied_library(info: StageInfo, names: frozenset[str]) -> tuple[Instruction, str] | None:
    """The COPY that brings one of the libraries ``names`` in from another stage
    (``COPY --from=build /usr/lib64/libbcc.so.0 /usr/lib/``), and its name."""
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd != "COPY" or ins.flag("from") is None:
                continue
            for src in ins.values[:-1]:
                base = posixpath.basename(src.rstrip("/")).lower()
                lib = base.split(".so")[0] if ".so" in base else ""
                if lib and any(fnmatchcase(lib, g) for g in names):
                    return ins, base
    return None

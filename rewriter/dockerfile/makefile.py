"""Just enough of a Makefile to read what ``make TARGET`` runs.

``make_call(argv)`` reads a ``make`` command line (its ``-C`` directory, its
``-f`` file, the targets it names); ``recipes(text, targets)`` gives the recipe
lines of those targets (the default goal, the first target, when none), and of
the targets they depend on or run with ``$(MAKE) TARGET``, a few levels deep.
The result is the Makefile's text with every other line blanked, so that an
offset in it is still the Makefile's line: a check that reads it as a script
cites ``Makefile:LINE``.

Variables are read only where trivial (``NAME = value`` with a plain value;
``$(MAKE)`` is ``make``); a line that uses another is kept as written.  Nothing
is ever executed.
"""

from __future__ import annotations

import posixpath
import re

#: the names GNU make looks for, in its order
MAKEFILE_NAMES = ("GNUmakefile", "makefile", "Makefile")
_MAKE_PROGRAMS = frozenset({"make", "gmake"})
#: options that take a value in the next word (``-C dir``) or joined (``-Cdir``)
_VALUE_OPTS = {"-C": "dir", "--directory": "dir", "-f": "file", "--file": "file",
               "--makefile": "file", "-I": "", "--include-dir": "", "-o": "", "--old-file": "",
               "-W": "", "--what-if": "", "--new-file": "", "--assume-new": "",
               "--assume-old": "", "-l": "", "--load-average": ""}
_RULE = re.compile(r"^(?P<targets>[^\t:=#][^:=#]*?)[ \t]*::?(?![=])[ \t]*(?P<rest>.*)$")
_ASSIGN = re.compile(r"^(?:export[ \t]+|override[ \t]+)*(?P<name>[A-Za-z_][\w.-]*)[ \t]*"
                     r"(?P<op>[:?+!]*=)[ \t]*(?P<value>.*)$")
_VAR = re.compile(r"\$[({](?P<name>[A-Za-z_][\w.-]*)[)}]")
#: a recipe that runs make again on the same Makefile: ``$(MAKE) build``
_SUBMAKE = re.compile(r"(?:^|[;&|(]|\s)(?:\$[({]MAKE[)}]|make)(?P<args>(?:[ \t]+[^;&|\n]*)?)")
#: at most this many targets are read, this many levels down from those named
MAX_TARGETS = 20
MAX_DEPTH = 3


def make_call(argv: list[str]) -> tuple[str, str, list[str]] | None:
    """(directory of ``-C``, file of ``-f``, targets) of ``argv`` when it runs
    make (``make -C app init``), with "" for an option not given; None when
    ``argv`` is no make command."""
    if not argv or posixpath.basename(argv[0]) not in _MAKE_PROGRAMS:
        return None
    opts = {"dir": "", "file": ""}
    targets: list[str] = []
    i = 1
    while i < len(argv):
        w = argv[i]
        i += 1
        if w == "--":
            continue
        if w.startswith("--") and "=" in w:
            key, _, value = w.partition("=")
            if _VALUE_OPTS.get(key):
                opts[_VALUE_OPTS[key]] = value
            continue
        if w in _VALUE_OPTS:
            if i < len(argv) and _VALUE_OPTS[w]:
                opts[_VALUE_OPTS[w]] = argv[i]
            i += 1
            continue
        if w.startswith("-"):
            if len(w) > 2 and w[:2] in ("-C", "-f") and not w.startswith("--"):
                opts[_VALUE_OPTS[w[:2]]] = w[2:]
            elif w in ("-j", "--jobs") and i < len(argv) and argv[i].isdigit():
                i += 1
            continue
        if "=" in w:  # NAME=value
            continue
        targets.append(w)
    if opts["dir"] and "$" in opts["dir"] or opts["file"] and "$" in opts["file"]:
        return None
    return opts["dir"], opts["file"], targets


def makefile_paths(cwd: str, call: tuple[str, str, list[str]]) -> list[str]:
    """The paths (in the image) the Makefile of ``call`` may be at, in make's
    order, for a command run in ``cwd``."""
    d, f, _ = call
    where = posixpath.normpath(posixpath.join(cwd, d)) if d else cwd
    if f:
        return [posixpath.normpath(posixpath.join(where, f))]
    return [posixpath.join(where, n) for n in MAKEFILE_NAMES]


def _logical(text: str) -> list[tuple[int, int, str]]:
    """(first line, last line, text) of each logical line: a line ending in
    ``\\`` goes on in the next one."""
    lines = text.split("\n")
    out: list[tuple[int, int, str]] = []
    i = 0
    while i < len(lines):
        start, buf = i, lines[i]
        while buf.endswith("\\") and i + 1 < len(lines):
            i += 1
            buf = buf[:-1] + " " + lines[i].lstrip("\t ")
        out.append((start, i, buf))
        i += 1
    return out


def _subst(text: str, env: dict[str, str]) -> str:
    """``$(NAME)`` of a plain variable, ``$(MAKE)`` as ``make``, ``$(HOME)``
    (the environment's) as ``$HOME``, ``$$`` as ``$``."""
    text = _VAR.sub(lambda m: "make" if m.group("name") == "MAKE"
                    else "$HOME" if m.group("name") == "HOME" and "HOME" not in env
                    else env.get(m.group("name"), m.group(0)), text)
    return text.replace("$$", "$")


def recipes(text: str, targets: list[str]) -> str | None:
    """``text`` with only the recipe lines of ``targets`` (the default goal
    when none) and of the targets they need, kept where they are: every other
    line is blank, a recipe line's leading tab and ``@``/``-``/``+`` are
    dropped. None when no named target has a recipe line."""
    lines = text.split("\n")
    env: dict[str, str] = {}
    rules: dict[str, list[tuple[list[str], list[int]]]] = {}  # target: (prereqs, lines)
    order: list[str] = []
    current: list[list[int]] | None = None  # the recipe lists of the rule being read
    default = ""
    in_define = False
    starts: set[int] = set()  # the first line of each recipe line
    for first, last, line in _logical(text):
        if in_define:
            in_define = not re.match(r"^[ \t]*endef\b", line)
            continue
        if line.startswith("\t"):
            if current is not None:
                starts.add(first)
                for recipe in current:
                    recipe.extend(range(first, last + 1))
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if re.match(r"^(?:export[ \t]+|override[ \t]+)*define\b", stripped):
            in_define, current = True, None
            continue
        if re.match(r"^(?:ifn?eq|ifn?def|else|endif|-?include|sinclude|vpath|unexport)\b",
                    stripped):
            continue
        m = _ASSIGN.match(stripped)
        if m and not _RULE.match(stripped.split("=", 1)[0] + "="):
            current = None
            value = m.group("value").split("#", 1)[0].strip()
            name = m.group("name")
            if name == ".DEFAULT_GOAL":
                default = value
            elif m.group("op") in ("=", ":=", "::=", "?=") and "$" not in value and \
                    (m.group("op") != "?=" or name not in env):
                env[name] = value
            continue
        m = _RULE.match(line)
        if m is None:
            current = None
            continue
        names = _subst(m.group("targets"), env).split()
        rest, _, inline = m.group("rest").partition(";")
        if _ASSIGN.match(rest.strip()):  # a target-specific variable
            current = None
            continue
        prereqs = [p for p in _subst(rest.split("#", 1)[0], env).split() if p != "|"]
        current = []
        for name in names:
            recipe = [first] if inline.strip() else []
            starts.add(first)
            rules.setdefault(name, []).append((prereqs, recipe))
            current.append(recipe)
            if name not in order:
                order.append(name)
    if not targets:
        goal = default or next((n for n in order if "%" not in n and
                                (not n.startswith(".") or "/" in n)), "")
        targets = [goal] if goal else []
    keep: set[int] = set()
    seen: set[str] = set()
    queue = [(t, 0) for t in targets]
    while queue and len(seen) < MAX_TARGETS:
        target, depth = queue.pop(0)
        if target in seen or target not in rules:
            continue
        seen.add(target)
        for prereqs, recipe in rules[target]:
            keep.update(recipe)
            if depth >= MAX_DEPTH:
                continue
            queue += [(p, depth + 1) for p in prereqs if p in rules]
            for i in recipe:
                for sub in _SUBMAKE.finditer(_subst(lines[i], env)):
                    call = make_call(["make", *sub.group("args").split()])
                    if call is not None and not call[0] and not call[1]:
                        queue += [(t, depth + 1) for t in call[2] if t in rules]
    if not keep:
        return None
    out = []
    for i, line in enumerate(lines):
        if i not in keep:
            out.append("")
            continue
        m = _RULE.match(line) if not line.startswith("\t") else None
        if m is not None:  # `target: prereqs ; recipe`
            line = " " * (len(line) - len(line.partition(";")[2])) + line.partition(";")[2]
        body = line[1:] if line.startswith("\t") else line
        lead = len(body) - len(body.lstrip("@-+ \t" if i in starts else " \t"))
        out.append(" " * lead + _subst(body[lead:], env))
    return "\n".join(out)

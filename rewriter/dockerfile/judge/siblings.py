"""The base image built by another Dockerfile of the repository (``FROM app-base``
tagged by a Dockerfile beside it): its ENTRYPOINT and the users it creates.
"""

from __future__ import annotations

import posixpath
import re

from rewriter.dockerfile.analysis import Context
from rewriter.dockerfile.model import StageInfo, run_commands
from rewriter.dockerfile.imageref import split_ref
from rewriter.dockerfile.syntax import Dockerfile, Instruction, ParseError, parse
from rewriter.dockerfile.usage import DOCKERFILE_NAME, built_tags, companion_readme
from rewriter.io.context import BuildContext, dockerfile_dir
from rewriter.dockerfile.judge.evidence import _cite
from rewriter.dockerfile.judge.users import _context_user, ContextUser


def _tagged_beside(build: BuildContext, base: str) -> list[str]:
    """The Dockerfile beside this one that builds the namespaced image ``base``,
    as a ``docker build -t`` in its comments or its companion README tags it
    (``docker build -t org/base -f Dockerfile.base .``)."""
    repo = split_ref(base)
    if repo is None or "/" not in repo[0] or not build.dockerfile:
        return []
    here = dockerfile_dir(build)
    beside = [f"{here}/{e}" if here else e for e in sorted(build.list_dir(here))
              if re.match(DOCKERFILE_NAME, e)][:60]
    name = repo[0].rsplit("/", 1)[-1]
    # the file's own ARG/LABEL naming where it lives (label-schema's
    # ``dockerfile`` label: ``ARG DOCKERFILE=base/Dockerfile``)
    own_path = re.compile(rf"(?i)(?:^|[\s=/\"']){re.escape(name)}/Dockerfile(?:$|[\s\"'])")
    # its companion README's Docker Hub or microbadger link to the image
    hub = re.compile(rf"(?i)(?:hub\.docker\.com/r|microbadger\.com/images)/{re.escape(repo[0])}(?![\w.-])")
    for path in beside:
        if path == build.dockerfile or build.is_dir(path):
            continue
        text = build.read_text(path) or ""
        if any(r is not None and r[0] == repo[0]
               for r in map(split_ref, built_tags(build, path, text))):
            return [path]
        try:
            df = parse(text)
        except ParseError:
            continue
        if any(ins.cmd in ("ARG", "LABEL") and own_path.search(ins.args) for ins in df.instructions):
            return [path]
        companion = companion_readme(build, path)
        if companion is not None and hub.search(build.read_text(companion) or ""):
            return [path]
    return []


def sibling_base(ctx: Context, info: StageInfo) -> tuple[str, str, Dockerfile] | None:
    """(path, text, parsed) of the Dockerfile of this repository that builds
    the runtime chain's base image (``FROM org/kubernetes-master`` and
    ``kubernetes/master/Dockerfile``; or a Dockerfile beside this one that a
    ``docker build -t``, its own ARG/LABEL path or its README's Docker Hub link
    names), or None."""
    build = ctx.build
    root = info.chain[-1]
    if build is None or root.parent is not None:
        return None
    name = root.base.lower().split("@")[0].split(":")[0].rsplit("/", 1)[-1]
    if not name or name in ("scratch",):
        return None
    # Where another Dockerfile of this repository would build that image:
    # ``kubernetes-master`` from ``kubernetes/master/`` or ``kubernetes-master/``,
    # next to this file's directory or at the root (no walk of the tree).
    dirs: list[str] = []
    for top in dict.fromkeys([posixpath.dirname(dockerfile_dir(build)), dockerfile_dir(build), ""]):
        for rel in (name, name.replace("-", "/")):
            d = posixpath.join(top, rel) if top else rel
            if d not in dirs:
                dirs.append(d)
    paths = [p for p in (f"{d}/Dockerfile" for d in dirs)
             if p != build.dockerfile and build.read_text(p)]
    if not paths:
        paths = _tagged_beside(build, root.base)
    for path in paths:
        if path == build.dockerfile:
            continue
        text = build.read_text(path)
        if not text:
            continue
        try:
            return path, text, parse(text)
        except ParseError:
            continue
    return None


def sibling_base_entrypoint(ctx: Context, info: StageInfo) -> tuple[Instruction, str, list[tuple[str, str]]] | None:
    """The ENTRYPOINT the image inherits from its base built in this
    repository (:func:`sibling_base`), when the runtime chain sets none of its
    own: (the instruction, its ``path:line`` cite, and the (path, text) of the
    script it runs when that Dockerfile copies it in from beside itself)."""
    if any(i.cmd == "ENTRYPOINT" for s in info.chain for i in s.stage.instructions):
        return None
    found = sibling_base(ctx, info)
    if found is None or ctx.build is None:
        return None
    path, text, df = found
    last = df.stages[-1].instructions if df.stages else []
    entry = next((i for i in reversed(last) if i.cmd == "ENTRYPOINT"), None)
    if entry is None:
        return None
    words = entry.values if entry.json else entry.args.split()
    scripts: list[tuple[str, str]] = []
    target = words[0] if words else ""
    here = posixpath.dirname(path)
    for ins in last:
        if ins.cmd not in ("COPY", "ADD") or ins.flag("from") is not None or len(ins.values) < 2:
            continue
        dest = ins.values[-1]
        for src in ins.values[:-1]:
            at = dest + posixpath.basename(src) if dest.endswith("/") else dest
            if target.startswith("/") and posixpath.normpath(at) == posixpath.normpath(target):
                rel = posixpath.normpath(posixpath.join(here, src)) if here else posixpath.normpath(src)
                body = ctx.build.read_text(rel)
                if body:
                    scripts.append((rel, body))
    return entry, _cite(path, text, entry.span.start), scripts


def sibling_base_users(ctx: Context, info: StageInfo) -> tuple[list[ContextUser], str | None]:
    """Users of a base image that another Dockerfile of the repository builds
    (:func:`sibling_base`), and the USER that Dockerfile ends with (``None``:
    root or not found)."""
    found = sibling_base(ctx, info)
    if found is not None:
        path, text, df = found
        users: list[ContextUser] = []
        last_user = None
        for ins in df.instructions:
            if ins.cmd == "RUN":
                for cmd in run_commands(ins):
                    u = _context_user(cmd, _cite(path, text, ins.span.start))
                    if u is not None:
                        users.append(u)
            elif ins.cmd == "FROM":
                last_user = None
            elif ins.cmd == "USER":
                last_user = ins.args.strip()
        return users, last_user
    return [], None

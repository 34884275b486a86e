"""Checks that the image is a base image others build on: its own file, an image
built FROM it in the repository or shown in its documentation, or a purpose its
documentation states (a CI or test image).
"""

from __future__ import annotations

import posixpath
import re
from fnmatch import fnmatch

from rewriter.dockerfile import purpose
from rewriter.dockerfile.analysis import Context
from rewriter.dockerfile.model import StageInfo
from rewriter.dockerfile.imageref import split_ref
from rewriter.dockerfile.shell import form_words
from rewriter.dockerfile.syntax import Instruction
from rewriter.dockerfile.usage import (
    DOCKERFILE_NAME, built_tags, code_lines, image_names, image_readmes, image_ref_name,
    offered_images, own_readme, skaffold_artifacts, skaffold_own)
from rewriter.io.context import BuildContext, dockerfile_dir
from rewriter.dockerfile.judge.knowledge import Judgement, _Knowledge, knowledge
from rewriter.dockerfile.judge.evidence import (
    _cite, _Command, _env_pairs, _ins_cite, _program_name, _SHELLS, _WRAPPERS)
from rewriter.dockerfile.judge.context import _compose_services, _runs


_VERSION_ENV = r"^[A-Z][A-Z0-9]*_VERSION$"


def _base_image(ctx: Context, info: StageInfo, command: _Command,
                copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """A runtime or toolbox image meant to be extended or to run other commands
    in: its default command is a bare interpreter or shell given as ``CMD``
    (``docker run IMAGE anything`` replaces it), with no ENTRYPOINT of an app;
    or a stage with ONBUILD triggers, whatever its command."""
    trigger = next((i for i in info.stage.instructions if i.cmd == "ONBUILD"), None)
    if trigger is not None:
        return Judgement("base-image", "base-image",
                         "an ONBUILD base image: its triggers run in the builds of the images "
                         "FROM it, as the user it leaves in force", (_ins_cite(ctx, trigger),),
                         "switch the user in the images built FROM it, after their triggers")
    if command.ins is not None and command.ins.cmd == "ENTRYPOINT" and \
            _program_name(command.program) in _SHELLS and \
            all(w == command.program or w.startswith("-") or w in _WRAPPERS
                for w in command.words):
        return Judgement("base-image", "base-image",
                         f"its entrypoint is a bare `{_program_name(command.program)}`: a shell "
                         "image to run commands in, or to build FROM", (_ins_cite(ctx, command.ins),),
                         "switch the user in the images built FROM it (or add USER by hand when "
                         "it is an interactive tool of its own)")
    if command.ins is None or command.ins.cmd != "CMD":
        return None
    entry = next((i for s in info.chain for i in s.stage.instructions if i.cmd == "ENTRYPOINT"),
                 None)
    if entry is not None:
        words = form_words(entry)
        if words and not re.search(r"(?:^|[-_/])entrypoint(?:\.sh)?$|^docker-.*-entrypoint$",
                                   words[0]):
            return None
    args = [w for w in form_words(command.ins)
            if w not in _WRAPPERS or w in ("bash", "sh", "/bin/bash", "/bin/sh")]
    prog = _program_name(args[0]) if args else ""
    bare = prog in k.interpreters and len(args) <= 2 and not any(
        "/" in a or "." in a for a in args[1:])
    if not bare:
        return None
    if prog in ("node", "nodejs") and any(not a.startswith("-") for a in args[1:]):
        return None  # `node server` runs a script (server.js), no bare interpreter
    versioned = [(key, ins) for s in info.chain for ins in s.stage.instructions
                 if ins.cmd == "ENV" for key, _ in _env_pairs(ins) if re.match(_VERSION_ENV, key)]
    evidence = [_ins_cite(ctx, command.ins)]
    if versioned:
        evidence.insert(0, _ins_cite(ctx, versioned[0][1]))
    return Judgement("base-image", "base-image",
                     f"its default command is a bare `{prog}` (a CMD that `docker run IMAGE "
                     "COMMAND` replaces): a runtime or toolbox image to build FROM or run "
                     "commands in", tuple(evidence),
                     "switch the user in the images built FROM it")




#: a ``FROM`` line's image: ``FROM org/base:1 AS x`` -> ``org/base:1``
_FROM_REF = r"(?im)^[ \t]*FROM[ \t]+(?:--platform=\S+[ \t]+)?([^\s]+)"
#: directory names too generic to name an image by
_GENERIC_DIRS = frozenset({"docker", "dockerfiles", "build", "images", "image", "src", "app",
                           "deploy", "ci", "containers", "container", ""})


def _built_upon(ctx: Context, info: StageInfo, command: _Command,
                copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """Another Dockerfile of the repository builds FROM this image: its
    directory's name (``base/``) is the last part of a namespaced image that a
    Dockerfile beside it, or in a directory beside its own, starts from
    (``FROM myorg/base``), or that image is a namespaced tag that a ``docker
    build -t`` in this file's comments or its companion README gives it. The
    images built on it run their own steps, as root."""
    build = ctx.build
    if build is None or not build.dockerfile:
        return None
    required = _skaffold_required(build)
    if required is not None:
        return required
    here = dockerfile_dir(build)
    name = posixpath.basename(here).lower()
    tags = {r[0] for r in map(split_ref, built_tags(build, build.dockerfile, ctx.df.text))
            if r is not None and "/" in r[0]}
    if name in _GENERIC_DIRS:
        name = ""
        if not tags:
            return None
    parent = posixpath.dirname(here)
    dirs = [here] + [f"{parent}/{e}" if parent else e for e in build.list_dir(parent)
                     if (f"{parent}/{e}" if parent else e) != here][:60]
    seen = 0
    for d in dirs:
        if not build.is_dir(d):
            continue
        for entry in build.list_dir(d):
            path = f"{d}/{entry}" if d else entry
            if path == build.dockerfile or not re.match(DOCKERFILE_NAME, entry):
                continue
            seen += 1
            if seen > 60:
                return None
            text = build.read_text(path) or ""
            for m in re.finditer(_FROM_REF, text):
                ref = split_ref(m.group(1))
                if ref is not None and "/" in ref[0] and (
                        ref[0].rsplit("/", 1)[-1] == name or ref[0] in tags):
                    return Judgement("base-image", "base-image",
                                     f"`{path}` builds FROM it (`FROM {m.group(1)}`): a base "
                                     "image, whose children run their own build steps as root",
                                     (_cite(path, text, m.start(1)),),
                                     "switch the user in the images built FROM it")
    return None


def _skaffold_required(build: BuildContext) -> Judgement | None:
    """A skaffold.yaml artifact that builds this Dockerfile is one another
    artifact ``requires``, and that one builds on it: its Dockerfile starts
    ``FROM $ALIAS`` (the ``alias:`` skaffold passes as a build argument), or
    it names the image as its ``fromImage``, ``builder`` or ``runImage``."""
    arts = skaffold_artifacts(build)
    for own in skaffold_own(build, arts):
        for other in arts:
            if other.path != own.path or other is own:
                continue
            for line, text, image, alias in other.requires:
                if image != own.image:
                    continue
                uses = re.search(rf"^[ \t]*(?:fromImage|builder|runImage):[ \t]*['\"]?"
                                 rf"{re.escape(image)}['\"]?[ \t]*(?:#.*)?$", other.item, re.M)
                if alias and uses is None:
                    paths = [other.dockerfile]
                    if other.context and not build.is_dir(other.context):
                        paths.append(posixpath.join(posixpath.dirname(other.path),
                                                    f"Dockerfile.{other.image.rsplit('/', 1)[-1]}"))
                    uses = next((m for p in paths for m in [re.search(
                        rf"(?im)^[ \t]*FROM[ \t]+(?:--platform=\S+[ \t]+)?\$\{{?{re.escape(alias)}\b",
                        build.read_text(p) or "")] if m), None)
                if uses is None:
                    continue
                return Judgement("base-image", "base-image",
                                 f"`{own.path}` builds it as the artifact `{own.image}`, which "
                                 f"the artifact `{other.image}` requires and builds on: a base "
                                 "image, whose children run their own build steps as root",
                                 (f"{own.path}:{line}: {text}",),
                                 "switch the user in the images built FROM it")
    return None


#: a Dockerfile's ``FROM`` line shown in a README's code: ``FROM org/base:1``
_SHOWN_FROM = r"^\s*(?:[$>]\s*)?FROM[ \t]+(?:--platform=\S+[ \t]+)?(\S+)(?:[ \t]+AS[ \t]+\S+)?\s*$"


def _shown_as_base(ctx: Context, info: StageInfo, command: _Command,
                   copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """A README that documents this image (its companion README, or the ones
    ``image_readmes`` gives) shows, in its code, a Dockerfile built FROM it:
    ``FROM org/base`` of a namespaced image that is none of this file's own
    bases, and that the README names as this image (its directory's or
    program's name, a tag it builds) or tells its reader to pull, run or build."""
    build = ctx.build
    if build is None or not build.dockerfile:
        return None
    readmes = image_readmes(build)
    if not readmes:
        return None
    own_bases = {r[0] for r in (split_ref(m.group(1)) for m in re.finditer(_FROM_REF, ctx.df.text))
                 if r is not None}
    own_bases |= {r[0] for s in info.chain for r in [split_ref(s.base)] if r is not None}
    own_bases |= {r[0] for m in re.finditer(r"(?im)^[ \t]*ARG[ \t]+\w+=[\"']?([^\s\"']+)",
                                              ctx.df.text) for r in [split_ref(m.group(1))]
                  if r is not None}
    program = _program_name(command.program)
    if program in k.interpreters or program in k.generic_programs or program in _WRAPPERS:
        program = ""
    for path in readmes:
        text = build.read_text(path)
        if not text or "FROM" not in text:
            continue
        shown = [(i, m.group(1)) for i, ln in code_lines(text, path.lower().endswith(".rst"))
                 for m in [re.match(_SHOWN_FROM, ln)] if m]
        if not shown:
            continue
        own, tags = image_names(build, ctx.df.text, program, (text,))
        own -= {re.sub(r"[-_.]", "", d) for d in _GENERIC_DIRS}
        offered = {r[0] for r in map(split_ref, offered_images(text)) if r is not None}
        for i, ref in shown:
            parts = split_ref(ref)
            if parts is None or "/" not in parts[0] or parts[0] in own_bases:
                continue
            name = image_ref_name(ref)
            if parts[0] in offered:
                why = "an image it tells the reader to pull, run or build"
            elif name in tags:
                why = "the image it builds"
            elif name in own:
                why = "named after this image"
            else:
                continue
            lines = text.splitlines()
            body = lines[i].strip()
            return Judgement("base-image", "base-image",
                             f"`{path}` shows a Dockerfile built FROM it (`FROM {ref}`, {why}): "
                             "a base image, whose children run their own build steps as root",
                             (f"{path}:{i + 1}: {body if len(body) <= 100 else body[:97] + '...'}",),
                             "switch the user in the images built FROM it")
    return None


def _documented_purpose(ctx: Context, info: StageInfo, command: _Command,
                        copied: list[tuple[str, str, Instruction]],
                        k: _Knowledge) -> Judgement | None:
    """The repository's docs, compose files or CI files say the image exists
    only to run tests, or is the container of CI jobs (rewriter.dockerfile.purpose)."""
    build = ctx.build
    if build is None or not build.dockerfile:
        return None
    program = _program_name(command.program)
    if program in k.interpreters or program in k.generic_programs or program in _WRAPPERS:
        program = ""  # `python`, `server`: names that say nothing of this image
    readmes = image_readmes(build)
    found = purpose.described_as_test(build, own_readme(build)) or \
        purpose.only_tests(build, readmes, ctx.df.text, program, _runs(ctx, command),
                           _compose_services(ctx))
    if found is not None:
        return Judgement("test-fixture", "test-fixture", found.message, found.evidence,
                         "leave the test image as it is; switch the user of the image that "
                         "is deployed")
    found = purpose.ci_job(build, readmes, ctx.df.text, program)
    if found is not None:
        return Judgement("ci-builder", "ci-builder", found.message, found.evidence,
                         "leave the CI image as it is; a job that must not run as root can "
                         "set its own user (`options: --user`, `docker.image().inside('-u')`)")
    return None


def base_image_writes(info: StageInfo) -> list[str]:
    """The directories the program of the stage's base image writes at run
    time, which that image leaves root-owned (``[images] writes`` in
    judge.toml: Tomcat's logs, work, temp and webapps)."""
    base = info.chain[-1].base.lower().split("@")[0]
    return next((list(dirs) for globs, dirs in knowledge().image_writes
                 if any(fnmatch(base, g) for g in globs)), [])

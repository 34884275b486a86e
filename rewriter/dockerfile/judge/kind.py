"""Checks of what the image is, from the file and its place: generated, a test fixture
(by its path or its command), a CI builder or a devcontainer by its path, a
vendored file, a WebAssembly module, a compose build target, a LinuxKit package, an
unknown base, Docker-in-Docker, already non-root, a maintainer's choice of root, an
init system, or no process at all (data only, a base image).
"""

from __future__ import annotations

import functools
import posixpath
import re

from rewriter.core.globs import fnmatch
from rewriter.dockerfile import purpose
from rewriter.dockerfile.analysis import Context
from rewriter.dockerfile.model import StageInfo, is_root, may_run, run_commands
from rewriter.dockerfile.imageref import split_ref
from rewriter.dockerfile.shell import programs
from rewriter.dockerfile.syntax import Instruction
from rewriter.io.context import ancestors, dockerfile_dir
from rewriter.dockerfile.judge.knowledge import Judgement, _Knowledge
from rewriter.dockerfile.judge.evidence import _cite, _Command, _df_name, _ins_cite, _program_name
from rewriter.dockerfile.judge.context import _files_under, _services, _templates
from rewriter.dockerfile.judge.packages import _installs


# Patterns that only some files need are kept as strings, and ``re`` compiles
# (and keeps) each when a file first needs it: a small Dockerfile alone in its
# directory needs few of them, and compiling them all at import cost it milliseconds.
_GENERATED = (
    r"(?i)\b(do\s+not\s+edit|generated\s+(?:by|via|from|with|using)\b|auto-?generated|"
    r"this\s+file\s+(?:is|was)\s+(?:automatically\s+)?generated)")


_FIRST_COMMENT = r"[ \t]*#[^\n]*"
_NEXT_COMMENT = r"\n([ \t]*#[^\n]*)"


@functools.lru_cache(maxsize=2)
def _comment_lines(text: str) -> tuple[tuple[int, str], ...]:
    """Each line of ``text`` that is a comment (blanks, then ``#``): its offset
    and its text, as ``re.finditer(r"^[ \t]*#[^\n]*", text, re.M)`` finds them.
    Read by three checks, for every stage: found once a text (keyed by the
    text itself), and by a search that jumps from newline to newline, which
    is four times as fast as trying ``^`` at every character."""
    first = re.compile(_FIRST_COMMENT).match(text)
    out = [(0, first.group(0))] if first else []
    out += [(m.start(1), m.group(1)) for m in re.compile(_NEXT_COMMENT).finditer(text)]
    return tuple(out)


#: instructions whose words a project template fills in (``WORKDIR /usr/src/{{project_name}}``);
#: a RUN, CMD or HEALTHCHECK may hold a Go template of a tool (``--format '{{.Id}}'``)
_TEMPLATED = frozenset({"FROM", "WORKDIR", "COPY", "ADD", "USER", "EXPOSE", "VOLUME", "ENV",
                        "ARG"})
#: a Jinja/Django/cookiecutter placeholder (``{{ project_name }}``,
#: ``{{cookiecutter.slug}}``, ``{% if ... %}``), not a Go template's ``{{.Name}}``
_PLACEHOLDER = r"\{\{-?\s*[A-Za-z_][\w.]*(?:\s*\|\s*\w+)?\s*-?\}\}|\{%-?\s*\w+[^%]*%\}"


def _generated(ctx: Context, info: StageInfo, command: _Command,
               copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    text = ctx.df.text
    name = _df_name(ctx)
    for at, comment in _comment_lines(text):
        g = re.search(_GENERATED, comment)
        if g:
            return Judgement("generated-file", "generated",
                             "the file says it is generated; change its template instead",
                             (_cite(name, text, at),),
                             "fix the template or generator, then regenerate")
    for ins in ctx.df.instructions:
        if ins.cmd in _TEMPLATED and "{" in ins.args:
            m = re.search(_PLACEHOLDER, ins.args)
            if m:
                return Judgement("generated-file", "generated",
                                 f"the file is a template (`{m.group(0)}`): a generator fills it "
                                 "in to make the Dockerfile, so the paths and names it will "
                                 "hold are not known here", (_ins_cite(ctx, ins),),
                                 "fix the template by hand, or run dockfix on a Dockerfile "
                                 "made from it")
    build = ctx.build
    if build is not None and build.dockerfile:
        base = posixpath.basename(build.dockerfile)
        here = dockerfile_dir(build)
        for d in ancestors(build.dockerfile)[:3]:
            for entry in _templates(build.list_dir(d)):
                low = entry.lower()
                if low.startswith(("dockerfile", base.lower())):
                    path = f"{d}/{entry}" if d else entry
                    if d == here or "dockerfile" in low:
                        return Judgement(
                            "generated-file", "generated",
                            f"the file is made from the template `{path}`; change the template",
                            (f"{path}: the template",), "fix the template, then regenerate")
    return None


def _parts(ctx: Context) -> list[str]:
    build = ctx.build
    path = build.dockerfile if build is not None and build.dockerfile else None
    if path is None:
        return []
    return [p.lower() for p in path.split("/")]


_TEST_WORD = r"(?i)(?:^|[-_.])(?:e2e|tests?|specs?|testsuite|test-runner)(?:[-_.]|$)"


def _by_command(ctx: Context, info: StageInfo, command: _Command,
                copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """What the container's command says of the image."""
    if command.ins is None:
        return None
    if command.program.endswith(".wasm"):
        return Judgement("wasm-module", "other",
                         "the entrypoint is a WebAssembly module: it runs in a Wasm runtime, "
                         "with no Linux user for USER to act on", (_ins_cite(ctx, command.ins),))
    for w in command.words[:6]:
        name = _program_name(w)
        if name in ("test", "[") or w.startswith("-") or "=" in w:
            continue
        if re.compile(_TEST_WORD).search(name) and name not in k.root_programs:
            return Judgement("test-fixture", "test-fixture",
                             f"the container runs `{w}`: a test run, not a service",
                             (_ins_cite(ctx, command.ins),))
    runner = purpose.runs_tests(" ".join(command.words)) if command.documented is None else None
    if runner is not None:  # `npm run test`, `go test ./...`, `pytest`
        return Judgement("test-fixture", "test-fixture",
                         f"its command runs the tests (`{runner}`): a test image, run to check "
                         "the code and thrown away, not a service", (_ins_cite(ctx, command.ins),),
                         "leave the test image as it is; switch the user of the image that is "
                         "deployed")
    return None


def _by_path(ctx: Context, info: StageInfo, command: _Command,
             copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    parts = _parts(ctx)
    if not parts:
        return None
    path = ctx.build.dockerfile if ctx.build is not None and ctx.build.dockerfile else "/".join(parts)
    dirs, base = parts[:-1], parts[-1]
    if ".devcontainer" in dirs:
        return Judgement("devcontainer", "devcontainer",
                         "a devcontainer: the editor connects as the user devcontainer.json "
                         "names (remoteUser), and its features install as root",
                         (f"{path}: in .devcontainer/",),
                         "set remoteUser/containerUser in devcontainer.json")
    hit = next((d for d in dirs if d in ("vendor", "third_party", "third-party", "node_modules",
                                         "external", "_vendor", "deps")), None)
    if hit:
        return Judgement("vendored", "other",
                         f"a copy of another project's file (under `{hit}/`): change it upstream",
                         (f"{path}: under {hit}/",))
    hit = next((d for d in dirs if any(fnmatch(d, g) for g in k.fixture_dirs)), None)
    if hit:
        return Judgement("test-fixture", "test-fixture",
                         f"a test fixture (under `{hit}/`): it is built by tests, not run as a "
                         "service", (f"{path}: under {hit}/",))
    hit = next((d for d in dirs if d in k.builder_dirs), None)
    name_hit = next((g for g in k.builder_names if fnmatch(base, g)), None)
    if (hit or name_hit) and (command.ins is None or command.documented is not None):
        return Judgement("ci-builder", "ci-builder",
                         "a build or CI image: its steps run as root and write the "
                         "workspace the CI mounts", (f"{path}: {'under ' + hit + '/' if hit else 'named ' + base}",),
                         "images built FROM it, or the CI job, choose the user")
    build = ctx.build
    if build is not None:
        here = dockerfile_dir(build)
        for name in ("action.yml", "action.yaml"):
            p = f"{here}/{name}" if here else name
            text = build.read_text(p)
            m = re.search(r"^\s*using:\s*['\"]?docker['\"]?\s*$", text or "", re.M)
            if text and m:
                return Judgement("ci-builder", "ci-builder",
                                 f"a GitHub Docker container action (`{p}`): GitHub runs it as "
                                 "root in the runner's workspace and documents that its "
                                 "Dockerfile must not set USER", (_cite(p, text, m.start()),),
                                 "leave the action's image as it is")
        for entry in build.list_dir(here):
            if entry in k.ci_files:
                p = f"{here}/{entry}" if here else entry
                text = build.read_text(p) or ""
                if re.search(r"\b(?:docker|image|dockerfile|Dockerfile)\b", text) and \
                        (command.ins is None or command.documented is not None):
                    return Judgement("ci-builder", "ci-builder",
                                     f"a CI builder image: `{p}` runs its steps in it",
                                     (f"{p}: the CI configuration beside it",))
    return None


def _linuxkit(ctx: Context, info: StageInfo, command: _Command,
              copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """A LinuxKit package: LinuxKit runs it with the user, capabilities and
    mounts of its YAML or of the image's ``org.mobyproject.config`` label,
    not with the image's USER."""
    for s in ctx.model.stages:
        for ins in s.stage.instructions:
            if ins.cmd == "LABEL" and "org.mobyproject.config" in ins.args:
                return Judgement("linuxkit-package", "other",
                                 "a LinuxKit package (`org.mobyproject.config`): LinuxKit runs it "
                                 "with the user and capabilities its YAML or this label sets, "
                                 "and the image's USER is not read", (_ins_cite(ctx, ins),),
                                 "set the user in the package's configuration")
    for s in ctx.model.stages:
        ref = split_ref(s.base) if s.base and "linuxkit/" in s.base.lower() else None
        if ref is not None and ref[0].startswith("linuxkit/"):
            return Judgement("linuxkit-package", "other",
                             f"a LinuxKit package (built on `{s.base}`): LinuxKit runs it with "
                             "the user and capabilities of its YAML or its "
                             "`org.mobyproject.config` label, and the image's USER is not read",
                             (_ins_cite(ctx, s.stage.from_),),
                             "set the user in the package's configuration")
    return None


def _devcontainer_json(ctx: Context, info: StageInfo, command: _Command,
                       copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    build = ctx.build
    if build is None or not build.dockerfile:
        return None
    here = dockerfile_dir(build)
    base = posixpath.basename(build.dockerfile)
    for d in (here, posixpath.join(here, ".devcontainer") if here else ".devcontainer"):
        for name in ("devcontainer.json", ".devcontainer.json"):
            p = f"{d}/{name}" if d else name
            text = build.read_text(p)
            if text and re.search(r'"dockerFile"\s*:\s*"[^"]*' + re.escape(base) + '"', text, re.I):
                return Judgement("devcontainer", "devcontainer",
                                 f"a devcontainer image (`{p}` builds it)", (f"{p}: builds {base}",),
                                 "set remoteUser/containerUser in devcontainer.json")
    return None


def _unknown_base(ctx: Context, info: StageInfo, command: _Command,
                  copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """The base image is chosen at build time (``FROM $BUILD_FROM`` with no
    default): nothing tells what it is or what its entrypoint does."""
    root = info.chain[-1]
    if root.base_resolved:
        return None
    words = [w for w in root.stage.from_.args.split() if not w.startswith("--")]
    ref = words[0] if words else root.base
    return Judgement("unknown-base", "app",
                     f"the base image `{ref}` is chosen at build time: its family and "
                     "entrypoint are unknown",
                     (_ins_cite(ctx, root.stage.from_),),
                     "pass the base with --build-arg so dockfix can judge it")


def _dind(ctx: Context, info: StageInfo, command: _Command,
          copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    for s in info.chain:
        base = s.base.lower()
        if s.parent is None and re.match(r"^(?:docker\.io/)?(?:library/)?docker:[^/]*dind", base):
            return Judgement("dind", "dind", "Docker-in-Docker: dockerd needs root",
                             (_ins_cite(ctx, s.stage.from_),))
    if _program_name(command.program) in k.dind_programs and command.ins is not None:
        return Judgement("dind", "dind", "the container runs a Docker daemon, which needs root",
                         (_ins_cite(ctx, command.ins),))
    return None


def _already_nonroot(ctx: Context, info: StageInfo, command: _Command,
                     copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    root = info.chain[-1]
    base = root.base.lower()
    for pat in k.nonroot_images:
        if fnmatch(base.split("@")[0], pat):
            return Judgement("already-nonroot", "app",
                             f"`{root.base}` already runs as a non-root user",
                             (_ins_cite(ctx, root.stage.from_),))
    if info.users or any(s.users for s in info.chain):
        return None
    for s in info.chain:
        for ins in s.stage.instructions:
            if not may_run(ins, ("sudo",)):  # cheap: most RUNs cannot hold it
                continue
            for c in run_commands(ins):
                if c.argv and posixpath.basename(c.argv[0]) == "sudo":
                    return Judgement(
                        "already-nonroot", "app",
                        "the build runs `sudo` with no USER in the file: the base image "
                        "already runs as a non-root user", (_ins_cite(ctx, ins),))
    return None


#: a comment stating that the image runs as root on purpose ("fluentd is run with
#: root permission to read /var/log/containers", "must run as root")
_ROOT_STATED = (r"(?i)\b(?:runs?|must|needs?|requires?)\b[^\n]{0,40}?\b(?:as|with)"
                r"\s+root\b(?:\s+(?:permissions?|privileges?|rights))?")
_NEGATED = r"(?i)\b(?:not|never|don'?t|doesn'?t|avoid|instead of|no longer|without)\b"


def _root_chosen(ctx: Context, info: StageInfo, command: _Command,
                 copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """The authors chose root: the stage says ``USER root`` (or 0) on a base that
    runs as root anyway, with no other user before it, or a comment says the
    image runs as root on purpose."""
    own = info.users[-1] if info.users else None
    if own is not None and is_root(own[1]) and not any(
            not is_root(v) for s in info.chain for _, v, _ in s.users):
        image = info.chain[-1].image
        if image is None or image.default_user is None or is_root(image.default_user):
            return Judgement("root-chosen", "app",
                             f"the file sets `USER {own[1]}` on a base that already runs as root: "
                             "its authors chose root for this image", (_ins_cite(ctx, own[0]),),
                             "ask them why before changing it; remove that line to let dockfix "
                             "judge the image")
    for at, comment in _comment_lines(ctx.df.text):
        m = re.search(_ROOT_STATED, comment)
        if m and not re.search(_NEGATED, comment[:m.end()]):
            return Judgement("root-chosen", "app",
                             "a comment says the image runs as root on purpose",
                             (_cite(_df_name(ctx), ctx.df.text, at),),
                             "follow the reason it gives; add USER by hand once it no longer holds")
    return None


def _no_process(ctx: Context, info: StageInfo, command: _Command,
                copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """No ENTRYPOINT or CMD anywhere in the file's runtime chain (or empty ones)."""
    if command.ins is not None and command.program:
        return None
    frm = info.stage.from_
    if info.chain[-1].base.lower() == "scratch":
        return Judgement("data-only", "data-only",
                         "a `FROM scratch` image with no command: it carries files and runs "
                         "no process", (_ins_cite(ctx, frm),))
    if _installs(info, k.toolchain_packages):
        return Judgement("ci-builder", "ci-builder",
                         "no CMD or ENTRYPOINT, and it installs compilers: a build image whose "
                         "steps run as root", (_ins_cite(ctx, frm),),
                         "images built FROM it choose their user")
    if any(i.cmd == "ONBUILD" for s in info.chain for i in s.stage.instructions):
        return Judgement("base-image", "base-image",
                         "an ONBUILD base image: the images built FROM it run its steps",
                         (_ins_cite(ctx, frm),), "switch the user in the images built FROM it")
    return Judgement("base-image", "base-image",
                     "the file sets no CMD or ENTRYPOINT: an image to build FROM or to run "
                     "other commands in, whose users still need root for their own steps",
                     (_ins_cite(ctx, frm),),
                     "switch the user in the images built FROM it")


def _init_system(ctx: Context, info: StageInfo, command: _Command,
                 copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    prog = _program_name(command.program)
    if command.ins is not None and (any(fnmatch(prog, g) for g in k.init_programs)
                                    or command.program == "/init"):
        return Judgement("system-init", "system-init",
                         f"the container runs `{prog}`, an init system that starts services "
                         "as their own users", (_ins_cite(ctx, command.ins),))
    if command.ins is not None and any(w in ("&&", ";", "||") or "&&" in w for w in command.words):
        # last in a shell command line: `rails db:migrate && foreman start`
        for name, _ in list(programs(" ".join(command.words)))[1:]:
            if any(fnmatch(name, g) for g in k.init_programs):
                return Judgement("system-init", "system-init",
                                 f"the container's command ends by running `{name}`, an init "
                                 "system that starts services as their own users",
                                 (_ins_cite(ctx, command.ins),))
    for s in info.chain:
        for ins in s.stage.instructions:
            if ins.cmd == "STOPSIGNAL" and "RTMIN+3" in ins.args:
                return Judgement("system-init", "system-init", "systemd runs as PID 1",
                                 (_ins_cite(ctx, ins),))
    build = ctx.build
    if build is not None:
        for src, dest, ins in copied:
            for f in _files_under(build, src, 300):
                low = f.lower()
                if re.search(r"(^|/)(services\.d|cont-init\.d|s6-overlay|s6-rc\.d|"
                             r"supervisord?\.conf|supervisor/conf\.d|runit|sv)(/|$)", low):
                    return Judgement("system-init", "system-init",
                                     "the image ships service definitions for an init system "
                                     f"(`{f}`)", (_ins_cite(ctx, ins), f"{f}: a service definition"))
    return None


def _compose_target(ctx: Context, info: StageInfo, command: _Command,
                    copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """A compose service builds another stage (``build.target``) than the one
    dockfix would change: the image it runs would not get the fix."""
    if ctx.settings.target is not None:
        return None
    build = ctx.build
    alias = (info.stage.alias or "").lower()
    stages = {m.group(1).lower() for ins in ctx.df.instructions if ins.cmd == "FROM"
              for m in [re.search(r"(?i)\sas\s+([\w.-]+)\s*$", ins.args)] if m}
    for path, block, at in _services(ctx, command):
        m = re.search(r"^[ \t]*target:[ \t]*['\"]?([\w.-]+)['\"]?[ \t]*$", block, re.M)
        full = build.read_text(path) if build else None
        if m and full is not None and m.group(1).lower() != alias \
                and m.group(1).lower() in stages:
            return Judgement("compose-target", "app",
                             f"`{path}` runs the stage `{m.group(1)}`, not the last stage "
                             f"(`{info.stage.alias or 'unnamed'}`) that the fix would change",
                             (_cite(path, full, at + m.start()),),
                             f"run dockfix with --target {m.group(1)} to judge the stage it runs")
    return None


def _variants(ctx: Context, info: StageInfo, command: _Command,
              copied: list[tuple[str, str, Instruction]], k: _Knowledge) -> Judgement | None:
    """The file builds one image on several bases: stages that no other stage
    builds FROM, copies or mounts from, whose instructions after ``FROM`` are
    the same (``FROM scratch AS base``, ``FROM debian AS debian``, ``FROM alpine
    AS alpine``, each copying the same binary and setting the same ``CMD``).
    They are variants of a command-line tool (no port) published side by
    side, and a fix would switch only the last one, the default target; a
    tool's variants with a shell are the ones CI jobs and interactive users
    pick, and CI jobs often need root."""
    if ctx.settings.target is not None:
        return None

    def body(s: StageInfo) -> tuple[tuple[str, str], ...]:
        return tuple((i.cmd, " ".join(i.logical.split())) for i in s.stage.instructions)

    mine = body(info)
    if not any(cmd in ("CMD", "ENTRYPOINT") for cmd, _ in mine) or any(
            cmd == "EXPOSE" for cmd, _ in mine):
        return None  # (a server's variants are only a choice of base)
    stages = ctx.model.stages
    # (a stage with other instructions is no variant: its body is not worth making)
    cmds = [cmd for cmd, _ in mine]
    alike = [n for n, s in enumerate(stages)
             if len(s.stage.instructions) == len(cmds)
             and [i.cmd for i in s.stage.instructions] == cmds]
    if len(alike) < 2:
        return None
    index = {id(s): n for n, s in enumerate(stages)}
    names = {s.stage.alias.lower(): n for n, s in enumerate(stages) if s.stage.alias}
    used: set[int] = set()
    for s in stages:
        if s.parent is not None:
            used.add(index.get(id(s.parent), -1))
        for ins in s.stage.instructions:
            refs = re.findall(r"\bfrom=([\w.-]+)", ins.args) \
                if ins.cmd == "RUN" and "from=" in ins.args else []
            f = ins.flag("from")
            if f is not None and f.value:
                refs.append(f.value)
            for ref in refs:
                ref = ref.lower()
                used.add(names[ref] if ref in names else int(ref) if ref.isdigit() else -1)
    if id(info) not in index or index[id(info)] in used:
        return None
    same = [stages[n] for n in alike if n not in used and body(stages[n]) == mine]
    # (the same base twice is a copy, not a variant)
    if len(same) < 2 or len({s.base.lower() for s in same}) < len(same):
        return None
    listed = ", ".join(f"`{s.stage.alias or s.name}` (`{s.base}`)" for s in same)
    return Judgement("image-variants", "app",
                     f"the file builds the same tool image on {len(same)} bases: {listed}, "
                     "and no stage uses another, so they are variants published side by side; "
                     "a fix would switch only the last one, and a tool's variants with a shell "
                     "are the ones CI jobs and shells run, which often need root",
                     tuple(_ins_cite(ctx, s.stage.from_) for s in same),
                     "decide the user of each variant by hand, or judge one with --target")

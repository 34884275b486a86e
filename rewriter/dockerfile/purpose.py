"""What the repository's own documentation says the image is for: only tests,
or a CI job's container. Read, never executed.

Two kinds of image look like apps in the Dockerfile alone and break when a
fix switches their user:

* **test-only images.** The README that documents the image shows it only
  under a heading about tests, running a test runner in the container
  (``docker exec -it web python manage.py test``, ``docker run IMAGE
  pytest``); or every compose service that builds it is a test service (named
  ``test``, ``tests``, ``sut``, ``e2e``, ``*-test``, or its command runs a
  test runner). An image also documented as a service (a ``docker run`` or
  ``docker compose up`` outside a test section, a ``docker run -p``, a
  ``docker push``) is not test-only.
* **CI job images.** A CI configuration, in the repository or shown in its
  docs, runs its jobs in this image: GitLab, Bitbucket, Drone, CircleCI
  ``image:``, GitHub Actions or Azure Pipelines ``container:``, GitHub
  ``uses: docker://IMAGE``, Jenkins ``docker.image('IMAGE')`` or
  ``agent { docker { image 'IMAGE' } }``, a Cloud Build step's ``name:``;
  or a GitHub Docker action (``action.yml``, ``using: docker``) whose
  ``image:`` is this Dockerfile or this image. Those systems run the job's
  steps as the image's user against a workspace they mount, so a USER line
  breaks the job.

"This image" is named as :mod:`rewriter.dockerfile.usage` names it: its
directory's name, its program's, a ``docker build -t`` tag. A Docker Official
Image reference (``python:3.12``, no ``/``) counts only when a tag names it.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from rewriter.dockerfile.usage import (
    Invocation,
    image_names,
    image_ref_name,
    logical_lines,
    parse_invocation,
)
from rewriter.io.context import BuildContext, ancestors, dockerfile_dir


@dataclass(frozen=True)
class Finding:
    """A documented use of the image that says what it is for."""

    message: str
    evidence: tuple[str, ...]  #: ``path:line: text``


def _cite(path: str, lines: list[str], i: int) -> str:
    body = lines[i].strip()
    if len(body) > 100:
        body = body[:97] + "..."
    return f"{path}:{i + 1}: {body}"


# ---------------------------------------------------------------------------
# Sections of a README
# ---------------------------------------------------------------------------

# The patterns of this module are strings: ``re`` compiles (and keeps) each
# when a document first needs it, and most images have no README or CI file.
_FENCE = r"^\s*(```|~~~)"
_ATX = r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$"
_UNDERLINE = r"^\s{0,3}([=\-~^*+])\1{2,}\s*$"
_TEST_HEADING = (
    r"(?i)\b(?:tests?|testing|test[ -]?cases?|test[ -]?suites?|unit[ -]?tests?)\b")


def _headings(lines: list[str]) -> list[tuple[tuple[int, str], ...]]:
    """For each line, the headings it sits under, outermost first, as
    (line index, title): markdown ``#`` and underlined (setext, reST) headings,
    never a ``#`` inside a fenced code block."""
    out: list[tuple[tuple[int, str], ...]] = []
    stack: list[tuple[int, int, str]] = []  # (level, line index, title)
    fence = ""
    levels: dict[str, int] = {}  # reST: an underline's level is the order it first appears
    for i, ln in enumerate(lines):
        heading: tuple[int, str] | None = None
        level = 0
        f = re.match(_FENCE, ln)
        if f:
            fence = "" if fence == f.group(1) else (fence or f.group(1))
        elif not fence:
            m = re.match(_ATX, ln)
            u = re.match(_UNDERLINE, ln)
            if m:
                level, heading = len(m.group(1)), (i, m.group(2))
            elif u and i and lines[i - 1].strip() and not re.match(_UNDERLINE, lines[i - 1]) \
                    and not re.match(_ATX, lines[i - 1]):
                level = levels.setdefault(u.group(1), len(levels) + 1)
                heading = (i - 1, lines[i - 1].strip())
        if heading is not None:
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, *heading))
        out.append(tuple((j, t) for _, j, t in stack))
    return out


# ---------------------------------------------------------------------------
# Test-only images
# ---------------------------------------------------------------------------

#: a test runner, as a command runs it
_TEST_RUNNER = (
    r"(?<![\w./-])(?:(?:\./)?manage\.py\s+test|py\.test|pytest|nosetests|tox|"
    r"(?:npm|pnpm|yarn)\s+(?:run\s+)?test(?::[\w:-]+)?|go\s+test|rspec|rake\s+(?:test|spec)|"
    r"phpunit|(?:mvn|\./mvnw)\s+(?:-\S+\s+)*(?:clean\s+)?(?:test|verify)|"
    r"(?:gradle|\./gradlew)\s+(?:-\S+\s+)*test|make\s+(?:test|check)|cargo\s+test|mix\s+test|"
    r"dotnet\s+test|python[\d.]*\s+-m\s+(?:unittest|pytest)|jest|mocha|behave|ctest|"
    r"artisan\s+test|run[-_]tests?(?:\.sh)?)(?![\w-])")


def runs_tests(command: str) -> str | None:
    """The test runner a container's command line starts (``npm run test``,
    ``go test ./...``, ``pytest``), or None."""
    m = re.search(_TEST_RUNNER, re.sub(r"[\"',\[\]]", " ", command))
    return m.group(0) if m else None


#: a command that runs a container: ``docker run``/``exec``, ``docker compose up``/``run``/``exec``
_DOCKER_USE = (
    r"\bdocker\s+(?:container\s+)?(?:run|exec)\b|"
    r"\bdocker(?:-compose|\s+compose)\b(?:\s+(?:-f|--file|-p|--project-name)\s+\S+|\s+-\S+)*"
    r"\s+(?:up|run|exec|start)\b")
_PUSH = r"\bdocker\s+(?:image\s+)?push\s+\S"


def _test_heading(stack: tuple[tuple[int, str], ...]) -> tuple[int, str] | None:
    return next((h for h in reversed(stack) if re.search(_TEST_HEADING, h[1])), None)


_VALUE_OPTS = frozenset({"-e", "--env", "-u", "--user", "-w", "--workdir", "--env-file", "--name",
                         "-p", "--publish", "--entrypoint", "-v", "--volume", "-f", "--file",
                         "--project-name", "-l", "--label"})


def _first_arg(words: list[str]) -> str:
    """The first word that is not an option (nor an option's value)."""
    skip = False
    for w in words:
        if skip:
            skip = False
        elif w.startswith("-"):
            skip = w in _VALUE_OPTS
        else:
            return w
    return ""


def _runs_this(joined: str, m: re.Match[str], own: set[str], tags: set[str],
               service_names: set[str]) -> bool:
    """The documented command at ``m`` runs this image's container: ``docker run``
    of this image; ``docker exec`` or ``docker compose run``/``exec`` of a container
    named after a compose service that builds it (any, when the context has none)."""
    words = joined[m.end():].split()
    if re.search(r"\brun$", m.group(0)) and m.group(0).startswith("docker") and \
            "compose" not in m.group(0):
        image, _ = parse_invocation(joined[m.start():])
        return bool(image) and _is_this_image(image, own, tags, bare_ok=True)
    name = _first_arg(words).lower()
    if not name:
        return False
    return not service_names or any(s.lower() in name for s in service_names)


def _readme_test_only(build: BuildContext, readmes: list[str], dockerfile_text: str,
                      program: str, services: list[tuple[str, str, int]]) -> Finding | None:
    """The README that documents the image uses containers only under test
    headings, and there runs a test runner in this image's container."""
    service_names = {_service_name(b) for _, b, _ in services}
    for path in readmes:
        text = build.read_text(path)
        if not text or not re.search(_DOCKER_USE, text) or re.search(_PUSH, text):
            continue
        lines = text.splitlines()
        heads = _headings(lines)
        own, tags = image_names(build, dockerfile_text, program, (text,))
        runner = None
        for i, _, joined in logical_lines(lines, re.compile(_DOCKER_USE)):
            head = _test_heading(heads[i])
            if head is None:
                return None  # used outside a test section: a service, too
            if re.search(r"\s(?:-p|--publish)[\s=]?\d", joined):
                return None  # a published port: run to be reached
            m = re.search(_DOCKER_USE, joined)
            if runner is None and m is not None and re.search(_TEST_RUNNER, joined[m.end():]) \
                    and _runs_this(joined, m, own, tags, service_names):
                runner = (i, head)
        if runner is None:
            continue
        i, head = runner
        return Finding(
            f"`{path}` shows the image only under `{head[1].strip()}`, where the container "
            "runs the tests: a test image, not a service",
            (_cite(path, lines, head[0]), _cite(path, lines, i)))
    return None


#: words of a compose service's name that say it runs tests (``sut``: Docker Hub's autotests)
_TEST_NAME_WORDS = frozenset({"test", "tests", "testing", "e2e", "sut"})


def _service_name(block: str) -> str:
    return block.split(":", 1)[0].strip().strip("'\"")


def _compose_test_only(build: BuildContext,
                       services: list[tuple[str, str, int]]) -> Finding | None:
    """Every compose service that builds the Dockerfile is a test service."""
    if not services:
        return None
    evidence: list[str] = []
    for path, block, at in services:
        full = build.read_text(path) or ""
        lines = full.splitlines()
        first = full.count("\n", 0, at)
        name = _service_name(block)
        words = {w.lower() for w in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", name)}
        cmd = re.search(r"^[ \t]*(?:command|entrypoint):[ \t]*(.*(?:\n[ \t]+-[^\n]*)*)",
                        block, re.M)
        if cmd and re.search(_TEST_RUNNER, re.sub(r"[\"',\[\]]", " ", cmd.group(1))):
            evidence.append(_cite(path, lines, first + block.count("\n", 0, cmd.start())))
        elif words & _TEST_NAME_WORDS:
            evidence.append(_cite(path, lines, first))
        else:
            return None
    return Finding("every compose service that builds it runs tests: a test image, not a service",
                   tuple(evidence[:3]))


#: prose that calls the image it documents a test image: (pattern, what it says);
#: each applies to one sentence of a paragraph, its code blocks left out
_KIND = r"(?:docker\s+)?(?:image|container)"
_TEST_WORD = r"(?:tests?|testing|e2e|end-to-end|integration[ -]test)"
_SAYS_TEST = (
    # "for making a test container which serves ...", "This is an e2e test image",
    # "A test image for ..."
    (r"(?i)(?:\b(?:this|it)\s+is\s+|\bfor\s+(?:making|building|creating)\s+|^)"
     r"an?\s+(?:(?:simple|small|minimal|tiny|dummy|fake|mock)\s+)?"
     r"(?:e2e\s+|end-to-end\s+|integration\s+)?test(?:ing)?\s+" + _KIND + r"\b",
     "describes it as one"),
    # "This image is used by the e2e tests", "The container is only used for testing"
    (r"(?i)\b(?:this|the)\s+" + _KIND + r"\s+is\s+(?:only\s+|just\s+)?(?:used|meant|intended)"
     r"\s+(?:by|for|in)\s+(?:the\s+)?(?:[\w-]+\s+){0,2}?" + _TEST_WORD + r"\b",
     "says tests use it"),
    # "This Dockerfile is for testing purposes only"
    (r"(?i)\b(?:this|the)\s+(?:dockerfile|" + _KIND + r")\b[^.!?]{0,80}?\b(?:for\s+testing"
     r"(?:\s+purposes)?\s+only|only\s+for\s+testing)\b",
     "says it is for testing only"),
    # a paragraph of its own: "For testing purposes only."
    (r"(?i)^(?:note:\s*)?(?:for\s+testing(?:\s+purposes)?\s+only|only\s+for\s+testing)\b",
     "says it is for testing only"),
)
#: a document's title that names a test image: "Admission Webhook Test Image"
_TEST_TITLE = r"(?i)\b(?:test|testing|e2e)\s+(?:image|container)\s*$"


def _paragraphs(lines: list[str]) -> list[tuple[int, str]]:
    """(first line index, text) of each prose paragraph of a document: lines
    joined up to a blank line or a heading, code blocks and headings left out."""
    code = {i for first, end in _blocks(lines) for i in range(first, end)}
    out: list[tuple[int, str]] = []
    start, words = -1, list[str]()
    for i, ln in enumerate([*lines, ""]):
        prose = i < len(lines) and i not in code and ln.strip() and not re.match(_FENCE, ln) \
            and not re.match(_ATX, ln) and not re.match(_UNDERLINE, ln)
        if prose:
            if start < 0:
                start = i
            words.append(ln.strip())
        elif start >= 0:
            out.append((start, " ".join(words)))
            start, words = -1, []
    return out


def described_as_test(build: BuildContext | None, readme: str | None) -> Finding | None:
    """The README that documents this one Dockerfile (``usage.own_readme``)
    calls the image a test image: its title (``# Webhook Test Image``), or a
    sentence of its prose whose subject is the image ("for making a test
    container which serves ...", "This image is used by the e2e tests",
    "for testing purposes only"); not one that tests it ("to test the
    container, run ..."), nor one that says it is not."""
    if build is None or readme is None:
        return None
    text = build.read_text(readme)
    if not text or not re.search(r"(?i)\btest|\be2e\b", text):
        return None
    lines = text.splitlines()
    first = next((h[0] for h in _headings(lines) if h), None)
    if first is not None and re.search(_TEST_TITLE, first[1]):
        return Finding(f"`{readme}`, the README of this image, titles it a test image: "
                       "not a service",
                       (_cite(readme, lines, first[0]),))
    for start, para in _paragraphs(lines):
        for sentence in re.split(r"(?<=[.!?])\s+", para):
            for rx, what in _SAYS_TEST:
                m = re.search(rx, sentence)
                if m is None or re.search(r"(?i)\bnot\b", m.group(0)) or \
                        re.search(r"(?i)\bnot\s*$", sentence[:m.start()]):
                    continue
                # the line of the paragraph where the phrase starts
                at, seen = start, 0
                target = para.find(sentence) + m.start()
                while at < len(lines) and seen + len(lines[at].strip()) + 1 <= target:
                    seen += len(lines[at].strip()) + 1
                    at += 1
                return Finding(f"`{readme}`, the README of this image, {what}: "
                               "a test image, not a service",
                               (_cite(readme, lines, min(at, len(lines) - 1)),))
    return None


def only_tests(build: BuildContext | None, readmes: list[str], dockerfile_text: str,
               program: str, runs: list[Invocation],
               compose_services: list[tuple[str, str, int]]) -> Finding | None:
    """Why the repository's docs say the image exists only to run tests, or None.
    ``readmes`` are the READMEs that document it (``usage.image_readmes``),
    ``runs`` its documented ``docker run`` lines, ``compose_services`` the
    (compose file, service block, offset) of the services that build it."""
    if build is None or not build.dockerfile:
        return None
    # documented as a service elsewhere: a usage comment that runs no tests, a port
    if any(r.ports for r in runs) or any(
            r.path == build.dockerfile and not re.search(_TEST_RUNNER, " ".join(r.span))
            for r in runs):
        return None
    return _readme_test_only(build, readmes, dockerfile_text, program, compose_services) or \
        _compose_test_only(build, compose_services)


# ---------------------------------------------------------------------------
# CI job images
# ---------------------------------------------------------------------------

_REF = r"['\"]?([\w$][\w.\-/:@${}]*)['\"]?"
#: a yaml key that runs a job in an image: (the pattern, what it is)
_CI_KEYS = (
    (r"^\s*(?:-\s*)?image:\s*" + _REF + r"\s*(?:#.*)?$", "`image:`"),
    (r"^\s*(?:-\s*)?container:\s*" + _REF + r"\s*(?:#.*)?$", "`container:`"),
)
_CI_ANYWHERE = (
    (r"\buses:\s*['\"]?docker://([\w$][\w.\-/:@${}]*)", "`uses: docker://`"),
    (r"\bdocker\.image\(\s*['\"]([\w$][\w.\-/:@${}]*)['\"]", "Jenkins `docker.image()`"),
)
_JENKINS_AGENT = r"\bagent\s*\{\s*docker\b"
_JENKINS_IMAGE = r"\b(?:image|docker)\s+['\"]([\w$][\w.\-/:@${}]*)['\"]"
#: keys that make a yaml block a CI configuration (compose and Kubernetes use none of them)
_CI_BLOCK = (r"(?m)^\s*(?:-\s*)?(?:script|before_script|after_script|stages?|pipelines?|"
             r"steps|runs-on|commands|jobs|pool|workflows?|trigger)\s*:")
_CI_FILE_WORDS = (
    r"(?i)\.gitlab-ci\.ya?ml|gitlab ci|bitbucket-pipelines|\.drone\.ya?ml|drone ci|"
    r"azure[- ]pipelines|github actions|\.github/workflows|jenkinsfile|circleci|woodpecker|"
    r"cloudbuild|buildkite")
_CI_FILES = (".gitlab-ci.yml", ".gitlab-ci.yaml", "bitbucket-pipelines.yml", ".drone.yml",
             ".drone.yaml", ".woodpecker.yml", "azure-pipelines.yml", "azure-pipelines.yaml",
             "Jenkinsfile", "cloudbuild.yaml", "cloudbuild.yml", ".circleci/config.yml")
_DOC_SUFFIXES = (".md", ".rst", ".markdown", ".txt", ".adoc")


def _blocks(lines: list[str]) -> list[tuple[int, int]]:
    """(first, end) line indexes of the code blocks of a document: fenced, or
    indented by four spaces or a tab after a blank line."""
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        f = re.match(_FENCE, lines[i])
        if f:
            j = i + 1
            while j < len(lines) and not lines[j].lstrip().startswith(f.group(1)):
                j += 1
            out.append((i + 1, j))
            i = j + 1
            continue
        if re.match(r"^(?: {4}|\t)\S", lines[i]) and (i == 0 or not lines[i - 1].strip()):
            j = i
            while j < len(lines) and (re.match(r"^(?: {4}|\t)", lines[j]) or not lines[j].strip()):
                j += 1
            out.append((i, j))
            i = j
            continue
        i += 1
    return out


def _under_services(lines: list[str], i: int, first: int) -> bool:
    """Line ``i`` sits under a ``services:`` key (a service container beside
    the job, not the job's own image)."""
    indent = len(lines[i]) - len(lines[i].lstrip())
    for j in range(i - 1, first - 1, -1):
        ln = lines[j]
        if not ln.strip() or ln.lstrip().startswith("#"):
            continue
        lead = len(ln) - len(ln.lstrip())
        if lead < indent:
            if re.match(r"^\s*(?:-\s*)?services\s*:", ln):
                return True
            indent = lead
    return False


def _ci_refs(lines: list[str], first: int, end: int, ci: bool) -> list[tuple[int, str, str]]:
    """(line index, image reference, how) of the job images a CI text names in
    lines ``first``..``end``; yaml keys count only when ``ci`` (a CI file or block)."""
    out: list[tuple[int, str, str]] = []
    body = "\n".join(lines[first:end])
    jenkins = bool(re.search(_JENKINS_AGENT, body))
    for i in range(first, end):
        ln = lines[i]
        for rx, how in _CI_ANYWHERE:
            out += [(i, hit.group(1), how) for hit in re.finditer(rx, ln)]
        if jenkins:
            out += [(i, hit.group(1), "a Jenkins `docker` agent")
                    for hit in re.finditer(_JENKINS_IMAGE, ln)]
        if not ci or ":" not in ln:
            continue
        for rx, how in _CI_KEYS:
            key = re.match(rx, ln)
            if key and not _under_services(lines, i, first):
                out.append((i, key.group(1), how))
        step = re.match(r"^\s*-?\s*name:\s*" + _REF + r"\s*$", ln)
        if step and "/" in step.group(1) and i and \
                re.match(r"^\s*(?:-\s*)?(?:image:\s*$|steps:)", lines[i - 1]):
            out.append((i, step.group(1), "a step's `name:`"))
    return out


def _docs(build: BuildContext, readmes: list[str]) -> list[str]:
    """The documentation that may show the image in use: the READMEs that
    document it, and the Markdown/reST files of ``docs/`` (the repository's and
    one beside the Dockerfile), at most 40."""
    out = list(readmes)
    here = dockerfile_dir(build)
    dirs: list[str] = [n for n in ("docs", "doc") if n in build.list_dir("")]
    if here and "docs" in build.list_dir(here):
        dirs.append(f"{here}/docs")
    for d in dirs:
        for name in sorted(build.list_dir(d))[:40]:
            if name.lower().endswith(_DOC_SUFFIXES):
                out.append(f"{d}/{name}")
    return list(dict.fromkeys(out))[:40]


def _ci_files(build: BuildContext) -> list[str]:
    """The repository's CI configurations: the known files at its root and its
    GitHub workflows (at most 20)."""
    top = set(build.list_dir(""))
    out = [p for p in _CI_FILES if p.split("/", 1)[0] in top and build.read_text(p) is not None]
    if ".github" not in top:
        return out
    for name in sorted(build.list_dir(".github/workflows"))[:20]:
        if name.endswith((".yml", ".yaml")):
            out.append(f".github/workflows/{name}")
    return out


def _is_this_image(ref: str, own: set[str], tags: set[str], bare_ok: bool = False) -> bool:
    """``ref`` names this image: a tag names it, or its name is the image's own
    (its directory's or program's) and it is not a Docker Official Image
    (``python:3.12``), unless ``bare_ok`` (a local ``docker run NAME``)."""
    ref = ref.strip("'\"")
    if not ref or ref.startswith("$") and "/" not in ref:
        return False
    name = image_ref_name(ref)
    if not name or "$" in name or "{" in name:
        return False
    if name in tags:
        return True
    return ("/" in ref or bare_ok) and name in own


def _action_image(build: BuildContext, own: set[str], tags: set[str]) -> Finding | None:
    """A GitHub Docker action of the repository (``action.yml`` at the root, or
    in the Dockerfile's directory or up to three above it) whose image is this
    Dockerfile or this image."""
    assert build.dockerfile
    # the Dockerfile's directory, three above it and the root (not every level
    # of a deep tree: each read walks the path)
    for d in dict.fromkeys([*ancestors(build.dockerfile)[:4], ""]):
        for name in ("action.yml", "action.yaml"):
            p = f"{d}/{name}" if d else name
            text = build.read_text(p)
            if not text or not re.search(r"^\s*using:\s*['\"]?docker['\"]?\s*$", text, re.M):
                continue
            lines = text.splitlines()
            for i, ln in enumerate(lines):
                m = re.match(r"^\s*image:\s*['\"]?([^'\"\s#]+)", ln)
                if not m:
                    continue
                ref = m.group(1)
                if ref.startswith("docker://"):
                    hit = _is_this_image(ref[len("docker://"):], own, tags)
                else:
                    hit = posixpath.normpath(posixpath.join(d, ref)) == build.dockerfile
                if hit:
                    return Finding(
                        f"a GitHub Docker container action (`{p}`) runs this image: GitHub runs "
                        "it as root in the runner's workspace and documents that its "
                        "Dockerfile must not set USER", (_cite(p, lines, i),))
    return None


def ci_job(build: BuildContext | None, readmes: list[str], dockerfile_text: str,
           program: str) -> Finding | None:
    """Why a CI system runs its jobs in this image (a CI file of the repository,
    or one shown in its docs), or None. ``readmes`` as for :func:`only_tests`."""
    if build is None or not build.dockerfile:
        return None
    docs = [(p, build.read_text(p) or "") for p in _docs(build, readmes)]
    # tags from the READMEs of this image only: docs/ may build other images
    own, tags = image_names(build, dockerfile_text, program,
                            tuple(t for p, t in docs if p in readmes))
    if not own and not tags:
        return None
    found = _action_image(build, own, tags)
    if found is not None:
        return found
    texts: list[tuple[str, list[str], list[tuple[int, int, bool]]]] = []
    for p in _ci_files(build):
        lines = (build.read_text(p) or "").splitlines()
        texts.append((p, lines, [(0, len(lines), True)]))
    for p, text in docs:
        if not re.search(r"image|container|docker", text):
            continue
        lines = text.splitlines()
        spans = []
        for first, end in _blocks(lines):
            ci = bool(re.search(_CI_BLOCK, "\n".join(lines[first:end]))) or \
                bool(re.search(_CI_FILE_WORDS, "\n".join(lines[max(0, first - 4):first])))
            spans.append((first, end, ci))
        texts.append((p, lines, spans))
    for p, lines, spans in texts:
        for first, end, ci in spans:
            for i, ref, how in _ci_refs(lines, first, end, ci):
                if _is_this_image(ref, own, tags):
                    return Finding(
                        f"`{p}` runs CI jobs in this image (`{ref}`, {how}): the CI runs the "
                        "job's steps as the image's user against a workspace it mounts, and "
                        "they need root", (_cite(p, lines, i),))
    return None


__all__ = ["Finding", "ci_job", "described_as_test", "only_tests"]

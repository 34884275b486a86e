"""One repository: clone, fix, and open or update one pull request.

What the bot does to a repository, and when it does nothing:

* an archived repository or a fork is skipped; so is a repository that says
  ``enabled = false`` under ``[tool.dockfix.bot]`` (``pyproject.toml``) or
  ``[bot]`` (``.dockfix.toml``);
* a pull request from the bot's branch that was closed without merging is an
  opt-out: the bot never opens another one there;
* when nothing changes (or dockfix declines every image) there is no branch,
  no commit and no pull request, and the report says why;
* the same result twice makes no new commit and no new pull request; a new
  result replaces the bot's own commit (``--force-with-lease``) and updates
  the open pull request in place;
* a commit on the bot's branch by anyone else is never overwritten: the bot
  comments on the pull request instead (once per result).

``--dry-run DIR`` calls nothing and pushes nothing: it writes the pull request
it would open (``<name>.md``: title and body) and its change (``<name>.diff``,
which ``git apply`` takes at the repository's root) under DIR.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from rewriter.bot.git import Git, GitError, is_local, redact
from rewriter.bot.github import CLOSED, OPEN, GitHub, GitHubError
from rewriter.bot.scan import Scan, Skipped, bot_enabled, scan
from rewriter.report.outcome import DECLINED, ERROR

DEFAULT_BRANCH = "dockfix/non-root"
DEFAULT_AUTHOR = ("dockfix", "dockfix@users.noreply.github.com")
TITLE = "Run containers as a non-root user"
MARKER = "<!-- dockfix-bot -->"

#: The values of ``Report.status``.
PROPOSED, UPDATED, UNCHANGED = "proposed", "updated", "unchanged"
NOTHING, DECLINED_ALL, SKIPPED = "nothing-to-do", "declined", "skipped"
OPTED_OUT, BLOCKED, DRY_RUN, FAILED = "opted-out", "blocked", "dry-run", "error"
OK_STATUSES = (PROPOSED, UPDATED, UNCHANGED, NOTHING, DECLINED_ALL, SKIPPED, OPTED_OUT,
               BLOCKED, DRY_RUN)

_GITHUB_URL = re.compile(r"^https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$")
_SLUG = re.compile(r"^([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)$")


@dataclass(frozen=True)
class Options:
    repo: str  #: a clone URL or a local path
    base: str | None = None  #: default: the repository's default branch
    branch: str = DEFAULT_BRANCH
    dry_run: str | None = None  #: a directory: write the pull request there, call nothing
    github_repo: str | None = None  #: ``OWNER/NAME``; default: from a github.com URL
    api_url: str = "https://api.github.com"
    token: str | None = None
    author: tuple[str, str] = DEFAULT_AUTHOR
    workdir: str | None = None  #: where the private work directory is made


@dataclass
class Report:
    repo: str
    status: str
    message: str
    pull: str | None = None  #: the pull request's URL
    skipped: list[Skipped] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)  #: path, status, reason
    retry_after: float | None = None  #: GitHub asked to wait this long (a rate limit)
    #: what dockfix read around the Dockerfiles (:meth:`rewriter.bot.scan.Reads.as_dict`):
    #: the webhook re-runs the repository on a push that changes any of it
    context: dict[str, Any] | None = None
    #: seconds per stage: github (API calls), clone, fix, commit, push; and total
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES

    def lines(self) -> list[str]:
        out = [f"{self.repo}: {self.status}: {self.message}"]
        out += [f"  {f['path']}: {f['status']}" + (f": {f['reason']}" if f.get("reason") else "")
                for f in self.files]
        out += [f"  {s.path}: skipped: {s.reason}" for s in self.skipped]
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"repo": self.repo, "status": self.status, "message": self.message,
                "pull": self.pull, "files": self.files,
                "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
                "retry_after": self.retry_after, "timings": self.timings}


def github_slug(options: Options) -> tuple[str, str] | None:
    """``(owner, name)`` of the repository on GitHub, if it can be told."""
    if options.github_repo:
        m = _SLUG.match(options.github_repo)
        if not m:
            raise ValueError(f"--github-repo: expected OWNER/NAME, got {options.github_repo!r}")
        return m.group(1), m.group(2)
    m = _GITHUB_URL.match(options.repo)
    return (m.group(1), m.group(2)) if m else None


def run(options: Options) -> Report:
    """Do everything for one repository; never raises for a repository's sake."""
    secrets = [options.token] if options.token else []
    timings: dict[str, float] = {}
    reset = _timings.set(timings)
    start = time.perf_counter()
    try:
        report = _run(options)
    except GitHubError as exc:
        report = Report(_shown(options), FAILED, redact(" ".join(str(exc).split()), secrets),
                        retry_after=exc.retry_after)
    except (GitError, ValueError, OSError) as exc:
        report = Report(_shown(options), FAILED, redact(" ".join(str(exc).split()), secrets))
    finally:
        _timings.reset(reset)
    timings["total"] = time.perf_counter() - start
    report.timings = {k: round(v, 4) for k, v in timings.items()}
    return report


_timings: ContextVar[dict[str, float] | None] = ContextVar("dockfix_bot_timings", default=None)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Add the time the block takes to the run's ``Report.timings[name]``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        timings = _timings.get()
        if timings is not None:
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - start


def _shown(options: Options) -> str:
    try:
        slug = github_slug(options)
    except ValueError:
        slug = None
    return "/".join(slug) if slug else options.repo


def _run(options: Options) -> Report:
    shown = _shown(options)
    slug = github_slug(options)
    gh: GitHub | None = None
    base = options.base
    pulls = []
    if options.dry_run is None:
        if slug is None:
            raise ValueError(f"cannot tell which GitHub repository {options.repo} is; "
                             "give --github-repo OWNER/NAME (or use --dry-run DIR)")
        if not options.token:
            raise ValueError("no GitHub token: set GITHUB_TOKEN (or give --token-file FILE)")
        gh = GitHub(options.token, options.api_url)
        with stage("github"):
            info = gh.repo(*slug)
        if info.archived:
            return Report(shown, SKIPPED, "the repository is archived")
        if info.fork:
            return Report(shown, SKIPPED, "the repository is a fork")
        base = base or info.default_branch
        with stage("github"):
            pulls = gh.pulls(*slug, options.branch)
        closed = next((p for p in pulls if p.state == CLOSED), None)
        if closed is not None:
            return Report(shown, OPTED_OUT,
                          f"pull request #{closed.number} from {options.branch} was closed "
                          "without merging: the repository said no; not proposing again")
    if is_local(options.repo):
        path = options.repo.removeprefix("file://")
        if not os.path.isdir(path):
            return Report(shown, FAILED, f"{options.repo}: no such directory")
    work = tempfile.mkdtemp(prefix="dockfix-bot-", dir=options.workdir)
    try:
        return _in(work, options, shown, slug, gh, base, pulls)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _in(work: str, options: Options, shown: str, slug: tuple[str, str] | None,
        gh: GitHub | None, base: str | None, pulls: list) -> Report:  # type: ignore[type-arg]
    home = os.path.join(work, "home")
    repo = os.path.join(work, "repo")
    os.mkdir(home, 0o700)
    git = Git(home, options.repo, options.token, options.author)
    try:
        with stage("clone"):
            git.clone(repo, base)
            git.checkout(repo, "HEAD")
    except GitError:
        path = options.repo.removeprefix("file://")
        if is_local(options.repo) and not (os.path.exists(os.path.join(path, ".git"))
                                           or os.path.isfile(os.path.join(path, "HEAD"))):
            return Report(shown, FAILED, f"{options.repo}: not a git repository")
        raise
    base = base or _head_branch(git, repo)
    enabled, where = bot_enabled(repo)
    if not enabled:
        key = "[bot]" if where and where.endswith(".dockfix.toml") else "[tool.dockfix.bot]"
        return Report(shown, OPTED_OUT, f"{where} says enabled = false under {key}")
    with stage("fix"):
        found = scan(git, repo)
    report = _outcome(git, gh, repo, slug, options, base, pulls, found, shown)
    report.context = found.reads.as_dict()
    return report


def _outcome(git: Git, gh: GitHub | None, repo: str, slug: tuple[str, str] | None,
             options: Options, base: str, pulls: list, found: Scan,  # type: ignore[type-arg]
             shown: str) -> Report:
    files = _files(found)
    if not found.changed:
        return _nothing(shown, found, files)
    body = pr_body(found)
    if options.dry_run is not None:
        return _dry_run(options.dry_run, shown, found, files, body)
    assert gh is not None and slug is not None
    return _propose(git, gh, repo, slug, options, base, pulls, found, files, body, shown)


def _head_branch(git: Git, repo: str) -> str:
    ref = git.run("symbolic-ref", "--short", "refs/remotes/origin/HEAD", cwd=repo, check=False)
    return ref.strip().removeprefix("origin/") or "main"


def _files(found: Scan) -> list[dict[str, Any]]:
    out = []
    for o in found.outcomes:
        reason = None
        if o.status == ERROR:
            reason = (o.error or "").removeprefix(o.path + ": ")
        elif o.status == DECLINED:
            reason = "; ".join(f"{d.reason}: {d.message}" for d in o.declines
                               if not d.informational)
        out.append({"path": o.path, "status": o.status, "reason": reason})
    return out


def _nothing(shown: str, found: Scan, files: list[dict[str, Any]]) -> Report:
    declined = [f for f in files if f["status"] == DECLINED]
    if declined:
        why = "; ".join(f"{f['path']}: {f['reason']}" for f in declined)
        return Report(shown, DECLINED_ALL, f"no pull request: dockfix declined {why}",
                      skipped=found.skipped, files=files)
    if not found.outcomes:
        what = "no Dockerfile dockfix could read" if found.skipped else "no Dockerfile"
        return Report(shown, NOTHING, f"no pull request: {what}", skipped=found.skipped,
                      files=files)
    return Report(shown, NOTHING, "no pull request: nothing to change", skipped=found.skipped,
                  files=files)


def pr_body(found: Scan) -> str:
    """dockfix's markdown report, with what the bot skipped and how to check the image."""
    from rewriter.report import formats

    body = formats.render("markdown", found.outcomes).rstrip("\n")
    parts = [body]
    if found.skipped:
        parts += ["", "### Files not looked at", ""]
        parts += [f"- `{s.path}`: {s.reason}" for s in found.skipped]
    parts += ["", "### Build it and check the user", "",
              "From the directory you build each image in:", "", "```sh"]
    for path in sorted(found.fixed):
        parts += [f"docker build -f {path} -t dockfix-check .",
                  "docker image inspect --format '{{.Config.User}}' dockfix-check"
                  "   # the new user, not empty",
                  "docker run --rm dockfix-check id   # where the image has `id`"]
    parts += ["```", "",
              "To stop these pull requests, close this one without merging, or set "
              "`enabled = false` under `[tool.dockfix.bot]` in `pyproject.toml`.", "", MARKER]
    return "\n".join(parts) + "\n"


def _diff(found: Scan) -> str:
    return "".join(o.diff for o in found.outcomes if o.changed and o.diff)


def _dry_run(directory: str, shown: str, found: Scan, files: list[dict[str, Any]],
             body: str) -> Report:
    os.makedirs(directory, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", shown.strip("/")).strip("._") or "repository"
    md = os.path.join(directory, f"{name}.md")
    diff = os.path.join(directory, f"{name}.diff")
    _write(md, f"# {TITLE}\n\n{body}")
    _write(diff, _diff(found))
    return Report(shown, DRY_RUN, f"would open a pull request: wrote {md} and {diff}",
                  skipped=found.skipped, files=files)


def _write(path: str, text: str) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(tmp, path)


def _apply(repo: str, fixed: dict[str, str]) -> None:
    """Write the fixed files into the checkout (regular files, never through a link)."""
    root = os.path.realpath(repo)
    for path, text in fixed.items():
        full = os.path.join(root, *path.split("/"))
        if os.path.realpath(full) != full:
            raise OSError(f"{path}: not a plain file of the checkout")
        fd = os.open(full, os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8"))


def _propose(git: Git, gh: GitHub, repo: str, slug: tuple[str, str], options: Options,
             base: str, pulls: list, found: Scan, files: list[dict[str, Any]],  # type: ignore[type-arg]
             body: str, shown: str) -> Report:
    owner, name = slug
    from rewriter import __version__

    _apply(repo, found.fixed)
    message = (f"{TITLE}\n\nChanged by dockfix {__version__}:\n\n"
               + "".join(f"- {p}\n" for p in sorted(found.fixed)))
    base_sha = git.run("rev-parse", "HEAD", cwd=repo).strip()
    with stage("commit"):
        git.commit_all(repo, sorted(found.fixed), message)
    tree = git.tree_of(repo, "HEAD")
    old = git.remote_branches(repo).get(options.branch)
    open_pull = next((p for p in pulls if p.state == OPEN), None)
    pushed = False
    if old is not None:
        others = [c for c in git.authors(repo, base_sha, old) if c[1] != options.author[1]]
        if others:
            return _blocked(gh, slug, options, open_pull, tree, others, found, files, shown)
        if git.tree_of(repo, old) != tree:
            with stage("push"):
                git.push(repo, options.branch, old)
            pushed = True
    else:
        with stage("push"):
            git.push(repo, options.branch, None)
        pushed = True
    if open_pull is None:
        with stage("github"):
            p = gh.create_pull(owner, name, title=TITLE, body=body, head=options.branch,
                               base=base)
        return Report(shown, PROPOSED, f"opened pull request #{p.number}", pull=p.url,
                      skipped=found.skipped, files=files)
    if open_pull.body != body or open_pull.title != TITLE:
        with stage("github"):
            gh.update_pull(owner, name, open_pull.number, title=TITLE, body=body)
        return Report(shown, UPDATED, f"updated pull request #{open_pull.number}",
                      pull=open_pull.url, skipped=found.skipped, files=files)
    what = "pushed a new commit; " if pushed else ""
    return Report(shown, UPDATED if pushed else UNCHANGED,
                  f"{what}pull request #{open_pull.number} is up to date", pull=open_pull.url,
                  skipped=found.skipped, files=files)


def _blocked(gh: GitHub, slug: tuple[str, str], options: Options, open_pull: Any, tree: str,
             others: list, found: Scan, files: list[dict[str, Any]], shown: str) -> Report:  # type: ignore[type-arg]
    """Someone else committed to the bot's branch: push nothing, say so once per result."""
    who = sorted({c[1] for c in others})
    note = (f"{options.branch} has {len(others)} commit(s) by someone else "
            f"({', '.join(who)}); not overwritten")
    if open_pull is None:
        return Report(shown, BLOCKED, note, skipped=found.skipped, files=files)
    tag = f"<!-- dockfix-bot:result:{hashlib.sha256(tree.encode()).hexdigest()[:16]} -->"
    if not any(tag in c for c in gh.comments(*slug, open_pull.number)):
        text = (f"dockfix has a new proposal for this branch, but `{options.branch}` has commits "
                "that dockfix did not make, so it did not push. The change it would make on "
                f"top of the base branch:\n\n```diff\n{_diff(found)}```\n\n{tag}\n")
        gh.comment(*slug, open_pull.number, text)
        note += f"; commented on #{open_pull.number}"
    return Report(shown, BLOCKED, note, pull=open_pull.url, skipped=found.skipped, files=files)

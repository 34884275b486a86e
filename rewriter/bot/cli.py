"""``dockfix bot ...``: the pull-request bot's commands (a typer group).

The token is never an option (a command line is visible to every user of the
machine): it comes from ``GITHUB_TOKEN`` (or ``DOCKFIX_GITHUB_TOKEN``) or from
a file named by ``--token-file``.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated, Any, Optional

import typer

from rewriter.bot.git import redact

TOKEN_VARS = ("DOCKFIX_GITHUB_TOKEN", "GITHUB_TOKEN")

app = typer.Typer(
    name="bot", add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None,
    no_args_is_help=True, context_settings={"help_option_names": ["-h", "--help"]},
    help="The pull-request bot: propose dockfix's changes as one pull request per repository.",
)


@app.callback()
def _group() -> None:
    """The pull-request bot: propose dockfix's changes as one pull request per repository."""


class BotUsageError(Exception):
    pass


def read_token(token_file: str | None) -> str | None:
    """The GitHub token: from ``token_file``, else the environment; ``None`` if none."""
    if token_file:
        try:
            with open(token_file, encoding="utf-8") as f:
                token = f.read(4096).strip()
        except OSError as exc:
            raise BotUsageError(f"--token-file: cannot read {token_file}: {exc.strerror}") from None
        if not token:
            raise BotUsageError(f"--token-file: {token_file} is empty")
        return token
    for var in TOKEN_VARS:
        value = os.environ.get(var, "").strip()
        if value:
            return value
    return None


def _author(text: str) -> tuple[str, str]:
    name, sep, rest = text.partition("<")
    email = rest.rstrip().removesuffix(">")
    if not sep or not name.strip() or "@" not in email or ">" in email:
        raise BotUsageError(f"--author: expected 'Name <email>', got {text!r}")
    return name.strip(), email.strip()


@app.command("run", no_args_is_help=True)
def run_command(
    repo: Annotated[str, typer.Argument(metavar="REPO",
                                        help="A clone URL (https://github.com/OWNER/NAME) or a local path.")],
    base: Annotated[Optional[str], typer.Option("--base", metavar="BRANCH",
                                                help="The branch to propose against [default: the repository's default branch].")] = None,
    branch: Annotated[str, typer.Option("--branch", metavar="BRANCH",
                                        help="The bot's branch.")] = "dockfix/non-root",
    dry_run: Annotated[Optional[str], typer.Option("--dry-run", metavar="DIR",
                                                   help="Push nothing and call nothing: write the pull request (NAME.md) and its change (NAME.diff, for git apply) under DIR.")] = None,
    github_repo: Annotated[Optional[str], typer.Option("--github-repo", metavar="OWNER/NAME",
                                                       help="The repository on GitHub [default: from a github.com REPO URL].")] = None,
    api_url: Annotated[str, typer.Option("--api-url", metavar="URL",
                                         help="GitHub's REST API (GitHub Enterprise: https://HOST/api/v3).")] = "https://api.github.com",
    token_file: Annotated[Optional[str], typer.Option("--token-file", metavar="FILE",
                                                      help="Read the token from FILE [default: $GITHUB_TOKEN].")] = None,
    author: Annotated[str, typer.Option("--author", metavar="'NAME <EMAIL>'",
                                        help="Author and committer of the bot's commits.")] = "dockfix <dockfix@users.noreply.github.com>",
    output_format: Annotated[str, typer.Option("--output-format", metavar="FORMAT",
                                               help="text or json.")] = "text",
) -> None:
    """Fix the Dockerfiles of one repository and open or update one pull request."""
    from rewriter.bot.run import Options, run

    if output_format not in ("text", "json"):
        raise BotUsageError(f"--output-format: expected text or json, got {output_format!r}")
    options = Options(repo=repo, base=base, branch=branch, dry_run=dry_run,
                      github_repo=github_repo, api_url=api_url, token=read_token(token_file),
                      author=_author(author))
    report = run(options)
    secrets = [options.token] if options.token else []
    if output_format == "json":
        text = json.dumps(report.as_dict(), indent=2, sort_keys=True) + "\n"
    else:
        text = "".join(line + "\n" for line in report.lines())
    (sys.stdout if report.ok else sys.stderr).write(redact(text, secrets))
    raise typer.Exit(0 if report.ok else 1)


def main(argv: list[str]) -> int:
    """``dockfix bot ARGV``; the exit code.  Errors are one line on stderr."""
    try:
        code = typer.main.get_command(app).main(args=argv, prog_name="dockfix bot",
                                                standalone_mode=False)
        return code if isinstance(code, int) else 0
    except BotUsageError as exc:
        sys.stderr.write(f"dockfix bot: error: {exc}\n")
        return 2
    except typer.Exit as exc:  # pragma: no cover - click raises its own Exit
        return exc.exit_code
    except Exception as exc:
        if type(exc).__name__ in ("Exit",):
            return int(getattr(exc, "exit_code", 0))
        if hasattr(exc, "format_message"):
            message = " ".join(exc.format_message().split())
            sys.stderr.write(f"dockfix bot: error: {message} (see 'dockfix bot --help')\n")
            return 2
        if type(exc).__name__ == "Abort":
            return 130
        secrets = [t for v in (*TOKEN_VARS, "DOCKFIX_REDIS_PASSWORD", "DOCKFIX_WEBHOOK_SECRET")
                   if (t := os.environ.get(v, "").strip())]
        message = redact(" ".join(str(exc).split()), secrets)
        sys.stderr.write(f"dockfix bot: error: internal error: {type(exc).__name__}: {message}\n")
        return 2



# --- organisation scale: Celery on Redis (rewriter.bot.tasks, rewriter.bot.web) ---


def _celery_app() -> Any:
    from rewriter.bot.tasks import ConfigError, make_app

    try:
        return make_app()
    except ConfigError as exc:
        raise BotUsageError(str(exc)) from None


def _repos_file(path: str) -> list[tuple[str, str | None]]:
    """``URL-or-path [OWNER/NAME]`` or ``OWNER/NAME`` per line; ``#`` comments."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read(10 * 1024 * 1024).splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BotUsageError(f"--repos: cannot read {path}: "
                            f"{getattr(exc, 'strerror', None) or exc}") from None
    out: list[tuple[str, str | None]] = []
    for n, line in enumerate(lines, 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) > 2:
            raise BotUsageError(f"--repos: {path}: line {n}: expected 'URL [OWNER/NAME]' or "
                                "'OWNER/NAME'")
        if len(words) == 1 and words[0].count("/") == 1 and ":" not in words[0] \
                and not words[0].startswith((".", "/")):
            out.append((f"https://github.com/{words[0]}.git", words[0]))
        else:
            out.append((words[0], words[1] if len(words) == 2 else None))
    return out


@app.command("enqueue")
def enqueue_command(
    org: Annotated[Optional[str], typer.Option("--org", metavar="ORG",
                                               help="Every repository of this organisation (not archived, not forks).")] = None,
    repos: Annotated[Optional[str], typer.Option("--repos", metavar="FILE",
                                                 help="One repository a line: 'OWNER/NAME', or 'URL-or-path [OWNER/NAME]'.")] = None,
    base: Annotated[Optional[str], typer.Option("--base", metavar="BRANCH")] = None,
    branch: Annotated[Optional[str], typer.Option("--branch", metavar="BRANCH")] = None,
    api_url: Annotated[Optional[str], typer.Option("--api-url", metavar="URL",
                                                   help="GitHub's REST API, for --org and for the tasks.")] = None,
    token_file: Annotated[Optional[str], typer.Option("--token-file", metavar="FILE")] = None,
) -> None:
    """Put repositories on the queue for the workers (Redis: DOCKFIX_BROKER_URL)."""
    from rewriter.bot.tasks import QUEUE, TASK, payload

    if (org is None) == (repos is None):
        raise BotUsageError("enqueue: give one of --org ORG or --repos FILE")
    if repos is not None:
        items = _repos_file(repos)
    else:
        from rewriter.bot.github import GitHub, GitHubError

        token = read_token(token_file)
        try:
            found = GitHub(token, api_url or "https://api.github.com").org_repos(org or "")
        except GitHubError as exc:
            raise BotUsageError(str(exc)) from None
        items = [(r.clone_url, r.full_name) for r in found if not r.archived and not r.fork]
    celery_app = _celery_app()
    # kombu comes with celery, imported by _celery_app already
    from kombu.exceptions import OperationalError

    try:
        for repo, slug in items:
            celery_app.send_task(TASK, kwargs=payload(repo, slug, base=base, branch=branch,
                                                      api_url=api_url), queue=QUEUE)
    except OperationalError as exc:  # unreachable, refused TLS, wrong password
        raise BotUsageError(_broker_error(celery_app, exc)) from None
    sys.stdout.write(f"enqueued {len(items)} repositor{'y' if len(items) == 1 else 'ies'}\n")


def _broker_error(celery_app, exc: BaseException) -> str:  # type: ignore[no-untyped-def]
    """One line for a broker that could not be used, without its password."""
    from urllib.parse import unquote, urlsplit

    password = urlsplit(celery_app.conf.broker_url).password
    secrets = [p for p in (password, unquote(password or "")) if p]
    return redact("cannot use the broker: " + " ".join(str(exc).split())[:300], secrets)


@app.command("worker")
def worker_command(
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", metavar="N",
                                             help="Repositories worked on at once.")] = 1,
    loglevel: Annotated[str, typer.Option("--loglevel", metavar="LEVEL")] = "info",
) -> None:
    """Work through the queue (a Celery worker). Refuses to run as root."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        raise BotUsageError("worker: refusing to run as root; run it as an unprivileged "
                            "user (the image's is 10001)")
    from rewriter.bot.tasks import QUEUE

    celery_app = _celery_app()
    celery_app.worker_main(["worker", "--loglevel", loglevel, "--concurrency", str(concurrency),
                            "--queues", QUEUE, "--without-gossip", "--without-mingle",
                            "--hostname", f"dockfix@{os.uname().nodename}.{os.getpid()}"])


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option("--host", metavar="HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", metavar="PORT")] = 8000,
) -> None:
    """Receive GitHub webhooks (POST /webhook) and enqueue what they ask for."""
    from rewriter.bot.tasks import ConfigError, _secret
    from rewriter.bot.web import serve

    try:
        secret = _secret(os.environ, "DOCKFIX_WEBHOOK_SECRET")
    except ConfigError as exc:
        raise BotUsageError(str(exc)) from None
    if not secret:
        raise BotUsageError("serve: set DOCKFIX_WEBHOOK_SECRET (or DOCKFIX_WEBHOOK_SECRET_FILE)")
    serve(host, port, secret.encode(), _celery_app())

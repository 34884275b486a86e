"""``dockfix bot ...``: the pull-request bot's commands (a typer group).

The token is never an option (a command line is visible to every user of the
machine): it comes from ``GITHUB_TOKEN`` (or ``DOCKFIX_GITHUB_TOKEN``) or from
a file named by ``--token-file``.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated, Optional

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
            message = " ".join(exc.format_message().split())  # type: ignore[attr-defined]
            sys.stderr.write(f"dockfix bot: error: {message} (see 'dockfix bot --help')\n")
            return 2
        if type(exc).__name__ == "Abort":
            return 130
        secrets = [t for v in TOKEN_VARS if (t := os.environ.get(v, "").strip())]
        message = redact(" ".join(str(exc).split()), secrets)
        sys.stderr.write(f"dockfix bot: error: internal error: {type(exc).__name__}: {message}\n")
        return 2


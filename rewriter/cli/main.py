"""The ``dockfix`` command: flags in, ``runner.run`` out.  The only typer import.

``main(argv)`` returns the exit code and never raises: a usage error is one
``dockfix: error:`` line on stderr and exit 2, like every other error.

typer reads every command line: the ``dockfix`` command (``fix``), and the
``dockfix rules`` / ``dockfix rule CODE`` commands (``rules_app``), recognised
as the first argument only, so that a file named ``rules`` is fixed with
``dockfix ./rules``.

No ``from __future__ import annotations`` here: typer reads the annotations of
the commands on every run, and as strings it would evaluate each of them
(about a hundred ``eval`` calls, several milliseconds of a cold start).
"""

import json
import os
import sys
import traceback
from typing import Annotated, Any, Optional

import typer

from rewriter import __version__
from rewriter.cli.runner import Options, run, tune_gc
from rewriter.core.rules import Rule
from rewriter.io import config

CHECK_HELP = (
    "Don't print the diff or write files; only set the exit code. "
    "Exit codes: 0 nothing would change (or it was all fixed / only shown); "
    "1 with --check, something would change; 2 an error (usage, unreadable file, "
    "not UTF-8, parse error, bad configuration, internal error), which wins over 1."
)
COMMAND_HELP = (
    "Rewrite Dockerfiles so their containers run as a non-root user. "
    "PATH is a file, a directory (searched for Dockerfile, Dockerfile.*, *.Dockerfile, "
    "*.dockerfile, Containerfile, Containerfile.*), or '-' to read stdin and write "
    "the fixed Dockerfile to stdout. By default a unified diff is printed and "
    "nothing is written. Also, as the first argument: 'dockfix rules' lists the rules, "
    "'dockfix rule CODE' prints one rule's documentation, 'dockfix bot ...' runs the "
    "pull-request bot, 'dockfix lsp' runs the language server on stdio (a file named "
    "rules, rule, bot or lsp: pass it as ./rules)."
)
OUTPUT_FORMAT_HELP = (
    "text: diffs on stdout, messages on stderr (the default); or one "
    "document for the whole run on stdout: json, sarif (GitHub code "
    "scanning), github (workflow annotations), markdown (a pull-request "
    "body). Exit codes are the same for every format. Given with '-', it also "
    "asks for the findings, as --verbose does."
)
VERBOSE_HELP = (
    "With '-': also print the findings, declines and summary on stderr (by "
    "default a successful '-' prints only the fixed file, so that an editor's "
    "filter gets nothing else)."
)
RULES_HELP = (
    "List every rule: code, name, whether it can fix, and its fix's default "
    "applicability (safe: applied by default; unsafe: with --unsafe-fixes; "
    "display-only: shown, never applied). 'dockfix rule CODE' prints the "
    "documentation of one rule (by code, e.g. DF001, or by name, e.g. "
    "missing-nonroot-user), in Markdown. A file named 'rules' or 'rule' is fixed "
    "with 'dockfix ./rules'."
)
#: ``dockfix rules`` / ``dockfix rule CODE``: recognised as the first argument only.
SUBCOMMANDS = ("rules", "rule")

_SETTINGS = dict(
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app = typer.Typer(help="Rewrite Dockerfiles so their containers run as a non-root user.",
                  **_SETTINGS)  # type: ignore[arg-type]
rules_app = typer.Typer(**_SETTINGS)  # type: ignore[arg-type]


class _UsageError(Exception):
    pass


#: What click raises for a usage error: ``ClickException``, from click or from the
#: copy of click that typer ships (newer typer releases).
_CLICK_ERROR: type[Exception] = next(
    k for k in typer.BadParameter.__mro__ if k.__name__ == "ClickException")


def _checked(check: Any, value: Any, flag: str) -> Any:
    try:
        return check(value)
    except ValueError as exc:
        raise _UsageError(f"{flag}: {exc}") from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dockfix {__version__}")
        raise typer.Exit()


@app.command(help=COMMAND_HELP, no_args_is_help=False)
def fix(
    ctx: typer.Context,
    paths: Annotated[Optional[list[str]], typer.Argument(
        metavar="PATH", help="Files, directories, or '-' for stdin.", show_default=False)] = None,
    write: Annotated[bool, typer.Option(
        "--write", help="Rewrite the files in place (atomically).")] = False,
    check: Annotated[bool, typer.Option("--check", help=CHECK_HELP)] = False,
    diff: Annotated[bool, typer.Option(
        "--diff", help="Print a unified diff to stdout (the default; combine with --check).")
    ] = False,
    unsafe_fixes: Annotated[Optional[bool], typer.Option(
        "--unsafe-fixes/--no-unsafe-fixes", help="Also apply fixes marked unsafe.",
        show_default=False)] = None,
    uid: Annotated[Optional[int], typer.Option(
        "--uid", metavar="INT", help="UID of the user dockfix creates [default: 10001].")
    ] = None,
    gid: Annotated[Optional[int], typer.Option(
        "--gid", metavar="INT", help="GID of the group dockfix creates [default: 10001].")
    ] = None,
    user: Annotated[Optional[str], typer.Option(
        "--user", metavar="NAME", help="Name of the user dockfix creates [default: the program the "
        "container runs, when it is a plain program name; else appuser].")
    ] = None,
    group: Annotated[Optional[str], typer.Option(
        "--group", metavar="NAME", help="Name of the group [default: the user's name when "
        "named after the program; else appgroup].")] = None,
    build_arg: Annotated[Optional[list[str]], typer.Option(
        "--build-arg", metavar="KEY=VAL",
        help="A build argument, as for docker build (repeatable).")] = None,
    target: Annotated[Optional[str], typer.Option(
        "--target", metavar="STAGE", help="The stage that is run [default: the last].")
    ] = None,
    select: Annotated[Optional[list[str]], typer.Option(
        "--select", metavar="CODES",
        help="Only these rules: codes or prefixes, comma separated (repeatable).")] = None,
    ignore: Annotated[Optional[list[str]], typer.Option(
        "--ignore", metavar="CODES",
        help="Never these rules: codes or prefixes, comma separated (repeatable).")] = None,
    mappings: Annotated[Optional[list[str]], typer.Option(
        "--mappings", metavar="FILE",
        help="Extra image-family mappings, a TOML file (repeatable).")] = None,
    context: Annotated[Optional[str], typer.Option(
        "--context", metavar="DIR",
        help="The build context directory, as for docker build [default: the repository "
             "around each file].")] = None,
    stdin_filename: Annotated[Optional[str], typer.Option(
        "--stdin-filename", metavar="NAME",
        help="The name of '-' in messages and for finding the configuration.")] = None,
    output_format: Annotated[Optional[str], typer.Option(
        "--output-format", metavar="FORMAT", help=OUTPUT_FORMAT_HELP)] = None,
    output_file: Annotated[Optional[str], typer.Option(
        "--output-file", "-o", metavar="FILE",
        help="Write what would go to stdout to FILE instead.")] = None,
    jobs: Annotated[Optional[int], typer.Option(
        "--jobs", "-j", metavar="N",
        help="Fix files in N processes at once [default: one per CPU]; 1 for no extra "
             "processes. Output is the same, in the same order, whatever N is.")] = None,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="Print only errors on stderr.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help=VERBOSE_HELP)] = False,
    color: Annotated[Optional[bool], typer.Option(
        "--color/--no-color", show_default=False,
        help="Color the diff [default: when stdout is a terminal and NO_COLOR is unset].")
    ] = None,
    version: Annotated[Optional[bool], typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = None,
) -> int:
    """Check the values, make ``runner.Options`` of them and run; the exit code."""
    overrides: dict[str, Any] = {}
    if uid is not None:
        overrides["uid"] = _checked(config.check_uid, uid, "--uid")
    if gid is not None:
        overrides["gid"] = _checked(config.check_gid, gid, "--gid")
    if user is not None:
        overrides["user"] = _checked(config.check_name, user, "--user")
    if group is not None:
        overrides["group"] = _checked(config.check_name, group, "--group")
    if unsafe_fixes is not None:
        overrides["unsafe_fixes"] = unsafe_fixes
    if build_arg:
        overrides["build_args"] = dict(
            _checked(config.check_build_arg, item, "--build-arg") for item in build_arg)
    if target is not None:
        overrides["target"] = _checked(config.check_target, target, "--target")
    if select:
        overrides["select"] = _checked(config.check_codes, select, "--select")
    if ignore:
        overrides["ignore"] = _checked(config.check_codes, ignore, "--ignore")
    if mappings:
        overrides["mappings"] = tuple(mappings)
    if context is not None:
        if not os.path.isdir(context):
            raise _UsageError(f"--context: {context}: not a directory")
        overrides["context"] = os.path.abspath(context)
    if jobs is not None and jobs < 1:
        raise _UsageError(f"--jobs: expected a number of processes, 1 or more, got {jobs}")
    rules: tuple[Rule, ...] | None = ctx.obj
    options = Options(
        write=write, check=check, diff=diff, quiet=quiet, color=color,
        stdin_filename=stdin_filename, overrides=overrides,
        output_format=(output_format or "text").strip().lower(),
        output_file=output_file, verbose=verbose or output_format is not None,
        jobs=jobs, rules=rules,
    )
    tune_gc()
    return run(list(paths or []), options)


@rules_app.command("rules", help=RULES_HELP)
def list_rules(
    output_format: Annotated[str, typer.Option(
        "--output-format", metavar="text|json", help="A table, or JSON.")] = "text",
) -> int:
    from rewriter.report import ruledocs  # only these two commands read the documentation

    docs = ruledocs.all_rules()
    if output_format == "json":
        rows = [{"code": d.code, "name": d.name, "fixable": d.fixable,
                 "applicability": d.applicability, "summary": d.summary} for d in docs]
        sys.stdout.write(json.dumps(rows, indent=2, sort_keys=True) + "\n")
    elif output_format == "text":
        sys.stdout.write(ruledocs.rules_table(docs))
    else:
        raise _UsageError(f"rules: --output-format: expected text or json, got {output_format!r}")
    return 0


@rules_app.command("rule", help="Print the documentation of one rule (by code or by name).")
def show_rule(
    codes: Annotated[Optional[list[str]], typer.Argument(
        metavar="CODE", help="e.g. DF001, or missing-nonroot-user", show_default=False)] = None,
) -> int:
    from rewriter.report import ruledocs  # only these two commands read the documentation

    if not codes or len(codes) != 1:
        raise _UsageError("rule: expected one rule code or name, e.g. 'dockfix rule DF001'")
    doc = ruledocs.find(codes[0])
    if doc is None:
        raise _UsageError(f"rule: unknown rule {codes[0]!r} (see 'dockfix rules')")
    sys.stdout.write(ruledocs.rule_text(doc))
    return 0


def main(argv: list[str] | None = None, rules: tuple[Rule, ...] | None = None) -> int:
    """The console entry point; returns the exit code.

    ``rules``: the rules to run instead of the registered ones (for tests and
    embedding)."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = typer.main.get_command(rules_app if args[:1] and args[0] in SUBCOMMANDS else app)
    try:
        if args[:1] == ["bot"]:
            # The pull-request bot has its own typer app and optional dependencies
            # (githubkit): imported only when it is asked for.
            from rewriter.bot.cli import main as bot

            return bot(args[1:])
        if args[:1] == ["lsp"]:
            # The language server: pygls and lsprotocol, an optional dependency,
            # imported only when it is asked for (rewriter/lsp/__init__.py).
            from rewriter.lsp import main as lsp

            return lsp(args[1:])
        code = command.main(args=args, prog_name="dockfix", standalone_mode=False, obj=rules)
        return code if isinstance(code, int) else 0
    except _UsageError as exc:
        sys.stderr.write(f"dockfix: error: {exc}\n")
        return 2
    except _CLICK_ERROR as exc:
        message = " ".join(exc.format_message().split("\n"))  # type: ignore[attr-defined]
        sys.stderr.write(f"dockfix: error: {message} (see 'dockfix --help')\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("dockfix: error: interrupted\n")
        return 130
    except Exception as exc:  # a bug: one line; the traceback too with DOCKFIX_DEBUG=1
        message = " ".join(str(exc).splitlines())
        try:
            if os.environ.get("DOCKFIX_DEBUG"):
                traceback.print_exc(file=sys.stderr)
            sys.stderr.write(f"dockfix: error: internal error: {type(exc).__name__}: {message}\n")
        except (OSError, ValueError, AttributeError):  # stderr closed or unwritable
            pass
        return 2

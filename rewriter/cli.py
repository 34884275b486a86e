"""The ``dockfix`` command: flags in, ``runner.run`` out.  The only typer import.

``main(argv)`` returns the exit code and never raises: a usage error is one
``dockfix: error:`` line on stderr and exit 2, like every other error.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, List, Optional

import typer

CHECK_HELP = (
    "Don't print the diff or write files; only set the exit code. "
    "Exit codes: 0 nothing would change (or it was all fixed / only shown); "
    "1 with --check, something would change; 2 an error (usage, unreadable file, "
    "not UTF-8, parse error, bad configuration, internal error), which wins over 1."
)

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Rewrite Dockerfiles so their containers run as a non-root user.",
)


class _UsageError(Exception):
    pass


def _version(value: bool) -> None:
    if value:
        from rewriter import __version__

        typer.echo(f"dockfix {__version__}")
        raise typer.Exit()


def _checked(check: Any, value: Any, flag: str) -> Any:
    try:
        return check(value)
    except ValueError as exc:
        raise _UsageError(f"{flag}: {exc}") from None


@app.command(
    help=(
        "Rewrite Dockerfiles so their containers run as a non-root user. "
        "PATH is a file, a directory (searched for Dockerfile, Dockerfile.*, *.Dockerfile, "
        "*.dockerfile, Containerfile, Containerfile.*), or '-' to read stdin and write "
        "the fixed Dockerfile to stdout. By default a unified diff is printed and "
        "nothing is written."
    ),
    no_args_is_help=False,
)
def dockfix(
    paths: Annotated[
        Optional[List[str]],
        typer.Argument(metavar="PATH", help="Files, directories, or '-' for stdin.",
                       show_default=False),
    ] = None,
    write: Annotated[
        bool, typer.Option("--write", help="Rewrite the files in place (atomically).")
    ] = False,
    check: Annotated[bool, typer.Option("--check", help=CHECK_HELP)] = False,
    diff: Annotated[
        bool,
        typer.Option("--diff", help="Print a unified diff to stdout (the default; "
                     "combine with --check)."),
    ] = False,
    unsafe_fixes: Annotated[
        Optional[bool],
        typer.Option("--unsafe-fixes/--no-unsafe-fixes",
                     help="Also apply fixes marked unsafe.", show_default=False),
    ] = None,
    uid: Annotated[
        Optional[int], typer.Option("--uid", metavar="INT",
                                    help="UID of the user dockfix creates [default: 10001].")
    ] = None,
    gid: Annotated[
        Optional[int], typer.Option("--gid", metavar="INT",
                                    help="GID of the group dockfix creates [default: 10001].")
    ] = None,
    user: Annotated[
        Optional[str], typer.Option("--user", metavar="NAME",
                                    help="Name of the user dockfix creates [default: appuser].")
    ] = None,
    group: Annotated[
        Optional[str], typer.Option("--group", metavar="NAME",
                                    help="Name of the group [default: appgroup].")
    ] = None,
    build_arg: Annotated[
        Optional[List[str]],
        typer.Option("--build-arg", metavar="KEY=VAL",
                     help="A build argument, as for docker build (repeatable)."),
    ] = None,
    target: Annotated[
        Optional[str], typer.Option("--target", metavar="STAGE",
                                    help="The stage that is run [default: the last].")
    ] = None,
    select: Annotated[
        Optional[List[str]],
        typer.Option("--select", metavar="CODES",
                     help="Only these rules: codes or prefixes, comma separated (repeatable)."),
    ] = None,
    ignore: Annotated[
        Optional[List[str]],
        typer.Option("--ignore", metavar="CODES",
                     help="Never these rules: codes or prefixes, comma separated (repeatable)."),
    ] = None,
    mappings: Annotated[
        Optional[List[str]],
        typer.Option("--mappings", metavar="FILE",
                     help="Extra image-family mappings, a TOML file (repeatable)."),
    ] = None,
    stdin_filename: Annotated[
        Optional[str],
        typer.Option("--stdin-filename", metavar="NAME",
                     help="The name of '-' in messages and for finding the configuration."),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only errors on stderr.")
    ] = False,
    color: Annotated[
        Optional[bool],
        typer.Option("--color/--no-color",
                     help="Color the diff [default: when stdout is a terminal and NO_COLOR "
                     "is unset].", show_default=False),
    ] = None,
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_version, is_eager=True,
                     help="Print the version and exit."),
    ] = None,
) -> int:
    from rewriter import config
    from rewriter.runner import Options, run

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
            _checked(config.check_build_arg, item, "--build-arg") for item in build_arg
        )
    if target is not None:
        overrides["target"] = _checked(config.check_target, target, "--target")
    if select:
        overrides["select"] = _checked(config.check_codes, select, "--select")
    if ignore:
        overrides["ignore"] = _checked(config.check_codes, ignore, "--ignore")
    if mappings:
        overrides["mappings"] = tuple(mappings)
    options = Options(
        write=write, check=check, diff=diff, quiet=quiet, color=color,
        stdin_filename=stdin_filename, overrides=overrides,
    )
    return run(paths or [], options)


def _click_exception() -> type[Exception]:
    """click's ``ClickException``, whether typer vendors click or depends on it."""
    for klass in typer.BadParameter.__mro__:
        if klass.__name__ == "ClickException":
            return klass
    return Exception  # pragma: no cover


def main(argv: Optional[List[str]] = None) -> int:
    """The console entry point; returns the exit code."""
    command = typer.main.get_command(app)
    click_exception = _click_exception()
    try:
        code = command.main(args=argv, prog_name="dockfix", standalone_mode=False)
    except _UsageError as exc:
        sys.stderr.write(f"dockfix: error: {exc}\n")
        return 2
    except click_exception as exc:
        message = " ".join(exc.format_message().split("\n"))  # type: ignore[attr-defined]
        sys.stderr.write(f"dockfix: error: {message} (see 'dockfix --help')\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("dockfix: error: interrupted\n")
        return 130
    except Exception as exc:  # a bug: still one line, never a traceback
        message = " ".join(str(exc).splitlines())
        sys.stderr.write(f"dockfix: error: internal error: {type(exc).__name__}: {message}\n")
        return 2
    return code if isinstance(code, int) else 0

"""The ``dockfix`` command: flags in, ``runner.run`` out.  The only typer import.

``main(argv)`` returns the exit code and never raises: a usage error is one
``dockfix: error:`` line on stderr and exit 2, like every other error.

The options are defined once, as data (``OPTIONS``).  Two readers use that
table: the typer command built from it (``_command``), which handles every
command line, and ``_quick``, which only recognises the plain ones (known long
and short options, ``--opt=value``, paths) and hands everything else
(``--help``, mistakes, bundled short flags, values that look like options) to
typer.  typer takes longer to import than dockfix takes to fix a small file,
and an editor runs dockfix on every save, so the common command lines never
import it.  Both readers produce the same values, and one function
(``_options``) turns those into ``runner.Options``; ``tests/test_cli.py``
checks that the two agree.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NamedTuple

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
    "pull-request bot (a file named rules, rule or bot: pass it as ./rules)."
)
#: ``dockfix rules`` / ``dockfix rule CODE``: recognised as the first argument only.
SUBCOMMANDS = ("rules", "rule")
SUBCOMMAND_HELP = """\
Usage: dockfix rules [--output-format text|json]
       dockfix rule CODE

  rules  List every rule: code, name, whether it can fix, and its fix's default
         applicability (safe: applied by default; unsafe: with --unsafe-fixes;
         display-only: shown, never applied).
  rule   Print the documentation of one rule (by code, e.g. DF001, or by name,
         e.g. missing-nonroot-user), in Markdown.

A file named 'rules' or 'rule' is fixed with 'dockfix ./rules'.
"""

#: The kinds of option: ``flag`` (``--write``: True when given), ``switch``
#: (``--color/--no-color``: True, False, or None when neither is given),
#: ``value`` (``--uid 5``; the last one given wins), ``multi`` (``--select``,
#: repeatable: a list, or None), ``version`` (prints the version and exits).
FLAG, SWITCH, VALUE, MULTI, VERSION = "flag", "switch", "value", "multi", "version"


class Opt(NamedTuple):
    dest: str  #: the parameter name
    flags: tuple[str, ...]  #: long name first; a switch's second name is its "no" form
    kind: str
    help: str
    type: type = str  #: of a value (``int`` or ``str``)
    metavar: str = ""
    default: Any = None


OPTIONS: tuple[Opt, ...] = (
    Opt("write", ("--write",), FLAG, "Rewrite the files in place (atomically)."),
    Opt("check", ("--check",), FLAG, CHECK_HELP),
    Opt("diff", ("--diff",), FLAG,
        "Print a unified diff to stdout (the default; combine with --check)."),
    Opt("unsafe_fixes", ("--unsafe-fixes", "--no-unsafe-fixes"), SWITCH,
        "Also apply fixes marked unsafe."),
    Opt("uid", ("--uid",), VALUE, "UID of the user dockfix creates [default: 10001].",
        int, "INT"),
    Opt("gid", ("--gid",), VALUE, "GID of the group dockfix creates [default: 10001].",
        int, "INT"),
    Opt("user", ("--user",), VALUE, "Name of the user dockfix creates [default: appuser].",
        str, "NAME"),
    Opt("group", ("--group",), VALUE, "Name of the group [default: appgroup].", str, "NAME"),
    Opt("build_arg", ("--build-arg",), MULTI,
        "A build argument, as for docker build (repeatable).", str, "KEY=VAL"),
    Opt("target", ("--target",), VALUE, "The stage that is run [default: the last].",
        str, "STAGE"),
    Opt("select", ("--select",), MULTI,
        "Only these rules: codes or prefixes, comma separated (repeatable).", str, "CODES"),
    Opt("ignore", ("--ignore",), MULTI,
        "Never these rules: codes or prefixes, comma separated (repeatable).", str, "CODES"),
    Opt("mappings", ("--mappings",), MULTI,
        "Extra image-family mappings, a TOML file (repeatable).", str, "FILE"),
    Opt("context", ("--context",), VALUE,
        "The build context directory, as for docker build [default: the repository "
        "around each file].", str, "DIR"),
    Opt("stdin_filename", ("--stdin-filename",), VALUE,
        "The name of '-' in messages and for finding the configuration.", str, "NAME"),
    Opt("output_format", ("--output-format",), VALUE,
        "text: diffs on stdout, messages on stderr (the default); or one "
        "document for the whole run on stdout: json, sarif (GitHub code "
        "scanning), github (workflow annotations), markdown (a pull-request "
        "body). Exit codes are the same for every format. Given with '-', it also "
        "asks for the findings, as --verbose does.", str, "FORMAT"),
    Opt("output_file", ("--output-file", "-o"), VALUE,
        "Write what would go to stdout to FILE instead.", str, "FILE"),
    Opt("jobs", ("--jobs", "-j"), VALUE,
        "Fix files in N processes at once [default: one per CPU]; 1 for no extra "
        "processes. Output is the same, in the same order, whatever N is.", int, "N"),
    Opt("quiet", ("--quiet", "-q"), FLAG, "Print only errors on stderr."),
    Opt("verbose", ("--verbose", "-v"), FLAG,
        "With '-': also print the findings, declines and summary on stderr (by "
        "default a successful '-' prints only the fixed file, so that an editor's "
        "filter gets nothing else)."),
    Opt("color", ("--color", "--no-color"), SWITCH,
        "Color the diff [default: when stdout is a terminal and NO_COLOR is unset]."),
    Opt("version", ("--version",), VERSION, "Print the version and exit."),
)


class _UsageError(Exception):
    pass


def _checked(check: Any, value: Any, flag: str) -> Any:
    try:
        return check(value)
    except ValueError as exc:
        raise _UsageError(f"{flag}: {exc}") from None


def _options(values: dict[str, Any], rules: Any = None) -> tuple[list[str], Any]:
    """The paths and ``runner.Options`` of the values of ``OPTIONS`` (and ``paths``)."""
    from rewriter.io import config
    from rewriter.cli.runner import Options

    v = values
    overrides: dict[str, Any] = {}
    if v["uid"] is not None:
        overrides["uid"] = _checked(config.check_uid, v["uid"], "--uid")
    if v["gid"] is not None:
        overrides["gid"] = _checked(config.check_gid, v["gid"], "--gid")
    if v["user"] is not None:
        overrides["user"] = _checked(config.check_name, v["user"], "--user")
    if v["group"] is not None:
        overrides["group"] = _checked(config.check_name, v["group"], "--group")
    if v["unsafe_fixes"] is not None:
        overrides["unsafe_fixes"] = v["unsafe_fixes"]
    if v["build_arg"]:
        overrides["build_args"] = dict(
            _checked(config.check_build_arg, item, "--build-arg") for item in v["build_arg"]
        )
    if v["target"] is not None:
        overrides["target"] = _checked(config.check_target, v["target"], "--target")
    if v["select"]:
        overrides["select"] = _checked(config.check_codes, v["select"], "--select")
    if v["ignore"]:
        overrides["ignore"] = _checked(config.check_codes, v["ignore"], "--ignore")
    if v["mappings"]:
        overrides["mappings"] = tuple(v["mappings"])
    if v["context"] is not None:
        if not os.path.isdir(v["context"]):
            raise _UsageError(f"--context: {v['context']}: not a directory")
        overrides["context"] = os.path.abspath(v["context"])
    if v["jobs"] is not None and v["jobs"] < 1:
        raise _UsageError(f"--jobs: expected a number of processes, 1 or more, got {v['jobs']}")
    options = Options(
        write=v["write"], check=v["check"], diff=v["diff"], quiet=v["quiet"], color=v["color"],
        stdin_filename=v["stdin_filename"], overrides=overrides,
        output_format=(v["output_format"] or "text").strip().lower(),
        output_file=v["output_file"], verbose=v["verbose"] or v["output_format"] is not None,
        jobs=v["jobs"], rules=rules,
    )
    return list(v["paths"] or []), options


# --- the quick reader ---------------------------------------------------------


def _quick(argv: list[str]) -> dict[str, Any] | None:
    """The values of a plain command line, as typer would give them; None when
    typer must read it (help, a mistake, anything not plainly one option)."""
    by_flag = {}
    for o in OPTIONS:
        for i, f in enumerate(o.flags):
            by_flag[f] = (o, not (o.kind == SWITCH and i == 1))
    values: dict[str, Any] = {o.dest: False if o.kind == FLAG else o.default for o in OPTIONS}
    paths: list[str] = []
    i, n = 0, len(argv)
    while i < n:
        arg = argv[i]
        i += 1
        if arg == "--":
            paths.extend(argv[i:])
            break
        if arg == "-" or (arg and not arg.startswith("-")):
            paths.append(arg)
            continue
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name not in by_flag:
            return None
        opt, yes = by_flag[name]
        if opt.kind in (FLAG, SWITCH, VERSION):
            if eq:
                return None
            if opt.kind == VERSION:
                return {"version": True}
            values[opt.dest] = yes
            continue
        if not eq:
            if i == n:
                return None
            value = argv[i]
            i += 1
        if value.startswith("-") or (opt.type is int and not (value.isascii() and value.isdigit())):
            return None
        item = int(value) if opt.type is int else value
        if opt.kind == MULTI:
            values[opt.dest] = [*(values[opt.dest] or []), item]
        else:
            values[opt.dest] = item
    values["paths"] = paths or None
    return values


# --- the typer command ------------------------------------------------------


def _command() -> Any:
    """The typer (click) command for ``OPTIONS``: its callback returns the values."""
    import inspect
    from typing import Annotated, List, Optional

    import typer

    def version(value: bool) -> None:
        if value:
            from rewriter import __version__

            typer.echo(f"dockfix {__version__}")
            raise typer.Exit()

    def annotation(o: Opt) -> Any:
        if o.kind == FLAG:
            return Annotated[bool, typer.Option(*o.flags, help=o.help)]
        if o.kind == SWITCH:
            return Annotated[Optional[bool], typer.Option("/".join(o.flags), help=o.help,
                                                          show_default=False)]
        if o.kind == VERSION:
            return Annotated[Optional[bool], typer.Option(*o.flags, help=o.help,
                                                          callback=version, is_eager=True)]
        kind = List[o.type] if o.kind == MULTI else o.type  # type: ignore[name-defined]
        return Annotated[Optional[kind], typer.Option(*o.flags, metavar=o.metavar,
                                                      help=o.help)]

    kw = inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [
        inspect.Parameter("paths", kw, default=None, annotation=Annotated[
            Optional[List[str]],
            typer.Argument(metavar="PATH", help="Files, directories, or '-' for stdin.",
                           show_default=False),
        ]),
        *(inspect.Parameter(o.dest, kw, default=False if o.kind == FLAG else o.default,
                            annotation=annotation(o)) for o in OPTIONS),
    ]

    def dockfix(**values: Any) -> dict[str, Any]:
        return values

    dockfix.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    dockfix.__annotations__ = {p.name: p.annotation for p in params}
    app = typer.Typer(
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
        help="Rewrite Dockerfiles so their containers run as a non-root user.",
    )
    app.command(help=COMMAND_HELP, no_args_is_help=False)(dockfix)
    return typer.main.get_command(app)


def _click_exception() -> type[Exception]:
    """click's ``ClickException``, whether typer vendors click or depends on it."""
    import typer

    for klass in typer.BadParameter.__mro__:
        if klass.__name__ == "ClickException":
            return klass
    return Exception  # pragma: no cover


def _read(argv: list[str]) -> dict[str, Any] | int:
    """The values of ``argv`` (typer's reading), or the exit code when typer
    already did everything (``--help``, ``--version``); raises click's errors."""
    code = _command().main(args=argv, prog_name="dockfix", standalone_mode=False)
    return code if isinstance(code, dict) else (code if isinstance(code, int) else 0)


def _subcommand(args: list[str]) -> int:
    """``dockfix rules [--output-format F]`` or ``dockfix rule CODE``."""
    from rewriter.report import ruledocs

    name, rest = args[0], args[1:]
    if "-h" in rest or "--help" in rest:
        sys.stdout.write(SUBCOMMAND_HELP)
        return 0
    if name == "rule":
        if len(rest) != 1 or rest[0].startswith("-"):
            raise _UsageError("rule: expected one rule code or name, e.g. 'dockfix rule DF001'")
        doc = ruledocs.find(rest[0])
        if doc is None:
            raise _UsageError(f"rule: unknown rule {rest[0]!r} (see 'dockfix rules')")
        sys.stdout.write(ruledocs.rule_text(doc))
        return 0
    fmt = "text"
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg.startswith("--output-format="):
            fmt = arg.partition("=")[2]
        elif arg == "--output-format" and i + 1 < len(rest):
            fmt, i = rest[i + 1], i + 1
        else:
            raise _UsageError(f"rules: unexpected argument {arg!r} (see 'dockfix rules --help')")
        i += 1
    docs = ruledocs.all_rules()
    if fmt == "json":
        import json

        rows = [{"code": d.code, "name": d.name, "fixable": d.fixable,
                 "applicability": d.applicability, "summary": d.summary} for d in docs]
        sys.stdout.write(json.dumps(rows, indent=2, sort_keys=True) + "\n")
    elif fmt == "text":
        sys.stdout.write(ruledocs.rules_table(docs))
    else:
        raise _UsageError(f"rules: --output-format: expected text or json, got {fmt!r}")
    return 0


def main(argv: list[str] | None = None, rules: Any = None) -> int:
    """The console entry point; returns the exit code.

    ``rules``: the rules to run instead of the registered ones (a tuple of
    ``rewriter.core.rules.Rule``; for tests and embedding)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args[:1] == ["bot"]:  # the pull-request bot: its own typer group
            from rewriter.bot.cli import main as bot

            return bot(args[1:])
        if args[:1] and args[0] in SUBCOMMANDS:
            return _subcommand(args)
        values = _quick(args)
        if values is None:
            try:
                read = _read(args)
            except Exception as exc:
                if isinstance(exc, _click_exception()):
                    message = " ".join(exc.format_message().split("\n"))  # type: ignore[attr-defined]
                    sys.stderr.write(f"dockfix: error: {message} (see 'dockfix --help')\n")
                    return 2
                raise
            if isinstance(read, int):
                return read
            values = read
        elif values.get("version"):
            from rewriter import __version__

            sys.stdout.write(f"dockfix {__version__}\n")
            return 0
        from rewriter.cli.runner import run, tune_gc

        paths, options = _options(values, rules)
        tune_gc()
        return run(paths, options)
    except _UsageError as exc:
        sys.stderr.write(f"dockfix: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("dockfix: error: interrupted\n")
        return 130
    except Exception as exc:  # a bug: one line; the traceback too with DOCKFIX_DEBUG=1
        import os
        import traceback

        message = " ".join(str(exc).splitlines())
        try:
            if os.environ.get("DOCKFIX_DEBUG"):
                traceback.print_exc(file=sys.stderr)
            sys.stderr.write(f"dockfix: error: internal error: {type(exc).__name__}: {message}\n")
        except (OSError, ValueError, AttributeError):  # stderr closed or unwritable
            pass
        return 2

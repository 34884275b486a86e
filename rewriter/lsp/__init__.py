"""The language server front end: ``dockfix lsp`` (see ``server``).

``main`` imports pygls and lsprotocol only when the server starts: they are an
optional dependency (``pip install 'dockfix[lsp]'``), and the command that
fixes files never needs them.
"""

from __future__ import annotations

import sys

USAGE = """\
Usage: dockfix lsp [--stdio]

  Run the dockfix language server on stdin and stdout (the Language Server
  Protocol): diagnostics, quick fixes, "fix all" and hover for Dockerfiles,
  with the configuration and build context the command uses.  Needs the
  'lsp' extra: pip install 'dockfix[lsp]'.  See docs/editors.md.
"""


def main(args: list[str]) -> int:
    """Serve over stdio until the client says exit; the exit code."""
    if "-h" in args or "--help" in args:
        sys.stdout.write(USAGE)
        return 0
    unknown = [a for a in args if a != "--stdio"]
    if unknown:
        sys.stderr.write(f"dockfix: error: lsp: unexpected argument {unknown[0]!r} "
                         "(see 'dockfix lsp --help')\n")
        return 2
    try:
        # optional and heavy (pygls, lsprotocol, cattrs): imported here only
        from rewriter.lsp.server import server
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in ("pygls", "lsprotocol", "cattrs", "attrs"):
            raise
        sys.stderr.write(f"dockfix: error: lsp: {exc.name or 'pygls'} is not installed; "
                         "install the 'lsp' extra: pip install 'dockfix[lsp]'\n")
        return 2
    import logging
    import os

    # The log goes to stderr (stdout is the protocol); DOCKFIX_LSP_LOG=debug
    # shows every message.
    level = os.environ.get("DOCKFIX_LSP_LOG", "warning").upper()
    logging.basicConfig(level=getattr(logging, level, logging.WARNING), stream=sys.stderr,
                        format="%(name)s: %(levelname)s: %(message)s")
    server.start_io()
    return 0

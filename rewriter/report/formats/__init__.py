"""Output formats: pure functions from the outcomes of a run to text.

``text`` is what dockfix prints file by file (diffs on stdout, one message per
line on stderr; ``text.messages``).  The others turn the whole run into one
document, printed once at the end (``render``):

* ``json``: one object per file: status, stages, findings with positions and
  fixes, declines and the diff (schema: ``rewriter/data/dockfix-output.schema.json``);
* ``sarif``: SARIF 2.1.0, for GitHub code scanning;
* ``github``: GitHub Actions workflow commands (annotations);
* ``markdown``: a pull-request body.

Each module has ``render(outcomes, rules) -> str``: ``outcomes`` are
``rewriter.report.outcome.FileOutcome``s in the order the files were found, ``rules``
the ``RuleDoc`` of each rule by code.  They do no I/O and import nothing
beyond the standard library and ``rewriter.report.outcome``/``rewriter.report.ruledocs``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from rewriter.report.outcome import FileOutcome

if TYPE_CHECKING:
    from rewriter.report.ruledocs import RuleDoc

FORMATS = ("text", "json", "sarif", "github", "markdown")  #: ``--output-format`` values
DOCUMENTS = FORMATS[1:]  #: the formats that print one document for the run


def render(name: str, outcomes: Sequence[FileOutcome],
           rules: Mapping[str, RuleDoc] | None = None) -> str:
    """The document of format ``name`` (one of ``DOCUMENTS``) for ``outcomes``."""
    if name not in DOCUMENTS:
        raise ValueError(f"not a document format: {name!r}")
    if rules is None:
        # Here, not at the top: the text format (every run's default) shows no
        # rule documentation, and reading it costs milliseconds at start.
        from rewriter.report.ruledocs import all_rules

        rules = {d.code: d for d in all_rules()}
    module = importlib.import_module(f"rewriter.report.formats.{name}")
    text: str = module.render(outcomes, rules)
    return text

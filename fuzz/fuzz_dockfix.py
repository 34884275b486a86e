"""Coverage-guided fuzzing of dockfix's parser, engine and per-file runner (atheris).

    python fuzz/fuzz_dockfix.py [libFuzzer options] [CORPUS_DIR ...]

Each input is a Dockerfile's bytes; its length picks the settings (unsafe
fixes on or off, a ``--target``, other ids), so that seed files stay what they
are.  What must hold, for any bytes:

* the runner never fails with an internal error (a bug): undecodable, binary,
  unparsable or refused input gives a one-line error, nothing else;
* what parses renders back byte for byte;
* a fixed output parses, renders back, and is left alone by a second run
  (the fixer is idempotent);
* nothing raises but ``ParseError`` from ``parse`` and ``fix_text``.

A failing input is written by libFuzzer to ``crash-<sha1>``; add it to
``tests/dockerfile/test_fuzz_regressions.py``.  ``fuzz/seeds/`` holds a few small seeds;
``make fuzz`` runs a long session seeded with them and the test fixtures; CI
runs a short one (``tests/dockerfile/test_fuzz.py``).
"""

from __future__ import annotations

import os
import sys

import atheris

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

with atheris.instrument_imports(include=["rewriter"]):
    # everything the runner imports lazily too, so coverage guides into it
    import rewriter.report.diffing
    import rewriter.dockerfile.families
    import rewriter.report.formats.text
    import rewriter.dockerfile.model
    import rewriter.report.outcome
    import rewriter.dockerfile.pragmas
    import rewriter.dockerfile.templates  # noqa: F401
    from rewriter.cli import runner
    from rewriter.core.engine import fix_text
    from rewriter.core.settings import Settings
    from rewriter.dockerfile.syntax import ParseError, parse

_SETTINGS = (
    Settings(),
    Settings(unsafe_fixes=True),
    Settings(target="build"),
    Settings(uid=65532, gid=0, user="app", group="root"),
)
_OPTIONS = runner.Options()
_CONFIGS = runner.new_configs(_OPTIONS)


def check(data: bytes) -> None:
    """Raise AssertionError (or any exception) when dockfix misbehaves on ``data``."""
    settings = _SETTINGS[len(data) % len(_SETTINGS)]
    body = data

    outcome, _ = runner.process_stdin(body, _OPTIONS, _CONFIGS)
    assert outcome.status != "error" or "internal error" not in (outcome.error or ""), \
        outcome.error
    assert outcome.error is None or "\n" not in outcome.error, outcome.error

    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return
    try:
        df = parse(text)
    except ParseError:
        return
    assert df.render() == text, "parse -> render is not the identity"
    result = fix_text(text, settings)
    if result.changed:
        out = parse(result.fixed)
        assert out.render() == result.fixed
        again = fix_text(result.fixed, settings)
        assert not again.changed, "not idempotent:\n" + result.fixed


def TestOneInput(data: bytes) -> None:  # noqa: N802 - atheris' name
    check(data)


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

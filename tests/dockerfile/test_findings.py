"""``Result.findings``: every violation, once, placed in the input; ``map_back``."""

from __future__ import annotations

import pytest

from rewriter.core.edits import Edit, Fix, apply_fixes, map_back
from rewriter.core.engine import fix_text
from rewriter.core.settings import Settings

CELERY = ('FROM python:3.12-slim\nENV C_FORCE_ROOT=1\nCOPY . /app\n'
          'RUN pip install --no-cache-dir /app\nCMD ["celery", "-A", "proj", "worker"]\n')


@pytest.mark.parametrize(("pos", "right", "expected"), [
    (0, False, (0, True)),
    (2, False, (2, True)),  # before the insertion
    (3, False, (3, True)),  # at its start
    (5, False, (3, False)),  # inside the inserted text
    (5, True, (3, False)),
    (6, False, (3, True)),  # at its end
    (7, False, (4, True)),
    (8, False, (5, True)),  # at the start of "XY", which replaced [5, 8)
    (9, False, (5, False)),  # inside it
    (9, True, (8, False)),
    (10, False, (8, True)),  # at its end
    (11, False, (9, True)),  # after it
])
def test_map_back(pos: int, right: bool, expected: tuple[int, bool]) -> None:
    text = "abcdefghij"
    edits = (Edit.insert(3, "123"), Edit(5, 8, "XY"))
    new, _ = apply_fixes(text, [Fix("t", edits)])
    assert new == "abc123deXYij"
    assert map_back(edits, pos, right=right) == expected


def test_map_back_over_a_deletion() -> None:
    edits = (Edit.delete(2, 5),)  # "abcdefg" -> "abfg"
    assert map_back(edits, 2) == (2, True)
    assert map_back(edits, 2, right=True) == (5, True)
    assert map_back(edits, 3) == (6, True)


def test_findings_of_one_pass_are_the_violations_of_the_input() -> None:
    text = "FROM python:3.12-slim\nCOPY app /app\nRUN chown -R 10001:10001 /app\nCMD [\"app\"]\n"
    result = fix_text(text)
    assert result.changed
    assert [f.violation for f in result.findings if f.applied] == result.applied
    for f in result.findings:
        assert f.round == 0 and f.span == f.violation.span
        assert f.edits == f.violation.fix.edits


def test_a_later_pass_finding_is_placed_in_the_input() -> None:
    """DF005 appears only once DF001 made the stage non-root (the second pass);
    its span and edit are on the input's ENV line."""
    result = fix_text(CELERY)
    codes = [(f.violation.code, f.round, f.applied) for f in result.findings]
    assert codes == [("DF001", 0, True), ("DF005", 1, True)]
    celery = result.findings[1]
    env = CELERY.index("ENV")
    assert celery.span.start == env
    assert celery.edits == (Edit.delete(env, CELERY.index("COPY")),)


def test_remaining_findings() -> None:
    text = 'FROM python:3.12-slim\nCOPY app /app\nRUN chown -R 1:1 /app\nUSER 1\nEXPOSE 80\nCMD ["app"]\n'
    result = fix_text(text)
    remaining = [f for f in result.findings if f.remaining]
    assert [f.violation for f in remaining] == result.remaining
    (port,) = remaining
    assert port.violation.code == "DF006" and not port.applied
    assert text[port.span.start:port.span.end] == "EXPOSE 80\n"


def test_unfixed_file_findings_are_all_remaining() -> None:
    text = 'FROM python:3.12-slim\nRUN useradd --uid 10001 app\nUSER app\nCMD ["app"]\n'
    result = fix_text(text)
    assert not result.changed
    assert [f.violation for f in result.findings] == result.remaining
    assert all(f.remaining and not f.applied for f in result.findings)
    fixed = fix_text(text, Settings(unsafe_fixes=True))
    assert [(f.violation.code, f.applied) for f in fixed.findings] == [("DF007", True)]


def test_refused_fix_keeps_the_input_findings() -> None:
    from rewriter.core.rules import Rule, Violation
    from rewriter.core.source import Span

    def check(ctx):  # type: ignore[no-untyped-def]
        yield Violation("DF997", "breaker", Span(0, 4), "adds a stage",
                        Fix("Break it", (Edit.insert(0, "FROM a\n"),)))

    rule = Rule("DF997", "breaker", "dockerfile", 0, None, "", check)
    result = fix_text("FROM alpine\nCMD x\n", rules=(rule,))
    assert result.error and not result.changed
    assert [(f.violation.code, f.applied, f.remaining) for f in result.findings] == [
        ("DF997", False, True)]

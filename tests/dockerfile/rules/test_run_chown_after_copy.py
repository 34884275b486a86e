"""DF002 run-chown-after-copy: fixture pairs, small string pairs, no-ops."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import missing

from rewriter.dockerfile import crosscheck
from rewriter.core.edits import Applicability
from rewriter.core.engine import fix_text as fix_with
from rewriter.core.rules import rule_of
from rewriter.dockerfile.rules import LANGUAGE, run_chown_after_copy
from rewriter.dockerfile.rules._types import Violation
from rewriter.core.settings import Settings

FIXTURES = Path(__file__).parents[2] / "fixtures" / "rules" / "run_chown_after_copy"
CASES = sorted(FIXTURES.glob("*.before.Dockerfile"))
UNSAFE = Settings(unsafe_fixes=True)


RULE = rule_of(run_chown_after_copy, LANGUAGE)


def fix_text(text: str, settings: Settings | None = None):  # type: ignore[no-untyped-def]
    """The engine with this rule only."""
    return fix_with(text, settings, rules=(RULE,))


def _fix(text: str, settings: Settings | None = None) -> str:
    result = fix_text(text, settings)
    assert result.error is None, result.error
    return result.fixed


def _violations(text: str) -> list[Violation]:
    result = fix_text(text)
    return result.applied + result.remaining


def _newlines(text: str) -> tuple[int, int]:
    crlf = text.count("\r\n")
    return crlf, text.count("\n") - crlf


def test_there_are_enough_fixtures() -> None:
    assert len(CASES) >= 12


@pytest.mark.parametrize("before", CASES, ids=lambda p: p.name[: -len(".before.Dockerfile")])
def test_fixture(before: Path) -> None:
    text = before.read_bytes().decode("utf-8")
    after_path = before.with_name(before.name.replace(".before.", ".after."))
    expected = after_path.read_bytes().decode("utf-8") if after_path.exists() else text
    fixed = _fix(text)
    assert fixed == expected
    assert _fix(fixed) == fixed, "not idempotent"
    crlf, lf = _newlines(text)
    out_crlf, out_lf = _newlines(fixed)
    assert (bool(out_crlf), bool(out_lf)) == (bool(crlf), bool(lf)) or fixed == text
    if fixed != text:
        if not crosscheck.available():
            missing("BuildKit's parser (PyPI `dockerfile`) is not installed")
        assert crosscheck.buildkit_accepts(fixed)
        assert crosscheck.compare(fixed) == []


D = "FROM debian:bookworm-slim\n"


@pytest.mark.parametrize(
    ("s", "expected"),
    (
        pytest.param(
            D + "COPY app.py /app/\nRUN chown -R 10001:10001 /app\n",
            D + "COPY --chown=10001:10001 app.py /app/\n",
            id="whole RUN",
        ),
        pytest.param(
            D + "COPY a /app\nRUN chown -R '1:2' '/app'\n",
            D + "COPY --chown=1:2 a /app\n",
            id="quoted owner and path",
        ),
        pytest.param(
            D + "COPY a /app\nRUN chown --recursive 1:2 /app/\n",
            D + "COPY --chown=1:2 a /app\n",
            id="--recursive, trailing slash",
        ),
        pytest.param(
            D + "COPY a /app\nRUN chown -Rh 1:2 /app\n",
            D + "COPY --chown=1:2 a /app\n",
            id="-Rh",
        ),
        pytest.param(
            D + "COPY a /app\nRUN chown 1:2 -R /app\n",
            D + "COPY --chown=1:2 a /app\n",
            id="option after the owner",
        ),
        pytest.param(
            D + "COPY a /app\nRUN echo a && chown -R 1:2 /app && echo b\n",
            D + "COPY --chown=1:2 a /app\nRUN echo a && echo b\n",
            id="middle of && chain on one line",
        ),
        pytest.param(
            D + "COPY a /app\nRUN chown -R 1:2 /app && echo b\n",
            D + "COPY --chown=1:2 a /app\nRUN echo b\n",
            id="first of && chain on one line",
        ),
        pytest.param(
            D + "COPY a /app\nRUN chown -R 1:2 /app && \\\n    echo b\n",
            D + "COPY --chown=1:2 a /app\nRUN echo b\n",
            id="first segment, && at the end of the line",
        ),
        pytest.param(
            D + "COPY a /x\nCOPY b /y\nRUN chown -R 1:2 /x && chown -R 3:4 /y\n",
            D + "COPY --chown=1:2 a /x\nCOPY --chown=3:4 b /y\n",
            id="two chowns in one RUN",
        ),
        pytest.param(
            D + "WORKDIR /srv\nCOPY a app\nRUN chown -R 1:2 app\n",
            D + "WORKDIR /srv\nCOPY --chown=1:2 a app\n",
            id="relative paths resolved against WORKDIR",
        ),
        pytest.param(
            D + "COPY a /app\nWORKDIR /app\nRUN chown -R 1:2 .\n",
            D + "COPY --chown=1:2 a /app\nWORKDIR /app\n",
            id="WORKDIR after the COPY",
        ),
        pytest.param(
            D + "ENV APP=/app\nCOPY a $APP\nRUN chown -R 1:2 \"$APP\"\n",
            D + "ENV APP=/app\nCOPY --chown=1:2 a $APP\n",
            id="variable path",
        ),
        pytest.param(
            D + 'COPY ["a", "/app"]\nRUN chown -R 1:2 /app\n',
            D + 'COPY --chown=1:2 ["a", "/app"]\n',
            id="JSON-form COPY",
        ),
        pytest.param(
            D + "COPY --link a /app\nRUN chown -R 1:2 /app\n",
            D + "COPY --link --chown=1:2 a /app\n",
            id="--link into /",
        ),
        pytest.param(
            D + "RUN useradd app\nCOPY a /app\nRUN chown -R app:app /app\n",
            D + "RUN useradd app\nCOPY --chown=app:app a /app\n",
            id="useradd makes a same-named group",
        ),
        pytest.param(
            "FROM busybox\nRUN adduser -D app\nCOPY a /app\nRUN chown -R app:app /app\n",
            "FROM busybox\nRUN adduser -D app\nCOPY --chown=app:app a /app\n",
            id="busybox adduser -D makes a same-named group",
        ),
        pytest.param(
            D + "RUN addgroup --system web && useradd -g web app\nCOPY a /app\n"
            "RUN chown -R 1000:web /app\n",
            D + "RUN addgroup --system web && useradd -g web app\nCOPY --chown=1000:web a /app\n",
            id="numeric user, created group",
        ),
        pytest.param(
            D + "COPY a /app\nUSER 10001\nRUN true\nUSER root\nRUN chown -R 1:2 /app\n",
            D + "COPY --chown=1:2 a /app\nUSER 10001\nRUN true\nUSER root\n",
            id="unrelated RUN between",
        ),
        pytest.param(
            D + "COPY a /app\n# dockfix: ignore=DF001\nRUN chown -R 1:2 /app\n",
            D + "COPY --chown=1:2 a /app\n# dockfix: ignore=DF001\n",
            id="pragma for another rule",
        ),
    ),
)
def test_fix(s: str, expected: str) -> None:
    assert _fix(s) == expected
    assert _fix(expected) == expected


@pytest.mark.parametrize(
    ("s", "expected"),
    (
        pytest.param(
            D + "WORKDIR /app\nCOPY . .\nRUN chown -R 1:2 /app\n",
            D + "WORKDIR /app\nCOPY --chown=1:2 . .\n",
            id="WORKDIR created the directory",
        ),
        pytest.param(
            D + "RUN mkdir -p /app\nCOPY a /app/\nRUN chown -R 1:2 /app\n",
            D + "RUN mkdir -p /app\nCOPY --chown=1:2 a /app/\n",
            id="mkdir created the directory",
        ),
        pytest.param(
            D + "COPY bin/ /usr/local/bin/\nRUN chown -R 1:2 /usr/local/bin\n",
            D + "COPY --chown=1:2 bin/ /usr/local/bin/\n",
            id="a directory every image has",
        ),
        pytest.param(
            D + "COPY a /app\nRUN chown -R 1000 /app\n",
            D + "COPY --chown=1000 a /app\n",
            id="owner without group",
        ),
        pytest.param(
            D + "COPY a /app\nRUN chown 1:2 /app\n",
            D + "COPY --chown=1:2 a /app\n",
            id="not recursive",
        ),
        pytest.param(
            D + "COPY a /app\nRUN chown -v -R 1:2 /app\n",
            D + "COPY --chown=1:2 a /app\n",
            id="other flags",
        ),
        pytest.param(
            D + "COPY a /app\nRUN chown -R 1:2 /app; echo b\n",
            D + "COPY --chown=1:2 a /app\nRUN echo b\n",
            id="joined with ;",
        ),
        pytest.param(
            D + "COPY a /app\nRUN echo a || echo b && chown -R 1:2 /app\n",
            D + "COPY --chown=1:2 a /app\nRUN echo a || echo b\n",
            id="|| in the chain",
        ),
        pytest.param(
            D + "COPY a /app\nRUN echo a \\\n# why\n    && chown -R 1:2 /app\n",
            D + "COPY --chown=1:2 a /app\nRUN echo a\n",
            id="comment in the deleted lines",
        ),
        pytest.param(
            D + "COPY a /app\nRUN chown -R 1:2 /app \\\n# own it\n    && echo b\n",
            D + "COPY --chown=1:2 a /app\nRUN echo b\n",
            id="comment before the next command",
        ),
        pytest.param(
            D + "COPY a /app\nRUN chown -R 1:2 \\\n\n    /app\n",
            D + "COPY --chown=1:2 a /app\n",
            id="blank line inside the deleted RUN",
        ),
        pytest.param(
            D + "COPY a /opt/app/bin\nRUN chown -R 1:2 /opt/app/bin\n",
            D + "COPY --chown=1:2 a /opt/app/bin\n",
            id="parent may be created by the COPY",
        ),
        pytest.param(
            "FROM busybox\nCOPY a /opt/app\nRUN chown -R 1:2 /opt/app\n",
            "FROM busybox\nCOPY --chown=1:2 a /opt/app\n",
            id="busybox has no /opt",
        ),
        pytest.param(
            D + "COPY --link a /opt/app\nRUN chown -R 1:2 /opt/app\n",
            D + "COPY --link --chown=1:2 a /opt/app\n",
            id="--link re-owns parents",
        ),
    ),
)
def test_unsafe_fix(s: str, expected: str) -> None:
    assert _fix(s) == s
    assert _fix(s, UNSAFE) == expected
    assert _fix(expected, UNSAFE) == expected
    (v,) = _violations(s)
    assert v.fix is not None and v.fix.applicability is Applicability.UNSAFE
    assert "(unsafe: " in v.fix.title


@pytest.mark.parametrize(
    "s",
    (
        pytest.param(D + "COPY a /app\nRUN chown -R 1:2 /app/*\n", id="glob"),
        pytest.param(D + "COPY a /app\nRUN chown -R 1:2 /ap?\n", id="question mark"),
        pytest.param(D + "COPY a /app\nRUN chown -R 1:2 $NOPE\n", id="unresolved path"),
        pytest.param(D + "COPY a /app\nRUN chown -R $NOPE:1 /app\n", id="unresolved owner"),
        pytest.param(D + "COPY a /app\nRUN chown -R '$U:1' /app\n", id="single-quoted $"),
        pytest.param(D + "COPY a /app\nRUN chown -R 1:2 /app /srv\n", id="one path has no COPY"),
        pytest.param(D + "COPY a /app\nRUN chown -R 1:2 /srv\n", id="no COPY to the path"),
        pytest.param(D + "COPY a /app/x\nRUN chown -R 1:2 /app\n", id="COPY below the path"),
        pytest.param(D + "COPY a /app\nRUN chown -R 1:2 /app && chmod -R g+w /app\n",
                     id="chmod in the same RUN"),
        pytest.param(D + "COPY a /app\nRUN chown -R 1:2 /app | tee x\n", id="pipe"),
        pytest.param(D + "COPY a /app\nRUN echo a && chown -R 1:2 /app &\n", id="background"),
        pytest.param(D + "COPY a /app\nRUN chown -R 1:2 $(echo /app)\n", id="opaque"),
        pytest.param(D + "COPY a /app\nRUN if true; then chown -R 1:2 /app; fi\n", id="compound"),
        pytest.param(D + 'COPY a /app\nRUN ["chown", "-R", "1:2", "/app"]\n', id="exec form"),
        pytest.param(D + "COPY a /app\nRUN <<EOF\nchown -R 1:2 /app\nEOF\n", id="heredoc"),
        pytest.param(D + "COPY a /app\nRUN touch /app/x\nRUN chown -R 1:2 /app\n",
                     id="RUN between writes inside"),
        pytest.param(D + "COPY a /app\nRUN ls /app\nRUN chown -R 1:2 /app\n",
                     id="RUN between names the path"),
        pytest.param(D + "WORKDIR /app\nCOPY a .\nRUN npm ci\nRUN chown -R 1:2 /app\n",
                     id="RUN between works inside"),
        pytest.param(D + "COPY a /app\nRUN mkdir /app/logs && chown -R 1:2 /app\n",
                     id="earlier command of the same RUN"),
        pytest.param(D + "COPY a /app\nWORKDIR /app/data\nRUN chown -R 1:2 /app\n",
                     id="WORKDIR below the path between"),
        pytest.param(D + "COPY a /app/\nCOPY b /app/\nRUN chown -R 1:2 /app\n",
                     id="two COPYs into the path"),
        pytest.param(D + "COPY rootfs/ /\nCOPY a /app\nRUN chown -R 1:2 /app\n",
                     id="earlier COPY of a tree into /"),
        pytest.param(D + "ADD a.tar.gz /app/\nRUN chown -R 1:2 /app\n", id="ADD of an archive"),
        pytest.param(D + "COPY a /app\nRUN chown -R 1:2 /\n", id="root"),
        pytest.param(D + "COPY a /app\nRUN --mount=type=cache,target=/app chown -R 1:2 /app\n",
                     id="build-time mount on the path"),
        pytest.param(D + "COPY a /app\nRUN chown -R --from=0:0 1:2 /app\n", id="--from"),
        pytest.param(D + "COPY a /app\nRUN chown --reference=/x /app\n", id="--reference"),
        pytest.param(D + "COPY a /app\nRUN chown -R app.app /app\n", id="user.group"),
        pytest.param(D + "COPY a /app\nRUN sudo chown -R 1:2 /app\n", id="sudo"),
        pytest.param(D + "COPY a /app\nRUN chown -R 1:2 -- /app\n", id="--"),
        pytest.param(D + "COPY a /app\nRUN chown -R :2 /app\n", id="group only"),
        pytest.param(D + 'SHELL ["pwsh", "-c"]\nCOPY a /app\nRUN chown -R 1:2 /app\n',
                     id="non-POSIX SHELL"),
        pytest.param("FROM mcr.microsoft.com/windows/servercore:ltsc2022\nCOPY a /app\n"
                     "RUN chown -R 1:2 /app\n", id="windows"),
        pytest.param(D + "COPY a /app\nRUN chown -R 1:2 /app\nFROM debian:bookworm-slim\n",
                     id="builder stage"),
        pytest.param(D + "COPY a /app\nONBUILD RUN chown -R 1:2 /app\n", id="ONBUILD"),
        pytest.param(D + "COPY --chown=3:4 a /app\nRUN chown -R 1:2 /app\n", id="has --chown"),
        pytest.param(D + "COPY a /app\nRUN chown -R app:app /app\n", id="unknown user"),
        pytest.param(D + "COPY a /app\nRUN useradd app\nRUN chown -R app:app /app\n",
                     id="user created after the COPY"),
        pytest.param(D + "RUN useradd -N app\nCOPY a /app\nRUN chown -R app:app /app\n",
                     id="useradd -N makes no group"),
        pytest.param("FROM alpine\nRUN adduser -S -D app\nCOPY a /app\nRUN chown -R app:app /app\n",
                     id="busybox adduser -S puts the user in nogroup"),
        pytest.param(D + "RUN adduser --system app\nCOPY a /app\nRUN chown -R app:app /app\n",
                     id="debian adduser --system puts the user in nogroup"),
        pytest.param(D + "COPY a /app\n# dockfix: ignore=DF002\nRUN chown -R 1:2 /app\n",
                     id="pragma"),
    ),
)
def test_noop(s: str) -> None:
    assert _fix(s) == s
    assert _fix(s, UNSAFE) == s


def test_message_and_title() -> None:
    s = D + "COPY app/ /app\nRUN chown -R 10001:10001 /app\n"
    (v,) = _violations(s)
    assert (v.code, v.name) == ("DF002", "run-chown-after-copy")
    assert v.message == ("`RUN chown` re-owns `/app`, which `COPY` just wrote "
                         "(a second copy of every file in a new layer)")
    assert v.fix is not None
    assert v.fix.title == "Use `COPY --chown=10001:10001` and drop the chown"
    assert v.fix.applicability is Applicability.SAFE
    assert s[v.span.start:v.span.end] == "chown -R 10001:10001 /app"


@pytest.mark.parametrize(
    ("s", "why"),
    (
        (D + "COPY a /app\nRUN chown -R app:app /app\n", "no user `app` exists before it"),
        (D + "RUN useradd -N app\nCOPY a /app\nRUN chown -R app:app /app\n",
         "no group `app` exists before it"),
        (D + "COPY --chown=3:4 a /app\nRUN chown -R 1:2 /app\n", "already has `--chown`"),
    ),
)
def test_reported_without_fix(s: str, why: str) -> None:
    (v,) = _violations(s)
    assert v.fix is None
    assert why in v.message


def test_named_image_user() -> None:
    s = "FROM node:20-slim\nCOPY a /app\nRUN chown -R node:node /app\n"
    assert _fix(s) == "FROM node:20-slim\nCOPY --chown=node:node a /app\n"


def test_runtime_target_chain() -> None:
    """A chown in a stage the target is built FROM is fixed; other stages are not."""
    s = (D.replace("\n", " AS base\n") + "COPY a /app\nRUN chown -R 1:2 /app\n"
         "FROM base AS final\nRUN echo\nFROM debian:bookworm-slim AS other\n"
         "COPY b /srv/b\nRUN chown -R 1:2 /srv/b\n")
    fixed = _fix(s, Settings(target="final"))
    assert "COPY --chown=1:2 a /app\n" in fixed
    assert "RUN chown -R 1:2 /srv/b\n" in fixed

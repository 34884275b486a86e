"""Properties of the parser and the fixer, over generated Dockerfiles.

The files come from ``dockerfile_strategies.dockerfiles()`` (every instruction
kind, flags, heredocs, escapes, continuations, comments, odd whitespace, LF and
CRLF, a BOM) and, for the parser, from arbitrary text.  Set
``HYPOTHESIS_PROFILE=long`` for a long run; CI uses the default profile.
"""

from __future__ import annotations

import os

from conftest import missing
from dockerfile_strategies import dockerfiles
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rewriter.core.engine import fix_text
from rewriter.core.settings import Settings
from rewriter.dockerfile.syntax import ParseError, parse

settings.register_profile(
    "ci", max_examples=150, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long", max_examples=20_000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SETTINGS = st.sampled_from([Settings(), Settings(unsafe_fixes=True),
                            Settings(uid=65532, gid=65532, user="svc", group="svc")])


def _fix(text: str, s: Settings):
    try:
        return fix_text(text, s)
    except ParseError:
        return None


@given(dockerfiles())
def test_generated_files_round_trip(text):
    try:
        df = parse(text)
    except ParseError:
        return
    assert df.render() == text


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_any_text_round_trips_or_is_a_parse_error(text):
    try:
        df = parse(text)
    except ParseError:
        return
    assert df.render() == text


@given(st.lists(st.sampled_from(["FROM a", "RUN x", "\\", "`", "\n", "\r\n", "\r", " ", "\t",
                                 "#", "# escape=`", "<<EOF", "<<-E", "EOF", "E", "\tE", "ONBUILD",
                                 "COPY", "ENV", "a=b", "[", "]", '"', "'", "--chown=1", "\ufeff",
                                 "\u3000", "\x1c", "\x85"]), max_size=40).map("".join))
def test_token_soup_round_trips_and_never_crashes(text):
    try:
        df = parse(text)
    except ParseError:
        return
    assert df.render() == text
    fix_text(text)  # nothing but ParseError may come out of it, and it parsed


@given(dockerfiles(), SETTINGS)
def test_fixer_never_crashes_and_is_idempotent(text, s):
    result = _fix(text, s)
    if result is None or not result.changed:
        return
    assert parse(result.fixed).render() == result.fixed
    again = fix_text(result.fixed, s)
    assert not again.changed, f"a second run changed it again:\n{result.fixed}"


@given(dockerfiles(), SETTINGS)
def test_fixer_keeps_the_newline_style(text, s):
    result = _fix(text, s)
    if result is None or not result.changed:
        return
    if "\r\n" in text and text.count("\n") == text.count("\r\n"):
        assert result.fixed.count("\n") == result.fixed.count("\r\n")
    elif "\r" not in text:
        assert "\r" not in result.fixed


@given(dockerfiles(), SETTINGS)
def test_output_is_accepted_by_buildkit_when_the_input_is(text, s):
    from rewriter.dockerfile import crosscheck

    if not crosscheck.available():
        missing("BuildKit's parser (PyPI `dockerfile`) is not installed")
    result = _fix(text, s)
    if result is None or not result.changed or not crosscheck.buildkit_accepts(text):
        return
    assert crosscheck.buildkit_accepts(result.fixed), \
        f"BuildKit rejects the output: {crosscheck.buildkit_parse(result.fixed)}\n{result.fixed}"


# --- the fixer acts where it must --------------------------------------------------

#: Bases from the family table, each with a template dockfix can use.
_BASES = ["debian:12", "ubuntu:22.04", "python:3.12-slim", "alpine:3.19", "node:20",
          "golang:1.22", "eclipse-temurin:21", "fedora:40"]
_RUNS = ["apt-get update", "pip install app", "npm ci", "echo hi", "make build",
         "mkdir -p /app/data", "apk add --no-cache curl", "go build ./..."]


@st.composite
def root_running_files(draw: st.DrawFn) -> str:
    """A single-stage file with no USER (so it runs as root) and at least one
    instruction of its own."""
    lines = [f"FROM {draw(st.sampled_from(_BASES))}"]
    body = draw(st.lists(st.one_of(
        st.sampled_from(_RUNS).map(lambda r: f"RUN {r}"),
        st.sampled_from(["/app", "/srv", "/opt/app"]).map(lambda d: f"WORKDIR {d}"),
        st.sampled_from(["8080", "3000"]).map(lambda p: f"EXPOSE {p}"),
        st.just("COPY . /app"),
        st.just("ENV A=b"),
    ), min_size=1, max_size=6))
    lines += body
    lines.append(draw(st.sampled_from(['CMD ["app"]', "CMD app --serve", 'ENTRYPOINT ["app"]'])))
    return "\n".join(lines) + "\n"


@settings(max_examples=60)
@given(root_running_files(), SETTINGS)
def test_a_root_running_file_becomes_non_root_or_is_declined_with_a_reason(text, s):
    from rewriter.dockerfile.analysis import Context
    from rewriter.dockerfile.model import is_root

    result = fix_text(text, s)
    assert result.error is None, result.error
    before = Context(parse(text), s).model.runtime
    assert before is not None and is_root(before.final_user)  # the premise
    if result.changed:
        after = Context(parse(result.fixed), s).model.runtime
        assert after is not None and not is_root(after.final_user), result.fixed
        assert "USER " in result.fixed
    else:
        stated = [d for d in result.declines if not d.informational and d.reason and d.message]
        assert stated, f"left running as root with no reason stated:\n{text}"

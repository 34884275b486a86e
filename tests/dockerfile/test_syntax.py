"""Unit tests of the tree API in ``rewriter.dockerfile.syntax``: stages, flags, offsets
from logical to source, heredocs, trivia and parse errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from rewriter.dockerfile.syntax import Instruction, ParseError, Span, Trivia, parse


def sl(text: str, span: Span) -> str:
    return text[span.start:span.end]


def only(text: str, cmd: str) -> Instruction:
    found = [i for i in parse(text).instructions if i.cmd == cmd]
    assert len(found) == 1, found
    return found[0]


# --- stages ---------------------------------------------------------------------


def test_stages_index_base_alias_and_parent() -> None:
    text = (
        "FROM golang:1.22 AS Build\n"
        "RUN go build -o /app .\n"
        "FROM build AS test\n"  # an alias is matched case-insensitively
        "RUN go test ./...\n"
        "FROM debian:bookworm-slim\n"
        "COPY --from=build /app /app\n"
        "FROM later\n"  # a stage is only a parent if it comes first
        "FROM scratch AS later\n"
        "FROM TEST\n"
    )
    stages = parse(text).stages
    assert [s.index for s in stages] == [0, 1, 2, 3, 4, 5]
    assert [s.base for s in stages] == ["golang:1.22", "build", "debian:bookworm-slim",
                                        "later", "scratch", "TEST"]
    assert [s.alias for s in stages] == ["Build", "test", None, None, "later", None]
    assert [s.parent for s in stages] == [None, 0, None, None, None, 1]
    assert [s.name for s in stages] == ["Build", "test", "2", "3", "later", "5"]
    assert [[i.cmd for i in s.instructions] for s in stages] == [
        ["RUN"], ["RUN"], ["COPY"], [], [], []
    ]
    assert stages[2].from_.start_line == 5


def test_stage_lowercase_as_and_keywords() -> None:
    stages = parse("from alpine:3.19 as base\nrun true\nFrom base\n").stages
    assert [(s.base, s.alias, s.parent) for s in stages] == [
        ("alpine:3.19", "base", None), ("base", None, 0)
    ]
    assert stages[0].from_.keyword == "from" and stages[0].from_.cmd == "FROM"


def test_stage_platform_flag() -> None:
    text = "FROM --platform=$BUILDPLATFORM golang:1.22 AS b\nFROM --platform=linux/arm64 b\n"
    stages = parse(text).stages
    assert [s.platform for s in stages] == ["$BUILDPLATFORM", "linux/arm64"]
    assert [s.base for s in stages] == ["golang:1.22", "b"]
    assert stages[1].parent == 0
    assert parse("FROM alpine\n").stages[0].platform is None


def test_meta_args_before_first_from() -> None:
    text = (
        "# syntax=docker/dockerfile:1\n"
        "ARG BASE=alpine:3.19\n"
        "# a comment between\n"
        "ARG TAG\n"
        "FROM ${BASE}\n"
        "ARG TAG\n"
        "RUN echo $TAG\n"
    )
    df = parse(text)
    assert [a.args for a in df.meta_args] == ["BASE=alpine:3.19", "TAG"]
    assert df.stages[0].base == "${BASE}"
    assert [i.cmd for i in df.stages[0].instructions] == ["ARG", "RUN"]


def test_no_stages() -> None:
    df = parse("ARG A=1\n# nothing else\n")
    assert df.stages == ()
    assert [a.args for a in df.meta_args] == ["A=1"]
    assert parse("").stages == () and parse("").nodes == ()


def test_stages_of_the_many_stages_fixture() -> None:
    path = Path(__file__).parents[1] / "fixtures" / "roundtrip" / "many-stages.Dockerfile"
    df = parse(path.read_bytes().decode("utf-8"))
    assert [(s.name, s.parent) for s in df.stages] == [
        ("builder", None), ("test", 0), ("runtime-base", None), ("runtime", 2), ("export", None)
    ]
    assert len(df.meta_args) == 2


# --- flags ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "raw", "flag_text", "name", "value"),
    [
        ("COPY --chown=app:app src /dst\n", "--chown=app:app", "--chown=app:app", "chown",
         "app:app"),
        ('RUN --mount="type=cache,target=/x" make\n', '--mount="type=cache,target=/x"',
         "--mount=type=cache,target=/x", "mount", "type=cache,target=/x"),
        ("RUN --mount='type=secret,id=a b' make\n", "--mount='type=secret,id=a b'",
         "--mount=type=secret,id=a b", "mount", "type=secret,id=a b"),
        ("COPY --link src /dst\n", "--link", "--link", "link", None),
        ("COPY --chmod= a b\n", "--chmod=", "--chmod=", "chmod", ""),
        ("RUN --a=b\\ c echo\n", "--a=b\\ c", "--a=b c", "a", "b c"),
        ("COPY --FROM=Build a b\n", "--FROM=Build", "--FROM=Build", "from", "Build"),
        ("  RUN\t--network=none\ttrue\n", "--network=none", "--network=none", "network", "none"),
    ],
)
def test_flag_span_is_the_raw_word(text: str, raw: str, flag_text: str, name: str,
                                   value: str | None) -> None:
    ins = parse("FROM a\n" + text).instructions[1]
    full = "FROM a\n" + text
    (flag,) = ins.flags
    assert sl(full, flag.span) == raw
    assert flag.text == flag_text
    assert (flag.name, flag.value) == (name, value)
    assert ins.flag(name) is flag


def test_several_flags_and_their_spans() -> None:
    text = "FROM a\nCOPY --from=build --chown=10001:10001 --chmod=0755 /out/app /app\n"
    ins = only(text, "COPY")
    assert [sl(text, f.span) for f in ins.flags] == [
        "--from=build", "--chown=10001:10001", "--chmod=0755"
    ]
    assert ins.flag("chown").value == "10001:10001"
    assert ins.flag("missing") is None
    assert ins.args == "/out/app /app"
    assert ins.values == ("/out/app", "/app")


def test_flags_across_continuation_lines() -> None:
    text = ("FROM a\n"
            "RUN --mount=type=cache,target=/root/.cache \\\n"
            "    # comment\n"
            "    --network=none \\\n"
            "    pip install .\n")
    ins = only(text, "RUN")
    assert [sl(text, f.span) for f in ins.flags] == [
        "--mount=type=cache,target=/root/.cache", "--network=none"
    ]
    assert ins.args == "pip install ."
    # A flag word that a continuation splits in two spans the `\`+newline.
    text = "FROM a\nRUN --mount=type=cache,\\\ntarget=/x make\n"
    (flag,) = only(text, "RUN").flags
    assert flag.text == "--mount=type=cache,target=/x"
    assert sl(text, flag.span) == "--mount=type=cache,\\\ntarget=/x"


def test_double_dash_ends_flags() -> None:
    ins = only("FROM a\nRUN --network=none -- --not-a-flag x\n", "RUN")
    assert [f.text for f in ins.flags] == ["--network=none"]
    assert ins.args == "--not-a-flag x"


def test_single_dash_is_not_a_flag() -> None:
    ins = only("FROM a\nRUN -x --y\n", "RUN")
    assert ins.flags == () and ins.args == "-x --y"


def test_onbuild_sub_instruction_and_its_flags() -> None:
    text = "FROM a\nONBUILD RUN --mount=type=cache,target=/x pip install .\n"
    ins = only(text, "ONBUILD")
    assert ins.flags == ()
    assert ins.args == "RUN --mount=type=cache,target=/x pip install ."
    sub = ins.sub
    assert sub is not None and sub.cmd == "RUN"
    assert [sl(text, f.span) for f in sub.flags] == ["--mount=type=cache,target=/x"]
    assert sl(text, sub.args_span) == "pip install ."
    assert sl(text, Span(sub.src(sub.keyword_at), sub.src_end(sub.keyword_at + 3))) == "RUN"
    assert sub.sub is None
    assert parse("FROM a\nRUN x\n").instructions[1].sub is None


# --- logical → source offsets ---------------------------------------------------


def test_src_maps_logical_offsets_across_continuations() -> None:
    text = (
        "FROM debian\n"
        "RUN apt-get update \\\n"
        "    # refresh the index first\n"
        "\n"
        "    && apt-get install -y curl  \n"
        "USER 10001\n"
    )
    ins = only(text, "RUN")
    assert ins.logical == "RUN apt-get update     && apt-get install -y curl  "
    assert (ins.start_line, ins.end_line) == (2, 5)
    assert ins.args == "apt-get update     && apt-get install -y curl"
    # args_span runs from the first to the last argument character, taking in
    # the inner `\`+newline, the comment and the blank line.
    assert sl(text, ins.args_span) == (
        "apt-get update \\\n    # refresh the index first\n\n    && apt-get install -y curl"
    )
    # Every logical character maps to the same source character.
    for lo, ch in enumerate(ins.logical):
        assert text[ins.src(lo)] == ch
    # A word on the second line is found in the logical line and edited in place.
    lo = ins.logical.index("curl")
    assert text[ins.src(lo):ins.src_end(lo + 4)] == "curl"
    assert ins.src(lo) == text.index("curl")
    # The boundary between two lines: src() goes to the next line's start,
    # src_end() stays at the end of the previous line's content.
    boundary = len("RUN apt-get update ")
    assert text[ins.src(boundary):].startswith("    && apt-get")
    assert text[:ins.src_end(boundary)].endswith("RUN apt-get update ")
    assert ins.src_end(0) == ins.src(0) == ins.span.start
    assert ins.src(len(ins.logical)) == text.index("curl  \n") + len("curl  ")


def test_src_with_leading_indentation_and_backtick_escape() -> None:
    text = "# escape=`\nFROM a\n   RUN Write-Host one `\n\tC:\\two\\ `\n  three\n"
    ins = only(text, "RUN")
    assert ins.keyword_at == 0 and ins.src(0) == text.index("RUN")
    assert ins.logical == "RUN Write-Host one \tC:\\two\\   three"
    assert sl(text, ins.args_span) == "Write-Host one `\n\tC:\\two\\ `\n  three"
    assert parse(text).escape == "`"


def test_args_span_single_line_and_empty_args() -> None:
    text = "FROM a\nWORKDIR   /srv/app   \nRUN\n"
    df = parse(text)
    wd, run = df.instructions[1], df.instructions[2]
    assert sl(text, wd.args_span) == "/srv/app"
    assert wd.args_at == len("WORKDIR   ")
    assert run.args == "" and run.args_span.start == run.args_span.end


def test_instruction_line_numbers_and_spans() -> None:
    text = "FROM a\r\n\r\nRUN a \\\r\n  b\r\nUSER 10001"
    df = parse(text)
    frm, run, user = df.instructions
    assert (frm.start_line, frm.end_line) == (1, 1)
    assert (run.start_line, run.end_line) == (3, 4)
    assert (user.start_line, user.end_line) == (5, 5)
    assert sl(text, run.span) == "RUN a \\\r\n  b\r\n"
    assert run.header_end == run.span.end
    assert sl(text, user.span) == "USER 10001"
    assert run.logical == "RUN a   b"


def test_json_and_values() -> None:
    text = ('FROM a\nCMD [ "node", "server.js" ]\nENTRYPOINT /bin/sh -c\n'
            'COPY ["a b", "/c/"]\nEXPOSE 80  443/udp\nVOLUME /a /b\n')
    cmd, ep, copy, expose, volume = parse(text).instructions[1:]
    assert cmd.json and cmd.values == ("node", "server.js")
    assert not ep.json and ep.values == ("/bin/sh -c",)
    assert copy.json and copy.values == ("a b", "/c/")
    assert expose.values == ("80", "443/udp")
    assert not volume.json and volume.values == ("/a", "/b")


def test_healthcheck_values() -> None:
    df = parse('FROM a\nHEALTHCHECK --interval=5s CMD ["curl", "-f", "x"]\n'
               "HEALTHCHECK CMD curl -f x || exit 1\nHEALTHCHECK NONE\n")
    json_form, shell_form, none = df.instructions[1:]
    assert json_form.json and json_form.values == ("CMD", "curl", "-f", "x")
    assert [f.text for f in json_form.flags] == ["--interval=5s"]
    assert not shell_form.json and shell_form.values == ("CMD", "curl -f x || exit 1")
    assert none.values == ("NONE",)


# --- heredocs -------------------------------------------------------------------


def test_heredoc_body_and_terminator_spans() -> None:
    text = ("FROM a\n"
            "RUN cat <<EOF > /etc/motd && \\\n"
            "    chmod 644 /etc/motd\n"
            "hello\n"
            "\n"
            "EOF\n"
            "USER 10001\n")
    run = only(text, "RUN")
    (doc,) = run.heredocs
    assert (doc.name, doc.chomp, doc.expand, doc.fd) == ("EOF", False, True, 0)
    assert sl(text, doc.body) == "hello\n\n"
    assert sl(text, doc.terminator) == "EOF\n"
    assert doc.content == "hello\n\n"
    assert run.header_end == doc.body.start == text.index("hello")
    assert run.span.end == doc.terminator.end == text.index("USER")
    assert (run.start_line, run.end_line) == (2, 6)
    assert run.logical == "RUN cat <<EOF > /etc/motd &&     chmod 644 /etc/motd"


def test_two_heredocs_on_one_line() -> None:
    text = "FROM a\nCOPY <<one.txt <<two.txt /srv/\n1\none.txt\n2\ntwo.txt\n"
    copy = only(text, "COPY")
    one, two = copy.heredocs
    assert (one.name, sl(text, one.body), sl(text, one.terminator)) == ("one.txt", "1\n",
                                                                         "one.txt\n")
    assert (two.name, sl(text, two.body), sl(text, two.terminator)) == ("two.txt", "2\n",
                                                                        "two.txt\n")
    assert one.terminator.end == two.body.start
    assert copy.values == ("<<one.txt", "<<two.txt", "/srv/")


@pytest.mark.parametrize(
    ("word", "name", "chomp", "expand", "fd"),
    [
        ("<<EOF", "EOF", False, True, 0),
        ("<<-EOF", "EOF", True, True, 0),
        ("<<'EOF'", "EOF", False, False, 0),
        ('<<"EOF"', "EOF", False, False, 0),
        ('<<-"EOF"', "EOF", True, False, 0),
        ("<<E'O'F", "EOF", False, False, 0),
        ("3<<EOF", "EOF", False, True, 3),
        ("<<E\\ OF", "E OF", False, True, 0),
    ],
)
def test_heredoc_word_forms(word: str, name: str, chomp: bool, expand: bool, fd: int) -> None:
    text = f"FROM a\nRUN cat {word}\n\tbody $X\n{chr(9) if chomp else ''}{name}\n"
    (doc,) = only(text, "RUN").heredocs
    assert (doc.name, doc.chomp, doc.expand, doc.fd) == (name, chomp, expand, fd)
    assert doc.content == "\tbody $X\n"  # BuildKit keeps the tabs; the build strips them


def test_heredoc_crlf() -> None:
    text = "FROM a\r\nRUN <<EOF\r\necho hi\r\nEOF\r\nUSER 1\r\n"
    (doc,) = only(text, "RUN").heredocs
    assert sl(text, doc.body) == "echo hi\r\n"
    assert sl(text, doc.terminator) == "EOF\r\n"
    assert doc.content == "echo hi\r\n"


def test_heredoc_terminator_at_eof_without_newline() -> None:
    text = "FROM a\nRUN <<EOF\nx\nEOF"
    run = only(text, "RUN")
    assert sl(text, run.heredocs[0].terminator) == "EOF"
    assert run.span.end == len(text)


def test_onbuild_heredoc() -> None:
    text = "FROM a\nONBUILD RUN <<EOF\necho x\nEOF\n"
    ins = only(text, "ONBUILD")
    assert [h.name for h in ins.heredocs] == ["EOF"]
    assert ins.sub is not None and [h.name for h in ins.sub.heredocs] == ["EOF"]
    assert ins.span.end == len(text)


@pytest.mark.parametrize(
    "line",
    [
        "RUN echo '<<EOF'",
        'RUN echo "<<EOF"',
        "RUN echo \\<<EOF",
        'RUN ["cat", "<<EOF"]',
        "CMD cat <<EOF",
        "RUN cat<<EOF",
    ],
)
def test_not_a_heredoc(line: str) -> None:
    text = f"FROM a\n{line}\nUSER 1\n"
    df = parse(text)
    assert all(not i.heredocs for i in df.instructions)
    assert [i.cmd for i in df.instructions] == ["FROM", line.split()[0], "USER"]


# --- trivia and directives ------------------------------------------------------


def test_trivia_kinds() -> None:
    text = (
        "# syntax=docker/dockerfile:1\n"
        "# escape=\\\n"
        "# just a comment\n"
        "# check=error=true\n"
        "\n"
        "  \t\n"
        "FROM a\n"
        "    # indented comment\n"
        "RUN x \\\n"
        "# inside a continuation: part of the RUN\n"
        "  y\n"
    )
    df = parse(text)
    kinds = [(n.kind if isinstance(n, Trivia) else n.cmd) for n in df.nodes]
    assert kinds == ["directive", "directive", "comment", "comment", "blank", "blank", "FROM",
                     "comment", "RUN"]
    assert df.directives == {"syntax": "docker/dockerfile:1", "escape": "\\"}
    assert df.escape == "\\"
    assert sl(text, df.nodes[0].span) == "# syntax=docker/dockerfile:1\n"


def test_directive_with_bom_and_crlf() -> None:
    text = "\ufeff# escape=`\r\nFROM a\r\nRUN a `\r\n  b\r\n"
    df = parse(text)
    assert df.has_bom
    assert df.escape == "`" and df.directives == {"escape": "`"}
    assert isinstance(df.nodes[0], Trivia) and df.nodes[0].kind == "directive"
    assert df.nodes[0].span == Span(0, len("\ufeff# escape=`\r\n"))
    assert df.instructions[1].logical == "RUN a   b"
    assert not parse("FROM a\n").has_bom


def test_directive_after_a_comment_is_a_comment() -> None:
    df = parse("# hello\n# escape=`\nFROM a\nRUN a `\nRUN b\n")
    assert df.escape == "\\" and df.directives == {}
    assert [n.kind for n in df.nodes if isinstance(n, Trivia)] == ["comment", "comment"]
    assert len(df.instructions) == 3


def test_cr_only_file_is_one_line() -> None:
    text = "FROM alpine\rRUN true\rUSER 1\r"
    df = parse(text)
    (frm,) = df.instructions
    assert frm.cmd == "FROM" and (frm.start_line, frm.end_line) == (1, 1)
    assert frm.values == ("alpine", "RUN", "true", "USER", "1")
    assert frm.span == Span(0, len(text))
    assert df.source.newline == "\r"


# --- errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("FROM a\nENV A\n", 2, "ENV must have two arguments"),
        ("FROM a\nRUN x\nLABEL a=b \\\n  c\n", 3, "can't find = in"),
        ("FROM a\n\nRUN cat <<EOF\nbody\n", 3, "unterminated heredoc"),
        ("# escape=\\\n# escape=`\nFROM a\n", 2, "only one escape parser directive"),
        ("# escape=x\nFROM a\n", 1, "invalid escape token"),
        ("FROM a\nUSER 1\nCMD [\"a\", \\\n  1]\n", 3, "arrays must be comprised of strings only"),
        ("FROM a\nONBUILD ENV A\n", 2, "ENV must have two arguments"),
    ],
)
def test_parse_error_line_numbers(text: str, line: int, message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(text)
    assert info.value.line == line
    assert message in info.value.message
    assert str(info.value).startswith(f"line {line}: ")
    assert isinstance(info.value, ValueError)

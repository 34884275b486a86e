"""Our parser reads Dockerfiles exactly as BuildKit's parser does.

The oracle is BuildKit's own parser through the PyPI package ``dockerfile``
(in the ``test`` extra); without it this module is skipped.  Checked: every
fixture under ``tests/fixtures/``, every UTF-8 corpus file in
``../shared/corpus`` when it exists, and a list of tricky inline cases.
``compare()`` counts "both reject" as agreement.

A disagreement found here is recorded, not fixed in the test: an inline case
becomes ``xfail(strict=True)`` with the reproducer in its reason, and a file
goes in ``DIVERGENCES`` with the justification.  A strict xfail turns red as
soon as the parser (or the oracle) is fixed, so the entry can be removed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import missing

try:
    import dockerfile  # noqa: F401 - BuildKit's parser, the oracle of this module
except ImportError:
    missing("BuildKit's parser (PyPI `dockerfile`) is not installed")

from rewriter.dockerfile.crosscheck import available, buildkit_accepts, buildkit_parse, compare  # noqa: E402
from rewriter.dockerfile.syntax import ParseError, parse  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
CORPUS = REPO.parent / "shared" / "corpus"

#: Files (fixture path relative to tests/fixtures, or corpus file name) where we
#: knowingly read differently from BuildKit, and why.  Each must still differ.
DIVERGENCES: dict[str, str] = {
    "roundtrip/empty.Dockerfile":
        "BuildKit refuses a file with no instructions; we parse it to an empty tree so that "
        "it round-trips and the engine has nothing to fix",
    "roundtrip/only-comments.Dockerfile":
        "as for empty.Dockerfile: comments only, no instruction",
}


def _fixture_paths() -> list[Path]:
    found = {p for pat in ("*.Dockerfile", "Dockerfile*") for p in FIXTURES.rglob(pat)
             if p.is_file()}
    return sorted(found)


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return None


def _fd_differences(text: str) -> list[str]:
    """Heredoc file descriptors, which ``compare()`` does not look at."""
    theirs = buildkit_parse(text)
    try:
        ours = parse(text)
    except ParseError:
        return []
    if isinstance(theirs, str):
        return []
    a = [(h.name, h.fd) for i in ours.instructions if i.sub is None for h in i.heredocs]
    b = [(h.name, h.file_descriptor) for c in theirs if c.sub_cmd is None for h in c.heredocs]
    return [] if a == b else [f"heredoc fds: ours {a}, BuildKit {b}"]


def test_oracle_available() -> None:
    assert available()
    assert buildkit_accepts("FROM alpine\nUSER 10001\n")
    assert not buildkit_accepts("FROM alpine\nENV A\n")


@pytest.mark.parametrize("path", _fixture_paths(),
                         ids=lambda p: p.relative_to(FIXTURES).as_posix())
def test_fixture_agrees_with_buildkit(path: Path) -> None:
    text = _read(path)
    if text is None:
        pytest.skip("not UTF-8")
    key = path.relative_to(FIXTURES).as_posix()
    diffs = compare(text) + _fd_differences(text)
    if key in DIVERGENCES:
        assert diffs, f"{key} now agrees with BuildKit: remove it from DIVERGENCES"
    else:
        assert diffs == []


def test_corpus_agrees_with_buildkit() -> None:
    if not CORPUS.is_dir():
        missing(f"no corpus at {CORPUS}")
    failures: list[str] = []
    checked = 0
    for path in sorted(CORPUS.iterdir()):
        if not path.is_file() or path.name.endswith((".tsv", ".md")) or path.name.startswith("."):
            continue
        text = _read(path)
        if text is None:
            continue
        checked += 1
        try:
            diffs = compare(text) + _fd_differences(text)
        except Exception as exc:  # report every file, not just the first crash
            diffs = [f"compare() raised {type(exc).__name__}: {exc}"]
        if path.name in DIVERGENCES:
            if not diffs:
                failures.append(f"{path.name}: agrees now, remove it from DIVERGENCES")
        elif diffs:
            failures.append(f"{path.name}: {diffs[0]}")
    assert checked > 1000
    assert failures == [], f"{len(failures)} disagreements:\n" + "\n".join(failures)


# --- tricky inline cases --------------------------------------------------------

F = "FROM a\n"

AGREE: dict[str, list[str]] = {
    "former divergences, fixed in syntax.py/crosscheck.py": [
        'FROM a\nRUN ["a"] extra\n',
        'FROM a\nCMD [ "a" ] # comment\n',
        'FROM a\nCMD ["a"]]\n',
        'FROM a\nCMD ["a"] ["b"]\n',
        'FROM a\nCMD ["a"]x\n',
        'FROM a\nCMD ["a"]\x1c\n',
        'FROM a\nSHELL ["a"] x\n',
        'FROM a\nCOPY ["a", "b"] x\n',
        'FROM a\nVOLUME ["/a"] x\n',
        'FROM a\nHEALTHCHECK CMD ["a"] x\n',
        'FROM a\nCMD ["a",1]x\n',
        'FROM a\nRUN [ "<<EOF" ] x\nx\nEOF\n',
        'FROM a\nCMD ["a", 1e400]\n',
        'FROM a\nRUN cat <<""\nx\n\n',
        "FROM a\nRUN cat <<''\nx\n\n",
        '#\x0cescape=`\nFROM a\nRUN a `\n b\n',
        '# escape=`\x0c\nFROM a\n',
        '#escape=\x0c`\nFROM a\n',
        '#\rescape=`\nFROM a\nRUN a `\n b\n',
        '# escape\r=`\nFROM a\nRUN a `\n b\n',
        '# escape=`\r \nFROM a\nRUN a `\n b\n',
        'FROM a\n\\\n',
        'FROM a\n \\\n \\\n',
        'FROM a\n\\',
    ],
    "escaped trailing backslash": [
        F + "RUN echo \\\\\nRUN b\n",
        F + "RUN echo \\\\ \nRUN b\n",
        F + "RUN echo \\\\\t\nRUN b\n",
        F + "RUN echo \\\\\\\nRUN b\n",
        F + "RUN echo \\\\\\\\\nRUN b\n",
        F + "RUN a\\\\b \\\n c\n",
        F + "ENV A=1\\\\ B\n",
        F + "WORKDIR C:\\\\app\\\\\nUSER 1\n",
    ],
    "lone backslash line": [
        F + "RUN echo a \\\n\\\n b\n",
        F + "\\\nRUN x\n",
        F + "  \\  \nRUN x\n",
        F + "RUN x \\\n\\\n",
        F + "RUN a\\\n\\\n\\\n",
        F + "RUN \\\n",
    ],
    "whitespace-only continuation lines": [
        F + "RUN a \\\n   \n b\n",
        F + "RUN a \\\n \t \\\n b\n",
        F + "RUN a \\\n\n",
        F + "RUN a \\\n\n\n",
        F + "RUN x \\\n  \\  \n y\n",
        F + "RUN a \\\t\n b\n",
        F + "RUN a \\ b\n",
        F + "RUN x \x0b\\\n y\n",
        F + "RUN x\\\x0b\n y\n",
        F + "RUN x\\\f\n y\n",
    ],
    "comments inside continuations": [
        F + "RUN a \\\n    # c\n b\n",
        F + "RUN a \\\n# c \\\n b\n",
        F + "RUN a \\\n# c\n",
        F + "RUN a \\\n#c\n",
        F + "RUN a \\\n  # c\n\n  # d\n b\n",
        F + "   # c \\\nRUN x\n",
        F + "LABEL a=1 \\\n\t# c\n  b=2\n",
    ],
    "line endings": [
        F + "RUN a \\\r\n b\r\n",
        F + "RUN a \\ \r\n b\r\n",
        F + "RUN a \\\r\r\n b\n",
        F + "RUN a \\\r \n b\n",
        F + "RUN a\r \n",
        F + "RUN x\r\r\n",
        F + "RUN x\rRUN y\n",
        F + "\r\n",
        "FROM a\rRUN x\r",
    ],
    "escape directive": [
        "# escape=`\nFROM a\nRUN dir c:\\\nRUN b\n",
        "# escape=`\nFROM a\nRUN a ``\nRUN b\n",
        "# escape=`\nFROM a\nRUN a ```\nRUN b\n",
        "# escape=`\nFROM a\nRUN a `\n b\n",
        "# escape=`\nFROM a\nRUN a \f`\n b\n",
        "# escape=`\r\nFROM a\r\nRUN a `\r\n b\r\n",
        "# escape=`\nFROM a\nENV P=C:\\x\\ `\n  Q=\"C:\\y\\\"\n",
        "# escape=x\nFROM a\n",
        "# escape=\nFROM a\n",
        "# escape= \nFROM a\n",
        "# escape=``\nFROM a\n",
        "#escape=`x\nFROM a\n",
        "# escape=\\ \nFROM a\n",
        "# escape=\u00a0`\nFROM a\n",
    ],
    "directives": [
        "# escape=\\\n# escape=\\\nFROM a\n",
        "# syntax=a\n# syntax=b\nFROM a\n",
        "# escape=`\n#escape=\\\nFROM a\n",
        "# comment\n# escape=`\nFROM a\nRUN a `\n b\n",
        "\n# escape=`\nFROM a\nRUN a `\n b\n",
        "# escape=`\n\n# escape=`\nFROM a\n",
        "# syntax=x\nFROM a\n# escape=`\nRUN a `\n b\n",
        "\ufeff# escape=`\nFROM a\nRUN a `\n b\n",
        "\ufeff\ufeff# escape=`\nFROM a\n",
        "#escape=`\nFROM a\nRUN a `\n b\n",
        "# ESCAPE=`\nFROM a\nRUN a `\n b\n",
        "#  escape  =  `  \nFROM a\nRUN a `\n b\n",
        "#\tescape\t=\t`\nFROM a\nRUN a `\n b\n",
        "# escape=`\t\nFROM a\nRUN a `\n b\n",
        "# escape =`\nFROM a\nRUN a `\n b\n",
        "  # escape=`\nFROM a\nRUN a `\n b\n",
        "#\vescape=`\nFROM a\nRUN a `\n b\n",
        "# unknown=foo\n# escape=`\nFROM a\nRUN a `\n b\n",
        "# esc-ape=`\n# escape=`\nFROM a\nRUN a `\n b\n",
        "# 1escape=`\nFROM a\n",
        "# syntax=x\n# escape=`\n# check=a\nFROM a\nRUN a `\n b\n",
        "# check=error=true\nFROM a\n",
        "# syntax=x\f\nFROM a\n",
    ],
    "bom": [
        "\ufeffFROM a\n",
        "\ufeff\nFROM a\n",
        "\ufeff \\\nFROM a\n",
        "\ufeff# c\nFROM a\n",
        F + "\ufeffRUN x\n",
    ],
    "heredoc forms": [
        F + "RUN cat <<EOF\nx\nEOF\n",
        F + "RUN cat <<-EOF\n\tx\n\tEOF\n",
        F + "RUN cat <<'EOF'\n$x\nEOF\n",
        F + 'RUN cat <<"EOF"\n$x\nEOF\n',
        F + "RUN cat <<E'O'F\nx\nEOF\n",
        F + 'RUN cat <<E"O"F\nx\nEOF\n',
        F + 'RUN cat <<"EOF"x\nx\nEOFx\n',
        F + 'RUN cat <<-"EOF"\n\tx\n\tEOF\n',
        F + "RUN cat <<-'EOF'\n\tx\n\tEOF\n",
        F + "RUN cat <<\"E\"'F'\nx\nEF\n",
        F + "RUN cat <<'A B'\nx\nA B\n",
        F + "RUN cat <<E\\ OF\nx\nE OF\n",
        F + "RUN cat <<\\EOF\nx\nEOF\n",
        F + "RUN cat <<$EOF\nx\n$EOF\n",
        F + "RUN cat <<${EOF}\nx\n${EOF}\n",
        F + 'RUN cat <<"$X"\nx\n$X\n',
        F + "RUN cat <<EOF;echo\nx\nEOF;echo\n",
        F + "RUN cat <<EOF>/x\nx\nEOF\n",
        F + "RUN cat <<EOF\\\nx\nEOF\n",
        F + "RUN echo <<\n",
        F + "RUN cat <<EOF<<EOF2\nx\n",
    ],
    "heredoc fd prefix": [
        F + "RUN cat 3<<EOF\nx\nEOF\n",
        F + "RUN cat 10<<EOF\nx\nEOF\n",
        F + "RUN 0<<EOF cat\nx\nEOF\n",
        F + "RUN cat a<<EOF\nx\nEOF\n",
    ],
    "not a heredoc": [
        F + 'RUN echo "<<EOF"\n',
        F + "RUN echo '<<EOF'\n",
        F + "RUN echo \\<<EOF\n",
        F + 'RUN cat "<<EOF"<<X\nx\nX\n',
        F + 'RUN ["cat", "<<EOF"]\nEOF\n',
        F + "RUN ['<<EOF']\nx\nEOF\n",
        F + "RUN cat<<EOF\nx\nEOF\n",
        F + "CMD cat <<EOF\nEOF\n",
        F + "ONBUILD CMD cat <<EOF\nEOF\n",
    ],
    "heredoc bodies and terminators": [
        F + "RUN cat <<EOF\nx\n",
        F + "RUN cat <<EOF\n",
        F + "RUN cat <<EOF\nEOF",
        F + "RUN <<EOF\nEOF\n",
        F + "RUN cat <<EOF\nx\nEOF",
        F + "RUN cat <<EOF\nx\nEOF  \nEOF\n",
        F + "RUN cat <<EOF\nx\n  EOF\nEOF\n",
        F + "RUN cat <<EOF\n\tEOF\nEOF\n",
        F + "RUN cat <<-EOF\n  EOF\nEOF\n",
        F + "RUN cat <<-EOF\n\t\t\n\tEOF\n",
        F + "RUN cat <<-EOF\n \tx\n\tEOF\n",
        F + "RUN cat <<A\nA\nRUN b\n",
        F + "RUN cat <<A <<B\na\nB\nA\nb\nB\n",
        F + "RUN cat <<A <<A\nx\nA\ny\nA\n",
        F + "RUN cat <<EOF\na \\\nEOF\n",
        F + "RUN <<EOF\n#!/bin/sh \\\nEOF\n",
        F + "RUN cat <<EOF\n# not a comment\n\nEOF\n",
        F + "RUN cat <<EOF # <<NOT\nx\nEOF\n",
        F + "RUN cat <<EOF\u00a0\nx\nEOF\n",
        F + "RUN cat <<EOF\u00a0x\nEOF\u00a0x\n",
        F + "RUN cat <<EOF | tr a b\nx\nEOF\n",
    ],
    "heredoc with continuations": [
        F + "RUN cat <<EOF \\\n && echo\nbody\nEOF\n",
        F + "RUN cat <<EOF \\\n# c\n && echo\nbody\nEOF\n",
        F + "RUN cat <<EOF \\\n\nbody\nEOF\n",
        F + "RUN cat <<EOF \\\n \\\n y\nbody\nEOF\n",
        "# escape=`\nFROM a\nRUN cat <<EOF `\n && x\nb\nEOF\n",
        "# escape=`\nFROM a\nRUN cat <<E`OF\nx\nEOF\n",
        "# escape=`\nFROM a\nRUN cat <<E\\OF\nx\nEOF\nE\\OF\n",
    ],
    "heredoc in other instructions": [
        F + "COPY <<EOF /x\ny\nEOF\n",
        F + "COPY --from=b <<EOF /x\ny\nEOF\n",
        F + "COPY <<EOF <<EOF2 /x/\na\nEOF\nb\nEOF2\n",
        F + "COPY <<EOF\nx\nEOF\n",
        F + "ADD <<EOF /x\ny\nEOF\n",
        F + "ONBUILD RUN <<EOF\nx\nEOF\n",
        F + "ONBUILD COPY <<EOF /x\ny\nEOF\n",
        F + "ONBUILD ADD <<EOF /x\ny\nEOF\n",
        F + "run cat <<EOF\nx\nEOF\n",
        F + "RUN --mount=type=secret,id=x <<EOF\nx\nEOF\n",
        F + "RUN --mount=x <<EOF\n",
        F + "RUN <<EOF bash\nset -e\nEOF\nRUN <<EOF2 sh\nx\nEOF2\n",
        F + "RUN\tcat\t<<EOF\nx\nEOF\n",
        F + "RUN cat\u00a0<<EOF\nx\nEOF\n",
        F + "RUN cat\x1c<<EOF\nx\nEOF\n",
    ],
    "crlf heredocs": [
        "FROM a\r\nRUN cat <<EOF\r\nhi\r\nEOF\r\n",
        "FROM a\r\nRUN cat <<-EOF\r\n\tx\r\n\tEOF\r\n",
        "FROM a\r\nRUN cat <<EOF\r\nx\r\nEOF \r\nEOF\r\n",
        F + "RUN cat <<EOF\nx\nEOF\r\n",
        F + "RUN cat <<EOF\nx\rEOF\n",
        F + "RUN cat <<EOF\nx\nEOF\r\r\n",
        F + "RUN cat <<EOF\r\nx\nEOF\n",
    ],
    "json form": [
        F + 'CMD [ "a" ]\n',
        F + 'CMD  [ "a" ]  \n',
        F + "CMD [ ]\n",
        F + "CMD []\n",
        F + 'CMD [""]\n',
        F + 'CMD ["\\u00e9"]\n',
        F + 'CMD ["a\\tb"]\n',
        F + 'CMD ["a\u2028b"]\n',
        F + 'CMD ["a",\u00a0"b"]\n',
        F + 'CMD\u00a0["a"]\n',
        F + 'CMD\x1c["a"]\n',
        F + 'CMD [\x1c"a"]\n',
        F + 'CMD ["a"]\x0b\n',
        F + 'SHELL ["a"]\u00a0\n',
        F + 'RUN [ "a" , "b" ]\n',
        F + 'ENTRYPOINT ["a", \\\n "b"]\n',
        F + 'COPY [ "a", "b" ]\n',
        F + 'EXPOSE ["80"]\n',
    ],
    "json errors": [
        F + 'CMD ["a", 1]\n',
        F + 'CMD ["a", null]\n',
        F + 'CMD ["a", true]\n',
        F + "CMD [1]\n",
        F + "CMD [[]]\n",
        F + "VOLUME [1]\n",
        F + 'COPY ["a", 1]\n',
        F + 'HEALTHCHECK CMD ["a", 1]\n',
        F + 'ONBUILD RUN ["a", 1]\n',
    ],
    "shell form that looks like json": [
        F + "CMD [notjson\n",
        F + 'CMD ["a",]\n',
        F + 'CMD ["a" "b"]\n',
        F + "CMD ['a']\n",
        F + "CMD [NaN]\n",
        F + 'CMD ["a\tb"]\n',
        F + 'CMD {"a": 1}\n',
        F + 'CMD ["a",\n',
        F + 'CMD ["a"\n',
        F + "CMD [\n",
        F + "SHELL ['a']\n",
        F + "VOLUME [notjson\n",
    ],
    "env and label": [
        F + "ENV A\n",
        F + "ENV A B\n",
        F + "ENV A=1 B\n",
        F + "ENV A=\n",
        F + "ENV =A\n",
        F + "ENV A= B=\n",
        F + "ENV\n",
        F + "ENV A\\ B=1\n",
        F + 'ENV A "B"\n',
        F + 'ENV "A"\n',
        F + "ENV A=\"x y\" B='z'\n",
        F + "ENV A=1 \\\n B=2\n",
        F + "ENV A=1 B=\"x\n",
        F + "ENV A 'x\n",
        F + "ENV A=1\u00a0B=2\n",
        F + "ENV A\u00a0B\n",
        F + "ENV A\u2003B\n",
        F + "ENV A=1\x1cB=2\n",
        F + "ENV A='x\u00a0y' B=1\n",
        F + "LABEL a\n",
        F + "LABEL\n",
        F + 'LABEL "a b"=c\n',
        F + "LABEL a=b c\n",
        F + "LABEL a=1\u00a0b\n",
        F + "ONBUILD ENV A\n",
        F + "ARG A B\n",
        F + "ARG\n",
        F + "MAINTAINER me\n",
    ],
    "flags": [
        F + 'RUN --mount="type=cache,target=/x" echo\n',
        F + "RUN --mount='type=cache' x\n",
        F + 'RUN --mount=type=bind,source="a b",target=/c x\n',
        F + "RUN --mount=type=cache\\ ,target=/x x\n",
        F + 'RUN --"mount"=x y\n',
        F + "RUN -- --notaflag\n",
        F + "RUN --network=none -- echo\n",
        F + "RUN --\n",
        F + "COPY --from=build -- src dst\n",
        F + "COPY --chown=a:b --chmod=755 src dst\n",
        F + "COPY --link . /x\n",
        F + "RUN ---x y\n",
        F + "RUN --=x y\n",
        F + "RUN -x y\n",
        F + "RUN --a\\\n b\n",
        F + "RUN --a\n",
        F + "RUN --a --b\n",
        F + 'RUN --a="" x\n',
        F + "RUN --a= x\n",
        F + 'RUN --a="x\n',
        F + "RUN --a=b\\\\ c\n",
        F + "RUN \t--a=b\tc\n",
        F + "RUN --a \\\n --b c\n",
        F + "RUN --a=x\\\n",
        F + "RUN\u00a0--a x\n",
        "FROM --platform=linux/amd64 alpine AS x\n",
    ],
    "onbuild": [
        F + "ONBUILD RUN --mount=type=cache,target=/x echo\n",
        F + "ONBUILD --flag RUN x\n",
        F + "onbuild run x\n",
        F + "ONBUILD\n",
        F + "ONBUILD ONBUILD RUN x\n",
        F + "ONBUILD FROM x\n",
        F + 'ONBUILD ["a"]\n',
        F + "ONBUILD HEALTHCHECK CMD x\n",
        F + "ONBUILD\u00a0RUN x\n",
        F + "ONBUILD RUN\u00a0x\n",
        F + "ONBUILD \\\n  RUN x\n",
    ],
    "healthcheck": [
        F + "HEALTHCHECK --interval=5s CMD x\n",
        F + "HEALTHCHECK --interval=5s NONE\n",
        F + 'HEALTHCHECK CMD ["a"]\n',
        F + "HEALTHCHECK CMD\n",
        F + "HEALTHCHECK\n",
        F + "HEALTHCHECK cmd echo\n",
        F + "HEALTHCHECK CMD [notjson\n",
        F + "HEALTHCHECK NONE extra\n",
        F + 'HEALTHCHECK CMD  ["a"]\n',
        F + 'HEALTHCHECK CMD\t["a"]\n',
        F + 'HEALTHCHECK CMD\x0b["a"]\n',
        F + 'HEALTHCHECK\tCMD\t["a"]\n',
        F + "HEALTHCHECK CMD-SHELL x\n",
        F + "HEALTHCHECK  CMD   x  y \n",
        F + "HEALTHCHECK \\\n CMD x\n",
        F + 'HEALTHCHECK FOO ["a"]\n',
        F + "HEALTHCHECK CMD\u2028x\n",
        F + "HEALTHCHECK \u00a0CMD x\n",
        F + "HEALTHCHECK --interval=1s\n",
        F + "HEALTHCHECK --interval=1s CMD\n",
        F + 'HEALTHCHECK CMD ["a"]\u00a0\n',
        F + 'HEALTHCHECK   CMD   ["a"]   \n',
    ],
    "keywords and whitespace": [
        "from a\nrUn x\n",
        F + "FOO bar\n",
        "FROM a\nFOO\n",
        F + "RUN\n",
        "FROM\n",
        F + "   RUN x\n",
        F + "RUN\tx\n",
        F + "RUN\u00a0x\n",
        F + "RUN\x0bx\n",
        F + "RUN\x1cx\n",
        F + "RUN x\x1c\n",
        F + "RUN x\u2028y\n",
        F + "RUN x\u0085\n",
        "FROM a AS b c\n",
        "FROM a\tAS\tb\n",
        "FROM a as\n",
        "FROM a\u00a0AS b\n",
        F + "EXPOSE 80  443/udp\n",
        F + "EXPOSE 80\u00a0443\n",
        F + "EXPOSE\n",
        F + "USER\n",
        F + "WORKDIR \\\n /x\n",
        F + "COPY a\u00a0b\n",
        F + "VOLUME a\u00a0b\n",
        F + "VOLUME a\x0bb\n",
        "\n\nFROM a\n",
        F + "# c\n",
    ],
}

_JSON_TRAILING = (
    "BuildKit's parseJSON decodes with json.NewDecoder(...).Decode, which reads the first "
    "JSON value and ignores anything after it, so `{!r}` is JSON (exec) form to BuildKit; "
    "syntax._json_array uses json.loads, which rejects trailing data, so we read shell form"
)
_BYTEWISE = (
    "BuildKit bug: {} scans bytes, not runes (`unicode.IsSpace(rune(line[i]))`), so the "
    "0xA0/0x85 byte inside a multi-byte UTF-8 character counts as a blank and cuts it in two"
)

DISAGREE = [
    # JSON followed by trailing data
    # JSON numbers and strings
    pytest.param(F + 'CMD ["\\ud800"]\n',
                 "Go decodes a lone surrogate escape to U+FFFD; Python keeps '\\ud800'",
                 id="json: lone surrogate"),
    # heredocs
    # directives: Go's regexp \s is [\t\n\f\r ], ours is [ \t]
    # BuildKit's byte-wise scanners
    pytest.param(F + "RUN --a=b\u00a0c x\n", _BYTEWISE.format("extractBuilderFlags"),
                 id="flags: nbsp inside a flag"),
    pytest.param(F + "RUN --a\u00a0b\n", _BYTEWISE.format("extractBuilderFlags"),
                 id="flags: nbsp after a flag"),
    pytest.param(F + "FROM --platform=x\u00a0a\n", _BYTEWISE.format("extractBuilderFlags"),
                 id="flags: nbsp after --platform"),
]

ORACLE_BUGS = [
    # compare() itself misreports or crashes: rewriter/crosscheck.py, not syntax.py
    pytest.param(F + 'HEALTHCHECK CMD\u00a0["a"]\n',
                 _BYTEWISE.format("parseHealthConfig") + "; the `dockerfile` package then "
                 "raises UnicodeDecodeError on the invalid UTF-8, so compare() reports BuildKit as rejecting the file",
                 None, id="oracle: HEALTHCHECK CMD<nbsp> crashes compare()"),
    pytest.param(F + "HEALTHCHECK CMD\u00e0 x\n", "as above (U+00E0 is C3 A0 in UTF-8)",
                 None, id="oracle: HEALTHCHECK CMD<a-grave> crashes compare()"),
    pytest.param(F + "HEALTHCHECK CMD\u0085x\n", "as above (U+0085 is C2 85 in UTF-8)",
                 None, id="oracle: HEALTHCHECK CMD<nel> crashes compare()"),
]


def _agree_params() -> list:
    params = []
    for group, texts in AGREE.items():
        for n, text in enumerate(texts):
            params.append(pytest.param(text, id=f"{group} {n}: {text[:40]!r}"))
    return params


@pytest.mark.parametrize("text", _agree_params())
def test_agrees_with_buildkit(text: str) -> None:
    assert compare(text) + _fd_differences(text) == []


@pytest.mark.parametrize(("text", "why"), DISAGREE)
def test_known_disagreement(text: str, why: str, request: pytest.FixtureRequest) -> None:
    request.applymarker(pytest.mark.xfail(strict=True, reason=why))
    assert compare(text) == []


@pytest.mark.parametrize(("text", "why", "raises"), ORACLE_BUGS)
def test_known_oracle_problem(text: str, why: str, raises: type[BaseException] | None,
                              request: pytest.FixtureRequest) -> None:
    request.applymarker(pytest.mark.xfail(strict=True, reason=why, raises=raises))
    assert compare(text) == []


def test_agree_cases_are_unique() -> None:
    texts = [t for ts in AGREE.values() for t in ts]
    assert len(texts) == len(set(texts))
    assert not set(texts) & {p.values[0] for p in DISAGREE + ORACLE_BUGS}

"""The tree keeps every byte: ``parse(text).render() == text``.

Runs over every Dockerfile fixture under ``tests/fixtures/`` (``*.Dockerfile``
and ``Dockerfile*``, recursively, so rule fixtures are covered as they are
added) and, when ``../shared/corpus`` exists beside the repository, over every
corpus file that decodes as UTF-8.  Besides the rendering, the top-level nodes
must tile the text, and every inner span must sit where it says it does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import missing

from rewriter.dockerfile.syntax import Dockerfile, Instruction, ParseError, parse

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
CORPUS = REPO.parent / "shared" / "corpus"
#: Corpus files that are not Dockerfiles (MANIFEST.tsv, README.md).
_NOT_DOCKERFILES = (".tsv", ".md")


def fixture_paths() -> list[Path]:
    found = {
        p
        for pattern in ("*.Dockerfile", "Dockerfile*")
        for p in FIXTURES.rglob(pattern)
        if p.is_file()
    }
    return sorted(found)


def fixture_id(path: Path) -> str:
    return path.relative_to(FIXTURES).as_posix()


def corpus_paths() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        p for p in CORPUS.iterdir()
        if p.is_file() and not p.name.endswith(_NOT_DOCKERFILES) and not p.name.startswith(".")
    )


def read_text(path: Path) -> str | None:
    """The file decoded as UTF-8 with every byte kept (BOM, CR), or None."""
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return None


def coverage_problems(df: Dockerfile, text: str) -> list[str]:
    """Why the top-level nodes do not tile ``text`` exactly; empty if they do."""
    nodes = df.nodes
    if not nodes:
        return [] if text == "" else [f"no nodes for {len(text)} characters"]
    problems = []
    if nodes[0].span.start != 0:
        problems.append(f"first node starts at {nodes[0].span.start}, not 0")
    for a, b in zip(nodes, nodes[1:]):
        if a.span.end != b.span.start:
            problems.append(f"gap or overlap: a node ends at {a.span.end}, the next starts at "
                            f"{b.span.start}")
    if nodes[-1].span.end != len(text):
        problems.append(f"last node ends at {nodes[-1].span.end}, not {len(text)}")
    for node in nodes:
        if node.span.start >= node.span.end:
            problems.append(f"empty node {node.span}")
    return problems


def span_problems(ins: Instruction, text: str) -> list[str]:
    """Inner spans of one instruction that are out of place."""
    where = f"line {ins.start_line}"
    problems = []
    start, end = ins.span.start, ins.span.end
    if not start <= ins.header_end <= end:
        problems.append(f"{where}: header_end {ins.header_end} outside {ins.span}")
    # The segment map sends every logical character to the same source character.
    at = 0
    for lstart, sstart, length in ins.segments:
        if lstart != at:
            problems.append(f"{where}: segment at logical {lstart}, expected {at}")
        if text[sstart:sstart + length] != ins.logical[lstart:lstart + length]:
            problems.append(f"{where}: segment {(lstart, sstart, length)} does not map")
        if not start <= sstart <= sstart + length <= ins.header_end:
            problems.append(f"{where}: segment {(lstart, sstart, length)} outside the header")
        at = lstart + length
    if at != len(ins.logical):
        problems.append(f"{where}: segments cover {at} of {len(ins.logical)} logical chars")
    for target in (ins, ins.sub) if ins.sub else (ins,):
        kw = target.keyword_at
        if target.logical[kw:kw + len(target.keyword)] != target.keyword:
            problems.append(f"{where}: keyword {target.keyword!r} not at logical {kw}")
        for flag in target.flags:
            if not start <= flag.span.start < flag.span.end <= ins.header_end:
                problems.append(f"{where}: flag {flag.text!r} span {flag.span} outside")
        a = target.args_span
        if not start <= a.start <= a.end <= ins.header_end:
            problems.append(f"{where}: args_span {a} outside the header")
    # Heredoc bodies and terminators follow the header back to back.
    pos = ins.header_end
    for doc in ins.heredocs:
        if doc.body.start != pos or doc.body.end != doc.terminator.start:
            problems.append(f"{where}: heredoc {doc.name!r} body {doc.body} not contiguous")
        pos = doc.terminator.end
    if ins.heredocs and pos != end:
        problems.append(f"{where}: heredocs end at {pos}, the instruction at {end}")
    if not ins.heredocs and ins.header_end != end:
        problems.append(f"{where}: no heredoc but header_end {ins.header_end} != end {end}")
    return problems


def roundtrip_problems(text: str) -> list[str]:
    df = parse(text)
    problems = []
    rendered = df.render()
    if rendered != text:
        at = next((i for i, (a, b) in enumerate(zip(rendered, text)) if a != b),
                  min(len(rendered), len(text)))
        problems.append(f"render() differs from the input at offset {at}: "
                        f"{rendered[at:at + 20]!r} vs {text[at:at + 20]!r}")
    problems += coverage_problems(df, text)
    for ins in df.instructions:
        problems += span_problems(ins, text)
    return problems


@pytest.mark.parametrize("path", fixture_paths(), ids=fixture_id)
def test_fixture_roundtrips(path: Path) -> None:
    text = read_text(path)
    if text is None:
        pytest.skip("not UTF-8")
    problems = roundtrip_problems(text)  # a fixture that does not parse fails
    assert problems == []


def test_roundtrip_fixtures_exist() -> None:
    names = {p.name for p in (FIXTURES / "roundtrip").iterdir()}
    for case in ("crlf", "cr-only", "no-final-newline", "bom", "heredoc", "escape-backtick",
                 "comment-in-continuation", "json-form", "onbuild", "tabs-and-trailing-ws",
                 "empty"):
        assert f"{case}.Dockerfile" in names


def test_fixture_bytes_are_what_they_claim() -> None:
    """Guards against an editor or git normalising the line endings."""
    rt = FIXTURES / "roundtrip"
    crlf = (rt / "crlf.Dockerfile").read_bytes()
    assert crlf.count(b"\r\n") == crlf.count(b"\n") > 5
    cr = (rt / "cr-only.Dockerfile").read_bytes()
    assert b"\n" not in cr and cr.count(b"\r") > 2
    assert (rt / "bom.Dockerfile").read_bytes().startswith(b"\xef\xbb\xbf# syntax=")
    assert not (rt / "no-final-newline.Dockerfile").read_bytes().endswith(b"\n")
    assert b"\t" in (rt / "tabs-and-trailing-ws.Dockerfile").read_bytes()
    assert (rt / "empty.Dockerfile").read_bytes() == b""


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("\n", id="one newline"),
        pytest.param("\r\n\r\n", id="crlf blank lines"),
        pytest.param("\r", id="lone cr"),
        pytest.param("\ufeff", id="only a bom"),
        pytest.param("FROM a", id="no newline"),
        pytest.param("FROM a\nRUN x \\", id="continuation at eof"),
        pytest.param("FROM a\nRUN cat <<EOF\nbody\nEOF", id="heredoc terminator at eof"),
        pytest.param("FROM a\n\\\n", id="lone backslash line"),
        pytest.param("FROM a\r\rRUN x\r\n", id="mixed cr and crlf"),
        pytest.param("  \t\n# c\n\tFROM a\t\n", id="indentation"),
    ],
)
def test_small_inputs_roundtrip(text: str) -> None:
    assert roundtrip_problems(text) == []


def test_corpus_roundtrips() -> None:
    paths = corpus_paths()
    if not paths:
        missing(f"no corpus at {CORPUS}")
    failures: list[str] = []
    checked = 0
    for path in paths:
        text = read_text(path)
        if text is None:
            continue
        try:
            problems = roundtrip_problems(text)
        except ParseError:
            continue  # round-trip is defined for files that parse
        except Exception as exc:  # a crash is a failure too, and must not hide the others
            problems = [f"{type(exc).__name__}: {exc}"]
        checked += 1
        failures += [f"{path.name}: {p}" for p in problems]
    assert checked > 0
    assert failures == [], f"{len(failures)} problems:\n" + "\n".join(failures[:50])

"""A lossless, read-only Dockerfile tree.

Every node keeps ``[start, end)`` offsets into the original text, and the
top-level nodes (instructions and trivia lines) cover the text exactly, so
``Dockerfile.render()`` gives back the input byte for byte, for every input.

The reading of the text follows BuildKit's parser (``frontend/dockerfile/parser``)
step by step, so that what this module calls an instruction, a heredoc, a flag or
a JSON form is what BuildKit calls one:

* lines are split on ``\\n``; trailing ``\\r`` is not content; a UTF-8 BOM on the
  first line is skipped;
* parser directives (``# syntax=``, ``# escape=``, ``# check=``) are read only
  at the top, before any other line; ``# escape=`` changes the line
  continuation character to a backtick;
* a line ending in the escape character (plus blanks) continues; comment lines
  and blank lines inside a continuation are skipped;
* ``RUN``/``COPY``/``ADD`` (also under ``ONBUILD``) in shell form whose joined
  line holds ``<<WORD`` words read heredoc bodies from the following lines.

Instructions carry the *logical* line BuildKit builds from the physical ones,
plus a segment map from logical offsets back to source offsets, so a rule can
find a word in the logical line and edit it in place in the file.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass

from rewriter.source import BOM, Source

__all__ = [
    "Dockerfile",
    "Flag",
    "Heredoc",
    "Instruction",
    "ParseError",
    "Span",
    "Stage",
    "Trivia",
    "parse",
]


class ParseError(ValueError):
    """The text is not a Dockerfile BuildKit's parser would accept."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class Flag:
    """A ``--name=value`` word before an instruction's arguments."""

    text: str  #: the word as BuildKit reads it (quotes removed), e.g. ``--chown=app``
    span: Span  #: source offsets of the raw word

    @property
    def name(self) -> str:
        return self.text[2:].split("=", 1)[0].lower()

    @property
    def value(self) -> str | None:
        parts = self.text[2:].split("=", 1)
        return parts[1] if len(parts) == 2 else None


@dataclass(frozen=True)
class Heredoc:
    name: str  #: the terminator word
    chomp: bool  #: ``<<-``: leading tabs are stripped
    expand: bool  #: False when the name was quoted
    fd: int
    body: Span  #: from the first body line to the start of the terminator line
    terminator: Span  #: the terminator line, including its newline
    content: str  #: every body line plus ``\n``, as BuildKit stores it


@dataclass(frozen=True)
class Trivia:
    """A line outside any instruction: blank, comment or parser directive."""

    kind: str  #: ``blank`` | ``comment`` | ``directive``
    span: Span


@dataclass(frozen=True, eq=False)
class Instruction:
    keyword: str  #: as written, e.g. ``run``
    span: Span  #: first line start .. end of the last line (heredocs included)
    header_end: int  #: end of the last continuation line, before any heredoc body
    start_line: int  #: 1-based
    end_line: int
    logical: str  #: the joined line BuildKit parses (continuations removed)
    segments: tuple[tuple[int, int, int], ...]  #: (logical start, source start, length)
    keyword_at: int  #: logical offset of the keyword
    flags: tuple[Flag, ...]
    args_at: int  #: logical offset of the (trimmed) arguments
    args: str
    json: bool
    values: tuple[str, ...]  #: JSON items, or whitespace-split words where BuildKit splits
    heredocs: tuple[Heredoc, ...] = ()
    sub: Instruction | None = None  #: the instruction under ``ONBUILD``

    @property
    def cmd(self) -> str:
        return self.keyword.upper()

    def src(self, loffset: int) -> int:
        """Source offset of the logical character at ``loffset``."""
        segs = self.segments
        i = bisect.bisect_right(self._seg_starts, loffset) - 1
        lstart, sstart, length = segs[max(i, 0)]
        return sstart + min(max(loffset - lstart, 0), length)

    @property
    def _seg_starts(self) -> list[int]:
        return [s[0] for s in self.segments]

    def src_end(self, loffset: int) -> int:
        """Source offset just after the logical character at ``loffset - 1``."""
        if loffset <= 0:
            return self.src(0)
        return self.src(loffset - 1) + 1

    @property
    def args_span(self) -> Span:
        return Span(self.src(self.args_at), self.src_end(self.args_at + len(self.args)))

    def flag(self, name: str) -> Flag | None:
        for f in self.flags:
            if f.name == name:
                return f
        return None


@dataclass(frozen=True, eq=False)
class Stage:
    index: int
    from_: Instruction
    base: str  #: image reference as written (``ARG``s not expanded)
    alias: str | None
    platform: str | None
    parent: int | None  #: index of the stage this one is built ``FROM``
    instructions: tuple[Instruction, ...]  #: after ``FROM``, up to the next one

    @property
    def name(self) -> str:
        return self.alias or str(self.index)


@dataclass(frozen=True, eq=False)
class Dockerfile:
    source: Source
    nodes: tuple[Instruction | Trivia, ...]
    directives: dict[str, str]
    escape: str
    meta_args: tuple[Instruction, ...]  #: ``ARG`` before the first ``FROM``
    stages: tuple[Stage, ...]
    has_bom: bool = False

    @property
    def text(self) -> str:
        return self.source.text

    @property
    def instructions(self) -> tuple[Instruction, ...]:
        return tuple(n for n in self.nodes if isinstance(n, Instruction))

    def render(self) -> str:
        t = self.source.text
        return "".join(t[n.span.start : n.span.end] for n in self.nodes)


# --- BuildKit's character classes and regular expressions -------------------

_GO_NOT_SPACE = "\x1c\x1d\x1e\x1f"


def _is_space(c: str) -> bool:
    """Go's unicode.IsSpace."""
    return c.isspace() and c not in _GO_NOT_SPACE


def _lstrip(s: str) -> str:
    i = 0
    while i < len(s) and _is_space(s[i]):
        i += 1
    return s[i:]


def _strip(s: str) -> str:
    s = _lstrip(s)
    j = len(s)
    while j > 0 and _is_space(s[j - 1]):
        j -= 1
    return s[:j]


#: Go's ``\s`` is ``[\t\n\f\r ]`` (no ``\v``).
_RE_DIRECTIVE = re.compile(r"^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$")
_VALID_DIRECTIVES = ("syntax", "escape", "check")
_RE_WS = re.compile(r"[\t\v\f\r ]+")
_RE_HEREDOC = re.compile(r"^(\d*)<<(-?)([^<]*)$")
_CONTINUATION = {
    # An escape character right before the end continues the line, unless it is
    # itself escaped (BuildKit reads ``trailing\\\\`` as a literal backslash).
    "\\": re.compile(r"(?<!\\)\\[ \t]*$"),
    "`": re.compile(r"(?<!`)`[ \t]*$"),
}
_HEREDOC_CMDS = frozenset({"run", "copy", "add"})
#: Instructions whose arguments BuildKit splits on whitespace into values.
_WS_SPLIT = frozenset({"from", "expose"})
_MAYBE_JSON = frozenset({"run", "cmd", "entrypoint", "shell"})
_MAYBE_JSON_LIST = frozenset({"copy", "add", "volume"})
KNOWN_INSTRUCTIONS = frozenset(
    {
        "add", "arg", "cmd", "copy", "entrypoint", "env", "expose", "from",
        "healthcheck", "label", "maintainer", "onbuild", "run", "shell",
        "stopsignal", "user", "volume", "workdir",
    }
)


class _Directives:
    def __init__(self) -> None:
        self.escape = "\\"
        self.seen: dict[str, str] = {}
        self.done = False
        self.continuation = _CONTINUATION["\\"]

    def feed(self, token: str, lineno: int) -> bool:
        """BuildKit's possibleParserDirective; True if ``token`` is a directive."""
        if self.done:
            return False
        m = _RE_DIRECTIVE.match(token)
        if not m:
            self.done = True
            return False
        key = m.group(1).lower()
        if key not in _VALID_DIRECTIVES:
            self.done = True
            return False
        if key in self.seen:
            raise ParseError(f"only one {key} parser directive can be used", lineno)
        value = m.group(2)
        self.seen[key] = value
        if key == "escape":
            if value not in ("`", "\\"):
                raise ParseError(f"invalid escape token '{value}' does not match ` or \\", lineno)
            self.escape = value
            self.continuation = _CONTINUATION[value]
        return True


def _is_comment(content: str) -> bool:
    return _lstrip(content).startswith("#")


# --- words -------------------------------------------------------------------


def parse_words(rest: str, escape: str) -> list[str]:
    """BuildKit's parseWords: split on blanks, quotes and escapes kept raw."""
    words: list[str] = []
    word: list[str] = []
    blank_ok = False
    quote = ""
    phase = 0  # 0 spaces, 1 word, 2 quote
    i, n = 0, len(rest)
    while i <= n:
        ch = rest[i] if i < n else ""
        if phase == 0:
            if i == n:
                break
            if _is_space(ch):
                i += 1
                continue
            phase = 1
        if i == n:
            if blank_ok or word:
                words.append("".join(word))
            break
        if phase == 1:
            if _is_space(ch):
                phase = 0
                if blank_ok or word:
                    words.append("".join(word))
                word, blank_ok = [], False
                i += 1
                continue
            if ch in "'\"":
                quote, blank_ok, phase = ch, True, 2
            if ch == escape:
                if i + 1 == n:
                    i += 1
                    continue
                word.append(ch)
                i += 1
                ch = rest[i]
            word.append(ch)
            i += 1
            continue
        # phase 2: in quote
        if ch == quote:
            phase = 1
        if ch == escape and quote != "'":
            if i + 1 == n:
                phase = 1
                i += 1
                continue
            word.append(ch)
            i += 1
            ch = rest[i]
        word.append(ch)
        i += 1
    return words


def shell_words_raw(line: str) -> list[tuple[str, int]]:
    """Shell-like words of ``line`` with quotes and escapes kept, and where each
    starts (BuildKit's lexer with RawQuotes and RawEscapes, escape ``\\``)."""
    out: list[tuple[str, int]] = []
    i, n = 0, len(line)
    while i < n:
        while i < n and _is_space(line[i]):
            i += 1
        if i >= n:
            break
        start = i
        while i < n and not _is_space(line[i]):
            c = line[i]
            if c == "\\":
                i += 2
            elif c == "'":
                j = line.find("'", i + 1)
                i = n if j < 0 else j + 1
            elif c == '"':
                i += 1
                while i < n and line[i] != '"':
                    i += 2 if line[i] == "\\" else 1
                i += 1
            else:
                i += 1
        i = min(i, n)
        out.append((line[start:i], start))
    return out


def _unquote_word(raw: str) -> str:
    out: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c == "\\" and i + 1 < n:
            out.append(raw[i + 1])
            i += 2
        elif c == "'":
            j = raw.find("'", i + 1)
            j = n if j < 0 else j
            out.append(raw[i + 1 : j])
            i = j + 1
        elif c == '"':
            i += 1
            while i < n and raw[i] != '"':
                if raw[i] == "\\" and i + 1 < n and raw[i + 1] in '"\\$`':
                    i += 1
                out.append(raw[i])
                i += 1
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def heredocs_in(line: str) -> list[tuple[str, bool, bool, int]]:
    """(name, chomp, expand, fd) of every heredoc word in ``line``."""
    docs = []
    for word, _ in shell_words_raw(line):
        m = _RE_HEREDOC.match(word)
        if not m or not m.group(3):
            continue
        raw_name = m.group(3)
        name = _unquote_word(raw_name)
        if not name:
            continue
        expand = not any(q in raw_name for q in "'\"")
        docs.append((name, m.group(2) == "-", expand, int(m.group(1) or 0)))
    return docs


def _extract_flags(line: str) -> tuple[int, list[tuple[str, int, int]]]:
    """BuildKit's extractBuilderFlags: (offset of the rest, [(flag, start, end)])."""
    words: list[tuple[str, int, int]] = []
    phase = 0  # 0 spaces, 1 word, 2 quote
    word: list[str] = []
    wstart = 0
    quote = ""
    blank_ok = False
    i, n = 0, len(line)
    while i <= n:
        ch = line[i] if i < n else ""
        if phase == 0:
            if i == n:
                break
            if _is_space(ch):
                i += 1
                continue
            if ch != "-" or i + 1 == n or line[i + 1] != "-":
                return i, words
            phase, wstart = 1, i
        if i == n:
            w = "".join(word)
            if w != "--" and (blank_ok or w):
                words.append((w, wstart, i))
            break
        if phase == 1:
            if _is_space(ch):
                phase = 0
                w = "".join(word)
                if w == "--":
                    return i, words
                if blank_ok or w:
                    words.append((w, wstart, i))
                word, blank_ok = [], False
                i += 1
                continue
            if ch in "'\"":
                quote, blank_ok, phase = ch, True, 2
                i += 1
                continue
            if ch == "\\":
                if i + 1 == n:
                    i += 1
                    continue
                i += 1
                ch = line[i]
            word.append(ch)
            i += 1
            continue
        if ch == quote:
            phase = 1
            i += 1
            continue
        if ch == "\\":
            if i + 1 == n:
                phase = 1
                i += 1
                continue
            i += 1
            ch = line[i]
        word.append(ch)
        i += 1
    return n, words


def _json_array(rest: str) -> list[str] | None:
    """BuildKit's parseJSON: a list of strings, None if not JSON; raises
    ValueError for a JSON array that is not all strings."""
    rest = _lstrip(rest)
    if not rest.startswith("["):
        return None

    def _no_constants(_: str) -> None:
        raise ValueError("not JSON")

    def _finite(text: str) -> float:
        value = float(text)
        if value in (float("inf"), float("-inf")):
            raise ValueError("number out of range")  # Go's decoder fails here
        return value

    try:
        # Like Go's json.Decoder.Decode: the first value counts, the rest is ignored.
        value, _ = json.JSONDecoder(
            parse_constant=_no_constants, parse_float=_finite
        ).raw_decode(rest)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(v, str) for v in value):
        raise ValueError("when using JSON array syntax, arrays must be comprised of strings only")
    return value


# --- the line parser ---------------------------------------------------------


@dataclass
class _Node:
    keyword_at: int
    keyword: str
    flags: list[tuple[str, int, int]]
    args_at: int
    args: str
    json: bool
    values: tuple[str, ...]
    sub: _Node | None = None


def _parse_node(line: str, base: int, escape: str, lineno: int) -> _Node:
    """BuildKit's newNodeFromLine on ``line`` (``base``: its logical offset)."""
    stripped = _strip(line)
    lead = len(line) - len(_lstrip(line))
    parts = _RE_WS.split(stripped, maxsplit=1)
    keyword = parts[0]
    flags: list[tuple[str, int, int]] = []
    args, args_at = "", base + lead + len(stripped)
    if len(parts) == 2:
        rest_at = lead + len(stripped) - len(parts[1])
        rest = parts[1]
        off, raw_flags = _extract_flags(rest)
        flags = [(w, base + rest_at + s, base + rest_at + e) for w, s, e in raw_flags]
        remainder = rest[off:]
        args = _strip(remainder)
        args_at = base + rest_at + off + (len(remainder) - len(_lstrip(remainder)))
    cmd = keyword.lower()
    is_json = False
    values: tuple[str, ...] = ()
    sub = None
    try:
        if cmd in _MAYBE_JSON or cmd in _MAYBE_JSON_LIST:
            arr = _json_array(args) if args else None
            if arr is not None:
                is_json, values = True, tuple(arr)
            elif cmd in _MAYBE_JSON_LIST:
                values = tuple(v for v in _RE_WS.split(args) if v)
            elif args:
                values = (args,)
        elif cmd == "healthcheck":
            first = args.split(None, 1)
            if first and len(first) == 2:
                arr = _json_array(first[1])
                if arr is not None:
                    is_json, values = True, (first[0], *arr)
                else:
                    values = (first[0], first[1])
            elif first:
                values = (first[0],)
        elif cmd in ("env", "label"):
            _check_name_val(args, cmd.upper(), escape)
        elif cmd == "onbuild" and args:
            sub = _parse_node(args, args_at, escape, lineno)
        elif cmd in _WS_SPLIT:
            values = tuple(v for v in _RE_WS.split(args) if v)
    except ValueError as exc:
        raise ParseError(str(exc), lineno) from None
    return _Node(base + lead, keyword, flags, args_at, args, is_json, values, sub)


def _check_name_val(rest: str, key: str, escape: str) -> None:
    words = parse_words(rest, escape)
    if not words:
        return
    if "=" not in words[0]:
        if len(_RE_WS.split(rest, maxsplit=1)) < 2:
            raise ValueError(f"{key} must have two arguments")
        return
    for w in words:
        if "=" not in w:
            raise ValueError(
                f"Syntax error - can't find = in {w!r}. Must be of the form: name=value"
            )


def parse(text: str) -> Dockerfile:
    """Parse ``text``; raises ``ParseError`` where BuildKit's parser would."""
    src = Source(text)
    lines = src.lines
    d = _Directives()
    nodes: list[Instruction | Trivia] = []
    n = len(lines)
    i = 0
    has_bom = text.startswith(BOM)
    while i < n:
        ln = lines[i]
        content_start = ln.start + (1 if i == 0 and has_bom else 0)
        raw = text[content_start : ln.content_end]
        token = _lstrip(raw)
        token_at = content_start + (len(raw) - len(token))
        is_comment = token.startswith("#")
        is_directive = d.feed(token, i + 1)
        content = "" if is_comment else token
        m = d.continuation.search(content)
        first = content[: m.start()] if m else content
        if not m and first == "":
            kind = "directive" if is_directive else ("comment" if is_comment else "blank")
            nodes.append(Trivia(kind, Span(ln.start, ln.end)))
            i += 1
            continue
        start_line = i
        segments = [(0, token_at, len(first))]
        logical = [first]
        llen = len(first)
        eol = m is None
        i += 1
        while not eol and i < n:
            ln2 = lines[i]
            raw2 = text[ln2.start : ln2.content_end]
            i += 1
            if _is_comment(raw2) or _lstrip(raw2) == "":
                continue
            m2 = d.continuation.search(raw2)
            part = raw2[: m2.start()] if m2 else raw2
            eol = m2 is None
            segments.append((llen, ln2.start, len(part)))
            logical.append(part)
            llen += len(part)
        line = "".join(logical)
        header_end = lines[i - 1].end
        node = _parse_node(line, 0, d.escape, start_line + 1)
        heredocs: list[Heredoc] = []
        target = node.sub if node.keyword.lower() == "onbuild" and node.sub else node
        if target.keyword.lower() in _HEREDOC_CMDS and not target.json and "<<" in line:
            for name, chomp, expand, fd in heredocs_in(line):
                body_start = lines[i].start if i < n else len(text)
                body: list[str] = []
                terminated = False
                while i < n:
                    ln3 = lines[i]
                    i += 1
                    cand = text[ln3.start : ln3.content_end]
                    if chomp:
                        cand = cand.lstrip("\t")
                    if cand == name:
                        heredocs.append(
                            Heredoc(
                                name, chomp, expand, fd,
                                Span(body_start, ln3.start), Span(ln3.start, ln3.end),
                                "".join(body),
                            )
                        )
                        terminated = True
                        break
                    body.append(text[ln3.start : ln3.end].rstrip("\n") + "\n")
                if not terminated:
                    raise ParseError("unterminated heredoc", start_line + 1)
        end = lines[i - 1].end
        nodes.append(_make_instruction(node, tuple(segments), line, lines[start_line].start,
                                       end, header_end, start_line + 1, i, tuple(heredocs)))
    return _assemble(src, nodes, d, has_bom)


def _make_instruction(
    node: _Node,
    segments: tuple[tuple[int, int, int], ...],
    line: str,
    start: int,
    end: int,
    header_end: int,
    start_line: int,
    end_line: int,
    heredocs: tuple[Heredoc, ...],
) -> Instruction:
    proto = Instruction(
        keyword=node.keyword, span=Span(start, end), header_end=header_end,
        start_line=start_line, end_line=end_line, logical=line, segments=segments,
        keyword_at=node.keyword_at, flags=(), args_at=node.args_at, args=node.args,
        json=node.json, values=node.values, heredocs=heredocs,
    )
    flags = tuple(Flag(w, Span(proto.src(s), proto.src_end(e))) for w, s, e in node.flags)
    sub = None
    if node.sub is not None:
        sub = _make_instruction(node.sub, segments, line, start, end, header_end,
                                start_line, end_line, heredocs)
    object.__setattr__(proto, "flags", flags)
    object.__setattr__(proto, "sub", sub)
    return proto


def _assemble(src: Source, nodes: list[Instruction | Trivia], d: _Directives,
              has_bom: bool) -> Dockerfile:
    meta_args: list[Instruction] = []
    stages: list[Stage] = []
    current: list[Instruction] | None = None
    pending: tuple[Instruction, str, str | None, str | None, int | None] | None = None
    names: dict[str, int] = {}

    def close() -> None:
        if pending is not None and current is not None:
            frm, base, alias, platform, parent = pending
            stages.append(Stage(len(stages), frm, base, alias, platform, parent, tuple(current)))

    for node in nodes:
        if not isinstance(node, Instruction):
            continue
        if node.cmd == "FROM":
            close()
            vals = node.values
            base = vals[0] if vals else ""
            alias = vals[2] if len(vals) >= 3 and vals[1].lower() == "as" else None
            pf = node.flag("platform")
            parent = names.get(base.lower())
            pending = (node, base, alias, pf.value if pf else None, parent)
            if alias:
                names[alias.lower()] = len(stages)
            current = []
        elif current is None:
            if node.cmd == "ARG":
                meta_args.append(node)
        else:
            current.append(node)
    close()
    return Dockerfile(src, tuple(nodes), dict(d.seen), d.escape, tuple(meta_args),
                      tuple(stages), has_bom)

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
import sys
from typing import NamedTuple

from rewriter.core import language
from rewriter.core.source import BOM, Source, Span

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


class ParseError(language.ParseError):
    """The text is not a Dockerfile BuildKit's parser would accept."""


# The value types are named tuples and the tree nodes plain classes with
# slots, not dataclasses: a long file has hundreds of thousands of them, and
# building dataclasses (at import, and each instance) cost more than parsing.
# The tree is read-only by convention: nothing changes a node once it is made.


class Flag(NamedTuple):
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


class Heredoc(NamedTuple):
    name: str  #: the terminator word
    chomp: bool  #: ``<<-``: leading tabs are stripped
    expand: bool  #: False when the name was quoted
    fd: int
    body: Span  #: from the first body line to the start of the terminator line
    terminator: Span  #: the terminator line, including its newline
    content: str  #: every body line plus ``\n``, as BuildKit stores it


class Trivia(NamedTuple):
    """A line outside any instruction: blank, comment or parser directive."""

    kind: str  #: ``blank`` | ``comment`` | ``directive``
    span: Span


class Instruction:
    """One instruction, ``ONBUILD`` included (its own is ``sub``).  Compared by
    identity, like every tree node."""

    # What the line table already knows (the span, the header's end) is read
    # from it when asked, and a one-line instruction's logical line from the
    # text: a 10 MiB file of one-word RUNs has nearly two million instructions,
    # and every object kept per instruction costs about ten times its line.
    __slots__ = ("keyword", "_source", "start_line", "end_line", "_header_line", "_logical",
                 "_segs", "keyword_at", "flags", "args_at", "args", "json", "values",
                 "heredocs", "sub", "_seg_starts", "derived", "cmd")

    def __init__(
        self,
        keyword: str,
        source: Source,
        start_line: int,
        end_line: int,
        header_line: int,
        logical: str | None,
        segments: tuple[tuple[int, int, int], ...],
        keyword_at: int,
        flags: tuple[Flag, ...],
        args_at: int,
        args: str,
        json: bool,
        values: tuple[str, ...],
        heredocs: tuple[Heredoc, ...] = (),
        sub: Instruction | None = None,
    ) -> None:
        # interned: a long file has the same few keywords a million times
        self.keyword = sys.intern(keyword)  #: as written, e.g. ``run``
        self.cmd = sys.intern(keyword.upper())  #: e.g. ``RUN``
        self._source = source
        self.start_line = start_line  #: 1-based
        self.end_line = end_line  #: 1-based, the last line (heredocs included)
        self._header_line = header_line  #: 1-based, the last continuation line
        #: the logical line; None when it is one segment of the text (see ``logical``)
        self._logical = logical
        #: ``segments`` with source starts relative to the span's start: the
        #: same few tuples for every one-line instruction (shared, see ``parse``)
        self._segs = segments
        self.keyword_at = keyword_at  #: logical offset of the keyword
        self.flags = flags
        self.args_at = args_at  #: logical offset of the (trimmed) arguments
        self.args = args
        self.json = json
        self.values = values  #: JSON items, or whitespace-split words where BuildKit splits
        self.heredocs = heredocs
        self.sub = sub  #: the instruction under ``ONBUILD``
        self._seg_starts: list[int] | None = None
        #: what analyses derive from the instruction, kept for the next one that
        #: asks (e.g. its shell commands); nothing in this module reads it
        self.derived: dict[str, object] | None = None

    @property
    def span(self) -> Span:
        """First line start .. end of the last line (heredocs included)."""
        lines = self._source.lines
        return Span(lines.starts[self.start_line - 1], lines.ends[self.end_line - 1])

    @property
    def header_end(self) -> int:
        """End of the last continuation line, before any heredoc."""
        return self._source.lines.ends[self._header_line - 1]

    @property
    def logical(self) -> str:
        """The joined line BuildKit parses (continuations removed)."""
        if self._logical is not None:
            return self._logical
        _, rel, length = self._segs[0]
        at = self._source.lines.starts[self.start_line - 1] + rel
        return self._source.text[at : at + length]

    def __repr__(self) -> str:
        return (f"Instruction(keyword={self.keyword!r}, span={self.span!r}, "
                f"start_line={self.start_line!r}, end_line={self.end_line!r}, "
                f"logical={self.logical!r})")

    @property
    def segments(self) -> tuple[tuple[int, int, int], ...]:
        """(logical start, source start, length) of each piece of the logical line."""
        at = self._source.lines.starts[self.start_line - 1]
        return tuple((lstart, at + rel, length) for lstart, rel, length in self._segs)

    def src(self, loffset: int) -> int:
        """Source offset of the logical character at ``loffset``."""
        segs = self._segs
        if len(segs) == 1:
            i = 0
        else:
            if self._seg_starts is None:
                self._seg_starts = [s[0] for s in segs]
            i = max(bisect.bisect_right(self._seg_starts, loffset) - 1, 0)
        lstart, rel, length = segs[i]
        at = self._source.lines.starts[self.start_line - 1]
        return at + rel + min(max(loffset - lstart, 0), length)

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


class Stage:
    __slots__ = ("index", "from_", "base", "alias", "platform", "parent", "instructions")

    def __init__(self, index: int, from_: Instruction, base: str, alias: str | None,
                 platform: str | None, parent: int | None,
                 instructions: tuple[Instruction, ...]) -> None:
        self.index = index
        self.from_ = from_
        self.base = base  #: image reference as written (``ARG``s not expanded)
        self.alias = alias
        self.platform = platform
        self.parent = parent  #: index of the stage this one is built ``FROM``
        self.instructions = instructions  #: after ``FROM``, up to the next one

    def __repr__(self) -> str:
        return f"Stage(index={self.index!r}, base={self.base!r}, alias={self.alias!r})"

    @property
    def name(self) -> str:
        return self.alias or str(self.index)


class Dockerfile:
    __slots__ = ("source", "nodes", "directives", "escape", "meta_args", "stages", "has_bom",
                 "dangling_continuation", "instructions")

    def __init__(self, source: Source, nodes: tuple[Instruction | Trivia, ...],
                 directives: dict[str, str], escape: str, meta_args: tuple[Instruction, ...],
                 stages: tuple[Stage, ...], has_bom: bool = False,
                 dangling_continuation: int | None = None) -> None:
        self.source = source
        self.nodes = nodes
        self.directives = directives
        self.escape = escape
        self.meta_args = meta_args  #: ``ARG`` before the first ``FROM``
        self.stages = stages
        self.has_bom = has_bom
        #: the first line of the last instruction when the file ends inside it (its
        #: last line ends in the escape character): BuildKit accepts that, but the
        #: file looks cut short, and text added after it would join the instruction
        self.dangling_continuation = dangling_continuation
        self.instructions: tuple[Instruction, ...] = tuple(
            n for n in nodes if isinstance(n, Instruction))

    def __repr__(self) -> str:
        return f"Dockerfile(nodes={len(self.nodes)}, stages={len(self.stages)})"

    @property
    def text(self) -> str:
        return self.source.text

    def render(self) -> str:
        t = self.source.text
        return "".join(t[n.span.start : n.span.end] for n in self.nodes)


# --- BuildKit's character classes and regular expressions -------------------

_GO_NOT_SPACE = "\x1c\x1d\x1e\x1f"
#: Go's unicode.IsSpace: Python's ``str.isspace`` minus ``\x1c``-``\x1f``
#: (``tests/dockerfile/test_syntax.py`` checks this against every code point).
GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _is_space(c: str) -> bool:
    """Go's unicode.IsSpace."""
    return c in GO_SPACE and c != ""


def _lstrip(s: str) -> str:
    return s.lstrip(GO_SPACE)


def _strip(s: str) -> str:
    return s.strip(GO_SPACE)


#: Go's ``\s`` is ``[\t\n\f\r ]`` (no ``\v``).
_RE_DIRECTIVE = re.compile(r"^#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$")
_VALID_DIRECTIVES = ("syntax", "escape", "check")
_RE_WS = re.compile(r"[\t\v\f\r ]+")
_RE_GO_WS = re.compile("[" + re.escape(GO_SPACE) + "]+")
_RE_GO_WORD = re.compile("[^" + re.escape(GO_SPACE) + "]+")
_RE_HEREDOC = re.compile(r"^(\d*)<<(-?)([^<]*)$")
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
        return True


def _continuation_at(content: str, escape: str) -> int:
    """Where the escape character that continues ``content`` on the next line
    is, or -1: it must end the line (blanks after it are allowed) and must not
    itself be escaped (BuildKit reads ``trailing\\\\`` as a literal backslash)."""
    r = content.rstrip(" \t")
    if r.endswith(escape) and not r.endswith(escape + escape):
        return len(r) - 1
    return -1


# --- words -------------------------------------------------------------------


def parse_words(rest: str, escape: str) -> list[str]:
    """BuildKit's parseWords: split on blanks, quotes and escapes kept raw."""
    if escape not in rest and "'" not in rest and '"' not in rest:
        return [w for w in _RE_GO_WS.split(rest) if w]  # the usual case, without the loop
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


#: One word of ``shell_words_raw``: an escape and the character after it, a
#: quoted string (to the end of the line when it is not closed), or any other
#: character that is not Go whitespace.
_RE_RAW_WORD = re.compile(
    r"""(?:\\[\s\S]?|'[^']*'?|"(?:\\[\s\S]?|[^"\\])*"?|[^'"\\""" + re.escape(GO_SPACE) + "])+"
)


def shell_words_raw(line: str) -> list[tuple[str, int]]:
    """Shell-like words of ``line`` with quotes and escapes kept, and where each
    starts (BuildKit's lexer with RawQuotes and RawEscapes, escape ``\\``)."""
    return [(m.group(), m.start()) for m in _RE_RAW_WORD.finditer(line)]


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
    for m in _RE_GO_WORD.finditer(line):  # the usual flags: no quotes, no escapes
        w = m.group()
        if not w.startswith("--"):
            return m.start(), words
        if "'" in w or '"' in w or "\\" in w:
            return _extract_quoted_flags(line)
        if w == "--":
            return m.end(), words
        words.append((w, m.start(), m.end()))
    return len(line), words


def _extract_quoted_flags(line: str) -> tuple[int, list[tuple[str, int, int]]]:
    """``_extract_flags`` for flags with quotes or escapes in them: BuildKit's
    ``extractBuilderFlags``.  Its loop looks like ``parse_words`` (BuildKit's
    ``parseWords``) and stays apart from it as upstream keeps them, so each
    can be read against its Go original: this one unquotes, takes ``\\`` as
    an escape even inside single quotes, and stops at the first word that is
    not a flag; ``parseWords`` keeps quotes and escapes as written."""
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


class _Node:
    __slots__ = ("keyword_at", "keyword", "flags", "args_at", "args", "json", "values", "sub")

    def __init__(self, keyword_at: int, keyword: str, flags: list[tuple[str, int, int]],
                 args_at: int, args: str, json: bool, values: tuple[str, ...],
                 sub: _Node | None = None) -> None:
        self.keyword_at, self.keyword, self.flags = keyword_at, keyword, flags
        self.args_at, self.args, self.json, self.values, self.sub = args_at, args, json, values, sub


def _parse_node(line: str, base: int, escape: str, lineno: int, nested: bool = False) -> _Node:
    """BuildKit's newNodeFromLine on ``line`` (``base``: its logical offset).

    ``nested``: ``line`` is what follows an ``ONBUILD``.  An ``ONBUILD`` there
    (which no build accepts: "Chaining ONBUILD via `ONBUILD ONBUILD` isn't
    allowed") gets no instruction of its own, so that a line of a thousand
    ``ONBUILD`` words cannot exhaust the stack.
    """
    lstripped = line.lstrip(GO_SPACE)
    lead = len(line) - len(lstripped)
    stripped = lstripped.rstrip(GO_SPACE)
    parts = _RE_WS.split(stripped, maxsplit=1)
    keyword = parts[0]
    flags: list[tuple[str, int, int]] = []
    args, args_at = "", base + lead + len(stripped)
    if len(parts) == 2:
        rest_at = lead + len(stripped) - len(parts[1])
        rest = parts[1]
        bare = rest.lstrip(GO_SPACE)
        if bare.startswith("--"):
            off, raw_flags = _extract_flags(rest)
            flags = [(w, base + rest_at + s, base + rest_at + e) for w, s, e in raw_flags]
        else:  # no flags: where _extract_flags would stop
            off = len(rest) - len(bare)
        remainder = rest[off:]
        args = remainder.strip(GO_SPACE)
        args_at = base + rest_at + off + (len(remainder) - len(remainder.lstrip(GO_SPACE)))
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
                values = tuple(filter(None, _RE_WS.split(args)))
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
            if not nested:
                sub = _parse_node(args, args_at, escape, lineno, nested=True)
        elif cmd in _WS_SPLIT:
            values = tuple(filter(None, _RE_WS.split(args)))
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
    # the line table's arrays, read directly: a Line per line would cost a tuple each
    starts, content_ends, ends = src.lines.starts, src.lines.content_ends, src.lines.ends
    d = _Directives()
    nodes: list[Instruction | Trivia] = []
    n = len(starts)
    i = 0
    has_bom = text.startswith(BOM)
    dangling: int | None = None
    #: the relative segment tables made so far: most instructions have one line,
    #: and their tables repeat (``(0, 0, 5)`` for every ``RUN a``)
    shared: dict[tuple[tuple[int, int, int], ...], tuple[tuple[int, int, int], ...]] = {}
    while i < n:
        line_start = starts[i]
        content_start = line_start + (1 if i == 0 and has_bom else 0)
        raw = text[content_start : content_ends[i]]
        token = raw.lstrip(GO_SPACE)
        token_at = content_start + (len(raw) - len(token))
        is_comment = token.startswith("#")
        is_directive = not d.done and d.feed(token, i + 1)
        content = "" if is_comment else token
        # (most lines end in neither the escape character nor a blank: no continuation)
        cut = _continuation_at(content, d.escape) if content[-1:] in (d.escape, " ", "\t") else -1
        first = content if cut < 0 else content[:cut]
        if cut < 0 and first == "":
            kind = "directive" if is_directive else ("comment" if is_comment else "blank")
            nodes.append(Trivia(kind, Span(line_start, ends[i])))
            i += 1
            continue
        start_line = i
        segments = [(0, token_at, len(first))]
        logical = [first]
        llen = len(first)
        eol = cut < 0
        i += 1
        while not eol and i < n:
            start2 = starts[i]
            raw2 = text[start2 : content_ends[i]]
            i += 1
            bare = _lstrip(raw2)
            if not bare or bare[0] == "#":  # blank and comment lines are skipped
                continue
            cut = _continuation_at(raw2, d.escape)
            part = raw2 if cut < 0 else raw2[:cut]
            eol = cut < 0
            segments.append((llen, start2, len(part)))
            logical.append(part)
            llen += len(part)
        if not eol:
            dangling = start_line + 1
        line = "".join(logical)
        header_line = i
        node = _parse_node(line, 0, d.escape, start_line + 1)
        heredocs: list[Heredoc] = []
        target = node.sub if node.sub and node.keyword.lower() == "onbuild" else node
        if "<<" in line and target.keyword.lower() in _HEREDOC_CMDS and not target.json:
            for name, chomp, expand, fd in heredocs_in(line):
                body_start = starts[i] if i < n else len(text)
                body: list[str] = []
                terminated = False
                while i < n:
                    start3, end3 = starts[i], ends[i]
                    cand = text[start3 : content_ends[i]]
                    i += 1
                    if chomp:
                        cand = cand.lstrip("\t")
                    if cand == name:
                        heredocs.append(
                            Heredoc(
                                name, chomp, expand, fd,
                                Span(body_start, start3), Span(start3, end3),
                                "".join(body),
                            )
                        )
                        terminated = True
                        break
                    body.append(text[start3 : end3].rstrip("\n") + "\n")
                if not terminated:
                    raise ParseError("unterminated heredoc", start_line + 1)
        start = starts[start_line]
        rel: tuple[tuple[int, int, int], ...]
        if len(segments) == 1:
            rel = ((0, token_at - start, len(first)),)
            rel = shared.setdefault(rel, rel)
        else:
            rel = tuple((lstart, at - start, length) for lstart, at, length in segments)
        # equal ints as one object each (most instructions are one line)
        first_line = start_line + 1
        last_line = first_line if i == first_line else i
        header_line = last_line if header_line == last_line else header_line
        nodes.append(_make_instruction(node, rel, None if len(rel) == 1 else line, src,
                                       first_line, last_line, header_line, tuple(heredocs)))
    return _assemble(src, nodes, d, has_bom, dangling)


def _make_instruction(
    node: _Node,
    segments: tuple[tuple[int, int, int], ...],
    line: str | None,
    source: Source,
    start_line: int,
    end_line: int,
    header_line: int,
    heredocs: tuple[Heredoc, ...],
) -> Instruction:
    """``line``: the logical line, or None when it is ``segments``' one segment."""
    ins = Instruction(node.keyword, source, start_line, end_line, header_line, line,
                      segments, node.keyword_at, (), node.args_at, node.args, node.json,
                      node.values, heredocs)
    if node.flags:
        ins.flags = tuple(Flag(w, Span(ins.src(s), ins.src_end(e))) for w, s, e in node.flags)
    if node.sub is not None:
        ins.sub = _make_instruction(node.sub, segments, line, source, start_line, end_line,
                                    header_line, heredocs)
    return ins


def _assemble(src: Source, nodes: list[Instruction | Trivia], d: _Directives,
              has_bom: bool, dangling: int | None) -> Dockerfile:
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
                      tuple(stages), has_bom, dangling)

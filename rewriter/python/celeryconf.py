"""A Python file's Celery configuration, read with libcst.

``read(text)`` parses the file with libcst (``rewriter.python.language.parse``
first makes sure it is Python 3 as the interpreter reads it) and finds every place a
Celery setting the rules care about is written, in each of the ways Celery
reads one:

* keyword arguments of ``Celery(...)`` (``broker=``, ``backend=`` and settings)
  and of ``X.conf.update(...)``, and the keys of a dict given to it;
* ``X.conf.NAME = value`` and ``X.conf['NAME'] = value``;
* ``NAME = value`` at module or class level (a ``celeryconfig`` module, a class
  given to ``config_from_object``, Django settings read with
  ``namespace='CELERY'``), old uppercase and new lowercase names.

Each ``Setting`` knows its value (when it is a literal) and how to write
another setting beside it in the same form.  The tree is read only; rules
change the file with text edits (``rewriter.core.edits``), so every byte they
do not touch stays as it was.

libcst is imported here only, and this module is imported only once a file
has been recognised as configuring Celery (``rewriter.python.detect``):
importing libcst costs more than fixing a typical Dockerfile, and a run over
Dockerfiles alone never needs it.
"""

from __future__ import annotations

import ast
import io
import tokenize
from typing import Any

import libcst as cst
from libcst.metadata import ByteSpanPositionProvider, MetadataWrapper

from rewriter.core.source import Source
from rewriter.core.source import Span
from rewriter.python.model import Config, PythonParseError, Setting
from rewriter.python.names import CANONICAL, CELERY_KWARGS


def read(text: str) -> Config:
    """The Celery configuration in ``text`` (which ``rewriter.python.language.parse``
    has already checked is Python 3, with the interpreter's own ``ast``); raises
    ``PythonParseError``."""
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise PythonParseError(f"not Python 3: {exc.message}", exc.raw_line) from None
    if module.code != text:  # libcst's own promise; a file it cannot keep is refused
        raise PythonParseError("libcst could not read this file losslessly", 1)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    spans = wrapper.resolve(ByteSpanPositionProvider)
    reader = _Reader(text, spans)
    wrapper.visit(reader)
    return reader.config


def _offsets(text: str) -> list[int] | None:
    """Byte offset (UTF-8) -> character offset, or ``None`` when they are equal."""
    if text.isascii():
        return None
    table = []
    for i, ch in enumerate(text):
        table.extend([i] * len(ch.encode("utf-8", "surrogatepass")))
    table.append(len(text))
    return table


def _conf(node: cst.BaseExpression) -> bool:
    """``X.conf``."""
    return isinstance(node, cst.Attribute) and node.attr.value == "conf"


def _string_key(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _where_from(node: cst.BaseExpression, code: str) -> str:
    """Where a value that is not a literal comes from, in words."""
    low = code.lower()
    if isinstance(node, (cst.Call, cst.Subscript)) and ("environ" in low or "env" in low
                                                        or "getenv" in low):
        return "an environment lookup"
    if isinstance(node, (cst.Name, cst.Attribute)):
        return "a name defined or imported elsewhere"
    if isinstance(node, cst.Call):
        return "a function call"
    return "a computed value"


class _Reader(cst.CSTVisitor):
    def __init__(self, text: str, spans: Any) -> None:
        self.text = text
        self.spans = spans
        self.table = _offsets(text)
        self.config = Config(Source(text))
        self.functions = 0  #: depth of function bodies (their names are not settings)
        self.line: cst.SimpleStatementLine | None = None

    # --- positions ---------------------------------------------------------

    def _off(self, byte: int) -> int:
        return byte if self.table is None else self.table[byte]

    def span(self, node: cst.CSTNode) -> Span:
        s = self.spans[node]
        return Span(self._off(s.start), self._off(s.start + s.length))

    def code(self, node: cst.CSTNode) -> str:
        s = self.span(node)
        return self.text[s.start:s.end]

    def lineno(self, offset: int) -> int:
        return self.config.source.line_col(offset)[0]

    def _indent_before(self, offset: int) -> str | None:
        """The text before ``offset`` on its line, when it is only blanks."""
        src = self.config.source
        start = src.lines[src.line_index(offset)].start if src.lines else 0
        before = self.text[start:offset]
        return before if before.strip() == "" else None

    # --- scopes ------------------------------------------------------------

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions += 1

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions -= 1

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.functions += 1

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self.functions -= 1

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.line = node

    def leave_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.line = None

    # --- calls -------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        name = func.value if isinstance(func, cst.Name) else (
            func.attr.value if isinstance(func, cst.Attribute) else None)
        line = self.lineno(self.span(node).start)
        if name == "Celery":
            for arg in node.args:
                if arg.keyword is None:
                    if arg.star:
                        self.config.elsewhere.append(("`Celery(**...)`", line))
                    continue
                key = arg.keyword.value
                if key == "config_source":
                    self.config.elsewhere.append(("`Celery(config_source=...)`", line))
                canonical = CELERY_KWARGS.get(key) or CANONICAL.get(key)
                if canonical:
                    self._element(canonical, key, arg, arg.keyword, arg.value, node, "{key}={value}")
        elif name == "update" and isinstance(func, cst.Attribute) and _conf(func.value):
            for arg in node.args:
                if arg.keyword is not None:
                    key = arg.keyword.value
                    if key in CANONICAL:
                        self._element(CANONICAL[key], key, arg, arg.keyword, arg.value, node,
                                      "{key}={value}")
                elif isinstance(arg.value, cst.Dict) and not arg.star:
                    self._dict(arg.value)
                else:
                    self.config.elsewhere.append(("`conf.update(...)` of a mapping", line))
        elif name in ("config_from_object", "config_from_envvar"):
            self.config.elsewhere.append((f"`{name}(...)`", line))
        elif name == "setup_security":
            self.config.setup_security = True

    def _dict(self, d: cst.Dict) -> None:
        for el in d.elements:
            if not isinstance(el, cst.DictElement):
                continue
            key = _string_key(el.key)
            if key in CANONICAL:
                assert isinstance(el.key, cst.SimpleString)
                q = el.key.quote
                self._element(CANONICAL[key], key, el, el.key, el.value, d,
                              f"{q}{{key}}{q}: {{value}}")

    def _element(self, canonical: str, spelled: str, el: cst.Arg | cst.DictElement,
                 key: cst.CSTNode, value: cst.BaseExpression, container: cst.CSTNode,
                 entry: str) -> None:
        """A setting that is one element of a call's arguments or of a dict."""
        start = self.span(key).start
        vspan = self.span(value)
        close = self.span(container).end - 1  # the closing bracket
        indent = self._indent_before(start)
        nl = self.config.source.newline
        has_comma = isinstance(el.comma, cst.Comma)
        at, insert = vspan.end, ", {entry}"
        if indent is not None:
            if has_comma:
                comma_end = (self.span(el.comma).end
                             if isinstance(el.comma, cst.Comma) and el.comma in self.spans else None)
                if comma_end is not None:
                    src = self.config.source
                    ln = src.lines[src.line_index(comma_end)]
                    rest = self.text[comma_end:ln.content_end].strip()
                    if (not rest or rest.startswith("#")) and ln.end <= close:
                        at, insert = ln.end, indent + "{entry}," + nl
            else:
                insert = "," + nl + indent + "{entry}"
        self._add(canonical, spelled, "call" if isinstance(el, cst.Arg) else "dict",
                  Span(start, vspan.end), value, at, insert, entry)

    # --- assignments -------------------------------------------------------

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self._target(t.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._target(node.target, node.value)

    def _target(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if isinstance(target, cst.Attribute) and _conf(target.value):
            key = target.attr.value
            if key in CANONICAL:
                receiver = self.code(target.value)
                self._statement(CANONICAL[key], key, "attribute", target, value,
                                receiver + ".{key} = {value}")
        elif isinstance(target, cst.Subscript) and _conf(target.value):
            if len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
                k = target.slice[0].slice.value
                name = _string_key(k)
                if name is not None and name in CANONICAL:
                    assert isinstance(k, cst.SimpleString)
                    q = k.quote
                    receiver = self.code(target.value)
                    self._statement(CANONICAL[name], name, "subscript", target, value,
                                    f"{receiver}[{q}{{key}}{q}] = {{value}}")
        elif isinstance(target, cst.Name) and self.functions == 0:
            key = target.value
            if key in CANONICAL:
                self._statement(CANONICAL[key], key, "assign", target, value, "{key} = {value}")

    def _statement(self, canonical: str, spelled: str, form: str, target: cst.CSTNode,
                   value: cst.BaseExpression, entry: str) -> None:
        at, insert = -1, ""
        if self.line is not None:
            stmt = self.span(self.line)
            indent = self._indent_before(stmt.start)
            if indent is not None:
                src = self.config.source
                ln = src.lines[src.line_index(stmt.end)]
                nl = src.newline
                if self.text[ln.content_end:ln.end].endswith("\n"):
                    at, insert = ln.end, indent + "{entry}" + nl
                else:  # the last line, with no line break
                    at, insert = ln.end, nl + indent + "{entry}"
        self._add(canonical, spelled, form, Span(self.span(target).start, self.span(value).end),
                  value, at, insert, entry)

    # --- the setting ---------------------------------------------------------

    def _add(self, canonical: str, spelled: str, form: str, span: Span,
             value: cst.BaseExpression, at: int, insert: str, entry: str) -> None:
        vspan = self.span(value)
        code = self.text[vspan.start:vspan.end]
        literal, python, why = False, None, ""
        try:
            python = ast.literal_eval("(" + code + "\n)")
            literal = _strings(python)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            literal = False
        if not literal:
            python = None
            why = _where_from(value, code)
        first = value
        if isinstance(value, (cst.List, cst.Tuple, cst.Set)) and value.elements:
            first = value.elements[0].value
        quote = first.quote[0] if isinstance(first, cst.SimpleString) else "'"
        statement = " ".join(self.text[span.start:span.end].split())
        self.config.settings.append(Setting(
            canonical, spelled, form, span, vspan, literal, python, type(value).__name__, why,
            quote, at, insert, entry, self.lineno(span.start), statement, "#" in _code_only(code),
        ))


def _strings(value: Any) -> bool:
    """A string, bool, number or None, or a flat list/tuple/set of those."""
    scalar = (str, bool, int, float, type(None))
    if isinstance(value, scalar):
        return True
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(isinstance(v, scalar) for v in value)
    return False


def _code_only(code: str) -> str:
    """``code`` without its string literals (to see whether it has a comment)."""
    try:
        toks = tokenize.generate_tokens(io.StringIO(code).readline)
        return "".join("#" for t in toks if t.type == tokenize.COMMENT)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return "#"

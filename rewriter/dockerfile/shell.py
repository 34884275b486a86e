"""Just enough shell to read ``RUN`` lines: simple commands and ``&&`` chains.

Every reading of shell text in dockfix is here:

* ``commands(text)`` splits a shell-form ``RUN`` (its logical line, after the
  keyword and flags) into simple commands with their words and where each one
  starts and ends, and the operator that joins it to the previous one.  Anything
  it cannot follow for certain (command substitution, subshells, compound
  commands, here-documents, unbalanced quotes) marks the result ``opaque``: rules
  may still look at it to *find* things, but must not edit it.
* ``programs(text)`` is the loose reading for *guessing*: the programs a text
  runs, looked for everywhere a command may start (inside ``$(...)``,
  subshells, ``if``/``then`` and ``sh -c "..."`` too), with their arguments.
* ``form_words(ins)`` the words of a ``CMD``/``ENTRYPOINT``: its JSON array, or
  its shell form split on blanks.

This is string work only: nothing is ever executed or evaluated.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from collections.abc import Iterator
from typing import NamedTuple

from rewriter.dockerfile.syntax import Instruction

_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_COMPOUND = frozenset({"if", "then", "else", "elif", "fi", "for", "while", "until", "do",
                       "done", "case", "esac", "{", "}", "function", "!"})


class Word(NamedTuple):
    """One shell word.  Words and commands are named tuples, not dataclasses:
    a long ``RUN`` has thousands, and they are built on every parse."""

    text: str  #: unquoted value (quotes and backslashes removed)
    raw: str  #: as written
    start: int
    end: int

    @property
    def quoted(self) -> bool:
        return self.raw != self.text


class Command(NamedTuple):
    words: tuple[Word, ...]
    start: int  #: offset of the first word
    end: int  #: offset just after the last word
    op_before: str | None  #: operator joining it to the previous command
    op_start: int | None  #: offset of that operator

    @property
    def argv(self) -> list[str]:
        return [w.text for w in self.words]

    @property
    def name(self) -> str:
        """The command's program, past ``env VAR=x``, ``sudo`` and assignments."""
        argv = self.argv
        i = 0
        while i < len(argv):
            a = argv[i]
            if _ASSIGNMENT.match(a):
                i += 1
            elif a in ("sudo", "env", "exec", "command", "nohup", "time"):
                i += 1
                while i < len(argv) and argv[i].startswith("-"):
                    i += 1
            else:
                return a.rsplit("/", 1)[-1]
        return ""

    def args_after_name(self) -> list[str]:
        argv = self.argv
        name = self.name
        for i, a in enumerate(argv):
            if a.rsplit("/", 1)[-1] == name:
                return argv[i + 1:]
        return []


@dataclass(frozen=True)
class Script:
    """The commands of a shell text, as far as this module reads them."""

    commands: tuple[Command, ...]
    opaque: bool  #: something here is beyond this module; do not edit


def commands(text: str, escape: str = "\\") -> Script:
    """The simple commands of ``text``; the same text always gives the same
    (immutable) ``Script``, so repeated reads of one ``RUN`` are cached."""
    return _commands(text, escape, 0)


#: Characters that end a word or start an operator.
_BREAK = frozenset(" \t\r\f\v\n&|;")


@functools.lru_cache(maxsize=1024)
def _plain_runs(escape: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Runs of characters with no meaning to the word loop: outside quotes, and
    inside double quotes."""
    esc = re.escape(escape)
    return (re.compile(r"[^ \t\r\f\v\n&|;'\"`$()<" + esc + "]+"),
            re.compile(r'[^"`$' + esc + "]+"))


@functools.lru_cache(maxsize=4096)
def _commands(text: str, escape: str, base: int) -> Script:
    """``commands(text, escape)``, every offset plus ``base``."""
    cmds: list[Command] = []
    words: list[Word] = []
    opaque = False
    op: str | None = None
    op_start: int | None = None
    i, n = 0, len(text)
    plain, plain_in_quotes = _plain_runs(escape)

    def close(next_op: str | None, at: int | None) -> None:
        nonlocal words, op, op_start
        if words:
            cmds.append(Command(tuple(words), words[0].start, words[-1].end, op,
                                None if op_start is None else op_start + base))
        words = []
        op, op_start = next_op, at

    while i < n:
        c = text[i]
        if c in " \t\r\f\v":
            i += 1
            continue
        if c == "#" and not words:
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c in "&|;\n":
            matched = text[i:i + 2] if text.startswith(("&&", "||"), i) else c
            if not words and matched != "\n":
                opaque = True
            close(matched if matched != "\n" else ";", i)
            i += len(matched)
            continue
        # A word.
        start = i
        m = plain.match(text, i)
        if m and (m.end() == n or text[m.end()] in _BREAK):  # the usual: nothing to unquote
            raw = m.group()
            i = m.end()
            words.append(Word(raw, raw, start + base, i + base))
            if len(words) == 1 and raw in _COMPOUND:
                opaque = True
            continue
        out: list[str] = []
        while i < n:
            m = plain.match(text, i)
            if m:
                out.append(m.group())
                i = m.end()
                if i >= n:
                    break
            c = text[i]
            if c in _BREAK:
                break
            if c == escape and i + 1 < n:
                if text[i + 1] != "\n":
                    out.append(text[i + 1])
                i += 2
            elif c == "'":
                j = text.find("'", i + 1)
                if j < 0:
                    opaque, j = True, n
                out.append(text[i + 1:j])
                i = j + 1
            elif c == '"':
                i += 1
                while i < n and text[i] != '"':
                    m = plain_in_quotes.match(text, i)
                    if m:
                        out.append(m.group())
                        i = m.end()
                        continue
                    if text[i] == escape and i + 1 < n and text[i + 1] in '"\\$`':
                        i += 1
                    elif text[i] == "`" or text.startswith("$(", i):
                        opaque = True
                    out.append(text[i])
                    i += 1
                if i >= n:
                    opaque = True
                i += 1
            else:
                if c == "`" or text.startswith("$(", i) or c in "()":
                    opaque = True
                if text.startswith("<<", i):
                    opaque = True
                out.append(c)
                i += 1
        i = min(i, n)
        words.append(Word("".join(out), text[start:i], start + base, i + base))
        if len(words) == 1 and words[0].text in _COMPOUND:
            opaque = True
    close(None, None)
    return Script(tuple(cmds), opaque)


def run_script(ins: object) -> Script | None:
    """The shell commands of a shell-form ``RUN`` (offsets into its logical
    line), or None for exec form and heredoc bodies."""
    assert isinstance(ins, Instruction)
    if ins.cmd != "RUN" or ins.json or ins.heredocs:
        return None
    return _commands(ins.args, "\\", ins.args_at)


def form_words(ins: Instruction) -> list[str]:
    """The words of a ``CMD`` or ``ENTRYPOINT``: its JSON array, or its shell form
    split on blanks (enough to name the program it starts)."""
    return list(ins.values) if ins.json else ins.args.split()


# --------------------------------------------------------------------------------
# The loose reading: programs a text runs
# --------------------------------------------------------------------------------

#: Words that run the command after them (their options are skipped too).
_PREFIXES = frozenset({"sudo", "exec", "env", "nohup", "time", "nice", "xargs",
                       "then", "do", "else", "elif", "if", "while", "until", "!"})
_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})
_SEPARATORS = re.compile(r"\$\(|&&|\|\||[;&|()`{}\n]")
_CONTINUATION = re.compile(r"\\\r?\n")
#: A leading ``RUN --flag=...`` when the caller passes whole instructions.
_RUN_PREFIX = re.compile(r"(?i)\A\s*RUN(?:\s+--\S+)*\s+")


def programs(text: str) -> Iterator[tuple[str, list[str]]]:
    """``(program, arguments)`` of every command ``text`` runs, the program
    without its directory (``/sbin/apk`` is ``apk``).

    Only words in command position count: past assignments and the words that
    run the command after them (``sudo``, ``env``, ``then``, ...), and into
    ``sh -c "..."``; ``command -v X`` is a test and runs nothing.  The text is
    split at every operator, quote-blind, so this is for finding, never for
    editing (``commands`` is the exact reading)."""
    text = _CONTINUATION.sub(" ", _RUN_PREFIX.sub("", text, count=1))
    for part in _SEPARATORS.split(text):
        words = [w for w in (w.strip("'\"[],") for w in part.split()) if w]
        while words:  # a loop, not recursion, into ``sh -c "..."``: it may nest a thousand times
            found = _program(words)
            if found is None:
                break
            program, args = found
            if program not in _SHELLS:
                yield program, args
                break
            words = next((args[j + 1:] for j, a in enumerate(args)
                          if a.startswith("-") and "c" in a[1:] and not a.startswith("--")), [])


def _program(words: list[str]) -> tuple[str, list[str]] | None:
    """The program in command position in ``words`` and its arguments, or None."""
    i, n = 0, len(words)
    while i < n:
        w = words[i]
        if _ASSIGNMENT.match(w):
            i += 1
        elif w in _PREFIXES:
            i += 1
            while i < n and words[i].startswith("-"):
                i += 1
        elif w == "command":
            if i + 1 < n and words[i + 1].startswith("-"):
                return None  # command -v X: a test, not a run
            i += 1
        else:
            return w.rsplit("/", 1)[-1], words[i + 1:]
    return None

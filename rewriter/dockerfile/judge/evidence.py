"""What every check reads and cites: the command the runtime stage runs
(:class:`_Command`: its ENTRYPOINT/CMD, its program), ``path:line: text`` citations
of the Dockerfile and of the files around it, and the small tests of text the
readers share (a comment line, a shell script, a source file's language).
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass

from rewriter.dockerfile.analysis import Context
from rewriter.dockerfile.model import StageInfo, _pairs, expand
from rewriter.dockerfile.paths import command_parts
from rewriter.dockerfile.shell import form_words
from rewriter.dockerfile.syntax import Instruction, parse
from rewriter.dockerfile.usage import HostVolume, Invocation


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _cite(path: str, text: str, pos: int) -> str:
    line = _line_of(text, pos)
    body = text.splitlines()[line - 1].strip() if text else ""
    if len(body) > 100:
        body = body[:97] + "..."
    return f"{path}:{line}: {body}"


def _df_name(ctx: Context) -> str:
    build = ctx.build
    if build is not None and build.dockerfile:
        return build.dockerfile
    return posixpath.basename(ctx.path) if ctx.path and ctx.path != "-" else "Dockerfile"


def _ins_cite(ctx: Context, ins: Instruction) -> str:
    if isinstance(ins, _DocumentedCommand):
        return ins.cite
    return _cite(_df_name(ctx), ctx.df.text, ins.span.start)


_WRAPPERS = frozenset({"/bin/sh", "sh", "/bin/bash", "bash", "-c", "-e", "-ex", "-x", "exec",
                       "tini", "/sbin/tini", "/tini", "/usr/bin/tini", "--", "dumb-init",
                       "/usr/bin/dumb-init", "/usr/local/bin/dumb-init", "env", "/usr/bin/env",
                       "-g", "-s"})


_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})


@dataclass
class _Command:
    """The command the runtime stage runs, as the judgement reads it."""

    ins: Instruction | None  #: the ENTRYPOINT/CMD that sets it (None: none in the file)
    words: list[str]  #: the whole command line, entrypoint then cmd
    program: str  #: the first word that is not a wrapper ("" when none)
    stage: StageInfo | None
    runs: list[Invocation] | None = None  #: its documented ``docker run`` lines (read lazily)
    scripts: list[tuple[str, str]] | None = None  #: its entrypoint scripts (read lazily)
    #: the compose services that build this file (read lazily)
    compose: list[tuple[str, str, int]] | None = None
    #: the hostPath/nfs volumes of the Kubernetes pods that run it (read lazily)
    volumes: list[HostVolume] | None = None
    #: the documented run whose command this is, when the file sets none
    documented: Invocation | None = None
    #: (context path, text) of the program's own source files (read lazily)
    sources: list[tuple[str, str]] | None = None

    @property
    def names(self) -> set[str]:
        """The program names among the command's first words, wrappers left
        out: ``["tini", "--", "/usr/bin/firefox", "--kiosk"]`` gives ``firefox``."""
        names = {_program_name(w) for w in self.words[:4] if not w.startswith("-")}
        return {n for n in names if n and n not in _WRAPPERS}


def _command(info: StageInfo) -> _Command:
    parts = command_parts(info)
    first = parts[0] if parts else None
    words = [expand(v, s.env)[0] for ins, s in parts for v in form_words(ins)]
    return _Command(first[0] if first else None, words, _program_of(words),
                    first[1] if first else None)


def _program_of(words: list[str]) -> str:
    """The program a command line starts: its first word that is not a wrapper,
    past a ``cd DIR &&`` (or ``;``) that only picks its run directory."""
    program = ""
    skip = 0
    for i, w in enumerate(words):
        if skip:
            skip -= 1
            continue
        if w in _WRAPPERS or w.startswith("-"):
            continue
        if w == "cd" and i + 2 < len(words) and words[i + 2] in ("&&", ";"):
            skip = 2
            continue
        if w == "cd" and i + 1 < len(words) and words[i + 1].endswith(";") and \
                words[i + 1] != ";":
            skip = 1
            continue
        m = re.match(r"cd\s+[^\s;&|]+\s*(?:&&|;)\s*(\S.*)", w, re.S)
        program = m.group(1) if m else w  # a shell's `-c` text: the rest of it
        break
    if not program and "-c" not in words:
        # a bare shell (`ENTRYPOINT ["/bin/bash"]`, `CMD ["sh"]`) is the command itself,
        # not the absence of one
        program = next((w for w in words if _program_name(w) in _SHELLS), "")
    return program


def _program_name(program: str) -> str:
    return posixpath.basename(program.strip("\"'"))


class _DocumentedCommand(Instruction):
    """The ``CMD`` (or ``ENTRYPOINT``) that a documented ``docker run`` gives an
    image whose file sets none; cited as the documentation's line."""

    __slots__ = ("cite",)
    cite: str  #: ``path:line: text`` of the documentation's line

    @classmethod
    def of(cls, run: Invocation, words: list[str]) -> _DocumentedCommand:
        keyword = "ENTRYPOINT" if run.entrypoint else "CMD"
        parsed = parse(f"FROM scratch\n{keyword} {json.dumps(words)}\n").instructions[-1]
        doc = cls.__new__(cls)
        for slot in Instruction.__slots__:
            if hasattr(parsed, slot):
                setattr(doc, slot, getattr(parsed, slot))
        doc.cite = _command_cite(run, words)
        return doc


def _command_cite(run: Invocation, words: list[str]) -> str:
    """``path:line: text`` of the documented run's line that holds its command
    (``g -c conf.yaml`` below the image), else of its first line."""
    seen_image = False
    for i, raw in enumerate(run.span):
        at = raw.find(run.image) if run.image and not seen_image else -1
        if at >= 0:
            seen_image, raw = True, raw[at + len(run.image):]
        if seen_image and words and words[0] in raw:
            line = run.span[i].strip()
            body = line if len(line) <= 100 else line[:97] + "..."
            return f"{run.path}:{run.line + i}: {body}"
    return run.cite()


def _is_shell(path: str, text: str) -> bool:
    """A shell script (by its name or its ``#!`` line), not a program in another
    language that the shell's patterns would misread."""
    first = text.split("\n", 1)[0]
    if first.startswith("#!"):
        return bool(re.search(r"\b(?:ba|da|a|z)?sh\b", first))
    return path.endswith((".sh", ".bash")) or "." not in posixpath.basename(path)


def _language(path: str, text: str) -> str | None:
    """The language of a program's source, for :data:`_REFUSES`."""
    first = text.split("\n", 1)[0] if text.startswith("#!") else ""
    ext = posixpath.splitext(path)[1].lower()
    if ext == ".py" or "python" in first:
        return "py"
    if ext == ".rb" or "ruby" in first:
        return "rb"
    if ext in (".js", ".mjs", ".cjs", ".ts") or "node" in first:
        return "js"
    if ext == ".go":
        return "go"
    return "sh" if _is_shell(path, text) else None


def _in_code_comment(text: str, pos: int) -> bool:
    start = text.rfind("\n", 0, pos) + 1
    return text[start:pos].lstrip().startswith(("#", "//", "*", "/*"))


#: names of programs that are scripts a reviewer would read before switching the user
_SCRIPT_NAME = (r"(?i)\.(?:sh|bash)$|entrypoint|^(?:start|run|init|boot|startup|"
                r"launch|docker-[\w-]+|run-[\w-]+|start-[\w-]+|"
                r"[\w.]+[-_](?:start|run|init|boot|launch|startup))(?:\.\w+)?$")


def _in_shell_comment(text: str, pos: int) -> bool:
    start = text.rfind("\n", 0, pos) + 1
    return text[start:pos].lstrip().startswith("#")


def _overrides_command(info: StageInfo) -> bool:
    """The file sets its own ENTRYPOINT (so the base image's server may not run)."""
    return any(i.cmd == "ENTRYPOINT" for s in info.chain for i in s.stage.instructions)


def _env_pairs(ins: Instruction) -> list[tuple[str, str]]:
    """The ``KEY=value`` pairs of an ``ENV`` (or ``ARG``), as BuildKit reads them."""
    return [(k, v or "") for k, v in _pairs(ins, "\\")]

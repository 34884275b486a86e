"""Moving root's home into a new user's home.

An image that keeps its program's settings in ``/root`` (``ENV HOME /root``,
``WORKDIR /root``, ``COPY app.ini /root/app.ini``, ``RUN echo ... >> $HOME/.bashrc``)
cannot run as another user as it is: root's home is mode 700. When every use
of it in the runtime stage is one of those, the same paths in the new user's
home do the job: this module finds the ``/root`` of each such use and says
where each offset of the moved text was in the original, so that a plan made
on the moved text can be given back as edits of the original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rewriter.core.edits import Edit
from rewriter.dockerfile.model import StageInfo, _pairs
from rewriter.dockerfile.syntax import Instruction

#: ``/root`` as a path of its own (``/root``, ``/root/.s3cfg``), not part of a
#: longer name (``/rootfs``, ``$X/root``, ``/opt/root``)
_ROOT = re.compile(r"(?<![\w$}.~/@%+-])/root(?=/|$|[\s\"'`;)\]|&,:])")
#: instructions whose arguments are shell words or paths the move may rewrite
#: whole: the program's own commands and where it works
_MOVABLE = frozenset({"RUN", "CMD", "ENTRYPOINT", "WORKDIR", "HEALTHCHECK"})


@dataclass(frozen=True)
class MovedHome:
    """What a moved text is: the new user's home, and where its first moved
    ``/root`` is (the user must exist from there on: a step there may write
    into the home, which the base image does not have)."""

    home: str
    first: int  #: offset of the first moved path, the same in both texts


@dataclass(frozen=True)
class Rehome:
    """The edits that move root's home to ``home``, and the moved text."""

    home: str
    edits: tuple[Edit, ...]  #: each replaces one ``/root`` of the original
    text: str  #: the original with ``edits`` applied

    def original(self, at: int) -> int | None:
        """Where offset ``at`` of the moved text was in the original; None when
        it falls inside a moved ``/root``."""
        delta = 0
        for e in self.edits:
            start = e.start + delta
            end = start + len(e.content)
            if at <= start:
                break
            if at < end:
                return None
            delta += len(e.content) - (e.end - e.start)
        return at - delta

    def back(self, edit: Edit) -> Edit | None:
        """``edit`` of the moved text as an edit of the original (None: it
        touches a moved ``/root``)."""
        start, end = self.original(edit.start), self.original(edit.end)
        if start is None or end is None:
            return None
        return Edit(start, end, edit.content)


def _matches(ins: Instruction) -> list[tuple[int, int]]:
    """Logical spans of ``/root`` in ``ins``'s arguments (not its flags)."""
    return [(m.start(), m.end()) for m in _ROOT.finditer(ins.logical, ins.args_at)]


#: the start of a shell step that puts something at the path that follows:
#: ``mkdir -p``, ``cp a``, a redirection, ``git clone URL``, ``tar -C``,
#: ``--prefix=``, ``-d`` (``unzip -d``)
WRITE_INTO = (r"(?:\b(?:mkdir|cp|mv|ln|install|touch|tee)\b[^;&|\n]*\s|>>?\s*|"
              r"\bgit\s+clone\s[^;&|\n]*\s|\btar\b[^;&|\n]*\s-C\s*|--prefix[= ]|\s-d\s+)")
#: a build step that puts something at ``/root/NAME``
_MADE = re.compile(WRITE_INTO + r"/root/([\w.@+-]+)")


def _made(info: StageInfo) -> set[str]:
    """The names directly in ``/root`` that the stage itself puts there (a
    ``COPY`` or ``WORKDIR`` there, ``mkdir``, a redirection, a clone); ``*``
    when a ``COPY`` into ``/root`` itself brings names unknown here."""
    made: set[str] = set()
    for ins in info.stage.instructions:
        if ins.cmd in ("COPY", "ADD", "WORKDIR") and ins.values:
            m = re.match(r"/root(?:/([^/]+))?/?$", ins.values[-1]) or \
                re.match(r"/root/([^/]+)/", ins.values[-1])
            if m and (m.group(1) or ins.cmd != "WORKDIR"):
                made.add(m.group(1) or "*")
        elif ins.cmd == "RUN" and "/root/" in ins.logical:
            made.update(m.group(1) for m in _MADE.finditer(ins.logical))
    return made


def rehome(text: str, info: StageInfo, home: str) -> Rehome | None:
    """The move of root's home to ``home`` in the runtime stage of ``info``
    (the file's ``text``), or None when the stage uses ``/root`` in a way a
    move would change for someone else (a ``VOLUME`` its users mount, an
    ``ARG`` they pass, an ``ENV`` other than ``HOME``, a heredoc's text) or
    does not use it at all."""
    spans: list[tuple[int, int]] = []  # source offsets
    made = _made(info)
    for ins in info.stage.instructions:
        if "/root" not in ins.logical:
            continue
        found = _matches(ins)
        if not found:
            continue
        if ins.cmd == "ENV":
            # only HOME=/root moves: any other value in root's home is a tool
            # installed there, which moving HOME does not move
            pairs = _pairs(ins, "\\")
            if any(k != "HOME" and v and _ROOT.search(v) for k, v in pairs) or \
                    any(k == "HOME" and (v or "").rstrip("/") != "/root" for k, v in pairs
                        if v and _ROOT.search(v)):
                return None
        elif ins.cmd in ("COPY", "ADD"):
            # the destination only: a source is the context's, or another stage's
            if not ins.values:
                return None
            dest_at = ins.logical.rfind(ins.values[-1])
            if dest_at < ins.args_at:
                return None
            found = [f for f in found if f[0] >= dest_at]
        elif ins.cmd not in _MOVABLE or any("/root" in h.content for h in ins.heredocs):
            return None
        elif ins.cmd != "WORKDIR":
            # a path the stage puts there moves with it; one the base image
            # left there (`source /root/.bash_profile`) would not exist
            for s_, _ in found:
                first = re.match(r"/root/([^/\s\"'`;:)\]|&,]+)", ins.logical[s_:])
                if first and first.group(1) not in made and "*" not in made:
                    return None
        spans += [(ins.src(s), ins.src_end(e)) for s, e in found]
    for ins in info.stage.instructions:
        # a volume in the home would move with HOME: its users mount it by path
        if ins.cmd == "VOLUME" and re.search(r"\$\{?HOME\b|~", ins.args):
            return None
    if not spans:
        return None
    edits = tuple(Edit(s, e, home) for s, e in sorted(set(spans)))
    parts, at = [], 0
    for e in edits:
        parts += [text[at:e.start], e.content]
        at = e.end
    parts.append(text[at:])
    return Rehome(home, edits, "".join(parts))


__all__ = ["MovedHome", "Rehome", "WRITE_INTO", "rehome"]

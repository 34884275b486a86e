"""Settings: what the user asked for, from flags and config files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rewriter.core.edits import Applicability


#: The largest user or group id dockfix accepts: ids of 2**31-1 and up break
#: tools that store them as signed integers, and (uid_t)-1 means "no id".
MAX_ID = 2**31 - 2
#: User and group names: shadow's default NAME_REGEX without the trailing '$',
#: which useradd and adduser of every family accept and no shell needs quoted.
NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")


def is_id(value: object, low: int = 0) -> bool:
    """``value`` is a user or group id from ``low`` to ``MAX_ID`` (an int, not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= MAX_ID


@dataclass(frozen=True)
class Settings:
    """How dockfix fixes a file: the user it creates, the rules it runs, ..."""

    uid: int = 10001  #: uid of the user dockfix creates
    gid: int = 10001  #: gid of the group dockfix creates
    #: name of the user dockfix creates; "" (the default): named after the
    #: program the container runs when that is a plain program (``firefox``),
    #: else ``appuser``
    user: str = ""
    #: its group; "" (the default): the user's name when named after the
    #: program, else ``appgroup``
    group: str = ""
    unsafe_fixes: bool = False  #: also apply fixes marked unsafe
    select: tuple[str, ...] = ()  #: only these rule codes (prefixes); empty: all
    ignore: tuple[str, ...] = ()  #: never these rule codes (prefixes)
    build_args: dict[str, str] = field(default_factory=dict)  #: ``--build-arg K=V``
    target: str | None = None  #: ``--target STAGE``; default: the last stage
    mappings: tuple[str, ...] = ()  #: extra family tables (TOML files)
    #: ``--context DIR``: the build context of every file (absolute); None: the
    #: repository around each file (its nearest ``.git``)
    context: str | None = None
    #: the image-family table loaded from ``mappings`` for this run (a
    #: ``rewriter.dockerfile.familytable.Table``), set by the front end that read
    #: them; None: the Dockerfile language reads ``mappings`` itself
    family_table: object | None = field(default=None, compare=False, repr=False)

    @property
    def threshold(self) -> Applicability:
        return Applicability.UNSAFE if self.unsafe_fixes else Applicability.SAFE

    def enabled(self, code: str) -> bool:
        if self.select and not any(code.startswith(s) for s in self.select):
            return False
        return not any(code.startswith(i) for i in self.ignore)

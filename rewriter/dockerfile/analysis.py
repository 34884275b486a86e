"""What rules see: the parsed file, the settings and the analysis of its stages."""

from __future__ import annotations

from functools import cached_property

from rewriter.core.settings import Settings
from rewriter.core.source import Span
from rewriter.dockerfile import pragmas
from rewriter.dockerfile.model import Model, analyse
from rewriter.dockerfile.pragmas import Pragmas
from rewriter.dockerfile.rehome import MovedHome
from rewriter.dockerfile.syntax import Dockerfile, Instruction
from rewriter.io.context import BuildContext


class Context:
    """The analysis context of the Dockerfile rules (``rewriter.core.language.Analysis``)."""

    def __init__(self, df: Dockerfile, settings: Settings, path: str | None = None,
                 build: BuildContext | None = None) -> None:
        self.df = df
        self.settings = settings
        self.path = path  #: the Dockerfile's path, when it is a file
        #: the files around the Dockerfile (read-only); None when there are none
        self.build = build
        #: when this text is the file with root's home moved into the new
        #: user's (``rewriter.dockerfile.rehome.MovedHome``)
        self.moved_home: MovedHome | None = None

    @cached_property
    def model(self) -> Model:
        return analyse(self.df, self.settings, self.path)

    @cached_property
    def pragmas(self) -> Pragmas:
        return pragmas.read(self.df)

    @cached_property
    def _instructions(self) -> list[Instruction]:
        return list(self.df.instructions)

    @property
    def newline(self) -> str:
        return self.df.source.newline

    def ignored(self, code: str, span: Span) -> bool:
        return self.pragmas.ignored(code, span, self._instructions)

    def line(self, offset: int) -> int:
        return self.df.source.line_col(offset)[0]

"""What rules see: the parsed file, the settings and the analysis of its stages."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from rewriter.core.settings import Settings
from rewriter.dockerfile.syntax import Dockerfile

if TYPE_CHECKING:
    from rewriter.io.context import BuildContext
    from rewriter.dockerfile.model import Model
    from rewriter.dockerfile.pragmas import Pragmas


class Context:
    def __init__(self, df: Dockerfile, settings: Settings, path: str | None = None,
                 build: BuildContext | None = None) -> None:
        self.df = df
        self.settings = settings
        self.path = path  #: the Dockerfile's path, when it is a file
        #: the files around the Dockerfile (read-only); None when there are none
        self.build = build

    @cached_property
    def model(self) -> Model:
        from rewriter.dockerfile.model import analyse

        return analyse(self.df, self.settings, self.path)

    @cached_property
    def pragmas(self) -> Pragmas:
        from rewriter.dockerfile import pragmas

        return pragmas.read(self.df)

    @property
    def newline(self) -> str:
        return self.df.source.newline

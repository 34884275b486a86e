"""What happened to each file in a run, the summary line, and the exit code.

Modelled on black's ``report.py``: the runner tells the report what happened to
each file and the report alone decides the exit code.  It does no I/O; the
runner prints what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass


def _files(n: int) -> str:
    return f"{n} file{'' if n == 1 else 's'}"


@dataclass
class Report:
    """The counts of a run: what the closing line and the exit code say."""

    check: bool = False  #: ``--check``: a file that would change is a finding
    write: bool = False  #: files are written (``--write``, or stdin to stdout)
    change_count: int = 0  #: fixed, or would be fixed
    same_count: int = 0  #: nothing to change
    decline_count: int = 0  #: not changed, and dockfix said why (or refused its fix)
    failure_count: int = 0  #: could not be read, decoded, parsed or configured

    def done(self, *, changed: bool, declined: bool = False) -> None:
        """Count one file that was read and fixed (or found fine)."""
        if changed:
            self.change_count += 1
        elif declined:
            self.decline_count += 1
        else:
            self.same_count += 1

    def failed(self) -> None:
        """Count one file that could not be handled (an error: exit 2)."""
        self.failure_count += 1

    @property
    def total(self) -> int:
        return self.change_count + self.same_count + self.decline_count + self.failure_count

    @property
    def return_code(self) -> int:
        """The exit code of the run.

        ==== =====================================================================
        exit meaning
        ==== =====================================================================
        0    nothing to change, or every change was made (``--write``, stdin),
             or only shown (plain run / ``--diff``); declined files count as 0
        1    ``--check`` only: at least one file would change
        2    an error: usage, a file that cannot be read, is not UTF-8 or does
             not parse, an invalid configuration, or an internal error; 2 wins
             over 1, and the other files of the run are still handled
        ==== =====================================================================
        """
        if self.failure_count:
            return 2
        if self.check and self.change_count:
            return 1
        return 0

    def __str__(self) -> str:
        """The summary, e.g. ``2 files would be fixed, 1 file left unchanged``."""
        parts = []
        if self.change_count:
            verb = "fixed" if self.write else "would be fixed"
            parts.append(f"{_files(self.change_count)} {verb}")
        if self.same_count:
            parts.append(f"{_files(self.same_count)} left unchanged")
        if self.decline_count:
            parts.append(f"{_files(self.decline_count)} declined")
        if self.failure_count:
            parts.append(f"{_files(self.failure_count)} failed")
        return ", ".join(parts) or "No Dockerfiles found"

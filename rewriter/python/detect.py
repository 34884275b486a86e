"""Which files are Python, which configure Celery, and which start Celery workers.

Everything here is cheap: a file name, or a few regular expressions over the
text.  It decides whether a file needs libcst at all, so it must not import it
(nor anything that does): a run over Dockerfiles never pays for libcst.
"""

from __future__ import annotations

import functools
import os
import re

from rewriter.core.globs import fnmatchcase
from rewriter.python.names import ALL_SPELLINGS

#: File names read as Python (a path given or found).
PYTHON_PATTERNS = ("*.py", "*.pyw")

#: Files that may start a Celery worker, besides Dockerfiles.
WORKER_PATTERNS = (
    "*docker-compose*.yml", "*docker-compose*.yaml", "*compose.yml", "*compose.yaml",
    "*compose.*.yml", "*compose.*.yaml", "*Procfile", "*Procfile.*", "*.service",
)

_SETTING = "|".join(sorted(ALL_SPELLINGS, key=len, reverse=True))


# The patterns are compiled when a file needs them (with every setting's
# spelling they are long): a run over Dockerfiles reads none of them.
@functools.cache
def _celery() -> re.Pattern[str]:
    """What a Celery configuration looks like: an app, a ``conf`` of one, a config
    module loaded into one, or a setting with a Celery name assigned to."""
    return re.compile(
        r"\bCelery\s*\("
        r"|\.conf\s*\.\s*update\s*\("
        r"|\.conf\s*(?:\.\s*\w+|\[[^\]\n]+\])\s*="
        r"|\bconfig_from_object\s*\("
        rf"|^[ \t]*(?:{_SETTING}|CELERYD?_\w+)\s*(?::[^=\n]*)?=(?!=)",
        re.M,
    )


@functools.cache
def _names() -> re.Pattern[str]:
    """A setting the rules read, or a broker or backend."""
    return re.compile(rf"\b(?:{_SETTING}|broker|backend)\b")


@functools.cache
def _worker() -> re.Pattern[str]:
    """A command that starts a worker (``celery worker``, ``celery -A app worker``)."""
    return re.compile(r"\bcelery\b[^\n]*\bworker\b|\bC_FORCE_ROOT\b", re.I)


def is_python_path(path: str) -> bool:
    name = os.path.basename(path)
    return any(fnmatchcase(name, p) for p in PYTHON_PATTERNS)


def is_worker_path(path: str) -> bool:
    """A compose file, a Procfile or a systemd unit (by name)."""
    name = os.path.basename(path)
    return any(fnmatchcase(name, p) for p in WORKER_PATTERNS)


def configures_celery(text: str) -> bool:
    """Whether ``text`` (Python) looks like it configures Celery."""
    return _celery().search(text) is not None


def mentions_settings(text: str) -> bool:
    """Whether ``text`` names any setting the rules read (else there is nothing
    to parse: the rules cannot find anything)."""
    return _names().search(text) is not None or "setup_security" in text


def starts_worker(text: str) -> bool:
    """Whether ``text`` (a compose file, Procfile, unit) looks like it starts a Celery worker."""
    return _worker().search(text) is not None

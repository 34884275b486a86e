"""Image references: ``FROM`` values normalised the way registries name images.

``split_ref(ref)`` gives ``(repository, tag)``: lowercase, without a digest,
Docker Hub's own host names and mirrors and its ``library/`` prefix removed,
the tag ``latest`` when none is given; None for text that is not an image
reference (an unexpanded ``$ARG``, whitespace, quotes, a bad digest, ...).
"""

from __future__ import annotations

import re

__all__ = ["split_ref"]

#: Hosts that are Docker Hub itself.
_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})
#: Mirrors of Docker Hub: ``prefix/`` + hub path.
_HUB_MIRRORS = ("public.ecr.aws/docker/library/", "mirror.gcr.io/")
_REF_CHARS = re.compile(r"[a-z0-9._/:-]+")
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")


def split_ref(ref: str) -> tuple[str, str] | None:
    """``(repo, tag)`` of an image reference, normalised; None if not an image."""
    ref, at, digest = ref.strip().partition("@")
    if at and not _DIGEST.fullmatch(digest):
        return None
    ref = ref.lower()
    if not ref or not _REF_CHARS.fullmatch(ref):
        return None  # empty, '$'-holding, whitespace, quotes, ...
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:  # a ':' after the last '/' starts the tag ("localhost:5000/x" has none)
        repo, tag = ref[:colon], ref[colon + 1 :]
    else:
        repo, tag = ref, "latest"
    first, sep, rest = repo.partition("/")
    if not repo or not tag or ":" in rest or (":" in first and not sep):
        return None  # a ':' in a repository name is only a registry's port
    for mirror in _HUB_MIRRORS:
        if repo.startswith(mirror):
            repo = repo[len(mirror) :]
            break
    first, sep, rest = repo.partition("/")
    if sep and first in _HUB_HOSTS:
        repo = rest
    if repo.startswith("library/"):
        repo = repo[len("library/") :]
    if not repo or repo.startswith("/") or repo.endswith("/") or "//" in repo:
        return None
    return repo, tag

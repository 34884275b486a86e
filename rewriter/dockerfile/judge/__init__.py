"""Judge the image before changing it: what is it for, and what does its process need?

A Dockerfile that builds and ends with ``USER 10001`` can still be a change no
maintainer merges: the image is a base image others extend, a CI builder whose
steps write root-owned mounts, a devcontainer, a test fixture, an init system
running several services, a service that binds port 80, or an entrypoint that
does root-only work at start. DF001 asks :func:`judge` first and declines, with
the kind and the evidence (``file:line``), whenever the answer is not "an app
whose process can run as a dedicated user".

The judge reads the Dockerfile and its build context (entrypoint scripts and
configs the file copies in, compose files, devcontainer.json, template files),
never executes anything, and decides from evidence a reviewer can check. Its
knowledge (which programs need root, which base images bind port 80, ...) is
data in ``rewriter/data/judge.toml``.

See docs/judgement.md for each kind and the evidence it takes.

The modules, each importing only those above it:

* ``knowledge``: the tables of ``judge.toml``, and :class:`Judgement`;
* ``evidence``: the command the container runs, ``file:line`` citations, text tests;
* ``context``: reading the build context (copied files, entrypoint scripts, the
  scripts RUN executes, compose services, pods, documented runs);
* ``documented``: the command the documentation gives, when the file sets none;
* ``packages``: the packages a stage installs;
* ``source``: the program's own source (where it listens, what it writes);
* ``users``, ``groupzero``, ``siblings``: the users around the image, paths
  writable to group 0, a base image built beside it (DF001's fix asks them, and
  some checks);
* the checks, by what they judge: ``kind`` (what the image is), ``base`` (a base
  image), ``builder`` (a build tool), ``writes``, ``home`` (root's home),
  ``mounts`` (host directories), ``host`` (sockets, the journal, host logs,
  devices, the host's pids), ``ports``, ``process`` (root work at start),
  ``unread`` (scripts the context does not hold);
* ``checks``: :func:`judge`, the checks in the order they run.
"""

from __future__ import annotations

from rewriter.dockerfile.judge.checks import judge, not_an_app
from rewriter.dockerfile.judge.context import entrypoint_scripts
from rewriter.dockerfile.judge.documented import (
    DocumentedRun, documented_command, documented_volumes, own_usage_runs)
from rewriter.dockerfile.judge.base import base_image_writes
from rewriter.dockerfile.judge.home import copied_file_in_root
from rewriter.dockerfile.judge.groupzero import GroupZero, group_zero_writable, joins_group_zero
from rewriter.dockerfile.judge.knowledge import Judgement, knowledge, packaged_user
from rewriter.dockerfile.judge.process import PackagedService, running_packaged_service
from rewriter.dockerfile.judge.unread import unread_run_script
from rewriter.dockerfile.judge.siblings import sibling_base, sibling_base_entrypoint, sibling_base_users
from rewriter.dockerfile.judge.users import (
    ContextUser,
    app_user_name,
    device_groups,
    needs_login_shell,
    own_user_switch,
    script_users,
    spec_user,
    taken_names,
)

__all__ = ["ContextUser", "GroupZero", "Judgement", "DocumentedRun", "app_user_name", "base_image_writes",
           "copied_file_in_root", "device_groups",
           "documented_command",
           "documented_volumes",
           "entrypoint_scripts", "group_zero_writable", "joins_group_zero",
           "judge", "knowledge", "needs_login_shell", "not_an_app", "own_usage_runs", "own_user_switch",
           "packaged_user", "PackagedService", "running_packaged_service",
           "script_users", "spec_user", "sibling_base", "sibling_base_entrypoint",
           "sibling_base_users", "taken_names", "unread_run_script"]

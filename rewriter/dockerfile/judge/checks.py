"""The judgement: :func:`judge` runs the checks in order and returns the first
decline; :func:`not_an_app` runs the few that need nothing but the file.
"""

from __future__ import annotations

from rewriter.dockerfile.analysis import Context
from rewriter.dockerfile.model import StageInfo
from rewriter.dockerfile.judge.knowledge import Judgement, knowledge
from rewriter.dockerfile.judge.evidence import _command
from rewriter.dockerfile.judge.context import _copied_sources
from rewriter.dockerfile.judge.documented import _judged_command
from rewriter.dockerfile.judge.kind import (
    _already_nonroot, _by_command, _by_path, _compose_target, _devcontainer_json, _dind,
    _generated, _init_system, _linuxkit, _no_process, _root_chosen, _unknown_base, _variants)
from rewriter.dockerfile.judge.base import _base_image, _built_upon, _documented_purpose, _shown_as_base
from rewriter.dockerfile.judge.builder import _builder_tool
from rewriter.dockerfile.judge.writes import _default_data, _root_owned_writes
from rewriter.dockerfile.judge.home import _root_home
from rewriter.dockerfile.judge.mounts import _bind_mounts, _file_tool_output, _mounted_project
from rewriter.dockerfile.judge.host import _devices, _host_access, _host_pid
from rewriter.dockerfile.judge.ports import _ports
from rewriter.dockerfile.judge.process import _needs_root, _packaged_service, _root_only_program, _setuid
from rewriter.dockerfile.judge.unread import _unread_build_script, _unread_script


def judge(ctx: Context, info: StageInfo, answered: frozenset[str] = frozenset()) -> Judgement | None:
    """Why the runtime stage should not be switched to a new user, or None (an app).
    A check whose reason is in ``answered`` (one the fix answers, as running a
    packaged service as its package's own account does) is passed over."""
    k = knowledge()
    command = _judged_command(ctx, info, k)
    copied = _copied_sources(ctx, info)
    for check in (_generated, _by_path, _devcontainer_json, _compose_target, _linuxkit, _variants,
                  _unknown_base, _dind,
                  _already_nonroot, _root_chosen, _by_command, _root_only_program, _init_system,
                  _needs_root,
                  _host_access,
                  _packaged_service,
                  _unread_script, _unread_build_script, _setuid, _devices, _host_pid, _ports,
                  _no_process, _base_image,
                  _built_upon, _shown_as_base,
                  _documented_purpose, _root_home, _root_owned_writes, _default_data, _bind_mounts,
                  _builder_tool, _mounted_project, _file_tool_output):
        j = check(ctx, info, command, copied, k)
        if j is not None and j.reason not in answered:
            return j
    return None


def not_an_app(ctx: Context, info: StageInfo) -> Judgement | None:
    """Why the image is not an app, from where and what the file is alone
    (generated, a test fixture or CI builder by its path, a devcontainer), or
    None: for images already non-root, which other rules would still edit."""
    k = knowledge()
    command = _command(info)
    for check in (_generated, _by_path, _devcontainer_json):
        j = check(ctx, info, command, [], k)
        if j is not None:
            return j
    return None

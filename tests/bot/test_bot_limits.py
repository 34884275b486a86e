"""GitHub's rate limits as ``dockfix bot run`` sees them: the fake GitHub answers
with the headers GitHub sends, and the run's report says how long to wait
(``retry_after``), which the queue turns into a delayed retry."""

from __future__ import annotations

import math

import pytest

from bot_helpers import bot, github, make_remote  # noqa: F401 (fixtures)

APP = 'FROM python:3.12-slim\nCOPY app.py /app/\nCMD ["python", "/app/app.py"]\n'


def limited_run(bot, github, tmp_path, kind: str, seconds: int, **where: str) -> dict:
    remote = make_remote(tmp_path, "app", {"Dockerfile": APP, "app.py": "x\n"})
    github.add_repo("acme/app", str(remote.bare))
    github.rate_limit("acme/app", kind, seconds=seconds, **where)
    report = bot.run_repo(remote)
    assert report["status"] == "error" and report["_rc"] == 1, report
    assert "HTTP 403" in report["message"]
    return report


def test_the_primary_limit_waits_until_its_reset(bot, github, tmp_path):
    report = limited_run(bot, github, tmp_path, "primary", 7)
    ((answered, _, _, _, headers),) = github.limit_log
    reset = int(headers["x-ratelimit-reset"])
    wait = report["retry_after"]
    # whole seconds (a task's countdown), ending after the reset, not before it,
    # and not much later: the reset rounded up and one second more
    assert wait == int(wait), wait
    # (the run saw the answer a moment after it was sent: a second of slack)
    assert answered + wait >= reset - 1, (wait, reset, answered)
    assert wait <= math.ceil(reset - answered) + 1, (wait, reset, answered)


def test_a_secondary_limit_waits_for_retry_after(bot, github, tmp_path):
    report = limited_run(bot, github, tmp_path, "secondary", 37, method="POST", path="/pulls")
    assert report["retry_after"] == 37
    assert [m for _, m, _, _, _ in github.limit_log] == ["POST"]
    assert github.pulls["acme/app"] == []


def test_a_secondary_limit_without_a_header_waits_a_minute(bot, github, tmp_path):
    report = limited_run(bot, github, tmp_path, "secondary-bare", 0)
    assert report["retry_after"] == 60


@pytest.mark.parametrize("status", [403, 404])
def test_other_errors_are_no_rate_limit(bot, github, tmp_path, status):
    remote = make_remote(tmp_path, "app", {"Dockerfile": APP, "app.py": "x\n"})
    if status == 403:  # a token without the right: 403, no rate-limit header or message
        github.add_repo("acme/app", str(remote.bare))
        github.forbidden.add("acme/app")
    report = bot.run_repo(remote)
    assert report["status"] == "error" and f"HTTP {status}" in report["message"], report
    assert report["retry_after"] is None

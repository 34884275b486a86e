"""The few GitHub REST calls the bot makes, through githubkit.

Every failure becomes a :class:`GitHubError` with a one-line message that
never holds the token (githubkit's exceptions carry the request, and so its
``Authorization`` header; they are not passed on).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from rewriter.bot.git import redact

#: A closed pull request on the bot's branch that was not merged: an opt-out.
CLOSED, MERGED, OPEN = "closed", "merged", "open"


class GitHubError(RuntimeError):
    """A GitHub API call failed; one line, no secret."""

    def __init__(self, message: str, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after  #: seconds, when GitHub asked to wait (rate limits)


@dataclass(frozen=True)
class Repo:
    full_name: str
    default_branch: str
    archived: bool
    fork: bool
    clone_url: str


@dataclass(frozen=True)
class Pull:
    number: int
    state: str  #: ``open``, ``closed`` (without merging) or ``merged``
    title: str
    body: str
    url: str


class GitHub:
    def __init__(self, token: str | None, api_url: str = "https://api.github.com",
                 timeout: float = 30.0) -> None:
        # githubkit (and pydantic under it) take a while to import: only the
        # bot needs them, and only when it calls GitHub
        import githubkit

        self._secrets = [token] if token else []
        self._gh = githubkit.GitHub(token, base_url=api_url.rstrip("/") + "/", timeout=timeout,
                                    http_cache=False, auto_retry=False, trust_env=False,
                                    user_agent="dockfix-bot")

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from githubkit.exception import GitHubException, RequestFailed

        try:
            return fn(*args, **kwargs).parsed_data
        except RequestFailed as exc:
            status = exc.response.status_code
            raise GitHubError(redact(f"GitHub: {what}: HTTP {status}", self._secrets), status,
                              _retry_after(exc.response.headers, status,
                                           _message(exc.response))) from None
        except GitHubException as exc:
            raise GitHubError(redact(f"GitHub: {what}: {type(exc).__name__}", self._secrets)) from None
        except Exception as exc:  # pydantic validation, transport errors
            message = " ".join(str(exc).split())[:200]
            raise GitHubError(redact(f"GitHub: {what}: {type(exc).__name__}: {message}",
                                     self._secrets)) from None

    def repo(self, owner: str, name: str) -> Repo:
        r = self._call(f"get {owner}/{name}", self._gh.rest.repos.get, owner, name)
        return Repo(r.full_name, r.default_branch, bool(r.archived), bool(r.fork), r.clone_url)

    def org_repos(self, org: str) -> list[Repo]:
        """Every repository of the organisation ``org``."""
        def page(**kw: Any) -> Any:
            return self._gh.rest.repos.list_for_org(org, **kw)

        out = []
        n = 1
        while True:
            items = self._call(f"list the repositories of {org}", page, per_page=100, page=n)
            out += [Repo(r.full_name, r.default_branch or "", bool(r.archived), bool(r.fork),
                         r.clone_url or f"https://github.com/{r.full_name}.git") for r in items]
            if len(items) < 100:
                return out
            n += 1

    def pulls(self, owner: str, name: str, branch: str) -> list[Pull]:
        """Every pull request from ``owner:branch``, newest first."""
        items = self._call("list pull requests", self._gh.rest.pulls.list, owner, name,
                           head=f"{owner}:{branch}", state="all", per_page=100)
        out = []
        for p in items:
            state = OPEN if p.state == "open" else (MERGED if p.merged_at else CLOSED)
            out.append(Pull(p.number, state, p.title, p.body or "", p.html_url))
        return sorted(out, key=lambda p: -p.number)

    def create_pull(self, owner: str, name: str, *, title: str, body: str, head: str,
                    base: str) -> Pull:
        p = self._call("open a pull request", self._gh.rest.pulls.create, owner, name,
                       title=title, body=body, head=head, base=base)
        return Pull(p.number, OPEN, p.title, p.body or "", p.html_url)

    def update_pull(self, owner: str, name: str, number: int, *, title: str, body: str) -> None:
        self._call(f"update pull request #{number}", self._gh.rest.pulls.update, owner, name,
                   number, title=title, body=body)

    def comments(self, owner: str, name: str, number: int) -> list[str]:
        items = self._call(f"list comments of #{number}", self._gh.rest.issues.list_comments,
                           owner, name, number, per_page=100)
        return [c.body or "" for c in items]

    def comment(self, owner: str, name: str, number: int, body: str) -> None:
        self._call(f"comment on #{number}", self._gh.rest.issues.create_comment, owner, name,
                   number, body=body)


def _message(response: Any) -> str:
    """GitHub's ``message`` in an error body ("" when there is none)."""
    try:
        doc = response.json()
    except Exception:  # not JSON: no message
        return ""
    return str(doc.get("message", ""))[:200] if isinstance(doc, dict) else ""


#: How long to wait after a secondary rate limit that gives no header (GitHub's advice).
SECONDARY_WAIT = 60.0


def _retry_after(headers: Any, status: int | None = None, message: str = "") -> float | None:
    """How long GitHub asked to wait, in seconds, or ``None`` (not a rate limit).

    As GitHub's documentation says: ``Retry-After`` when given (a secondary
    limit); else, when no requests remain (``x-ratelimit-remaining: 0``), until
    ``x-ratelimit-reset`` (an epoch second: rounded up, and one second more, so
    the retry comes after the reset and not just before it); else, a 429, or a
    403 that names a rate limit, waits a minute.
    """
    value = (headers.get("retry-after") or "").strip()
    if value.isdigit():
        return float(value)
    if (headers.get("x-ratelimit-remaining") or "").strip() == "0":
        reset = (headers.get("x-ratelimit-reset") or "").strip()
        if reset.isdigit():
            return float(max(1, math.ceil(int(reset) - time.time()) + 1))
    if status == 429 or (status == 403 and "rate limit" in message.lower()):
        return SECONDARY_WAIT
    return None

"""A local stand-in for GitHub's REST API: the endpoints the bot calls.

Every response is first parsed through githubkit's own model for that
endpoint (``FullRepository``, ``PullRequestSimple``, ``PullRequest``,
``IssueComment``), so a response the real client could not read fails the
test here.  Required fields the bot does not use are filled from the model's
own field types.  Branches are checked against the local bare repository that
stands for the repository's git remote.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import threading
import time
import types
import typing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, Union, get_args, get_origin
from urllib.parse import parse_qs, urlsplit

from githubkit_schemas.latest.models import (
    FullRepository,
    IssueComment,
    MinimalRepository,
    PullRequest,
    PullRequestSimple,
)
from pydantic import BaseModel

NOW = "2026-01-01T00:00:00Z"


def _sample(tp: Any) -> Any:
    origin = get_origin(tp)
    if origin is typing.Annotated:
        return _sample(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        simple = [a for a in args if a in (str, int, bool)]
        return _sample((simple or args)[0]) if args else None
    if origin is Literal:
        return get_args(tp)[0]
    if origin in (list, tuple, set):
        return []
    if origin is dict:
        return {}
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return filled(tp)
    return {str: "x", int: 1, float: 1.0, bool: False, datetime.datetime: NOW,
            datetime.date: "2026-01-01", type(None): None}.get(tp)


def filled(model: type[BaseModel], **values: Any) -> dict[str, Any]:
    """A JSON object ``model`` accepts: its required fields from their types,
    then ``values`` on top."""
    out: dict[str, Any] = {}
    for name, f in model.model_fields.items():
        if f.is_required():
            out[f.alias or name] = _sample(f.annotation)
    out.update(values)
    return out


def _user(login: str) -> dict[str, Any]:
    from githubkit_schemas.latest.models import SimpleUser

    return filled(SimpleUser, login=login, type="User")


class FakeGitHub:
    """The state of the fake GitHub, and the HTTP server in front of it."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.repos: dict[str, dict[str, Any]] = {}  #: "owner/name" -> settings and remote
        self.pulls: dict[str, list[dict[str, Any]]] = {}
        self.comments: dict[tuple[str, int], list[str]] = {}
        self.requests: list[tuple[str, str, str]] = []  #: method, path, body
        self.errors: list[str] = []  #: responses that did not parse (a test bug)
        self.delay: dict[str, float] = {}  #: "owner/name" -> seconds before answering
        self.limited: dict[str, int] = {}  #: "owner/name" -> rate-limited answers to give
        #: "owner/name" -> rate limits to answer, in order, each to the first request
        #: matching its method and path suffix (see :meth:`rate_limit`)
        self.limits: dict[str, list[dict[str, Any]]] = {}
        #: what each rate limit answered: (time, method, path, status, headers)
        self.limit_log: list[tuple[float, str, str, int, dict[str, str]]] = []
        self.times: list[float] = []  #: when each of ``requests`` came
        self.forbidden: set[str] = set()  #: "owner/name" the token may not touch (403)
        self.lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"gh": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeGitHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add_repo(self, full: str, remote: str, *, default_branch: str = "main",
                 archived: bool = False, fork: bool = False) -> None:
        self.repos[full] = dict(remote=remote, default_branch=default_branch,
                                archived=archived, fork=fork)
        self.pulls[full] = []

    def rate_limit(self, full: str, kind: str, *, method: str = "GET", path: str = "",
                   seconds: int = 2) -> None:
        """Answer the next ``method`` request on ``full`` whose path ends with
        ``path`` with one of GitHub's rate limits:

        * ``primary``: 403, ``x-ratelimit-remaining: 0`` and ``x-ratelimit-reset``
          ``seconds`` from the time of the answer (an epoch second);
        * ``secondary``: 403 with ``Retry-After: seconds`` and GitHub's message;
        * ``secondary-bare``: 403 with GitHub's message and no header at all.
        """
        self.limits.setdefault(full, []).append(dict(kind=kind, method=method, path=path,
                                                     seconds=seconds))

    def _limit_answer(self, full: str, method: str, path: str
                      ) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        for i, lim in enumerate(self.limits.get(full) or []):
            if lim["method"] == method and path.rstrip("/").endswith(lim["path"]):
                del self.limits[full][i]
                break
        else:
            return None
        if lim["kind"] == "primary":
            headers = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0",
                       "x-ratelimit-used": "5000",
                       "x-ratelimit-reset": str(int(time.time()) + lim["seconds"])}
            body = {"message": "API rate limit exceeded for installation ID 1."}
        else:
            headers = {"retry-after": str(lim["seconds"])} if lim["kind"] == "secondary" else {}
            body = {"message": "You have exceeded a secondary rate limit. Please wait a few "
                               "minutes before you try again."}
        self.limit_log.append((time.time(), method, path, 403, headers))
        return 403, body, headers

    def close(self, full: str, number: int, merged: bool = False) -> None:
        for p in self.pulls[full]:
            if p["number"] == number:
                p["state"] = "closed"
                p["merged"] = merged

    def branch_exists(self, full: str, branch: str) -> bool:
        remote = self.repos[full]["remote"]
        proc = subprocess.run(["git", "-C", remote, "rev-parse", "--verify", "--quiet",
                               f"refs/heads/{branch}"], capture_output=True)
        return proc.returncode == 0

    # --- the responses -------------------------------------------------------

    def repo_json(self, full: str) -> dict[str, Any]:
        r = self.repos[full]
        owner, name = full.split("/")
        return filled(FullRepository, id=1, name=name, full_name=full, owner=_user(owner),
                      default_branch=r["default_branch"], archived=r["archived"],
                      fork=r["fork"], clone_url=f"https://github.com/{full}.git",
                      html_url=f"https://github.com/{full}", private=False,
                      created_at=NOW, updated_at=NOW, pushed_at=NOW)

    def pull_json(self, full: str, p: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
        owner = full.split("/")[0]
        ref = lambda branch: dict(label=f"{owner}:{branch}", ref=branch, sha="0" * 40,  # noqa: E731
                                  user=_user(owner), repo=self.repo_json(full))
        return filled(model, id=p["number"], number=p["number"], state=p["state"],
                      title=p["title"], body=p["body"], user=_user("dockfix-bot"),
                      html_url=f"https://github.com/{full}/pull/{p['number']}",
                      merged_at=NOW if p.get("merged") else None,
                      closed_at=NOW if p["state"] == "closed" else None,
                      head=ref(p["head"]), base=ref(p["base"]), locked=False,
                      created_at=NOW, updated_at=NOW)

    def comment_json(self, full: str, number: int, i: int, body: str) -> dict[str, Any]:
        return filled(IssueComment, id=i, body=body, user=_user("dockfix-bot"),
                      html_url=f"https://github.com/{full}/pull/{number}#c{i}",
                      created_at=NOW, updated_at=NOW)


class _Handler(BaseHTTPRequestHandler):
    gh: FakeGitHub

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, data: Any, model: Any = None,
              headers: dict[str, str] | None = None) -> None:
        if model is not None:
            try:
                if get_origin(model) is list:
                    for item in data:
                        get_args(model)[0].model_validate(item)
                else:
                    model.model_validate(data)
            except Exception as exc:  # the fake is wrong, not the bot
                self.gh.errors.append(f"{self.command} {self.path}: {exc}")
                status, data = 500, {"message": "fake server: invalid response"}
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)

    def _handle(self) -> None:
        gh = self.gh
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        full = "/".join(parts[1:3])
        if gh.delay.get(full):
            time.sleep(gh.delay[full])
        with gh.lock:
            gh.requests.append((self.command, url.path, body))
            gh.times.append(time.time())
            limit = gh._limit_answer(full, self.command, url.path)
            if limit is not None:
                return self._send(limit[0], limit[1], headers=limit[2])
            if full in gh.forbidden:
                return self._send(403, {"message": "Resource not accessible by integration"})
            if gh.limited.get(full):
                gh.limited[full] -= 1
                return self._send(429, {"message": "You have exceeded a secondary rate limit"},
                                  headers={"Retry-After": "1"})
            auth = self.headers.get("Authorization", "")
            if auth not in (f"token {gh.token}", f"Bearer {gh.token}"):
                return self._send(401, {"message": "Bad credentials"})
            if len(parts) == 3 and parts[0] == "orgs" and parts[2] == "repos":
                return self._org(parts[1], {k: v[0] for k, v in parse_qs(url.query).items()})
            if len(parts) < 3 or parts[0] != "repos" or f"{parts[1]}/{parts[2]}" not in gh.repos:
                return self._send(404, {"message": "Not Found"})
            full, rest = f"{parts[1]}/{parts[2]}", parts[3:]
            data = json.loads(body) if body else {}
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            return self._route(full, rest, data, query)

    def _org(self, org: str, query: dict[str, str]) -> None:
        gh = self.gh
        names = sorted(f for f in gh.repos if f.split("/")[0] == org)
        per_page, page = int(query.get("per_page", 30)), int(query.get("page", 1))
        items = []
        for full in names[(page - 1) * per_page:page * per_page]:
            r = gh.repo_json(full)
            items.append(filled(MinimalRepository, **{k: r[k] for k in (
                "id", "name", "full_name", "owner", "default_branch", "archived", "fork",
                "clone_url", "html_url", "private")}))
        return self._send(200, items, list[MinimalRepository])

    def _route(self, full: str, rest: list[str], data: dict[str, Any],
               query: dict[str, str]) -> None:
        gh, method = self.gh, self.command
        pulls = gh.pulls[full]
        if not rest and method == "GET":
            return self._send(200, gh.repo_json(full), FullRepository)
        if rest == ["pulls"] and method == "GET":
            head = query.get("head")
            state = query.get("state", "open")
            items = [p for p in pulls
                     if (head is None or f"{full.split('/')[0]}:{p['head']}" == head)
                     and (state == "all" or p["state"] == state)]
            items.sort(key=lambda p: -p["number"])
            return self._send(200, [gh.pull_json(full, p, PullRequestSimple) for p in items],
                              list[PullRequestSimple])
        if rest == ["pulls"] and method == "POST":
            if not gh.branch_exists(full, data["head"]):
                return self._send(422, {"message": "Validation Failed: no such head branch"})
            if any(p["head"] == data["head"] and p["state"] == "open" for p in pulls):
                return self._send(422, {"message": "A pull request already exists"})
            p = dict(number=len(pulls) + 1, state="open", title=data["title"],
                     body=data.get("body", ""), head=data["head"], base=data["base"])
            pulls.append(p)
            return self._send(201, gh.pull_json(full, p, PullRequest), PullRequest)
        if len(rest) == 2 and rest[0] == "pulls" and method == "PATCH":
            p = next((p for p in pulls if p["number"] == int(rest[1])), None)
            if p is None:
                return self._send(404, {"message": "Not Found"})
            p.update({k: data[k] for k in ("title", "body", "state") if k in data})
            return self._send(200, gh.pull_json(full, p, PullRequest), PullRequest)
        if len(rest) == 3 and rest[0] == "issues" and rest[2] == "comments":
            key = (full, int(rest[1]))
            items = gh.comments.setdefault(key, [])
            if method == "GET":
                return self._send(200, [gh.comment_json(full, key[1], i, b)
                                        for i, b in enumerate(items, 1)], list[IssueComment])
            if method == "POST":
                items.append(data["body"])
                return self._send(201, gh.comment_json(full, key[1], len(items), data["body"]),
                                  IssueComment)
        return self._send(404, {"message": "Not Found"})

    do_GET = do_POST = do_PATCH = _handle

"""``dockfix bot serve``: GitHub webhooks in, Celery tasks out (an ASGI app).

A delivery is handled only when it is all of: at most 1 MiB (else 413), signed
with the shared secret (``X-Hub-Signature-256``, HMAC-SHA256, compared in
constant time; else 401), not seen before (``X-GitHub-Delivery``, kept in
Redis for a week; else 409), and JSON (else 400).  Then, by event:

* ``installation`` (created, new_permissions_accepted) and
  ``installation_repositories`` (added): each repository is enqueued;
* ``push`` to the default branch that changes what dockfix reads: the
  repository is enqueued again.  That is a Dockerfile, dockfix's configuration
  (``.dockfix.toml``, ``pyproject.toml``), ``.gitattributes`` or ``.gitmodules``,
  or any file of the build context that the repository's last run read or
  looked for (entrypoint scripts, compose files, devcontainer files, ``.env``),
  a path it asked was a directory, or a file added to or removed from a
  directory it listed.  The worker keeps that record in Redis
  (:class:`rewriter.bot.scan.Reads`).  With no record (the repository has not
  run yet), a forced push, or more commits than GitHub lists, any change but
  documentation counts;
* ``pull_request`` closed without merging, from the bot's branch: the opt-out
  is recorded, and that repository's tasks do nothing from then on.

Anything else is acknowledged (202) and ignored.  The secret comes from
``DOCKFIX_WEBHOOK_SECRET`` or the file ``DOCKFIX_WEBHOOK_SECRET_FILE``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import posixpath
from collections.abc import Callable
from typing import Any

from rewriter.bot.run import DEFAULT_BRANCH
from rewriter.bot.scan import Reads, is_dockerfile
from rewriter.bot.tasks import CONTEXT_KEY, OPTOUT_KEY, QUEUE, TASK, payload

MAX_BODY = 1024 * 1024
MAX_DRAIN = 4 * MAX_BODY  #: an oversized body up to this is read and dropped
REPLAY_SECONDS = 7 * 24 * 3600
_DOCS = (".md", ".rst", ".txt", ".adoc", ".png", ".jpg", ".svg", ".gif")
_CONFIG = {".dockfix.toml", "pyproject.toml", ".dockerignore", "compose.yaml", "compose.yml",
           "docker-compose.yml", "docker-compose.yaml"}


#: GitHub lists at most this many commits in a push event.
MAX_PUSH_COMMITS = 2048


def relevant(path: str) -> bool:
    """Whether a change to ``path`` may change what dockfix proposes, when
    nothing is known of what it reads: anything but documentation."""
    name = posixpath.basename(path)
    if is_dockerfile(path) or name in _CONFIG or name.endswith(".dockerignore"):
        return True
    return not name.lower().endswith(_DOCS)


def verify(secret: bytes, body: bytes, signature: str | None) -> bool:
    if not signature or not signature.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


def push_matters(doc: dict[str, Any], reads: Reads | None) -> bool:
    """Whether a push (to the default branch) may change what dockfix proposes."""
    commits = doc.get("commits") or []
    if doc.get("forced") or len(commits) >= MAX_PUSH_COMMITS:
        return True  # what changed is more than the commits listed
    changes = [(p, kind) for c in commits for kind in ("added", "modified", "removed")
               for p in c.get(kind) or []]
    if reads is None:
        return any(relevant(p) for p, _ in changes)
    return any(reads.touches(p, kind) for p, kind in changes)


def jobs(event: str, doc: dict[str, Any], branch: str = DEFAULT_BRANCH,
         reads_for: Callable[[str], Reads | None] = lambda full: None,
         ) -> tuple[list[dict[str, Any]], list[str]]:
    """What a delivery asks for: task payloads to enqueue, repositories opting out.
    ``reads_for(OWNER/NAME)`` is what the repository's last run read, if known."""
    enqueue: list[dict[str, Any]] = []
    optout: list[str] = []

    def repo_job(full: str) -> dict[str, Any]:
        return payload(f"https://github.com/{full}.git", full)

    action = doc.get("action")
    if event == "installation" and action in ("created", "new_permissions_accepted"):
        enqueue += [repo_job(r["full_name"]) for r in doc.get("repositories") or []]
    elif event == "installation_repositories" and action == "added":
        enqueue += [repo_job(r["full_name"]) for r in doc.get("repositories_added") or []]
    elif event == "push":
        repo = doc.get("repository") or {}
        default = repo.get("default_branch")
        if default and doc.get("ref") == f"refs/heads/{default}" and \
                push_matters(doc, reads_for(repo["full_name"])):
            enqueue.append(repo_job(repo["full_name"]))
    elif event == "pull_request" and action == "closed":
        pr = doc.get("pull_request") or {}
        if not pr.get("merged") and (pr.get("head") or {}).get("ref") == branch:
            optout.append(doc["repository"]["full_name"])
    return enqueue, optout


def make_web_app(secret: bytes, celery_app: Any, branch: str = DEFAULT_BRANCH) -> Any:
    """The ASGI app; ``celery_app`` enqueues (and its broker keeps delivery ids)."""
    # starlette is imported only by the webhook server
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from rewriter.bot.tasks import redis_client

    if not secret:
        raise ValueError("the webhook secret is empty")
    redis = redis_client(celery_app)

    def reads_for(full: str) -> Reads | None:
        raw = redis.get(CONTEXT_KEY + full)
        try:
            return Reads.from_dict(json.loads(raw)) if raw else None
        except (ValueError, TypeError, AttributeError):  # not ours: as if unknown
            return None

    def answer(status: int, message: str, **extra: Any) -> JSONResponse:
        return JSONResponse({"message": message, **extra}, status_code=status)

    async def read(request: Request) -> bytes | None:
        """The body, or ``None`` when it is over ``MAX_BODY``.  A body a little
        over is read to its end (and dropped), so the client gets its 413
        rather than a reset connection; a much larger one is not."""
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_DRAIN):
            return None
        body = bytearray()
        seen = 0
        async for chunk in request.stream():
            seen += len(chunk)
            if seen > MAX_DRAIN:
                return None
            if seen <= MAX_BODY:
                body += chunk
        return bytes(body) if seen <= MAX_BODY else None

    async def webhook(request: Request) -> JSONResponse:
        body = await read(request)
        if body is None:
            return answer(413, "payload too large")
        if not verify(secret, body, request.headers.get("x-hub-signature-256")):
            return answer(401, "bad or missing signature")
        delivery = request.headers.get("x-github-delivery", "")
        event = request.headers.get("x-github-event", "")
        if not delivery or len(delivery) > 100 or not event:
            return answer(400, "missing X-GitHub-Delivery or X-GitHub-Event")
        try:
            doc = json.loads(body)
            if not isinstance(doc, dict):
                raise ValueError("not an object")
            enqueue, optout = jobs(event, doc, branch, reads_for)
        except (ValueError, KeyError, TypeError, AttributeError):
            return answer(400, "malformed payload")
        if not redis.set(f"dockfix:delivery:{delivery}", 1, nx=True, ex=REPLAY_SECONDS):
            return answer(409, "delivery already handled")
        for full in optout:
            redis.sadd(OPTOUT_KEY, full)
        for job in enqueue:
            celery_app.send_task(TASK, kwargs=job, queue=QUEUE)
        return answer(202, "accepted", enqueued=len(enqueue), opted_out=len(optout))

    async def health(request: Request) -> JSONResponse:
        return answer(200, "ok")

    return Starlette(routes=[Route("/webhook", webhook, methods=["POST"]),
                             Route("/healthz", health, methods=["GET"])])


def serve(host: str, port: int, secret: bytes, celery_app: Any,
          log: Callable[[str], None] | None = None) -> None:
    import uvicorn

    app = make_web_app(secret, celery_app)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False,
                server_header=False, proxy_headers=False)

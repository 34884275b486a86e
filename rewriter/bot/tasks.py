"""The bot at organisation scale: a Celery app on a Redis broker.

Configured as Celery's security guide asks:

* JSON only: ``task_serializer``, ``result_serializer``, ``accept_content``
  and ``result_accept_content`` are ``json``; pickle is never accepted;
* message signing with Celery's ``auth`` serializer when a key, a certificate
  and a certificate store are configured (``DOCKFIX_SIGNING_KEY``,
  ``DOCKFIX_SIGNING_CERT``, ``DOCKFIX_CERT_STORE``): an unsigned or tampered
  message is then refused;
* the broker needs a password (``DOCKFIX_REDIS_PASSWORD`` or
  ``DOCKFIX_REDIS_PASSWORD_FILE``), and ``rediss://`` URLs get TLS options;
* workers refuse to run as root (``dockfix bot worker``);
* the GitHub token comes from the worker's environment or a secret file,
  never from a message: a task's payload is a repository and its options.

Delivery: ``acks_late`` with ``task_reject_on_worker_lost`` and a visibility
timeout, so a repository whose worker dies mid-task is delivered again; a
per-repository lock in Redis, so two workers never work on one repository at
once; GitHub's rate limits (``Retry-After``, ``x-ratelimit-reset``) become
delayed retries.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from rewriter.bot.git import redact

QUEUE = "dockfix"
TASK = "dockfix.run_repo"
#: A repository's lock lives this long unless its holder renews it (every third of
#: it, while it runs): a worker that dies frees its repository this soon.
LOCK_SECONDS = 60
OPTOUT_KEY = "dockfix:opt-out"  #: repositories whose bot pull request was closed unmerged
#: + OWNER/NAME: what the repository's last run read (JSON; the webhook's push filter)
CONTEXT_KEY = "dockfix:context:"
CONTEXT_SECONDS = 90 * 24 * 3600

log = logging.getLogger("dockfix.bot")


class ConfigError(ValueError):
    pass


def _secret(env: Mapping[str, str], name: str) -> str | None:
    """``name`` from the environment, or from the file ``name_FILE``."""
    value = env.get(name, "").strip()
    if value:
        return value
    path = env.get(f"{name}_FILE", "").strip()
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                return f.read(4096).strip() or None
        except OSError as exc:
            raise ConfigError(f"{name}_FILE: cannot read {path}: {exc.strerror}") from None
    return None


def broker_url(env: Mapping[str, str] | None = None) -> str:
    """``DOCKFIX_BROKER_URL`` (default ``redis://127.0.0.1:6379/0``) with the password."""
    env = os.environ if env is None else env
    url = env.get("DOCKFIX_BROKER_URL", "redis://127.0.0.1:6379/0")
    if not url.startswith(("redis://", "rediss://")):
        raise ConfigError(f"DOCKFIX_BROKER_URL: expected a redis:// or rediss:// URL, got {url!r}")
    password = _secret(env, "DOCKFIX_REDIS_PASSWORD")
    if password and "@" not in url:
        scheme, rest = url.split("://", 1)
        url = f"{scheme}://:{quote(password, safe='')}@{rest}"
    if "@" not in url:
        raise ConfigError("the broker needs a password: set DOCKFIX_REDIS_PASSWORD "
                          "(or DOCKFIX_REDIS_PASSWORD_FILE)")
    return url


def tls_options(env: Mapping[str, str], url: str) -> dict[str, Any] | None:
    """The broker's TLS options for a ``rediss://`` URL (``None`` for ``redis://``).

    The server's certificate is always verified (``ssl_cert_reqs`` required,
    host name checked) against ``DOCKFIX_REDIS_CA`` (a PEM file) or the
    system's CAs; ``DOCKFIX_REDIS_CLIENT_CERT`` and ``DOCKFIX_REDIS_CLIENT_KEY``
    (both or neither) authenticate the client to a server that asks for it
    (Redis's ``tls-auth-clients``).  TLS options with a ``redis://`` URL are an
    error, not a silent plain-text connection.
    """
    names = ("DOCKFIX_REDIS_CA", "DOCKFIX_REDIS_CLIENT_CERT", "DOCKFIX_REDIS_CLIENT_KEY")
    ca, cert, key = (env.get(n, "").strip() for n in names)
    if not url.startswith("rediss://"):
        if ca or cert or key:
            raise ConfigError(f"{next(n for n, v in zip(names, (ca, cert, key)) if v)} is set "
                              "but DOCKFIX_BROKER_URL is not a rediss:// (TLS) URL")
        return None
    if bool(cert) != bool(key):
        raise ConfigError("a client certificate needs DOCKFIX_REDIS_CLIENT_CERT and "
                          "DOCKFIX_REDIS_CLIENT_KEY together")
    for name, path in zip(names, (ca, cert, key)):
        if path and not os.path.isfile(path):
            raise ConfigError(f"{name}: no such file: {path}")
    tls: dict[str, Any] = {"ssl_cert_reqs": ssl.CERT_REQUIRED, "ssl_check_hostname": True}
    if ca:
        tls["ssl_ca_certs"] = ca
    if cert:
        tls["ssl_certfile"], tls["ssl_keyfile"] = cert, key
    return tls


def make_app(env: Mapping[str, str] | None = None) -> Any:
    """The Celery app, configured from the environment."""
    # celery takes a second to import; only the queue's commands need it
    from celery import Celery

    env = os.environ if env is None else env
    url = broker_url(env)
    app = Celery("dockfix", broker=url, set_as_current=False)
    app.conf.update(
        task_serializer="json", result_serializer="json",
        accept_content=["json"], result_accept_content=["json"],
        event_serializer="json",
        task_ignore_result=True,
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        task_default_queue=QUEUE, task_create_missing_queues=False,
        broker_transport_options={"visibility_timeout": int(env.get(
            "DOCKFIX_VISIBILITY_TIMEOUT", "1800"))},
        broker_connection_retry_on_startup=True,
        worker_send_task_events=False, task_send_sent_event=False,
        worker_hijack_root_logger=False,
    )
    tls = tls_options(env, url)
    if tls:
        app.conf.broker_use_ssl = tls
    key, cert, store = (env.get(n, "").strip() for n in
                        ("DOCKFIX_SIGNING_KEY", "DOCKFIX_SIGNING_CERT", "DOCKFIX_CERT_STORE"))
    if key or cert or store:
        if not (key and cert and store):
            raise ConfigError("message signing needs DOCKFIX_SIGNING_KEY, DOCKFIX_SIGNING_CERT "
                              "and DOCKFIX_CERT_STORE together")
        app.conf.update(security_key=key, security_certificate=cert, security_cert_store=store,
                        security_digest="sha256", task_serializer="auth",
                        event_serializer="auth", accept_content=["auth"])
        app.setup_security(allowed_serializers=["json"], serializer="json")
    app.task(bind=True, name=TASK, acks_late=True, max_retries=20)(_run_repo)
    return app


def redis_client(app: Any) -> Any:
    import redis

    return redis.Redis.from_url(app.conf.broker_url, socket_timeout=30,
                                **(app.conf.broker_use_ssl or {}))


def payload(repo: str, github_repo: str | None = None, *, base: str | None = None,
            branch: str | None = None, api_url: str | None = None) -> dict[str, Any]:
    """A task's arguments: the repository and options, never a secret."""
    out: dict[str, Any] = {"repo": repo}
    for key, value in (("github_repo", github_repo), ("base", base), ("branch", branch),
                       ("api_url", api_url)):
        if value:
            out[key] = value
    return out


def _run_repo(self: Any, repo: str, github_repo: str | None = None, base: str | None = None,
              branch: str | None = None, api_url: str | None = None) -> dict[str, Any]:
    """Run the bot on one repository, holding its lock."""
    from rewriter.bot.run import DEFAULT_BRANCH, FAILED, Options, run

    token = _secret(os.environ, "DOCKFIX_GITHUB_TOKEN") or _secret(os.environ, "GITHUB_TOKEN")
    secrets = [token] if token else []
    options = Options(repo=repo, base=base, branch=branch or DEFAULT_BRANCH,
                      github_repo=github_repo,
                      api_url=api_url or os.environ.get("DOCKFIX_API_URL", "https://api.github.com"),
                      token=token, workdir=os.environ.get("DOCKFIX_WORKDIR") or None)
    key = github_repo or repo
    client = redis_client(self.app)
    if client.sismember(OPTOUT_KEY, key):
        log.info("%s: opted-out: its pull request was closed without merging", key)
        return {"repo": key, "status": "opted-out"}
    ttl = int(os.environ.get("DOCKFIX_LOCK_SECONDS", LOCK_SECONDS))
    lock = client.lock(f"dockfix:lock:{key}", timeout=ttl, blocking=False)
    if not lock.acquire():
        raise self.retry(countdown=5, max_retries=None)  # another worker has it
    done = threading.Event()

    def renew() -> None:
        while not done.wait(ttl / 3):
            try:
                lock.extend(ttl, replace_ttl=True)
            except Exception:  # lost it (Redis restarted): the run is idempotent anyway
                return

    renewer = threading.Thread(target=renew, daemon=True)
    renewer.start()
    try:
        report = run(options)
    finally:
        done.set()
        try:
            lock.release()
        except Exception:  # it expired: the next holder's lock is not ours to free
            pass
    for line in report.lines():
        log.info("%s", redact(line, secrets))
    log.info("%s: timings %s", key, json.dumps(report.timings, sort_keys=True))
    if report.context is not None:
        client.set(CONTEXT_KEY + key, json.dumps(report.context, separators=(",", ":")),
                   ex=CONTEXT_SECONDS)
    if report.status == FAILED and report.retry_after is not None:
        raise self.retry(countdown=max(1, int(report.retry_after)))
    return {"repo": key, "status": report.status}

"""Broker and result backend URLs: their passwords and hosts."""

from __future__ import annotations

import ipaddress
from urllib.parse import SplitResult, urlsplit

from rewriter.python.model import Setting

URL_SETTINGS = ("broker_url", "result_backend")
#: schemes whose traffic is plain text unless TLS is asked for
PLAIN = frozenset({"redis", "amqp", "pyamqp", "librabbitmq", "sentinel"})


def urls(s: Setting) -> list[str]:
    """The URLs a literal setting holds (a string, a ``;``-separated list, or a list)."""
    if not s.literal:
        return []
    values = [s.python] if isinstance(s.python, str) else list(s.python or ())
    return [u.strip() for v in values if isinstance(v, str) for u in v.split(";") if "://" in u]


def split(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        return None
    return parts


def has_password(url: str) -> bool:
    parts = split(url)
    if parts is None or not parts.password:
        return False
    pw = parts.password
    # a template's placeholder, not a password
    return not (pw.startswith(("$", "{", "%", "<")) or pw in ("password", "PASSWORD", "****"))


def masked(url: str) -> str:
    """``url`` with its password replaced by ``****`` (never print a password)."""
    parts = split(url)
    if parts is None or parts.password is None:
        return url if parts is not None else "(a URL)"
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{user}:****@{host}").geturl()


def loopback(url: str) -> bool:
    parts = split(url)
    host = (parts.hostname or "") if parts is not None else ""
    if host in ("", "localhost") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

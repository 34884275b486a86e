"""The Celery settings the rules read, by every name they can be written with.

Celery 4 renamed its settings to lowercase (``task_serializer``); the old
uppercase names (``CELERY_TASK_SERIALIZER``, ``BROKER_URL``) still work, and a
Django project that loads its settings with ``namespace='CELERY'`` writes the
new names in uppercase behind ``CELERY_`` (``CELERY_TASK_SERIALIZER``,
``CELERY_BROKER_URL``).  ``Celery(broker=..., backend=...)`` are two more.

This module imports nothing.
"""

from __future__ import annotations

#: canonical (new) name -> every spelling, the new name first
SPELLINGS: dict[str, tuple[str, ...]] = {
    "task_serializer": ("task_serializer", "CELERY_TASK_SERIALIZER"),
    "result_serializer": ("result_serializer", "CELERY_RESULT_SERIALIZER"),
    "event_serializer": ("event_serializer", "CELERY_EVENT_SERIALIZER"),
    "accept_content": ("accept_content", "CELERY_ACCEPT_CONTENT"),
    "result_accept_content": ("result_accept_content", "CELERY_RESULT_ACCEPT_CONTENT"),
    "security_key": ("security_key", "CELERY_SECURITY_KEY"),
    "security_certificate": ("security_certificate", "CELERY_SECURITY_CERTIFICATE"),
    "security_cert_store": ("security_cert_store", "CELERY_SECURITY_CERT_STORE"),
    "broker_url": ("broker_url", "BROKER_URL", "CELERY_BROKER_URL"),
    "broker_use_ssl": ("broker_use_ssl", "BROKER_USE_SSL", "CELERY_BROKER_USE_SSL"),
    "result_backend": ("result_backend", "CELERY_RESULT_BACKEND"),
}
#: keyword arguments of ``Celery(...)`` that name a setting
CELERY_KWARGS = {"broker": "broker_url", "backend": "result_backend"}

CANONICAL: dict[str, str] = {s: name for name, spellings in SPELLINGS.items() for s in spellings}
ALL_SPELLINGS = frozenset(CANONICAL)

SERIALIZERS = ("task_serializer", "result_serializer", "event_serializer")
ACCEPTS = ("accept_content", "result_accept_content")
SECURITY = ("security_key", "security_certificate", "security_cert_store")


def spelled_like(canonical: str, example: str) -> str:
    """``canonical`` written the way ``example`` (another setting) is written:
    ``CELERY_ACCEPT_CONTENT`` beside ``CELERY_TASK_SERIALIZER``."""
    if example.isupper():
        upper = [s for s in SPELLINGS[canonical] if s.isupper()]
        prefixed = [s for s in upper if s.startswith("CELERY_")]
        return (prefixed or upper)[0] if example.startswith("CELERY_") else upper[0]
    return SPELLINGS[canonical][0]

"""The OpenSearch adapters' one translation of vendor errors into ``AuditIndexUnavailable``.

:func:`why` says what went wrong (status and reason, or that nothing answered) without the
request's body; :func:`translated` wraps a call so that opensearch-py's errors leave the
adapter as ``AuditIndexUnavailable`` only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opensearchpy.exceptions import ConnectionError as OsConnectionError
from opensearchpy.exceptions import OpenSearchException, TransportError

from guardian.errors import AuditIndexUnavailable

VENDOR_ERRORS = (TransportError, OpenSearchException)
"""What opensearch-py raises (``TransportError`` covers HTTP statuses and connections)."""


def why(exc: Exception) -> str:
    if isinstance(exc, OsConnectionError):
        return f"cannot connect ({exc.error})"
    if isinstance(exc, TransportError):
        info = exc.info if isinstance(exc.info, dict) else {}
        error = info.get("error")
        reason = error.get("reason") if isinstance(error, dict) else error
        return f"{exc.status_code} {reason or exc.error}"
    return type(exc).__name__


@contextmanager
def translated(doing: str = "OpenSearch") -> Iterator[None]:
    """``AuditIndexUnavailable("<doing>: <why>")`` for any opensearch-py error inside."""
    try:
        yield
    except VENDOR_ERRORS as exc:
        raise AuditIndexUnavailable(f"{doing}: {why(exc)}") from exc

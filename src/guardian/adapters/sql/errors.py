"""The SQL adapters' one translation of vendor errors: SQLAlchemy's become ``StoreUnavailable``.

Every statement of ``guardian.adapters.sql`` runs inside :class:`translated`, so nothing past
the adapter boundary sees a SQLAlchemy exception (the API maps ``StoreUnavailable`` to 503).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from guardian.errors import StoreUnavailable


class translated:
    """Turn SQLAlchemy errors into ``StoreUnavailable`` at the adapter boundary."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, _tb: Any) -> None:
        if isinstance(exc, SQLAlchemyError):
            raise StoreUnavailable(f"store error: {type(exc).__name__}") from exc

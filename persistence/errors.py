"""The one exception the app turns into "your message could not be saved: database unavailable"."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import SQLAlchemyError


class PersistenceError(RuntimeError):
    """A read or write did not reach the database; nothing was stored."""


@contextmanager
def database_errors(action: str) -> Iterator[None]:
    """Re-raise driver and SQLAlchemy errors as PersistenceError, keeping the cause.

    The message names the action, never the parameters (they may hold user content).
    """
    try:
        yield
    except PersistenceError:
        raise
    except (SQLAlchemyError, OSError) as error:
        raise PersistenceError(f"database unavailable while trying to {action}: {type(error).__name__}") from error

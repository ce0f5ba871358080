"""The app owns its schema: Alembic migrations in `persistence/migrations`, run at start-up.

`await upgrade_database(url)` is idempotent and keeps existing data. On PostgreSQL an advisory
lock serialises several app instances starting at once.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from .engine import create_engine
from .errors import database_errors

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_MIGRATION_LOCK = 0x48594252  # "HYBR": any constant shared by all instances
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # 7 INFO lines at every start


def _alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration this code knows."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def _upgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    command.upgrade(_alembic_config(connection), revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade_database(url: str, revision: str = "head") -> None:
    """Create or upgrade the schema at `url` to `revision` (default: the newest)."""
    engine = create_engine(url)
    try:
        with database_errors("migrate the database"):
            async with engine.begin() as connection:
                await connection.run_sync(_upgrade, revision)
    finally:
        await engine.dispose()


async def current_revision(url: str) -> str | None:
    """The revision the database at `url` is at (None when it has no schema yet)."""
    engine = create_engine(url)
    try:
        with database_errors("read the schema revision"):
            async with engine.connect() as connection:
                return await connection.run_sync(_current)
    finally:
        await engine.dispose()

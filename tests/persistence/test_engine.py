"""Which database the settings select."""

import pytest

from persistence import database_url
from persistence.engine import normalise_url
from settings import Settings


def test_default_is_a_sqlite_file_in_the_data_dir(tmp_path):
    assert database_url(Settings(DATA_DIR=tmp_path)) == f"sqlite+aiosqlite:///{tmp_path / 'hybrid_chat.db'}"


@pytest.mark.parametrize("raw", [
    "postgres://u:p@db:5432/chat", "postgresql://u:p@db:5432/chat", "postgresql+psycopg2://u:p@db:5432/chat",
])
def test_postgres_urls_use_asyncpg(raw, tmp_path):
    assert database_url(Settings(DATA_DIR=tmp_path, DATABASE_URL=raw)) == "postgresql+asyncpg://u:p@db:5432/chat"


def test_other_databases_are_refused_clearly():
    with pytest.raises(ValueError, match="PostgreSQL or SQLite"):
        normalise_url("mysql://u:p@db/chat")


def test_the_password_stays_out_of_the_settings_repr(tmp_path):
    settings = Settings(DATA_DIR=tmp_path, DATABASE_URL="postgresql://u:s3cret@db/chat")
    assert "s3cret" not in repr(settings)

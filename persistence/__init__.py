"""Persistence: Chainlit's SQLAlchemy data layer made correct on SQLite and PostgreSQL, plus our own tables."""

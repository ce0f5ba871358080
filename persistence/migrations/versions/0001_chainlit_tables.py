"""Chainlit 2.12's tables with every column its SQLAlchemy data layer writes.

Chainlit's documented DDL lacks steps.autoCollapse, steps.modes, elements.autoPlay and
elements.playerConfig, so every step insert failed. Ids are TEXT and timestamps ISO-8601
UTC strings, as chainlit writes them. JSON columns are JSONB on PostgreSQL and TEXT holding
JSON on SQLite; tags are TEXT[] on PostgreSQL and a JSON list on SQLite.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.Text().with_variant(postgresql.JSONB(), "postgresql")
TAGS = sa.Text().with_variant(postgresql.ARRAY(sa.Text()), "postgresql")


def _thread_fk() -> sa.ForeignKey:
    return sa.ForeignKey("threads.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("identifier", sa.Text, nullable=False, unique=True),
        sa.Column("metadata", JSON, nullable=False),
        sa.Column("createdAt", sa.Text),
    )
    op.create_table(
        "threads",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("createdAt", sa.Text),
        sa.Column("name", sa.Text),
        sa.Column("userId", sa.Text, sa.ForeignKey("users.id", ondelete="CASCADE")),
        sa.Column("userIdentifier", sa.Text),
        sa.Column("tags", TAGS),
        sa.Column("metadata", JSON),
    )
    op.create_table(
        "steps",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("threadId", sa.Text, _thread_fk(), nullable=False),
        sa.Column("parentId", sa.Text),
        sa.Column("streaming", sa.Boolean, nullable=False),
        sa.Column("waitForAnswer", sa.Boolean),
        sa.Column("isError", sa.Boolean),
        sa.Column("metadata", JSON),
        sa.Column("tags", TAGS),
        sa.Column("input", sa.Text),
        sa.Column("output", sa.Text),
        sa.Column("createdAt", sa.Text),
        sa.Column("command", sa.Text),
        sa.Column("start", sa.Text),
        sa.Column("end", sa.Text),
        sa.Column("generation", JSON),
        sa.Column("showInput", sa.Text),
        sa.Column("language", sa.Text),
        sa.Column("indent", sa.Integer),
        sa.Column("defaultOpen", sa.Boolean),
        sa.Column("autoCollapse", sa.Boolean),
        sa.Column("modes", JSON),
    )
    op.create_table(
        "elements",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("threadId", sa.Text, _thread_fk()),
        sa.Column("type", sa.Text),
        sa.Column("url", sa.Text),
        sa.Column("chainlitKey", sa.Text),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("display", sa.Text),
        sa.Column("objectKey", sa.Text),
        sa.Column("size", sa.Text),
        sa.Column("page", sa.Integer),
        sa.Column("language", sa.Text),
        sa.Column("forId", sa.Text),
        sa.Column("mime", sa.Text),
        sa.Column("props", JSON),
        sa.Column("autoPlay", sa.Boolean),
        sa.Column("playerConfig", JSON),
    )
    op.create_table(
        "feedbacks",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("forId", sa.Text, nullable=False),
        sa.Column("threadId", sa.Text, _thread_fk(), nullable=False),
        sa.Column("value", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text),
    )


def downgrade() -> None:
    for table in ("feedbacks", "elements", "steps", "threads", "users"):
        op.drop_table(table)

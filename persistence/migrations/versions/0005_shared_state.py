"""State several app instances must share: rate-limit windows, failed sign-ins, revoked sessions.

Each row carries `expires_at` (epoch seconds), indexed, so expired rows are deleted cheaply.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_windows",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_table(
        "login_failures",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("first_at", sa.Float, nullable=False),
        sa.Column("locked_until", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_table(
        "revoked_sessions",
        sa.Column("token_digest", sa.Text, primary_key=True),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    for table in ("rate_windows", "login_failures", "revoked_sessions"):
        op.create_index(f"ix_{table}_expires_at", table, ["expires_at"])


def downgrade() -> None:
    for table in ("revoked_sessions", "login_failures", "rate_windows"):
        op.drop_index(f"ix_{table}_expires_at", table_name=table)
        op.drop_table(table)

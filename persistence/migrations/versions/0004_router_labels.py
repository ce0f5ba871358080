"""Labels the router learns from: the model and route of each chat answer (so a thumbs up/down
says which model it rates) and each comparison of a local with a cloud answer.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answer_routes",
        sa.Column("step_id", sa.Text, primary_key=True),
        sa.Column("thread_id", sa.Text),
        sa.Column("user_identifier", sa.Text, nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("route", sa.Text, nullable=False),
        sa.Column("strong_win_rate", sa.Float),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "route_comparisons",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("user_identifier", sa.Text, nullable=False),
        sa.Column("thread_id", sa.Text),
        sa.Column("first_step_id", sa.Text, nullable=False),
        sa.Column("second_step_id", sa.Text, nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("local_model", sa.Text, nullable=False),
        sa.Column("cloud_model", sa.Text, nullable=False),
        sa.Column("first_route", sa.Text, nullable=False),
        sa.Column("preference", sa.Text, nullable=False),
        sa.Column("strong_win_rate", sa.Float),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_route_comparisons_user", "route_comparisons", ["user_identifier"])


def downgrade() -> None:
    op.drop_index("ix_route_comparisons_user", table_name="route_comparisons")
    op.drop_table("route_comparisons")
    op.drop_table("answer_routes")

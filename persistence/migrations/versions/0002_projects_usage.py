"""Hybrid Chat's own tables (projects, members, per-message usage) and the indexes listing needs.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("private", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_projects_owner", "projects", ["owner"])
    op.create_table(
        "project_members",
        sa.Column("project_id", sa.Text, sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("member", sa.Text, primary_key=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_project_members_member", "project_members", ["member"])
    op.create_table(
        "message_usage",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("step_id", sa.Text, nullable=False, unique=True),
        sa.Column("thread_id", sa.Text),  # no foreign key: usage outlives a deleted chat (budgets)
        sa.Column("user_identifier", sa.Text, nullable=False),
        sa.Column("backend", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("prompt_tokens", sa.Integer, nullable=False),
        sa.Column("completion_tokens", sa.Integer, nullable=False),
        sa.Column("cost_usd", sa.Float, nullable=False),
        sa.Column("ttft_ms", sa.Float),
        sa.Column("latency_ms", sa.Float),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_message_usage_user_created", "message_usage", ["user_identifier", "created_at"])
    op.create_index("ix_threads_user_created", "threads", ["userId", "createdAt", "id"])
    op.create_index("ix_steps_thread_created", "steps", ["threadId", "createdAt"])
    op.create_index("ix_elements_thread", "elements", ["threadId"])
    op.create_index("ix_elements_object_key", "elements", ["objectKey"])
    op.create_index("ix_feedbacks_for", "feedbacks", ["forId"])
    op.create_index("ix_feedbacks_thread", "feedbacks", ["threadId"])


def downgrade() -> None:
    for index, table in (
        ("ix_feedbacks_thread", "feedbacks"), ("ix_feedbacks_for", "feedbacks"),
        ("ix_elements_object_key", "elements"), ("ix_elements_thread", "elements"),
        ("ix_steps_thread_created", "steps"), ("ix_threads_user_created", "threads"),
    ):
        op.drop_index(index, table_name=table)
    op.drop_table("message_usage")
    op.drop_table("project_members")
    op.drop_table("projects")

"""SQLAlchemy Core views of Hybrid Chat's own tables (created by migrations 0002, 0004 and 0005)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

projects = sa.Table(
    "projects", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("private", sa.Boolean, nullable=False),
)

project_members = sa.Table(
    "project_members", metadata,
    sa.Column("project_id", sa.Text, sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("member", sa.Text, primary_key=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
)

message_usage = sa.Table(
    "message_usage", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("step_id", sa.Text, nullable=False, unique=True),
    sa.Column("thread_id", sa.Text),
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

answer_routes = sa.Table(
    "answer_routes", metadata,
    sa.Column("step_id", sa.Text, primary_key=True),
    sa.Column("thread_id", sa.Text),
    sa.Column("user_identifier", sa.Text, nullable=False),
    sa.Column("prompt", sa.Text, nullable=False),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("route", sa.Text, nullable=False),
    sa.Column("strong_win_rate", sa.Float),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

route_comparisons = sa.Table(
    "route_comparisons", metadata,
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

# State shared across app instances (migration 0005; see shared_state.py).
rate_windows = sa.Table(
    "rate_windows", metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

login_failures = sa.Table(
    "login_failures", metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("first_at", sa.Float, nullable=False),
    sa.Column("locked_until", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

revoked_sessions = sa.Table(
    "revoked_sessions", metadata,
    sa.Column("token_digest", sa.Text, primary_key=True),
    sa.Column("expires_at", sa.Float, nullable=False),
)

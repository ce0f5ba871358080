"""Persistence: Hybrid Chat's storage, and nothing but storage.

Owns Chainlit's SQLAlchemy data layer made correct on SQLite and PostgreSQL (threads, steps,
elements, feedback, owner-only files), the Alembic migrations, and our own tables: projects
and their members, usage per answer, API keys, and the labels the router learns from (the
model and route of each chat answer, comparisons of a local with a cloud answer), and the state several
instances must share (`SharedState`: rate-limit windows, failed sign-ins, revoked sessions). Who may do what is decided elsewhere
(`signin`, the app); these functions only store and read.

Start-up: `await upgrade_database(database_url())`, then register
`HybridDataLayer.from_settings()` with `@cl.data_layer`, then `install_file_route(app, layer)` and
`install_feedback_guard(app, layer)` on `chainlit.server.app`.
"""

from .api_keys import ApiKey, find_active_api_key, list_api_keys, revoke_api_key, store_api_key
from .data_layer import HybridDataLayer, utc_timestamp
from .engine import create_engine, database_url
from .errors import PersistenceError
from .feedback_guard import install_feedback_guard
from .files import install_file_route
from .migrate import upgrade_database
from .projects import (
    Member,
    Project,
    add_member,
    create_project,
    delete_project,
    get_project,
    list_members,
    list_projects,
    project_for,
    remove_member,
    rename_project,
    set_project_private,
)
from .resume import Turn, conversation_turns
from .shared_state import RateWindow, SharedState
from .router_labels import (
    AnswerRoute, Comparison, Preference, Thumb, list_comparisons, list_thumbs, record_answer_route, record_comparison,
)
from .storage import LocalStorageClient
from .usage import UsageRecord, UsageSummary, record_usage, usage_summary

__all__ = [
    "AnswerRoute", "ApiKey", "Comparison", "HybridDataLayer", "LocalStorageClient", "Member", "PersistenceError",
    "Preference", "Project", "RateWindow", "SharedState", "Thumb", "Turn", "UsageRecord", "UsageSummary", "add_member", "conversation_turns",
    "create_engine", "create_project", "database_url", "delete_project", "find_active_api_key", "get_project",
    "install_feedback_guard", "install_file_route", "list_api_keys", "list_comparisons",
    "list_members", "list_projects", "list_thumbs", "project_for", "record_answer_route", "record_comparison", "record_usage",
    "remove_member", "rename_project", "revoke_api_key", "set_project_private", "store_api_key", "upgrade_database",
    "usage_summary", "utc_timestamp",
]

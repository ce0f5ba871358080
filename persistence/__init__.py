"""Persistence: Chainlit's SQLAlchemy data layer made correct on SQLite and PostgreSQL, plus our own tables.

Start-up: `await upgrade_database(database_url())`, then register
`HybridDataLayer.from_settings()` with `@cl.data_layer`, then `install_file_route(app, layer)` and
`install_feedback_guard(app, layer)` on `chainlit.server.app`.
"""

from .api_keys import ApiKey, find_active_api_key, list_api_keys, revoke_api_key, store_api_key
from .data_layer import HybridDataLayer, decode_json, utc_timestamp
from .engine import create_engine, database_url, normalise_url
from .errors import PersistenceError
from .feedback_guard import install_feedback_guard
from .files import ReadPolicy, install_file_route, make_file_router, thread_author_policy
from .migrate import current_revision, head_revision, upgrade_database
from .projects import (
    Member,
    Project,
    add_member,
    create_project,
    delete_project,
    get_project,
    is_member,
    list_members,
    list_projects,
    remove_member,
    rename_project,
    set_project_private,
)
from .resume import Turn, conversation_turns
from .storage import LocalStorageClient
from .usage import UsageRecord, UsageSummary, record_usage, usage_summary

__all__ = [
    "ApiKey", "find_active_api_key", "list_api_keys", "revoke_api_key", "store_api_key",
    "HybridDataLayer", "LocalStorageClient", "Member", "PersistenceError", "Project", "ReadPolicy", "Turn",
    "UsageRecord", "UsageSummary", "add_member", "conversation_turns", "create_engine", "create_project",
    "current_revision", "database_url", "decode_json", "delete_project", "get_project", "head_revision", "install_feedback_guard", "install_file_route",
    "is_member", "list_members", "list_projects", "make_file_router", "normalise_url", "record_usage",
    "remove_member", "rename_project", "set_project_private", "thread_author_policy", "upgrade_database",
    "usage_summary", "utc_timestamp",
]

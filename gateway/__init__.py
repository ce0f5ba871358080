"""The gateway: the router as an OpenAI-compatible API, and the operations side of the server.

    gateway = mount_gateway(http_app, router, settings, accounts=accounts)   # in app.py
    configure_logging(settings)                                              # JSON logs, redaction

Pieces the chat path shares: `gateway.limits` (`await limits.admit(engine, user, [text], admin=...)`,
raising `LimitExceeded` whose `.message` is for the user), the metrics functions
(`observe_route`, `observe_answer`, `count_error`, `count_ingestion`) and `bind_request_id`.
Keys: `issue_key`, `list_keys`, `revoke_key`; signed-in users also call GET/POST /gateway/keys and
DELETE /gateway/keys/{id}; operators `python -m gateway keys ...`.
"""

from gateway.api_keys import KeyOwner, KeyRing, hash_key, issue_key, list_keys, parse_static_keys, revoke_key
from gateway.errors import GatewayError
from gateway.limits import LimitExceeded, Limits
from gateway.metrics import count_error, count_ingestion, count_limit_refusal, observe_answer, observe_route
from gateway.mount import mount_gateway
from gateway.ops import vector_store_check
from gateway.request_logs import JsonFormatter, bind_request_id, configure_logging, redact, request_id
from gateway.service import Caller, Gateway
from gateway.users import GatewayUsers

__all__ = [
    "Caller", "Gateway", "GatewayError", "GatewayUsers", "JsonFormatter", "KeyOwner", "KeyRing", "LimitExceeded",
    "Limits", "bind_request_id", "configure_logging", "count_error", "count_ingestion", "count_limit_refusal",
    "hash_key", "issue_key", "list_keys", "mount_gateway", "observe_answer", "observe_route", "parse_static_keys",
    "redact", "request_id", "revoke_key", "vector_store_check",
]

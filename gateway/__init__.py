"""The gateway: the router as an OpenAI-compatible API, with API keys, health and metrics endpoints.

    gateway = mount_gateway(http_app, router, settings, accounts=accounts)   # in app.py

Owns /v1/models and /v1/chat/completions, the API keys (GET/POST /gateway/keys and
DELETE /gateway/keys/{id} for signed-in users, `python -m gateway keys ...` for operators) and
/healthz, /readyz and /metrics. The limits, metrics and logs it applies are the `operations`
package's, shared with the chat (the app admits messages through `Gateway.limits`).
"""

from gateway.api_keys import KeyOwner, KeyRing, hash_key, issue_key, list_keys, parse_static_keys, revoke_key
from gateway.errors import GatewayError
from gateway.mount import mount_gateway
from gateway.ops import vector_store_check
from gateway.service import Caller, Gateway
from gateway.users import GatewayUsers

__all__ = [
    "Caller", "Gateway", "GatewayError", "GatewayUsers", "KeyOwner", "KeyRing", "hash_key", "issue_key", "list_keys",
    "mount_gateway", "parse_static_keys", "revoke_key", "vector_store_check",
]

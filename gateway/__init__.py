"""The gateway: the router as an OpenAI-compatible API, with API keys, health and metrics endpoints.

    gateway = mount_gateway(http_app, router, settings, accounts=accounts)   # in app.py

Owns /v1/models and /v1/chat/completions, the API keys (GET/POST /gateway/keys and
DELETE /gateway/keys/{id} for signed-in users, `python -m gateway keys ...` for operators) and
/healthz, /readyz and /metrics. The limits, metrics and logs it applies are the `operations`
package's, shared with the chat (the app admits messages through `Gateway.limits`).
"""

from gateway.mount import mount_gateway
from gateway.service import Gateway

__all__ = ["Gateway", "mount_gateway"]

"""The gateway: the router as an OpenAI-compatible API, with API keys, health and metrics endpoints.

    gateway = mount_gateway(http_app, router, settings, accounts=accounts, pipeline=pipeline)   # in app.py

Owns /v1/models and /v1/chat/completions (a translation of the answering pipeline's events into
OpenAI's format), the API keys (GET/POST /gateway/keys and DELETE /gateway/keys/{id} for
signed-in users, `python -m gateway keys ...` for operators) and /healthz, /readyz and /metrics.
Admission, routing and usage are the `answering` pipeline's, the same the chat uses.
"""

from gateway.mount import mount_gateway
from gateway.service import Gateway

__all__ = ["Gateway", "mount_gateway"]

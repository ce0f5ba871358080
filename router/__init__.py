"""The router: picks a local or cloud model for each message, and talks to it.

Public API (everything else is an implementation detail):

    router = Router.from_settings(get_settings())
    decision = await router.route(RouteRequest(messages=...))
    async for event in router.stream(decision, messages): ...
"""

from router.backends.base import Backend
from router.catalog import CatalogError, ModelCatalog, ModelSpec
from router.core import Router
from router.decision import AUTO_PROFILE, RouteDecision, RouteRequest
from router.errors import (
    AuthenticationFailed, BackendError, BackendTimeout, BackendUnavailable, BadRequest,
    NoBackendAvailable, RateLimited,
)
from router.types import (
    CallRecord, ChatMessage, Chunk, Completed, GenerationParams, Health, Notice, RouterEvent,
    StreamEnd, TextDelta, Usage,
)

__all__ = [
    "AUTO_PROFILE", "AuthenticationFailed", "Backend", "BackendError", "BackendTimeout",
    "BackendUnavailable", "BadRequest", "CallRecord", "CatalogError", "ChatMessage", "Chunk",
    "Completed", "GenerationParams", "Health", "ModelCatalog", "ModelSpec", "NoBackendAvailable",
    "Notice", "RateLimited", "RouteDecision", "RouteRequest", "Router", "RouterEvent", "StreamEnd",
    "TextDelta", "Usage",
]

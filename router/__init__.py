"""The router: picks a local or cloud model for each message, and talks to it.

Public API (everything else is an implementation detail):

    router = Router.from_settings(get_settings())
    decision = await router.route(RouteRequest(messages=...))
    if decision.needs_confirmation: ask, then route again with privacy_choice="send" or "local"
    async for event in router.stream(decision, messages): ...
    describe_route(decision, record)   # the chat's route step, personal data masked
"""

from router.backends.base import Backend
from router.catalog import CatalogError, ModelCatalog, ModelSpec
from router.complexity import ComplexityScore, ComplexityScorer
from router.core import Router
from router.decision import AUTO_PROFILE, PrivacyChoice, RouteDecision, RouteRequest
from router.errors import (
    AuthenticationFailed, BackendError, BackendTimeout, BackendUnavailable, BadRequest,
    NoBackendAvailable, RateLimited,
)
from router.executor import AnswerStream
from router.explain import decision_record, describe_findings, describe_route
from router.policy import RoutingPolicy
from router.privacy import Finding, PrivacyReport
from router.types import (
    CallRecord, ChatMessage, Chunk, Completed, GenerationParams, Health, Notice, RouterEvent,
    StreamEnd, TextDelta, Usage,
)

__all__ = [
    "AUTO_PROFILE", "AnswerStream", "AuthenticationFailed", "Backend", "BackendError", "BackendTimeout",
    "BackendUnavailable", "BadRequest", "CallRecord", "CatalogError", "ChatMessage", "Chunk",
    "Completed", "ComplexityScore", "ComplexityScorer", "Finding", "GenerationParams", "Health",
    "ModelCatalog", "ModelSpec", "NoBackendAvailable", "Notice", "PrivacyChoice", "PrivacyReport",
    "RateLimited", "RouteDecision", "RouteRequest", "Router", "RouterEvent", "RoutingPolicy",
    "StreamEnd", "TextDelta", "Usage", "decision_record", "describe_findings", "describe_route",
]

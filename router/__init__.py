"""The router: picks a local or cloud model for each message, says why, and talks to it.

Owns the backend contract and its providers, the model catalog, the privacy scan, the
complexity score, the policy that turns them into a decision, the executor that streams an
answer (retries, circuit breakers, fallback, accounting), what a model is sent (system prompt
and the turns that fit) and the embedded model. No Chainlit, no database.

Public API (everything else is an implementation detail):

    router = Router.from_settings(get_settings())
    messages = build_messages(history, text, mode=GENERAL_MODE, context_length=..., max_output_tokens=...)
    decision = await router.route(RouteRequest(messages=messages))
    if decision.needs_confirmation: ask, then route again with privacy_choice="send" or "local"
    async for event in router.stream(decision, messages): ...
    describe_route(decision, record)   # the chat's route step, personal data masked
    scan_text(text)                    # personal data in any text (log redaction uses it)
"""

from router.admission import Admission
from router.backends.base import Backend
from router.catalog import CatalogError, ModelCatalog, ModelSpec
from router.complexity import ComplexityScore, ComplexityScorer
from router.conversation import ENGLISH_PRACTICE_MODE, GENERAL_MODE, build_messages, fit_to_context, fits
from router.core import Router
from router.decision import AUTO_PROFILE, PrivacyChoice, RouteDecision, RouteRequest
from router.embedded_model import ModelPreparationError, find_gguf
from router.errors import (
    AuthenticationFailed, BackendError, BackendTimeout, BackendUnavailable, BadRequest,
    NoBackendAvailable, RateLimited,
)
from router.executor import AnswerStream
from router.explain import decision_record, describe_busy, describe_findings, describe_route
from router.policy import RoutingPolicy
from router.privacy import Finding, PrivacyReport, scan_text
from router.types import (
    CallRecord, ChatMessage, Chunk, Completed, GenerationParams, Health, Kind, Notice, Queued, RouterEvent,
    StreamEnd, TextDelta, Usage,
)

__all__ = [
    "AUTO_PROFILE", "Admission", "AnswerStream", "AuthenticationFailed", "Backend", "BackendError", "BackendTimeout",
    "BackendUnavailable", "BadRequest", "CallRecord", "CatalogError", "ChatMessage", "Chunk",
    "Completed", "ComplexityScore", "ComplexityScorer", "ENGLISH_PRACTICE_MODE", "Finding", "GENERAL_MODE",
    "GenerationParams", "Health", "Kind", "ModelCatalog", "ModelPreparationError", "ModelSpec", "NoBackendAvailable",
    "Notice", "PrivacyChoice", "PrivacyReport", "Queued", "RateLimited", "RouteDecision", "RouteRequest", "Router",
    "RouterEvent", "RoutingPolicy", "StreamEnd", "TextDelta", "Usage", "build_messages", "decision_record",
    "describe_busy", "describe_findings", "describe_route", "find_gguf", "fit_to_context", "fits", "scan_text",
]

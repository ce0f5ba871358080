"""The Prometheus metrics of Hybrid Chat, in one place, with the functions that feed them.

The chat path (app.py) and the gateway call the same functions, told apart by `source`
("chat" or "gateway"), so one dashboard shows both. Labels stay low-cardinality:
backends, route kinds and reason categories, never users or model text.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

from router import AUTO_PROFILE, CallRecord, Health, RouteDecision

_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)

MESSAGES = Counter("hybrid_chat_messages_total", "Messages answered (or attempted)", ["source"])
ROUTES = Counter("hybrid_chat_routes_total", "Routing decisions", ["backend", "route", "reason"])
TIME_TO_FIRST_TOKEN = Histogram(
    "hybrid_chat_time_to_first_token_seconds", "Time to the first token of an answer", ["backend"],
    buckets=_LATENCY_BUCKETS,
)
ANSWER_LATENCY = Histogram(
    "hybrid_chat_answer_seconds", "Total time of an answer", ["backend"], buckets=_LATENCY_BUCKETS,
)
TOKENS = Counter("hybrid_chat_tokens_total", "Tokens used", ["backend", "kind"])
COST = Counter("hybrid_chat_cost_usd_total", "Cost of answers in USD", ["backend"])
ERRORS = Counter("hybrid_chat_errors_total", "Answers that failed or were refused", ["source", "kind"])
FALLBACKS = Counter("hybrid_chat_fallbacks_total", "Answers continued on another backend", ["backend"])
RETRIES = Counter("hybrid_chat_retries_total", "Retries of backend calls", ["backend"])
LIMIT_REFUSALS = Counter("hybrid_chat_limit_refusals_total", "Requests refused by a limit", ["limit"])
INGESTED_DOCUMENTS = Counter("hybrid_chat_ingested_documents_total", "Documents ingested", ["outcome"])
INGESTED_CHUNKS = Counter("hybrid_chat_ingested_chunks_total", "Chunks added to the knowledge store")
BACKEND_UP = Gauge("hybrid_chat_backend_up", "1 when a backend can take requests", ["backend"])


def route_reason(decision: RouteDecision, profile: str = AUTO_PROFILE) -> str:
    """The decision's main reason as a category: privacy, profile, complexity, availability or none."""
    if decision.model is None:
        return "none"
    if decision.private:
        return "privacy"
    if profile != AUTO_PROFILE:
        return "profile"
    if decision.strong_win_rate is not None:
        return "complexity"
    return "availability"


def observe_route(decision: RouteDecision, profile: str = AUTO_PROFILE) -> None:
    """Count a routing decision (call it once per message, right after `router.route`)."""
    backend = decision.model.provider if decision.model else "none"
    ROUTES.labels(backend, decision.route, route_reason(decision, profile)).inc()


def observe_answer(record: CallRecord, source: str) -> None:
    """Count a finished answer: latency, tokens, cost, retries, fallbacks and a failure if any."""
    MESSAGES.labels(source).inc()
    if record.ttft_s is not None:
        TIME_TO_FIRST_TOKEN.labels(record.backend).observe(record.ttft_s)
    ANSWER_LATENCY.labels(record.backend).observe(record.total_s)
    TOKENS.labels(record.backend, "prompt").inc(record.prompt_tokens)
    TOKENS.labels(record.backend, "completion").inc(record.completion_tokens)
    COST.labels(record.backend).inc(record.cost_usd)
    if record.retries:
        RETRIES.labels(record.backend).inc(record.retries)
    for backend in record.fallbacks:
        FALLBACKS.labels(backend).inc()
    if record.error:
        ERRORS.labels(source, "backend").inc()


def count_error(source: str, kind: str) -> None:
    """Count a refused or failed message that never produced a `CallRecord` (kind: e.g. "no_backend")."""
    ERRORS.labels(source, kind).inc()


def count_limit_refusal(limit: str) -> None:
    LIMIT_REFUSALS.labels(limit).inc()


def count_ingestion(*, documents: int = 1, chunks: int = 0, outcome: str = "ok") -> None:
    """Count an ingestion: outcome "ok", "duplicate" or the error's kind (e.g. "encrypted")."""
    INGESTED_DOCUMENTS.labels(outcome).inc(documents)
    INGESTED_CHUNKS.inc(chunks)


def observe_health(health: dict[str, Health]) -> None:
    for backend, state in health.items():
        BACKEND_UP.labels(backend).set(1 if state.available else 0)


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST

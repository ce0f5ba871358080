"""The Prometheus metrics of Hybrid Chat, in one place, with the functions that feed them.

The chat path (app.py) and the gateway call the same functions, told apart by `source`
("chat" or "gateway"), so one dashboard shows both. Labels stay low-cardinality:
backends, route kinds and reason categories, never users or model text.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

from router import AUTO_PROFILE, Admission, CallRecord, Health, RouteDecision

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
QUEUE_LENGTH = Gauge("hybrid_chat_queue_length", "Requests waiting in a backend's line (at the last routing)",
                     ["backend"])
QUEUE_EXPECTED_WAIT = Gauge("hybrid_chat_queue_expected_wait_seconds",
                            "Expected wait of a request joining a backend's line (at the last routing)", ["backend"])
QUEUE_WAIT = Histogram("hybrid_chat_queue_wait_seconds", "Time answers waited in line for a slot", ["backend"],
                       buckets=_LATENCY_BUCKETS)
SPILLS = Counter("hybrid_chat_spills_total", "Auto messages sent past a long line to another backend",
                 ["from_backend", "to_backend"])
BUSY_REFUSALS = Counter("hybrid_chat_busy_refusals_total",
                        "Messages told to try again because every line they may use was too long", ["source"])


def route_reason(decision: RouteDecision, profile: str = AUTO_PROFILE) -> str:
    """The decision's main reason as a category: load (spilled), privacy, profile, complexity, availability, none."""
    if decision.model is None:
        return "none"
    if decision.spilled_from:
        return "load"
    if decision.private:
        return "privacy"
    if profile != AUTO_PROFILE:
        return "profile"
    if decision.strong_win_rate is not None:
        return "complexity"
    return "availability"


def observe_route(decision: RouteDecision, profile: str = AUTO_PROFILE, source: str = "chat") -> None:
    """Count a routing decision (call it once per message, right after `router.route`), a spill or a busy refusal."""
    backend = decision.model.provider if decision.model else "none"
    ROUTES.labels(backend, decision.route, route_reason(decision, profile)).inc()
    if decision.spilled_from and decision.model:
        SPILLS.labels(decision.spilled_from, backend).inc()
    if decision.retry_after_s is not None:
        BUSY_REFUSALS.labels(source).inc()


def observe_lines(lines: Mapping[str, Admission]) -> None:
    """Each backend's line as routing saw it: how many wait, and the expected wait of one joining now."""
    for backend, line in lines.items():
        QUEUE_LENGTH.labels(backend).set(line.waiting)
        wait = line.expected_wait_s()
        if wait is not None:
            QUEUE_EXPECTED_WAIT.labels(backend).set(wait)


def observe_answer(record: CallRecord, source: str) -> None:
    """Count a finished answer: latency, tokens, cost, retries, fallbacks and a failure if any."""
    MESSAGES.labels(source).inc()
    if record.ttft_s is not None:
        TIME_TO_FIRST_TOKEN.labels(record.backend).observe(record.ttft_s)
    ANSWER_LATENCY.labels(record.backend).observe(record.total_s)
    QUEUE_WAIT.labels(record.backend).observe(record.queued_s)
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

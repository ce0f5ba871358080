"""Route many prompts without calling any model: `python -m router score` reads JSONL, writes JSONL.

Input lines: `{"id", "prompt", "profile"?, "private"?}`. Output, one line per input line and in
the same order: `{"id"}` plus `explain.decision_record` (private, privacy_kinds, strong_win_rate,
threshold, route, backend, model, fallbacks, needs_confirmation, privacy_choice, reasons), or
`{"id", "error"}` for a bad line.
Prompts are embedded in batches, which is what makes ten thousand of them take minutes, not hours.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice

from router.catalog import ModelCatalog
from router.complexity import ComplexityScore
from router.decision import AUTO_PROFILE, RouteRequest
from router.explain import decision_record
from router.policy import RoutingPolicy
from router.types import ChatMessage, Health

BATCH_SIZE = 256


def assume_available(catalog: ModelCatalog) -> dict[str, Health]:
    """Every provider up: the route the policy wants, independent of this machine's keys and servers."""
    return {spec.provider: Health(True, "assumed available") for spec in catalog}


def _parse(line: str, number: int) -> tuple[RouteRequest | None, dict]:
    """(request, output skeleton); the request is None and the skeleton holds an error for bad input."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, {"id": None, "error": f"line {number}: not JSON ({exc.msg})"}
    if not isinstance(row, dict) or not isinstance(row.get("prompt"), str):
        ident = row.get("id") if isinstance(row, dict) else None
        return None, {"id": ident, "error": f"line {number}: expected an object with a string 'prompt'"}
    request = RouteRequest(
        messages=(ChatMessage("user", row["prompt"]),),
        profile=str(row.get("profile") or AUTO_PROFILE),
        private_reason="the input marks it private" if row.get("private") else "",
    )
    return request, {"id": row.get("id")}


def score_lines(
    lines: Iterable[str], policy: RoutingPolicy, catalog: ModelCatalog, health: Mapping[str, Health],
    *, batch_size: int = BATCH_SIZE,
) -> Iterator[dict]:
    """One output dict per non-blank input line, in input order."""
    numbered = ((number, line) for number, line in enumerate(lines, 1) if line.strip())
    while batch := list(islice(numbered, batch_size)):
        parsed = [_parse(line, number) for number, line in batch]
        requests = [request for request, _ in parsed if request is not None]
        scores: Iterator[ComplexityScore | None] = iter(
            policy.scorer.score_many([r.messages[-1].content for r in requests]) if policy.scorer
            else [None] * len(requests)
        )
        for request, out in parsed:
            if request is None:
                yield out
                continue
            decision = policy.decide(request, catalog, health, score=next(scores))
            yield out | decision_record(decision)

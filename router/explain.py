"""Text for the chat's route step: where a message went and why, with personal data masked.

Plain text (Markdown-friendly) so Chainlit, the CLI and logs can all show it; it holds
masked previews only, never a raw value.
"""

from __future__ import annotations

from router.decision import RouteDecision
from router.privacy import Finding
from router.types import CallRecord


def decision_record(decision: RouteDecision) -> dict:
    """The decision as JSON-ready data (CLI output, step metadata, logs): masked, no raw values."""
    spec = decision.model
    return {
        "private": decision.private,
        "privacy_kinds": list(decision.privacy_kinds),
        "strong_win_rate": None if decision.strong_win_rate is None else round(decision.strong_win_rate, 4),
        "threshold": None if decision.threshold is None else round(decision.threshold, 4),
        "route": decision.route,
        "backend": spec.provider if spec else None,
        "model": spec.id if spec else None,
        "fallbacks": [s.id for s in decision.candidates[1:]],
        "needs_confirmation": decision.needs_confirmation,
        "privacy_choice": decision.privacy_choice,
        "reasons": list(decision.reasons),
    }


def describe_busy(decision: RouteDecision) -> str:
    """What a message refused for too long a line is told, in the chat and the API: the busy model and when to retry."""
    reason = decision.reasons[-1]  # the policy's last word on such a decision (`RouteDecision.retry_after_s`)
    return f"{reason[0].upper()}{reason[1:]}."


def describe_findings(findings: tuple[Finding, ...]) -> str:
    """E.g. "e-mail address j•••@•••.com (prompt); phone number +•••••••••12 (history[0])"."""
    return "; ".join(f"{f.label} {f.preview} ({f.source})" for f in findings)


def describe_route(decision: RouteDecision, record: CallRecord | None = None) -> str:
    """The route step's body, one fact per line: the model and why, masked findings, score, fallbacks, cost."""
    spec = decision.model
    if decision.needs_confirmation:
        head = "Route: waiting for your choice (send anyway / answer locally / cancel)"
    elif spec is None:
        head = "Route: none (nothing was sent)"
    else:
        head = f"Route: {decision.route} · {spec.label} ({spec.provider}, {spec.model})"
    lines = [head, *(f"Why: {reason}" for reason in decision.reasons)]
    if decision.privacy_findings:
        lines.append(f"Personal data (masked): {describe_findings(decision.privacy_findings)}")
    if decision.strong_win_rate is not None and decision.threshold is not None:
        lines.append(f"Strong win rate: {decision.strong_win_rate:.2f} (threshold {decision.threshold:.2f})")
    if len(decision.candidates) > 1:
        lines.append("Fallbacks allowed: " + ", ".join(s.label for s in decision.candidates[1:]))
    if record is not None:
        lines += _describe_call(record, {s.id: s.label for s in decision.candidates})
    return "\n".join(lines)


def _describe_call(record: CallRecord, labels: dict[str, str]) -> list[str]:
    """The models that wrote the answer (in order: a fallback may have finished it) and what the call cost."""
    who = ", then ".join(labels.get(model, model) for model in record.models)
    lines = [f"Answered by {who}" if who else "No model answered",
             f"Tokens: {record.prompt_tokens} prompt + {record.completion_tokens} answer",
             f"Cost: ${record.cost_usd:.5f}",
             f"First token: {'n/a' if record.ttft_s is None else f'{record.ttft_s:.2f} s'}",
             f"Total: {record.total_s:.2f} s",
             f"Messages sent: {record.message_count}"]
    if record.queued_s:
        lines.append(f"Waited in line: {record.queued_s:.2f} s")
    if record.retries:
        lines.append(f"Retries: {record.retries}")
    return lines

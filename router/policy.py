"""The routing policy: turn a `RouteRequest` and the backends' health into a `RouteDecision`.

Precedence, highest first:
1. privacy: personal data in the prompt, history or passages, a chat or project marked private
   (the request says which, for the reasons) or the operator's strict mode allow local models
   only, on every retry and fallback; with no local model available nothing is sent. A cloud
   profile the user chose explicitly meets personal data with a question (send anyway / answer
   locally / cancel) instead of a silent switch, unless the chat is private or strict mode is on.
2. the explicit profile: the model the user picked answers.
3. availability and health: unavailable models are skipped, and the reasons say so.
4. complexity: with "auto", the strong win rate against the calibrated threshold picks
   cloud or local.
5. budget: a user whose daily budget is spent is answered locally (even on a cloud profile);
   only when no local model is available is nothing sent.
6. load: an Auto message headed for a local model whose line would take longer than
   `LOCAL_MAX_WAIT_S` goes to another local model with a shorter line, else (not private, budget
   left) to a cloud model; a private one or a pinned profile waits. A private message does not
   wait beyond `MAX_WAIT_S`: it gets nothing sent and "busy, try again in about N s" (`retry_after_s`).

Fallbacks: a cloud route lists the other cloud models, then the local ones; a local route
lists local models only. Every decision carries short reasons for the chat's route step.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from router.catalog import ModelCatalog, ModelSpec
from router.complexity import DEFAULT_WEIGHTS_FILE, ComplexityScore, ComplexityScorer
from router.decision import AUTO_PROFILE, PrivacyChoice, RouteDecision, RouteRequest
from router.load import Load
from router.privacy import PrivacyReport, scan
from router.static_embedding import shared_static_embedder
from router.types import Health
from settings import Settings

log = logging.getLogger(__name__)


def decide(
    request: RouteRequest,
    catalog: ModelCatalog,
    health: Mapping[str, Health],
    *,
    scorer: ComplexityScorer | None = None,
    strict_privacy: bool = False,
    score: ComplexityScore | None = None,
    load: Load = Load(),
) -> RouteDecision:
    """Pick the models for one message, best first, with human-readable reasons.

    `score` lets a caller that scored many prompts in one batch (the CLI) pass the
    result in; otherwise `scorer` computes it when complexity has to decide.
    """
    prompt, history = _split(request)
    report = scan(prompt, history, request.passages)
    if "unscanned" in report.kinds:
        log.error("the privacy scan failed on this request; it is treated as private")
    marks = _privacy_marks(request, report, strict_privacy)
    choose = _Chooser(catalog, health, report, score, load)

    if request.profile != AUTO_PROFILE:
        spec = catalog.get(request.profile)
        if spec is None:
            return choose.nothing(bool(marks), f"unknown model '{request.profile}'")
        if not spec.is_local and request.cloud_budget_spent:
            reasons = [f"you chose {spec.label}, but {request.cloud_budget_spent} → local instead"]
            return choose.first_available(choose.local, bool(marks), reasons)
        if not spec.is_local and marks:
            locked = strict_privacy or bool(request.private_reason)  # the user cannot send it anyway
            return _cloud_profile_meets_privacy(choose, spec, request, report, marks, locked)
        reasons = [f"private ({'; '.join(marks)}) → local only"] if marks else []
        reasons.append(f"you chose {spec.label}")
        return choose.first_available([spec, *choose.fallbacks(spec, private=bool(marks))], bool(marks), reasons)

    if marks:
        reasons = [f"private ({'; '.join(marks)}) → local only"]
        return choose.first_available(choose.around_busy(choose.local, reasons, cloud_allowed=False), True, reasons)

    reasons: list[str] = []
    if score is None and scorer is not None:
        score = choose.score = scorer.score(prompt)
    if score is None:
        wants_cloud = False
        reasons.append("no complexity model loaded → local first")
    else:
        wants_cloud = score.wants_cloud
        if score.note:
            reasons.append(score.note)
        comparison = "≥" if wants_cloud else "<"
        reasons.append(
            f"strong win rate {score.strong_win_rate:.2f} {comparison} threshold {score.threshold:.2f} "
            f"(target {score.cloud_share:.0%} cloud) → {'cloud' if wants_cloud else 'local'}"
        )
    if wants_cloud and request.cloud_budget_spent:
        wants_cloud = False
        reasons.append(f"{request.cloud_budget_spent} → local")
    if not wants_cloud and not request.cloud_budget_spent and not any(choose.available(s) for s in choose.local):
        reasons.append("no local model is available → cloud")
        wants_cloud = True
    if wants_cloud:
        order = [*choose.cloud, *choose.local]
    else:
        order = choose.around_busy(choose.local, reasons, cloud_allowed=not request.cloud_budget_spent)
    return choose.first_available(order, False, reasons)


def _split(request: RouteRequest) -> tuple[str, list[str]]:
    """The new user message (what complexity scores), and every other turn the privacy scan must see.

    The app's own system prompt is never in the request; a client's system turns are scanned like the rest.
    """
    messages = request.messages
    last = max((i for i, m in enumerate(messages) if m.role != "system"), default=None)
    if last is None:
        return "", [m.content for m in messages]
    return messages[last].content, [m.content for i, m in enumerate(messages) if i != last]


def _privacy_marks(request: RouteRequest, report: PrivacyReport, strict: bool) -> list[str]:
    """Why this message is private (empty: it is not)."""
    marks = []
    if strict:
        marks.append("the operator made privacy strict")
    if request.private_reason:
        marks.append(request.private_reason)
    if report.private:
        marks.append(f"{report.summary()} found")
    return marks


def _cloud_profile_meets_privacy(
    choose: _Chooser, spec: ModelSpec, request: RouteRequest, report: PrivacyReport, marks: list[str], locked: bool
) -> RouteDecision:
    """A cloud model the user picked, and a private message: ask, honour the answer, or stay local."""
    choice: PrivacyChoice | None = None if locked else request.privacy_choice
    if not locked and choice is None:
        return choose.nothing(
            True, f"you chose {spec.label}, but {report.summary()} found → send anyway, answer locally or cancel?",
            needs_confirmation=True,
        )
    if choice == "send":
        reasons = [f"you chose {spec.label} and to send anyway although {report.summary()} found"]
        return choose.first_available([spec, *choose.local], False, reasons, privacy_choice="send")
    why = "you chose to answer locally" if choice == "local" else f"private ({'; '.join(marks)})"
    reasons = [f"{why} → local only instead of {spec.label}"]
    return choose.first_available(choose.local, True, reasons, privacy_choice=choice)


class _Chooser:
    """Builds decisions for one request: availability filtering, fallback order, shared fields."""

    def __init__(self, catalog: ModelCatalog, health: Mapping[str, Health], report: PrivacyReport,
                 score: ComplexityScore | None, load: Load) -> None:
        self.health = health
        self.report = report
        self.score = score
        self.load = load
        self.spilled_from: str | None = None
        self.local = [spec for spec in catalog if spec.is_local]
        self.cloud = [spec for spec in catalog if not spec.is_local]

    def available(self, spec: ModelSpec) -> bool:
        state = self.health.get(spec.provider)
        return state is not None and state.available

    def _why_unavailable(self, spec: ModelSpec) -> str:
        state = self.health.get(spec.provider)
        return (state.reason if state is not None and state.reason else "no backend configured")

    def fallbacks(self, spec: ModelSpec, *, private: bool) -> list[ModelSpec]:
        """After a cloud model: the other cloud models, then local ones; after a local model: local ones."""
        pool = self.local if private or spec.is_local else [*self.cloud, *self.local]
        return [other for other in pool if other != spec]

    def around_busy(self, order: Sequence[ModelSpec], reasons: list[str], *, cloud_allowed: bool) -> list[ModelSpec]:
        """`order` (local models), or first a model with a short line when the first one's is too long.

        Another local model comes first, then (only when `cloud_allowed`) the cloud models; the
        busy ones stay behind as fallbacks. Nothing shorter: the message waits in the line it has.
        """
        busy = next((spec for spec in order if self.available(spec)), None)
        if busy is None or not self.load.too_long(busy):
            return list(order)
        pools = [self.local, self.cloud] if cloud_allowed else [self.local]
        quicker = next((spec for pool in pools for spec in pool
                        if self.available(spec) and not self.load.too_long(spec)), None)
        if quicker is None:
            return list(order)
        self.spilled_from = busy.provider
        reasons.append(f"{busy.label} busy, about {self.load.wait_s(busy):.0f} s in line → {quicker.label}")
        if quicker.is_local:
            return [quicker, *(spec for spec in order if spec != quicker)]
        return [quicker, *(spec for spec in self.cloud if spec != quicker), *order]

    def first_available(self, order: Sequence[ModelSpec], private: bool, reasons: list[str],
                        privacy_choice: PrivacyChoice | None = None) -> RouteDecision:
        candidates = tuple(spec for spec in order if self.available(spec))
        reasons = list(reasons)
        # A private message has nowhere else to go; the hard limit spares it an endless wait. Any other
        # message waits its turn (spilling to the cloud was considered before, where allowed).
        if private and candidates and (retry_after_s := self.load.retry_after_s(candidates[0])) is not None:
            reasons.append(f"{candidates[0].label} is busy (about {self.load.wait_s(candidates[0]):.0f} s in line), "
                           f"so nothing was sent: try again in about {retry_after_s:.0f} s")
            return self._decision((), private, reasons, privacy_choice=privacy_choice, retry_after_s=retry_after_s)
        if candidates:
            for spec in order[: order.index(candidates[0])]:  # all unavailable, by definition
                reasons.append(f"{spec.label} unavailable ({self._why_unavailable(spec)}) → {candidates[0].label}")
        elif private:
            reasons.append("no local model is available, so nothing was sent")
        else:
            reasons.append("no model is available now, so nothing was sent")
        return self._decision(candidates, private, reasons, privacy_choice=privacy_choice)

    def nothing(self, private: bool, reason: str, *, needs_confirmation: bool = False) -> RouteDecision:
        return self._decision((), private, [reason], needs_confirmation=needs_confirmation)

    def _decision(self, candidates: tuple[ModelSpec, ...], private: bool, reasons: list[str], **extra) -> RouteDecision:
        return RouteDecision(
            candidates, private, tuple(reasons),
            strong_win_rate=None if self.score is None else self.score.strong_win_rate,
            threshold=None if self.score is None else self.score.threshold,
            privacy_kinds=self.report.kinds, privacy_findings=self.report.findings,
            spilled_from=self.spilled_from if candidates else None, **extra,
        )


class RoutingPolicy:
    """`decide` with its configuration: the complexity scorer (loaded once), strict mode and the wait limits."""

    def __init__(self, scorer: ComplexityScorer | None = None, *, strict_privacy: bool = False,
                 local_max_wait_s: float = Load.local_max_wait_s, max_wait_s: float = Load.max_wait_s) -> None:
        self.scorer = scorer
        self.strict_privacy = strict_privacy
        self.local_max_wait_s = local_max_wait_s
        self.max_wait_s = max_wait_s

    @classmethod
    def from_settings(cls, settings: Settings) -> RoutingPolicy:
        """The policy as configured; the static MiniLM table scores (a missing one only switches to the heuristic)."""
        weights_file = settings.complexity_weights or DEFAULT_WEIGHTS_FILE
        try:
            scorer: ComplexityScorer | None = ComplexityScorer.from_file(
                lambda: shared_static_embedder(settings), cloud_share=settings.router_cloud_share,
                weights_file=weights_file)
        except (OSError, ValueError, KeyError) as exc:
            log.error("complexity weights %s unusable (%s): auto routing stays local", weights_file, exc)
            scorer = None
        return cls(scorer, strict_privacy=settings.privacy_strict,
                   local_max_wait_s=settings.local_max_wait_s, max_wait_s=settings.max_wait_s)

    def warm_up(self) -> None:
        """Load the embedder now (blocking: run it in a thread) so the first message is fast."""
        if self.scorer is not None:
            self.scorer.warm_up()

    def decide(self, request: RouteRequest, catalog: ModelCatalog, health: Mapping[str, Health],
               *, score: ComplexityScore | None = None, waits: Mapping[str, float | None] | None = None,
               ) -> RouteDecision:
        """`waits`: each provider's expected wait in its line (`Admission.expected_wait_s`)."""
        load = Load(waits or {}, local_max_wait_s=self.local_max_wait_s, max_wait_s=self.max_wait_s)
        return decide(request, catalog, health, scorer=self.scorer, strict_privacy=self.strict_privacy, score=score,
                      load=load)

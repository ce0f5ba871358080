"""The path of one message, the same for the chat and the API: admit, retrieve, route, trim, stream, account.

    prepared = await pipeline.prepare(asker, question)      # LimitExceeded when refused
    if prepared.decision.needs_confirmation:                  # the chat asks; the API never gets here
        prepared = await pipeline.reroute(prepared, "send")  # or "local"
    async with pipeline.answer(prepared, step_id=...) as answer:
        async for event in answer: ...                        # Queued, TextDelta, Notice, Completed
    # The chat's comparison: the same question answered by a model of the other class
    if kind := await pipeline.second_opinion_kind(prepared):
        again = await pipeline.second_opinion(prepared, kind)  # never a cloud model for a private conversation

The front ends only translate: the chat renders events as messages and steps, the API as
OpenAI chunks. Usage (metrics and the usage row that budgets read) is recorded when the
`async with` block ends, however it ends: finished, failed, stopped by the user or a client
that went away, because providers bill what they generated.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace

from sqlalchemy.ext.asyncio import AsyncEngine

from knowledge import KnowledgeBase, Passage
from operations import Limits, count_error, observe_answer, observe_lines, observe_route
from persistence import AnswerRoute, PersistenceError, UsageRecord, record_usage
from router import (
    AUTO_PROFILE, GENERAL_MODE, AnswerStream, CallRecord, ChatMessage, Kind, ModelSpec, PrivacyChoice, RouteDecision,
    RouteRequest, Router, RouterEvent, build_messages, fit_to_context, fits,
)

log = logging.getLogger("hybrid_chat.answering")
#: Answers still being recorded after their caller was cancelled (the event loop holds tasks only weakly).
_pending_records: set[asyncio.Task] = set()


class ContextTooLong(Exception):
    """Even the system messages and the last message do not fit the chosen model (the API's 400)."""


@dataclass(frozen=True)
class Asker:
    """Who asks: limits, budgets and usage rows are theirs."""

    user: str
    admin: bool = False


@dataclass(frozen=True)
class Question:
    """One message to answer, with what the front end knows about its conversation."""

    #: The conversation, oldest first, the new message last (an API client's own system turns included).
    conversation: tuple[ChatMessage, ...]
    #: "auto" or the catalog id of a model the user picked.
    profile: str = AUTO_PROFILE
    #: The app's system prompt for this mode (router.GENERAL_MODE, ...); None: the client brings its own.
    mode: str | None = GENERAL_MODE
    #: The project whose documents may ground the answer (None: no project, as for the API).
    project_id: str | None = None
    #: Why the conversation must stay on this machine ("this chat is marked private"); empty: it need not.
    private_reason: str = ""
    #: The user's answer to a privacy confirmation (None: not asked; the API answers "local" upfront).
    privacy_choice: PrivacyChoice | None = None
    temperature: float = 0.7
    #: Nucleus sampling (API clients may set it; None: the model's default).
    top_p: float | None = None
    #: A lower answer limit than the configured one (API clients ask for it).
    max_tokens: int | None = None
    #: Metrics label of the front end: "chat" or "gateway".
    source: str = "chat"

    @property
    def text(self) -> str:
        """The new message: what the project's documents are searched for."""
        return self.conversation[-1].content

    @property
    def previous_text(self) -> str:
        """The user's message before it: searched along, so a follow-up ("and on Sundays?") finds its topic."""
        earlier = [m.content for m in self.conversation[:-1] if m.role == "user"]
        return earlier[-1] if earlier else ""


@dataclass(frozen=True)
class Prepared:
    """A routed question: where it goes and why, and what it is grounded on."""

    asker: Asker
    question: Question
    decision: RouteDecision
    #: Passages of the project's documents; None when the project has no documents (or could not be read).
    passages: list[Passage] | None
    #: Sentences for the user about what could not be used (e.g. the project's documents during an outage).
    notes: tuple[str, ...] = ()
    #: What the router was asked (kept to route again after a privacy confirmation).
    request: RouteRequest | None = field(repr=False, default=None)


class Pipeline:
    """Everything a message goes through, Chainlit-free (usable from a notebook or a test)."""

    def __init__(self, router: Router, limits: Limits, *, knowledge: KnowledgeBase | None = None,
                 engine: AsyncEngine | None = None) -> None:
        self.router = router
        self.limits = limits
        self.knowledge = knowledge
        self.engine = engine
        self._cloud_backends = frozenset(spec.provider for spec in router.catalog if not spec.is_local)

    async def prepare(self, asker: Asker, question: Question) -> Prepared:
        """Admit (size, rate: `LimitExceeded`), retrieve passages, read the budget, and route."""
        # The user's own turns (an API client sends them all); the models' answers are not theirs to shorten.
        texts = [m.content for m in question.conversation if m.role != "assistant"]
        await self.limits.admit(asker.user, texts, admin=asker.admin)
        notes: list[str] = []
        # Independent reads (the knowledge store, the database): at once, so the first token waits for the longer only.
        passages, budget_spent = await asyncio.gather(self._passages(question, notes), self._budget_spent(asker))
        request = RouteRequest(
            messages=question.conversation, profile=question.profile,
            passages=tuple(p.text for p in passages or ()), private_reason=question.private_reason,
            privacy_choice=question.privacy_choice, cloud_budget_spent=budget_spent,
        )
        decision = await self.router.route(request)
        prepared = Prepared(asker, question, decision, passages, tuple(notes), request)
        self._observe(prepared)
        return prepared

    async def reroute(self, prepared: Prepared, choice: PrivacyChoice) -> Prepared:
        """Route again with the user's answer to the privacy confirmation."""
        request = replace(prepared.request, privacy_choice=choice)
        decision = await self.router.route(request)
        rerouted = replace(prepared, decision=decision, request=request,
                           question=replace(prepared.question, privacy_choice=choice))
        self._observe(rerouted)
        return rerouted

    async def second_opinion_kind(self, prepared: Prepared) -> Kind | None:
        """The class of model that may answer this question again for a comparison, or None.

        The other class than the one that answered; a cloud one only when the conversation is not
        private (no private chat or project, no personal data found, privacy not strict) and the
        budget allows it; and only when a model of that class is available now.
        """
        decision, request = prepared.decision, prepared.request
        if decision.model is None or request is None:
            return None
        kind: Kind = "cloud" if decision.model.is_local else "local"
        if kind == "cloud" and (decision.private or decision.privacy_kinds or request.private_reason
                                or request.cloud_budget_spent):
            return None
        return kind if await self._available(kind) else None

    async def second_opinion(self, prepared: Prepared, kind: Kind, *, private_reason: str = "") -> Prepared:
        """The same question, routed afresh but pinned to models of class `kind`, for the user to compare.

        Admitted like any message. Routing again re-reads everything privacy depends on: the scan of
        the conversation and passages, `private_reason` (the chat's or project's state now; the one at
        the first answer still counts) and the budget. A private conversation gets no cloud model
        (`RouteDecision` refuses one), whoever asks: the decision then lists no model, with the reason.
        """
        question = prepared.question
        await self.limits.admit(prepared.asker.user, [m.content for m in question.conversation if m.role != "assistant"],
                                admin=prepared.asker.admin)
        request = replace(prepared.request, profile=AUTO_PROFILE, privacy_choice=None,
                          private_reason=private_reason or prepared.request.private_reason,
                          cloud_budget_spent=await self._budget_spent(prepared.asker))
        routed = await self.router.route(request)
        reasons = [f"a second opinion from a {kind} model, to compare with {prepared.decision.model.label}"]
        candidates: list[ModelSpec] = []
        if kind == "cloud" and routed.private:
            reasons += [*routed.reasons, "a private conversation is never sent to a cloud model, so nothing was sent"]
        elif kind == "cloud" and request.cloud_budget_spent:
            reasons.append(f"{request.cloud_budget_spent}, so nothing was sent")
        else:
            candidates = await self._available(kind)
            if not candidates:
                reasons.append(f"no {kind} model is available now, so nothing was sent")
        decision = RouteDecision(
            tuple(candidates), routed.private, tuple(reasons), strong_win_rate=routed.strong_win_rate,
            threshold=routed.threshold, privacy_kinds=routed.privacy_kinds, privacy_findings=routed.privacy_findings,
        )
        again = replace(prepared, decision=decision, request=request)
        self._observe(again)
        return again

    async def _available(self, kind: Kind) -> list[ModelSpec]:
        health = await self.router.health()
        return [spec for spec in self.router.catalog if spec.kind == kind and health[spec.provider].available]

    def messages_for(self, prepared: Prepared) -> tuple[ChatMessage, ...]:
        """What the chosen model is sent: trimmed to its context, after routing (`ContextTooLong` if impossible)."""
        question, spec = prepared.question, prepared.decision.model
        limit = self.router.output_limit(question.max_tokens)
        if question.mode is not None:
            sources = [(p.citation, p.text) for p in prepared.passages or ()]
            return build_messages(question.conversation[:-1], question.text, mode=question.mode,
                                  context_length=spec.context_length, max_output_tokens=limit, sources=sources)
        conversation = question.conversation
        sent = fit_to_context(conversation, context_length=spec.context_length, max_output_tokens=limit)
        if not fits(sent, context_length=spec.context_length, max_output_tokens=limit):
            raise ContextTooLong(
                f"The conversation is too long for {spec.label}: its leading system messages and last message "
                f"alone exceed the model's context of {spec.context_length:,} tokens (with up to {limit:,} for "
                "the answer). Shorten them."
            )
        if len(sent) < len(conversation):
            log.info("sending the newest %d of %d messages: the older ones do not fit %s's context",
                     len(sent), len(conversation), spec.id)
        return sent

    def answer(self, prepared: Prepared, *, step_id: str | None = None, thread_id: str | None = None) -> Answer:
        """The answer's events; use it as `async with` so its usage is recorded however it ends."""
        if prepared.decision.model is None:
            raise ValueError("nothing may answer this question: render prepared.decision.reasons instead")
        messages = self.messages_for(prepared)
        stream = self.router.stream(prepared.decision, messages, temperature=prepared.question.temperature,
                                    top_p=prepared.question.top_p, max_tokens=prepared.question.max_tokens)
        return Answer(self, prepared, stream, step_id or f"{prepared.question.source}:{uuid.uuid4().hex}", thread_id)

    async def _passages(self, question: Question, notes: list[str]) -> list[Passage] | None:
        if self.knowledge is None or question.project_id is None:
            return None
        try:
            if not await self.knowledge.list_documents(question.project_id):
                return None
            return await self.knowledge.retrieve(question.project_id, question.text, context=question.previous_text)
        except Exception as exc:  # the answer goes on without the documents, and says so
            log.error("project %s could not be searched: %s", question.project_id, exc)
            notes.append("The project's documents could not be searched just now, so this answer does not use them.")
            return None

    async def _budget_spent(self, asker: Asker) -> str:
        if self.engine is None:
            return ""
        try:
            return await self.limits.budget_spent(self.engine, asker.user, cloud_backends=self._cloud_backends,
                                                  admin=asker.admin)
        except PersistenceError as exc:  # unknown spending: stay local rather than overspend
            log.error("budget of %s unknown: %s", asker.user, exc)
            return "your budget cannot be checked now"

    def _observe(self, prepared: Prepared) -> None:
        decision, source = prepared.decision, prepared.question.source
        observe_route(decision, prepared.question.profile, source)
        observe_lines(self.router.resilience.admissions)
        if decision.model is None and not decision.needs_confirmation:
            count_error(source, "no_backend" if decision.retry_after_s is None else "busy")

    async def _account(self, prepared: Prepared, record: CallRecord, step_id: str, thread_id: str | None) -> None:
        observe_answer(record, prepared.question.source)
        log.info("answered by %s: %d+%d tokens, first token %s s, total %.2f s (%.2f s in line), finish %s%s",
                 record.model_id, record.prompt_tokens, record.completion_tokens,
                 "n/a" if record.ttft_s is None else f"{record.ttft_s:.3f}", record.total_s, record.queued_s,
                 record.finish_reason, f", error: {record.error}" if record.error else "")
        if self.engine is None:
            return
        usage = UsageRecord(
            step_id=step_id, thread_id=thread_id, user_identifier=prepared.asker.user, backend=record.backend,
            model=record.model, prompt_tokens=record.prompt_tokens, completion_tokens=record.completion_tokens,
            cost_usd=record.cost_usd, ttft_ms=None if record.ttft_s is None else record.ttft_s * 1000,
            latency_ms=record.total_s * 1000,
        )
        spec = self.router.catalog.get(record.model_id)
        route = None
        if thread_id is not None and spec is not None and not record.error and len(record.models) <= 1:
            # A chat answer one model wrote in full: a thumb on it rates that model (the router learns from it).
            route = AnswerRoute(step_id, prepared.asker.user, prepared.question.text, record.model_id, spec.kind,
                                thread_id=thread_id, strong_win_rate=prepared.decision.strong_win_rate)
        try:
            await record_usage(self.engine, usage, answer_route=route)
        except PersistenceError as exc:
            log.error("usage not recorded: %s", exc)


class Answer:
    """The events of one answer; recorded (metrics, usage row) once, when the `async with` block ends."""

    def __init__(self, pipeline: Pipeline, prepared: Prepared, stream: AnswerStream, step_id: str,
                 thread_id: str | None) -> None:
        self.prepared = prepared
        self._pipeline = pipeline
        self._stream = stream
        self._step_id = step_id
        self._thread_id = thread_id

    async def __aenter__(self) -> Answer:
        return self

    async def __aexit__(self, *exc_info) -> None:
        try:
            await self._stream.aclose()
        finally:
            record = self._stream.record()
            if record is not None:  # None: nothing was sent, nothing to bill
                task = asyncio.ensure_future(
                    self._pipeline._account(self.prepared, record, self._step_id, self._thread_id))
                _pending_records.add(task)
                task.add_done_callback(_pending_records.discard)
                await asyncio.shield(task)

    def __aiter__(self) -> AsyncIterator[RouterEvent]:
        return self._stream

    @property
    def model_id(self) -> str | None:
        """The catalog id of the model writing the answer now."""
        return self._stream.model_id

    def record(self) -> CallRecord | None:
        """What the answer cost so far (the final record once it completed)."""
        return self._stream.record()


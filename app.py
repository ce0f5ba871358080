"""Hybrid Chat: the Chainlit app that composes the router, the knowledge base and persistence.

This module is deliberately thin: it translates Chainlit events (sign-in, chat
profiles, starters, messages, stop) into calls on the packages, and their results
into messages and steps. Run it with `make run` (see the README).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable

import chainlit as cl
from chainlit.oauth_providers import get_configured_oauth_providers
from chainlit.server import app as http_app

from persistence import (
    HybridDataLayer, PersistenceError, UsageRecord, conversation_turns, database_url, install_feedback_guard,
    install_file_route, record_usage, upgrade_database,
)
from gateway import configure_logging, mount_gateway
from persistence.access import AccessPolicy, LoginLimiter
from persistence.accounts import load_accounts
from router import (
    AUTO_PROFILE, BackendError, ChatMessage, Completed, Notice, RouteDecision, RouteRequest, Router, TextDelta,
)
from router.conversation import ENGLISH_PRACTICE_MODE, GENERAL_MODE, build_messages
from scripts.webgpu_demo import mount_webgpu_demo
from settings import get_settings
from signin import SignIn, install_sign_in_guard, require_auth_secret

log = logging.getLogger("hybrid_chat")
settings = get_settings()
configure_logging(settings)  # request ids on every line, personal data and secrets masked
logging.getLogger("router").setLevel(settings.log_level.upper())
log.setLevel(settings.log_level.upper())

router = Router.from_settings(settings)
mount_webgpu_demo(http_app, settings)  # the in-browser models page at /webgpu

AUTO_PROFILE_NAME = "Auto"
ENGLISH_COMMAND = "English practice"
_PROFILE_IDS = {AUTO_PROFILE_NAME: AUTO_PROFILE} | {spec.label: spec.id for spec in router.catalog}


# --- sign-in ---------------------------------------------------------------------------

require_auth_secret(settings.chainlit_auth_secret.get_secret_value())
accounts, new_admin_password = load_accounts(settings.local_credentials(), settings.data_dir / "accounts.json")
if new_admin_password:
    print(
        "\n" + "=" * 72 + "\n"
        f"  First start: created the account 'admin' with the password  {new_admin_password}\n"
        "  It is shown only this once; only a salted hash is stored.\n"
        + "=" * 72 + "\n",
        flush=True,
    )


sign_in = SignIn(
    accounts,
    AccessPolicy.from_settings(settings),
    LoginLimiter(settings.max_failed_logins, settings.login_lockout_s),
    allow_linking=settings.allow_account_linking,
)
install_sign_in_guard(http_app, sign_in.still_allowed)  # re-checks every session token; /access-denied
api_gateway = mount_gateway(http_app, router, settings, accounts=accounts)  # /v1, /healthz, /readyz, /metrics


@cl.password_auth_callback
async def password_sign_in(username: str, password: str) -> cl.User | None:
    return await sign_in.with_password(username, password)


if get_configured_oauth_providers():  # chainlit refuses an OAuth callback without a configured provider

    @cl.oauth_callback
    async def oauth_sign_in(
        provider_id: str, token: str, raw_user_data: dict[str, str], default_user: cl.User
    ) -> cl.User | None:
        return sign_in.with_oauth(provider_id, raw_user_data, default_user)


# --- chat history -----------------------------------------------------------------------------


async def _not_saved(error: PersistenceError) -> None:
    # Chainlit saves steps in background tasks: tell the user here, the answer itself is not lost.
    log.error("not saved: %s", error)
    await cl.context.emitter.send_toast(
        "Your chat could not be saved: the database is unavailable. Keep this page open and try again later.",
        "error",
    )


data_layer = HybridDataLayer.from_settings(settings)
data_layer.on_error = _not_saved
install_file_route(http_app, data_layer)  # element files only for users who may see the thread
install_feedback_guard(http_app, data_layer)  # feedback only on one's own threads


@cl.data_layer
def chat_history() -> HybridDataLayer:
    return data_layer


# --- start-up and shutdown -------------------------------------------------------------------


@cl.on_app_startup
async def start_backends() -> None:
    try:
        await upgrade_database(database_url(settings))
    except Exception as exc:  # the app stays up: chats work, saving reports each failure
        log.error("database upgrade failed, chats will not be saved until it is reachable: %s", exc)
    # Loading a model can take a while (a catalog download, even); the UI reports it meanwhile.
    asyncio.create_task(router.start())


@cl.on_app_shutdown
async def stop_backends() -> None:
    await router.aclose()


# --- what the welcome screen offers -----------------------------------------------------------


@cl.set_chat_profiles
async def chat_profiles(user: cl.User | None) -> list[cl.ChatProfile]:
    """"Auto" plus one profile per model; unavailable models stay listed with the reason."""
    health = await router.health()
    profiles = [
        cl.ChatProfile(
            name=AUTO_PROFILE_NAME,
            markdown_description="The router picks a model for each message: private or simple questions "
            "stay on this machine, complex ones may go to a cloud model. Each answer says why.",
            default=True,
        )
    ]
    for spec in router.catalog:
        state = health.get(spec.provider)
        where = "runs on this machine" if spec.is_local else "cloud model: your messages leave this machine"
        if state and state.available:
            profiles.append(cl.ChatProfile(name=spec.label, markdown_description=f"{spec.label}, {where}."))
        else:
            reason = state.reason if state else "not configured"
            profiles.append(
                cl.ChatProfile(
                    name=spec.label,
                    display_name=f"{spec.label} (unavailable)",
                    markdown_description=f"**Unavailable:** {reason}. See the README to enable it.",
                )
            )
    return profiles


@cl.set_starters
async def starters(user: cl.User | None = None, language: str | None = None) -> list[cl.Starter]:
    return [
        cl.Starter(
            label="Practise my English",
            message="Yesterday I go to the market and buyed three apple. Is my sentence correct?",
            command=ENGLISH_COMMAND,
        ),
        cl.Starter(label="Explain a concept", message="Explain what a hash map is, with a short example."),
        cl.Starter(label="Draft an e-mail", message="Write a short, polite e-mail asking to move a meeting to Friday."),
        cl.Starter(label="Brainstorm", message="Give me five names for a small neighbourhood bakery."),
    ]


@cl.on_chat_start
async def start_chat() -> None:
    cl.user_session.set("history", [])
    await start_commands()


async def start_commands() -> None:
    await cl.context.emitter.set_commands(
        [
            {
                "id": ENGLISH_COMMAND,
                "description": "Correct my English, suggest better words and give usage tips",
                "icon": "languages",
                "button": True,
                "persistent": True,
            }
        ]
    )


# --- a message ------------------------------------------------------------------------------------


@cl.on_chat_resume
async def resume_chat(thread: dict) -> None:
    """A reopened chat continues multi-turn: its saved messages become the router's history."""
    turns = conversation_turns(thread.get("steps") or [])
    cl.user_session.set("history", [ChatMessage(turn.role, turn.content) for turn in turns])
    await start_commands()


@cl.on_message
async def answer(message: cl.Message) -> None:
    history: list[ChatMessage] = cl.user_session.get("history") or []
    profile = _PROFILE_IDS.get(cl.user_session.get("chat_profile") or AUTO_PROFILE_NAME, AUTO_PROFILE)
    mode = ENGLISH_PRACTICE_MODE if message.command == ENGLISH_COMMAND else GENERAL_MODE

    context_length = _context_length(profile)
    messages = build_messages(
        history, message.content, mode=mode, context_length=context_length, max_output_tokens=router.max_tokens
    )
    decision = await router.route(RouteRequest(messages=messages, profile=profile))
    if decision.model is None:
        await cl.Message(
            content="No model can answer right now: " + "; ".join(decision.reasons)
            + ". Pick **Auto** or another profile, or see the README to enable a provider.",
        ).send()
        return

    def remember(answer_text: str) -> None:
        """Keep the turn (even a stopped, partial one) so the next message sees it."""
        history.extend([ChatMessage("user", message.content), ChatMessage("assistant", answer_text)])
        cl.user_session.set("history", history)

    await _stream_answer(decision, messages, remember)


def _context_length(profile: str) -> int:
    """The smallest context among the models this profile may use, so any fallback fits too."""
    specs = [router.catalog.get(profile)] if profile != AUTO_PROFILE else list(router.catalog)
    return min(spec.context_length for spec in specs if spec is not None)


async def _stream_answer(
    decision: RouteDecision, messages: tuple[ChatMessage, ...], remember: Callable[[str], None]
) -> None:
    """Stream the decision's answer into a new message and `remember` whatever the user saw of it."""
    async with cl.Step(name="Route", type="tool", show_input=False) as route:
        route.output = _route_summary(decision)
    reply = cl.Message(content="", author=decision.model.label)
    failure: BackendError | None = None
    try:
        async for event in router.stream(decision, messages):
            if isinstance(event, TextDelta):
                await reply.stream_token(event.text)
            elif isinstance(event, Notice):
                await reply.stream_token(f"\n\n> {event.text}\n\n")
            elif isinstance(event, Completed):
                route.output = _route_summary(decision, event)
                await _record_usage(reply, event)
                if event.record.error:
                    # Every allowed model failed after the request went out: say so under what was shown.
                    failure = BackendError(event.record.error)
    except asyncio.CancelledError:
        # The user pressed stop: keep what they already saw, in the chat and in the history.
        if reply.content:
            remember(reply.content)
        await _finish(reply, route, suffix="\n\n*(stopped)*")
        raise
    except BackendError as exc:
        log.warning("answer failed: %s", exc)
        failure = exc
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("unexpected error while answering (error id %s)", error_id)
        await _finish(reply, route, suffix=f"\n\n⚠️ Something went wrong on our side (error id {error_id}). Please try again.")
        return
    if failure is not None:
        # Keep what was already shown, and say below it what went wrong and what to do.
        if reply.content:
            remember(reply.content)
        suffix = "\n\n" if reply.content else ""
        await _finish(reply, route, suffix=f"{suffix}⚠️ {_friendly(failure)}")
        return
    remember(reply.content)
    await _finish(reply, route)


async def _record_usage(reply: cl.Message, completed: Completed) -> None:
    """One usage row per answer (budgets and admin reports read them); a database outage is only logged."""
    record = completed.record
    user = cl.user_session.get("user")
    try:
        await record_usage(
            data_layer.engine,
            UsageRecord(
                step_id=reply.id, thread_id=cl.context.session.thread_id,
                user_identifier=user.identifier if user else "", backend=record.backend, model=record.model,
                prompt_tokens=record.prompt_tokens, completion_tokens=record.completion_tokens,
                cost_usd=record.cost_usd, ttft_ms=None if record.ttft_s is None else record.ttft_s * 1000,
                latency_ms=record.total_s * 1000,
            ),
        )
    except PersistenceError as exc:
        log.error("usage not recorded: %s", exc)


async def _finish(reply: cl.Message, route: cl.Step, *, suffix: str = "") -> None:
    if suffix:
        reply.content += suffix
    await asyncio.shield(asyncio.gather(reply.send(), route.update()))


def _friendly(exc: BackendError) -> str:
    return f"The model could not answer ({exc}). Try again, or pick another model in the profile menu."


def _route_summary(decision: RouteDecision, completed: Completed | None = None) -> str:
    """The route step's text: where the message went, why, and what it cost."""
    spec = decision.model
    lines = [f"**Model:** {spec.label} ({spec.kind}, via {spec.provider})"]
    lines += [f"- {reason}" for reason in decision.reasons]
    if completed:
        record = completed.record
        ttft = f"{record.ttft_s:.2f} s" if record.ttft_s is not None else "n/a"
        lines.append(
            f"**Usage:** {record.prompt_tokens} prompt + {record.completion_tokens} completion tokens, "
            f"${record.cost_usd:.6f}, first token {ttft}, total {record.total_s:.2f} s"
        )
        lines.append(f"**Context:** {record.message_count} messages sent to the model")
        if record.retries:
            lines.append(f"**Retries:** {record.retries}")
        if record.fallbacks:
            lines.append(f"**Fallbacks:** {', '.join(record.fallbacks)}")
        if record.error:
            lines.append(f"**Error:** {record.error}")
    return "\n".join(lines)

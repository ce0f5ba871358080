"""Hybrid Chat: the Chainlit app. Wiring only: build the services, register Chainlit's handlers.

What a message goes through is the `answering` pipeline; what the browser shows is the `chat`
package; sign-in is `signin`, storage `persistence`, the API `gateway`. Run it with `make run`
(see the README).
"""

from __future__ import annotations

import asyncio
import gc
import logging

import chainlit as cl
from chainlit.oauth_providers import get_configured_oauth_providers
from chainlit.server import app as http_app

import chat
from answering import Pipeline
from gateway import mount_gateway
from knowledge import KnowledgeBase, StoreLocked
from operations import Limits, configure_logging, return_freed_memory
from persistence import (
    HybridDataLayer, SharedState, database_url, install_feedback_guard, install_file_route, upgrade_database,
)
from router import Router
from settings import get_settings
from signin import AccessPolicy, LoginLimiter, SignIn, install_sign_in_guard, load_accounts, require_auth_secret
from webgpu_demo_server import mount_webgpu_demo

log = logging.getLogger("hybrid_chat")
settings = get_settings()
configure_logging(settings)  # request ids on every line, personal data and secrets masked
logging.getLogger("router").setLevel(settings.log_level.upper())
log.setLevel(settings.log_level.upper())
require_auth_secret(settings.chainlit_auth_secret.get_secret_value())

# --- the services -----------------------------------------------------------------------------

return_freed_memory()  # before the model allocates: a load's buffers leave the process when freed

router = Router.from_settings(settings)
try:
    knowledge = KnowledgeBase(settings)
except StoreLocked as exc:  # only one process may write the embedded store
    raise SystemExit(f"error: {exc}") from None
data_layer = HybridDataLayer.from_settings(settings)
data_layer.on_error = chat.not_saved  # Chainlit saves in background tasks: the chat tells the user
# Rate limits, lockouts and sign-outs: in the database, so every instance counts and refuses the same.
shared_state = SharedState(data_layer.engine)
pipeline = Pipeline(router, Limits.from_settings(settings, shared_state), knowledge=knowledge, engine=data_layer.engine)
chat.install(chat.Services(settings, router, knowledge, data_layer, pipeline))

# --- sign-in ------------------------------------------------------------------------------------

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
    accounts, AccessPolicy.from_settings(settings),
    LoginLimiter(shared_state, settings.max_failed_logins, settings.login_lockout_s),
    allow_linking=settings.allow_account_linking,
)


@cl.password_auth_callback
async def password_sign_in(username: str, password: str) -> cl.User | None:
    return await sign_in.with_password(username, password)


if get_configured_oauth_providers():  # chainlit refuses an OAuth callback without a configured provider

    @cl.oauth_callback
    async def oauth_sign_in(
        provider_id: str, token: str, raw_user_data: dict[str, str], default_user: cl.User
    ) -> cl.User | None:
        return sign_in.with_oauth(provider_id, raw_user_data, default_user)


# --- HTTP routes beside Chainlit's -------------------------------------------------------------

chat.use_private_upload_folder(settings.data_dir)
chat.configure_sessions_without_nesting()  # concurrent connects no longer nest event loops (RecursionError)
mount_webgpu_demo(http_app, settings)  # the in-browser models page at /webgpu
install_sign_in_guard(http_app, sign_in.still_allowed, shared_state)  # re-checks every session token; /access-denied
install_file_route(http_app, data_layer)  # element files only for users who may see the thread
install_feedback_guard(http_app, data_layer)  # feedback only on one's own threads
chat.install_route_fixes(http_app, max_upload_mb=settings.max_upload_mb)  # upload limit, 400s, 503s
# /v1 (OpenAI-compatible), /gateway/keys, /healthz, /readyz, /metrics: the same pipeline and limits
mount_gateway(http_app, router, settings, accounts=accounts, engine=data_layer.engine, pipeline=pipeline)


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
    warm_ups = [asyncio.create_task(router.start()), asyncio.create_task(knowledge.warm_up())]
    asyncio.create_task(_freeze_after(warm_ups))


async def _freeze_after(warm_ups: list[asyncio.Task]) -> None:
    """Keep what start-up loaded (models, libraries: millions of objects) out of the garbage collector's scans.

    A full collection scanned them all: 0.76 s with every chat stalled, in the middle of a
    20-user load (bench/bench_concurrency.py). Frozen objects stay; everything made later is collected as before.
    """
    await asyncio.wait(warm_ups)
    gc.freeze()


@cl.on_app_shutdown
async def stop_backends() -> None:
    await router.aclose()
    knowledge.close()


# --- the chat -------------------------------------------------------------------------------------


@cl.set_chat_profiles
async def chat_profiles(user: cl.User | None) -> list[cl.ChatProfile]:
    return await chat.chat_profiles()


@cl.set_starters
async def starters(user: cl.User | None = None, language: str | None = None) -> list[cl.Starter]:
    return chat.starters()


@cl.on_chat_start
async def start_chat() -> None:
    await chat.start()


@cl.on_chat_resume
async def resume_chat(thread: dict) -> None:
    await chat.resume(thread)


@cl.on_message
async def on_message(message: cl.Message) -> None:
    await chat.on_message(message)


@cl.on_settings_update
async def settings_changed(values: dict) -> None:
    await chat.settings_changed(values)

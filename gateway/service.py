"""The gateway's state: who is calling (API keys, access policy), the database, and the answering pipeline.

Kept apart from the HTTP routes so tests can drive it directly. Admission, routing and usage
are the pipeline's (`answering`), the same the chat uses.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from answering import Pipeline
from gateway.api_keys import KeyRing, parse_static_keys
from gateway.errors import GatewayError, invalid_key
from gateway.users import GatewayUsers
from operations import Limits
from persistence import PersistenceError, SharedState, create_engine, database_url, upgrade_database
from router import Router
from settings import Settings
from signin import ADMIN_ROLE, AccessPolicy, AccountStore

log = logging.getLogger("hybrid_chat.gateway")
#: The name of every route the gateway adds, so mounting again can replace them all.
ROUTE_NAME = "hybrid-gateway"


@dataclass(frozen=True)
class Caller:
    user: str
    admin: bool
    key_id: str


class Gateway:
    """The router behind API keys, access policy, limits and usage recording."""

    def __init__(
        self, router: Router, settings: Settings, *, engine: AsyncEngine | None = None,
        accounts: AccountStore | None = None, pipeline: Pipeline | None = None, migrate: bool = True,
    ) -> None:
        self.router = router
        self.settings = settings
        self._owns_engine = engine is None
        self.engine = engine or create_engine(database_url(settings))
        self.users = GatewayUsers(AccessPolicy.from_settings(settings), accounts)
        # The chat passes its own pipeline, so one rate limit covers a user's chats and API calls.
        self.pipeline = pipeline or Pipeline(router, Limits.from_settings(settings, SharedState(self.engine)),
                                             engine=self.engine)
        self.keys = KeyRing(self.engine, parse_static_keys(settings.gateway_api_keys.get_secret_value()))
        self._migrate = migrate
        self._schema_ready = asyncio.Lock()
        self._schema_checked = False

    async def database(self) -> AsyncEngine:
        """The engine, with the schema brought up to date once per process (idempotent, safe if the app did it)."""
        if self._migrate and not self._schema_checked:
            async with self._schema_ready:
                if not self._schema_checked:
                    await upgrade_database(self.engine.url.render_as_string(hide_password=False))
                    self._schema_checked = True
        return self.engine

    async def ping_database(self) -> None:
        async with (await self.database()).connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def authenticate(self, authorization: str | None) -> Caller:
        """The caller of a request with `Authorization: Bearer <key>`; GatewayError 401/403 otherwise."""
        scheme, _, presented = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise GatewayError(
                401, "No API key given. Send it as 'Authorization: Bearer <key>'.", code="invalid_api_key"
            )
        try:
            await self.database()
            owner = await self.keys.owner(presented.strip())
        except PersistenceError as exc:
            raise GatewayError(503, f"Cannot check the API key now: {exc}", type="server_error",
                               code="database_unavailable") from exc
        if owner is None:
            raise invalid_key()
        if owner.static:  # the operator's service accounts: always allowed, admin only when listed
            return Caller(owner.user, owner.user.lower() in self.users.policy.admins, owner.key_id)
        role = self.users.role_of(owner.user)
        if role is None:
            raise GatewayError(
                403, "This key's account is no longer allowed to use Hybrid Chat.", type="permission_error",
                code="access_denied",
            )
        return Caller(owner.user, role == ADMIN_ROLE, owner.key_id)

    async def aclose(self) -> None:
        """Close the database pool if the gateway opened it (a shared one belongs to the app)."""
        if self._owns_engine:
            await self.engine.dispose()

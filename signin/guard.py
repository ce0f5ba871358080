"""The HTTP side of sign-in that Chainlit's callbacks cannot reach, as one ASGI middleware.

- Session tokens are checked again on every request and socket connection: a token of a
  user who is no longer allowed (account removed, dropped from the policy, role changed)
  or who signed out is taken off the request, so Chainlit treats it as signed out.
  (Chainlit itself refuses tampered and expired tokens, but not these: its tokens are
  stateless and live for `user_session_timeout`.)
- A refused sign-in gets a clear answer: the OAuth callback redirects to the
  /access-denied page (Chainlit would show "Sign in failed, try again"), and POST /login
  answers 403 `{"detail": "accessDenied"}` or 429 `{"detail": "tooManyAttempts"}` instead
  of a 401 that reads like a wrong password.
Sign-out revokes that one token (each sign-in gets its own, see signin.tokens). Revocations are
stored in the database (`persistence.SharedState`), and every request with a token asks it, so a
sign-out on one instance refuses the token on all of them at once. Nothing answers "not revoked"
from memory; the only memory is of the tokens revoked through this instance, which can only
refuse more, so it still refuses them while the database is unreachable (then another instance's
sign-outs are not known: the app stays up during an outage rather than signing everyone out);
its sign-outs during an outage are stored once the database answers again.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import re
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from urllib.parse import urlencode

import jwt
from chainlit.user import User
from fastapi import FastAPI
from starlette.requests import Request, cookie_parser
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from persistence import PersistenceError, SharedState

from .access import Denial
from .tokens import issue_unique_tokens

PAGE_PATH = "/access-denied"
_ROUTE_NAME = "hybrid-chat-access-denied"
_OAUTH_CALLBACK = re.compile(r"/auth/oauth/[^/]+/callback$")
_COOKIE = os.environ.get("CHAINLIT_AUTH_COOKIE_NAME", "access_token")  # as chainlit.auth.cookie reads it
_TOKEN_COOKIE = re.compile(rf"^{re.escape(_COOKIE)}(_\d+)?$")
log = logging.getLogger("hybrid_chat.signin")

#: What the refused person reads; no user input is ever echoed.
MESSAGES = {
    Denial.DOMAIN: "Your e-mail address is not in a domain that may use this Hybrid Chat.",
    Denial.USER: "Your account is not on the list of people who may use this Hybrid Chat.",
    Denial.UNVERIFIED_EMAIL: "Your identity provider did not confirm a verified e-mail address for your account.",
    Denial.LOCKED: "Too many failed sign-in attempts for this name. Please wait a few minutes and try again.",
}


@dataclass
class _Outcome:
    denial: Denial | None = None


_outcome: ContextVar[_Outcome | None] = ContextVar("sign_in_outcome", default=None)


def record_denial(denial: Denial | None) -> None:
    """Called by a sign-in callback that refuses someone, so the response can say why."""
    outcome = _outcome.get()
    if outcome is not None and denial is not None:
        outcome.denial = denial


@dataclass
class GuardState:
    """What the middleware consults; app.py updates it in place when Chainlit re-imports the app."""

    still_allowed: Callable[[User], bool]
    shared: SharedState
    clock: Callable[[], float] = time.time
    #: Tokens revoked through this instance (digest -> expiry, epoch s): refused even during an outage.
    revoked_here: dict[str, float] = field(default_factory=dict)
    _database_down: bool = field(default=False, init=False, repr=False)
    #: Sign-outs the database did not take (an outage): stored as soon as it answers again.
    _unshared: dict[str, float] = field(default_factory=dict, init=False, repr=False)

    async def revoke(self, token: str, expires_at: float) -> None:
        now = self.clock()
        self.revoked_here = {digest: exp for digest, exp in self.revoked_here.items() if exp > now}
        digest = _digest(token)
        self.revoked_here[digest] = expires_at
        try:
            await self.shared.revoke(digest, expires_at=expires_at, now=now)
        except PersistenceError as exc:
            self._unshared[digest] = expires_at
            log.error("a sign-out is refused on this instance only until the database is back: %s", exc)

    async def is_revoked(self, token: str) -> bool:
        digest = _digest(token)
        if digest in self.revoked_here:
            return True
        try:
            revoked = await self.shared.is_revoked(digest)
        except PersistenceError as exc:
            if not self._database_down:  # once per outage, not once per request
                log.error("sign-outs on other instances cannot be checked until the database is back: %s", exc)
            self._database_down = True
            return False
        self._database_down = False
        if self._unshared:
            await self._share_unshared()
        return revoked

    async def _share_unshared(self) -> None:
        now = self.clock()
        pending, self._unshared = {d: e for d, e in self._unshared.items() if e > now}, {}
        for digest, expires_at in list(pending.items()):
            try:
                await self.shared.revoke(digest, expires_at=expires_at, now=now)
            except PersistenceError:  # down again: the next request that reaches the database retries
                self._unshared.update(pending)
                return
            del pending[digest]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SignInGuard:
    """ASGI middleware: see the module docstring."""

    def __init__(self, app: ASGIApp, state: GuardState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        token = _token(scope)
        payload = _verified_payload(token) if token else None
        if payload is not None:
            if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].endswith("/logout"):
                await self.state.revoke(token, float(payload.get("exp", time.time())))
            elif await self.state.is_revoked(token) or not self.state.still_allowed(_user(payload)):
                scope = {**scope, "headers": _without_token(scope["headers"])}
        if scope["type"] == "http" and _is_sign_in(scope):
            await self._sign_in(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _sign_in(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run a sign-in request; if a callback refused someone, answer with the reason instead."""
        outcome = _Outcome()
        reset = _outcome.set(outcome)
        replaced = False

        async def reply(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and outcome.denial is not None:
                replaced = True
                await _send_denial(scope, send, outcome.denial)
                return
            if not replaced:
                await send(message)

        try:
            await self.app(scope, receive, reply)
        finally:
            _outcome.reset(reset)


def _is_sign_in(scope: Scope) -> bool:
    path = scope["path"]
    return (scope["method"] == "POST" and path.endswith("/login")) or bool(_OAUTH_CALLBACK.search(path))


async def _send_denial(scope: Scope, send: Send, denial: Denial) -> None:
    if _OAUTH_CALLBACK.search(scope["path"]):
        location = f"{scope.get('root_path', '')}{PAGE_PATH}?{urlencode({'reason': denial.value})}"
        status, headers, body = 303, [(b"location", location.encode())], b""
    else:
        locked = denial is Denial.LOCKED
        status = 429 if locked else 403
        body = json.dumps({"detail": "tooManyAttempts" if locked else "accessDenied", "reason": MESSAGES[denial]})
        body, headers = body.encode(), [(b"content-type", b"application/json")]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _token(scope: Scope) -> str | None:
    """The session token as Chainlit finds it: the cookie (possibly in chunks), else a bearer header."""
    cookies: dict[str, str] = {}
    authorization = ""
    for name, value in scope["headers"]:
        if name == b"cookie":
            cookies.update(cookie_parser(value.decode("latin-1")))
        elif name == b"authorization":
            authorization = value.decode("latin-1")
    if token := cookies.get(_COOKIE):
        return token
    chunks: list[str] = []
    while f"{_COOKIE}_{len(chunks)}" in cookies:
        chunks.append(cookies[f"{_COOKIE}_{len(chunks)}"])
    if chunks:
        return "".join(chunks)
    scheme, _, credentials = authorization.partition(" ")
    return (credentials.strip() or None) if scheme.lower() == "bearer" else None


def _verified_payload(token: str) -> dict | None:
    """The token's claims if Chainlit would accept it (right secret, not expired), else None."""
    try:
        return jwt.decode(token, os.environ.get("CHAINLIT_AUTH_SECRET", ""), algorithms=["HS256"])
    except jwt.PyJWTError:
        return None


def _user(payload: dict) -> User:
    return User(
        identifier=str(payload.get("identifier", "")),
        display_name=payload.get("display_name"),
        metadata=payload.get("metadata") or {},
    )


def _without_token(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    kept: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        if name == b"authorization":
            continue
        if name == b"cookie":
            pairs = [p for p in value.decode("latin-1").split(";") if p.strip()]
            pairs = [p for p in pairs if not _TOKEN_COOKIE.match(p.split("=", 1)[0].strip())]
            if not pairs:
                continue
            value = ";".join(pairs).encode("latin-1")
        kept.append((name, value))
    return kept


async def access_denied_page(request: Request) -> HTMLResponse:
    """The page a refused OAuth sign-in lands on: why, and what to do about it."""
    try:
        reason = MESSAGES[Denial(request.query_params.get("reason", ""))]
    except ValueError:
        reason = MESSAGES[Denial.USER]
    sign_in = html.escape(f"{request.scope.get('root_path', '')}/login")
    return HTMLResponse(
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Access denied - Hybrid Chat</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5}}</style>
</head><body><main><h1>You are not allowed to use this Hybrid Chat</h1>
<p id="reason">{html.escape(reason)}</p>
<p>Your identity provider signed you in, but this server's operator has not opened it to you.
If you think you should have access, ask the operator to add you.</p>
<p><a href="{sign_in}">Back to sign-in</a> (to use another account)</p></main></body></html>""",
        status_code=403,
    )


def install_sign_in_guard(app: FastAPI, still_allowed: Callable[[User], bool], shared: SharedState) -> None:
    """Add the middleware (once) and the /access-denied page, ahead of Chainlit's catch-all route.

    Sign-out revokes one token, so every sign-in must get a token of its own (signin.tokens);
    revocations go to `shared`, the database all instances use.
    """
    issue_unique_tokens()
    state: GuardState | None = getattr(app.state, "sign_in_guard", None)
    if state is None:
        state = GuardState(still_allowed, shared)
        app.state.sign_in_guard = state
        app.add_middleware(SignInGuard, state=state)
    state.still_allowed, state.shared = still_allowed, shared
    app.router.routes[:] = [route for route in app.router.routes if getattr(route, "name", None) != _ROUTE_NAME]
    app.router.routes.insert(0, Route(PAGE_PATH, access_denied_page, methods=["GET"], name=_ROUTE_NAME))

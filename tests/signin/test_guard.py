"""The sign-in guard: a session signed out through one instance is refused by every other."""

from __future__ import annotations

import time
import uuid

import httpx
import jwt
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from persistence import SharedState, create_engine, upgrade_database
from signin.guard import GuardState, SignInGuard


async def whoami(scope, receive, send) -> None:
    """The app behind the guard: says whether a session token reached it."""
    token = Request(scope).cookies.get("access_token")
    await PlainTextResponse("signed in" if token else "signed out")(scope, receive, send)


@pytest.fixture
def secret(monkeypatch) -> str:
    secret = "test-secret-" + uuid.uuid4().hex
    monkeypatch.setenv("CHAINLIT_AUTH_SECRET", secret)
    return secret


def session_token(secret: str, identifier: str) -> str:
    claims = {"identifier": identifier, "metadata": {}, "exp": int(time.time()) + 3600, "jti": uuid.uuid4().hex}
    return jwt.encode(claims, secret, algorithm="HS256")


def instance(shared: SharedState) -> httpx.AsyncClient:
    guard = SignInGuard(whoami, GuardState(lambda user: True, shared))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=guard), base_url="http://testserver")


async def test_a_sign_out_on_one_instance_is_refused_by_the_other(two_instances, secret):
    token = session_token(secret, "alice")
    first, second = (instance(shared) for shared in two_instances)
    async with first, second:
        assert (await second.get("/", cookies={"access_token": token})).text == "signed in"
        await first.post("/logout", cookies={"access_token": token})
        assert (await second.get("/", cookies={"access_token": token})).text == "signed out"
        assert (await first.get("/", cookies={"access_token": token})).text == "signed out"


async def test_during_an_outage_sessions_go_on_and_this_instance_still_refuses_its_own_sign_outs(secret):
    token, other_token = session_token(secret, "alice"), session_token(secret, "bob")
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        async with instance(SharedState(engine)) as client:
            await client.post("/logout", cookies={"access_token": token})
            assert (await client.get("/", cookies={"access_token": token})).text == "signed out"
            assert (await client.get("/", cookies={"access_token": other_token})).text == "signed in"
    finally:
        await engine.dispose()



async def test_a_sign_out_during_an_outage_reaches_the_other_instances_once_the_database_is_back(tmp_path, secret):
    token, other_token = session_token(secret, "alice"), session_token(secret, "bob")
    url = f"sqlite+aiosqlite:///{tmp_path / 'not-yet-migrated.sqlite'}"  # no tables yet: every query fails
    engines = [create_engine(url), create_engine(url)]
    try:
        first, second = (instance(SharedState(engine)) for engine in engines)
        async with first, second:
            await first.post("/logout", cookies={"access_token": token})
            await upgrade_database(url)  # the database is back
            assert (await second.get("/", cookies={"access_token": token})).text == "signed in", "not stored yet"
            assert (await first.get("/", cookies={"access_token": other_token})).text == "signed in"
            assert (await second.get("/", cookies={"access_token": token})).text == "signed out"
    finally:
        for engine in engines:
            await engine.dispose()

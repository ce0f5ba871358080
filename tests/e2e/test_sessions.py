"""Session security over HTTP and the socket.io connection, against the running app.

Refused: no token, a token signed with another secret, an expired token, the token of an
account removed since, a signed-out token, a user the policy does not allow; and a name
is locked after too many wrong passwords. A valid token is accepted (the control).
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import jwt
import pytest
import socketio

from tests.support.app_server import AppServer, chat_users
from tests.support.socketio_client import ChatSession, sign_in

USERS = {"alice": "alice-pw-1", "bob": "bob-pw-2", "carol": "carol-pw-3", "dave": "dave-pw-4"}
# alice (the first user) is the local admin; dave has an account but the policy leaves him out.
POLICY = {"ALLOWED_USERS": "bob,carol", "MAX_FAILED_LOGINS": "3", "LOGIN_LOCKOUT_S": "300"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with AppServer(tmp_path_factory.mktemp("sessions"), env={"CHAT_USERS": chat_users(USERS), **POLICY}) as server:
        yield server


def login(app: AppServer, user: str, password: str | None = None) -> httpx.Response:
    return httpx.post(f"{app.url}/login", data={"username": user, "password": password or USERS[user]})


def token_of(app: AppServer, user: str) -> str:
    response = login(app, user)
    assert response.status_code == 200, response.text
    return response.cookies["access_token"]


def forged(secret: str, identifier: str, *, expires_in: timedelta = timedelta(hours=1)) -> str:
    """A token shaped exactly like Chainlit's, for a password user."""
    now = datetime.now(timezone.utc)
    claims = {"identifier": identifier, "display_name": None,
              "metadata": {"role": "member", "provider": "credentials"}, "iat": now, "exp": now + expires_in}
    return jwt.encode(claims, secret, algorithm="HS256")


def http_status(app: AppServer, token: str | None) -> int:
    cookies = {"access_token": token} if token else {}
    return httpx.get(f"{app.url}/user", cookies=cookies).status_code


def socket_accepts(app: AppServer, token: str | None) -> bool:
    """Whether the chat socket lets this token connect (the browser's handshake, see FACTS.md).

    The synchronous client: Playwright's sync API keeps an event loop running in this thread.
    """
    client = socketio.Client(reconnection=False)
    headers = {"Cookie": f"access_token={token}"} if token else {}
    auth = {"sessionId": str(uuid.uuid4()), "clientType": "webapp", "threadId": "", "userEnv": "{}",
            "chatProfile": "Auto"}
    try:
        client.connect(app.url, headers=headers, auth=auth, transports=["websocket"],
                             socketio_path="/ws/socket.io", wait_timeout=10)
    except socketio.exceptions.ConnectionError:
        return False
    client.disconnect()
    return True


def test_a_valid_token_is_accepted_over_http_and_the_socket(app):
    token = token_of(app, "bob")
    assert http_status(app, token) == 200
    assert socket_accepts(app, token)
    assert http_status(app, forged(app.auth_secret, "bob")) == 200  # the forging helper makes real tokens


def test_no_token_is_refused(app):
    assert http_status(app, None) == 401
    assert httpx.post(f"{app.url}/project/threads", json={"pagination": {"first": 20}, "filter": {}}).status_code \
        == 401
    assert not socket_accepts(app, None)


def test_a_token_signed_with_another_secret_is_refused(app):
    token = forged(secrets.token_urlsafe(48), "bob")
    assert http_status(app, token) == 401
    assert not socket_accepts(app, token)


def test_an_expired_token_is_refused(app):
    token = forged(app.auth_secret, "bob", expires_in=-timedelta(seconds=1))
    assert http_status(app, token) == 401
    assert not socket_accepts(app, token)


def test_a_signed_out_token_is_refused(app):
    token = token_of(app, "carol")
    assert httpx.post(f"{app.url}/logout", cookies={"access_token": token}).status_code == 200
    assert http_status(app, token) == 401
    assert not socket_accepts(app, token)
    assert http_status(app, token_of(app, "carol")) == 200  # signing in again works


def test_two_sign_ins_in_the_same_second_are_separate_sessions(app):
    """Chainlit's token holds the user and whole-second times only: two sign-ins within a second
    got the same token, and signing out on one device ended the other session too."""
    for _ in range(10):
        first, second = token_of(app, "carol"), token_of(app, "carol")
        issued = [jwt.decode(token, app.auth_secret, algorithms=["HS256"])["iat"] for token in (first, second)]
        if issued[0] == issued[1]:
            break
    else:
        pytest.fail("no two sign-ins within the same second in ten tries")
    assert first != second
    assert httpx.post(f"{app.url}/logout", cookies={"access_token": first}).status_code == 200
    assert http_status(app, first) == 401
    assert http_status(app, second) == 200
    assert socket_accepts(app, second)


def test_a_user_the_policy_leaves_out_is_refused_with_the_reason(app):
    response = login(app, "dave")
    assert response.status_code == 403
    assert response.json()["detail"] == "accessDenied"
    assert "access_token" not in response.cookies
    assert login(app, "dave", "wrong").status_code == 401  # no hint without the password
    assert http_status(app, forged(app.auth_secret, "dave")) == 401
    assert not socket_accepts(app, forged(app.auth_secret, "dave"))


def test_too_many_wrong_passwords_lock_the_name(app):
    for _ in range(3):
        assert login(app, "bob", "guess").status_code == 401
    locked = login(app, "bob")
    assert locked.status_code == 429
    assert locked.json()["detail"] == "tooManyAttempts"
    assert login(app, "BOB", "guess").status_code == 429  # the same name in other case
    assert login(app, "carol").status_code == 200


def test_the_token_of_a_removed_account_is_refused(app, tmp_path):
    alice, carol = token_of(app, "alice"), token_of(app, "carol")
    without_carol = {user: pw for user, pw in USERS.items() if user != "carol"}
    env = {"CHAT_USERS": chat_users(without_carol), "CHAINLIT_AUTH_SECRET": app.auth_secret, **POLICY}
    with AppServer(tmp_path / "restarted", env=env) as restarted:
        assert http_status(restarted, alice) == 200  # same secret: other sessions survive the restart
        assert http_status(restarted, carol) == 401
        assert not socket_accepts(restarted, carol)


def test_the_app_does_not_start_without_an_auth_secret(tmp_path):
    with pytest.raises(RuntimeError) as exited:
        with AppServer(tmp_path, env={"CHAT_USERS": "alice:pw", "CHAINLIT_AUTH_SECRET": ""}):
            pass
    assert "CHAINLIT_AUTH_SECRET is not set" in str(exited.value)
    assert "chainlit create-secret" in str(exited.value)


async def test_sixty_sessions_connecting_at_once_with_a_chat_profile_all_connect(app):
    # The browser always sends its chat profile. Chainlit 2.12 read the profile's configuration by running
    # the event loop re-entrantly inside each connect; concurrent connects nested in one another until
    # RecursionError (from `get_user` in the sign-in check), and those sessions were refused.
    cookies = await sign_in(app.url, "alice", USERS["alice"])
    chats = [ChatSession(app.url, cookies, chat_profile="Auto") for _ in range(60)]
    try:
        results = await asyncio.gather(*(chat.connect() for chat in chats), return_exceptions=True)
    finally:
        await asyncio.gather(*(chat.close() for chat in chats))
    refused = [r for r in results if isinstance(r, BaseException)]
    assert not refused, f"{len(refused)} of 60 sessions could not connect: {refused[0]!r}"
    assert "RecursionError" not in app.log()

"""OAuth sign-in in headless Chromium against a real OpenID Connect provider (oidc-provider on Node).

The app allows the domain example.com; ann@example.com signs in and chats, eve@evil.test is
refused with the reason, signing out ends the session, an expired session token is refused.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timedelta, timezone

import httpx
import jwt
import pytest
from playwright.sync_api import expect

from tests.support.app_server import AppServer
from tests.support.oidc import OidcProvider

pytestmark = pytest.mark.e2e

ALLOWED = "ann@example.com"
OUTSIDER = "eve@evil.test"


@pytest.fixture(scope="module")
def oauth_app(tmp_path_factory):
    """The app with the generic OIDC provider and a domain policy, beside one password user."""
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("Node.js and npm are not installed (make system-deps)")
    data_dir = tmp_path_factory.mktemp("oauth-app")
    env = {"CHAT_USERS": "alice:alice-pw-1", "ALLOWED_EMAIL_DOMAINS": "example.com"}
    server = AppServer(data_dir, env=env)
    # Chainlit builds the redirect URL from CHAINLIT_URL, which uses the browser's host (127.0.0.1).
    with OidcProvider(f"{server.url}/auth/oauth/generic/callback", data_dir / "oidc.log") as provider:
        env.update(provider.app_env())
        with server:
            yield server


def sign_in_with_oidc(page, url: str, email: str) -> None:
    page.goto(url)
    page.get_by_role("button", name=re.compile("Continue with", re.I)).click()
    page.fill("input[name=login]", email)  # the provider's login form
    page.fill("input[name=password]", "any password")
    page.locator("button[type=submit]").first.click()
    page.get_by_role("button", name="Continue").click()  # the provider's consent page


def test_an_allowed_user_signs_in_and_chats(oauth_app, page):
    sign_in_with_oidc(page, oauth_app.url, ALLOWED)
    page.wait_for_selector("#chat-input")
    me = page.request.get(f"{oauth_app.url}/user").json()
    assert me["identifier"] == f"generic:{ALLOWED}"
    assert me["metadata"] == {"role": "member", "provider": "generic", "email": ALLOWED}

    page.fill("#chat-input", "Say hello.")
    page.click("#chat-submit")
    answer = page.locator('[data-step-type="assistant_message"]').first
    expect(answer).to_have_text(re.compile(r"\w"), timeout=120_000)


def test_a_user_outside_the_allowed_domain_is_refused_with_the_reason(oauth_app, page):
    sign_in_with_oidc(page, oauth_app.url, OUTSIDER)
    page.wait_for_url(re.compile("/access-denied"))
    expect(page.get_by_role("heading")).to_have_text("You are not allowed to use this Hybrid Chat")
    expect(page.locator("#reason")).to_have_text(re.compile("not in a domain that may use this Hybrid Chat"))
    assert not [c for c in page.context.cookies() if c["name"].startswith("access_token")]
    assert page.request.get(f"{oauth_app.url}/user").status == 401
    page.get_by_role("link", name="Back to sign-in").click()
    page.wait_for_selector("#email")


def test_sign_out_ends_the_session_and_its_token(oauth_app, page):
    sign_in_with_oidc(page, oauth_app.url, ALLOWED)
    page.wait_for_selector("#chat-input")
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "access_token")

    page.click("#user-nav-button")
    page.get_by_role("menuitem", name="Logout").click()
    page.wait_for_selector("#email")
    assert page.locator("#chat-input").count() == 0
    # The token itself is dead too, not just the cookie gone from this browser.
    replay = httpx.get(f"{oauth_app.url}/user", cookies={"access_token": token})
    assert replay.status_code == 401


def test_an_expired_token_is_refused(oauth_app, page):
    now = datetime.now(timezone.utc)
    claims = {
        "identifier": f"generic:{ALLOWED}", "display_name": None,
        "metadata": {"role": "member", "provider": "generic", "email": ALLOWED},
        "iat": now - timedelta(days=16), "exp": now - timedelta(minutes=1),
    }
    expired = jwt.encode(claims, oauth_app.auth_secret, algorithm="HS256")
    assert httpx.get(f"{oauth_app.url}/user", cookies={"access_token": expired}).status_code == 401

    page.context.add_cookies([{"name": "access_token", "value": expired, "url": oauth_app.url}])
    page.goto(oauth_app.url)
    page.wait_for_selector("#email")
    page.wait_for_timeout(1000)
    assert page.locator("#chat-input").count() == 0

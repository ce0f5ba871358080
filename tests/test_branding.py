"""The product looks like itself: title, favicon, logos and assistant avatar are Hybrid Chat's, not Chainlit's."""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.support.app_server import TEST_USERS

PUBLIC = Path(__file__).resolve().parent.parent / "public"


def test_page_title_and_link_preview_name_hybrid_chat(app_server):
    html = httpx.get(app_server.url + "/login", timeout=10).text
    assert "<title>Hybrid Chat</title>" in html
    assert 'content="/public/logo_light.svg"' in html
    assert "chainlit_banner" not in html


def test_favicon_and_both_logos_are_ours(app_server):
    assert httpx.get(app_server.url + "/favicon", timeout=10).content == (PUBLIC / "favicon.svg").read_bytes()
    for theme in ("light", "dark"):
        logo = httpx.get(app_server.url + "/logo", params={"theme": theme}, timeout=10)
        assert logo.content == (PUBLIC / f"logo_{theme}.svg").read_bytes()
        assert b"Hybrid Chat" in logo.content


def test_assistant_avatar_is_the_hybrid_chat_mark(app_server):
    # Model labels such as "SmolLM2 135M (Foundry Local)" are refused as avatar ids by Chainlit,
    # so every assistant message uses the configured default avatar.
    login = httpx.post(app_server.url + "/login", data={"username": "alice", "password": TEST_USERS["alice"]})
    config = httpx.get(app_server.url + "/project/settings", params={"language": "en-US"}, cookies=login.cookies,
                       timeout=10)
    avatar = config.json()["ui"]["default_avatar_file_url"]
    assert avatar == "/public/favicon.svg"
    assert httpx.get(app_server.url + avatar, timeout=10).content == (PUBLIC / "favicon.svg").read_bytes()

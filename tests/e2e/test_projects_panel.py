"""The Projects panel over socket.io: only a project's owner is offered, and allowed, to change it."""

from __future__ import annotations

import pytest

from tests.support.app_server import AppServer, chat_users
from tests.support.socketio_client import ChatSession, sign_in
from tests.support.knowledge_pdfs import HARBOUR_GUIDE, make_pdf

pytestmark = pytest.mark.e2e

PASSWORD = "pw-for-panel-1"
OWNER, MEMBER = "alice@example.com", "bob@example.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"CHAT_USERS": chat_users(dict.fromkeys((OWNER, MEMBER), PASSWORD))}
    with AppServer(tmp_path_factory.mktemp("panel"), env=env) as app:
        yield app


async def open_panel(chat: ChatSession) -> list[dict]:
    """Send the Projects command; the actions of the panel it shows."""
    seen = len(chat.actions)
    panel = await chat.send("show", command="Projects")
    return [action for action in chat.actions[seen:] if action["forId"] == panel["id"]]


async def test_members_are_neither_offered_nor_allowed_to_remove_a_document(server, tmp_path):
    (tmp_path / "harbour-guide.pdf").write_bytes(make_pdf(HARBOUR_GUIDE))
    async with ChatSession(server.url, await sign_in(server.url, OWNER, PASSWORD)) as alice:
        uploaded = await alice.upload("harbour-guide.pdf", (tmp_path / "harbour-guide.pdf").read_bytes())
        await alice.send("", files=[uploaded.json()], timeout=240)
        await alice.wait_for(lambda m: "Indexed harbour-guide.pdf" in m.get("output", ""))
        owner_actions = await open_panel(alice)
        removal = next(a for a in owner_actions if a["name"] == "remove_document")  # the owner may
        alice.answer_ask = lambda ask: alice.user_message(MEMBER)
        invite = next(a for a in owner_actions if a["name"] == "invite_member")
        assert (await alice.call_action(invite)).status_code == 200
        await alice.wait_for(lambda m: f"{MEMBER} can now use" in m.get("output", ""))

        async with ChatSession(server.url, await sign_in(server.url, MEMBER, PASSWORD)) as bob:
            await bob.change_settings({"project": f"My project (shared by {OWNER})", "private_chat": False})
            member_actions = await open_panel(bob)
            assert "Switched to the project My project" in bob.toasts[-1]["message"]
            assert not [a for a in member_actions if a["name"] == "remove_document"]

            # Pressing the owner's button anyway (a forged request) is refused, and the document stays.
            assert (await bob.call_action(removal)).status_code == 200
            await bob.wait_for(lambda m: f"Only the owner ({OWNER}) can change" in m.get("output", ""))
        panel = await alice.send("show", command="Projects")
        assert "harbour-guide.pdf" in panel["output"]

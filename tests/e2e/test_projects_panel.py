"""The Projects panel over socket.io: only a project's owner is offered, and allowed, to change it,
and a project its owner made private keeps its members' chats on this machine.

The cloud model is GPT through the real `openai` client, served by the fake of OpenAI's wire
protocol running in this test's event loop; the local model is the real embedded one.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.support.app_server import chat_users
from tests.support.cloud_app import cloud_app_fixtures
from tests.support.knowledge_pdfs import HARBOUR_GUIDE, make_pdf
from tests.support.socketio_client import ChatSession, sign_in

pytestmark = pytest.mark.e2e

PASSWORD = "pw-for-panel-1"
OWNER, MEMBER = "alice@example.com", "bob@example.com"
PRIVATE_OWNER, PRIVATE_MEMBER = "carol@example.com", "dave@example.com"  # their own project, apart from alice's
CLOUD_PROFILE = "GPT-4.1 mini"
USERS = dict.fromkeys((OWNER, MEMBER, PRIVATE_OWNER, PRIVATE_MEMBER), PASSWORD)

cloud, server = cloud_app_fixtures("panel", {"CHAT_USERS": chat_users(USERS), "MAX_OUTPUT_TOKENS": "24"},
                                   app_name="server")


async def open_panel(chat: ChatSession) -> tuple[str, list[dict]]:
    """Send the Projects command; the panel's text and its actions."""
    seen = len(chat.actions)
    panel = await chat.send("show", command="Projects")
    return panel["output"], [action for action in chat.actions[seen:] if action["forId"] == panel["id"]]


def action(actions: list[dict], name: str) -> dict:
    return next(a for a in actions if a["name"] == name)


async def route_of(chat: ChatSession, text: str) -> str:
    """Send a message; its own route step's text, once the answer is complete (what it says is up to the model).

    Waits for a route step this message created: a late task event of an earlier turn can end `send` early.
    """
    earlier = {m["id"] for m in chat.messages if m.get("name") == "Route"}
    await chat.send(text)
    await chat.wait_for(lambda m: m.get("name") == "Route" and m["id"] not in earlier
                        and "Total:" in (m.get("output") or ""))
    return chat.route_output()


async def invite(owner: ChatSession, actions: list[dict], member: str) -> None:
    """Press the panel's "Invite by e-mail" and answer its question with `member`."""
    owner.answer_ask = lambda ask: owner.user_message(member)
    assert (await owner.call_action(action(actions, "invite_member"))).status_code == 200
    await owner.wait_for(lambda m: f"{member} can now use" in m.get("output", ""))


async def test_members_are_neither_offered_nor_allowed_to_remove_a_document(server, tmp_path):
    (tmp_path / "harbour-guide.pdf").write_bytes(make_pdf(HARBOUR_GUIDE))
    async with ChatSession(server.url, await sign_in(server.url, OWNER, PASSWORD)) as alice:
        uploaded = await alice.upload("harbour-guide.pdf", (tmp_path / "harbour-guide.pdf").read_bytes())
        await alice.send("", files=[uploaded.json()], timeout=240)
        await alice.wait_for(lambda m: "Indexed harbour-guide.pdf" in m.get("output", ""))
        _, owner_actions = await open_panel(alice)
        removal = action(owner_actions, "remove_document")  # the owner may
        await invite(alice, owner_actions, MEMBER)

        async with ChatSession(server.url, await sign_in(server.url, MEMBER, PASSWORD)) as bob:
            await bob.change_settings({"project": f"My project (shared by {OWNER})", "private_chat": False})
            _, member_actions = await open_panel(bob)
            assert "Switched to the project My project" in bob.toasts[-1]["message"]
            assert not [a for a in member_actions if a["name"] == "remove_document"]

            # Pressing the owner's button anyway (a forged request) is refused, and the document stays.
            assert (await bob.call_action(removal)).status_code == 200
            await bob.wait_for(lambda m: f"Only the owner ({OWNER}) can change" in m.get("output", ""))
        panel, _ = await open_panel(alice)
        assert "harbour-guide.pdf" in panel


async def test_the_owner_makes_a_project_private_and_its_members_chats_stay_local_from_their_next_message(
        server, cloud):
    async with ChatSession(server.url, await sign_in(server.url, PRIVATE_OWNER, PASSWORD)) as carol:
        panel, owner_actions = await open_panel(carol)
        assert "**Privacy:** cloud models may answer in this project" in panel
        make_private = action(owner_actions, "set_project_private")
        assert make_private["label"] == "Make private"
        await invite(carol, owner_actions, PRIVATE_MEMBER)

        cookies = await sign_in(server.url, PRIVATE_MEMBER, PASSWORD)
        async with ChatSession(server.url, cookies, chat_profile=CLOUD_PROFILE) as dave:
            await dave.change_settings({"project": f"My project (shared by {PRIVATE_OWNER})", "private_chat": False})
            assert (await route_of(dave, "Name one colour.")).startswith("Route: cloud")  # the project allows it
            await asyncio.to_thread(server.wait_for_local_model)

            assert (await carol.call_action(make_private)).status_code == 200
            await carol.wait_for(lambda m: "**My project** is now private" in m.get("output", ""))
            panel, owner_actions = await open_panel(carol)
            assert "**Privacy:** private, only models on this machine answer in this project" in panel
            allow_cloud = action(owner_actions, "set_project_private")
            assert allow_cloud["label"] == "Allow cloud models"

            # The member sees the state but gets no switch, and pressing the owner's anyway is refused.
            panel, member_actions = await open_panel(dave)
            assert "**Privacy:** private, only models on this machine answer in this project" in panel
            assert not [a for a in member_actions if a["name"] == "set_project_private"]
            assert (await dave.call_action(allow_cloud)).status_code == 200
            await dave.wait_for(lambda m: f"Only the owner ({PRIVATE_OWNER}) can change" in m.get("output", ""))

            sent_to_cloud = len(cloud.generation_requests())
            route = await route_of(dave, "Name one colour.")
            assert route.startswith("Route: local") and "this project is marked private" in route, route
            assert len(cloud.generation_requests()) == sent_to_cloud, "nothing reached the cloud"

            assert (await carol.call_action(allow_cloud)).status_code == 200
            await carol.wait_for(lambda m: "**My project** is no longer private" in m.get("output", ""))
            assert (await route_of(dave, "Name one colour.")).startswith("Route: cloud")

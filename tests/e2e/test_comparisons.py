"""Labels from use over chainlit's socket.io protocol: comparing a local with a cloud answer, thumbs, privacy.

The cloud model is GPT through the real `openai` client, served by the scripted fake of OpenAI's
wire protocol in this test's event loop (it records every request, so "nothing reached the cloud"
is checked, not assumed); the local model is the real embedded one. Labels are read back from the
app's own database, and exported with the real command.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid

import httpx
import pytest

from persistence import create_engine, list_comparisons, list_thumbs
from tests.support.app_server import REPO, AppServer, chat_users
from tests.support.cloud_app import app_on_fake_cloud, fake_openai
from tests.support.socketio_client import ChatSession, sign_in

pytestmark = pytest.mark.e2e

PASSWORD = "pw-for-labels-1"
USERS = {"alice": PASSWORD, "bob": PASSWORD, "carol": PASSWORD, "dave": PASSWORD}
LOCAL_PROFILE = "SmolLM2 135M (Foundry Local)"
CLOUD_PROFILE = "GPT-4.1 mini"
CLOUD_ANSWER = "Hello, world!"  # the fake's default reply



@pytest.fixture(scope="module")
async def cloud():
    async with fake_openai() as server:
        yield server


@pytest.fixture(scope="module")
async def app(cloud, tmp_path_factory):
    """The app (alice is its admin) with a small shipped training set, so that retraining takes seconds."""
    shared = tmp_path_factory.mktemp("shared-data")
    (shared / "router").mkdir()
    (shared / "router" / "train_mmlu_gsm8k.jsonl").write_text("".join(
        json.dumps({"id": f"mmlu-algebra-{i:03d}", "prompt": f"Solve for x: {i}x + {i + 1} = {3 * i}.",
                    "strong_correct": True, "weak_correct": i % 3 == 0, "source": "mmlu"}) + "\n"
        for i in range(1, 41)))
    env = {"CHAT_USERS": chat_users(USERS), "MAX_OUTPUT_TOKENS": "24", "SHARED_DATA_DIR": str(shared)}
    async with app_on_fake_cloud(tmp_path_factory.mktemp("comparisons"), cloud, env,
                                 wait_for_local_model=True) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_script(cloud):
    cloud.script.clear()
    cloud.requests.clear()


def actions_for(chat: ChatSession, message: dict, name: str = "compare_models") -> list[dict]:
    return [a for a in chat.actions if a["forId"] == message["id"] and a["name"] == name]


def choose(chat: ChatSession, ask: dict, choice: str) -> dict:
    """Answer the verdict question as the button `choice` ("first", "second", "both") does."""
    return next(a for a in chat.actions if a["id"] in ask["spec"]["keys"] and a["payload"]["choice"] == choice)


async def stored(app: AppServer, read):
    engine = create_engine(f"sqlite+aiosqlite:///{app.data_dir / 'hybrid_chat.db'}")
    try:
        return await read(engine)
    finally:
        await engine.dispose()


async def rate(app: AppServer, cookies: dict, step_id: str, value: int) -> int:
    """Thumbs up (1) or down (0) as the browser sends it; the status code. Waits until the answer is saved."""
    async with httpx.AsyncClient(base_url=app.url, cookies=cookies, timeout=30) as http:
        for _ in range(100):
            response = await http.put("/feedback", json={"feedback": {"forId": step_id, "value": value},
                                                          "sessionId": "s"})
            if response.status_code != 500:  # 500: chainlit has not stored the answer yet
                return response.status_code
            await asyncio.sleep(0.2)
    return response.status_code


async def test_a_stronger_models_answer_on_a_local_answer_and_the_users_verdict_is_stored_and_exported(app, cloud):
    cookies = await sign_in(app.url, "alice", PASSWORD)
    async with ChatSession(app.url, cookies, chat_profile=LOCAL_PROFILE) as chat:
        first = await chat.send("Name a colour.")
        (ask_stronger,) = actions_for(chat, first)
        assert ask_stronger["label"] == "Ask a stronger model"
        assert cloud.generation_requests() == [], "the first answer is local"

        chat.answer_ask = lambda ask: choose(chat, ask, "second")
        assert (await chat.call_action(ask_stronger)).status_code == 200
        await chat.wait_for(lambda m: "Thank you, noted" in (m.get("output") or ""))

        (request,) = cloud.generation_requests()
        assert request.body["messages"][-1] == {"role": "user", "content": "Name a colour."}, "the same turn"
        assert any(m.get("output") == CLOUD_ANSWER for m in chat.messages), "the second answer is shown"
        (ask,) = chat.asks
        assert "Which answer was better: the first (SmolLM2 135M (Foundry Local)) or the second (GPT-4.1 mini)?" \
            in ask["msg"]["output"]
        assert "teaches this app's router" in ask["msg"]["output"]

    (comparison,) = await stored(app, list_comparisons)
    assert (comparison.user_identifier, comparison.first_step_id, comparison.prompt, comparison.first_route,
            comparison.preference, comparison.local_model, comparison.cloud_model) == (
        "alice", first["id"], "Name a colour.", "local", "cloud", "smollm2-135m", "gpt-4.1-mini")

    out = app.data_dir / "export.jsonl"
    subprocess.run([sys.executable, "-m", "router.training.export_feedback", "--out", str(out)], cwd=REPO,
                   env={**os.environ, "DATA_DIR": str(app.data_dir)}, check=True, capture_output=True, timeout=120)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["prompt"], r["strong_score"], r["weak_score"]) for r in rows if r["source"] == "feedback-comparison"] \
        == [("Name a colour.", 1.0, 0.0)]


async def test_a_thumb_is_stored_with_the_model_and_route_of_the_answer_and_only_its_user_may_give_it(app):
    alice = await sign_in(app.url, "alice", PASSWORD)
    async with ChatSession(app.url, alice, chat_profile=LOCAL_PROFILE) as chat:
        answer = await chat.send("Say one word.")
    assert await rate(app, alice, answer["id"], 0) == 200
    assert await rate(app, await sign_in(app.url, "bob", PASSWORD), answer["id"], 1) == 404
    thumbs = [t for t in await stored(app, list_thumbs) if t.step_id == answer["id"]]
    assert [(t.user_identifier, t.prompt, t.model, t.route, t.value) for t in thumbs] == [
        ("alice", "Say one word.", "smollm2-135m", "local", 0)]


async def test_a_private_chat_offers_no_cloud_comparison_and_a_forged_one_sends_nothing_to_the_cloud(app, cloud):
    cookies = await sign_in(app.url, "bob", PASSWORD)
    async with ChatSession(app.url, cookies, chat_profile=LOCAL_PROFILE) as chat:
        await chat.change_settings({"project": "My project", "private_chat": True})
        first = await chat.send("Name a colour.")
        assert actions_for(chat, first) == [], "not offered"

        forged = {"id": str(uuid.uuid4()), "name": "compare_models", "payload": {"step_id": first["id"]},
                  "label": "Ask a stronger model", "forId": first["id"]}
        assert (await chat.call_action(forged)).status_code == 200
        refusal = await chat.wait_for(lambda m: (m.get("output") or "").startswith("No second answer"))
        assert "this chat is marked private" in refusal["output"]
        assert "never sent to a cloud model" in refusal["output"]
    assert cloud.generation_requests() == []
    assert [c for c in await stored(app, list_comparisons) if c.user_identifier == "bob"] == []


async def test_try_locally_on_a_cloud_answer_asks_in_the_browsers_language(app, cloud):
    cookies = await sign_in(app.url, "carol", PASSWORD)
    async with ChatSession(app.url, cookies, chat_profile=CLOUD_PROFILE, language="id-ID") as chat:
        first = await chat.send("Sebutkan satu warna.")
        assert first["output"] == CLOUD_ANSWER
        (try_locally,) = actions_for(chat, first)
        assert try_locally["label"] == "Coba secara lokal"

        chat.answer_ask = lambda ask: choose(chat, ask, "both")
        assert (await chat.call_action(try_locally)).status_code == 200
        await chat.wait_for(lambda m: "Terima kasih" in (m.get("output") or ""))
        assert "Pilihan Anda mengajari router" in chat.asks[0]["msg"]["output"]
        assert len(cloud.generation_requests()) == 1, "the second answer is local"

    (comparison,) = [c for c in await stored(app, list_comparisons) if c.user_identifier == "carol"]
    assert (comparison.first_route, comparison.preference, comparison.local_model, comparison.cloud_model) == (
        "cloud", "both", "smollm2-135m", "gpt-4.1-mini")


async def test_preferring_the_second_answer_makes_it_the_one_the_conversation_continues_from(app, cloud):
    cookies = await sign_in(app.url, "dave", PASSWORD)
    async with ChatSession(app.url, cookies, chat_profile=CLOUD_PROFILE) as chat:
        first = await chat.send("Name a colour.")
        (try_locally,) = actions_for(chat, first)
        seen = len(chat.messages)
        chat.answer_ask = lambda ask: choose(chat, ask, "second")
        assert (await chat.call_action(try_locally)).status_code == 200
        await chat.wait_for(lambda m: "Thank you, noted" in (m.get("output") or ""))
        second_id = next(m["id"] for m in chat.messages[seen:] if m.get("type") == "assistant_message")
        second_text = [m["output"] for m in chat.messages if m["id"] == second_id][-1]
        await chat.send("And another one?")

    *_, follow_up = cloud.generation_requests()
    assert follow_up.body["messages"][-3:] == [
        {"role": "user", "content": "Name a colour."},
        {"role": "assistant", "content": second_text},
        {"role": "user", "content": "And another one?"},
    ], "the local answer the user preferred replaced the cloud's in what the next model reads"


def commands_offered(chat: ChatSession) -> set[str]:
    return {command["id"] for frame in chat.commands for command in frame}


async def test_only_an_admin_may_retrain_the_router(app):
    async with ChatSession(app.url, await sign_in(app.url, "bob", PASSWORD)) as chat:
        assert "Retrain router" not in commands_offered(chat)
        refused = await chat.send("now", command="Retrain router")
        assert refused["output"] == "Only admins can retrain the router."
    assert not (app.data_dir / "router" / "complexity_weights.npz").exists()


async def test_an_admin_retrains_the_router_on_the_shipped_data_and_the_deployments_labels(app):
    async with ChatSession(app.url, await sign_in(app.url, "alice", PASSWORD)) as chat:
        assert "Retrain router" in commands_offered(chat)
        await chat.send("now", command="Retrain router", timeout=600)
        report = await chat.wait_for(lambda m: (m.get("output") or "").startswith(("Retrained", "⚠️ Retraining")))
        assert report["output"].startswith("Retrained the router"), report["output"]
        assert "the app loads them at the next start" in report["output"]
    assert (app.data_dir / "router" / "complexity_weights.npz").stat().st_size > 0
    assert (app.data_dir / "router" / "feedback.jsonl").exists()

"""The gateway inside the real app with a cloud model: what a client is charged, and how a fallback reads.

The cloud model is GPT through the real `openai` client, served by the scripted fake of
OpenAI's wire protocol running in this test's event loop; the local model is the real
embedded one. Every user has a tiny daily token budget, so "was it charged?" is also
"may it still use the cloud?".
"""

from __future__ import annotations

import asyncio
import re
import time

import openai
import pytest

from tests.support.app_server import AppServer
from tests.support.cloud_app import cloud_app_fixtures
from tests.support.fake_servers import Reply
from persistence import create_engine, database_url, usage_summary
from settings import Settings

CLOUD, LOCAL = "gpt-4.1-mini", "smollm2-135m"
USERS = ("svc-disconnect", "svc-fallback", "svc-fallback-json", "svc-sampling")
KEYS = {user: f"{user}-key-0123456789abcdef" for user in USERS}
SEAM = re.compile(r"\[… continued by SmolLM2 135M \(Foundry Local\)\]")
#: Words of the internal continuation instruction that must never reach the answer.
INSTRUCTION = re.compile(r"previous answer|cut off|technical problem|where it stopped", re.IGNORECASE)

cloud, app = cloud_app_fixtures(
    "gateway-cloud", {"GATEWAY_API_KEYS": ",".join(f"{key}:{user}" for user, key in KEYS.items()),
                      "MAX_RETRIES": "0", "DAILY_TOKEN_BUDGET": "1"},
    wait_for_local_model=True,
)


@pytest.fixture(autouse=True)
def fresh_script(cloud):
    cloud.script.clear()
    cloud.requests.clear()


def client(app: AppServer, user: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key=KEYS[user], base_url=app.url + "/v1", max_retries=0, timeout=120)


async def usage_of(app: AppServer, user: str, timeout_s: float = 60) -> tuple[int, int, float]:
    """(prompt tokens, completion tokens, cost) recorded for `user`, waiting for the first row."""
    engine = create_engine(database_url(Settings(DATA_DIR=str(app.data_dir))))
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            rows = await usage_summary(engine, user)
            if rows or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()
    assert rows, f"no usage was recorded for {user}"
    return sum(r.prompt_tokens for r in rows), sum(r.completion_tokens for r in rows), sum(r.cost_usd for r in rows)


async def test_a_client_that_disconnects_mid_stream_is_charged_for_what_was_generated(app, cloud):
    answer = Reply(chunks=tuple(f"tok{i} " for i in range(12)), hold_after=4)  # still generating after 4
    cloud.script = [answer]
    user = "svc-disconnect"
    stream = await client(app, user).chat.completions.create(
        model=CLOUD, messages=[{"role": "user", "content": "Explain a hash map."}], stream=True,
    )
    read = ""
    async for chunk in stream:
        read += chunk.choices[0].delta.content or ""
        if read.count("tok") == 3:
            break
    await stream.close()  # the client goes away while the model is still generating

    try:
        prompt, completion, cost = await usage_of(app, user)
    finally:
        answer.release.set()
    assert completion >= len(read) // 4 and prompt > 0, "what the model generated is billed (estimated)"
    assert cost > 0, "GPT has a price"
    after = await client(app, user).chat.completions.create(model=CLOUD, messages=[{"role": "user", "content": "Hi."}])
    assert after.model == LOCAL, "the charge spent the daily budget: the next request stays local"
    assert any("daily budget" in reason for reason in after.x_hybrid["reasons"])


CUT_OFF = Reply(chunks=("The", " rest never arrives"), drop_after=1)  # the cloud breaks off after "The"
QUESTION = [{"role": "user", "content": "Explain what a hash map is."}]


async def test_a_mid_answer_fallback_stream_marks_the_seam_and_names_every_model(app, cloud):
    cloud.script = [CUT_OFF]
    raw = await client(app, "svc-fallback").chat.completions.with_raw_response.create(
        model=CLOUD, messages=QUESTION, stream=True, temperature=0, max_tokens=60,
    )
    chunks = [chunk async for chunk in raw.parse()]

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("The [… continued by SmolLM2 135M (Foundry Local)]"), text
    assert not INSTRUCTION.search(text), f"the internal instruction stays out of the answer: {text!r}"
    # Headers go out before the first token: they name the model the answer starts with, as its chunks do.
    assert raw.headers["x-hybrid-model"] == chunks[0].model == CLOUD
    by_model = [(c.model, c.choices[0].delta.content) for c in chunks if c.choices and c.choices[0].delta.content]
    seam = next(i for i, (_, content) in enumerate(by_model) if SEAM.search(content))
    assert [model for model, _ in by_model] == [CLOUD] * seam + [LOCAL] * (len(by_model) - seam)
    final = chunks[-1]
    assert final.model == LOCAL and final.x_hybrid["models"] == [CLOUD, LOCAL]


async def test_a_mid_answer_fallback_completion_names_the_same_model_in_header_and_body(app, cloud):
    cloud.script = [CUT_OFF]
    raw = await client(app, "svc-fallback-json").chat.completions.with_raw_response.create(
        model=CLOUD, messages=QUESTION, temperature=0, max_tokens=60,
    )
    completion = raw.parse()

    text = completion.choices[0].message.content
    assert SEAM.search(text) and not INSTRUCTION.search(text), text
    assert raw.headers["x-hybrid-model"] == completion.model == LOCAL, "the model that finished the answer"
    assert completion.x_hybrid["models"] == [CLOUD, LOCAL]


async def test_the_clients_sampling_parameters_reach_the_provider(app, cloud):
    await client(app, "svc-sampling").chat.completions.create(
        model=CLOUD, messages=QUESTION, temperature=0.2, top_p=0.3, max_tokens=40,
    )
    (request,) = cloud.generation_requests()
    assert (request.body["temperature"], request.body["top_p"]) == (0.2, 0.3)
    assert request.body["max_tokens"] == 40

"""The thinnest async Chainlit app on the peer harness's fake provider: what Chainlit itself costs.

`bench_concurrency.py` runs it beside Hybrid Chat and the Module08 sample: an async OpenAI client,
every token sent as it comes, no data layer, no routing. Its N-user / 1-user ratio is the floor
any Chainlit app reaches on this machine with this client.
"""

import os

import chainlit as cl
from openai import AsyncOpenAI

client = AsyncOpenAI(base_url=os.environ["BASE_URL"] + "/v1", api_key="not-required")


@cl.password_auth_callback
def sign_in(username: str, password: str) -> cl.User:
    return cl.User(identifier=username)


@cl.on_message
async def answer(message: cl.Message) -> None:
    reply = cl.Message(content="")
    stream = await client.chat.completions.create(
        model="fake", messages=[{"role": "user", "content": message.content}], stream=True)
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            await reply.stream_token(chunk.choices[0].delta.content)
    await reply.update()

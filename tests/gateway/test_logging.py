"""The gateway's log lines: the client's request id on every line of a request, the user's data hidden."""

from __future__ import annotations

import io
import json
import logging

import openai
import pytest

from operations.request_logs import JsonFormatter
from tests.support.fake_servers import Fail
from tests.support.gateway_server import EMAIL_USER, EMAIL_USER_KEY, LOCAL_MODEL

PHONE = "+62 812 3456 7890"
OPENAI_KEY = "sk-proj-Zx9Yw8Vu7Ts6Rq5Po4Nm"


def _capture() -> tuple[io.StringIO, logging.Handler]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    return stream, handler


async def test_a_requests_log_lines_share_its_id_and_hide_the_users_data(running):
    stream, handler = _capture()
    loggers = [logging.getLogger(name) for name in ("hybrid_chat", "router")]
    levels = [logger.level for logger in loggers]
    root = logging.getLogger()
    root.addHandler(handler)
    for logger in loggers:
        logger.setLevel(logging.INFO)
    prompt = f"My number is {PHONE} and my key is {OPENAI_KEY}; summarise."
    # The provider's failure is logged by the router, under the same request id.
    running.local.default = Fail(400, message=f"cannot process: {prompt}")
    try:
        client = running.client(EMAIL_USER_KEY, default_headers={"X-Request-ID": "req-test-42"})
        with pytest.raises(openai.APIStatusError):
            await client.chat.completions.create(
                model=LOCAL_MODEL, messages=[{"role": "user", "content": prompt}], user="jane.doe@example.com",
            )
    finally:
        root.removeHandler(handler)
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    mine = [e for e in entries if e["request_id"] == "req-test-42"]
    assert {e["logger"] for e in mine} >= {"hybrid_chat.gateway", "router.executor"}, entries
    assert any(e["message"].startswith("chat completion for [email] (end user [email])") for e in mine), mine
    text = stream.getvalue()
    for leaked in (EMAIL_USER, "jane.doe", "812 3456 7890", OPENAI_KEY, EMAIL_USER_KEY):
        assert leaked not in text

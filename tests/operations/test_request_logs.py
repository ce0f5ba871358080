"""Log lines carry the request id and never personal data or secrets."""

from __future__ import annotations

import io
import json
import logging

import pytest

from operations.request_logs import JsonFormatter, bind_request_id, redact, request_id

EMAIL_USER = "carol.jones@example.com"
PHONE = "+62 812 3456 7890"
CARD = "4111 1111 1111 1111"
OPENAI_KEY = "sk-proj-Zx9Yw8Vu7Ts6Rq5Po4Nm"


@pytest.mark.parametrize(("raw", "hidden", "shown"), [
    ("write to jane.doe@example.com today", "jane.doe@example.com", "[email]"),
    (f"call me on {PHONE}", "812 3456", "[phone]"),
    (f"card {CARD} please", "4111", "[payment_card]"),
    (f"key {OPENAI_KEY}", OPENAI_KEY, "[secret]"),
    ("gateway key hc-AbCdEfGhIjKlMnOpQrStUv", "hc-AbCdEfGh", "[secret]"),
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x.y", "eyJhbGciOiJIUzI1NiJ9", "[secret]"),
    ("connecting to postgresql://chat:s3cret-pw@db/chat", "s3cret-pw", "[secret]"),
    ("login failed: password=hunter2", "hunter2", "[secret]"),
])
def test_redaction_hides_personal_data_and_secrets(raw, hidden, shown):
    cleaned = redact(raw)
    assert hidden not in cleaned and shown in cleaned


def test_ordinary_text_and_this_machines_addresses_are_left_alone():
    for text in ("routed to ollama: strong win rate 0.12 < threshold 0.40, 11+4 tokens, max_tokens=256",
                 "Your app is available at http://127.0.0.1:8000 (listening on 0.0.0.0)"):
        assert redact(text) == text
    assert redact("request from 203.0.113.7") == "request from [ip_address]"


def _capture() -> tuple[io.StringIO, logging.Handler]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    return stream, handler


def test_a_json_line_has_time_level_logger_request_id_and_a_redacted_traceback():
    stream, handler = _capture()
    logger = logging.getLogger("hybrid_chat.test_json")
    logger.addHandler(handler)
    try:
        token = request_id.set("req-unit-1")
        try:
            raise ValueError(f"bad value from {EMAIL_USER}")
        except ValueError:
            logger.exception("failed for %s", EMAIL_USER)
        finally:
            request_id.reset(token)
    finally:
        logger.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert entry["level"] == "ERROR" and entry["logger"] == "hybrid_chat.test_json"
    assert entry["request_id"] == "req-unit-1" and entry["time"].endswith("+00:00")
    assert entry["message"] == "failed for [email]"
    assert "ValueError" in entry["error"] and EMAIL_USER not in stream.getvalue()


def test_a_client_request_id_is_kept_only_when_it_looks_like_one():
    assert bind_request_id("req-abc_123.4") == "req-abc_123.4"
    generated = bind_request_id("no spaces or\nnewlines allowed")
    assert len(generated) == 32 and request_id.get() == generated


def test_a_line_the_privacy_scan_cannot_check_is_masked_whole(monkeypatch):
    def broken(_text):
        raise RuntimeError("scanner bug")

    monkeypatch.setattr("router.privacy._candidates", broken)
    assert redact("Budi Santoso, Jalan Merdeka 12, NIK 3174055708900002") == "[unscanned]"

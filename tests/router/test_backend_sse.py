"""The server-sent events parser the OpenAI-compatible backend reads its streams with."""

from __future__ import annotations

from router.backends._sse import event_data


async def _lines(*lines: str):
    for line in lines:
        yield line


async def _events(*lines: str) -> list[str]:
    return [data async for data in event_data(_lines(*lines))]


async def test_each_event_is_its_data_lines_joined_without_the_optional_space():
    assert await _events('data: {"a": 1}', "", "data:[DONE]", "") == ['{"a": 1}', "[DONE]"]
    assert await _events("data: first", "data:  second", "") == ["first\n second"]


async def test_comments_other_fields_and_empty_events_are_skipped():
    assert await _events(": keep-alive", "", "event: message", "id: 7", "data: x", "", "", "retry: 10", "") == ["x"]


async def test_a_stream_cut_before_its_last_blank_line_still_delivers_its_last_event():
    assert await _events("data: one", "", "data: two") == ["one", "two"]

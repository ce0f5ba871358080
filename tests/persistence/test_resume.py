"""Stored steps back into the router's conversation history."""

from persistence import Turn, conversation_turns


def test_turns_keep_order_and_skip_tool_steps_and_empty_answers():
    steps = [
        {"type": "assistant_message", "output": "Hi! How can I help?", "createdAt": "2026-01-01T00:00:01.000000Z"},
        {"type": "user_message", "output": "Second question", "createdAt": "2026-01-01T00:00:04.000000Z"},
        {"type": "user_message", "output": "First question", "createdAt": "2026-01-01T00:00:02.000000Z"},
        {"type": "tool", "output": "route: local", "createdAt": "2026-01-01T00:00:02.500000Z"},
        {"type": "assistant_message", "output": "First answer", "createdAt": "2026-01-01T00:00:03.000000Z"},
        {"type": "assistant_message", "output": "  ", "createdAt": "2026-01-01T00:00:05.000000Z"},
    ]
    assert conversation_turns(steps) == [
        Turn("assistant", "Hi! How can I help?"), Turn("user", "First question"),
        Turn("assistant", "First answer"), Turn("user", "Second question"),
    ]
    assert conversation_turns([]) == []

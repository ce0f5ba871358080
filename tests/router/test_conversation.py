from router.conversation import ENGLISH_PRACTICE_MODE, GENERAL_MODE, SYSTEM_PROMPTS, build_messages
from router.types import ChatMessage


def turns(n: int, size: int = 30) -> list[ChatMessage]:
    history = []
    for i in range(n):
        history += [ChatMessage("user", f"question {i} " + "q" * size), ChatMessage("assistant", f"answer {i} " + "a" * size)]
    return history


def test_keeps_every_earlier_turn_when_it_fits():
    history = turns(3)
    messages = build_messages(history, "next?", context_length=8192, max_output_tokens=512)
    assert messages[0] == ChatMessage("system", SYSTEM_PROMPTS[GENERAL_MODE])
    assert list(messages[1:-1]) == history
    assert messages[-1] == ChatMessage("user", "next?")


def test_drops_the_oldest_turns_first_and_never_starts_with_an_assistant_turn():
    history = turns(50, size=300)
    messages = build_messages(history, "next?", context_length=2048, max_output_tokens=512)
    kept = list(messages[1:-1])
    assert 0 < len(kept) < len(history)
    assert kept == history[-len(kept):]
    assert kept[0].role == "user"


def test_english_practice_mode_uses_the_tutor_prompt():
    messages = build_messages([], "I goes home", mode=ENGLISH_PRACTICE_MODE, context_length=4096, max_output_tokens=256)
    assert "English tutor" in messages[0].content
    assert "error" in messages[0].content


def test_knowledge_excerpts_are_numbered_in_the_system_prompt():
    sources = [("guide.pdf, p. 3", "Paris is the capital."), ("notes.pdf, p. 1", "Rome is old.")]
    messages = build_messages([], "capital?", context_length=4096, max_output_tokens=256, sources=sources)
    system = messages[0].content
    assert "[1] (guide.pdf, p. 3)\nParis is the capital." in system
    assert "[2] (notes.pdf, p. 1)\nRome is old." in system
    assert system.index("[1]") < system.index("[2]")

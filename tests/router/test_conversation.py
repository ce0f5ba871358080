import pytest

from router.conversation import (
    ENGLISH_PRACTICE_MODE, GENERAL_MODE, SYSTEM_PROMPTS, build_messages, fit_to_context, fits, message_tokens,
)
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


def test_a_clients_conversation_keeps_its_leading_system_messages_and_last_message_and_drops_the_oldest_turns():
    system = [ChatMessage("system", "Be brief."), ChatMessage("system", "Answer in English.")]
    history = turns(50, size=300)
    last = ChatMessage("user", "next?")
    kept = fit_to_context([*system, *history, last], context_length=2048, max_output_tokens=512)
    assert list(kept[:2]) == system and kept[-1] == last
    middle = list(kept[2:-1])
    assert 0 < len(middle) < len(history) and middle == history[-len(middle):] and middle[0].role == "user"
    assert fits(kept, context_length=2048, max_output_tokens=512)


def test_system_messages_and_a_last_message_too_long_on_their_own_do_not_fit():
    messages = [ChatMessage("system", "s" * 3000), *turns(3), ChatMessage("user", "u" * 3000)]
    kept = fit_to_context(messages, context_length=2048, max_output_tokens=512)
    assert kept == (messages[0], messages[-1])
    assert not fits(kept, context_length=2048, max_output_tokens=512)


@pytest.mark.parametrize("text", [
    "The quick brown fox jumps over the lazy dog.",
    "Turn 1234: tell me about colour number 1234.",
    "My NIK is 3174055708900002, call +62 812 3456 7890.",
    "def f(x):\n    return x**2 + 1  # see https://example.com/a?b=c",
    "漢字は難しいですね。今日は良い天気です。",
    "Café crème brûlée à la française, déjà vu.",
])
def test_the_estimate_is_never_below_the_embedded_models_real_token_count(text):
    from tokenizers import Tokenizer

    from router.embedded_model import embedded_model_dir
    from settings import get_settings

    tokenizer = Tokenizer.from_file(str(embedded_model_dir(get_settings().models_dir) / "tokenizer.json"))
    real = len(tokenizer.encode(f"<|im_start|>user\n{text}<|im_end|>\n").ids)
    assert message_tokens(ChatMessage("user", text)) >= real

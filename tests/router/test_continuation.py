"""Joining a fallback's continuation to a cut-off answer: the marker, and echoes of the instruction kept out."""

from __future__ import annotations

import pytest

from router.continuation import CONTINUE_INSTRUCTION, Seam, echoes_instruction

#: What the embedded SmolLM2 wrote when asked to continue (it rewords the instruction, or repeats it).
SMOLLM2_ECHOES = [
    "The previous answer was cut off by a technical problem.",
    "Continue it from exactly where it stopped, without repeating any",
    "Continue the conversation at exactly where it stopped.",
    "The previous answer was cut off by a technical problem, and continue the conversation without repeating "
    "a single word, so to speak",
    CONTINUE_INSTRUCTION,
]
OWN_WORDS = ["and it was a problem from the start.", "The capital of France is Paris.", "was cut off by the flood.",
             "I'm sorry for the inconvenience.", "The previous answer"]


@pytest.mark.parametrize("sentence", SMOLLM2_ECHOES)
def test_echoes_of_the_instruction_are_recognised(sentence):
    assert echoes_instruction(sentence)


@pytest.mark.parametrize("sentence", OWN_WORDS)
def test_the_models_own_sentences_are_not_taken_for_echoes(sentence):
    assert not echoes_instruction(sentence)


def test_the_start_is_held_until_its_first_sentence_is_complete_then_passes_through():
    seam = Seam("Local", "Hello,")
    assert seam.feed("Your previous answer was cut off ") == ""
    assert seam.feed("by a technical problem. the world") == ""
    assert seam.feed("! How are") == " [… continued by Local] the world! How are"
    assert seam.feed(" you?") == " you?"
    assert seam.end() == ""


def test_a_continuation_that_was_only_an_echo_still_shows_the_marker():
    seam = Seam("Local", "Hello, ")
    assert seam.feed("The previous answer was cut off by a technical problem.") == ""
    assert seam.end() == "[… continued by Local] ", "no double space after a partial ending in one"


def test_a_long_first_sentence_is_not_held_back_for_ever():
    seam = Seam("Local", "x")
    assert seam.feed("word " * (len(CONTINUE_INSTRUCTION) // 5 + 1)).startswith(" [… continued by Local] word")

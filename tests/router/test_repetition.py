"""The repetition guard: loops are stopped before they are shown; good answers pass unchanged."""

from __future__ import annotations

import pytest

from router.repetition import RepetitionGuard, is_looping


def streamed(text: str, piece: int = 3) -> tuple[str, bool]:
    """What the guard shows of `text` streamed in small pieces, and whether it found a loop."""
    guard = RepetitionGuard()
    shown = "".join(guard.feed(text[i:i + piece]) for i in range(0, len(text), piece)) + guard.finish()
    return shown, guard.looping


GOOD_ANSWERS = [
    "1. Boil water in a pot.\n2. Add the egg to the pot.\n3. Wait ten minutes.\n\nEnjoy your egg!",
    "- Use salt\n- Use salt and pepper\n- Use salt, pepper and a little lemon\n",
    "Yes.\n\nYes.\n\nNo.\n---\n---\n",  # short lines may repeat
    "```python\nfor i in range(3):\n    print(i)\nfor i in range(3):\n    print(i)\n```\nBoth loops print 0 to 2.",
    "The ferry leaves at 7:15 and 12:30 on weekdays; on Sundays the ferry leaves at 11:00.",
    "Water evaporates, condenses into clouds and falls as rain. The rain flows into rivers, "
    "and the rivers flow into the sea, where the water evaporates again.",
]


@pytest.mark.parametrize("answer", GOOD_ANSWERS)
@pytest.mark.parametrize("piece", [1, 4, 1000])
def test_a_good_answer_passes_unchanged_however_it_is_streamed(answer, piece):
    assert streamed(answer, piece) == (answer, False)
    assert not is_looping(answer)


@pytest.mark.parametrize("piece", [1, 3, 7, 1000])
def test_a_repeated_line_is_never_shown(piece):
    loop = "Here is the schedule.\n" + "The website is 11:60; 12:30\n" * 14

    shown, looping = streamed(loop, piece)

    assert looping and is_looping(loop)
    assert shown == "Here is the schedule.\nThe website is 11:60; 12:30\n"


def test_a_numbered_list_that_repeats_its_item_is_a_loop():
    shown, looping = streamed("1. Add the egg to the pot\n2. Add the egg to the pot\n3. Add the egg to the pot\n")

    assert looping and shown == "1. Add the egg to the pot\n"


@pytest.mark.parametrize("piece", [1, 4, 1000])
def test_words_repeated_inside_one_line_stop_after_their_second_time(piece):
    loop = "Boil water, " + "then add the egg and wait for ten minutes, " * 6

    shown, looping = streamed(loop, piece)

    assert looping
    assert shown == "Boil water, " + "then add the egg and wait for ten minutes, " * 2
    assert not is_looping(shown), "what is shown is not a loop"


def test_a_line_that_starts_like_an_earlier_one_is_shown_once_it_differs():
    guard = RepetitionGuard()
    assert guard.feed("Add the salt now.\n") == "Add the salt now.\n"
    assert guard.feed("Add the ") == "", "held: it may be the same line again"
    assert guard.feed("pepper too.\n") == "Add the pepper too.\n"
    assert not guard.looping


def test_text_after_a_loop_is_dropped():
    guard = RepetitionGuard()
    guard.feed("Say it once more.\nSay it once more.\n")
    assert guard.looping
    assert guard.feed("anything else") == "" and guard.finish() == ""


def test_the_last_line_without_a_newline_is_compared_too():
    shown, looping = streamed("The answer is four.\nThe answer is four.")

    assert looping and shown == "The answer is four.\n"

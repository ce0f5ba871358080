"""The one token estimate: three characters a token, rounded up (never too low for a context window)."""

from router.tokens import estimate_tokens


def test_the_estimate_rounds_up_at_three_characters_a_token():
    assert [estimate_tokens(n) for n in (0, 1, 3, 4, 30)] == [0, 1, 1, 2, 10]

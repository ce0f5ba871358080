"""The one token estimate: letters three a token (rounded up), symbols one each, wide characters two."""

from router.tokens import estimate_tokens


def test_letters_count_three_a_token_rounded_up():
    assert [estimate_tokens("a" * n) for n in (0, 1, 3, 4, 30)] == [0, 1, 1, 2, 10]


def test_digits_symbols_and_wide_characters_count_more():
    assert estimate_tokens("1234") == 4
    assert estimate_tokens("漢字") == 4

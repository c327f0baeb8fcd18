"""RepetitionGuard: a looping tail stops the stream, ordinary text and code do not."""

from __future__ import annotations

from greenpair.core.llm.repetition import RepetitionGuard


def _feed(tokens: list[int], guard: RepetitionGuard | None = None) -> int | None:
    """Index of the token at which the guard fires (None: never)."""
    g = guard or RepetitionGuard()
    for i, t in enumerate(tokens):
        if g.feed(t):
            return i
    return None


def test_a_sentence_repeated_stops_after_three_copies() -> None:
    sentence = list(range(100, 116))  # 16 tokens
    tokens = list(range(20)) + sentence * 10
    at = _feed(tokens)
    assert at == 20 + 3 * 16 - 1  # the third copy's last token
    g = RepetitionGuard()
    _feed(tokens, g)
    assert g.period == 16
    assert g.feed(1)


def test_short_period_needs_the_minimum_span() -> None:
    tokens = [1, 2, 3, 4] * 11  # 44 tokens: a list of numbers, not yet a loop
    assert _feed(tokens) is None
    assert _feed([1, 2, 3, 4] * 12) == 47


def test_long_block_repeated_twice_is_not_a_loop() -> None:
    block = list(range(60))
    assert _feed(block + block + [999]) is None
    assert _feed(block * 3) == 179


def test_distinct_text_never_stops() -> None:
    assert _feed([(i * 7919) % 1000 for i in range(2000)]) is None


def test_closing_braces_do_not_count() -> None:
    assert _feed([5] * 40) is None  # period 1, below min_period


def test_period_above_the_maximum_is_ignored() -> None:
    block = list(range(100))
    assert _feed(block * 4, RepetitionGuard(max_period=80)) is None

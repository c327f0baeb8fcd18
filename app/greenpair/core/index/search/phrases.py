"""Phrase evidence: query words that appear next to each other in a chunk.

BM25 scores words independently, so "error by default" matches any chunk with "error"
and "default" anywhere. The sequential dependence model (Metzler and Croft, 2005) adds
the evidence of adjacent query word pairs found close together and in order in the
document. Here a pair counts when its second word follows the first within ``WINDOW``
tokens of the chunk, on the token stream where identifiers are split into their parts,
so ``raise_error_by_default`` and "error by default" meet.

It is computed at query time on the few hundred candidate chunks the other signals
found, never on the whole index.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import lru_cache
from itertools import pairwise

from greenpair.core.index import tokens

WINDOW = 2  # the second word within this many tokens after the first
MIN_IDF = 1.0  # pairs of common words ("the file") carry no evidence
K1 = 1.2


@lru_cache(maxsize=200_000)
def _words(ident: str) -> tuple[str, ...]:
    parts = tokens.split_identifier(ident) or [ident.lower()]
    return tuple(tokens.stem(p) for p in parts if len(p) > 1 and p not in tokens.STOPWORDS)


def sequence(text: str) -> list[str]:
    """Stemmed word parts of ``text`` in order (identifiers split, stopwords out)."""
    out: list[str] = []
    for ident in tokens.IDENT.findall(text):
        out.extend(_words(ident))
    return out


def query_pairs(query: str, idf: Callable[[str], float]) -> dict[tuple[str, str], float]:
    """Adjacent word pairs of the query, weighted by the mean idf of their words."""
    words = sequence(query)
    out: dict[tuple[str, str], float] = {}
    for a, b in pairwise(words):
        if a == b:
            continue
        weight = (idf(a) + idf(b)) / 2
        if weight > MIN_IDF:
            out[(a, b)] = weight
    return out


def positions(text: str) -> dict[str, tuple[int, ...]]:
    """Where each word of ``sequence(text)`` occurs (kept per chunk between queries)."""
    where: dict[str, list[int]] = defaultdict(list)
    for i, word in enumerate(sequence(text)):
        where[word].append(i)
    return {word: tuple(at) for word, at in where.items()}


def score(pairs: dict[tuple[str, str], float], where: dict[str, tuple[int, ...]]) -> float:
    """Phrase score of one text (given by its word ``positions``): each pair's weight
    times its saturated count."""
    total = 0.0
    for (a, b), weight in pairs.items():
        first, second = where.get(a), where.get(b)
        if not first or not second:
            continue
        starts = {j - d for j in second for d in range(1, WINDOW + 1)}  # where a may be
        n = sum(1 for i in first if i in starts)
        if n:
            total += weight * n * (K1 + 1) / (n + K1)
    return total


def scores(
    query: str,
    candidates: Iterable[tuple[int, dict[str, tuple[int, ...]]]],
    idf: Callable[[str], float],
) -> dict[int, float]:
    """Phrase scores of ``(key, word positions)`` candidates (only those above zero)."""
    pairs = query_pairs(query, idf)
    if not pairs:
        return {}
    out = {}
    for key, where in candidates:
        s = score(pairs, where)
        if s > 0:
            out[key] = s
    return out

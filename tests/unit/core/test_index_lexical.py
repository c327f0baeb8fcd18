"""The lexical side of the index (no embedding model): BM25 values and early search."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np

from greenpair.core.index import open_index
from greenpair.core.index.index_store import pack, unpack
from greenpair.core.index.lexical import CHUNK_B, FILE_B, K1, chunk_document, file_document


def reference_bm25(docs: list[Counter[str]], query: list[str], b: float) -> list[float]:
    n = len(docs)
    avg = sum(sum(d.values()) for d in docs) / n
    scores = []
    for doc in docs:
        length = sum(doc.values())
        score = 0.0
        for term, q in Counter(query).items():
            df = sum(1 for d in docs if term in d)
            tf = doc.get(term, 0)
            if tf:
                idf = math.log1p((n - df + 0.5) / (df + 0.5))
                score += q * idf * tf * (K1 + 1) / (tf + K1 * (1 - b + b * length / avg))
        scores.append(score)
    return scores


def test_pack_roundtrip() -> None:
    ids, counts = unpack(pack({3: 1, 10: 7, 2: 2}))
    assert dict(zip(ids.tolist(), counts.tolist(), strict=True)) == {3: 1, 10: 7, 2: 2}


def test_bm25_matches_a_reference_implementation(tmp_repo: Path) -> None:
    index = open_index(tmp_repo)
    for _ in index.update(embed=False):
        pass
    lex = index.lexical()
    query = "cart total price with tax"
    from greenpair.core.index.tokens import tokenize

    terms = [t for t in tokenize(query) if t in lex.vocab]
    files = [file_document(p, (tmp_repo / p).read_text()) for p in lex.paths]
    expected = reference_bm25(files, terms, FILE_B)
    np.testing.assert_allclose(lex.file_scores(query), expected, rtol=1e-5)
    texts = index.chunk_texts([m.id for m in lex.chunks])
    chunks = [
        chunk_document(m.chunk.__class__(**{**m.chunk.__dict__, "text": texts[m.id]}))
        for m in lex.chunks
    ]
    np.testing.assert_allclose(
        lex.chunk_scores(query), reference_bm25(chunks, terms, CHUNK_B), rtol=1e-5
    )


def test_search_works_before_any_embedding(tmp_repo: Path) -> None:
    index = open_index(tmp_repo)
    for _ in index.update(embed=False):
        pass
    result = index.search("apply_discount", k=2)
    assert result.files[0] == "src/shop/discounts.py"
    assert result.chunks[0].chunk.symbol == "apply_discount"
    assert "HALF" in result.chunks[0].chunk.text
    assert index._embedder is None  # nothing embedded yet: the model was not even loaded
    stats = index.stats()
    assert stats["embedded_chunks"] == 0
    assert stats["files_pending_embedding"] == stats["files"] == 5


def test_named_files_by_identifier_or_file_name(tmp_repo: Path) -> None:
    from greenpair.core.index.search.names import named_files

    index = open_index(tmp_repo)
    for _ in index.update(embed=False):
        pass
    lex = index.lexical()

    def names(query: str) -> set[str]:
        return {lex.paths[f] for f in named_files(lex, query)}

    assert names("why does test_total_price fail?") == {"tests/test_cart.py"}
    assert names("the formatPrice helper rounds wrongly") == {"web/checkout.js"}
    assert names("README.md should mention the cart") == {"README.md"}
    assert names("make checkout faster") == set()

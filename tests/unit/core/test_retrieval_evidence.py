"""Phrase evidence, request cleaning and module-level names (our own retrieval logic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenpair.core.index import open_index, phrases
from greenpair.core.retrieval import clean_query
from tests.conftest import make_repo


def flat_idf(word: str) -> float:
    return 2.0


def test_sequence_splits_identifiers_in_order_without_stopwords() -> None:
    assert phrases.sequence("raise_error_by_default(); parseConfigFiles") == [
        "raise", "error", "default", "parse", "config", "file",
    ]


def test_a_pair_counts_only_close_and_in_order() -> None:
    pairs = phrases.query_pairs("error by default", flat_idf)
    assert list(pairs) == [("error", "default")]
    near = phrases.score(pairs, "treat the warning as error_default here")
    far = phrases.score(pairs, "an error happened; later, much later, a default value")
    backwards = phrases.score(pairs, "default error")
    assert near > 0
    assert far == 0
    assert backwards == 0


def test_pair_counts_saturate_and_common_pairs_carry_nothing() -> None:
    pairs = phrases.query_pairs("error by default", flat_idf)
    once = phrases.score(pairs, "error default")
    many = phrases.score(pairs, " ".join(["error default"] * 20))
    assert once < many < once * (phrases.K1 + 1)
    assert phrases.query_pairs("error by default", lambda w: 0.5) == {}


def test_scores_keep_only_candidates_with_evidence() -> None:
    texts = [(1, "error_default = True"), (2, "nothing to see")]
    assert set(phrases.scores("error by default", texts, flat_idf)) == {1}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Fix slashes on Windows (#12760)\n\nFix #12745", "Fix slashes on Windows  \n\nFix  "),
        ("see https://example.org/a#b and gh-42", "see   and  "),
        ("keep C# and &#123; and list[0]", "keep C# and &#123; and list[0]"),
    ],
)
def test_clean_query_drops_issue_references_and_urls(query: str, expected: str) -> None:
    assert clean_query(query) == expected


def test_phrase_evidence_ranks_the_file_with_the_words_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from greenpair.core import retrieval

    repo = make_repo(tmp_path / "repo", {
        "app/policy.py": '''
            import warnings

            def install_filters(config):
                """Deprecations of the next major version are an error by default."""
                warnings.simplefilter("always")
                for item in config.filters:
                    warnings.filterwarnings(item)
                return config
        ''',
        "app/messages.py": '''
            def describe(default, error):
                """Describe what went wrong."""
                return error.message.strip() or default
        ''',
        **{
            f"app/unrelated_{i}.py": f"def helper_{i}(items):\n    return sorted(items)[{i}]\n"
            for i in range(4)
        },
    }, init_git=False)
    index = open_index(repo)
    for _ in index.update(embed=False):
        pass
    query = "Make it an error by default"
    assert index.search(query, k=2).files[0] == "app/policy.py"
    # Without phrase evidence the shorter file with both words apart wins.
    monkeypatch.setitem(retrieval.WEIGHTS, "phrase", 0.0)
    assert index.search(query, k=2).files[0] == "app/messages.py"

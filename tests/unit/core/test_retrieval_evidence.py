"""Phrase evidence, qualified names and request cleaning (our own retrieval logic)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from greenpair.core.index import open_index, tokens
from greenpair.core.index.search import DEFAULT, gather, phrases, search
from greenpair.core.index.search.query import clean_query
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
    near = phrases.score(pairs, phrases.positions("treat the warning as error_default here"))
    far = phrases.score(pairs, phrases.positions("an error happened; later, much later, a default value"))
    backwards = phrases.score(pairs, phrases.positions("default error"))
    assert near > 0
    assert far == 0
    assert backwards == 0


def test_pair_counts_saturate_and_common_pairs_carry_nothing() -> None:
    pairs = phrases.query_pairs("error by default", flat_idf)
    once = phrases.score(pairs, phrases.positions("error default"))
    many = phrases.score(pairs, phrases.positions(" ".join(["error default"] * 20)))
    assert once < many < once * (phrases.K1 + 1)
    assert phrases.query_pairs("error by default", lambda w: 0.5) == {}


def test_scores_keep_only_candidates_with_evidence() -> None:
    texts = [(1, "error_default = True"), (2, "nothing to see")]
    found = [(key, phrases.positions(text)) for key, text in texts]
    assert set(phrases.scores("error by default", found, flat_idf)) == {1}


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
    tmp_path: Path,
) -> None:
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
    lex = index.lexical()
    phrase = gather(index, lex, query).chunks["phrase"]
    assert {lex.chunks[p].chunk.path for p in phrase} == {"app/policy.py"}
    # Weighted up, phrase evidence puts the file with the words together first; without
    # it the shorter file with both words apart wins.
    strong = replace(DEFAULT, weights={**DEFAULT.weights, "phrase": 1.0})
    assert search(index, query, 2, strong).files[0] == "app/policy.py"
    no_phrase = replace(DEFAULT, weights={**DEFAULT.weights, "phrase": 0.0})
    assert search(index, query, 2, no_phrase).files[0] == "app/messages.py"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ensure Config.inifile is set", [("config", "inifile")]),
        ("call self.config.getIni()", [("self", "config"), ("config", "get", "ini")]),
        ("pytest.raises(ValueError)", [("pytest", "raises")]),
        ("Cart::total and cart->clear()", [("cart", "total"), ("cart", "clear")]),
        ("no dotted names here, version 3.9", []),
    ],
)
def test_dotted_keys_join_the_word_parts_of_owner_and_attribute(
    text: str, expected: list[tuple[str, ...]]
) -> None:
    assert tokens.dotted_keys(text) == expected


QUALIFIED_REPO = {
    "app/settings.py": '''
        class Config:
            def getini(self, name):
                return self._ini[name]
    ''',
    "app/parser.py": '''
        class Parser:
            def getini(self, name):
                """The ini value of the config for name: the config's own value, or the
                config default when the config has none."""
                return self.config.values.get(name, self.config.default)
    ''',
    "app/legacy.py": '''
        def Config_inifile(config):
            return config.inipath
    ''',
    "app/ini.py": '''
        def read_inifile(config, path):
            """Read the inifile of the config."""
            with open(path) as handle:
                return handle.read()
    ''',
    **{
        f"app/util_{i}.py": f"def helper_{i}(items):\n    return sorted(items)[{i}]\n"
        for i in range(4)
    },
}


def test_a_dotted_reference_finds_the_definition_by_its_qualified_name(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path / "repo", QUALIFIED_REPO, init_git=False)
    index = open_index(repo)
    for _ in index.update(embed=False):
        pass
    # Two classes define ``getini``: the owner in the request picks one.
    assert index.search("Config.getini fails for unknown names", k=3).files[0] == (
        "app/settings.py"
    )
    assert index.search("Parser.getini fails for unknown names", k=3).files[0] == (
        "app/parser.py"
    )
    # A joined name: ``Config_inifile`` is what code attaches to ``Config`` as ``inifile``.
    evidence = gather(index, index.lexical(), "Ensure Config.inifile is set").files
    assert [index.lexical().paths[f] for f in evidence["qualified"]] == ["app/legacy.py"]
    # The owner picks the definition: only Config's getini is credited.
    evidence = gather(index, index.lexical(), "Config.getini fails for unknown names").files
    assert [index.lexical().paths[f] for f in evidence["qualified"]] == ["app/settings.py"]


def test_markup_headings_are_not_qualified_definitions(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {
        **QUALIFIED_REPO,
        "docs/reference.md": "# Config.inifile\n\nThe ini file of the run.\n",
    }, init_git=False)
    index = open_index(repo)
    for _ in index.update(embed=False):
        pass
    evidence = gather(index, index.lexical(), "Ensure Config.inifile is set").files
    lex = index.lexical()
    assert [lex.paths[f] for f in evidence["qualified"]] == ["app/legacy.py"]


def test_signals_and_search_are_the_same_whatever_the_hash_seed(tmp_path: Path) -> None:
    """Set iteration order depends on PYTHONHASHSEED; rankings must not (ties and float
    sums are taken in a fixed order)."""
    import os
    import subprocess
    import sys

    names = ["alpha", "beta", "gamma", "delta", "omega", "sigma"]
    repo = make_repo(tmp_path / "repo", {
        f"app/{name}.py": "def run(items):\n    return items\n" for name in names
    }, init_git=False)
    script = (
        "import sys, json\n"
        "from greenpair.core.index import open_index\n"
        "index = open_index(sys.argv[1])\n"
        "for _ in index.update(embed=False): pass\n"
        "from greenpair.core.index.search import gather\n"
        "lex = index.lexical()\n"
        "print(json.dumps([[index.search(q, k=10).files, gather(index, lex, q).files]\n"
        "                  for q in sys.argv[2:]]))\n"
    )
    # Files that tie exactly: each query names two of them, by path only.
    queries = ["alpha beta", "gamma delta", "omega sigma", "sigma alpha", "delta beta"]
    outputs = set()
    for seed in ("1", "2", "3", "4", "5"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", script, str(repo), *queries],
            env=env, capture_output=True, text=True, check=True,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1


def test_qualified_names_across_languages(tmp_path: Path) -> None:
    """Owners come from the real chunker (a Rust ``impl``, a Go receiver, a C++ ``A::b``)
    or, for top-level definitions, from the module: its file, or its folder for a package
    file and for Go."""
    repo = make_repo(tmp_path / "repo", {
        "src/shop.rs": '''
            pub struct Cart { items: Vec<u32> }

            impl Cart {
                pub fn total(&self) -> u32 {
                    self.items.iter().sum()
                }
            }
        ''',
        "pkg/order.go": '''
            package shop

            type Order struct{ lines []int }

            func (o *Order) Total() int {
                t := 0
                for _, l := range o.lines {
                    t += l
                }
                return t
            }
        ''',
        "lib/invoice.cpp": '''
            int Invoice::total() const {
                int t = 0;
                for (int l : lines) t += l;
                return t;
            }
        ''',
        "app/outcomes.py": '''
            def skip(reason):
                raise Skipped(reason)
        ''',
        "app/checks/__init__.py": '''
            def skip(reason):
                return reason
        ''',
        "pkg/shop/cart.go": '''
            package shop

            func NewCart() *Cart {
                return &Cart{}
            }
        ''',
    }, init_git=False)
    index = open_index(repo)
    for _ in index.update(embed=False):
        pass
    lex = index.lexical()
    for query, expected in [
        ("Cart::total overflows", "src/shop.rs"),
        ("order.Total() ignores refunds", "pkg/order.go"),
        ("Invoice::total is off by one", "lib/invoice.cpp"),
        ("outcomes.skip() loses the reason", "app/outcomes.py"),
        ("checks.skip() loses the reason", "app/checks/__init__.py"),
        ("shop.NewCart returns nil", "pkg/shop/cart.go"),
    ]:
        evidence = gather(index, lex, query).files
        assert [lex.paths[f] for f in evidence["qualified"]] == [expected], query

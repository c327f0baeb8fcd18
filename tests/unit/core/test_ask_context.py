"""Context packing and citation checking (pure logic, FakeRuntime's word tokenizer)."""

from __future__ import annotations

from pathlib import Path

from greenpair.core.assistant.ask.citations import (
    extract_citations,
    fallback_citations,
    mention_citations,
    mentioned_symbols,
    validate_citations,
)
from greenpair.core.assistant.ask.context import Snippet, pack_context
from greenpair.core.types import Chunk, ScoredChunk
from tests.helpers.fake_runtime import FakeRuntime


def _chunk(path: str, start: int, end: int, text: str = "", score: float = 1.0) -> ScoredChunk:
    return ScoredChunk(Chunk(path, "python", start, end, text or f"code {path} {start}\n"), score)


def _count(text: str) -> int:
    return FakeRuntime().count_tokens(text)


def test_pack_reads_current_lines_with_headers(tmp_repo: Path) -> None:
    packed = pack_context([_chunk("src/shop/discounts.py", 4, 6)], 500, _count, repo=tmp_repo)
    [snippet] = packed.snippets
    assert snippet.header == "src/shop/discounts.py:4-6"
    assert snippet.text.startswith("def apply_discount(total, code):\n")
    assert snippet.render().startswith("### src/shop/discounts.py:4-6\n```python\n")


def test_pack_merges_overlaps_and_keeps_rank_order(tmp_repo: Path) -> None:
    chunks = [
        _chunk("src/shop/cart.py", 12, 16, score=0.9),
        _chunk("src/shop/discounts.py", 4, 10, score=0.8),
        _chunk("src/shop/cart.py", 15, 20, score=0.7),
    ]
    packed = pack_context(chunks, 1000, _count, repo=tmp_repo)
    assert [s.header for s in packed.snippets] == [
        "src/shop/cart.py:12-20", "src/shop/discounts.py:4-10",
    ]
    assert packed.dropped == 1  # the merged chunk


def test_pack_cuts_at_line_boundaries_within_budget(tmp_repo: Path) -> None:
    chunks = [_chunk("src/shop/cart.py", 1, 21), _chunk("src/shop/discounts.py", 1, 10)]
    whole = pack_context(chunks, 10_000, _count, repo=tmp_repo)
    budget = whole.tokens - 20
    packed = pack_context(chunks, budget, _count, repo=tmp_repo)
    assert packed.tokens <= budget
    lines = (tmp_repo / "src/shop/cart.py").read_text().splitlines(keepends=True)
    for s in packed.snippets:
        file_lines = (tmp_repo / s.path).read_text().splitlines(keepends=True)
        assert s.text == "".join(file_lines[s.start_line - 1 : s.end_line])  # whole lines only
    assert packed.snippets[0].end_line <= len(lines)


def test_pack_caps_one_long_snippet(tmp_repo: Path) -> None:
    chunks = [_chunk("src/shop/cart.py", 1, 21), _chunk("src/shop/discounts.py", 1, 10)]
    packed = pack_context(chunks, 10_000, _count, repo=tmp_repo, max_snippet_tokens=60)
    assert packed.snippets[0].end_line < 21
    assert len(packed.snippets) == 2


def test_naive_mode_sends_chunks_whole_and_reports_savings(tmp_repo: Path) -> None:
    big = "line of code here\n" * 50
    chunks = [_chunk("src/shop/cart.py", 1, 21, big)] + [
        _chunk("src/shop/cart.py", 1, 21, big) for _ in range(3)
    ]
    naive = pack_context(chunks, 100_000, _count, repo=tmp_repo, pack=False)
    assert len(naive.snippets) == 4
    assert naive.tokens == naive.naive_tokens
    packed = pack_context(chunks, 100_000, _count, repo=tmp_repo)
    assert len(packed.snippets) == 1
    assert packed.tokens_saved == naive.tokens - packed.tokens > 0


def test_pack_never_shows_secrets_or_outside_paths(tmp_repo: Path) -> None:
    (tmp_repo / ".env").write_text("API_KEY=hunter2\n")
    chunks = [_chunk(".env", 1, 1), _chunk("../outside.py", 1, 1), _chunk("missing.py", 1, 2)]
    packed = pack_context(chunks, 1000, _count, repo=tmp_repo)
    assert packed.snippets == []
    assert "hunter2" not in packed.render()


SHOWN = [
    Snippet("src/shop/cart.py", 12, 20, "x\n"),
    Snippet("src/shop/discounts.py", 4, 10, "y\n"),
]


def test_extract_citation_forms() -> None:
    text = ("See [src/shop/cart.py:12-16] and `discounts.py:5`, also src/a.py#L3-L9. "
            "Total is 3.6, e.g. fine. Sources: src/shop/cart.py:12-16")
    assert extract_citations(text) == [
        ("src/shop/cart.py", 12, 16), ("discounts.py", 5, 5), ("src/a.py", 3, 9),
    ]


def test_validate_marks_invented_paths_and_ranges() -> None:
    text = ("[src/shop/cart.py:14-30] [src/shop/cart.py:40-50] [src/shop/nope.py:1-5] "
            "[discounts.py:5-6] README.md")
    cites = validate_citations(text, SHOWN)
    assert [(str(c), c.valid) for c in cites] == [
        ("src/shop/cart.py:14-20", True),  # clamped to the shown lines
        ("src/shop/cart.py:40-50", False),  # outside any shown range
        ("src/shop/nope.py:1-5", False),  # never shown
        ("src/shop/discounts.py:5-6", True),  # unique suffix resolved
    ]


def test_bare_path_cites_its_shown_range() -> None:
    [cite] = validate_citations("It is in `src/shop/discounts.py`.", SHOWN)
    assert (str(cite), cite.valid) == ("src/shop/discounts.py:4-10", True)


def test_fallback_cites_top_snippets() -> None:
    assert [str(c) for c in fallback_citations(SHOWN, 1)] == ["src/shop/cart.py:12-20"]


DEFS = [
    Snippet("src/_pytest/_code/code.py", 263, 269, "    def __init__(self):\n        pass\n"),
    Snippet("src/_pytest/tmpdir.py", 199, 208,
            "def get_user() -> str | None:\n    import getpass\n"),
    Snippet("src/shop/cart.py", 18, 21, "    def totalPrice(self):\n        return 1\n"),
]


def test_mentioned_definitions_are_cited() -> None:
    text = ("The `get_user` function returns None [src/_pytest/_code/code.py:263-269]; "
            "totalPrice is unrelated, `__init__` too, and `missing_fn` is not shown.")
    explicit = validate_citations(text, DEFS)
    added = mention_citations(text, DEFS, explicit)
    assert [str(c) for c in added] == ["src/_pytest/tmpdir.py:199-208", "src/shop/cart.py:18-21"]
    assert mention_citations(text, DEFS, [*explicit, *added]) == []  # no duplicates
    assert mentioned_symbols("Call `Cache.clear_cache()` or set_when") == ["clear_cache",
                                                                           "set_when"]

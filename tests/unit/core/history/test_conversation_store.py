"""The conversation store: keep, list, search, rename, delete, export, relocate."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenpair.core.assistant.ask.context import Snippet
from greenpair.core.assistant.ask.conversation import Conversation
from greenpair.core.conversations.conversation_store import (
    CitedLines,
    ConversationStore,
    HistoryError,
    KeptTurn,
    conversations_path,
)
from greenpair.core.conversations.export import export_filename, to_markdown
from greenpair.core.conversations.keeping import cited_lines
from greenpair.core.conversations.relocate import relocate
from greenpair.core.llm.runtime import Message


@pytest.fixture
def store() -> ConversationStore:
    s = ConversationStore()
    yield s
    s.close()


def _turn(q: str, a: str, **kw: object) -> KeptTurn:
    return KeptTurn(question=q, answer=a, model="smollm2-135m", prompt_tokens=100,
                    completion_tokens=20, joules=3.5, **kw)  # type: ignore[arg-type]


def test_kept_in_the_data_directory_and_read_back_after_reopening(
        greenpair_home: Path, tmp_path: Path) -> None:
    store = ConversationStore()
    assert store.path == conversations_path()
    assert store.path.parent == greenpair_home
    cid = store.create(tmp_path, "How is the total computed?", model="m", now=1000.0)
    store.add_turn(cid, _turn("How is the total computed?", "By `Cart.total`.",
                              citations=[CitedLines("shop/cart.py", 3, 5, "a\nb\nc")]),
                   state={"messages": [{"role": "user", "content": "hi"}], "shown": []})
    store.close()

    again = ConversationStore()
    [summary] = again.for_repo(tmp_path)
    assert summary.title == "How is the total computed?"
    assert (summary.turns, summary.tokens, summary.joules) == (1, 120, 3.5)
    assert summary.model == "smollm2-135m"
    kept = again.get(cid)
    assert kept is not None
    assert kept.turns[0].citations == [CitedLines("shop/cart.py", 3, 5, "a\nb\nc")]
    assert kept.state["messages"] == [{"role": "user", "content": "hi"}]
    again.close()


def test_listed_per_repository_newest_first(store: ConversationStore, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    first = store.create(a, "first", now=1.0)
    second = store.create(a, "second", now=2.0)
    store.create(b, "other repo", now=3.0)
    assert [s.id for s in store.for_repo(a)] == [second, first]
    store.add_turn(first, _turn("again", "yes"))
    assert [s.id for s in store.for_repo(a)] == [first, second]
    assert [s.title for s in store.for_repo(b)] == ["other repo"]


def test_search_finds_questions_answers_and_titles_literally(store: ConversationStore,
                                                             tmp_path: Path) -> None:
    one = store.create(tmp_path, "Where is the tax rate?")
    store.add_turn(one, _turn("Where is the tax rate?", "TAX_RATE in shop/cart.py: 20%"))
    two = store.create(tmp_path, "Discounts")
    store.add_turn(two, _turn("Discounts", "apply_discount handles HALF and TENOFF"))
    assert [s.id for s in store.search(tmp_path, "tenoff")] == [two]
    assert [s.id for s in store.search(tmp_path, "tax rate")] == [one]
    assert [s.id for s in store.search(tmp_path, "20%")] == [one]
    assert store.search(tmp_path, "_RATE in")
    assert not store.search(tmp_path, "%_%x")
    assert len(store.search(tmp_path, "  ")) == 2
    assert store.search(tmp_path, "nothing like it") == []


def test_rename_delete_and_delete_all(store: ConversationStore, tmp_path: Path) -> None:
    one = store.create(tmp_path, "one")
    two = store.create(tmp_path, "two")
    store.add_turn(two, _turn("two", "answer"))
    store.rename(one, "  Tax   questions ")
    assert store.get(one).summary.title == "Tax questions"  # type: ignore[union-attr]
    with pytest.raises(HistoryError):
        store.rename(one, "   ")
    store.delete(two)
    assert store.get(two) is None
    assert [s.id for s in store.for_repo(tmp_path)] == [one]
    store.create(tmp_path / "elsewhere", "kept")
    assert store.delete_all(tmp_path) == 1
    assert store.delete_all() == 1
    assert store.for_repo(tmp_path / "elsewhere") == []


def test_long_first_question_is_cut_for_the_title(store: ConversationStore,
                                                  tmp_path: Path) -> None:
    cid = store.create(tmp_path, "why " * 50)
    title = store.get(cid).summary.title  # type: ignore[union-attr]
    assert len(title) <= 80
    assert title.endswith("…")


def test_unwritable_place_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(HistoryError, match="Cannot open the conversation history"):
        ConversationStore(blocker / "conversations.sqlite3")


def test_markdown_export_lists_citations_as_path_lines(store: ConversationStore,
                                                       tmp_path: Path) -> None:
    cid = store.create(tmp_path, "How is the total computed?")
    store.add_turn(cid, _turn("How is the total computed?", "Tax is added.\n\n```python\nx = 1\n```",
                              citations=[CitedLines("shop/cart.py", 30, 35),
                                         CitedLines("shop/discounts.py", 4, 4)],
                              stats="120 tokens · 3.5 J"))
    store.add_turn(cid, _turn("And discounts?", "See apply_discount."))
    kept = store.get(cid)
    assert kept is not None
    md = to_markdown(kept)
    assert md.startswith("# How is the total computed?\n")
    assert "## Question 1\n\n> How is the total computed?\n\nTax is added." in md
    assert "```python\nx = 1\n```" in md
    assert "**Sources:**\n\n- `shop/cart.py:30-35`\n- `shop/discounts.py:4`\n" in md
    assert "## Question 2\n\n> And discounts?" in md
    assert "240 tokens · 7.0 J" in md
    assert export_filename(kept) == "how-is-the-total-computed.md"


def test_conversation_state_round_trip(tmp_path: Path) -> None:
    conv = Conversation(tmp_path, runtime=object(), index=object())  # type: ignore[arg-type]
    conv.messages = [Message("system", "s"), Message("user", "q"), Message("assistant", "a")]
    conv.shown = [Snippet("a.py", 1, 3, "x\ny\nz", language="python")]
    again = Conversation(tmp_path, runtime=object(), index=object())  # type: ignore[arg-type]
    again.restore(conv.state())
    assert again.messages == conv.messages
    assert again.shown == conv.shown
    again.restore({"messages": [{"role": "user"}]})
    assert again.messages == []
    assert again.shown == []


def test_cited_lines_take_the_text_the_model_was_shown() -> None:
    shown = [Snippet("a.py", 10, 14, "l10\nl11\nl12\nl13\nl14")]
    cites = [CitedLines("a.py", 11, 12), CitedLines("b.py", 1, 2)]
    assert cited_lines(cites, shown) == [CitedLines("a.py", 11, 12, "l11\nl12"),
                                         CitedLines("b.py", 1, 2, "")]


def test_relocate_finds_unchanged_moved_and_edited_lines() -> None:
    old = "def total(self):\n    return sum(self.items)\n"
    file = "import x\n\n" + old
    assert relocate(old, 3, 4, file) == relocate(old, 3, 4, file)
    same = relocate(old, 3, 4, file)
    assert same is not None
    assert same.exact
    assert (same.start_line, same.end_line) == (3, 4)
    moved = relocate(old, 3, 4, "# header\n\n\n\n" + file)
    assert moved is not None
    assert moved.exact
    assert moved.start_line == 7
    edited = relocate(old, 3, 4, "import x\n\n\ndef total(self):\n    return sum(self.items)"
                      " * 2\n")
    assert edited is not None
    assert not edited.exact
    assert edited.start_line == 4
    assert 0.5 <= edited.ratio < 1
    assert relocate(old, 3, 4, "completely\ndifferent\ncontent\n") is None
    assert relocate("", 2, 3, "a\nb\nc\n") is not None
    assert relocate("", 9, 9, "a\n") is None

"""draft_patch / apply_patch / undo_last with the FakeRuntime and a fixed retriever."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenpair.core.assistant.ask.context import Snippet
from greenpair.core.assistant.patch.drafting import (
    PatchDraft,
    PatchOptions,
    Status,
    Token,
    apply_patch,
    draft_patch,
    undo_last,
)
from greenpair.core.assistant.patch.formats import choose_format
from greenpair.core.assistant.retriever import StaticRetriever
from greenpair.core.errors import PatchError
from greenpair.core.types import Chunk, ScoredChunk
from tests.helpers.fake_runtime import FakeRuntime

CART = "src/shop/cart.py"
RETRIEVER = StaticRetriever([ScoredChunk(Chunk(CART, "python", 13, 17, "def add_item"), 1.0)])

GOOD = f"""{CART}
<<<<<<< SEARCH
        if quantity <= 0:
=======
        if quantity < 1:
>>>>>>> REPLACE"""


def _draft(repo: Path, rt: FakeRuntime, **opts: object) -> tuple[list[object], PatchDraft]:
    opts.setdefault("format", "search_replace")
    events = list(draft_patch(repo, "reject quantities below one", runtime=rt, index=RETRIEVER,
                              options=PatchOptions(**opts)))  # type: ignore[arg-type]
    draft = events[-1]
    assert isinstance(draft, PatchDraft)
    return events, draft


def test_draft_shows_a_checked_diff_without_writing(tmp_repo: Path) -> None:
    before = (tmp_repo / CART).read_bytes()
    rt = FakeRuntime([GOOD])
    events, draft = _draft(tmp_repo, rt)
    assert any(isinstance(e, Status) for e in events)
    assert "".join(e.text for e in events if isinstance(e, Token)) == GOOD
    assert draft.error is None
    assert draft.files == [CART]
    assert draft.format == "search_replace"
    assert "+        if quantity < 1:" in draft.diff
    assert (tmp_repo / CART).read_bytes() == before  # drafting never writes
    assert "### src/shop/cart.py:13-17" in rt.prompts[0]
    data = draft.to_json()
    assert set(data) >= {"diff", "files", "format", "applied", "model", "prompt_tokens",
                         "completion_tokens", "tokens_per_s", "energy_j"}
    assert data["applied"] is False


def test_failed_edit_is_retried_once_with_the_reason(tmp_repo: Path) -> None:
    wrong = GOOD.replace("if quantity <= 0:", "if amount is None and total < 0 or x:")
    rt = FakeRuntime([wrong, GOOD])
    events, draft = _draft(tmp_repo, rt)
    assert draft.error is None
    assert draft.attempts == 2
    assert any(isinstance(e, Status) and "retrying" in e.text for e in events)
    assert "could not be applied: The code to replace was not found" in rt.prompts[1]
    assert rt.prompts[1].rstrip().endswith("Task: reject quantities below one\n<assistant>")


def test_a_whitespace_only_edit_is_retried_unless_the_task_is_about_layout(
    tmp_repo: Path
) -> None:
    spaced = GOOD.replace("        if quantity < 1:", "        if quantity <=  0:")
    rt = FakeRuntime([spaced, GOOD])
    _, draft = _draft(tmp_repo, rt)
    assert draft.error is None
    assert draft.attempts == 2
    assert "changes only whitespace" in rt.prompts[1]
    assert "+        if quantity < 1:" in draft.diff

    layout = list(draft_patch(tmp_repo, "fix the spacing in add_item", runtime=FakeRuntime(
        [spaced]), index=RETRIEVER, options=PatchOptions(format="search_replace")))[-1]
    assert isinstance(layout, PatchDraft)
    assert layout.error is None
    assert "+        if quantity <=  0:" in layout.diff


def test_gives_up_after_the_retry(tmp_repo: Path) -> None:
    rt = FakeRuntime(["no edit at all", "still nothing"])
    _, draft = _draft(tmp_repo, rt)
    assert draft.attempts == 2
    assert draft.error == "The reply holds no SEARCH/REPLACE block."
    assert draft.diff == ""
    with pytest.raises(PatchError, match="no valid patch"):
        apply_patch(tmp_repo, draft)


def test_refused_path_is_not_retried(tmp_repo: Path) -> None:
    rt = FakeRuntime(["../evil.py\n<<<<<<< SEARCH\n=======\nx\n>>>>>>> REPLACE", GOOD])
    _, draft = _draft(tmp_repo, rt)
    assert draft.attempts == 1
    assert draft.error is not None
    assert "outside the repository" in draft.error
    assert not (tmp_repo.parent / "evil.py").exists()


def test_function_format(tmp_repo: Path) -> None:
    reply = (f"{CART}\n```python\ndef add_item(self, name, price, quantity=1):\n"
             "    self.items.append((name, price, quantity))\n```")
    _, draft = _draft(tmp_repo, FakeRuntime([reply]), format="function")
    assert draft.error is None
    assert draft.match_methods == ["function"]
    assert '-            raise ValueError("quantity must be positive")' in draft.diff


def test_apply_then_undo_restores_bytes(tmp_repo: Path) -> None:
    before = (tmp_repo / CART).read_bytes()
    _, draft = _draft(tmp_repo, FakeRuntime([GOOD]))
    apply_patch(tmp_repo, draft)
    assert draft.applied
    assert b"if quantity < 1:" in (tmp_repo / CART).read_bytes()
    assert undo_last(tmp_repo) == [CART]
    assert (tmp_repo / CART).read_bytes() == before


def test_unknown_format(tmp_repo: Path) -> None:
    with pytest.raises(PatchError, match="Unknown edit format"):
        _draft(tmp_repo, FakeRuntime([GOOD]), format="xml")


def test_format_is_chosen_by_model_and_target(tmp_repo: Path) -> None:
    fn = Snippet(CART, 13, 17, "    def add_item(self, name, price, quantity=1):\n        pass\n")
    text = Snippet("README.md", 1, 3, "# Shop\n\nA tiny shop.\n")
    long = Snippet(CART, 1, 200, "def big():\n" + "    x = 1\n" * 199)
    assert choose_format("qwen2.5-coder-1.5b", [fn]) == "function"
    assert choose_format("qwen2.5-coder-0.5b", [fn]) == "function"
    assert choose_format("qwen2.5-coder-1.5b", [text, fn]) == "search_replace"
    assert choose_format("qwen2.5-coder-1.5b", [long]) == "search_replace"
    # With a failing test's source in the request, the SEARCH part anchors the edit.
    assert choose_format("qwen2.5-coder-1.5b", [fn], evidence=True) == "search_replace"
    assert choose_format("qwen2.5-coder-0.5b", [fn], evidence=True) == "function"  # measured
    rt = FakeRuntime(["src/shop/cart.py\n```python\ndef add_item(self, name, price, quantity=1):"
                      "\n    self.items.append((name, price, quantity))\n```"], model_id="m")
    method = StaticRetriever([ScoredChunk(Chunk(CART, "python", 12, 16, "def add_item"), 1.0)])
    events = list(draft_patch(tmp_repo, "drop the check", runtime=rt, index=method))
    draft = events[-1]
    assert isinstance(draft, PatchDraft)
    assert (draft.format, draft.error) == ("function", None)

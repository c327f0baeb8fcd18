"""Edits are well-formed by construction: the real tiny model, constrained by the format's
grammar, writes a SEARCH/REPLACE block whose SEARCH part is copied from the file, or a
whole-function block, whatever it is asked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from greenpair.core.assistant.ask.context import Snippet
from greenpair.core.assistant.patch.drafting import PatchDraft, PatchOptions, draft_patch
from greenpair.core.assistant.patch.edit_grammar import edit_grammar
from greenpair.core.assistant.patch.edits import parse_edits
from greenpair.core.assistant.patch.prompts import patch_messages
from greenpair.core.assistant.retriever import StaticRetriever
from greenpair.core.llm.llama import LlamaRuntime
from greenpair.core.llm.runtime import Message
from greenpair.core.types import Chunk, ScoredChunk

pytestmark = pytest.mark.model

TASKS = [
    "In Cart.add_item, raise ValueError when price is negative.",
    "Make total_price round to one decimal.",
    "Rename the items list to lines everywhere.",
]


@pytest.fixture(scope="module")
def tiny(tiny_model_path: Path) -> Iterator[LlamaRuntime]:
    rt = LlamaRuntime(tiny_model_path, n_ctx=2048, n_threads=1, seed=0)
    yield rt
    rt.unload()


def _cart_chunk(repo: Path) -> ScoredChunk:
    text = (repo / "src/shop/cart.py").read_text()
    lines = text.splitlines(keepends=True)
    return ScoredChunk(Chunk("src/shop/cart.py", "python", 6, len(lines),
                             "".join(lines[5:]), kind="class", symbol="Cart"), 1.0)


def _draft(repo: Path, rt: LlamaRuntime, task: str, fmt: str) -> PatchDraft:
    events = list(draft_patch(repo, task, runtime=rt, index=StaticRetriever([_cart_chunk(repo)]),
                              options=PatchOptions(format=fmt, retries=0, max_tokens=400)))
    draft = events[-1]
    assert isinstance(draft, PatchDraft)
    return draft


@pytest.mark.parametrize("fmt", ["search_replace", "function"])
def test_every_finished_reply_is_well_formed(tmp_repo: Path, tiny: LlamaRuntime, fmt: str) -> None:
    finished = 0
    for task in TASKS:
        draft = _draft(tmp_repo, tiny, task, fmt)
        assert draft.constrained
        if not draft.reply:  # cut off by the budget or the loop guard before one block ended
            assert draft.stop_reason in {"length", "repetition"}
            assert "repeating" in (draft.error or "") or "did not fit" in (draft.error or "")
            continue
        finished += 1
        edits = parse_edits(fmt, draft.reply)  # never raises: the grammar made it so
        assert {e.path for e in edits} == {"src/shop/cart.py"}
        if fmt == "search_replace":
            text = (tmp_repo / "src/shop/cart.py").read_text()
            assert all(e.search in text for e in edits)  # SEARCH copies the file's lines
        else:
            assert all(e.symbol in {"Cart", "__init__", "add_item", "total_price"}
                       for e in edits)
    assert finished >= 1


def test_the_grammar_wins_over_the_prompt(tmp_repo: Path, tiny: LlamaRuntime) -> None:
    chunk = _cart_chunk(tmp_repo).chunk
    snip = Snippet(chunk.path, chunk.start_line, chunk.end_line, chunk.text, language="python")
    grammar = edit_grammar("search_replace", [snip])
    assert grammar is not None
    messages = [Message("system", "You are a poet."),
                Message("user", "Write a short poem about the sea. No code.")]
    reply = "".join(tiny.stream_chat(messages, max_tokens=160, temperature=0.7,
                                     grammar=grammar))
    assert reply.startswith("src/shop/cart.py\n<<<<<<< SEARCH\n")
    unconstrained = "".join(tiny.stream_chat(messages, max_tokens=40, temperature=0.0))
    assert "<<<<<<< SEARCH" not in unconstrained


def test_a_bad_grammar_is_a_clear_error_not_a_crash(tiny: LlamaRuntime) -> None:
    from greenpair.core.errors import ModelError

    msgs = patch_messages("search_replace", "x", "y")
    with pytest.raises(ModelError, match="grammar"):
        list(tiny.stream_chat(msgs, max_tokens=4, grammar='root ::= "unclosed'))

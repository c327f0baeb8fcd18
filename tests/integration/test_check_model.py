"""The check and repair loop on the real tiny model: its drafts are checked in a scratch
copy by the repository's pytest, a failure goes back to it, every try is in the ledger,
and a "passed" is never false."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from greenpair.core.assistant.check import CheckOptions, draft_checked
from greenpair.core.assistant.patch.drafting import PatchDraft, PatchOptions
from greenpair.core.assistant.retriever import StaticRetriever
from greenpair.core.config import ledger_path
from greenpair.core.energy.ledger import Ledger
from greenpair.core.energy.meter import Meter
from greenpair.core.llm.llama import LlamaRuntime
from greenpair.core.llm.runtime import Message
from greenpair.core.types import Chunk, ScoredChunk
from tests.helpers.check_repos import python_repo, tree_digest
from tests.unit.core.check.test_check_repair import FILES, OPS

pytestmark = pytest.mark.model


class Recording:
    """The real runtime, with the messages of each generation kept for assertions."""

    def __init__(self, runtime: LlamaRuntime) -> None:
        self._rt = runtime
        self.calls: list[list[Message]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rt, name)

    def stream_chat(self, messages: list[Message], **kwargs: Any) -> Iterator[str]:
        self.calls.append(list(messages))
        return self._rt.stream_chat(messages, **kwargs)


STRICT = {**FILES, "tests/test_ops_strict.py": """
    from calc.ops import add


    def test_add_then_fail():
        assert add(2, 3) in (-1, 5)
        assert False, "this test always fails, so every try is repaired"
    """}


def _draft_with_tiny_model(model: Path, repo: Path, task: str, chunk: ScoredChunk,
                           tries: int) -> tuple[list[Any], Recording]:
    """``draft_checked`` on the real tiny model (its prompts recorded), the search
    returning ``chunk`` alone."""
    rt = LlamaRuntime(model, n_ctx=2048, n_threads=1, seed=0)
    recording = Recording(rt)
    meter = Meter()
    try:
        events = list(draft_checked(
            repo, task, runtime=recording, meter=meter,  # type: ignore[arg-type]
            index=StaticRetriever([chunk]),
            options=PatchOptions(format="search_replace", retries=0, max_tokens=120),
            check=CheckOptions(tries=tries, timeout_s=240)))
    finally:
        meter.close()
        rt.unload()
    return events, recording


def test_the_tiny_model_is_checked_and_repaired(tmp_path: Path, tiny_model_path: Path) -> None:
    repo = python_repo(tmp_path / "repo", STRICT)
    before = tree_digest(repo)
    events, recording = _draft_with_tiny_model(
        tiny_model_path, repo, "add returns the difference; make it return the sum a + b",
        ScoredChunk(Chunk(OPS, "python", 1, 2, FILES[OPS], "function", "add"), 1.0), tries=2)
    draft = events[-1]
    assert isinstance(draft, PatchDraft)
    check = draft.check
    assert check is not None
    assert tree_digest(repo) == before  # the user's files, whatever the model wrote
    if check.status == "skipped":  # no valid edit at all: nothing was run, and it says so
        assert draft.error is not None
        assert check.summary == "not checked: no valid patch to check"
        assert [a.status for a in check.attempts] == ["no_patch", "no_patch"]
        assert len(recording.calls) == 2  # the second try was asked for
        return
    assert check.status == "failed"  # test_add_then_fail cannot pass: never a false pass
    assert "tests/test_ops_strict.py::test_add_then_fail" in check.tests_run
    assert len(recording.calls) == 2  # one more try, told why the first was not enough
    repair = recording.calls[1][-1].content
    if check.attempts[0].status == "no_patch":  # the first gave no usable edit
        assert repair.startswith("That edit cannot be used: ")
    else:  # the first failed the check
        assert "The failing test `tests/test_ops_strict.py::test_add_then_fail`" in repair \
            or "The failing test `tests/test_ops.py::test_add`" in repair
    assert "Task: add returns the difference" in repair
    assert check.tries == len(check.attempts) == 2
    # a repair that repeats the failed edit (greedy decoding: the tiny model does) is not
    # checked again
    checked = [a for a in check.attempts if a.status not in {"no_patch", "repeat"}]
    rows = [r for r in Ledger(ledger_path()).rows_since(0) if r[1] == "check"]
    assert len(rows) == len(checked) >= 1  # every check of every try is in the ledger
    assert all(a.check_joules is not None and a.draft_joules is not None for a in checked)


def test_a_named_failing_test_shows_the_tiny_model_the_code_it_ran_through(
        tmp_path: Path, tiny_model_path: Path) -> None:
    from greenpair.core.assistant.patch.drafting import Status

    repo = python_repo(tmp_path / "repo", {
        **FILES, "src/calc/words.py": "def add_words(a, b):\n    return a + ' plus ' + b\n"})
    before = tree_digest(repo)
    # The search finds only code that looks like the request's words, not the code under test.
    words = ScoredChunk(Chunk("src/calc/words.py", "python", 1, 2, "def add_words", "function",
                              "add_words"), 1.0)
    events, recording = _draft_with_tiny_model(
        tiny_model_path, repo, "make `tests/test_ops.py::test_add` pass", words, tries=1)
    draft = events[-1]
    assert isinstance(draft, PatchDraft)
    statuses = [e.text for e in events if isinstance(e, Status)]
    assert f"The failing test ran through add ({OPS})." in statuses  # traced by real pytest
    shown = recording.calls[0][-1].content
    assert f"### {OPS}" in shown
    assert "def add(a, b):" in shown
    assert shown.index(f"### {OPS}") < shown.index("### src/calc/words.py")
    assert tree_digest(repo) == before
    check = draft.check
    assert check is not None
    if check.status == "passed":  # never a false pass: the named test ran and passed
        assert check.tests_run == ["tests/test_ops.py::test_add"]
        assert "+    return a + b" in draft.diff

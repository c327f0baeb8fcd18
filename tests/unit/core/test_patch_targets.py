"""Patch targets: the definitions a request names are shown whole, ambiguity is settled
before the model runs (open file, a file named in the request, rank, or a question)."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenpair.core.assistant.patch.drafting import PatchDraft, PatchOptions, draft_patch
from greenpair.core.assistant.patch.targets import (
    AmbiguousTarget,
    focused_context,
    named_identifiers,
)
from greenpair.core.assistant.retriever import StaticRetriever
from greenpair.core.types import Chunk, ScoredChunk
from tests.conftest import make_repo
from tests.helpers.fake_runtime import FakeRuntime

NODES = '''"""Nodes."""


def helper(leaf):
    return leaf.strip()


def is_docstring(leaf):
    """Whether leaf is a docstring."""
    text = helper(leaf)
    if not text:
        return False
    return text.startswith('"""')


def unrelated():
    return 1
'''
LINES = '''class Line:
    def is_docstring(self):
        return bool(self.leaves)
'''


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "r", {"src/nodes.py": NODES, "src/lines.py": LINES})


def _chunks() -> list[ScoredChunk]:
    return [
        # the index split is_docstring: only its second half was retrieved first
        ScoredChunk(Chunk("src/nodes.py", "python", 10, 13, "...", "function", "is_docstring"),
                    0.9),
        ScoredChunk(Chunk("src/lines.py", "python", 2, 3, "...", "method", "is_docstring",
                          parent="Line"), 0.8),
        ScoredChunk(Chunk("src/nodes.py", "python", 4, 5, "def helper", "function", "helper"),
                    0.5),
        ScoredChunk(Chunk("src/nodes.py", "python", 16, 17, "def unrelated", "function",
                          "unrelated"), 0.4),
    ]


def _count(text: str) -> int:
    return len(text.split())


def test_named_identifiers() -> None:
    assert named_identifiers("In the is_docstring function, accept b prefixes") == [
        "is_docstring"]
    assert set(named_identifiers("Make `total` round, and fix Config.getini()")) == {
        "total", "Config.getini", "getini"}
    assert named_identifiers("fix the parseArgs helper") == ["parseArgs"]
    assert named_identifiers("Handle the error when the file is missing") == []
    assert named_identifiers("Change the function skip to warn") == ["skip"]


def test_the_named_definition_is_shown_whole_with_what_it_calls(repo: Path) -> None:
    packed = focused_context(repo, "In is_docstring in nodes.py, accept b prefixes", _chunks(),
                             _count)
    assert packed is not None
    first = packed.snippets[0]
    assert (first.path, first.start_line, first.end_line) == ("src/nodes.py", 8, 13)
    assert first.text.startswith("def is_docstring(leaf):")
    assert [s.path + ":" + str(s.start_line) for s in packed.snippets[1:]] == ["src/nodes.py:4"]


def test_ambiguity_is_settled_by_the_open_file_or_the_rank(repo: Path) -> None:
    task = "In the is_docstring function, also accept byte-string prefixes"
    by_rank = focused_context(repo, task, _chunks(), _count)
    assert by_rank is not None
    assert by_rank.snippets[0].path == "src/nodes.py"
    opened = focused_context(repo, task, _chunks(), _count, prefer_path="src/lines.py")
    assert opened is not None
    assert opened.snippets[0].path == "src/lines.py"
    assert opened.snippets[0].text.startswith("    def is_docstring(self):")


def test_ambiguity_can_be_asked_about(repo: Path) -> None:
    task = "In the is_docstring function, also accept byte-string prefixes"
    with pytest.raises(AmbiguousTarget) as info:
        focused_context(repo, task, _chunks(), _count, ambiguity="ask")
    assert [t.path for t in info.value.choices] == ["src/nodes.py", "src/lines.py"]
    assert "is_docstring is defined in 2 places" in info.value.message
    assert focused_context(repo, task + " (lines.py)", _chunks(), _count,
                           ambiguity="ask") is not None  # the request names the file


def test_no_named_definition_falls_back_to_retrieval(repo: Path) -> None:
    assert focused_context(repo, "Handle a missing file", _chunks(), _count) is None


def test_draft_patch_shows_the_focused_context(repo: Path) -> None:
    reply = ("src/nodes.py\n```python\ndef is_docstring(leaf):\n    \"\"\"Whether leaf is a "
             "docstring.\"\"\"\n    text = helper(leaf)\n    if not text:\n        return False\n"
             "    return text.lstrip('bB').startswith('\"\"\"')\n```\n")
    rt = FakeRuntime([reply])
    events = list(draft_patch(repo, "In is_docstring, accept b prefixes", runtime=rt,
                              index=StaticRetriever(_chunks()),
                              options=PatchOptions(format="function")))
    draft = events[-1]
    assert isinstance(draft, PatchDraft)
    assert draft.error is None, draft.error
    assert draft.files == ["src/nodes.py"]
    assert "### src/nodes.py:8-13" in rt.prompts[0]
    assert "unrelated" not in rt.prompts[0].split("Task:")[-2]  # neighbours left out

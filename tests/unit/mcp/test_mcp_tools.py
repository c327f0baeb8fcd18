"""The MCP tools' own logic: paths an agent may name, reasons, the map's cut, input errors."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from greenpair.core.types import Chunk
from greenpair.mcp import tools
from greenpair.mcp.repomap import repository_map


@pytest.mark.parametrize("path", ["../x.py", "/etc/passwd", "a/../../b", "", "C:/win.py",
                                  "..\\up.py"])
def test_paths_that_leave_the_repository_are_refused(path: str) -> None:
    with pytest.raises(tools.FileNotReadable):
        tools._relative(path)


def test_clean_relative_paths() -> None:
    assert tools._relative("./src//app.py") == "src/app.py"
    assert tools._relative("src\\app.py") == "src/app.py"


def test_reasons_name_the_rank_the_definition_and_the_matched_words() -> None:
    reasons = tools._reasons(1, "src/shop/discounts.py", "apply_discount", "function",
                             "def apply_discount(total, code):", tools._terms(
                                 "where is the discount code applied?"))
    assert reasons[0].startswith("file ranked #1")
    assert "defines function `apply_discount`" in reasons
    assert "path matches discount" in reasons
    assert "code mentions code" in reasons


class _Index:
    def __init__(self, files: dict[str, list[Chunk]]) -> None:
        self.files = files

    def lexical(self) -> Any:
        return SimpleNamespace(paths=list(self.files))

    def file_chunks(self, path: str) -> list[Chunk]:
        return self.files[path]


def test_the_map_lists_top_level_definitions_and_cuts_at_whole_lines() -> None:
    def chunk(path: str, symbol: str, kind: str, line: int, parent: str | None = None) -> Chunk:
        return Chunk(path, "python", line, line + 3, "", kind, symbol, parent)

    index = _Index({
        "src/a.py": [chunk("src/a.py", "A", "class", 1), chunk("src/a.py", "m", "method", 2, "A")],
        "README.md": [Chunk("README.md", "markdown", 1, 5, "text")],
        **{f"pkg/m{i}.py": [chunk(f"pkg/m{i}.py", f"f{i}", "function", 3)] for i in range(400)},
    })
    full = repository_map(index, "repo", limit=10**6)
    assert full.splitlines()[:4] == ["# repo: 402 indexed files", "./", "  README.md", "pkg/"]
    assert "  a.py: class A:1" in full  # the method is inside the class: not listed
    cut = repository_map(index, "repo", limit=2000)
    assert len(cut) <= 2000 + 80
    assert cut.endswith("use search_code for the rest.")


def test_bad_inputs_are_tool_errors_before_any_work() -> None:
    services: Any = SimpleNamespace(repos=[Path("/nowhere")], settings=None)
    with pytest.raises(tools.ToolInputError, match="query is empty"):
        tools.search_code(services, "  ")
    with pytest.raises(tools.ToolInputError, match="k must be"):
        tools.search_code(services, "x", k=0)
    with pytest.raises(tools.ToolInputError, match="not a range"):
        tools.read_span(services, "a.py", 5, 2)
    with pytest.raises(tools.ToolInputError, match="days"):
        tools.energy_report(services, 0)


def _patch_services(repo: Path, replies: list[str]) -> Any:
    from greenpair.core.assistant.retriever import StaticRetriever
    from greenpair.core.config import Settings
    from greenpair.core.energy.meter_protocol import Unmetered
    from greenpair.core.types import ScoredChunk
    from tests.helpers.fake_runtime import FakeRuntime

    chunk = Chunk("src/calc/ops.py", "python", 1, 2, "def add")
    return SimpleNamespace(
        runtime=FakeRuntime(replies), meter=Unmetered(), settings=Settings(check_timeout_s=120),
        resolve_repo=lambda name: repo,
        retriever=lambda root: StaticRetriever([ScoredChunk(chunk, 1.0)]))


def _fix(expr: str) -> str:
    """A whole-function reply (the format the drafting chooses for this model)."""
    return f"```python\ndef add(a, b):\n    return {expr}\n```"


def test_propose_patch_checks_when_asked_and_never_applies(tmp_path: Path) -> None:
    from tests.helpers.check_repos import python_repo, tree_digest

    repo = python_repo(tmp_path / "repo", {
        "src/calc/__init__.py": "",
        "src/calc/ops.py": "def add(a, b):\n    return a - b\n",
        "tests/test_ops.py": "from calc.ops import add\n\n\ndef test_add():\n"
                             "    assert add(2, 3) == 5\n",
    })
    before = tree_digest(repo)
    unchecked = tools.propose_patch(_patch_services(repo, [_fix("a + b")]),
                                    "make add return the sum")
    assert unchecked["valid"]
    assert unchecked["check"]["status"] == "not checked"  # not allowed here yet
    checked = tools.propose_patch(_patch_services(repo, [_fix("a * b"), _fix("a + b")]),
                                  "make add return the sum", check=True)
    assert checked["check"]["status"] == "passed"
    assert checked["check"]["tries"] == 2
    assert "+    return a + b" in checked["diff"]
    assert checked["applied"] is False
    assert tree_digest(repo) == before  # nothing written to the repository

"""The code a failing test ran through: the traced run before drafting (real pytest in
the repository's environment), the ranking of the executed definitions, and their place
in what the model is shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from greenpair.core.assistant.check import CheckOptions, draft_checked
from greenpair.core.assistant.check.checker import (
    TRACE_MODULE,
    check_changes,
    read_trace,
    traced_plan,
)
from greenpair.core.assistant.check.frameworks import Plan
from greenpair.core.assistant.check.suspects import rank_suspects
from greenpair.core.assistant.patch.drafting import PatchDraft, PatchOptions, Status
from greenpair.core.assistant.patch.targets import fuse_suspects
from greenpair.core.assistant.retriever import StaticRetriever
from greenpair.core.energy.meter import Meter
from greenpair.core.types import Chunk, ScoredChunk
from tests.helpers.check_repos import python_repo, tree_digest
from tests.helpers.fake_runtime import FakeRuntime

OPS = "src/calc/ops.py"
FILES = {
    "src/calc/__init__.py": "",
    OPS: """\
def _carry(a, b):
    return a - b


def add(a, b):
    return _carry(a, b)


def sub(a, b):
    return a + -b
""",
    "src/calc/words.py": "def add_words(a, b):\n    return a + ' plus ' + b\n",
    "tests/test_ops.py": """\
from calc.ops import add, sub


def test_add():
    assert add(2, 3) == 5


def test_sub():
    assert sub(3, 2) == 1
""",
}
TASK = "make `tests/test_ops.py::test_add` pass"


@pytest.fixture
def meter() -> Iterator[Meter]:
    m = Meter()
    yield m
    m.close()


@pytest.mark.parametrize("command", ["", "PYTHONPATH=src python -m pytest -q -p no:cacheprovider"])
def test_the_run_before_drafting_records_what_the_failing_test_executed(
        tmp_path: Path, command: str) -> None:
    repo = python_repo(tmp_path / "repo", FILES)
    before = tree_digest(repo)
    task = "make `tests/test_ops.py::test_add` and `tests/test_ops.py::test_sub` pass"
    result = check_changes(repo, [], task=task, trace=True,
                           options=CheckOptions(static=False, test_command=command))
    assert (result.status, result.failed, result.passed) == ("failed", 1, 1)
    names = {(path, name) for path, _line, name in result.executed}
    assert {(OPS, "add"), (OPS, "_carry"), ("tests/test_ops.py", "test_add")} <= names
    assert (OPS, "sub") not in names  # only the passing test ran it
    assert not any(path == "src/calc/words.py" for path, _l, _n in result.executed)
    assert not any(TRACE_MODULE in path for path, _l, _n in result.executed)
    # Only files of the copy: not "<frozen os>" nor a module's relative pseudo-path.
    assert all((repo / path).is_file() for path, _l, _n in result.executed), result.executed
    assert tree_digest(repo) == before  # the plugin went into the scratch copy only
    untraced = check_changes(repo, [], task=task,
                             options=CheckOptions(static=False, test_command=command))
    assert untraced.executed == []
    assert untraced.failed == 1


def test_a_plugin_that_cannot_load_costs_a_plain_rerun_not_the_check(tmp_path: Path) -> None:
    repo = python_repo(tmp_path / "repo", FILES)
    # PYTHONSAFEPATH keeps the working directory (where the plugin is) off sys.path.
    command = "PYTHONSAFEPATH=1 PYTHONPATH=src python -m pytest -q -p no:cacheprovider"
    result = check_changes(repo, [], task=TASK, trace=True,
                           options=CheckOptions(static=False, test_command=command))
    assert (result.status, result.failed, result.tests_run) == (
        "failed", 1, ["tests/test_ops.py::test_add"])
    assert result.executed == []
    assert "assert -1 == 5" in result.output


def test_the_plugin_is_loaded_only_where_it_surely_imports() -> None:
    def command(text: str) -> str | None:
        plan = traced_plan(Plan("command", ["sh", "-c", text], text))
        return plan.argv[2] if plan is not None else None

    assert command("PYTHONPATH=src python3.11 -m pytest -q") == \
        f"PYTHONPATH=src python3.11 -m pytest -p {TRACE_MODULE} -q"
    assert command("pytest -q") is None  # a script's path need not hold the copy
    assert command("cd sub && python -m pytest") is None
    assert command("make test") is None
    own = traced_plan(Plan("pytest", ["/v/bin/python", "-m", "pytest", "-rA", "t.py"], "t"))
    assert own is not None
    assert own.argv == ["/v/bin/python", "-m", "pytest", "-p", TRACE_MODULE, "-rA", "t.py"]
    assert traced_plan(Plan("go", ["go", "test"], "go test")) is None


def test_a_broken_trace_file_is_no_trace(tmp_path: Path) -> None:
    bad = tmp_path / "trace.json"
    for text in ("", "{", '{"tests": 3}', '{"tests": {"t": {"failed": true}}}'):
        bad.write_text(text)
        assert read_trace(bad) is None
    assert read_trace(tmp_path / "missing.json") is None
    bad.write_text('{"tests": {"a": {"failed": true, "functions": [["m.py", 1, "f"]]},'
                   ' "b": {"failed": false, "functions": [["m.py", 9, "g"]]}}}')
    assert read_trace(bad) == [("m.py", 1, "f")]


def test_suspects_are_source_definitions_ranked_by_frames_then_by_the_request(
        tmp_path: Path) -> None:
    repo = python_repo(tmp_path / "repo", {
        "pkg/render.py": """\
import functools


@functools.cache
def render_table(rows):
    def cell(x):
        return str(x)
    return [cell(r) for r in rows]


class Writer:
    def write_header(self, title):
        return title.upper()

    def flush(self):
        return None
""",
        "pkg/test_render.py": "def test_table():\n    pass\n",
        "docs/conf.py": "def setup(app):\n    pass\n",
    })
    executed = [("pkg/render.py", 6, "render_table.<locals>.cell"),  # nested: its def
                ("pkg/render.py", 8, "render_table.<locals>.<listcomp>"),
                ("pkg/render.py", 12, "Writer.write_header"),
                ("pkg/render.py", 15, "Writer.flush"),
                ("pkg/test_render.py", 1, "test_table"),  # a test file
                ("docs/conf.py", 1, "setup"),  # not source
                ("../outside.py", 1, "f"), ("pkg/gone.py", 1, "f")]
    ranked = rank_suspects(repo, executed, "the table header is not upper case")
    assert [(s.name, s.start_line, s.end_line) for s in ranked] == [
        ("write_header", 12, 13), ("render_table", 4, 8), ("flush", 15, 16)]
    # A traceback frame inside a definition puts it first, whatever the words say.
    framed = rank_suspects(repo, executed, "the table header", first=[("pkg/render.py", 16)])
    assert framed[0].name == "flush"
    assert rank_suspects(repo, executed, "x", skip=["pkg/render.py"]) == []
    assert len(rank_suspects(repo, executed, "table", limit=1)) == 1


def test_fusion_puts_what_both_lists_agree_on_first() -> None:
    def chunk(path: str, start: int, end: int) -> ScoredChunk:
        return ScoredChunk(Chunk(path, "python", start, end, "x"), 1.0)

    suspects = [("a.py", 1, 20, "first"), ("b.py", 1, 10, "second")]
    retrieved = [chunk("b.py", 3, 6), chunk("c.py", 1, 5), chunk("d.py", 1, 2)]
    fused = fuse_suspects(suspects, retrieved)
    assert [(sc.chunk.path, sc.chunk.start_line, sc.score) for sc in fused] == [
        ("b.py", 1, 1.5),  # 1/2 as a suspect + 1 retrieved: b.py:3-6 is folded into it
        ("a.py", 1, 1.0), ("c.py", 1, 0.5), ("d.py", 1, pytest.approx(1 / 3))]
    assert fused[0].chunk.symbol == "second"
    tie = fuse_suspects([("a.py", 1, 2, "f")], [chunk("c.py", 1, 5)])
    assert [sc.chunk.path for sc in tie] == ["a.py", "c.py"]  # a tie goes to the suspect
    assert fuse_suspects([], retrieved) == [
        ScoredChunk(sc.chunk, 1 / (1 + i)) for i, sc in enumerate(retrieved)]


def test_the_model_is_shown_the_code_the_failing_test_ran_through(
        tmp_path: Path, meter: Meter) -> None:
    repo = python_repo(tmp_path / "repo", FILES)
    # The search finds only code that merely looks like the request ("add").
    words = ScoredChunk(Chunk("src/calc/words.py", "python", 1, 2, "def add_words"), 1.0)
    reply = f"{OPS}\n<<<<<<< SEARCH\n    return a - b\n=======\n    return a + b\n" \
            ">>>>>>> REPLACE"
    rt = FakeRuntime([reply])
    events = list(draft_checked(repo, TASK, runtime=rt, meter=meter,
                                index=StaticRetriever([words]),
                                options=PatchOptions(format="search_replace"),
                                check=CheckOptions(tries=1, timeout_s=120)))
    draft = events[-1]
    assert isinstance(draft, PatchDraft)
    statuses = [e.text for e in events if isinstance(e, Status)]
    assert f"The failing test ran through add ({OPS}), _carry ({OPS})." in statuses
    shown = rt.prompts[0]
    assert f"### {OPS}" in shown
    assert "def _carry(a, b):" in shown
    assert "def sub(a, b)" not in shown  # the passing test's code is not a suspect
    assert shown.index(f"### {OPS}") < shown.index("### src/calc/words.py")
    check = draft.check
    assert check is not None
    assert (check.status, check.passed) == ("passed", 1)


def test_a_profiler_the_tests_set_is_theirs_again_after_each_test(tmp_path: Path) -> None:
    repo = python_repo(tmp_path / "repo", {
        **FILES,
        "tests/conftest.py": """\
import sys

import pytest

SEEN = []  # the profile function at each test's setup (not traced)


def mine(frame, event, arg):
    pass


sys.setprofile(mine)


@pytest.fixture(autouse=True)
def seen():
    SEEN.append(sys.getprofile())
""",
        "tests/test_profile.py": """\
import sys

from conftest import SEEN, mine


def test_traced():
    assert sys.getprofile().__name__ == "_profile"


def test_given_back():
    assert SEEN == [mine, mine]
"""})
    result = check_changes(repo, [], trace=True, options=CheckOptions(static=False),
                           task="make `tests/test_profile.py::test_traced` and "
                                "`tests/test_profile.py::test_given_back` pass")
    assert (result.status, result.passed) == ("passed", 2), result.output


def test_a_definition_the_request_names_is_still_shown_whole(tmp_path: Path,
                                                             meter: Meter) -> None:
    repo = python_repo(tmp_path / "repo", FILES)
    words = ScoredChunk(Chunk("src/calc/words.py", "python", 1, 2, "def add_words",
                              "function", "add_words"), 1.0)
    rt = FakeRuntime(["no edit"])
    events = list(draft_checked(repo, f"use `add_words` to {TASK}", runtime=rt, meter=meter,
                                index=StaticRetriever([words]),
                                options=PatchOptions(format="search_replace", retries=0),
                                check=CheckOptions(tries=1, timeout_s=120)))
    assert any(isinstance(e, Status) and e.text.startswith("The failing test ran through")
               for e in events)
    assert "### src/calc/words.py" in rt.prompts[0]  # named: shown whole, on its own
    assert f"### {OPS}" not in rt.prompts[0]

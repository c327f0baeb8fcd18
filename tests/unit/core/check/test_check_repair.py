"""The repair loop with a fake runtime of queued replies: the failure goes back to the
model, every try and its check are in the ledger, the best draft is shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from greenpair.core.assistant.check import CheckOptions, draft_checked
from greenpair.core.assistant.check.failure import failing_test_source
from greenpair.core.assistant.patch.drafting import PatchDraft, PatchOptions, Status
from greenpair.core.assistant.retriever import StaticRetriever
from greenpair.core.config import ledger_path
from greenpair.core.energy.ledger import Ledger
from greenpair.core.energy.meter import Meter
from greenpair.core.types import Chunk, ScoredChunk
from tests.helpers.check_repos import python_repo, tree_digest
from tests.helpers.fake_runtime import FakeRuntime

OPS = "src/calc/ops.py"
FILES = {
    "src/calc/__init__.py": "",
    OPS: "def add(a, b):\n    return a - b\n",
    "tests/test_ops.py": """
        from calc.ops import add


        def test_add():
            assert add(2, 3) == 5


        def test_zero():
            assert add(0, 0) == 0
        """,
}
RETRIEVER = StaticRetriever([ScoredChunk(Chunk(OPS, "python", 1, 2, "def add"), 1.0)])


def _reply(expr: str) -> str:
    return f"{OPS}\n<<<<<<< SEARCH\n    return a - b\n=======\n    return {expr}\n>>>>>>> REPLACE"


@pytest.fixture
def meter() -> Iterator[Meter]:
    m = Meter()
    yield m
    m.close()


def _run(repo: Path, rt: FakeRuntime, meter: Meter, **check: object) -> tuple[list, PatchDraft]:
    events = list(draft_checked(repo, "make add return the sum", runtime=rt, meter=meter,
                                index=RETRIEVER, options=PatchOptions(format="search_replace"),
                                check=CheckOptions(**check)))  # type: ignore[arg-type]
    draft = events[-1]
    assert isinstance(draft, PatchDraft)
    return events, draft


def test_a_failure_is_shown_to_the_model_which_repairs_it(tmp_path: Path, meter: Meter) -> None:
    repo = python_repo(tmp_path / "repo", FILES)
    before = tree_digest(repo)
    rt = FakeRuntime([_reply("a * b"), _reply("a + b")])
    events, draft = _run(repo, rt, meter, tries=2, timeout_s=120)
    assert "+    return a + b" in draft.diff
    check = draft.check
    assert check is not None
    assert (check.status, check.tries, check.passed, check.failed) == ("passed", 2, 2, 0)
    assert check.summary == "static check passed · 2 tests passed (2nd try)"
    assert [(a.attempt, a.status) for a in check.attempts] == [(1, "failed"), (2, "passed")]
    assert any(isinstance(e, Status) and "drafting again" in e.text for e in events)
    repair = rt.prompts[1]
    assert "tests/test_ops.py::test_add" in repair
    assert "def test_add():\n    assert add(2, 3) == 5" in repair  # the test's source lines
    assert "assert 6 == 5" in repair  # its trimmed failure
    assert "return a * b" in repair  # the edit that failed
    assert tree_digest(repo) == before
    rows = Ledger(ledger_path()).rows_since(0)
    kinds = [r[1] for r in rows]
    assert kinds.count("patch") == 2
    assert kinds.count("check") == 2
    last = Ledger(ledger_path()).last("check")
    assert last is not None
    assert (last.meta["attempt"], last.meta["status"], last.meta["passed"]) == (2, "passed", 2)
    assert last.joules is not None
    assert check.to_json()["attempts"][1]["check_joules"] == pytest.approx(last.joules, abs=1e-3)
    every = sum(r[2] or 0.0 for r in rows if r[1] in {"patch", "check"})  # the whole request
    assert check.to_json()["total_joules"] == pytest.approx(every, abs=1e-2)


def test_the_better_draft_is_kept_when_the_repair_does_worse(tmp_path: Path,
                                                            meter: Meter) -> None:
    repo = python_repo(tmp_path / "repo", FILES)
    rt = FakeRuntime([_reply("a * b"), _reply("a * b + 1")])
    _, draft = _run(repo, rt, meter, tries=2, timeout_s=120)
    check = draft.check
    assert check is not None
    assert "+    return a * b\n" in draft.diff
    assert (check.status, check.failed, check.tries) == ("failed", 1, 2)
    assert check.summary == ("static check passed · 1 test failed, 1 passed (the 2nd try did "
                             "no better; showing the 1st)")


def test_one_try_means_no_repair(tmp_path: Path, meter: Meter) -> None:
    repo = python_repo(tmp_path / "repo", FILES)
    rt = FakeRuntime([_reply("a * b"), _reply("a + b")])
    _, draft = _run(repo, rt, meter, tries=1, timeout_s=120)
    assert len(rt.prompts) == 1
    assert draft.check is not None
    assert (draft.check.status, draft.check.tries) == ("failed", 1)
    assert draft.to_json()["check"]["status"] == "failed"


def test_no_valid_patch_is_not_checked(tmp_path: Path, meter: Meter) -> None:
    repo = python_repo(tmp_path / "repo", FILES)
    rt = FakeRuntime(["no edit here", "still none", "none again", "and none"])
    _, draft = _run(repo, rt, meter, tries=2, timeout_s=120)
    assert draft.error is not None
    assert draft.check is not None
    assert draft.check.status == "skipped"
    assert draft.check.summary == "not checked: no valid patch to check"
    assert [a.status for a in draft.check.attempts] == ["no_patch", "no_patch"]


def test_a_draft_with_no_usable_edit_is_drafted_again_sampled(tmp_path: Path,
                                                               meter: Meter) -> None:
    repo = python_repo(tmp_path / "repo", FILES)
    same = _reply("a - b")  # changes nothing, twice (the draft's own retry)
    rt = FakeRuntime([same, same, _reply("a + b")])
    events, draft = _run(repo, rt, meter, tries=2, timeout_s=120)
    assert rt.temperatures == [0.0, 0.0, 0.6]  # greedy would write the same edit again
    assert "That edit cannot be used: The edit changes nothing" in rt.prompts[2]
    assert any(isinstance(e, Status) and e.text.startswith("No usable edit") for e in events)
    assert draft.check is not None
    assert draft.check.summary == "static check passed · 2 tests passed (2nd try)"
    assert [a.status for a in draft.check.attempts] == ["no_patch", "passed"]
    one = FakeRuntime([same, same, _reply("a + b")])
    _, only = _run(python_repo(tmp_path / "one", FILES), one, meter, tries=1, timeout_s=120)
    assert len(one.prompts) == 2  # one try: the draft's own retry only
    assert only.check is not None
    assert only.check.status == "skipped"


def test_a_repair_that_repeats_a_failed_edit_ends_the_loop_unchecked(tmp_path: Path,
                                                                    meter: Meter) -> None:
    repo = python_repo(tmp_path / "repo", FILES)
    wrong = _reply("a * b")
    rt = FakeRuntime([wrong, wrong, _reply("a + b")])
    events, draft = _run(repo, rt, meter, tries=3, timeout_s=120)
    assert len(rt.prompts) == 2  # no third try after the repeat
    check = draft.check
    assert check is not None
    assert [(a.attempt, a.status) for a in check.attempts] == [(1, "failed"), (2, "repeat")]
    assert (check.status, check.tries) == ("failed", 2)
    assert check.summary == ("static check passed · 1 test failed, 1 passed (the 2nd try "
                             "wrote the same edit again)")
    assert "+    return a * b" in draft.diff
    assert any(isinstance(e, Status) and "not checked twice" in e.text for e in events)
    kinds = [r[1] for r in Ledger(ledger_path()).rows_since(0)]
    assert (kinds.count("patch"), kinds.count("check")) == (2, 1)  # the repeat: no check
    assert check.attempts[1].draft_joules is not None  # its draft still counts
    assert check.to_json()["total_joules"] == pytest.approx(
        sum(r[2] or 0.0 for r in Ledger(ledger_path()).rows_since(0)), abs=1e-2)


def test_test_source_finds_pytest_and_unittest_ids(tmp_path: Path) -> None:
    repo = python_repo(tmp_path / "repo", {
        "tests/test_a.py": "class TestA:\n    @mark\n    def test_b(self, x):\n        assert x\n"
                           "\n    def test_c(self):\n        pass\n",
    })
    assert failing_test_source(repo, "tests/test_a.py::TestA::test_b[1-2]") == (
        "    @mark\n    def test_b(self, x):\n        assert x")
    assert failing_test_source(repo, "tests.test_a.TestA.test_c") == "    def test_c(self):\n        pass"
    assert failing_test_source(repo, "../etc/passwd::x") == ""


def test_test_source_finds_a_javascript_test_by_its_title(tmp_path: Path) -> None:
    repo = python_repo(tmp_path / "repo", {
        "tests/cart.test.js": "import { test } from 'node:test';\n\n"
                              "describe('cart', () => {\n"
                              "  it('adds', () => {});\n"
                              "  test.only(\"empty [edge]\", () => {\n"
                              "    assert.equal(total([]), 0);\n"
                              "  });\n"
                              "  it('later', () => {});\n"
                              "});\n",
    })
    assert failing_test_source(repo, "tests/cart.test.js > cart > empty [edge]") == (
        '  test.only("empty [edge]", () => {\n    assert.equal(total([]), 0);\n  });')
    # jest's and vitest's full name: the describe titles and the test's own
    assert failing_test_source(repo, "tests/cart.test.js > cart empty [edge]").startswith(
        '  test.only("empty [edge]"')
    # a title not found (written with a template): the file's first lines
    assert failing_test_source(repo, "tests/cart.test.js > cart > gone").startswith(
        "import { test } from 'node:test';\n\ndescribe('cart', () => {")


def test_a_named_failing_test_is_run_first_and_targeted(tmp_path: Path, meter: Meter) -> None:
    repo = python_repo(tmp_path / "repo", FILES)
    rt = FakeRuntime([_reply("a + b")])
    events = list(draft_checked(repo, "make `tests/test_ops.py::test_add` pass", runtime=rt,
                                meter=meter, index=RETRIEVER,
                                options=PatchOptions(format="search_replace"),
                                check=CheckOptions(tries=2, timeout_s=120)))
    draft = events[-1]
    assert isinstance(draft, PatchDraft)
    first = rt.prompts[0]
    assert "The test fails now:" in first  # the failure, before the first draft
    assert "assert -1 == 5" in first
    assert "def test_add():" in first
    statuses = [e.text for e in events if isinstance(e, Status)]
    assert "Before the change: 1 test failed, 0 passed." in statuses
    check = draft.check
    assert check is not None
    assert (check.status, check.tests_run) == ("passed", ["tests/test_ops.py::test_add"])
    assert check.summary == "static check passed · 1 test passed"
    last = Ledger(ledger_path()).last("check")
    assert last is not None
    assert last.meta["attempt"] == 1
    kinds = [r[1] for r in Ledger(ledger_path()).rows_since(0)]
    assert kinds.count("check") == 2  # the run before drafting, and the draft's check


def test_an_edit_of_the_named_test_is_not_a_fix(tmp_path: Path, meter: Meter) -> None:
    repo = python_repo(tmp_path / "repo", FILES)
    test_chunk = ScoredChunk(Chunk("tests/test_ops.py", "python", 4, 5, "def test_add"), 2.0)
    cheat = ("tests/test_ops.py\n<<<<<<< SEARCH\n    assert add(2, 3) == 5\n=======\n"
             "    assert add(2, 3) == -1\n>>>>>>> REPLACE")
    rt = FakeRuntime([cheat, _reply("a + b")])
    events = list(draft_checked(repo, "make tests/test_ops.py::test_add pass", runtime=rt,
                                meter=meter, index=StaticRetriever([test_chunk, RETRIEVER.chunks[0]]),
                                options=PatchOptions(format="search_replace"),
                                check=CheckOptions(tries=2, timeout_s=120)))
    draft = events[-1]
    assert isinstance(draft, PatchDraft)
    assert "### tests/test_ops.py" not in rt.prompts[0]  # the named test is not offered
    assert "### src/calc/ops.py" in rt.prompts[0]
    # refused when drafted, before any check is spent on it, and drafted again
    assert "which must stay as it is (the test the request names" in rt.prompts[1]
    check = draft.check
    assert check is not None
    assert [a.status for a in check.attempts] == ["passed"]
    assert (check.status, check.tests_run) == ("passed", ["tests/test_ops.py::test_add"])
    assert draft.files == [OPS]


def test_a_request_naming_a_failing_test_is_shown_source_not_other_tests(
        tmp_path: Path, meter: Meter) -> None:
    repo = python_repo(tmp_path / "repo", {
        **FILES, "tests/test_more.py": "from calc.ops import add\n\n\ndef test_more():\n"
                                       "    assert add(1, 1) == 2\n"})
    other_test = ScoredChunk(Chunk("tests/test_more.py", "python", 4, 5, "def test_more"), 3.0)
    rt = FakeRuntime([_reply("a + b")])
    list(draft_checked(repo, "make tests/test_ops.py::test_add pass", runtime=rt, meter=meter,
                       index=StaticRetriever([other_test, RETRIEVER.chunks[0]]),
                       options=PatchOptions(format="search_replace"),
                       check=CheckOptions(tries=1, timeout_s=120)))
    assert "### tests/test_more.py" not in rt.prompts[0]
    assert "### src/calc/ops.py" in rt.prompts[0]
    # With nothing but tests found, the tests are shown rather than nothing.
    rt = FakeRuntime([_reply("a + b")])
    list(draft_checked(repo, "make tests/test_ops.py::test_add pass", runtime=rt, meter=meter,
                       index=StaticRetriever([other_test]),
                       options=PatchOptions(format="search_replace"),
                       check=CheckOptions(tries=1, timeout_s=120)))
    assert "### tests/test_more.py" in rt.prompts[0]


def test_failure_focus_names_the_definitions_a_traceback_went_through(tmp_path: Path) -> None:
    from greenpair.core.assistant.check.failure import failure_focus
    from greenpair.core.assistant.check.result import TestOutcome

    repo = python_repo(tmp_path / "repo", {
        "six.py": "X = 1\n\n\ndef add_metaclass(m):\n    def wrapper(cls):\n"
                  "        return cls.__dict__['a']\n    return wrapper\n",
        "test_six.py": "import six\n\n\ndef test_it():\n    six.add_metaclass(1)(object)\n",
    })
    message = ("test_six.py:5: in test_it\n    six.add_metaclass(1)(object)\n"
               "six.py:6: in wrapper\n    return cls.__dict__['a']\nE   KeyError: 'a'\n")
    outcome = TestOutcome("test_six.py::test_it", False, message)
    assert failure_focus(repo, [outcome]) == ["add_metaclass"]
    # the traceback's definitions first, then what the failing line calls
    assert failure_focus(repo, [outcome], {"six.py": "class Moved:\n" * 6}) == \
        ["Moved", "add_metaclass"]
    assert failure_focus(repo, [TestOutcome("t", False, "../x.py:1: in f\n")]) == []


def test_a_long_test_is_shown_around_the_line_that_failed(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(60))
    repo = python_repo(tmp_path / "repo", {"test_long.py": f"def test_long():\n{body}"})
    shown = failing_test_source(repo, "test_long.py::test_long", failed_line=50)
    lines = shown.splitlines()
    assert lines[:2] == ["def test_long():", "    # …"]
    assert "    x48 = 48" in lines  # line 50 of the file, the one that failed...
    assert lines[-1] == "    x49 = 49"  # ...with the lines before it and one after
    assert len(lines) <= 32
    short = failing_test_source(repo, "test_long.py::test_long")
    assert short.splitlines()[1] == "    x0 = 0"


def test_a_users_pytest_command_runs_the_named_test_first_and_only_it(
        tmp_path: Path, meter: Meter) -> None:
    repo = python_repo(tmp_path / "repo", {
        **FILES, "tests/test_slow.py": "import time\n\n\ndef test_slow():\n    time.sleep(600)\n"})
    rt = FakeRuntime([_reply("a + b")])
    command = "PYTHONPATH=src python -m pytest -q -p no:cacheprovider"
    events = list(draft_checked(repo, "make `tests/test_ops.py::test_add` pass", runtime=rt,
                                meter=meter, index=RETRIEVER,
                                options=PatchOptions(format="search_replace"),
                                check=CheckOptions(tries=2, timeout_s=60,
                                                   test_command=command)))
    draft = events[-1]
    assert isinstance(draft, PatchDraft)
    assert "assert -1 == 5" in rt.prompts[0]  # the failure, before the first draft
    check = draft.check
    assert check is not None
    assert check.command == f"{command} -rA tests/test_ops.py::test_add"
    assert (check.status, check.tests_run) == ("passed", ["tests/test_ops.py::test_add"])


def test_the_focus_follows_what_a_failing_assertion_calls(tmp_path: Path) -> None:
    from greenpair.core.assistant.check.failure import failure_focus
    from greenpair.core.assistant.check.result import TestOutcome

    repo = python_repo(tmp_path / "repo", {
        "src/pkg/paths.py": "def samefile_nofollow(a, b):\n    return True\n",
        "testing/test_paths.py": "from pkg.paths import samefile_nofollow\n\n\n"
                                 "def test_zero_id(tmp_path):\n"
                                 "    assert not samefile_nofollow(tmp_path, tmp_path)\n"})
    message = f"""\
{tmp_path}/scratch-7/testing/test_paths.py:5: in test_zero_id
    assert not samefile_nofollow(p1, p2)
E   AssertionError: assert not True
E    +  where True = samefile_nofollow(PosixPath('/tmp/a'), PosixPath('/tmp/b'))"""
    outcome = TestOutcome("testing/test_paths.py::test_zero_id", False, message)
    assert failure_focus(repo, [outcome]) == ["samefile_nofollow"]
    # the scratch copy's absolute path still finds the test's line
    assert "assert not samefile_nofollow" in failing_test_source(
        repo, outcome.id, 5)


def test_unchecked_drafts_read_the_named_test_and_never_edit_it(tmp_path: Path) -> None:
    from greenpair.core.assistant.check import draft_unchecked

    repo = python_repo(tmp_path / "repo", FILES)
    test_chunk = ScoredChunk(Chunk("tests/test_ops.py", "python", 4, 5, "def test_add"), 2.0)
    shown = StaticRetriever([test_chunk, *RETRIEVER.chunks])  # the search ranks the test first
    task = "Make `tests/test_ops.py::test_add` pass."
    edit_test = ("tests/test_ops.py\n<<<<<<< SEARCH\n    assert add(2, 3) == 5\n=======\n"
                 "    assert True\n>>>>>>> REPLACE")
    rt = FakeRuntime([edit_test, edit_test])
    *_, draft = draft_unchecked(repo, task, runtime=rt, index=shown,
                                options=PatchOptions(format="search_replace"))
    assert isinstance(draft, PatchDraft)
    prompt = rt.prompts[0]
    assert "The test (not run: checks are off in this repository):" in prompt
    assert "def test_add():\n    assert add(2, 3) == 5" in prompt  # its source, as evidence
    assert "Change the code (not the test)" in prompt
    assert "tests/test_ops.py\n" not in prompt.split("The test (not run")[0]  # not shown to edit
    assert draft.error is not None  # an edit of the named test is refused, not shown
    assert draft.diff == ""
    rt = FakeRuntime([_reply("a + b")])
    *_, draft = draft_unchecked(repo, "make add return the sum", runtime=rt, index=shown,
                                options=PatchOptions(format="search_replace"))
    assert "The test (not run" not in rt.prompts[0]  # a request naming no test: as before

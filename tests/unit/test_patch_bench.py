"""The patch benchmark's own logic (``benchmarks/patch_bench``) on a tiny synthetic git
repository: building a task from a commit, loading tasks, and judging a patched tree
(resolved, broken PASS_TO_PASS, false passes). No model runs; the diffs are fakes."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.helpers.tools import require_tool

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "patch_bench"

BUGGY = "def add(a, b):\n    return a - b\n\n\ndef neg(a):\n    return -a\n"
FIXED = "def add(a, b):\n    return a + b\n\n\ndef neg(a):\n    return -a\n"
OLD_TESTS = "from calc import neg\n\n\ndef test_neg():\n    assert neg(2) == -2\n"
NEW_TESTS = OLD_TESTS + "\n\ndef test_add():\n    from calc import add\n\n" \
    "    assert add(2, 3) == 5\n"


def _load(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f"patch_bench_{name}", BENCH / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def _diff(path: str, before: str, after: str) -> str:
    import difflib

    lines = difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                 f"a/{path}", f"b/{path}")
    return f"diff --git a/{path} b/{path}\n" + "".join(lines)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A repository whose second commit fixes ``add`` and adds its test."""
    repo = tmp_path_factory.mktemp("synthetic")
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "bench@example.invalid")
    _git(repo, "config", "user.name", "bench")
    (repo / "src").mkdir()
    (repo / "testing").mkdir()
    (repo / "src" / "calc.py").write_text(BUGGY)
    (repo / "testing" / "test_calc.py").write_text(OLD_TESTS)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "calc")
    parent = _git(repo, "rev-parse", "HEAD")
    (repo / "src" / "calc.py").write_text(FIXED)
    (repo / "testing" / "test_calc.py").write_text(NEW_TESTS)
    _git(repo, "commit", "-q", "-am", "Fix add() subtracting\n\nIt returned a - b.")
    return repo, parent, _git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def task(history: tuple[Path, str, str]) -> dict:
    """The task ``build_tasks`` makes of the fixing commit."""
    repo, parent, commit = history
    build = _load("build_tasks")
    cand = {"commit": commit, "parent": parent, "source_files": ["src/calc.py"],
            "source_lines": 2, "test_files": ["testing/test_calc.py"],
            "testing_paths": ["testing/test_calc.py"]}
    built, reason = build.build_one(repo, cand, sys.executable, 120, str(repo), commit)
    assert built is not None, reason
    return built


def test_build_finds_fail_to_pass_and_pass_to_pass(task: dict) -> None:
    assert task["FAIL_TO_PASS"] == ["testing/test_calc.py::test_add"]
    assert task["PASS_TO_PASS"] == ["testing/test_calc.py::test_neg"]
    assert task["request"] == "Fix add() subtracting\n\nIt returned a - b."
    assert "+def test_add():" in task["test_patch"]


def test_is_test_file_follows_pytest_python_files() -> None:
    lib = _load("bench_lib")
    assert lib.is_test_file("testing/test_mark.py")
    assert lib.is_test_file("testing/python/fixtures.py")
    assert not lib.is_test_file("testing/python/conftest.py")
    assert not lib.is_test_file("testing/example_scripts/test_x.py")
    assert not lib.is_test_file("src/_pytest/test_x.py")


def test_each_project_knows_its_own_tests_and_package() -> None:
    lib = _load("bench_lib")
    click, pytest_ = lib.PROJECTS["click"], lib.PROJECTS["pytest"]
    assert click.is_test_file("tests/test_options.py")
    assert click.is_test_file("tests/typing/test_group_kw_options.py")
    assert not click.is_test_file("tests/conftest.py")
    assert not click.is_test_file("testing/test_mark.py")
    assert not click.is_test_file("src/click/testing.py")
    assert pytest_.is_test_file("testing/python/fixtures.py")  # pytest's own python_files
    assert not pytest_.is_test_file("tests/test_options.py")
    assert (click.source_prefix, pytest_.source_prefix) == ("src/click/", "src/_pytest/")


def test_load_tasks_checks_keys_and_slices(tmp_path: Path, task: dict) -> None:
    run = _load("run")
    path = tmp_path / "tasks.jsonl"
    second = {**task, "instance_id": "two"}
    path.write_text(json.dumps(task) + "\n\n" + json.dumps(second) + "\n")
    assert [t["instance_id"] for t in run.load_tasks(path)] == [task["instance_id"], "two"]
    assert [t["instance_id"] for t in run.load_tasks(path, limit=1, offset=1)] == ["two"]
    path.write_text(json.dumps({**task, "FAIL_TO_PASS": []}) + "\n")
    with pytest.raises(ValueError, match="no FAIL_TO_PASS"):
        run.load_tasks(path)
    path.write_text(json.dumps({"instance_id": "x"}) + "\n")
    with pytest.raises(ValueError, match="lacks"):
        run.load_tasks(path)


def test_requests_per_mode(task: dict) -> None:
    run = _load("run")
    assert run.request_for(task, "hidden") == task["request"]
    assert run.request_for(task, "failing_test") == "Make `testing/test_calc.py::test_add` pass."


def test_hidden_mode_scratch_has_no_new_tests(history: tuple[Path, str, str],
                                              task: dict) -> None:
    repo = history[0]
    run = _load("run")
    run.prepare_scratch(repo, task, "hidden")
    assert "test_add" not in (repo / "testing" / "test_calc.py").read_text()
    run.prepare_scratch(repo, task, "failing_test")
    assert "test_add" in (repo / "testing" / "test_calc.py").read_text()
    assert (repo / "src" / "calc.py").read_text() == BUGGY


def test_right_patch_resolves_without_false_passes(history: tuple[Path, str, str],
                                                    task: dict) -> None:
    repo = history[0]
    run = _load("run")
    run.prepare_scratch(repo, task, "hidden")
    check = {"status": "passed", "tests_run": [
        {"name": "testing/test_calc.py::test_neg", "status": "passed"}]}
    row = run.evaluate(repo, task, "hidden", _diff("src/calc.py", BUGGY, FIXED),
                       sys.executable, 120, check)
    assert row["applied"]
    assert row["resolved"]
    assert row["fail_to_pass"] == "1/1"
    assert row["pass_to_pass_broken"] == 0
    assert row["false_passes"] == []


def test_patch_that_breaks_a_passing_test_is_not_resolved(
        history: tuple[Path, str, str], task: dict) -> None:
    repo = history[0]
    run = _load("run")
    run.prepare_scratch(repo, task, "hidden")
    wrong = FIXED.replace("return -a", "return a")
    row = run.evaluate(repo, task, "hidden", _diff("src/calc.py", BUGGY, wrong),
                       sys.executable, 120, None)
    assert row["applied"]
    assert not row["resolved"]
    assert row["fail_to_pass"] == "1/1"
    assert row["pass_to_pass_broken"] == 1


def test_reported_pass_that_fails_is_a_false_pass(history: tuple[Path, str, str],
                                                  task: dict) -> None:
    repo = history[0]
    run = _load("run")
    run.prepare_scratch(repo, task, "failing_test")
    edit = BUGGY.replace("def neg(a):", "def neg(a):  # touched")
    # the tool claims both tests pass, paths relative to another root
    check = {"status": "passed", "tests_run": {"test_calc.py::test_add": "passed",
                                               "test_calc.py::test_neg": "passed"}}
    row = run.evaluate(repo, task, "failing_test", _diff("src/calc.py", BUGGY, edit),
                       sys.executable, 120, check)
    assert not row["resolved"]
    assert row["false_passes"] == ["test_calc.py::test_add"]


def _hidden_row_with_neg_broken(history: tuple[Path, str, str], task: dict,
                                tests_run: dict[str, str]) -> dict:
    """The hidden-mode row of a patch that breaks ``neg`` (and leaves ``add`` wrong), whose
    check said ``tests_run`` passed."""
    repo = history[0]
    run = _load("run")
    run.prepare_scratch(repo, task, "hidden")
    broken = BUGGY.replace("return -a", "return a")
    return run.evaluate(repo, task, "hidden", _diff("src/calc.py", BUGGY, broken),
                        sys.executable, 120, {"status": "passed", "tests_run": tests_run})


def test_hidden_mode_judges_a_reported_pass_on_the_tree_the_tool_checked(
        history: tuple[Path, str, str], task: dict) -> None:
    """A test the tool ran and called passing is judged as the tool ran it: the commit's
    tests may reuse its id for another body (here ``test_add``, which the checked tree
    lacks), and a pass that really fails on the checked tree is still a false pass."""
    row = _hidden_row_with_neg_broken(history, task, {
        "testing/test_calc.py::test_neg": "passed", "testing/test_calc.py::test_add": "passed"})
    assert row["applied"]
    assert not row["resolved"]
    assert row["false_passes"] == ["testing/test_calc.py::test_neg"]
    assert row["by_id_after_commit_tests"] == ["testing/test_calc.py::test_add"]


def test_hidden_mode_names_from_another_root_are_judged_by_id(
        history: tuple[Path, str, str], task: dict) -> None:
    """Names the tree cannot run as given (another root) fall back to the judge by id."""
    row = _hidden_row_with_neg_broken(history, task, {"test_calc.py::test_neg": "passed"})
    assert row["false_passes"] == ["test_calc.py::test_neg"]


def test_failing_mode_passed_verdict_without_tests_is_a_false_pass(
        history: tuple[Path, str, str], task: dict) -> None:
    repo = history[0]
    run = _load("run")
    run.prepare_scratch(repo, task, "failing_test")
    row = run.evaluate(repo, task, "failing_test", "", sys.executable, 120,
                       {"status": "passed", "tests_run": []})
    assert not row["applied"]
    assert not row["resolved"]
    assert row["false_passes"] == ["testing/test_calc.py::test_add"]


def test_patch_editing_the_tests_is_judged_on_the_commit_tests(
        history: tuple[Path, str, str], task: dict) -> None:
    repo = history[0]
    run = _load("run")
    run.prepare_scratch(repo, task, "failing_test")
    tests = (repo / "testing" / "test_calc.py").read_text()
    cheat = _diff("testing/test_calc.py", tests, tests.replace("== 5", "== -1"))
    row = run.evaluate(repo, task, "failing_test", cheat, sys.executable, 120, None)
    assert row["applied"]
    assert not row["resolved"]


def test_summary_counts_per_mode_and_config() -> None:
    run = _load("run")
    rows = [
        {"instance_id": "a", "mode": "hidden", "config": "nocheck", "resolved": True,
         "applied": True, "seconds": 10.0, "joules": 100.0, "false_passes": []},
        {"instance_id": "b", "mode": "hidden", "config": "nocheck", "resolved": False,
         "applied": True, "seconds": 30.0, "joules": 300.0, "false_passes": ["t"]},
        {"instance_id": "c", "mode": "hidden", "config": "nocheck", "resolved": False,
         "applied": False, "seconds": 900.0, "joules": None, "false_passes": [],
         "error": "timeout"},
        {"instance_id": "a", "mode": "hidden", "config": "check", "unavailable": "no --check"},
        {"instance_id": "a", "mode": "failing_test", "config": "check", "resolved": False,
         "applied": True, "seconds": 50.0, "joules": 100.0, "check_joules": 450.0,
         "false_passes": []},  # the whole request's energy counts, not the shown draft's
    ]
    table = run.summarize(rows)
    assert "| hidden | nocheck | 3 | 1 (33%) | 2 | 30.0 | 200.0 | - | 1 | 1 (1) |" in table
    assert "| hidden | check | 0 | unavailable: no --check |" in table
    assert "| failing_test | check | 1 | 0 (0%) | 1 | 50.0 | 450.0 |" in table


def test_localise_finds_the_lines_the_commit_changed(history: tuple[Path, str, str],
                                                      task: dict) -> None:
    localise = _load("localise")
    repo, _parent, _commit = history
    gold = localise.changed_lines(repo, task)
    assert gold == {"src/calc.py": {2}}  # `return a - b`, in the parent's numbering
    # Items inside an earlier one are folded into it; ranks are 1-based.
    assert localise.first_hit([("src/calc.py", 1, 2)], gold) == 1
    assert localise.first_hit([("src/other.py", 1, 9), ("src/other.py", 2, 3),
                               ("src/calc.py", 5, 6), ("src/calc.py", 1, 3)], gold) == 3
    assert localise.first_hit([("src/calc.py", 4, 6)], gold) is None


def test_narrow_drafts_at_the_top_items_or_the_first_gold_one() -> None:
    narrow = _load("narrow")
    from greenpair.core.types import Chunk, ScoredChunk

    def item(path: str, start: int, end: int) -> ScoredChunk:
        return ScoredChunk(Chunk(path, "python", start, end, "", kind="function"), 1.0)

    fused = [item("src/other.py", 1, 9), item("src/calc.py", 5, 6), item("src/calc.py", 1, 3),
             item("src/calc.py", 1, 2)]
    gold = {"src/calc.py": {2}}
    assert narrow.locations(fused, gold, "top", 2) == fused[:2]
    assert narrow.locations(fused, gold, "gold", 2) == [fused[2]]  # the first that holds it
    assert narrow.locations(fused[:2], gold, "gold", 2) == []  # no item holds a changed line


def test_narrow_summary_counts_tries_repeats_and_resolved_tasks() -> None:
    narrow = _load("narrow")
    rows = [
        {"locations": [{"seconds": 10.0, "tries": [{"status": "no_patch"}]},
                       {"seconds": 50.0, "resolved": True,
                        "tries": [{"status": "failed"}, {"status": "passed"}]}]},
        {"locations": [{"seconds": 40.0, "resolved": False,
                        "tries": [{"status": "failed"}, {"status": "repeat"}]}]},
        {"locations": []},  # --where gold and no item held a changed line
    ]
    assert narrow.summarize(rows).splitlines()[-1] == "| 3 | 3 | 5 | 3 | 1 | 1 | 1 | 40.0 |"


def test_commander_is_a_javascript_project_judged_by_jest(tmp_path: Path) -> None:
    lib = _load("bench_lib")
    commander = lib.PROJECTS["commander"]
    assert commander.runner == "jest"
    assert "package.json" in commander.packaging
    assert commander.is_test_file("tests/command.alias.test.js")
    assert not commander.is_test_file("tests/fixtures/pm.js")
    assert not commander.is_test_file("tests/commander.test-d.ts")
    assert lib.project_of({"instance_id": "commander-63eed4aa0543"}) is commander
    assert lib.project_of({"instance_id": "click-a2ac5839f29f"}) is lib.PROJECTS["click"]
    assert lib.test_file_of("tests/a.test.js > suite > when x then y") == "tests/a.test.js"
    assert lib.test_file_of("testing/test_x.py::TestA::test_b[1]") == "testing/test_x.py"
    report = {"testResults": [
        {"name": str(tmp_path / "tests/a.test.js"), "status": "failed", "assertionResults": [
            {"fullName": "suite when x then y", "status": "passed"},
            {"fullName": "suite when z", "status": "failed"},
            {"fullName": "suite later", "status": "pending"}]},
        {"name": str(tmp_path / "tests/b.test.js"), "status": "failed",
         "assertionResults": []}]}
    run = lib.TestRun()
    lib.read_jest_report(report, tmp_path, run)
    assert run.outcomes == {"tests/a.test.js > suite when x then y": "passed",
                            "tests/a.test.js > suite when z": "failed",
                            "tests/a.test.js > suite later": "skipped"}
    assert run.collect_errors == ["tests/b.test.js"]
    verdict = lib.judge(run, ["tests/a.test.js > suite when z"],
                        ["tests/a.test.js > suite when x then y"])
    assert not verdict.resolved
    assert verdict.failing == ["tests/a.test.js > suite when z"]


def test_a_file_reported_passing_covers_its_tests() -> None:
    lib = _load("bench_lib")
    assert lib.same_test("tests/a.test.js > suite when x", "tests/a.test.js")
    assert lib.same_test("testing/test_x.py::test_y", "testing/test_x.py")
    assert not lib.same_test("tests/a.test.js > suite when x", "tests/a.test")
    run = lib.TestRun(outcomes={"tests/a.test.js > suite when x": "failed",
                                "tests/b.test.js > ok": "passed"})
    assert lib.false_passes({"tests/a.test.js": "passed", "tests/b.test.js": "passed"}, run,
                            "hidden", None, "passed") == ["tests/a.test.js"]


def test_replay_collects_only_the_drafts_that_broke_the_syntax(tmp_path: Path) -> None:
    replay = _load("replay_mend")
    folder = tmp_path / "replies"
    folder.mkdir()
    broken = {"error": "The edit breaks the syntax of lib/a.js (2 new syntax errors).",
              "format": "search_replace", "reply": "lib/a.js\n<<<<<<< SEARCH\n", "model": "m"}
    (folder / "t-1.failing_test.check.json").write_text(json.dumps(broken))
    (folder / "t-1.hidden.nocheck.json").write_text(json.dumps({**broken, "error": None}))
    (tmp_path / "again").mkdir()  # the same reply recorded by another run counts once
    (tmp_path / "again" / "t-1.failing_test.check.json").write_text(json.dumps(broken))
    out = tmp_path / "rows.jsonl"
    assert replay.collect([folder, tmp_path / "again"], out) == 1
    row = json.loads(out.read_text())
    assert (row["instance_id"], row["mode"], row["config"]) == ("t-1", "failing_test", "check")
    assert row["reply"] == broken["reply"]


GO_BUGGY = "package calc\n\n// Add adds.\nfunc Add(a, b int) int { return a - b }\n"
GO_FIXED = GO_BUGGY.replace("a - b", "a + b")
GO_OLD_TESTS = ('package calc\n\nimport "testing"\n\n'
                "func TestZero(t *testing.T) {\n\tif Add(0, 0) != 0 {\n\t\tt.Fatal(0)\n\t}\n}\n")
GO_NEW_TESTS = GO_OLD_TESTS + ("\nfunc TestAdd(t *testing.T) {\n\tif Add(2, 3) != 5 {\n"
                               '\t\tt.Fatal("2+3")\n\t}\n}\n')


def test_a_go_module_is_judged_by_go_test(tmp_path: Path) -> None:
    require_tool("go", "packaging/linux/apt-packages.txt: golang-go")
    lib = _load("bench_lib")
    build = _load("build_tasks")
    mux = lib.PROJECTS["mux"]
    assert (mux.runner, lib.project_of({"instance_id": "pflag-298bcdf4e200"}).runner) == \
        ("go", "go")
    assert mux.source("route.go")
    assert mux.source("internal/x/y.go")
    assert not mux.source("route_test.go")
    assert not mux.source("testdata/a.go")
    assert not mux.source("_example/main.go")
    assert not mux.source("README.md")
    assert mux.test_path("route_test.go")
    assert mux.test_path("testdata/case.toml")
    assert not mux.test_path("route.go")
    repo = tmp_path / "calc"
    (repo / "calc").mkdir(parents=True)
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "bench@example.invalid")
    _git(repo, "config", "user.name", "bench")
    (repo / "go.mod").write_text("module example.com/calc\n\ngo 1.19\n")
    (repo / "calc" / "calc.go").write_text(GO_BUGGY)
    (repo / "calc" / "calc_test.go").write_text(GO_OLD_TESTS)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "calc")
    (repo / "calc" / "calc.go").write_text(GO_FIXED)
    (repo / "calc" / "calc_test.go").write_text(GO_NEW_TESTS)
    _git(repo, "commit", "-q", "-am", "Fix Add subtracting")
    head = _git(repo, "rev-parse", "HEAD")
    [cand] = build.candidates(repo, head, "2000-01-01", 2, 40, mux)
    assert (cand["source_files"], cand["test_files"], cand["testing_paths"]) == (
        ["calc/calc.go"], ["calc/calc_test.go"], ["calc/calc_test.go"])
    task, reason = build.build_one(repo, cand, "", 120, str(repo), head, mux)
    assert task is not None, reason
    # before the fix TestAdd fails; TestZero passes on both; ids as a request names them
    assert task["FAIL_TO_PASS"] == ["calc/calc_test.go::TestAdd"]
    assert task["PASS_TO_PASS"] == ["calc/calc_test.go::TestZero"]
    # a package that does not build: its tests are missing, never passed
    (repo / "calc" / "calc.go").write_text(GO_FIXED.replace("a + b", "a +"))
    broken = lib.run_tests("", repo, ["calc/calc_test.go"], 120)
    assert broken.outcomes == {}
    assert broken.collect_errors == ["calc"]
    assert not lib.judge(broken, task["FAIL_TO_PASS"], task["PASS_TO_PASS"]).resolved

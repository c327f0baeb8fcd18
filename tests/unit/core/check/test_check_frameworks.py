"""Reading each test runner's results (outputs as the runners print them)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from greenpair.core.assistant.check.discovery import Found
from greenpair.core.assistant.check.frameworks import (
    command_plan,
    command_targets_tests,
    js_runner,
    node_options,
    parse_any,
    parse_cargo,
    parse_go,
    parse_jest_json,
    parse_mocha_json,
    parse_pytest,
    parse_unittest,
    plan_for,
)
from greenpair.core.assistant.check.node_reporter import parse_report
from greenpair.core.assistant.check.result import CheckResult, StaticResult, summarise

PYTEST = """\
.F                                                                       [100%]
=================================== FAILURES ===================================
_________________________________ TestOps.test_add _________________________________
tests/test_ops.py:5: in test_add
    assert add(2, 3) == 5
E   assert -1 == 5
==================================== PASSES ====================================
=========================== short test summary info ============================
PASSED tests/test_ops.py::test_zero
FAILED tests/test_ops.py::TestOps::test_add - assert -1 == 5
ERROR tests/test_io.py - ImportError: no module named io2
1 failed, 1 passed, 1 error in 0.03s
"""


def test_pytest_ids_outcomes_and_the_failures_text() -> None:
    out = parse_pytest(PYTEST)
    assert [(o.id, o.passed) for o in out] == [
        ("tests/test_ops.py::test_zero", True),
        ("tests/test_ops.py::TestOps::test_add", False),
        ("tests/test_io.py", False),
    ]
    assert "E   assert -1 == 5" in out[1].message
    assert "ImportError" in out[2].message


def test_pytest_inner_runs_in_captured_output_are_not_this_runs_tests() -> None:
    """A test that runs pytest inside it (pytester) prints an inner summary with FAILED
    lines into its captured output; on pytest's own suite that counted 70 failures where
    pytest reported 32."""
    inner = ("----------------------------- Captured stdout call -----------------------------\n"
             "=========================== short test summary info ============================\n"
             "FAILED test_inner.py::test_hello - assert 0\n"
             "PASSED test_inner.py::test_other\n"
             "========================= 1 failed, 1 passed in 0.01s ==========================\n")
    output = ("..                                                                       [100%]\n"
              "==================================== PASSES ====================================\n"
              "_________________________________ test_runs_inner ______________________________\n"
              + inner +
              "=========================== short test summary info ============================\n"
              "PASSED tests/test_runner.py::test_runs_inner\n"
              "PASSED tests/test_runner.py::test_plain\n"
              "2 passed in 0.05s\n")
    assert [(o.id, o.passed) for o in parse_pytest(output)] == [
        ("tests/test_runner.py::test_runs_inner", True),
        ("tests/test_runner.py::test_plain", True),
    ]


def test_unittest_verbose_lines() -> None:
    text = ("test_a (tests.test_m.T.test_a) ... ok\n"
            "test_b (tests.test_m.T.test_b)\nDoc line. ... FAIL\n"
            "test_c (tests.test_m.T.test_c) ... skipped 'later'\n\n"
            "======================================================================\n"
            "FAIL: test_b (tests.test_m.T.test_b)\n"
            "----------------------------------------------------------------------\n"
            "Traceback (most recent call last):\nAssertionError: 1 != 2\n")
    out = parse_unittest(text)
    assert [(o.id, o.passed) for o in out] == [("tests.test_m.T.test_a", True),
                                               ("tests.test_m.T.test_b", False)]
    assert "AssertionError: 1 != 2" in out[1].message


def test_go_json_events_and_a_package_that_does_not_build() -> None:
    lines = [
        {"Action": "run", "Package": "ex/cart", "Test": "TestAdd"},
        {"Action": "output", "Package": "ex/cart", "Test": "TestAdd", "Output": "want 5\n"},
        {"Action": "fail", "Package": "ex/cart", "Test": "TestAdd"},
        {"Action": "pass", "Package": "ex/cart", "Test": "TestZero"},
        {"Action": "fail", "Package": "ex/cart"},
        {"Action": "output", "Package": "ex/api", "Output": "undefined: Foo\n"},
        {"Action": "fail", "Package": "ex/api"},
    ]
    out = parse_go("\n".join(json.dumps(x) for x in lines))
    assert [(o.id, o.passed) for o in out] == [("ex/cart/TestAdd", False),
                                               ("ex/cart/TestZero", True),
                                               ("ex/api (package)", False)]
    assert out[0].message == "want 5\n"


def test_go_a_package_that_does_not_build_is_a_failed_outcome_with_the_compiler_output(
) -> None:
    # before Go 1.24: plain text between the JSON events of the packages that built
    text = ("# ex/cart [ex/cart.test]\ncart/a_test.go:5:28: undefined: B\n"
            "FAIL\tex/cart [build failed]\n" + json.dumps(
                {"Action": "pass", "Package": "ex/ok", "Test": "TestOk"}) + "\n")
    out = parse_go(text)
    assert [(o.id, o.passed) for o in out] == [("ex/cart (package)", False),
                                               ("ex/ok/TestOk", True)]
    assert out[0].message == "cart/a_test.go:5:28: undefined: B\n"
    # Go 1.24 and later: the compiler's lines are events of their own
    events = [{"ImportPath": "ex/cart [ex/cart.test]", "Action": "build-output",
               "Output": "cart/a_test.go:5:28: undefined: B\n"},
              {"Action": "fail", "Package": "ex/cart", "FailedBuild": "ex/cart [ex/cart.test]"}]
    out = parse_go("\n".join(json.dumps(e) for e in events))
    assert [(o.id, o.passed, o.message) for o in out] == [
        ("ex/cart (package)", False, "cart/a_test.go:5:28: undefined: B\n")]


def test_go_tests_are_named_by_their_file_in_the_module(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "go.mod").write_text("module ex\n\ngo 1.19\n")
    (tmp_path / "cart").mkdir()
    (tmp_path / "cart" / "add_test.go").write_text(
        "package cart\n\nfunc TestAdd(t *testing.T) {}\n\nfunc FuzzAdd(f *testing.F) {}\n")
    (tmp_path / "zero_test.go").write_text("package ex\n\nfunc TestZero(t *testing.T) {}\n")
    lines = [
        {"Action": "fail", "Package": "ex/cart", "Test": "TestAdd/negative"},
        {"Action": "pass", "Package": "ex/cart", "Test": "FuzzAdd"},
        {"Action": "pass", "Package": "ex", "Test": "TestZero"},
        {"Action": "pass", "Package": "ex/cart", "Test": "TestGone"},  # no file says it
        {"Action": "pass", "Package": "other/pkg", "Test": "TestElse"},  # not the module
    ]
    out = parse_go("\n".join(json.dumps(x) for x in lines), "", tmp_path)
    assert [(o.id, o.passed) for o in out] == [
        ("cart/add_test.go::TestAdd/negative", False), ("cart/add_test.go::FuzzAdd", True),
        ("zero_test.go::TestZero", True), ("ex/cart/TestGone", True),
        ("other/pkg/TestElse", True)]
    # a named file runs every test it declares; a subtest runs its whole test
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    named = Found("go", ids=["cart/add_test.go", "zero_test.go::TestZero/one"])
    plan = plan_for(named, tmp_path, tmp_path / "report.json")
    assert not isinstance(plan, str)
    assert plan.argv == ["/usr/bin/go", "test", "-json", "-count=1", "-run",
                         "^(TestAdd|FuzzAdd|TestZero)$", ".", "./cart"]
    assert plan.display == "go test . ./cart -run '^(TestAdd|FuzzAdd|TestZero)$'"


def test_cargo_lines() -> None:
    text = ("running 2 tests\ntest cart::tests::adds ... ok\ntest cart::tests::fails ... FAILED\n"
            "test cart::tests::later ... ignored\n\nfailures:\n\n"
            "---- cart::tests::fails stdout ----\nassertion failed: 1 == 2\n\n")
    out = parse_cargo(text)
    assert [(o.id, o.passed) for o in out] == [("cart::tests::adds", True),
                                               ("cart::tests::fails", False)]
    assert "assertion failed" in out[1].message


def test_cargo_names_an_integration_test_by_its_file() -> None:
    text = ("     Running unittests src/lib.rs (target/debug/deps/cart-1a2b)\n\nrunning 1 test\n"
            "test tests::sums ... ok\n\n"
            "     Running tests/checkout.rs (target/debug/deps/checkout-3c4d)\n\n"
            "running 2 tests\ntest sums ... FAILED\ntest free ... ok\n\nfailures:\n\n"
            "---- sums stdout ----\nleft: 1\n\n")
    out = parse_cargo(text)
    assert [(o.id, o.passed) for o in out] == [("tests::sums", True),
                                               ("tests/checkout.rs::sums", False),
                                               ("tests/checkout.rs::free", True)]
    assert out[1].message == "left: 1"


def test_vitest_and_jest_json_reports(tmp_path: Path) -> None:
    report = {"testResults": [{"name": str(tmp_path / "src/a.test.ts"), "assertionResults": [
        {"fullName": "a adds", "status": "passed"},
        {"fullName": "a fails", "status": "failed", "failureMessages": ["expected 2"]},
        {"fullName": "a todo", "status": "pending"}]}]}
    out = parse_jest_json(tmp_path)("", json.dumps(report))
    assert [(o.id, o.passed) for o in out] == [("src/a.test.ts > a adds", True),
                                               ("src/a.test.ts > a fails", False)]


def test_a_users_command_is_read_by_whichever_shape_it_has() -> None:
    assert [o.id for o in parse_any(PYTEST)][:1] == ["tests/test_ops.py::test_zero"]
    assert parse_any("make: all done\n") == []


def test_summaries_say_what_ran() -> None:
    passed = CheckResult("passed", static=StaticResult("passed", "python compile"),
                         passed=14, tries=2)
    assert summarise(passed) == "static check passed · 14 tests passed (2nd try)"
    skipped = CheckResult("no_tests", static=StaticResult("skipped", reason="go is not "
                                                          "installed"))
    assert summarise(skipped) == ("no static check (go is not installed) · no tests found "
                                  "for this change")
    skipped.not_run = "go is not installed"  # found, but nothing could run them
    assert summarise(skipped) == ("no static check (go is not installed) · tests found but "
                                  "not run (go is not installed)")
    command = CheckResult("passed", command="make test")
    assert summarise(command) == "`make test` succeeded"


def test_a_users_pytest_command_is_pointed_at_the_tests_found() -> None:
    named = Found("python", ids=["testing/test_x.py::TestX::test_y[a b]"])
    plan = command_plan("PYTHONPATH=src .venv/bin/python -m pytest -q", named)
    assert plan.display == ("PYTHONPATH=src .venv/bin/python -m pytest -q -rA "
                            "'testing/test_x.py::TestX::test_y[a b]'")
    assert plan.argv == ["sh", "-c", plan.display]
    nearest = Found("python", files=["tests/test_a.py", "tests/test_b.py"])
    assert command_plan("pytest -rfA", nearest).display == \
        "pytest -rfA tests/test_a.py tests/test_b.py"  # its own -rA is kept, not doubled
    assert command_plan("tox -e py -- {tests}", nearest).display == \
        "tox -e py -- tests/test_a.py tests/test_b.py"
    assert command_plan("pytest {tests} -x", Found(None)).display == "pytest  -x"
    assert command_plan("make test", nearest).display == "make test"  # runs as written
    assert command_plan("pytest -q", Found(None)).display == "pytest -q"  # nothing found
    assert command_plan("pytest -q tests/test_a.py", named).display == \
        "pytest -q tests/test_a.py"  # the user named the tests to run


def test_which_user_commands_can_be_pointed_at_a_test() -> None:
    assert command_targets_tests("python -m pytest -q")
    assert command_targets_tests("cd src && py.test")
    assert command_targets_tests("npm test -- {tests}")
    assert not command_targets_tests("make test")
    assert not command_targets_tests("./run-pytest-suite.sh")


def test_a_pytest_run_stopped_at_its_time_limit_still_says_what_ran() -> None:
    progress = """\
============================= test session starts ==============================
tests/test_ops.py::test_zero PASSED                                      [ 33%]
tests/test_ops.py::TestOps::test_add FAILED                              [ 66%]
tests/test_ops.py::test_slow
[killed after 60 s]"""
    outcomes = parse_pytest(progress)
    assert [(o.id, o.passed) for o in outcomes] == [
        ("tests/test_ops.py::test_zero", True), ("tests/test_ops.py::TestOps::test_add", False)]
    timed_out = CheckResult("timeout", passed=1, failed=1)
    assert summarise(timed_out) == "tests stopped at the time limit after 2 tests (1 failed)"


def _package(root: Path, scripts: dict[str, str], dev: dict[str, str] | None = None,
             files: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "package.json").write_text(json.dumps(
        {"name": "x", "scripts": scripts, "devDependencies": dev or {}}), encoding="utf-8")
    for rel, text in (files or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_which_runner_runs_javascript_tests(tmp_path: Path) -> None:
    node_test = "import { test } from 'node:test';\ntest('a', () => {});\n"
    plain = "const assert = require('assert');\n"
    cases = [
        ({"test": "node --test"}, {}, plain, "node"),
        ({"test": "node --import ./setup.js --test test/ && tsc"}, {}, plain, "node"),
        ({"test": "node --test-reporter=dot --test"}, {}, plain, "node"),
        ({"test": "vitest run"}, {"jest": "1"}, node_test, "vitest"),  # the script decides
        ({"test": "jest --ci"}, {}, node_test, "jest"),
        ({"test": "npm run build && npm run spec"}, {"vitest": "1"}, node_test, "vitest"),
        ({"test": "echo later"}, {}, node_test, "node"),  # the files import node:test
        ({"test": "nodemon --test"}, {}, plain, None),  # not node itself
        ({"test": "mocha --recursive"}, {}, plain, "mocha"),
        ({"test": "npm run spec"}, {"mocha": "10"}, plain, "mocha"),
        ({"test": "ava"}, {"ava": "6"}, plain, None),
    ]
    for i, (scripts, dev, text, expected) in enumerate(cases):
        root = _package(tmp_path / str(i), scripts, dev, {"test/a.test.js": text})
        pkg = json.loads((root / "package.json").read_text(encoding="utf-8"))
        assert js_runner(root, pkg, ["test/a.test.js"]) == expected, scripts


def test_a_runner_that_is_missing_is_said_and_node_test_runs_without_package_json(
        tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    root = _package(tmp_path / "jest", {"test": "jest"})
    found = Found("javascript", files=["a.test.js"])
    assert plan_for(found, root, report) == \
        "jest is not installed in node_modules (run npm install)"
    root = _package(tmp_path / "ava", {"test": "ava"}, {"ava": "6"})
    assert plan_for(found, root, report) == \
        "the npm test script runs none of vitest, jest, mocha or node --test"
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "a.test.mjs").write_text("import test from 'node:test';\n", encoding="utf-8")
    plan = plan_for(Found("javascript", files=["a.test.mjs"]), bare, report)
    assert not isinstance(plan, str)
    assert plan.framework == "node"
    assert plan.display == "node --test a.test.mjs"
    assert (tmp_path / "greenpair-node-reporter.mjs").is_file()  # beside the copy


def test_node_reporter_lines(tmp_path: Path) -> None:
    rows = [
        {"file": str(tmp_path / "test/cart.test.js"), "path": ["cart", "adds"],
         "passed": True, "skipped": False, "message": ""},
        {"file": str(tmp_path / "test/cart.test.js"), "path": ["cart", "empty [edge]"],
         "passed": False, "skipped": False, "message": "AssertionError: 1 !== 0"},
        {"file": str(tmp_path / "test/cart.test.js"), "path": ["cart", "later"],
         "passed": True, "skipped": True, "message": ""},
        {"file": str(tmp_path / "test/load.test.js"), "path": [str(tmp_path / "test/load.test.js")],
         "passed": False, "skipped": False, "message": "SyntaxError: Unexpected token"},
    ]
    text = "\n".join(json.dumps(r) for r in rows) + "\nnot json\n"
    out = parse_report(tmp_path, text)
    assert [(o.id, o.passed) for o in out] == [
        ("test/cart.test.js > cart > adds", True),
        ("test/cart.test.js > cart > empty [edge]", False),
        ("test/load.test.js", False)]
    assert out[1].message == "AssertionError: 1 !== 0"
    assert "SyntaxError" in out[2].message


def test_mocha_json_report_from_its_file_or_its_output(tmp_path: Path) -> None:
    case = {"file": str(tmp_path / "test/cart.spec.js"), "err": {}}
    report = {"stats": {"tests": 3},
              "passes": [{**case, "title": "adds", "fullTitle": "cart adds"}],
              "failures": [{**case, "title": "fails [x]", "fullTitle": "cart fails [x]",
                            "err": {"message": "1 == 2", "stack": "AssertionError: 1 == 2"}}],
              "pending": [{**case, "title": "later", "fullTitle": "cart later"}]}
    expected = [("test/cart.spec.js > cart adds", True),
                ("test/cart.spec.js > cart fails [x]", False)]
    parse = parse_mocha_json(tmp_path)
    out = parse("noise\n", json.dumps(report))
    assert [(o.id, o.passed) for o in out] == expected
    assert out[1].message == "AssertionError: 1 == 2"
    # mocha before 9.2 ignores the output option: the report is in what it printed
    printed = "console noise\n" + json.dumps(report, indent=2) + "\n"
    assert [(o.id, o.passed) for o in parse(printed, "")] == expected
    assert parse("no report at all", "") == []


def test_node_runs_with_the_options_the_script_gives_it(tmp_path: Path) -> None:
    assert node_options("node --import tsx --test test/*.ts") == ["--import", "tsx"]
    assert node_options("tsc && node --experimental-strip-types --test") == [
        "--experimental-strip-types"]
    assert node_options("node --test") == []
    assert node_options("node --test-reporter dot --test-reporter-destination=stdout "
                        "--enable-source-maps --test") == ["--enable-source-maps"]
    assert node_options("jest") == []
    root = _package(tmp_path / "ts", {"test": "node --import tsx --test"})
    plan = plan_for(Found("javascript", files=["a.test.ts"]), root, tmp_path / "r.json")
    assert not isinstance(plan, str)
    assert plan.argv[1:4] == ["--import", "tsx", "--test"]


def test_colour_codes_in_a_runners_report_are_stripped(tmp_path: Path) -> None:
    """jest colours the code frames inside its JSON report (the check no longer turns
    colour off for the tests' sake): what the user and the model read has no codes."""
    from greenpair.core.assistant.check import CheckOptions, check_changes
    from greenpair.core.assistant.patch.editing import FileChange

    report = {"testResults": [{"name": str(tmp_path / "repo/a.test.js"), "assertionResults": [
        {"fullName": "a fails", "status": "failed",
         "failureMessages": ["\x1b[31m> 2 |\x1b[39m expect(1).toBe(2)\x1b[0m"]}]}]}
    root = _package(tmp_path / "repo", {"test": "jest"}, files={
        "a.js": "module.exports = 1;\n", "a.test.js": "require('./a');\n",
        "node_modules/.bin/jest": "#!/bin/sh\nfor a in \"$@\"; do case $a in "
                                  "--outputFile=*) out=${a#--outputFile=};; esac; done\n"
                                  f"printf '%s' '{json.dumps(report)}' > \"$out\"\nexit 1\n"})
    (root / "node_modules/.bin/jest").chmod(0o755)
    result = check_changes(root, [FileChange("a.js", b"module.exports = 1;\n",
                                             b"module.exports = 2;\n")],
                           options=CheckOptions(static=False))
    assert result.command == "jest a.test.js"
    assert [o.message for o in result.outcomes] == ["> 2 | expect(1).toBe(2)"]


JEST_STOPPED = """\
PASS tests/command.chain.test.js
FAIL tests/command.allowExcessArguments.test.js
  \u25cf allowExcessArguments when action handler: true \u203a then no error

    expect(received).not.toThrow()
    Error message: "error: too many arguments. Expected 0 arguments but got 1."

error: too many arguments for 'default'. Expected 0 arguments but got 1.
  \u25cf  process.exit called with "1"

      at Command.exit [as _exit] (lib/command.js:512:13)
"""


def test_jest_that_wrote_no_report_is_read_file_by_file(tmp_path: Path) -> None:
    """A patch whose code calls process.exit inside a test stops jest before its report
    (commander.js): the check said "could not run"; the files it printed say more."""
    out = parse_jest_json(tmp_path)(JEST_STOPPED, "")
    assert [(o.id, o.passed) for o in out] == [
        ("tests/command.chain.test.js", True),
        ("tests/command.allowExcessArguments.test.js", False)]
    assert 'process.exit called with "1"' in out[1].message
    result = CheckResult("failed", outcomes=out, passed=1, failed=1,
                         tests_run=[o.id for o in out])
    assert summarise(result).endswith("1 test failed, 1 passed")


def test_static_findings_are_read_by_file_and_message_not_line() -> None:
    from greenpair.core.assistant.check.static import _findings

    vet = ("# example.com/shop/tax\ntax/tax.go:9:2: unreachable code\n"
           "vet: cart/price.go:6:1: expected operand, found '}'\n")
    tsc = ("src/a.ts(12,5): error TS2322: Type 'string' is not assignable to type 'number'.\n"
           "src/a.ts(30,5): error TS2322: Type 'string' is not assignable to type 'number'.\n")
    assert _findings(vet) == {("tax/tax.go", "unreachable code"): 1,
                              ("cart/price.go", "expected operand, found '}'"): 1}
    # the same error twice is two findings: a change that adds a second one adds one
    assert _findings(tsc) == {("src/a.ts", "error TS2322: Type 'string' is not assignable "
                                           "to type 'number'."): 2}

"""The check on a Go module, run for real with the go toolchain: the changed package's
tests and those of the packages that import it, each named by its file as a request names
it, ``go vet`` before any test (counting only the findings a change adds), a named test
run alone, a panic placed in the code under test, what the repair shows the model, a
test that never ends killed, and nothing written outside the copy (the user's files and
their Go build cache)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from greenpair.core.assistant.check import check_changes
from greenpair.core.assistant.check.checker import CheckOptions
from greenpair.core.assistant.check.failure import (
    failing_test_source,
    failure_focus,
    failure_suspects,
)
from greenpair.core.assistant.check.repair import repair_message
from greenpair.core.assistant.patch.editing import FileChange
from greenpair.core.config import cache_dir
from tests.conftest import make_repo
from tests.helpers.check_repos import tree_digest
from tests.helpers.tools import require_tool

PRICE = ("package cart\n\n"
         "// Discount takes percent off price.\n"
         "func Discount(price, percent int) int {\n"
         "\treturn price - price*percent/100\n"
         "}\n")
FILES = {
    "go.mod": "module example.com/shop\n\ngo 1.19\n",
    "cart/price.go": PRICE,
    "cart/price_test.go": (
        'package cart\n\nimport "testing"\n\n'
        "func TestTenPercentOff(t *testing.T) {\n"
        "\tif got := Discount(200, 10); got != 180 {\n"
        '\t\tt.Fatalf("Discount(200, 10) = %d, want 180", got)\n'
        "\t}\n}\n\n"
        "func TestNoDiscount(t *testing.T) {\n"
        "\tfor _, p := range []int{0, 50} {\n"
        '\t\tt.Run("price", func(t *testing.T) {\n'
        "\t\t\tif Discount(p, 0) != p {\n"
        '\t\t\t\tt.Error("changed")\n'
        "\t\t\t}\n\t\t})\n\t}\n}\n"),
    "api/api.go": ('package api\n\nimport "example.com/shop/cart"\n\n'
                   "// Free is what a full discount leaves.\n"
                   "func Free(p int) int { return cart.Discount(p, 100) }\n"),
    "api/api_test.go": ('package api\n\nimport "testing"\n\n'
                        "func TestFree(t *testing.T) {\n"
                        "\tif Free(70) != 0 {\n"
                        '\t\tt.Fatal("not free")\n'
                        "\t}\n}\n"),
    "tax/tax.go": "package tax\n\n// Rate is the tax rate.\nconst Rate = 20\n",
    "tax/tax_test.go": 'package tax\n\nimport "testing"\n\nfunc TestRate(t *testing.T) {}\n',
}
OPTS = CheckOptions(timeout_s=300)  # a cold build on a loaded 2-core machine


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    require_tool("go", "packaging/linux/apt-packages.txt: golang-go")
    # The user's own build cache: a check must not write it.
    monkeypatch.setenv("GOCACHE", str(tmp_path / "users-go-cache"))
    return make_repo(tmp_path / "shop", FILES)


def _change(new: str, path: str = "cart/price.go", old: str = PRICE) -> list[FileChange]:
    return [FileChange(path, old.encode(), new.encode())]


def test_a_breaking_change_fails_its_package_and_importers_tests_by_name(
        module: Path, tmp_path: Path) -> None:
    before = tree_digest(module)
    result = check_changes(module, _change(PRICE.replace("price - price*percent/100",
                                                         "price - percent")), options=OPTS)
    assert tree_digest(module) == before
    assert not (tmp_path / "users-go-cache").exists()
    assert (cache_dir() / "go-build").is_dir()  # Greenpair's own cache took the build
    # the changed package first, then its importer; not tax/, which does not import it
    assert result.command == "go test ./cart ./api"
    assert result.static is not None
    assert (result.static.tool, result.static.status) == ("go vet", "passed")
    assert result.status == "failed"
    outcomes = {o.id: o.passed for o in result.outcomes}
    assert outcomes == {"cart/price_test.go::TestTenPercentOff": False,
                        "cart/price_test.go::TestNoDiscount": True,
                        "cart/price_test.go::TestNoDiscount/price": True,
                        "cart/price_test.go::TestNoDiscount/price#01": True,
                        "api/api_test.go::TestFree": False}
    assert result.tests_run[0] == "cart/price_test.go::TestTenPercentOff"
    failed = {o.id: o.message for o in result.outcomes if not o.passed}
    assert "price_test.go:7: Discount(200, 10) = 190, want 180" in \
        failed["cart/price_test.go::TestTenPercentOff"]
    # the repair shows the model each failing test's source, found by the file's name,
    # and points it at what the test called on the line that reported the failure
    assert failing_test_source(module, "cart/price_test.go::TestTenPercentOff") == (
        "func TestTenPercentOff(t *testing.T) {\n"
        "\tif got := Discount(200, 10); got != 180 {\n"
        '\t\tt.Fatalf("Discount(200, 10) = %d, want 180", got)\n'
        "\t}\n}")
    assert failing_test_source(module, "cart/price_test.go::TestNoDiscount/price#01") \
        .startswith("func TestNoDiscount(t *testing.T) {")
    failures = [o for o in result.outcomes if not o.passed]
    assert failure_focus(module, failures) == ["Discount", "Free"]
    message = repair_message(module, result, "fix the discount")
    assert "The failing test `cart/price_test.go::TestTenPercentOff`:" in message
    assert "if got := Discount(200, 10); got != 180 {" in message
    assert "static check passed · 2 tests failed, 3 passed" in message


def test_a_compile_error_fails_go_vet_and_a_named_test_runs_alone(module: Path) -> None:
    broken = check_changes(module, _change(PRICE.replace("percent/100", "percent/")),
                           options=OPTS)
    assert broken.static is not None
    assert broken.static.status == "failed"
    assert "cart/price.go:6:1" in broken.static.output
    assert (broken.status, broken.tests_run) == ("failed", [])

    fixed = PRICE.replace("price*percent/100", "price*percent/100 + 0")
    named = check_changes(module, _change(fixed), options=OPTS,
                          task="make cart/price_test.go::TestTenPercentOff pass")
    assert named.command == "go test ./cart -run '^(TestTenPercentOff)$'"
    assert (named.status, named.tests_run) == (
        "passed", ["cart/price_test.go::TestTenPercentOff"])
    # the named test still failing is never "passed", whatever else passes
    still = check_changes(module, _change(PRICE.replace("percent/100", "percent/50")),
                          options=OPTS, task="make cart/price_test.go::TestTenPercentOff pass")
    assert (still.status, still.failed, still.passed) == ("failed", 1, 0)


def test_vet_findings_the_module_already_had_do_not_fail_a_change(module: Path) -> None:
    # unreachable code: a vet finding that `go test`'s own vet subset does not stop on
    old = FILES["tax/tax.go"]
    had = old + "\n// Zero is zero.\nfunc Zero() int {\n\treturn 0\n\tpanic(\"no\")\n}\n"
    (module / "tax/tax.go").write_text(had)
    ok = check_changes(module, _change(had.replace("Rate = 20", "Rate = 21"), "tax/tax.go",
                                       had), options=OPTS)
    assert ok.static is not None
    assert ok.static.status == "passed"
    assert "none added by the change" in ok.static.reason
    assert ok.status == "passed"
    added = had + "\n// One is one.\nfunc One() int {\n\treturn 1\n\tpanic(\"no\")\n}\n"
    bad = check_changes(module, _change(added, "tax/tax.go", had), options=OPTS)
    assert bad.static is not None
    assert bad.static.status == "failed"
    assert "tax/tax.go:15:2: unreachable code" in bad.static.output  # the added one
    assert (module / "tax/tax.go").read_text() == had


def test_a_panic_is_placed_in_the_code_under_test(module: Path) -> None:
    panics = PRICE.replace("\treturn price - price*percent/100\n",
                           "\tcuts := []int{}\n\treturn price - cuts[percent]\n")
    result = check_changes(module, _change(panics), options=OPTS,
                           task="make cart/price_test.go::TestTenPercentOff pass")
    assert result.status == "failed"
    [outcome] = result.outcomes
    assert "index out of range" in outcome.message
    suspects = failure_suspects(module, "fix the discount", "", result, [])
    assert [(s[0], s[3]) for s in suspects][:1] == [("cart/price.go", "Discount")]
    assert failure_focus(module, result.outcomes)[0] == "Discount"


def test_a_test_that_never_ends_is_killed_and_reported(module: Path) -> None:
    sleeper = FILES["tax/tax_test.go"].replace(
        'import "testing"', 'import (\n\t"testing"\n\t"time"\n)').replace(
        "func TestRate(t *testing.T) {}", "func TestRate(t *testing.T) { time.Sleep(time.Hour) }")
    (module / "tax/tax_test.go").write_text(sleeper)
    started = time.monotonic()
    result = check_changes(module, _change(FILES["tax/tax.go"].replace("20", "21"),
                                           "tax/tax.go", FILES["tax/tax.go"]),
                           options=CheckOptions(timeout_s=20))
    assert time.monotonic() - started < 60
    assert result.status == "timeout"
    assert "killed after" in result.output


def test_a_package_outside_a_module_says_why_its_tests_did_not_run(module: Path) -> None:
    (module / "go.mod").unlink()  # a GOPATH-era tree: go test needs a module here
    result = check_changes(module, _change(PRICE.replace("100", "50")), options=OPTS)
    assert result.static is not None
    assert (result.static.status, result.static.reason) == ("skipped", "no go.mod")
    assert result.status == "no_tests"
    assert result.not_run.startswith("there is no go.mod")
    assert "tests found but not run (there is no go.mod" in result.summary


def test_a_test_of_an_api_not_written_yet_fails_with_the_compilers_words(
        module: Path) -> None:
    # the test-first workflow for a new function: the package's tests do not build
    (module / "cart/total_test.go").write_text(
        'package cart\n\nimport "testing"\n\nfunc TestTotal(t *testing.T) {\n'
        "\tif Total(1, 2) != 3 {\n\t\tt.Fatal(\"sum\")\n\t}\n}\n")
    before = check_changes(module, [], task="make cart/total_test.go::TestTotal pass",
                           options=OPTS)
    assert before.status == "failed"  # not "error": it is the failure the task is about
    [outcome] = before.outcomes
    assert (outcome.id, outcome.passed) == ("example.com/shop/cart (package)", False)
    assert "cart/total_test.go:6:5: undefined: Total" in outcome.message
    assert "undefined: Total" in repair_message(module, before, "add Total")
    added = PRICE + "\n// Total adds prices.\nfunc Total(a, b int) int { return a + b }\n"
    after = check_changes(module, _change(added), task="make cart/total_test.go::TestTotal pass",
                          options=OPTS)
    assert (after.status, after.tests_run) == ("passed", ["cart/total_test.go::TestTotal"])

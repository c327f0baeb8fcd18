"""The check on a Rust crate, run for real with cargo: the changed module's unit tests and
the integration tests that use it, each test's outcome by name, a compile error caught by
``cargo check`` before any test, and the user's files untouched (no ``target/`` written
into the user's tree)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from greenpair.core.assistant.check import check_changes
from greenpair.core.assistant.check.checker import CheckOptions
from greenpair.core.assistant.check.failure import failing_test_source, failure_suspects
from greenpair.core.assistant.patch.editing import FileChange
from tests.conftest import IN_CI, make_repo
from tests.helpers.check_repos import tree_digest

PRICE = ("pub fn discount(price: u32, percent: u32) -> u32 {\n"
         "    price - price * percent / 100\n"
         "}\n\n"
         "#[cfg(test)]\n"
         "mod tests {\n"
         "    use super::*;\n\n"
         "    #[test]\n"
         "    fn ten_percent_off() {\n"
         "        assert_eq!(discount(200, 10), 180);\n"
         "    }\n\n"
         "    #[test]\n"
         "    fn no_discount() {\n"
         "        assert_eq!(discount(50, 0), 50);\n"
         "    }\n"
         "}\n")
FILES = {
    "Cargo.toml": '[package]\nname = "cart"\nversion = "0.1.0"\nedition = "2021"\n',
    ".gitignore": "target/\n",
    "src/lib.rs": ("pub mod price;\n\npub fn total(prices: &[u32]) -> u32 {\n"
                   "    prices.iter().sum()\n}\n\n#[cfg(test)]\nmod tests {\n"
                   "    #[test]\n    fn sums_prices() {\n"
                   "        assert_eq!(super::total(&[1, 2, 3]), 6);\n    }\n}\n"),
    "src/price.rs": PRICE,
    "tests/checkout.rs": ("use cart::price::discount;\n\n#[test]\n"
                          "fn full_discount_is_free() {\n"
                          "    assert_eq!(discount(70, 100), 0);\n}\n"),
    "tests/unrelated.rs": "#[test]\nfn other() {}\n",
}

OPTS = CheckOptions(timeout_s=300)  # a cold compile on a loaded 2-core machine


@pytest.fixture
def crate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    rustup_bin = Path.home() / ".cargo" / "bin"
    if shutil.which("cargo") is None and (rustup_bin / "cargo").is_file():
        monkeypatch.setenv("PATH", f"{rustup_bin}{os.pathsep}{os.environ.get('PATH', '')}")
    if shutil.which("cargo") is None:
        msg = "cargo is needed (this machine's image has rustup's cargo in ~/.cargo/bin)"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    # A shared target folder outside the copy is not written: the copy has its own.
    monkeypatch.setenv("CARGO_TARGET_DIR", str(tmp_path / "shared-target"))
    return make_repo(tmp_path / "cart", FILES)


def _change(new: str) -> list[FileChange]:
    return [FileChange("src/price.rs", PRICE.encode(), new.encode())]


def test_a_breaking_change_fails_its_unit_and_integration_tests_by_name(crate: Path) -> None:
    before = tree_digest(crate)
    result = check_changes(crate, _change(PRICE.replace("price - price * percent / 100",
                                                        "price - percent")),
                           options=OPTS)
    assert tree_digest(crate) == before
    assert not (crate / "target").exists()
    assert not (crate.parent / "shared-target").exists()
    # the module's unit tests (unfiltered: a name filter would hide checkout.rs's test) and
    # the integration test that uses the module; not tests/unrelated.rs
    assert result.command == "cargo test --lib --test=checkout"
    assert result.static is not None
    assert (result.static.tool, result.static.status) == ("cargo check", "passed")
    assert result.status == "failed"
    outcomes = {o.id: o.passed for o in result.outcomes}
    assert outcomes == {"price::tests::ten_percent_off": False,
                        "price::tests::no_discount": True,
                        "tests::sums_prices": True,
                        "tests/checkout.rs::full_discount_is_free": False}
    failed = {o.id: o.message for o in result.outcomes if not o.passed}
    assert "left: 190" in failed["price::tests::ten_percent_off"]
    assert "overflow" in failed["tests/checkout.rs::full_discount_is_free"]
    assert "test result" not in failed["tests/checkout.rs::full_discount_is_free"]
    # the repair shows the model each failing test's source, found from cargo's names
    assert "assert_eq!(discount(200, 10), 180);" in failing_test_source(
        crate, "price::tests::ten_percent_off")
    assert "fn full_discount_is_free() {" in failing_test_source(
        crate, "tests/checkout.rs::full_discount_is_free")
    # the panic's location in the code under test is the suspect; the unit test's panic
    # is in the test itself, which is not
    suspects = failure_suspects(crate, "fix discount", "", result, [])
    assert [(s[0], s[1], s[3]) for s in suspects] == [("src/price.rs", 1, "discount")]


def test_a_compile_error_fails_the_static_check_and_a_named_test_runs_alone(
        crate: Path) -> None:
    broken = check_changes(crate, _change(PRICE.replace("percent / 100", "percent / ")),
                           options=OPTS)
    assert broken.static is not None
    assert broken.static.status == "failed"
    assert "error" in broken.static.output
    assert broken.status == "failed"
    assert broken.tests_run == []
    fixed = PRICE.replace("price - price * percent / 100",
                          "price - price * percent.min(100) / 100")
    named = check_changes(crate, _change(fixed), options=OPTS,
                          task="make tests/checkout.rs::full_discount_is_free pass")
    assert named.command == "cargo test --test=checkout -- full_discount_is_free"
    assert named.status == "passed"
    assert named.tests_run == ["tests/checkout.rs::full_discount_is_free"]

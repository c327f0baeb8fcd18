"""The tests nearest a change, on small generated layouts (Python, TypeScript, Go, Rust)."""

from __future__ import annotations

from pathlib import Path

from greenpair.core.assistant.check.discovery import (
    is_test_file,
    named_tests,
    nearest_tests,
    python_module,
)


def _layout(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_python_tests_that_import_the_module_or_are_named_after_it(tmp_path: Path) -> None:
    root = _layout(tmp_path, {
        "src/shop/__init__.py": "",
        "src/shop/cart.py": "",
        "src/shop/tax.py": "",
        "tests/test_cart.py": "def test_x():\n    pass\n",  # named after it
        "tests/test_checkout.py": "from shop.cart import Cart\n",
        "tests/test_orders.py": "from shop import (\n    tax,\n    cart,\n)\n",
        "tests/test_tax.py": "import shop.tax\n",
        "tests/unit/test_rel.py": "",
        "tests/helpers.py": "from shop.cart import Cart\n",  # not a test file
        "src/shop/test_inline.py": "from .cart import Cart\n",
        ".venv/lib/test_cart.py": "from shop.cart import Cart\n",  # an environment
    })
    found = nearest_tests(root, ["src/shop/cart.py"])
    assert found.language == "python"
    assert found.files[0] == "tests/test_cart.py"
    assert set(found.files) == {"tests/test_cart.py", "tests/test_checkout.py",
                                "tests/test_orders.py", "src/shop/test_inline.py"}
    assert nearest_tests(root, ["src/shop/tax.py"]).files == ["tests/test_tax.py",
                                                               "tests/test_orders.py"]


def test_python_module_names_drop_src_and_init() -> None:
    assert python_module("src/pkg/sub/mod.py") == "pkg.sub.mod"
    assert python_module("pkg/__init__.py") == "pkg"
    assert python_module("_pytest/python.py") == "_pytest.python"


def test_a_changed_test_file_is_its_own_nearest_test(tmp_path: Path) -> None:
    root = _layout(tmp_path, {"testing/test_x.py": "def test_y():\n    pass\n"})
    assert nearest_tests(root, ["testing/test_x.py"]).files == ["testing/test_x.py"]


def test_a_request_naming_a_test_targets_it(tmp_path: Path) -> None:
    root = _layout(tmp_path, {"testing/test_x.py": "def test_y():\n    pass\n",
                              "src/m.py": ""})
    task = "make `testing/test_x.py::test_y` pass (and testing/test_gone.py::test_z)"
    assert named_tests(task, root) == ["testing/test_x.py::test_y"]
    found = nearest_tests(root, ["src/m.py"], task=task)
    assert (found.ids, found.reason) == (["testing/test_x.py::test_y"], "named in the request")


def test_a_node_ids_parameters_are_kept_whole(tmp_path: Path) -> None:
    root = _layout(tmp_path, {"tests/test_pager.py": "", "src/pager.py": ""})
    task = ("Make `tests/test_pager.py::test_ansi[strip ansi]` pass. Also failing: "
            "`tests/test_pager.py::test_ansi[preserve ansi]`, "
            "tests/test_pager.py::TestP::test_q[a, b-1.0], tests/test_pager.py::test_r[x.")
    assert named_tests(task, root) == [  # pytest's ids may hold spaces and commas
        "tests/test_pager.py::test_ansi[strip ansi]",
        "tests/test_pager.py::test_ansi[preserve ansi]",
        "tests/test_pager.py::TestP::test_q[a, b-1.0]",
        "tests/test_pager.py::test_r",  # an unclosed bracket: the test, all its cases
    ]
    assert named_tests("see src/pager.py[1] and tests/test_pager.py", root) == [
        "tests/test_pager.py"]


def test_a_node_id_names_a_test_whatever_its_files_name(tmp_path: Path) -> None:
    root = _layout(tmp_path, {"testing/python/approx.py": "class TestA:\n    def test_b(self):"
                                                           "\n        pass\n",
                              "src/approx.py": ""})
    task = "Make `testing/python/approx.py::TestA::test_b` pass; see src/approx.py."
    assert named_tests(task, root) == ["testing/python/approx.py::TestA::test_b"]
    assert named_tests("fix testing/python/approx.py", root) == []  # a file alone: not a test


def test_typescript_spec_files_importing_the_change(tmp_path: Path) -> None:
    root = _layout(tmp_path, {
        "src/util/format.ts": "export const f = 1;\n",
        "src/util/index.ts": "export * from './format';\n",
        "src/util/format.test.ts": "import { f } from './format';\n",
        "test/price.spec.ts": "import { f } from '../src/util/format';\n",
        "src/__tests__/all.ts": "import { f } from '../util';\n",
        "test/other.spec.ts": "import { g } from '../src/other';\n",
        "node_modules/x/format.test.ts": "import { f } from './format';\n",
    })
    found = nearest_tests(root, ["src/util/format.ts"])
    assert found.language == "javascript"
    # named after it and importing it, importing it, importing the index that exports it
    assert found.files == ["src/util/format.test.ts", "test/price.spec.ts",
                           "src/__tests__/all.ts"]
    assert nearest_tests(root, ["src/util/index.ts"]).files == ["src/__tests__/all.ts"]


def test_javascript_tests_through_the_package_entry_and_by_name_prefix(
        tmp_path: Path) -> None:
    """commander.js's layout: every test imports the package's entry (``../index.js``,
    or ``require('../')``), which imports ``lib/command.js``; tests are named
    ``command.<feature>.test.js``. Before, a change of lib/command.js found no test."""
    root = _layout(tmp_path, {
        "package.json": '{"name": "c", "main": "./index.js"}',
        "index.js": "export { Command } from './lib/command.js';\n",
        "lib/command.js": "export class Command { alias(a) {} }\n",
        "lib/help.js": "export class Help {}\n",
        "tests/command.alias.test.js": "import * as c from '../index.js';\n",
        "tests/command.action.test.js": "const c = require('../');\n",
        "tests/help.wrap.test.js": "import { Help } from '../lib/help.js';\n",
        "tests/other.test.js": "import { x } from './fixtures/other.js';\n",
    })
    found = nearest_tests(root, ["lib/command.js"], hint="    this._aliases.push(alias);")
    # the prefix and the changed words first, then the prefix, each through the entry
    assert found.files == ["tests/command.alias.test.js", "tests/command.action.test.js"]
    assert nearest_tests(root, ["lib/command.js"], task="make action() async").files == \
        ["tests/command.action.test.js", "tests/command.alias.test.js"]
    assert nearest_tests(root, ["lib/help.js"]).files == ["tests/help.wrap.test.js"]


def test_go_the_package_and_its_importers(tmp_path: Path) -> None:
    root = _layout(tmp_path, {
        "go.mod": "module example.com/shop\n\ngo 1.21\n",
        "cart/cart.go": "package cart\n",
        "cart/cart_test.go": "package cart\n",
        "api/api_test.go": 'package api\n\nimport (\n\t"example.com/shop/cart"\n)\n',
        "tax/tax_test.go": 'package tax\n\nimport "fmt"\n',
        # its tests do not import cart, its code does: a change of cart reaches them
        "orders/orders.go": 'package orders\n\nimport "example.com/shop/cart"\n',
        "orders/orders_test.go": 'package orders\n\nimport "testing"\n',
    })
    found = nearest_tests(root, ["cart/cart.go"])
    assert found.language == "go"
    assert found.packages == ["./cart", "./api", "./orders"]
    assert set(found.files) == {"cart/cart_test.go", "api/api_test.go",
                                "orders/orders_test.go"}
    named = nearest_tests(root, ["cart/cart.go"],
                          task="make cart/cart_test.go::TestTotal pass")
    assert (named.language, named.ids) == ("go", ["cart/cart_test.go::TestTotal"])


def test_a_go_test_named_by_its_function_alone(tmp_path: Path) -> None:
    root = _layout(tmp_path, {
        "go.mod": "module example.com/shop\n\ngo 1.21\n",
        "cart/cart_test.go": "package cart\n\nfunc TestTotal(t *testing.T) {}\n"
                             "func TestSame(t *testing.T) {}\n",
        "tax/tax_test.go": "package tax\n\nfunc TestSame(t *testing.T) {}\n",
        "testdata/x_test.go": "package x\n\nfunc TestTotal(t *testing.T) {}\n",  # not code
    })
    assert named_tests("make TestTotal pass", root) == ["cart/cart_test.go::TestTotal"]
    assert named_tests("TestTotal fails since the refactor", root) == \
        ["cart/cart_test.go::TestTotal"]
    assert named_tests("make TestSame pass", root) == []  # two packages declare it
    assert named_tests("make TestMissing pass", root) == []
    # not about a test's result: the test may be what the request changes
    assert named_tests("rename TestTotal to TestSum", root) == []
    # a path that names the test wins; without a go.mod, nothing is looked up
    assert named_tests("make tax/tax_test.go::TestSame pass", root) == \
        ["tax/tax_test.go::TestSame"]
    (root / "go.mod").unlink()
    assert named_tests("make TestTotal pass", root) == []


def test_rust_the_modules_own_tests_and_its_integration_tests(tmp_path: Path) -> None:
    root = _layout(tmp_path, {
        "Cargo.toml": "[package]\nname = 'shop'\n",
        "src/cart.rs": "#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() {}\n}\n",
        "tests/cart.rs": "#[test]\nfn it() {}\n",
        "src/tax.rs": "pub fn tax() {}\n",
    })
    # A name filter would hide tests/cart.rs's own tests: the unit tests run unfiltered.
    assert nearest_tests(root, ["src/cart.rs"]).filters == ["--bins", "--test=cart"]
    assert nearest_tests(root, ["src/tax.rs"]).empty
    assert nearest_tests(root, ["tests/cart.rs"]).filters == ["--test=cart"]


def test_rust_library_modules_workspaces_and_named_tests(tmp_path: Path) -> None:
    root = _layout(tmp_path, {
        "Cargo.toml": "[workspace]\nmembers = ['crates/shop']\n",
        "crates/shop/Cargo.toml": "[package]\nname = 'shop'\n",
        "crates/shop/src/lib.rs": "pub mod price;\npub mod tax;\n",
        "crates/shop/src/price/mod.rs": "#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() {}\n}\n",
        "crates/shop/src/tax.rs": "pub fn tax() {}\n",
        "crates/shop/tests/totals.rs": "use shop::tax::tax;\n#[test]\nfn it() {}\n",
    })
    # The module's own unit tests, by its path; its crate by --package.
    assert nearest_tests(root, ["crates/shop/src/price/mod.rs"]).filters == \
        ["--package=shop", "--lib", "price"]
    # An integration test that names the module.
    assert nearest_tests(root, ["crates/shop/src/tax.rs"]).filters == \
        ["--package=shop", "--test=totals"]
    assert is_test_file("crates/shop/tests/totals.rs")
    # mod.rs is used by its folder's name, lib.rs by the crate's: `mod` and `lib` are
    # words that any test may hold
    (root / "crates/shop/tests/other.rs").write_text("mod common;\n#[test]\nfn o() {}\n")
    assert nearest_tests(root, ["crates/shop/src/price/mod.rs"]).filters == \
        ["--package=shop", "--lib", "price"]
    assert nearest_tests(root, ["crates/shop/src/lib.rs"]).filters == \
        ["--package=shop", "--test=totals"]
    named = nearest_tests(root, ["crates/shop/src/tax.rs"],
                          task="make crates/shop/tests/totals.rs::it pass")
    assert (named.language, named.filters) == ("rust", ["--package=shop", "--test=totals", "it"])


def test_files_without_a_test_convention_find_nothing(tmp_path: Path) -> None:
    root = _layout(tmp_path, {"docs/a.md": "x\n", "tests/test_a.py": "import os\n"})
    found = nearest_tests(root, ["docs/a.md"])
    assert found.empty
    assert found.reason == "no test convention for these files"

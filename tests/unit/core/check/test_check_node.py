"""The check on a JavaScript project tested with Node's built-in runner (``node --test``),
run for real: the tests found through the package's entry, each test's outcome by id,
and the user's files untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenpair.core.assistant.check import check_changes
from greenpair.core.assistant.check.failure import failure_suspects
from greenpair.core.assistant.patch.editing import FileChange
from tests.conftest import make_repo
from tests.helpers.check_repos import tree_digest
from tests.helpers.tools import require_tool

CART = "export function total(items) {\n  return items.reduce((a, b) => a + b.price, 0);\n}\n"
FILES = {
    "package.json": '{"name": "shop", "type": "module", "scripts": {"test": "node --test"}}\n',
    "index.js": "export { total } from './lib/cart.js';\n",
    "lib/cart.js": CART,
    "tests/cart.total.test.js": (
        "import { describe, test } from 'node:test';\n"
        "import assert from 'node:assert/strict';\n"
        "import { total } from '../index.js';\n\n"
        "describe('cart total', () => {\n"
        "  test('sums prices', () => assert.equal(total([{ price: 2 }, { price: 3 }]), 5));\n"
        "  test('empty is zero [edge]', () => assert.equal(total([]), 0));\n"
        "  test.skip('later', () => {});\n"
        "});\n\n"
        "test('colour is as the user has it', () => {\n"
        "  assert.equal(process.env.NO_COLOR, undefined);\n"
        "  assert.equal(process.env.FORCE_COLOR, undefined);\n"
        "});\n"),
    "tests/unrelated.test.js": "import { test } from 'node:test';\ntest('x', () => {});\n",
}
IDS = ["tests/cart.total.test.js > cart total > sums prices",
       "tests/cart.total.test.js > cart total > empty is zero [edge]",
       "tests/cart.total.test.js > colour is as the user has it"]


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    require_tool("node", "packaging/linux/apt-packages.txt: nodejs")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return make_repo(tmp_path / "shop", FILES)


def _change(new: str) -> list[FileChange]:
    return [FileChange("lib/cart.js", CART.encode(), new.encode())]


def test_a_failing_change_names_each_failing_test_and_leaves_the_repo_alone(
        shop: Path) -> None:
    before = tree_digest(shop)
    result = check_changes(shop, _change(CART.replace("price, 0)", "price, 1)")))
    assert tree_digest(shop) == before
    assert result.command == "node --test tests/cart.total.test.js"  # through index.js
    assert result.status == "failed"
    assert sorted(result.tests_run) == sorted(IDS)  # the skipped test is not counted
    failed = {o.id: o.message for o in result.outcomes if not o.passed}
    assert sorted(failed) == sorted(IDS[:2])
    assert "6 !== 5" in failed[IDS[0]]
    assert result.summary.endswith("2 tests failed, 1 passed")


def test_a_good_change_passes_and_a_named_test_file_is_run(shop: Path) -> None:
    fixed = CART.replace("a + b.price", "a + Number(b.price)")
    result = check_changes(shop, _change(fixed))
    assert result.status == "passed"
    assert result.passed == 3
    assert result.failed == 0
    named = check_changes(shop, _change(fixed), task="make tests/unrelated.test.js pass")
    assert named.command == "node --test tests/unrelated.test.js"
    assert named.tests_run == ["tests/unrelated.test.js > x"]


def test_a_test_file_that_cannot_load_is_one_failure_with_its_error(shop: Path) -> None:
    broken = "export { total } from './nowhere.js';\n"
    result = check_changes(shop, [FileChange("lib/cart.js", CART.encode(), broken.encode())])
    assert result.status == "failed"
    assert [o.id for o in result.outcomes] == ["tests/cart.total.test.js"]
    assert "nowhere.js" in result.outcomes[0].message


def test_an_untraced_failure_is_placed_by_its_stack_in_the_source(shop: Path) -> None:
    """Node's runner is not traced as pytest is: the definitions a failing test's stack
    went through in the source (not the test, not node_modules) are the suspects."""
    throwing = ("function price(item) {\n"
                "  if (item.price === undefined) throw new TypeError('no price');\n"
                "  return item.price;\n"
                "}\n\n"
                "export const total = (items) =>\n"
                "  items.reduce((a, b) => a + price(b), 0);\n")
    (shop / "lib" / "cart.js").write_text(throwing, encoding="utf-8")
    (shop / "tests" / "cart.total.test.js").write_text(
        "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\n"
        "import { total } from '../index.js';\n\n"
        "test('a free item counts as zero', () => assert.equal(total([{}]), 0));\n",
        encoding="utf-8")
    task = "Make tests/cart.total.test.js pass."
    result = check_changes(shop, [], task=task)
    assert result.status == "failed"
    suspects = failure_suspects(shop, task, "", result, ["tests/cart.total.test.js"])
    # the innermost frame first, then the arrow function that called it
    assert [(s[0], s[1], s[3]) for s in suspects] == [("lib/cart.js", 1, "price"),
                                                      ("lib/cart.js", 6, "total")]


def test_an_early_error_fails_the_static_check_before_any_test_runs(shop: Path) -> None:
    """A `const` declared twice parses as a syntax tree (the draft's own validation lets
    it through) but V8 refuses it: `node --check` says so in milliseconds."""
    twice = "export function total(items) {\n  const sum = 0;\n  const sum = 1;\n" \
            "  return items.reduce((a, b) => a + b.price, sum);\n}\n"
    result = check_changes(shop, _change(twice))
    assert result.static is not None
    assert result.static.tool == "node --check"
    assert result.static.status == "failed"
    assert "'sum' has already been declared" in result.static.output
    assert result.status == "failed"
    assert result.tests_run == []  # no test ran
    good = check_changes(shop, _change(CART.replace("0);", "0 );")))
    assert good.static is not None
    assert good.static.status == "passed"
    assert good.summary.startswith("static check passed")

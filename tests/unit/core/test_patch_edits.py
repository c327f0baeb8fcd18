"""Edit-format parsers and tolerant matching (pure logic)."""

from __future__ import annotations

import pytest

from greenpair.core.assistant.patch.edits import (
    definition_name,
    parse_edits,
    parse_functions,
    parse_search_replace,
    parse_udiff,
)
from greenpair.core.assistant.patch.matching import find_span, reindent
from greenpair.core.errors import PatchError

FILE = """\
class Cart:
    def add_item(self, name, price, quantity=1):
        \"\"\"Add an item to the cart.\"\"\"
        if quantity <= 0:
            raise ValueError("quantity must be positive")

        self.items.append((name, price, quantity))
""".splitlines()


def test_search_replace_blocks_with_fences_and_paths() -> None:
    reply = """Here you go:
src/shop/cart.py
```python
<<<<<<< SEARCH
        if quantity <= 0:
=======
        if quantity < 1:
>>>>>>> REPLACE
```
`web/checkout.js`
<<<<<<<SEARCH
a
=======
b
>>>>>>> REPLACE
"""
    edits = parse_search_replace(reply)
    assert [(e.path, e.search, e.replace) for e in edits] == [
        ("src/shop/cart.py", "        if quantity <= 0:\n", "        if quantity < 1:\n"),
        ("web/checkout.js", "a\n", "b\n"),
    ]


def test_search_replace_needs_a_path_and_a_closed_block() -> None:
    block = "<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n"
    assert parse_search_replace(block, "x.py")[0].path == "x.py"
    with pytest.raises(PatchError, match="which file"):
        parse_search_replace(block)
    with pytest.raises(PatchError, match="not closed"):
        parse_search_replace("x.py\n<<<<<<< SEARCH\na\n=======\nb\n")
    with pytest.raises(PatchError, match="no ======= line"):  # the 0.5B's usual slip
        parse_search_replace("x.py\n<<<<<<< SEARCH\nnew code\n>>>>>>> REPLACE\n")
    with pytest.raises(PatchError, match="no SEARCH"):
        parse_search_replace("I would change the cart.")


def test_function_rewrite_blocks() -> None:
    reply = "src/shop/discounts.py\n```python\ndef apply_discount(total, code):\n    return 0\n```"
    [edit] = parse_functions(reply)
    assert (edit.path, edit.symbol, edit.kind) == ("src/shop/discounts.py", "apply_discount",
                                                    "function")
    assert definition_name("@cache\nasync def f():\n  pass") == "f"
    assert definition_name("export function formatPrice(c) {}") == "formatPrice"
    with pytest.raises(PatchError):
        parse_functions("```\nx = 1\n```", "a.py")


def test_udiff_hunks_by_content_and_missing_context_space() -> None:
    reply = """```diff
--- a/src/shop/cart.py
+++ b/src/shop/cart.py
@@ -4,2 +4,2 @@
-        if quantity <= 0:
+        if quantity < 1:
             raise ValueError("quantity must be positive")
@@ -10 +10 @@
unchanged without space
-old
+new
```"""
    edits = parse_udiff(reply)
    assert [(e.path, e.search, e.replace) for e in edits] == [
        ("src/shop/cart.py",
         '        if quantity <= 0:\n            raise ValueError("quantity must be positive")\n',
         '        if quantity < 1:\n            raise ValueError("quantity must be positive")\n'),
        ("src/shop/cart.py", "unchanged without space\nold\n", "unchanged without space\nnew\n"),
    ]
    with pytest.raises(PatchError):
        parse_edits("udiff", "no diff here")
    with pytest.raises(PatchError, match="Unknown edit format"):
        parse_edits("xml", "")


def test_udiff_new_file() -> None:
    [edit] = parse_udiff("--- /dev/null\n+++ b/docs/new.md\n@@ -0,0 +1 @@\n+hello\n")
    assert (edit.path, edit.search, edit.replace) == ("docs/new.md", "", "hello\n")


def test_match_exact_prefers_the_hint() -> None:
    lines = ["x = 1", "y = 2", "x = 1", "y = 2"]
    assert find_span(lines, ["x = 1", "y = 2"]) .start == 0
    match = find_span(lines, ["x = 1", "y = 2"], hint=3)
    assert (match.start, match.end, match.method) == (2, 4, "exact")


def test_match_whitespace_insensitive_reports_indent_delta() -> None:
    search = ["if quantity <= 0:", '    raise ValueError("quantity must be positive")', "",
              "self.items.append((name, price, quantity))"]
    match = find_span(FILE, search)
    assert (match.start, match.end, match.method, match.indent_delta) == (3, 7, "whitespace", 8)
    assert reindent(["if x:", "    y()"], 8) == ["        if x:", "            y()"]
    assert reindent(["        a", "    b"], -6) == ["  a", "b"]


def test_match_fuzzy_above_threshold_only() -> None:
    search = ["        if quantity <= 0:", '            raise ValueError("quantity must be > 0")']
    match = find_span(FILE, search)
    assert match is not None
    assert (match.start, match.end, match.method) == (3, 5, "fuzzy")
    assert 0.85 <= match.score < 1
    assert find_span(FILE, ["completely different code", "nothing alike here"]) is None

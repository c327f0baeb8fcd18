"""Closing a cut-off SEARCH/REPLACE block whose REPLACE part ran on into the following
lines of the file."""

from __future__ import annotations

from greenpair.core.assistant.patch.edits import parse_edits
from greenpair.core.assistant.patch.run_on import close_class_rewrite, close_run_on

FILE = [
    "def total(items):\n",
    "    s = 0\n",
    "    for i in items:\n",
    "        s += i\n",
    "    return s\n",
    "\n",
    "\n",
    "def mean(items):\n",
    "    return total(items) / len(items)\n",
]
OPEN = "calc.py\n<<<<<<< SEARCH\n    for i in items:\n        s += i\n=======\n"


def _read(path: str) -> list[str] | None:
    return FILE if path == "calc.py" else None


def test_the_block_ends_where_replace_began_copying_the_following_lines() -> None:
    cut = OPEN + ("    for i in items:\n        s += i * 2\n"
                  "    return s\n\n\ndef mean(items):\n    return tot")
    closed = close_run_on(cut, _read)
    assert closed == OPEN + "    for i in items:\n        s += i * 2\n>>>>>>> REPLACE\n"
    (edit,) = parse_edits("search_replace", closed)
    assert edit.replace == "    for i in items:\n        s += i * 2\n"


def test_a_looping_tail_is_kept_once_before_the_copy_is_looked_for() -> None:
    cut = OPEN + "    for i in items:\n        s += abs(i)\n" + "    return s\n" * 9
    closed = close_run_on(cut, _read)
    assert closed is not None
    assert closed.endswith("        s += abs(i)\n>>>>>>> REPLACE\n")


def test_finished_blocks_before_the_open_one_are_kept() -> None:
    done = "calc.py\n<<<<<<< SEARCH\n    s = 0\n=======\n    s = 0.0\n>>>>>>> REPLACE\n"
    cut = done + OPEN + "        s += i or 0\n    return s\n\n\ndef me"
    closed = close_run_on(cut, _read)
    assert closed is not None
    assert closed.startswith(done)
    assert len(parse_edits("search_replace", closed)) == 2


def test_nothing_is_closed_without_a_copy_of_what_follows() -> None:
    assert close_run_on(OPEN + "        s += i\n        s += i\n        s -= 1\n", _read) is None
    assert close_run_on(OPEN + "        s += i * 2\n", _read) is None  # cut, no copy yet
    assert close_run_on("calc.py\n<<<<<<< SEARCH\n    for i in items:\n", _read) is None
    assert close_run_on(OPEN.replace("calc.py", "gone.py") + "x\n    return s\n\n\n",
                        _read) is None
    # blank lines alone do not show a copy
    assert close_run_on(OPEN + "        s += 2 * i\n\n", _read) is None


def test_a_copy_may_leave_out_a_line_at_the_seam() -> None:
    cut = OPEN + "        s += i * 2\n" + "\n\ndef mean(items):\n"
    # the model left out the first line after the SEARCH run (``return s``)
    closed = close_run_on(cut, _read)
    assert closed == OPEN + "        s += i * 2\n>>>>>>> REPLACE\n"


def test_a_close_marker_after_other_text_closes_the_block() -> None:
    cut = OPEN + "        s += i * 2\n    # >>>>>>> REPLACE\n\n\n\n\n"
    assert close_run_on(cut, _read) == OPEN + "        s += i * 2\n>>>>>>> REPLACE\n"
    kept = OPEN + "        s += i * 2  >>>>>>> REPLACE\n\n\n"
    assert close_run_on(kept, _read) == OPEN + "        s += i * 2\n>>>>>>> REPLACE\n"


CLASS_OPEN = "shop/cart.py\n```python\nclass Cart:\n    \"\"\"A cart.\"\"\"\n\n"
ADD = "    def add(self, item):\n        self.items.append(item)\n\n"


def test_a_cut_class_rewrite_keeps_the_methods_it_finished() -> None:
    cut = CLASS_OPEN + ADD + "    @property\n    def total(self):\n        return sum(self.it"
    closed = close_class_rewrite(cut)
    assert closed == CLASS_OPEN + ADD.rstrip("\n") + "\n```\n"
    (edit,) = parse_edits("function", closed)
    assert edit.symbol == "Cart"


def test_a_cut_rewrite_without_a_finished_method_stays_cut() -> None:
    assert close_class_rewrite(CLASS_OPEN + "    def add(self, item):\n        self.") is None
    func = "shop/cart.py\n```python\ndef add(x):\n    def inner():\n        pass\n    def b"
    assert close_class_rewrite(func) is None  # not a class
    ts = "a.ts\n```ts\nclass Cart {\n  add() {}\n  def x() {}\n  def y"
    assert close_class_rewrite(ts) is None  # Python only

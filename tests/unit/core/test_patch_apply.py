"""Edits → file changes → unified diff → checks → apply → undo, on a real git repo."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from greenpair.core.assistant.patch import backup
from greenpair.core.assistant.patch.diffs import build_diff, check_applies, validate
from greenpair.core.assistant.patch.editing import FileChange, apply_edits
from greenpair.core.assistant.patch.edits import Edit
from greenpair.core.assistant.patch.guard import RefusedPath, check_editable
from greenpair.core.errors import PatchError

CART = "src/shop/cart.py"


def _edit(search: str, replace: str, path: str = CART) -> Edit:
    return Edit(path, search, replace)


def test_search_replace_change_and_diff_applies_with_git(tmp_repo: Path) -> None:
    edit = _edit("        if quantity <= 0:\n", "        if quantity < 1:\n")
    [change] = apply_edits(tmp_repo, [edit])
    assert change.methods == ["exact"]
    diff = validate([change])
    assert diff.startswith(f"--- a/{CART}\n+++ b/{CART}\n@@")
    assert "-        if quantity <= 0:\n+        if quantity < 1:\n" in diff
    proc = subprocess.run(["git", "apply", "--check", "-"], input=diff, text=True,
                          cwd=tmp_repo, capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_reindents_a_dedented_model_edit(tmp_repo: Path) -> None:
    edit = _edit('if quantity <= 0:\n    raise ValueError("quantity must be positive")\n',
                 'if quantity < 1:\n    raise ValueError("need at least one")\n')
    [change] = apply_edits(tmp_repo, [edit])
    assert change.methods == ["whitespace"]
    assert b'        if quantity < 1:\n            raise ValueError("need at least one")\n' \
        in change.after


def test_whole_function_rewrite_replaces_the_method(tmp_repo: Path) -> None:
    code = ("def total_price(self):\n    subtotal = sum(p * q for _, p, q in self.items)\n"
            "    return round(subtotal, 2)\n")
    [change] = apply_edits(tmp_repo, [Edit(CART, "", code, kind="function",
                                           symbol="total_price")])
    text = change.after.decode()
    assert "    def total_price(self):\n        subtotal = sum(p * q" in text
    assert "TAX_RATE)" not in text.split("def total_price")[1]
    assert text.endswith("        return round(subtotal, 2)\n")
    validate([change])
    with pytest.raises(PatchError, match="no function or class named 'nope'"):
        apply_edits(tmp_repo, [Edit(CART, "", "def nope():\n  pass\n", kind="function",
                                    symbol="nope")])


RUN_ON = '''        @log_calls
    def add_item(self, name, price, quantity=1):
        """Add an item to the cart."""
        if quantity < 1:
            raise ValueError("quantity must be positive")
        self.items.append((name, price, quantity))

    def total_price(self):
        """Sum of price times
'''


def test_whole_function_with_a_deep_decorator_and_a_copied_tail_parses(tmp_repo: Path) -> None:
    # As the 1.5B model wrote on pytest: the decorator a level deeper than its def, and the
    # next method copied after the rewritten one until the block closed in its docstring.
    [change] = apply_edits(tmp_repo, [Edit(CART, "", RUN_ON, kind="function",
                                           symbol="add_item")])
    text = change.after.decode()
    assert "\n    @log_calls\n    def add_item(self, name, price, quantity=1):\n" in text
    assert "        if quantity < 1:\n" in text
    assert text.count("def total_price(self):") == 1
    assert text.endswith("        return round(subtotal * (1 + TAX_RATE), 2)\n")
    validate([change])  # parses


def test_whole_function_keeps_a_decorator_whose_arguments_take_lines(tmp_repo: Path) -> None:
    code = ("@register(\n    \"add\",\n    kind=\"cart\",\n)\n"
            "def add_item(self, name, price, quantity=1):\n"
            "    self.items.append((name, price, max(1, quantity)))\n")
    [change] = apply_edits(tmp_repo, [Edit(CART, "", code, kind="function",
                                           symbol="add_item")])
    text = change.after.decode()
    assert ("\n    @register(\n        \"add\",\n        kind=\"cart\",\n    )\n"
            "    def add_item(self, name, price, quantity=1):\n"
            "        self.items.append((name, price, max(1, quantity)))\n") in text
    validate([change])


def test_whole_function_keeps_a_new_function_written_after_it(tmp_repo: Path) -> None:
    code = ("def add_item(self, name, price, quantity=1):\n"
            "    self.items.append(_checked(name, price, quantity))\n\n"
            "def _checked(name, price, quantity):\n"
            "    return (name, price, max(1, quantity))\n")
    [change] = apply_edits(tmp_repo, [Edit(CART, "", code, kind="function",
                                           symbol="add_item")])
    text = change.after.decode()
    assert "    def _checked(name, price, quantity):\n" in text  # not in the file: kept
    validate([change])


def test_no_match_and_no_op_are_errors(tmp_repo: Path) -> None:
    with pytest.raises(PatchError, match="not found"):
        apply_edits(tmp_repo, [_edit("this line is not there\n", "x\n")])
    with pytest.raises(PatchError, match="changes nothing"):
        apply_edits(tmp_repo, [_edit("TAX_RATE = 0.2\n", "TAX_RATE = 0.2\n")])


def test_diff_keeps_missing_final_newline_and_crlf(tmp_repo: Path) -> None:
    (tmp_repo / "a.txt").write_bytes(b"one\r\ntwo\r\nthree")
    [change] = apply_edits(tmp_repo, [_edit("three\n", "THREE\n", "a.txt")])
    assert change.after == b"one\r\ntwo\r\nTHREE"
    diff = validate([change])
    assert "\\ No newline at end of file" in diff


def test_new_file_diff(tmp_repo: Path) -> None:
    [change] = apply_edits(tmp_repo, [_edit("", "hello\n", "docs/new.md")])
    assert change.before is None
    assert build_diff([change]).startswith("diff --git a/docs/new.md b/docs/new.md\nnew file")
    validate([change])


def test_syntax_breaking_edit_is_rejected(tmp_repo: Path) -> None:
    [change] = apply_edits(tmp_repo, [_edit("        if quantity <= 0:\n",
                                            "        if quantity <= 0\n")])
    with pytest.raises(PatchError, match=r"breaks the syntax of src/shop/cart\.py"):
        validate([change])


def test_git_apply_catches_a_wrong_diff(tmp_repo: Path) -> None:
    [change] = apply_edits(tmp_repo, [_edit("TAX_RATE = 0.2\n", "TAX_RATE = 0.25\n")])
    diff = build_diff([change])
    with pytest.raises(PatchError, match="git apply rejects"):
        check_applies([change], diff.replace("-TAX_RATE = 0.2", "-TAX_RATE = 0.3"))
    other = FileChange(CART, change.before, change.after + b"# more\n")
    with pytest.raises(PatchError, match="does not reproduce"):
        check_applies([other], diff)


@pytest.mark.parametrize(
    ("path", "why"),
    [("../outside.py", "outside the repository"), ("/etc/passwd", "relative"),
     (".env", "secret"), ("keys/id_rsa", "secret"), ("logo.png", "binary"),
     (".git/config", ".git"), ("link/evil.py", "outside the repository")],
)
def test_refused_paths(tmp_repo: Path, tmp_path: Path, path: str, why: str) -> None:
    (tmp_repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0")
    (tmp_path / "elsewhere").mkdir()
    (tmp_repo / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(RefusedPath, match=why):
        check_editable(tmp_repo, path)
    with pytest.raises(RefusedPath):
        apply_edits(tmp_repo, [_edit("", "x\n", path)])


def test_apply_and_undo_byte_for_byte(tmp_repo: Path, greenpair_home: Path) -> None:
    cart = tmp_repo / CART
    original = cart.read_bytes()
    changes = apply_edits(tmp_repo, [_edit("TAX_RATE = 0.2\n", "TAX_RATE = 0.25\n"),
                                     _edit("", "new\n", "docs/new.md")])
    folder = backup.apply_changes(tmp_repo, changes)
    assert greenpair_home in folder.parents
    assert tmp_repo not in folder.parents
    assert b"TAX_RATE = 0.25" in cart.read_bytes()
    assert (tmp_repo / "docs/new.md").exists()
    assert sorted(backup.undo_last(tmp_repo)) == ["docs/new.md", CART]
    assert cart.read_bytes() == original
    assert not (tmp_repo / "docs/new.md").exists()
    with pytest.raises(PatchError, match="no applied patch"):
        backup.undo_last(tmp_repo)


def test_undo_refuses_when_files_changed_since(tmp_repo: Path) -> None:
    cart = tmp_repo / CART
    changes = apply_edits(tmp_repo, [_edit("TAX_RATE = 0.2\n", "TAX_RATE = 0.25\n")])
    backup.apply_changes(tmp_repo, changes)
    cart.write_text(cart.read_text() + "# my own edit\n")
    with pytest.raises(PatchError, match="changed since the patch was applied"):
        backup.undo_last(tmp_repo)
    assert cart.read_text().endswith("# my own edit\n")  # nothing lost


def test_apply_refuses_a_stale_draft(tmp_repo: Path) -> None:
    changes = apply_edits(tmp_repo, [_edit("TAX_RATE = 0.2\n", "TAX_RATE = 0.25\n")])
    (tmp_repo / CART).write_text("changed meanwhile\n")
    with pytest.raises(PatchError, match="changed since the patch was drafted"):
        backup.apply_changes(tmp_repo, changes)


def test_class_echo_around_one_method_rewrites_only_that_method(tmp_repo: Path) -> None:
    code = ("class Cart:\n    def total_price(self):\n"
            "        return 0\n")
    [change] = apply_edits(tmp_repo, [Edit(CART, "", code, kind="function", symbol="Cart")])
    text = change.after.decode()
    assert "def add_item" in text  # the methods left out are kept
    assert "    def total_price(self):\n        return 0\n" in text


def test_udiff_without_prefix_spaces_keeps_the_file_indentation(tmp_repo: Path) -> None:
    # A small model's hunk: context lines lost their leading space (3-space indents).
    from greenpair.core.assistant.patch.edits import parse_udiff

    reply = ("--- a/src/shop/discounts.py\n+++ b/src/shop/discounts.py\n@@ -4,4 +4,4 @@\n"
             "def apply_discount(total, code):\n"
             '   """Return the total after applying a discount code."""\n'
             '-    if code == "HALF":\n'
             '+    if code in ("HALF", "50OFF"):\n'
             "       return total / 2\n")
    [change] = apply_edits(tmp_repo, parse_udiff(reply))
    assert change.after.decode().splitlines()[3:7] == [
        "def apply_discount(total, code):",
        '    """Return the total after applying a discount code."""',
        '    if code in ("HALF", "50OFF"):',
        "        return total / 2",
    ]


def test_inserted_lines_keep_their_relative_indent(tmp_repo: Path) -> None:
    search = 'if code == "HALF":\n    return total / 2\n'  # model copied it dedented
    replace = 'if code == "HALF":\n    if total < 0:\n        return 0\n    return total / 2\n'
    [change] = apply_edits(tmp_repo, [Edit("src/shop/discounts.py", search, replace)])
    assert ('    if code == "HALF":\n        if total < 0:\n            return 0\n'
            '        return total / 2\n') in change.after.decode()


def test_bad_python_indentation_is_rejected(tmp_repo: Path) -> None:
    edit = _edit("        subtotal = sum(price * qty for _, price, qty in self.items)\n",
                 "       subtotal = sum(price * qty for _, price, qty in self.items)\n")
    [change] = apply_edits(tmp_repo, [edit])
    with pytest.raises(PatchError, match="Python no longer parses"):
        validate([change])


def test_indented_blank_lines_of_a_rewrite_are_left_empty(tmp_path: Path) -> None:
    code = 'def f():\n    """Sum.\n\n    More.\n    """\n\n    return 1\n'
    (tmp_path / "m.py").write_text(code)
    reply = 'def f():\n    """Sum.\n    \n    More.\n    """\n    \n    return 2\n'
    [change] = apply_edits(tmp_path, [Edit("m.py", "", reply, kind="function", symbol="f")])
    assert change.after.decode() == code.replace("return 1", "return 2")
    # A file that has indented blank lines of its own keeps the model's as written.
    (tmp_path / "w.py").write_text(code.replace("\n\n    More", "\n    \n    More"))
    [change] = apply_edits(tmp_path, [Edit("w.py", "", reply, kind="function", symbol="f")])
    assert change.after.decode() == reply


def test_a_javascript_early_error_is_refused_as_a_syntax_break() -> None:
    """`const` declared twice parses as a syntax tree; V8 refuses it (drafted by the 1.5B
    model on commander.js). A module stays a module, a new file may be either kind, and
    JSX (which node cannot parse) is not judged."""
    from tests.helpers.tools import require_tool

    require_tool("node", "packaging/linux/apt-packages.txt: nodejs")
    old = b"import x from './x.js';\n\nexport function total(items) {\n  const sum = 0;\n" \
          b"  return items.length + sum;\n}\n"
    twice = old.replace(b"  return", b"  const sum = 1;\n  return")
    with pytest.raises(PatchError, match=r"lib/cart\.js \(SyntaxError: Identifier 'sum' "
                                         r"has already been declared\)"):
        validate([FileChange("lib/cart.js", old, twice)])
    validate([FileChange("lib/cart.js", old, old.replace(b"= 0", b"= 1"))])  # fine
    validate([FileChange("lib/new.js", None, b"import y from 'y';\nexport const z = y;\n")])
    validate([FileChange("src/App.jsx", b"const a = <div/>;\n",
                         b"const a = <div/>;\nconst a = 1;\n")])


def test_a_block_written_again_is_applied_once(tmp_path: Path) -> None:
    """A small model that repeats itself writes the same SEARCH/REPLACE block two or three
    times (commander.js, `84d9201e92d0`): the first replaces the code, and the copies no
    longer found it ("The code to replace was not found"), so a good edit was lost."""
    (tmp_path / "opts.js").write_text(
        "function set(key, value, source) {\n  store(key, value);\n  sources[key] = source;\n"
        "  return this;\n}\n")
    block = Edit("opts.js", "  store(key, value);\n  sources[key] = source;\n",
                 "  storeWithSource(key, value, source);\n")
    [change] = apply_edits(tmp_path, [block, block, block])
    assert change.after.decode().count("storeWithSource(key, value, source);") == 1
    assert change.methods == ["exact"]


def test_the_same_block_again_still_changes_another_exact_occurrence(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\ny = 2\nx = 1\n")
    block = Edit("a.py", "x = 1\n", "x = 3\n")
    [change] = apply_edits(tmp_path, [block, block])
    assert change.after == b"x = 3\ny = 2\nx = 3\n"
    # and a third copy, with nothing left to change, is not an error
    [again] = apply_edits(tmp_path, [block, block, block])
    assert again.after == b"x = 3\ny = 2\nx = 3\n"
    # a block that keeps its code and adds a line would find its own output: once only
    added = Edit("a.py", "y = 2\n", "y = 2\nz = 4\n")
    [once] = apply_edits(tmp_path, [added, added])
    assert once.after == b"x = 1\ny = 2\nz = 4\nx = 1\n"
    # keeping the code means keeping its lines: "x = 1" -> "x = 10" changes each occurrence
    (tmp_path / "a.py").write_text("x = 1\ny = 2\nx = 1\n")
    longer = Edit("a.py", "x = 1\n", "x = 10\n")
    [both] = apply_edits(tmp_path, [longer, longer])
    assert both.after == b"x = 10\ny = 2\nx = 10\n"

"""The check runs in a scratch copy: the user's files stay byte-identical, the copy holds
their uncommitted work, and what the tests write lands in the copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenpair.core.assistant.check import CheckOptions, check_changes
from greenpair.core.assistant.check.result import summarise
from greenpair.core.assistant.check.scratch import scratch_copy
from greenpair.core.assistant.patch.editing import FileChange
from tests.conftest import make_repo
from tests.helpers.check_repos import python_repo, tree_digest

FILES = {
    "src/calc/__init__.py": "",
    "src/calc/ops.py": "def add(a, b):\n    return a + b\n",
    "tests/test_ops.py": """
        from pathlib import Path

        from calc.ops import add


        def test_add():
            Path("written-by-the-test.txt").write_text("x")
            assert add(2, 3) == 5


        def test_zero():
            assert add(0, 0) == 0
        """,
}


def _change(repo: Path, after: bytes) -> FileChange:
    path = "src/calc/ops.py"
    return FileChange(path, (repo / path).read_bytes(), after)


def test_a_failed_check_leaves_the_users_files_byte_identical(tmp_path: Path) -> None:
    repo = python_repo(tmp_path / "repo", FILES)
    (repo / "notes.txt").write_text("untracked work\n")  # uncommitted, untracked
    before = tree_digest(repo)
    broken = _change(repo, b"def add(a, b):\n    return a - b\n")
    result = check_changes(repo, [broken], options=CheckOptions(timeout_s=120))
    assert result.status == "failed", result.output
    assert result.failed == 1
    assert result.passed == 1
    assert "tests/test_ops.py::test_add" in result.tests_run
    assert "assert -1 == 5" in result.output
    assert result.summary == "static check passed · 1 test failed, 1 passed"
    assert tree_digest(repo) == before  # nothing written, .git included
    assert not (repo / "written-by-the-test.txt").exists()


def test_the_copy_holds_uncommitted_changes_and_links_the_environment(tmp_path: Path) -> None:
    repo = python_repo(tmp_path / "repo", FILES)
    (repo / "tests" / "test_ops.py").write_text(
        "from calc.ops import add\n\n\ndef test_uncommitted():\n    assert add(1, 1) == 2\n")
    (repo / "tests" / "test_new.py").write_text("def test_new():\n    pass\n")
    with scratch_copy(repo, [_change(repo, b"def add(a, b):\n    return b + a\n")]) as root:
        assert (root / "tests" / "test_new.py").is_file()
        assert "test_uncommitted" in (root / "tests" / "test_ops.py").read_text()
        assert (root / "src/calc/ops.py").read_text() == "def add(a, b):\n    return b + a\n"
        assert (root / ".venv").is_symlink()
        assert not (root / ".git").exists()
        copy = root
    assert not copy.exists()  # deleted afterwards
    result = check_changes(repo, [_change(repo, b"def add(a, b):\n    return b + a\n")])
    assert result.status == "passed"
    assert result.tests_run == ["tests/test_ops.py::test_uncommitted"]
    assert result.summary == "static check passed · 1 test passed"


def test_a_syntax_error_fails_the_static_check_before_any_test(tmp_path: Path) -> None:
    repo = python_repo(tmp_path / "repo", FILES)
    result = check_changes(repo, [_change(repo, b"def add(a, b):\n    return a +\n")])
    assert result.status == "failed"
    assert result.static is not None
    assert result.static.status == "failed"
    assert "src/calc/ops.py:2" in result.static.output
    assert result.tests_run == []
    assert result.summary == "static check failed (python compile)"


def test_no_tests_is_never_called_passed(tmp_path: Path) -> None:
    repo = python_repo(tmp_path / "repo", {"tool.py": "X = 1\n", "README.md": "hi\n"})
    result = check_changes(repo, [FileChange("tool.py", b"X = 1\n", b"X = 2\n")])
    assert result.status == "no_tests"
    assert result.summary == "static check passed · no tests found for this change"
    assert "tests passed" not in result.summary


def test_tests_found_but_not_runnable_are_not_called_missing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "repo", {
        "go.mod": "module example.com/shop\n\ngo 1.21\n",
        "cart/cart.go": "package cart\n\nfunc Total() int { return 1 }\n",
        "cart/cart_test.go": "package cart\n\nimport \"testing\"\n\n"
                             "func TestTotal(t *testing.T) {}\n",
    })
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))  # no go on this machine
    result = check_changes(repo, [FileChange(
        "cart/cart.go", (repo / "cart/cart.go").read_bytes(),
        b"package cart\n\nfunc Total() int { return 2 }\n")])
    assert result.status == "no_tests"
    assert result.not_run == "go is not installed"
    assert result.summary == ("no static check (go is not installed) · tests found but not "
                              "run (go is not installed)")
    assert summarise(result) == result.summary  # the repair loop summarises again
    assert result.to_json()["not_run"] == "go is not installed"


def test_a_named_test_whose_id_has_spaces_is_the_test_that_runs(tmp_path: Path) -> None:
    repo = python_repo(tmp_path / "repo", {
        "src/calc/__init__.py": "",
        "src/calc/ops.py": "def strip(text):\n    return text\n",
        "tests/test_ops.py": """
            import pytest

            from calc.ops import strip


            @pytest.mark.parametrize("text", ["\\x1b[1mhi", "hi"], ids=["with ansi", "plain"])
            def test_strip(text):
                assert strip(text) == "hi"
            """,
    })
    fixed = b"import re\n\n\ndef strip(text):\n    return re.sub(r'\\x1b\\[[0-9;]*m', '', text)\n"
    result = check_changes(repo, [FileChange("src/calc/ops.py",
                                             (repo / "src/calc/ops.py").read_bytes(), fixed)],
                           task="Make `tests/test_ops.py::test_strip[with ansi]` pass.")
    assert result.tests_run == ["tests/test_ops.py::test_strip[with ansi]"], result.output
    assert (result.status, result.passed, result.failed) == ("passed", 1, 0)

"""The code viewer opens at the cited lines; "Open in editor" starts the real editor."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QTextFormat

from greenpair.ui.window.code_viewer import CodeViewer, lex_lines
from greenpair.ui.window.editor import (
    editor_command,
    editor_from_env,
    needs_terminal,
    open_in_editor,
)


@pytest.fixture
def long_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(100))
    (repo / "src" / "many.py").write_text('"""Many\nfunctions."""\n' + body)
    return repo


def test_opens_at_the_cited_lines_with_them_highlighted(qtbot: Any, long_repo: Path) -> None:
    viewer = CodeViewer()
    qtbot.addWidget(viewer)
    viewer.resize(600, 300)
    viewer.show()
    qtbot.waitExposed(viewer)
    assert viewer.show_file(long_repo, "src/many.py", 200, 205)
    assert (viewer.start_line, viewer.end_line) == (200, 205)
    first = viewer.first_visible_line()
    assert 190 <= first <= 200  # a little context above the citation
    marked = [s.cursor.blockNumber() + 1 for s in viewer.text.extraSelections()
              if s.format.property(QTextFormat.Property.FullWidthSelection)]
    assert marked == list(range(200, 206))
    assert viewer.text.textCursor().blockNumber() + 1 == 200
    assert viewer.text.isReadOnly()


def test_highlighting_lexes_the_whole_file() -> None:
    lines = lex_lines('x = """a\nb"""\ny = 1\n', "a.py", "friendly")
    assert len(lines) >= 3
    # the second line is inside the multi-line string: it is coloured as a string too
    assert lines[1]
    assert lines[1][0][0] == 0


def test_a_vanished_file_is_explained(qtbot: Any, long_repo: Path) -> None:
    viewer = CodeViewer()
    qtbot.addWidget(viewer)
    with qtbot.waitSignal(viewer.message, timeout=1000) as blocker:
        assert not viewer.show_file(long_repo, "src/gone.py", 1, 2)
    assert "not in the repository any more" in blocker.args[0]
    with qtbot.waitSignal(viewer.message, timeout=1000) as blocker:
        assert not viewer.show_file(long_repo, "../outside.py", 1, 2)
    assert "outside the repository" in blocker.args[0]


def test_lines_past_the_end_are_clamped(qtbot: Any, long_repo: Path) -> None:
    viewer = CodeViewer()
    qtbot.addWidget(viewer)
    assert viewer.show_file(long_repo, "src/many.py", 5000, 5010)
    assert viewer.start_line == viewer.text.blockCount()


@pytest.mark.parametrize(
    ("editor", "expected"),
    [
        (["vim"], ["vim", "+42", "/r/a.py"]),
        (["nvim", "-p"], ["nvim", "-p", "+42", "/r/a.py"]),
        (["emacs"], ["emacs", "+42", "/r/a.py"]),
        (["nano"], ["nano", "+42", "/r/a.py"]),
        (["code", "--wait"], ["code", "-g", "/r/a.py:42"]),
        (["/usr/bin/subl"], ["/usr/bin/subl", "/r/a.py:42"]),
        (["kate"], ["kate", "--line", "42", "/r/a.py"]),
        (["mousepad"], ["mousepad", "/r/a.py"]),
    ],
)
def test_editor_commands_put_the_line_where_each_editor_wants_it(
    editor: list[str], expected: list[str]
) -> None:
    assert editor_command(editor, Path("/r/a.py"), 42) == expected


def test_editor_from_env_prefers_visual() -> None:
    assert editor_from_env({"VISUAL": "code --wait", "EDITOR": "vim"}) == ["code", "--wait"]
    assert editor_from_env({"EDITOR": "vim"}) == ["vim"]
    assert editor_from_env({}) == []
    assert needs_terminal(["vim"])
    assert not needs_terminal(["code"])
    assert needs_terminal(["emacs", "-nw"])
    assert not needs_terminal(["emacs"])


def test_open_in_editor_starts_the_editor_at_the_line(qtbot: Any, tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    record = tmp_path / "args.txt"
    script = bindir / "gedit"  # a "+LINE" editor that needs no terminal
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{record}"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    target = tmp_path / "a.py"
    target.write_text("x = 1\n")
    env = {"VISUAL": str(script), "PATH": os.environ.get("PATH", "")}
    assert open_in_editor(target, 7, env) is None
    qtbot.waitUntil(record.exists, timeout=5000)
    qtbot.waitUntil(lambda: record.read_text().count("\n") == 2, timeout=5000)
    assert record.read_text().splitlines() == ["+7", str(target)]


def test_a_missing_editor_is_explained(tmp_path: Path) -> None:
    target = tmp_path / "a.py"
    target.write_text("x = 1\n")
    problem = open_in_editor(target, 1, {"VISUAL": str(tmp_path / "no-such-editor")})
    assert problem is not None
    assert "Could not start your editor" in problem

"""The suggestion popup's logic (offscreen) with core's real ``suggest()`` on a FakeRuntime."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLineEdit

from greenpair.core.assistant.suggest.selection_context import find_in_repo
from greenpair.core.config import load_settings, remember_repo, save_settings
from greenpair.ui.popup.controller import PopupController
from greenpair.ui.popup.popup import MODES, NOTHING_SELECTED, TITLE, SuggestionPopup, pasted_text
from greenpair.ui.popup.target import Selection, guess_language, hook_path
from tests.helpers.fake_runtime import FakeRuntime

DEF_ADD = Selection("def add(a, b):\n", "primary")


@pytest.fixture(autouse=True)
def _no_x(monkeypatch: pytest.MonkeyPatch) -> None:
    """No X server here: paste falls back to copying, selection to the clipboard."""
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(name, raising=False)


def make_popup(qtbot: Any, *replies: str, **kw: Any) -> SuggestionPopup:
    popup = SuggestionPopup(runtime=FakeRuntime(replies, **kw))
    qtbot.addWidget(popup)
    return popup


@pytest.fixture
def popup(qtbot: Any) -> Iterator[SuggestionPopup]:
    widget = make_popup(qtbot, "    return a + b\n\nprint(add(1, 2))\n", "def add(a, b):\n"
                        "    return a + b\n", "It adds two numbers.")
    yield widget
    widget.dismiss()
    qtbot.waitUntil(lambda: not widget.is_generating(), timeout=5000)


def test_it_streams_a_completion_that_stops_at_a_natural_end(
    qtbot: Any, popup: SuggestionPopup
) -> None:
    with qtbot.waitSignal(popup.finished, timeout=5000) as done:
        popup.show_for(DEF_ADD, mode="complete")
        assert popup.isVisible()
    assert done.args == ["    return a + b\n"]  # the block ended: print(...) was cut
    assert popup.windowTitle() == TITLE
    assert popup.windowFlags() & Qt.WindowType.FramelessWindowHint
    # the end of the selection (greyed), then the suggestion
    assert popup.view.text.toPlainText() == "def add(a, b):\n    return a + b\n"
    assert "tokens" in popup.view.status.text()
    header = popup.view.header.text()
    assert "Greenpair</b> · python" in header
    assert "'>complete</b>" in header  # the current mode is marked


def test_tab_cycles_the_modes_and_generates_again(qtbot: Any, popup: SuggestionPopup) -> None:
    with qtbot.waitSignal(popup.finished, timeout=5000):
        popup.show_for(DEF_ADD, mode="complete")
    with qtbot.waitSignal(popup.finished, timeout=5000) as fixed:
        qtbot.keyClick(popup, Qt.Key.Key_Tab)
    assert popup.mode == "fix"
    assert fixed.args == ["def add(a, b):\n    return a + b\n"]
    assert "You fix code" in popup.runtime.prompts[-1]
    with qtbot.waitSignal(popup.finished, timeout=5000) as explained:
        qtbot.keyClick(popup, Qt.Key.Key_Tab)
    assert popup.mode == "explain"
    assert explained.args == ["It adds two numbers."]
    assert popup.tokens == 4  # streamed piece by piece
    popup.cycle_mode(1)
    assert popup.mode == MODES[0]


def test_escape_dismisses_and_cancels_the_generation(qtbot: Any) -> None:
    popup = make_popup(qtbot, " ".join(f"word{i}" for i in range(200)), token_delay_s=0.05)
    popup.show_for(Selection("value = compute(x)", "primary"), mode="explain")
    qtbot.waitUntil(lambda: popup.tokens > 0, timeout=5000)
    with qtbot.waitSignal(popup.dismissed, timeout=2000):
        qtbot.keyClick(popup, Qt.Key.Key_Escape)
    assert not popup.isVisible()
    qtbot.waitUntil(lambda: popup.runtime.last_stats.stop_reason == "cancelled", timeout=5000)
    assert popup.runtime.last_stats.completion_tokens < 50


def test_losing_focus_dismisses(qtbot: Any, popup: SuggestionPopup) -> None:
    other = QLineEdit()
    qtbot.addWidget(other)
    with qtbot.waitSignal(popup.finished, timeout=5000):
        popup.show_for(DEF_ADD, mode="complete")
    qtbot.waitUntil(popup.isActiveWindow, timeout=2000)
    with qtbot.waitSignal(popup.dismissed, timeout=2000):
        other.show()
        other.activateWindow()
    assert not popup.isVisible()


def test_an_empty_selection_says_so_and_generates_nothing(
    qtbot: Any, popup: SuggestionPopup
) -> None:
    with qtbot.waitSignal(popup.finished, timeout=2000) as done:
        popup.show_for(Selection(" \n\t", "none"))
    assert done.args == [""]
    assert popup.view.status.text() == NOTHING_SELECTED
    assert popup.runtime.prompts == []
    assert not popup.is_generating()
    assert popup.services.suggestions.stats()["avoided"] == {"empty": 1}
    saved = popup.services.meter.ledger().totals().savings
    assert saved["suggestions_avoided"].count == 1


def test_enter_copies_the_completion_after_the_selection(
    qtbot: Any, popup: SuggestionPopup
) -> None:
    with qtbot.waitSignal(popup.finished, timeout=5000):
        popup.show_for(DEF_ADD, mode="complete")
    with qtbot.waitSignal(popup.accepted, timeout=2000) as accepted:
        qtbot.keyClick(popup, Qt.Key.Key_Return)
    expected = "def add(a, b):\n    return a + b\n"
    assert accepted.args == [expected]
    assert QGuiApplication.clipboard().text() == expected
    assert not popup.isVisible()


@pytest.mark.parametrize(
    ("selection", "mode", "expected"),
    [
        (Selection("x = ", "primary"), "complete", "x = 1"),
        (Selection("x = ", "clipboard"), "complete", "1"),  # nothing selected to replace
        (Selection("f(<|cursor|>)\n", "primary"), "complete", "f(1)\n"),
        (Selection("x = = 1", "primary"), "fix", "1"),
        (Selection("x = 1", "primary"), "explain", "1"),
    ],
)
def test_pasted_text(selection: Selection, mode: str, expected: str) -> None:
    assert pasted_text(selection, mode, "1") == expected


def test_a_model_error_is_shown_in_plain_words(qtbot: Any) -> None:
    popup = make_popup(qtbot, default_reply=None)  # nothing queued: ModelError
    popup.show_for(Selection("def f(x):", "primary"), mode="fix")
    qtbot.waitUntil(lambda: not popup.is_generating(), timeout=5000)
    assert "no reply queued" in popup.view.status.text()
    assert popup.isVisible()


def test_the_controller_debounces_and_skips_repeats(
    qtbot: Any, popup: SuggestionPopup
) -> None:
    QGuiApplication.clipboard().setText("total = price *")
    controller = PopupController(popup, debounce_s=60)
    with qtbot.waitSignal(popup.finished, timeout=5000):
        assert controller.request("auto") is True
    assert popup.selection == Selection("total = price *", "clipboard")
    assert popup.mode == "complete"  # auto: code ending mid-statement
    assert controller.request("auto") is False
    assert controller.avoided == {"debounced": 1}
    controller.debounce_s = 0
    assert controller.request("auto") is False  # same text, popup still open
    assert controller.avoided["repeat"] == 1
    assert popup.services.suggestions.stats()["avoided"] == {"debounced": 1, "repeat": 1}


def test_text_from_the_repository_is_completed_with_its_file_around_it(
    qtbot: Any, tmp_repo: Path
) -> None:
    settings = load_settings()
    remember_repo(settings, tmp_repo)
    save_settings(settings)
    QGuiApplication.clipboard().setText('    if code == "HALF":\n')
    popup = make_popup(qtbot, "        return total / 2\n")
    controller = PopupController(popup)
    with qtbot.waitSignal(popup.finished, timeout=5000):
        controller.request("complete")
    assert popup.match is not None
    assert popup.match.path == "src/shop/discounts.py"
    assert "src/shop/discounts.py:6" in popup.view.header.text()
    prompt = popup.runtime.prompts[-1]
    assert "def apply_discount(total, code):" in prompt  # the file before the selection
    assert 'if code == "TENOFF":' in prompt  # and after it (fill-in-the-middle)
    assert prompt.index("<|fim_suffix|>") < prompt.index("TENOFF")


def test_repository_lookup_never_opens_secret_files(tmp_path: Path) -> None:
    from tests.conftest import make_repo

    repo = make_repo(tmp_path / "r", {".env": "API_TOKEN = 'abcdef123456'\n",
                                      "app.py": "print('hello world')\n"})
    assert find_in_repo("API_TOKEN = 'abcdef123456'", repo) is None
    match = find_in_repo("print('hello world')", repo)
    assert match is not None
    assert match.path == "app.py"
    assert match.line == 1
    plain = make_repo(tmp_path / "plain", {"a.py": "x = 1\nprint('hello world')\n"},
                      init_git=False)
    match = find_in_repo("print('hello world')\n", plain)
    assert match is not None
    assert match.path == "a.py"
    assert match.line == 2


def test_guess_language() -> None:
    assert guess_language("", "src/app.ts") == "typescript"
    assert guess_language("def f(x):\n    return x\n") == "python"
    assert guess_language("   ") is None


def test_test_hooks_record_the_popup_state(
    qtbot: Any, popup: SuggestionPopup, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GREENPAIR_TEST_HOOKS", "1")
    with qtbot.waitSignal(popup.finished, timeout=5000):
        popup.show_for(DEF_ADD, mode="complete")
    events = [json.loads(line) for line in hook_path().read_text().splitlines()]
    events = [e for e in events if e["event"] != "painted"]  # when the platform paints
    assert [e["event"] for e in events] == ["shown", "first_token", "finished"]
    assert events[-1]["text"] == "    return a + b\n"
    assert events[0]["t"] <= events[1]["t"] <= events[2]["t"]

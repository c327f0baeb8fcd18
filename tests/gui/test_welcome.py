"""First run: the welcome page pulls a model (or takes a GGUF), then the window goes on."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel, QMainWindow

from greenpair.core.config import Settings, load_settings
from greenpair.ui.window import welcome


@pytest.fixture
def first_run(qtbot: Any, tmp_path: Path) -> tuple[QMainWindow, Settings, list[str]]:
    settings = Settings(model=str(tmp_path / "never-pulled.gguf"))
    window = QMainWindow()
    window.setCentralWidget(QLabel("chat"))
    qtbot.addWidget(window)
    calls: list[str] = []
    welcome.show_welcome(window, settings, then=lambda: calls.append("index"))
    return window, settings, calls


def _page(window: QMainWindow) -> welcome.WelcomePage:
    page = window.centralWidget().widget(0)
    assert isinstance(page, welcome.WelcomePage)
    return page


def test_welcome_is_needed_only_without_a_model(tiny_model_path: Path, tmp_path: Path) -> None:
    missing = str(tmp_path / "never-pulled.gguf")
    assert welcome.needed(Settings(model=missing))
    assert not welcome.needed(Settings(model="smollm2-135m"))
    assert not welcome.needed(Settings(model=missing, remote_url="http://127.0.0.1:8080"))


def test_a_local_gguf_opens_the_window_and_starts_indexing(
    qtbot: Any, first_run: tuple[QMainWindow, Settings, list[str]], tiny_model_path: Path
) -> None:
    window, settings, calls = first_run
    page = _page(window)
    assert window.centralWidget().currentWidget() is page
    with qtbot.waitSignal(page.ready, timeout=10_000):
        page.choose_local(str(tiny_model_path))
    assert window.centralWidget().currentWidget().text() == "chat"
    assert calls == ["index"]
    assert settings.model == str(tiny_model_path.resolve())
    assert load_settings().model == settings.model  # saved for the next start


def test_pull_shows_progress_then_uses_the_model(
    qtbot: Any, first_run: tuple[QMainWindow, Settings, list[str]], tiny_model_path: Path
) -> None:
    window, settings, calls = first_run
    page = _page(window)
    page._model = "smollm2-135m"  # provisioned: pull verifies it, fetching nothing
    with qtbot.waitSignal(page.ready, timeout=60_000):
        page.pull_default()
        assert page.cancel_button.isEnabled()
    assert page.progress.value() == 1000
    assert settings.model == "smollm2-135m"
    assert calls == ["index"]


def test_a_bad_file_says_why_and_stays(
    qtbot: Any, first_run: tuple[QMainWindow, Settings, list[str]], tmp_path: Path
) -> None:
    window, _, calls = first_run
    page = _page(window)
    bad = tmp_path / "notes.gguf"
    bad.write_text("not a model", encoding="utf-8")
    page.choose_local(str(bad))
    assert page.status.text()
    assert window.centralWidget().currentWidget() is page
    assert calls == []


def test_a_download_says_where_it_goes_and_asks_first(
    qtbot: Any, first_run: tuple[QMainWindow, Settings, list[str]],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    from greenpair.core.llm import model_store as store

    window, settings, calls = first_run
    page = _page(window)
    page._model = "qwen2.5-coder-0.5b"
    # not here, whatever this machine has pulled: a pull would fetch it
    monkeypatch.setattr(store, "verify", lambda *_a, **_k: SimpleNamespace(ok=False))
    monkeypatch.setattr(store, "destinations", lambda *_a, **_k: ["pypi.org"])
    asked: list[str] = []
    monkeypatch.setattr(page, "ask", lambda question: asked.append(question) or False)
    page.pull_default()
    assert len(asked) == 1
    assert "connects to:\n\npypi.org" in asked[0]
    assert page.status.text() == "Nothing was downloaded."
    assert not page.cancel_button.isEnabled()  # no worker started
    assert settings.allow_model_downloads is False
    assert calls == []

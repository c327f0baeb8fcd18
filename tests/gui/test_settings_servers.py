"""The Settings dialog's Servers page: remote model server, API key, shared index."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend

from greenpair.core.config import load_settings, save_settings, settings_path
from greenpair.core.llm.credentials import api_key
from greenpair.ui.settings.dialog import SettingsDialog


class MemoryKeyring(KeyringBackend):
    """An in-memory keyring (the test machine has no Secret Service)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    monkeypatch.delenv("GREENPAIR_REMOTE_API_KEY", raising=False)
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


def test_servers_round_trip_and_the_key_stays_out_of_the_settings(
        qtbot: Any, memory_keyring: MemoryKeyring) -> None:
    dialog = SettingsDialog(load_settings())
    qtbot.addWidget(dialog)
    page = dialog.servers
    page.remote_url.setText(" http://127.0.0.1:8080 ")
    page.remote_model.setText("qwen2.5-coder-7b")
    page.remote_context.setValue(16384)
    page.chroma_url.setText("http://127.0.0.1:8000")
    page.api_key.setText("sk-team-42")
    assert page.save_api_key()
    assert page.api_key.text() == ""
    save_settings(dialog.settings())
    saved = load_settings()
    assert (saved.remote_url, saved.remote_model, saved.remote_context_size,
            saved.chroma_url) == ("http://127.0.0.1:8080", "qwen2.5-coder-7b", 16384,
                                  "http://127.0.0.1:8000")
    assert "sk-team-42" not in settings_path().read_text()
    assert api_key("http://127.0.0.1:8080") == "sk-team-42"


def test_without_a_keyring_the_page_says_to_use_the_environment(qtbot: Any,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        dialog = SettingsDialog(load_settings())
        qtbot.addWidget(dialog)
        dialog.servers.remote_url.setText("http://127.0.0.1:8080")
        dialog.servers.api_key.setText("sk-x")
        assert not dialog.servers.save_api_key()
        assert "GREENPAIR_REMOTE_API_KEY" in dialog.servers.key_status.text()
    finally:
        keyring.set_keyring(previous)

"""Settings: the model manager and the round trip through the saved settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from greenpair.core.config import Settings, load_settings, save_settings
from greenpair.ui.settings.dialog import SettingsDialog


@pytest.fixture
def dialog(qtbot: Any) -> SettingsDialog:
    dlg = SettingsDialog(load_settings())
    qtbot.addWidget(dlg)
    return dlg


def _row(dialog: SettingsDialog, model_id: str) -> list[str]:
    for row in range(dialog.table.rowCount()):
        item = dialog.table.item(row, 0)
        if item.data(0x0100) == model_id:
            return [dialog.table.item(row, col).text() for col in range(dialog.table.columnCount())]
    raise AssertionError(model_id)


def test_catalog_models_show_size_ram_and_roles(dialog: SettingsDialog) -> None:
    name, size, ram, roles, status = _row(dialog, "qwen2.5-coder-1.5b")
    assert "Qwen2.5-Coder 1.5B" in name
    assert size == "1.12 GB"
    assert ram == "1.9 GB"
    assert roles == "chat, patch, fim"
    assert "in use" in status  # the default model
    assert "in use" not in _row(dialog, "smollm2-135m")[4]


def test_round_trip_through_the_saved_settings(qtbot: Any, tiny_model_path: Path) -> None:
    save_settings(Settings())
    dlg = SettingsDialog(load_settings())
    qtbot.addWidget(dlg)
    dlg.threads.setValue(3)
    dlg.gpu_layers.setValue(12)
    dlg.context_size.setValue(4096)
    dlg.eco_mode.setChecked(True)
    assert dlg.unload_after.value() == 10  # the default: unloaded after 10 min idle
    assert not dlg.unload_on_battery.isChecked()
    dlg.unload_after.setValue(25)
    dlg.unload_on_battery.setChecked(True)
    dlg.carbon.setValue(56)
    dlg.hosts.setPlainText("localhost:8080\n\n models.example.org \n")
    assert dlg.use_local(tiny_model_path)
    save_settings(dlg.settings())

    saved = load_settings()
    assert (saved.threads, saved.gpu_layers, saved.context_size) == (3, 12, 4096)
    assert saved.eco_mode
    assert saved.unload_after_idle_s == 1500
    assert saved.unload_on_battery
    assert saved.carbon_intensity_g_per_kwh == 56.0
    assert saved.allowed_hosts == ["localhost:8080", "models.example.org"]
    assert saved.model == str(tiny_model_path.resolve())

    again = SettingsDialog(saved)
    qtbot.addWidget(again)
    assert again.threads.value() == 3
    assert again.eco_mode.isChecked()
    assert again.hosts.toPlainText() == "localhost:8080\nmodels.example.org"
    assert again.settings() == saved


def test_hosts_are_empty_by_default(dialog: SettingsDialog) -> None:
    assert dialog.hosts.toPlainText() == ""
    assert dialog.settings().allowed_hosts == []


def test_a_file_that_is_not_a_model_is_refused_in_plain_words(
    dialog: SettingsDialog, tmp_path: Path
) -> None:
    fake = tmp_path / "notes.gguf"
    fake.write_text("not a model")
    before = dialog.settings().model
    assert not dialog.use_local(fake)
    assert dialog.settings().model == before
    text = dialog.model_status.text()
    assert "notes.gguf" in text
    assert "Traceback" not in text


def test_choosing_a_catalog_model(dialog: SettingsDialog, tiny_model_path: Path) -> None:
    dialog.select_model("smollm2-135m")
    assert dialog.use_selected()
    assert dialog.settings().model == "smollm2-135m"
    assert "in use" in _row(dialog, "smollm2-135m")[4]


def test_verify_runs_in_a_worker_and_reports(qtbot: Any, dialog: SettingsDialog,
                                             tiny_model_path: Path) -> None:
    dialog.select_model("smollm2-135m")
    dialog.verify_selected()
    assert dialog.cancel_button.isEnabled()
    assert not dialog.pull_button.isEnabled()
    qtbot.waitUntil(lambda: "verified" in dialog.model_status.text(), timeout=60_000)
    qtbot.waitUntil(lambda: dialog.pull_button.isEnabled(), timeout=5000)


def test_pulling_a_model_that_is_there_is_instant(qtbot: Any, dialog: SettingsDialog,
                                                  tiny_model_path: Path) -> None:
    dialog.select_model("smollm2-135m")
    dialog.pull_selected()
    qtbot.waitUntil(lambda: "ready" in dialog.model_status.text(), timeout=60_000)

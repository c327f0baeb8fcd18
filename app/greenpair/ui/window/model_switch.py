"""The chat's model switch: default, eco or any pulled model, with memory and speed shown.

Choosing a model checks first that it is on this computer and fits in the memory free
now (core's ``fit_problem``); if not, the switch goes back to the model in use and says
why in plain words. The list is read when the settings change and when the menu opens,
never on a timer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from greenpair.core.config import Settings


class _Combo(QComboBox):
    """A combo box that re-reads its choices just before the menu opens."""

    about_to_open = Signal()

    def showPopup(self) -> None:
        """Refresh, then open."""
        self.about_to_open.emit()
        super().showPopup()


class ModelSwitch(QWidget):
    """Which model answers in the chat.

    Args:
        settings: The current settings (their effective model is selected).
        speeds: Returns measured tokens/s per model id (core's ``measured_speeds``).
        free_gb: Returns the memory free now, in GB.

    Signals:
        model_chosen(str): The user chose a model that can be used (its id or path).
        problem(str): The chosen model cannot be used (why, in plain words).
    """

    model_chosen = Signal(str)
    problem = Signal(str)

    def __init__(self, settings: Settings, *, speeds: Callable[[], dict[str, float]],
                 free_gb: Callable[[], float], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings, self._speeds, self.free_gb = settings, speeds, free_gb
        self.choices: list[Any] = []
        self.combo = _Combo()
        self.combo.setAccessibleName("Model")
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(30)
        self.combo.setToolTip("The model that answers (Settings → Models to pull more)")
        self.detail = QLabel()
        self.detail.setAccessibleName("Model memory and speed")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Model:"))
        layout.addWidget(self.combo)
        layout.addWidget(self.detail, 1)
        self.detail.setMinimumWidth(40)  # clipped, not widening the window, when narrow
        self.combo.about_to_open.connect(self.refresh)
        self.combo.activated.connect(self._on_activated)
        self.combo.currentIndexChanged.connect(lambda _i: self._show_detail())
        self.refresh()

    def set_settings(self, settings: Settings) -> None:
        """New settings: select their model."""
        self._settings = settings
        self.refresh()

    def refresh(self) -> None:
        """Read the models and the measured speeds again."""
        from greenpair.core.llm.choices import model_choices

        try:
            speeds = self._speeds()
        except Exception:  # noqa: BLE001 - a damaged ledger must not hide the models
            speeds = {}
        self.choices = model_choices(self._settings, speeds)
        current = self._settings.effective_model()
        self.combo.blockSignals(True)
        self.combo.clear()
        for choice in self.choices:
            name = choice.name.removesuffix(" Instruct")  # every chat model is one
            text = name if choice.label == choice.name else f"{choice.label} — {name}"
            self.combo.addItem(text, choice.id)
            if choice.id == current:
                self.combo.setCurrentIndex(self.combo.count() - 1)
        self.combo.blockSignals(False)
        self._show_detail()

    def current(self) -> Any:
        """The selected ``ModelChoice``."""
        index = self.combo.currentIndex()
        return self.choices[index] if 0 <= index < len(self.choices) else None

    def _show_detail(self) -> None:
        from greenpair.core.llm.choices import describe

        choice = self.current()
        self.detail.setText(describe(choice) if choice is not None else "")

    def choose(self, model_id: str) -> bool:
        """Select ``model_id`` as the user would (checked; False when refused)."""
        for i, choice in enumerate(self.choices):
            if choice.id == model_id:
                self.combo.setCurrentIndex(i)
                return self._on_activated(i)
        return False

    def _on_activated(self, index: int) -> bool:
        from greenpair.core.llm.choices import fit_problem

        choice = self.choices[index]
        if choice.id == self._settings.effective_model():
            return True
        problem = fit_problem(choice, self.free_gb())
        if problem is not None:
            self.refresh()  # back to the model in use
            self.problem.emit(problem)
            return False
        self.model_chosen.emit(choice.id)
        return True

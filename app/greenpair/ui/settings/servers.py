"""The Settings dialog's "Servers" page: a remote model server and a shared index.

Remote inference: the server's URL, model name, context size and API key. The key goes
to the OS keyring when the user presses "Store key" (or comes from the
``GREENPAIR_REMOTE_API_KEY`` environment variable); it is never part of the settings.
Shared index: the URL of a team's Chroma server. Both hosts must be loopback or in the
allow-list of the "Energy and privacy" page.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from greenpair.core.config import Settings
from greenpair.core.errors import GreenpairError


class ServersPage(QWidget):
    """Edits the remote-server and shared-index fields of a ``Settings``."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        self.remote_url = QLineEdit(settings.remote_url)
        self.remote_url.setPlaceholderText("Empty: run the model on this computer")
        self.remote_url.setAccessibleName("Model server URL")
        self.remote_model = QLineEdit(settings.remote_model)
        self.remote_model.setPlaceholderText("The model name the server expects")
        self.remote_model.setAccessibleName("Model name on the server")
        self.remote_context = QSpinBox()
        self.remote_context.setRange(0, 1 << 20)
        self.remote_context.setSingleStep(1024)
        self.remote_context.setSuffix(" tokens")
        self.remote_context.setSpecialValueText("Ask the server (2,048 if it cannot say)")
        self.remote_context.setValue(settings.remote_context_size)
        self.remote_context.setAccessibleName("Model server context size")
        self.api_key = QLineEdit()
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText("Kept in the OS keyring, never in the settings")
        self.api_key.setAccessibleName("API key")
        self.store_key = QPushButton("Store key")
        self.store_key.setAccessibleName("Store the API key in the keyring")
        self.store_key.clicked.connect(self.save_api_key)
        key_row = QHBoxLayout()
        key_row.addWidget(self.api_key)
        key_row.addWidget(self.store_key)
        self.key_status = QLabel("")
        self.key_status.setWordWrap(True)
        self.chroma_url = QLineEdit(settings.chroma_url)
        self.chroma_url.setPlaceholderText("Empty: vectors stay in the local index")
        self.chroma_url.setAccessibleName("Shared Chroma server URL")
        note = QLabel("Energy of answers from a model server is measured on this computer "
                      "only. A shared Chroma server holds vectors, paths and hashes, never "
                      "code. Both hosts must be allow-listed unless they are this computer.")
        note.setWordWrap(True)
        form.addRow("Model server:", self.remote_url)
        form.addRow("Model name:", self.remote_model)
        form.addRow("Context size:", self.remote_context)
        form.addRow("API key:", key_row)
        form.addRow("", self.key_status)
        form.addRow("Shared index:", self.chroma_url)
        form.addRow("", note)

    def save_api_key(self) -> bool:
        """Store the typed key for the typed server URL in the OS keyring."""
        from greenpair.core.llm.credentials import store_api_key

        url = self.remote_url.text().strip()
        if not url:
            self.key_status.setText("Enter the model server's URL first.")
            return False
        try:
            store_api_key(url, self.api_key.text())
        except GreenpairError as exc:
            self.key_status.setText(f"{exc.message} {exc.hint or ''}".strip())
            return False
        self.api_key.clear()
        self.key_status.setText("Stored in the OS keyring.")
        return True

    def apply(self, settings: Settings) -> None:
        """Write the page's fields into ``settings`` (the API key is never one of them)."""
        settings.remote_url = self.remote_url.text().strip()
        settings.remote_model = self.remote_model.text().strip()
        settings.remote_context_size = self.remote_context.value()
        settings.chroma_url = self.chroma_url.text().strip()

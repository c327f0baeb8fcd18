"""The PySide6 desktop client: window, tray monitor, hotkey popup. Thin over core."""

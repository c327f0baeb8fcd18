"""The hotkey popup: the global hotkey, the selection, the suggestion."""

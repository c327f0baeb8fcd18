"""The main window: chat, code viewer, index status, model switch, welcome."""

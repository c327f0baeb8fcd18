"""The hotkey suggestion: skip useless work, complete, fix or explain a selection."""

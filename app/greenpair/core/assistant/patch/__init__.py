"""The patch pipeline: target, draft under a grammar, match, validate, apply, undo."""

"""Change review: the drafted patch as a diff, apply, discard, undo."""

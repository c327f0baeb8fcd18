"""The energy page: daily use, per-answer figures, avoided work."""

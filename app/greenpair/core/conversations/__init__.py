"""Kept conversations: a per-repository SQLite store, search and Markdown export."""

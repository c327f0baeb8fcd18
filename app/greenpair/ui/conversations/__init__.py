"""Kept conversations: the list, search, rename, export."""

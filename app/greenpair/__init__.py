"""Greenpair: a private, green coding assistant that runs on your own machine."""

__version__ = "0.1.0"

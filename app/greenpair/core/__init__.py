"""Headless engine of Greenpair. Never imports Qt (checked by import-linter)."""

from greenpair.core.privacy import enforce_offline_environment

enforce_offline_environment()

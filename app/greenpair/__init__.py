"""Greenpair: a private, green coding assistant that runs on your own machine."""

__version__ = "0.1.0"

# First, before any entry point (CLI, window, popup, ``python -m greenpair``, tests,
# benchmarks) can load a library that phones home: every telemetry switch goes off.
from greenpair.core.privacy import enforce_offline_environment as _enforce_offline

_enforce_offline()

"""Eco decisions that depend on power: pause indexing while on battery.

Fewer threads and the smaller model are ``Settings.effective_threads`` and
``Settings.effective_model``; this module adds the battery check the indexer and the
watcher call before (re)indexing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from greenpair.core.energy.sensors.battery import DEFAULT_ROOT, on_battery


def should_pause_indexing(settings: Any, root: Path | None = None) -> bool:
    """Whether background indexing should wait: on battery and the setting asks for it.

    Args:
        settings: The settings in force.
        root: The power_supply class directory (tests pass a recorded tree); the
            system's when None.
    """
    if not getattr(settings, "pause_indexing_on_battery", True):
        return False
    return on_battery(root or DEFAULT_ROOT)

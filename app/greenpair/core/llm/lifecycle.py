"""When the local model leaves memory: after an idle time, on battery, on a model switch.

The model loads on first use. After a generation, ``UnloadRule`` says when to look again
and whether to free it then: after ``idle_s`` without a generation (0: keep it), or, when
the user asked for it, as soon as the machine runs on battery (looked at every
``BATTERY_CHECK_S`` while the model is loaded and idle, never while unloaded). A switch to
another model frees the old one (``RuntimeManager.get``). Every surface (window, tray,
``serve``, ``mcp``) holds a runtime built from the same settings, so they share the rule.

The default idle time comes from ``benchmarks/model_reload.py``: reloading a model that
was freed costs a load (the file is usually still in the page cache) on top of the first
token; see the README's "Model lifecycle" for the figures and the choice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from greenpair.core.config import DEFAULT_UNLOAD_AFTER_IDLE_S

__all__ = ["BATTERY_CHECK_S", "DEFAULT_UNLOAD_AFTER_IDLE_S", "UnloadRule", "memory_line"]

BATTERY_CHECK_S = 60.0


def _on_mains() -> bool:
    from greenpair.core.llm.threads import on_mains_power

    return on_mains_power()


@dataclass
class UnloadRule:
    """Whether an idle model should leave memory now, and when to look again.

    Args:
        idle_s: Free the model after this long without a generation (0: keep it).
        on_battery: Free it as soon as the machine runs on battery.
        on_mains: Tells whether the machine is on mains power (tests pass their own).
    """

    idle_s: float = 0.0
    on_battery: bool = False
    on_mains: Callable[[], bool] = field(default=_on_mains, repr=False)

    @property
    def active(self) -> bool:
        """Whether the rule ever frees the model."""
        return self.idle_s > 0 or self.on_battery

    def reason(self, idle_for: float) -> str | None:
        """Why the model should be freed after ``idle_for`` seconds idle (None: keep)."""
        if self.idle_s > 0 and idle_for >= self.idle_s:
            return f"after {_duration(self.idle_s)} idle"
        if self.on_battery and not self.on_mains():
            return "on battery"
        return None

    def next_check(self, idle_for: float) -> float | None:
        """Seconds until the rule should look again (None: never)."""
        waits = []
        if self.idle_s > 0:
            waits.append(max(0.0, self.idle_s - idle_for))
        if self.on_battery:
            waits.append(BATTERY_CHECK_S)
        return min(waits) if waits else None


def _duration(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} min"
    return f"{seconds:g} s"


def rss_bytes() -> int | None:
    """This process's resident memory (None when psutil cannot tell)."""
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except Exception:  # noqa: BLE001 - psutil missing or refused: the figure is unknown
        return None


def format_bytes(n: float) -> str:
    """``1.9 GB``, ``740 MB``."""
    if n >= 1e9:
        return f"{n / 1e9:.1f} GB"
    return f"{n / 1e6:.0f} MB"


def memory_line(runtime: Any) -> str:
    """What the tray shows: ``Model loaded · 1.9 GB`` or ``Model unloaded``.

    ``runtime`` may be None (nothing asked yet) or a backend without a local model.
    """
    if runtime is None or getattr(runtime, "loaded", None) is not True:
        return "Model unloaded"
    size = getattr(runtime, "resident_bytes", None)
    return f"Model loaded · {format_bytes(size)}" if size else "Model loaded"

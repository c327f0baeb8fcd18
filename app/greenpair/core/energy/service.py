"""What work needs from the meter: a narrow protocol to pass around (STYLE.md §8).

The assistant, the index and the server receive an ``EnergyMeter`` instead of calling
``get_meter()``; the process-wide ``Meter`` is one, a test may pass another, and
``serve`` passes the same one to every repository it answers for. ``meter_or_default``
is the one place that falls back to the process's meter.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from greenpair.core.energy.meter import EnergyWindow


@runtime_checkable
class EnergyMeter(Protocol):
    """Measures windows of work and records avoided work."""

    def window(self, kind: str, *, record: bool = True,
               **meta: Any) -> AbstractContextManager[EnergyWindow]:
        """Measure the work done inside the ``with`` block (``EnergyWindow.report`` after)."""
        ...

    def record_saving(self, name: str, *, count: float = 1, tokens: int = 0,
                      joules: float | None = None) -> None:
        """Record avoided work."""
        ...


def meter_or_default(meter: EnergyMeter | None) -> EnergyMeter:
    """``meter``, or the process's meter when the caller passed none."""
    if meter is not None:
        return meter
    from greenpair.core.energy.meter import get_meter

    return get_meter()

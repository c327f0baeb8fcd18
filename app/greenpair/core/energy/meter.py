"""Measurement windows (placeholder: process CPU time × 4 W per busy thread, estimated).

The energy issue replaces the internals with real sensors, a sampler and the ledger; the
API stays the same.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

WATTS_PER_THREAD = 4.0  # CodeCarbon's fallback for unknown CPUs
WORLD_G_PER_KWH = 475.0


@dataclass
class EnergyReport:
    """The energy of one piece of work."""

    kind: str
    duration_s: float
    joules: float | None
    sensor: str
    estimated: bool
    tokens: int = 0
    gco2e: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def joules_per_token(self) -> float | None:
        """J/token, when tokens were counted."""
        if self.joules is None or not self.tokens:
            return None
        return self.joules / self.tokens


@dataclass
class EnergyWindow:
    """An open measurement window; ``report`` is set when it closes."""

    kind: str
    meta: dict[str, Any]
    tokens: int = 0
    report: EnergyReport | None = None


class Meter:
    """Opens measurement windows."""

    @contextmanager
    def window(self, kind: str, **meta: Any) -> Iterator[EnergyWindow]:
        """Measure the energy of the work done inside the ``with`` block."""
        win = EnergyWindow(kind=kind, meta=dict(meta))
        t0, c0 = time.monotonic(), time.process_time()
        try:
            yield win
        finally:
            cpu = time.process_time() - c0
            joules = cpu * WATTS_PER_THREAD
            win.report = EnergyReport(
                kind=kind,
                duration_s=time.monotonic() - t0,
                joules=joules,
                sensor="estimate",
                estimated=True,
                tokens=win.tokens,
                gco2e=joules / 3.6e6 * WORLD_G_PER_KWH,
                meta=win.meta,
            )


_meter: Meter | None = None


def get_meter() -> Meter:
    """The process-wide meter."""
    global _meter
    if _meter is None:
        _meter = Meter()
    return _meter

"""What work needs from the meter: a narrow protocol to pass around (STYLE.md §8).

The assistant, the index and the server receive an ``EnergyMeter``: each entry point's
``Services.meter`` (one per process, built by the composition root), or in tests another.
There is no process-wide meter to fall back to: work given no meter runs ``Unmetered``
and its report says so.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
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


class Unmetered:
    """A meter that measures nothing: the work's report says so (``sensor`` "none").

    What core gets when its caller passed no meter. Entry points pass their
    ``Services.meter``; tests and benchmarks that do not look at energy may omit it.
    """

    @contextmanager
    def window(self, kind: str, *, record: bool = True,
               **meta: Any) -> Iterator[EnergyWindow]:
        """Time the block; no joules (``report.joules`` is None)."""
        from greenpair.core.energy.attribution import EnergyWindow
        from greenpair.core.energy.report import EnergyReport

        win = EnergyWindow(kind=kind, meta=dict(meta))
        start = time.monotonic()
        try:
            yield win
        finally:
            win.report = EnergyReport(
                kind=kind, duration_s=time.monotonic() - start, joules=None, sensor="none",
                estimated=True, tokens=win.tokens, meta=dict(meta),
                prompt_tokens=win.prompt_tokens,
            )

    def record_saving(self, name: str, *, count: float = 1, tokens: int = 0,
                      joules: float | None = None) -> None:
        """Nothing is recorded."""


def meter_or_unmetered(meter: EnergyMeter | None) -> EnergyMeter:
    """``meter``, or an :class:`Unmetered` one (never a process-wide meter)."""
    return meter if meter is not None else Unmetered()

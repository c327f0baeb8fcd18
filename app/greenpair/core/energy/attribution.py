"""Attribution: how the energy of a time segment is shared between open windows.

Time is cut into segments at every window start/end and sampler tick. In each segment the
whole system's energy is multiplied by Greenpair's share of the busy CPU time (process
CPU ÷ machine CPU) and that part is split *equally* between the windows open in the
segment. A question asked during indexing thus gets half of Greenpair's energy while both
run, all of it before and after; the windows' joules add up to Greenpair's total, never
more. Without a measuring sensor (or when the sensor changed inside a window) a window's
joules are its CPU seconds × watts per busy thread, labelled estimated.

Pure logic: snapshots come from ``sensing``, the results go to ``recording``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from greenpair.core.energy.carbon import grams_co2e
from greenpair.core.energy.report import EnergyReport


@dataclass(frozen=True)
class Snapshot:
    """Counters at one instant: time, sensor generation, sensor joules, CPU seconds."""

    t: float
    gen: int
    sensor_j: float | None
    proc_s: float
    sys_s: float


@dataclass
class EnergyWindow:
    """An open measurement window; ``report`` is set when it closes."""

    kind: str
    meta: dict[str, Any]
    tokens: int = 0
    report: EnergyReport | None = None
    prompt_tokens: int = 0
    _start: Snapshot | None = field(default=None, repr=False)
    _attr_j: float = field(default=0.0, repr=False)
    _attr_ok: bool = field(default=True, repr=False)
    _cpu_s: float = field(default=0.0, repr=False)
    _overlapped: bool = field(default=False, repr=False)


class Attribution:
    """The open windows and the last snapshot; ``advance`` closes a segment."""

    def __init__(self) -> None:
        self.open: list[EnergyWindow] = []
        self.last: Snapshot | None = None

    def forget_last(self) -> None:
        """Start over (the sensor was re-selected: its counter is not comparable)."""
        self.last = None

    def advance(self, snap: Snapshot) -> None:
        """Close the segment since the last snapshot and split it between open windows."""
        last, self.last = self.last, snap
        if last is None or not self.open:
            return
        k = len(self.open)
        d_proc = max(0.0, snap.proc_s - last.proc_s)
        d_sys = max(0.0, snap.sys_s - last.sys_s)
        share = min(1.0, d_proc / d_sys) if d_sys > 0 else (1.0 if d_proc > 0 else 0.0)
        valid = snap.gen == last.gen and None not in (snap.sensor_j, last.sensor_j)
        d_j = max(0.0, snap.sensor_j - last.sensor_j) if valid else 0.0  # type: ignore[operator]
        for win in self.open:
            win._cpu_s += d_proc / k
            win._attr_j += d_j * share / k
            win._attr_ok = win._attr_ok and valid
            win._overlapped = win._overlapped or k > 1


def window_report(win: EnergyWindow, end: Snapshot, *, sensor_name: str, sensor_estimated: bool,
                  watts_per_thread: float, g_per_kwh: float) -> EnergyReport:
    """The report of a closed window (measured when the sensor allowed it, else estimated)."""
    start = win._start
    assert start is not None
    same = start.gen == end.gen and None not in (start.sensor_j, end.sensor_j)
    measured = same and win._attr_ok and not sensor_estimated
    if measured:
        joules, system_j = win._attr_j, end.sensor_j - start.sensor_j  # type: ignore[operator]
        name, estimated = sensor_name, False
    else:
        joules = win._cpu_s * watts_per_thread
        system_j = max(end.sys_s - start.sys_s, win._cpu_s) * watts_per_thread
        name, estimated = "estimate", True
    return EnergyReport(
        kind=win.kind,
        duration_s=max(0.0, end.t - start.t),
        joules=joules,
        sensor=name,
        estimated=estimated,
        tokens=int(win.tokens or 0),
        gco2e=grams_co2e(joules, g_per_kwh),
        meta=win.meta,
        system_joules=system_j,
        share=(joules / system_j) if system_j else None,
        cpu_s=win._cpu_s,
        prompt_tokens=int(win.prompt_tokens or 0),
        g_per_kwh=g_per_kwh,
        overlapped=win._overlapped,
    )

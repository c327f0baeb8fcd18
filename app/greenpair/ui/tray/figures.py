"""The energy figures of the tray menu, read from core's ledger and meter."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from greenpair.core.errors import GreenpairError

if TYPE_CHECKING:
    from greenpair.core.energy.meter import Meter

log = logging.getLogger(__name__)

ANSWER_KINDS = ("answer", "patch", "suggestion")


@dataclass
class EnergyFigures:
    """What the tray menu shows (None: not known)."""

    today_j: float | None = None
    session_j: float | None = None
    last_j: float | None = None
    last_g: float | None = None
    last_estimated: bool = True


def format_joules(joules: float | None) -> str:
    """``0.4 J``, ``850 J``, ``12.3 kJ``, ``4.20 MJ``; ``–`` when unknown."""
    if joules is None:
        return "–"
    if joules < 10:
        return f"{joules:.1f} J"
    if joules < 1000:
        return f"{joules:.0f} J"
    if joules < 1e6:
        return f"{joules / 1000:.1f} kJ"
    return f"{joules / 1e6:.2f} MJ"


def format_grams(grams: float | None) -> str:
    """``0.42 g CO2e``, ``3.1 mg CO2e``, ``26 µg CO2e``; ``–`` when unknown."""
    if grams is None:
        return "– g CO2e"
    if grams < 1e-4:
        return f"{grams * 1e6:.0f} µg CO2e"
    if grams < 0.01:
        return f"{grams * 1000:.1f} mg CO2e"
    return f"{grams:.2f} g CO2e"


def read_figures(meter: Meter, session_start: float) -> EnergyFigures:
    """Energy today, since ``session_start`` (epoch seconds), and of the last answer.

    Read from ``meter``'s ledger.

    "The last answer" is the latest answer, patch or suggestion in the ledger.
    """
    figures = EnergyFigures()
    midnight = dt.datetime.combine(dt.date.today(), dt.time()).timestamp()
    try:
        ledger = meter.ledger()
        figures.today_j = ledger.totals(since=midnight).joules
        figures.session_j = ledger.totals(since=session_start).joules
        records = [ledger.last(kind) for kind in ANSWER_KINDS]
    except (GreenpairError, OSError) as exc:
        log.debug("cannot read the energy ledger: %s", exc)
        return figures
    known = [r for r in records if r is not None]
    if known:
        last = max(known, key=lambda r: r.ts)
        figures.last_j, figures.last_g = last.joules, last.gco2e
        figures.last_estimated = last.estimated
    return figures

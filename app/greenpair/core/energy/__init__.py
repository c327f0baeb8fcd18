"""Energy: sensors, the live meter, measurement windows, the ledger, carbon figures.

Public API used by the rest of core and the clients::

    from greenpair.core.energy import get_meter
    with get_meter().window("answer", repo=str(repo)) as w:
        ...            # do the work
        w.tokens = n   # optional
    report = w.report  # EnergyReport, filled on exit (and saved in the ledger)
"""

from greenpair.core.energy.meter import EnergyReport, EnergyWindow, Meter, get_meter

__all__ = ["EnergyReport", "EnergyWindow", "Meter", "get_meter"]

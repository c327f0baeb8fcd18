"""Energy: sensors, the live meter, measurement windows, the ledger, carbon figures.

Public API used by the rest of core and the clients::

    meter = services.meter            # the entry point's Services (one Meter per process)
    with meter.window("answer", repo=str(repo)) as w:
        ...            # do the work
        w.tokens = n   # optional (w.prompt_tokens too)
    report = w.report  # EnergyReport, filled on exit (and saved in the ledger)

    meter.live_watts()              # whole-system watts (estimated without a sensor)
    meter.subscribe(callback)       # PowerReading on meaningful changes
    meter.count("suggestions_avoided")
    meter.record_saving("prompt_tokens_saved", tokens=800)
    meter.ledger().totals(since=...)
    on_battery(), should_pause_indexing(settings)

See :mod:`greenpair.core.energy.meter` for its parts (sensing, attribution, live power,
recording) and :mod:`greenpair.core.energy.attribution` for the rule of overlapping windows.
Work takes its meter as a service (:class:`greenpair.core.energy.meter_protocol.EnergyMeter`).
"""

from greenpair.core.energy.eco import should_pause_indexing
from greenpair.core.energy.meter import (
    EMBEDDINGS_REUSED,
    KV_CACHE_TOKENS_REUSED,
    PROMPT_TOKENS_SAVED,
    SUGGESTIONS_AVOIDED,
    EnergyWindow,
    Meter,
    Subscription,
)
from greenpair.core.energy.report import EnergyReport, PowerReading
from greenpair.core.energy.sensors.battery import on_battery

__all__ = [
    "EMBEDDINGS_REUSED",
    "KV_CACHE_TOKENS_REUSED",
    "PROMPT_TOKENS_SAVED",
    "SUGGESTIONS_AVOIDED",
    "EnergyReport",
    "EnergyWindow",
    "Meter",
    "PowerReading",
    "Subscription",
    "on_battery",
    "should_pause_indexing",
]

"""``greenpair doctor``: health checks of every layer, above energy, llm and index.

:func:`run_checks` gathers them in display order; each room's checks live beside each
other here (``checks``: sensors, models, storage, settings; ``inference``: the llama.cpp
build and the embedder), so no lower layer imports the doctor.
"""

from __future__ import annotations

import os

from greenpair.core.config import Settings
from greenpair.core.doctor.check import Check
from greenpair.core.doctor.checks import (
    RAPL_DOC,
    model_checks,
    runtime_checks,
    sensor_checks,
    storage_checks,
)
from greenpair.core.doctor.inference import embedder_checks, inference_checks
from greenpair.core.energy.sensors import Probe, detect_sensors

__all__ = ["Check", "run_checks"]


def run_checks(settings: Settings, *, verify: bool = False,
               probe: Probe | None = None) -> list[Check]:
    """Every check, in display order.

    Args:
        settings: The settings in force.
        verify: Hash model files not verified yet.
        probe: Where to look for sensors (default: from the settings).
    """
    statuses = detect_sensors(probe if probe is not None else Probe.from_settings(settings))
    checks = list(sensor_checks(statuses))
    rapl_works = any(s.name == "rapl" and s.available for s in statuses)
    if rapl_works and hasattr(os, "geteuid") and os.geteuid() == 0:
        checks.append(Check("sensors", "note", "info",
                            "running as root: RAPL is readable for root, maybe not for users",
                            f"See {RAPL_DOC}."))
    checks += list(model_checks(settings, verify))
    checks += list(storage_checks())
    checks += list(runtime_checks(settings))
    checks += list(embedder_checks())
    checks += list(inference_checks(settings.gpu_layers))
    return checks

"""What the meter hands out: the energy of one piece of work, and a live power reading."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class EnergyReport:
    """The energy of one piece of work (an answer, a patch, an index run, a suggestion).

    Attributes:
        kind: ``answer``, ``patch``, ``index``, ``suggestion``…
        duration_s: Wall-clock seconds of the window.
        joules: Energy attributed to Greenpair: the whole system's energy in the window ×
            Greenpair's share of the busy CPU time (split between overlapping windows).
        sensor: The sensor that gave ``joules`` (``rapl``, ``battery``, ``estimate``…).
        estimated: True when ``joules`` is an estimate; show it as "estimated".
        tokens: Completion tokens generated in the window.
        gco2e: Grams of CO2-equivalent of ``joules`` at ``g_per_kwh``.
        meta: Caller's details (repository, model…).
        system_joules: The whole machine's energy during the window.
        share: ``joules / system_joules`` (None when unknown).
        cpu_s: Greenpair's CPU seconds attributed to this window.
        prompt_tokens: Prompt tokens processed in the window.
        g_per_kwh: Grid intensity used for ``gco2e``.
        overlapped: Another window was open at the same time (time was split).
    """

    kind: str
    duration_s: float
    joules: float | None
    sensor: str
    estimated: bool
    tokens: int = 0
    gco2e: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    system_joules: float | None = None
    share: float | None = None
    cpu_s: float = 0.0
    prompt_tokens: int = 0
    g_per_kwh: float | None = None
    overlapped: bool = False

    @property
    def joules_per_token(self) -> float | None:
        """J per generated token, when tokens were counted."""
        if self.joules is None or not self.tokens:
            return None
        return self.joules / self.tokens

    @property
    def watts(self) -> float | None:
        """Average power attributed to the work."""
        if self.joules is None or self.duration_s <= 0:
            return None
        return self.joules / self.duration_s

    def label(self) -> str:
        """Short text for the UI, e.g. ``"41.2 J · 0.005 gCO2e (estimated)"``."""
        if self.joules is None:
            return "energy unknown"
        text = f"{self.joules:.1f} J"
        if self.gco2e is not None:
            text += f" · {self.gco2e:.3f} gCO2e"
        return text + (" (estimated)" if self.estimated else f" ({self.sensor})")

    def to_json(self) -> dict[str, Any]:
        """The energy fields of the ``ask --json`` / ``patch --json`` contracts."""
        return {
            "energy_j": self.joules,
            "energy_sensor": self.sensor,
            "energy_estimated": self.estimated,
            "energy_system_j": self.system_joules,
            "energy_share": self.share,
            "energy_duration_s": self.duration_s,
            "energy_j_per_token": self.joules_per_token,
            "gco2e": self.gco2e,
            "g_per_kwh": self.g_per_kwh,
        }


@dataclass(frozen=True)
class PowerReading:
    """Live power from the sampler.

    Attributes:
        ts: Epoch seconds of the reading.
        watts: The whole system's power (or its estimate).
        greenpair_watts: The part attributed to Greenpair (its CPU share).
        sensor: The sensor used.
        estimated: True when ``watts`` is an estimate.
    """

    ts: float
    watts: float
    greenpair_watts: float
    sensor: str
    estimated: bool

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "ts": self.ts,
            "watts": self.watts,
            "greenpair_watts": self.greenpair_watts,
            "sensor": self.sensor,
            "estimated": self.estimated,
        }

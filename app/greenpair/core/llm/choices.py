"""The models the chat can switch to, with the memory each needs and the speed seen here.

``model_choices`` lists the default model, the eco model and every other model pulled
onto this computer (plus the current one when it is a GGUF path). Each carries its
memory need (the catalog's figure; for a bare GGUF file, its size plus 20 %), whether it
fits in the memory free now, and the generation speed measured on this computer (from
the energy ledger's answers of the last 30 days; None until one was answered).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from greenpair.core.config import DEFAULT_MODEL, ECO_MODEL, Settings

RAM_MARGIN_GB = 0.3  # the runtime's buffers and the KV cache beyond the catalog's figure


@dataclass(frozen=True)
class ModelChoice:
    """One model the chat can use."""

    id: str  # catalog id or GGUF path
    label: str  # "Default", "Eco" or the model's name
    name: str
    ram_gb: float
    installed: bool
    tokens_per_s: float | None = None

    def fits(self, free_gb: float) -> bool:
        """Whether the model fits in ``free_gb`` of free memory."""
        return self.ram_gb + RAM_MARGIN_GB <= free_gb


def free_memory_gb() -> float:
    """Memory available to a new process now, in GB."""
    import psutil

    return float(psutil.virtual_memory().available) / 1e9


def measured_speeds(ledger: Any, days: int = 30, now: float | None = None) -> dict[str, float]:
    """Generation speed (tokens/s) of answers, per model, over the last ``days`` days.

    Uses the speed each answer recorded (``tokens_per_s`` in its meta), weighted by its
    tokens; an older row without it counts its tokens over the whole answer's duration.
    """
    since = (time.time() if now is None else now) - days * 86400
    tokens: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for _ts, kind, _j, tok, meta, duration in ledger.rows_since(since):
        if kind != "answer" or not tok:
            continue
        try:
            raw = json.loads(meta or "{}")
        except ValueError:
            continue
        model = str(raw.get("model", ""))
        speed = float(raw.get("tokens_per_s", 0) or 0)
        took = tok / speed if speed > 0 else duration
        if not model or not took:
            continue
        tokens[model] = tokens.get(model, 0.0) + tok
        seconds[model] = seconds.get(model, 0.0) + took
    return {m: tokens[m] / seconds[m] for m in tokens if seconds.get(m)}


def model_choices(settings: Settings, speeds: dict[str, float] | None = None
                  ) -> list[ModelChoice]:
    """Default, eco, then the other pulled models (and the current GGUF path, if any)."""
    from greenpair.core.llm import catalog
    from greenpair.core.llm import model_store as store

    speeds = speeds or {}
    infos = {m.id: m for m in catalog.load_catalog()}
    order = [DEFAULT_MODEL, ECO_MODEL]
    order += sorted(i for i in infos if i not in order and store.find_model(i) is not None)
    current = settings.effective_model()
    if current not in order:
        order.append(current)
    out = []
    for model_id in order:
        info = infos.get(model_id)
        path = store.find_model(model_id)
        if info is not None:
            name, ram = info.name, info.ram_gb
        else:
            name = Path(model_id).name
            ram = (path.stat().st_size / 1e9 * 1.2) if path is not None else 0.0
        label = {DEFAULT_MODEL: "Default", ECO_MODEL: "Eco"}.get(model_id, name)
        speed = speeds.get(model_id) or (speeds.get(str(path)) if path else None)
        out.append(ModelChoice(model_id, label, name, ram, path is not None, speed))
    return out


def describe(choice: ModelChoice) -> str:
    """A short line for the chat's model switch: memory and speed measured here."""
    tps = choice.tokens_per_s
    speed = (f"{tps:.0f} tok/s" if tps and tps >= 10 else f"{tps:.1f} tok/s" if tps
             else "speed not measured")
    pulled = "" if choice.installed else " · not pulled"
    return f"~{choice.ram_gb:.1f} GB RAM · {speed}{pulled}"


def fit_problem(choice: ModelChoice, free_gb: float) -> str | None:
    """Why ``choice`` cannot be used now (None when it can)."""
    if not choice.installed:
        return (f"{choice.name} is not on this computer. Pull it in Settings → Models, "
                "or choose another model.")
    if not choice.fits(free_gb):
        return (f"{choice.name} does not fit in memory: it needs about "
                f"{choice.ram_gb + RAM_MARGIN_GB:.1f} GB and {free_gb:.1f} GB is free. Close "
                "some programs, or choose a smaller model (Eco).")
    return None

"""The stats line under every answer and patch: tokens, time, speed, energy, carbon."""

from __future__ import annotations

from typing import Any


def _joules(j: float) -> str:
    if j >= 1000:
        return f"{j / 1000:.2f} kJ"
    if j >= 10:
        return f"{j:.0f} J"
    return f"{j:.1f} J"


def _grams(g: float) -> str:
    if g >= 1:
        return f"{g:.2f} gCO2e"
    if g >= 0.01:
        return f"{g:.3f} gCO2e"
    return f"{g:.4f} gCO2e"


def format_stats(
    *,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    cached_tokens: int = 0,
    seconds: float | None = None,
    tokens_per_s: float = 0.0,
    energy: Any = None,
    model: str = "",
) -> str:
    """One line of figures for the user.

    Args:
        prompt_tokens: Tokens read by the model.
        completion_tokens: Tokens written.
        cached_tokens: Prompt tokens reused from the model's cache (not computed again).
        seconds: Wall time (default: the energy report's duration).
        tokens_per_s: Generation speed.
        energy: An ``EnergyReport`` (joules, estimated, gco2e, duration_s) or None.
        model: The model's id (shown last).

    Returns:
        e.g. ``812 + 96 tokens · 4.1 s · 31.5 tokens/s · 38 J (estimated) · 0.0050 gCO2e``.
    """
    reused = f" ({cached_tokens:,} reused)" if cached_tokens > 0 else ""
    parts = [f"{prompt_tokens:,}{reused} + {completion_tokens:,} tokens"]
    if seconds is None and energy is not None:
        seconds = getattr(energy, "duration_s", None)
    if seconds is not None:
        parts.append(f"{seconds:.1f} s")
    if tokens_per_s > 0:
        parts.append(f"{tokens_per_s:.1f} tokens/s")
    joules = getattr(energy, "joules", None) if energy is not None else None
    if joules is not None:
        label = _joules(joules)
        if getattr(energy, "estimated", False):
            label += " (estimated)"
        parts.append(label)
    else:
        parts.append("energy not measured")
    gco2e = getattr(energy, "gco2e", None) if energy is not None else None
    if gco2e is not None:
        parts.append(_grams(gco2e))
    if model:
        parts.append(model)
    return " · ".join(parts)


def format_eta(seconds: float | None) -> str:
    """``about 2 min left`` / ``12 s left`` / empty when unknown."""
    if seconds is None or seconds < 0:
        return ""
    if seconds < 60:
        return f"{max(1, round(seconds))} s left"
    minutes = seconds / 60
    if minutes < 60:
        return f"about {round(minutes)} min left"
    return f"about {minutes / 60:.1f} h left"

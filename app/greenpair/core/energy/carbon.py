"""Grid carbon intensity and grams of CO2-equivalent.

Per-country figures are yearly averages of the carbon intensity of electricity
generation, in gCO2e/kWh, for 2023, from Ember's Yearly Electricity Data (lifecycle
emissions, production mix), as published in Our World in Data's "Carbon intensity of
electricity generation" table (Ember and Energy Institute), rounded to whole grams. They
are a reasonable default; users with a better figure (their supplier's, a live grid
signal) set ``carbon_intensity_g_per_kwh`` themselves.

The default world average is 475 g/kWh (the figure in our settings; Ember's 2023 world
figure is 481). Precedence: an explicit ``carbon_intensity_g_per_kwh`` different from the
default, else the ``country`` setting found in the table, else the world average.
"""

from __future__ import annotations

from typing import Any

WORLD_G_PER_KWH = 475.0
JOULES_PER_KWH = 3.6e6

# ISO 3166-1 alpha-2 -> (country, gCO2e/kWh in 2023; Ember via Our World in Data)
COUNTRY_G_PER_KWH: dict[str, tuple[str, float]] = {
    "AR": ("Argentina", 354),
    "AT": ("Austria", 111),
    "AU": ("Australia", 549),
    "BE": ("Belgium", 138),
    "BG": ("Bulgaria", 335),
    "BR": ("Brazil", 98),
    "CA": ("Canada", 170),
    "CL": ("Chile", 291),
    "CN": ("China", 582),
    "CO": ("Colombia", 260),
    "CR": ("Costa Rica", 53),
    "CZ": ("Czechia", 450),
    "DE": ("Germany", 381),
    "DK": ("Denmark", 152),
    "EG": ("Egypt", 570),
    "ES": ("Spain", 174),
    "FI": ("Finland", 79),
    "FR": ("France", 56),
    "GB": ("United Kingdom", 238),
    "GR": ("Greece", 337),
    "HU": ("Hungary", 204),
    "IE": ("Ireland", 291),
    "IN": ("India", 713),
    "IT": ("Italy", 331),
    "JP": ("Japan", 485),
    "KR": ("South Korea", 432),
    "NL": ("Netherlands", 268),
    "NO": ("Norway", 30),
    "PL": ("Poland", 662),
    "SE": ("Sweden", 41),
    "US": ("United States", 369),
    "ZA": ("South Africa", 709),
}
_ALIASES = {"UK": "GB", "USA": "US"}


def country_intensity(country: str) -> float | None:
    """gCO2e/kWh for a country code or English name (None when not in the table)."""
    key = country.strip().upper()
    key = _ALIASES.get(key, key)
    if key in COUNTRY_G_PER_KWH:
        return COUNTRY_G_PER_KWH[key][1]
    for name, value in COUNTRY_G_PER_KWH.values():
        if name.upper() == key:
            return value
    return None


def intensity_for(settings: Any) -> tuple[float, str]:
    """The grid intensity to use and where it came from.

    Args:
        settings: A ``Settings`` (``carbon_intensity_g_per_kwh``, ``country``).

    Returns:
        ``(g_per_kwh, source)``.
    """
    explicit = float(getattr(settings, "carbon_intensity_g_per_kwh", WORLD_G_PER_KWH))
    country = str(getattr(settings, "country", "") or "")
    if explicit > 0 and explicit != WORLD_G_PER_KWH:
        return explicit, "setting carbon_intensity_g_per_kwh"
    if country:
        value = country_intensity(country)
        if value is not None:
            return value, f"{country.upper()} 2023 average (Ember)"
    return WORLD_G_PER_KWH, "world average"


def grams_co2e(joules: float, g_per_kwh: float = WORLD_G_PER_KWH) -> float:
    """Grams of CO2-equivalent for ``joules`` of electricity at ``g_per_kwh``."""
    return joules / JOULES_PER_KWH * g_per_kwh

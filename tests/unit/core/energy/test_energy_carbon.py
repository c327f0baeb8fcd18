"""Grid intensity table and gCO2e."""

from __future__ import annotations

import pytest

from greenpair.core.config import Settings
from greenpair.core.energy.carbon import (
    COUNTRY_G_PER_KWH,
    WORLD_G_PER_KWH,
    country_intensity,
    grams_co2e,
    intensity_for,
)


def test_grams_of_one_kwh() -> None:
    assert grams_co2e(3.6e6) == pytest.approx(WORLD_G_PER_KWH)
    assert grams_co2e(3.6e6, 56) == pytest.approx(56)
    assert grams_co2e(0.0) == 0.0


def test_country_lookup_by_code_alias_and_name() -> None:
    assert country_intensity("fr") == 56
    assert country_intensity("UK") == country_intensity("GB")
    assert country_intensity("Germany") == 381
    assert country_intensity("Atlantis") is None
    assert len(COUNTRY_G_PER_KWH) >= 30
    assert all(10 < v < 1000 for _, v in COUNTRY_G_PER_KWH.values())


def test_precedence_explicit_then_country_then_world() -> None:
    assert intensity_for(Settings()) == (WORLD_G_PER_KWH, "world average")
    value, source = intensity_for(Settings(country="SE"))
    assert value == 41
    assert "Ember" in source
    assert intensity_for(Settings(country="SE", carbon_intensity_g_per_kwh=120.0))[0] == 120.0
    assert intensity_for(Settings(country="Atlantis"))[0] == WORLD_G_PER_KWH


def test_meter_uses_the_country_setting() -> None:
    from tests.unit.core.energy.test_energy_meter import FakeSensor, World, make_meter

    sensor, world = FakeSensor(), World()
    meter = make_meter(sensor, world, Settings(country="NO"))
    with meter.window("answer") as w:
        world.step(sensor, joules=3.6e6, proc=1, sys=1)
    assert w.report is not None
    assert w.report.g_per_kwh == 30
    assert w.report.gco2e == pytest.approx(30.0)

"""NVML reader with an injected stand-in for the pynvml module."""

from __future__ import annotations

import types

import pytest

from greenpair.core.energy.sensors import CompositeSensor, Probe, select_sensor
from greenpair.core.energy.sensors.base import EnergyCounter, SensorUnavailable
from greenpair.core.energy.sensors.nvml import NvmlSensor


class NVMLError(Exception):
    pass


def fake_nvml(
    *, gpus: int = 1, energy: bool = True, init_fails: bool = False
) -> types.SimpleNamespace:
    """A stand-in pynvml: per-GPU energy (mJ) and power (mW) that tests can move."""
    state = types.SimpleNamespace(energy_mj=[1_000_000] * gpus, power_mw=[75_000] * gpus,
                                  shutdown=0)

    def init() -> None:
        if init_fails:
            raise NVMLError("NVML Shared Library Not Found")

    def total_energy(handle: int) -> int:
        if not energy:
            raise NVMLError("Not Supported")
        return state.energy_mj[handle]

    def shutdown() -> None:
        state.shutdown += 1

    return types.SimpleNamespace(
        state=state,
        nvmlInit=init,
        nvmlShutdown=shutdown,
        nvmlDeviceGetCount=lambda: gpus,
        nvmlDeviceGetHandleByIndex=lambda i: i,
        nvmlDeviceGetName=lambda h: b"NVIDIA H100 80GB HBM3",
        nvmlDeviceGetTotalEnergyConsumption=total_energy,
        nvmlDeviceGetPowerUsage=lambda h: state.power_mw[h],
    )


def test_total_energy_counter_summed_over_gpus() -> None:
    nvml = fake_nvml(gpus=2)
    sensor = NvmlSensor(nvml)  # type: ignore[arg-type]
    assert sensor.kind == "energy"
    assert "total-energy counter" in sensor.description
    assert sensor.read() == 0.0
    nvml.state.energy_mj[0] += 1500
    nvml.state.energy_mj[1] += 500
    assert sensor.read() == pytest.approx(2.0)
    sensor.close()
    assert nvml.state.shutdown == 1


def test_power_samples_integrated_when_no_energy_counter() -> None:
    nvml = fake_nvml(energy=False)
    sensor = NvmlSensor(nvml)  # type: ignore[arg-type]
    assert sensor.kind == "power"
    now = [0.0]
    counter = EnergyCounter(sensor, clock=lambda: now[0])
    counter.joules()
    now[0] = 4.0
    nvml.state.power_mw[0] = 125_000
    assert counter.joules() == pytest.approx((75 + 125) / 2 * 4)


def test_no_driver() -> None:
    with pytest.raises(SensorUnavailable, match="no NVIDIA driver"):
        NvmlSensor(fake_nvml(init_fails=True))  # type: ignore[arg-type]


def test_no_gpu() -> None:
    nvml = fake_nvml(gpus=0)
    with pytest.raises(SensorUnavailable, match="no NVIDIA GPU"):
        NvmlSensor(nvml)  # type: ignore[arg-type]
    assert nvml.state.shutdown == 1


def test_read_failure_is_reported() -> None:
    nvml = fake_nvml()
    sensor = NvmlSensor(nvml)  # type: ignore[arg-type]

    def lost(handle: int) -> int:
        raise NVMLError("GPU is lost")

    nvml.nvmlDeviceGetTotalEnergyConsumption = lost
    with pytest.raises(SensorUnavailable, match="GPU is lost"):
        sensor.read()


def test_rapl_plus_nvml_composite(tmp_path) -> None:
    import shutil
    from pathlib import Path

    data = Path(__file__).parents[3] / "data" / "sysfs" / "powercap" / "amd_zen"
    root = tmp_path / "powercap"
    shutil.copytree(data, root)
    nvml = fake_nvml()
    sensor = select_sensor(Probe(powercap_root=root, nvml_module=nvml,  # type: ignore[arg-type]
                                 power_supply_root=tmp_path, platform="linux"))
    assert isinstance(sensor, CompositeSensor)
    assert sensor.name == "rapl+nvml"
    assert sensor.scope == "cpu+gpu"
    zone = root / "intel-rapl:0" / "energy_uj"
    zone.write_text(str(int(zone.read_text()) + 10_000_000))
    nvml.state.energy_mj[0] += 5000
    assert sensor.read() == pytest.approx(15.0)

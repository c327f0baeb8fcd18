"""NVIDIA GPUs through NVML (the ``nvidia-ml-py`` package, imported as ``pynvml``).

Volta and newer GPUs keep a total-energy counter (``nvmlDeviceGetTotalEnergyConsumption``,
millijoules since the driver loaded): the sensor then counts energy. Older GPUs only report
power (``nvmlDeviceGetPowerUsage``, milliwatts): the sensor then reports watts and the
meter's sampler integrates them. Tests inject a fake module with the same functions.
"""

from __future__ import annotations

import contextlib
import threading
from types import ModuleType
from typing import Any

from greenpair.core.energy.sensors.base import SensorKind, SensorUnavailable


def _load_nvml(module: ModuleType | None) -> Any:
    if module is not None:
        return module
    try:
        import pynvml
    except ImportError:
        raise SensorUnavailable("nvidia-ml-py is not installed") from None
    return pynvml


class NvmlSensor:
    """Energy (or power) of every NVIDIA GPU, summed.

    Args:
        nvml: The ``pynvml`` module, or a stand-in with the same functions (tests).

    Raises:
        SensorUnavailable: No driver, no GPU, or the GPUs report neither energy nor power.
    """

    name = "nvml"
    scope = "gpu"
    estimated = False

    def __init__(self, nvml: ModuleType | None = None) -> None:
        self._nvml = _load_nvml(nvml)
        self._lock = threading.Lock()
        self._base_mj: float | None = None
        try:
            self._nvml.nvmlInit()
        except Exception as exc:  # noqa: BLE001 - NVMLError subclasses vary by version
            raise SensorUnavailable(f"NVML did not start ({exc}): no NVIDIA driver") from None
        try:
            count = int(self._nvml.nvmlDeviceGetCount())
            self._handles = [self._nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            names = [self._device_name(h) for h in self._handles]
        except Exception as exc:  # noqa: BLE001
            self.close()
            raise SensorUnavailable(f"NVML cannot list GPUs ({exc})") from None
        if not self._handles:
            self.close()
            raise SensorUnavailable("NVML found no NVIDIA GPU")
        self.kind: SensorKind = "energy" if self._energy_supported() else "power"
        if self.kind == "power":
            try:
                self.read()
            except SensorUnavailable:
                self.close()
                raise
        how = "total-energy counter" if self.kind == "energy" else "power samples (integrated)"
        self.description = f"{', '.join(names)}: {how}"

    def _device_name(self, handle: Any) -> str:
        name = self._nvml.nvmlDeviceGetName(handle)
        return name.decode() if isinstance(name, bytes) else str(name)

    def _energy_supported(self) -> bool:
        try:
            for handle in self._handles:
                self._nvml.nvmlDeviceGetTotalEnergyConsumption(handle)
        except Exception:  # noqa: BLE001 - NVMLError_NotSupported on pre-Volta GPUs
            return False
        return True

    def read(self) -> float:
        """Joules since the sensor started (energy kind) or watts now (power kind).

        Raises:
            SensorUnavailable: NVML failed (driver unloaded, GPU lost).
        """
        with self._lock:
            try:
                if self.kind == "energy":
                    total_mj = float(
                        sum(
                            self._nvml.nvmlDeviceGetTotalEnergyConsumption(h)
                            for h in self._handles
                        )
                    )
                    if self._base_mj is None:
                        self._base_mj = total_mj
                    return (total_mj - self._base_mj) / 1000.0
                return sum(self._nvml.nvmlDeviceGetPowerUsage(h) for h in self._handles) / 1000.0
            except Exception as exc:  # noqa: BLE001
                raise SensorUnavailable(f"NVML read failed ({exc})") from None

    def close(self) -> None:
        """Shut NVML down."""
        with contextlib.suppress(Exception):  # best effort at shutdown
            self._nvml.nvmlShutdown()

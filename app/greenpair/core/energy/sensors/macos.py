"""macOS readers: the smart battery (``ioreg``), IOReport (``zeus-apple-silicon``) and
``powermetrics``.

* ``ioreg -rw0 -c AppleSmartBattery`` prints the battery's registry entry. Recent Macs add
  ``PowerTelemetryData`` whose ``SystemLoad`` (mW) is the whole system's draw, plugged in
  or not; otherwise, while discharging, ``InstantAmperage`` (or ``Amperage``, mA, printed as
  an unsigned 64-bit number when negative) × ``Voltage`` (mV) gives the battery's output.
* Apple Silicon's IOReport energy counters are read without sudo by the optional
  ``zeus-apple-silicon`` package (CPU, GPU, ANE, DRAM), used when installed.
* ``powermetrics`` needs root; it is used only when the user allows it
  (``allow_powermetrics``) and ``sudo -n`` succeeds (a sudoers rule, no password prompt).

The commands run through an injectable ``run`` callable, so tests feed recorded output.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

from greenpair.core.energy.sensors.base import SensorKind, SensorUnavailable

IOREG_CMD = ["ioreg", "-rw0", "-c", "AppleSmartBattery"]
POWERMETRICS_CMD = [
    "sudo", "-n", "powermetrics", "--samplers", "cpu_power,gpu_power", "-i", "200", "-n", "1",
]
_KEY = re.compile(r'^\s*"(\w+)" = (.*?)\s*$', re.MULTILINE)


def _run(cmd: list[str], timeout: float = 5.0) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SensorUnavailable(f"{cmd[0]} failed: {exc}") from None
    if done.returncode != 0:
        raise SensorUnavailable(f"{' '.join(cmd[:3])} exited {done.returncode}: "
                                f"{done.stderr.strip()[:200]}")
    return done.stdout


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def parse_ioreg(text: str) -> dict[str, str]:
    """Top-level ``"Key" = value`` pairs of an ``ioreg -r`` entry."""
    return {m.group(1): m.group(2) for m in _KEY.finditer(text)}


def ioreg_watts(text: str) -> float:
    """Whole-system watts from ``ioreg -rw0 -c AppleSmartBattery`` output.

    Raises:
        SensorUnavailable: No battery entry, or plugged in without power telemetry.
    """
    keys = parse_ioreg(text)
    if not keys:
        raise SensorUnavailable("ioreg shows no AppleSmartBattery (a desktop Mac?)")
    telemetry = keys.get("PowerTelemetryData", "")
    load = re.search(r'"SystemLoad"=(\d+)', telemetry)
    if load and int(load.group(1)) > 0:
        return int(load.group(1)) / 1000.0
    if keys.get("ExternalConnected") == "Yes" or keys.get("IsCharging") == "Yes":
        raise SensorUnavailable(
            "the Mac is plugged in and its battery has no power telemetry; the battery "
            "measures the system only while discharging"
        )
    raw_amps = keys.get("InstantAmperage") or keys.get("Amperage")
    raw_volts = keys.get("Voltage")
    if raw_amps is None or raw_volts is None:
        raise SensorUnavailable("AppleSmartBattery reports no Amperage/Voltage")
    milliamps = _signed(int(raw_amps))
    if milliamps >= 0:
        raise SensorUnavailable("the battery is not discharging")
    return -milliamps * int(raw_volts) / 1e6


def powermetrics_watts(text: str) -> float:
    """Watts from one ``powermetrics --samplers cpu_power,gpu_power`` sample.

    Raises:
        SensorUnavailable: No power line found.
    """
    combined = re.search(r"Combined Power \(CPU \+ GPU \+ ANE\):\s*([\d.]+)\s*mW", text)
    if combined:
        return float(combined.group(1)) / 1000.0
    intel = re.search(r"package power \(CPUs\+GT\+SA\):\s*([\d.]+)\s*W", text)
    if intel:
        return float(intel.group(1))
    parts = re.findall(r"^(?:CPU|GPU|ANE) Power:\s*([\d.]+)\s*mW", text, re.MULTILINE)
    if parts:
        return sum(float(p) for p in parts) / 1000.0
    raise SensorUnavailable("powermetrics printed no power figure")


def _require_macos(platform: str) -> None:
    if platform != "darwin":
        raise SensorUnavailable("not macOS")


class IoregBatterySensor:
    """Whole-system power from the Mac's smart battery (telemetry or discharge)."""

    name = "ioreg"
    kind: SensorKind = "power"
    scope = "system"
    estimated = False
    min_interval_s = 5.0  # one subprocess per read: keep the sampler cheap

    def __init__(
        self, run: Callable[[], str] | None = None, platform: str = sys.platform
    ) -> None:
        if run is None:
            _require_macos(platform)
            run = lambda: _run(IOREG_CMD)  # noqa: E731
        self._run = run
        self.description = "AppleSmartBattery via ioreg"
        self.read()

    def read(self) -> float:
        """Watts now."""
        return ioreg_watts(self._run())

    def close(self) -> None:
        """Nothing to release."""


class PowermetricsSensor:
    """CPU + GPU + ANE power from ``powermetrics`` (root; only when the user allows it)."""

    name = "powermetrics"
    kind: SensorKind = "power"
    scope = "cpu"
    estimated = False
    min_interval_s = 5.0

    def __init__(
        self,
        *,
        allowed: bool,
        run: Callable[[], str] | None = None,
        platform: str = sys.platform,
    ) -> None:
        if run is None:
            _require_macos(platform)
            run = lambda: _run(POWERMETRICS_CMD)  # noqa: E731
        if not allowed:
            raise SensorUnavailable(
                "not allowed: it needs root; enable with `greenpair config set "
                "allow_powermetrics true` and a sudoers rule for powermetrics"
            )
        self._run = run
        self.description = "sudo -n powermetrics"
        self.read()

    def read(self) -> float:
        """Watts now."""
        return powermetrics_watts(self._run())

    def close(self) -> None:
        """Nothing to release."""


class IOReportSensor:
    """Apple Silicon CPU/GPU/ANE/DRAM energy from IOReport, without sudo.

    Uses ``zeus_apple_silicon.AppleEnergyMonitor`` (optional dependency): measurement
    windows are rolled over at every read and their millijoules added up.

    Args:
        module: The ``zeus_apple_silicon`` module or a stand-in (tests).
    """

    name = "ioreport"
    kind: SensorKind = "energy"
    scope = "cpu"
    estimated = False
    _FIELDS = ("cpu_total_mj", "gpu_mj", "ane_mj", "dram_mj")

    def __init__(self, module: Any = None, platform: str = sys.platform) -> None:
        if module is None:
            _require_macos(platform)
            try:
                import zeus_apple_silicon as module  # type: ignore[no-redef]
            except ImportError:
                raise SensorUnavailable(
                    "install the optional package zeus-apple-silicon for sudoless "
                    "Apple Silicon energy counters"
                ) from None
        try:
            self._monitor = module.AppleEnergyMonitor()
        except Exception as exc:  # noqa: BLE001 - raised by the native extension
            raise SensorUnavailable(f"IOReport unavailable ({exc})") from None
        self._lock = threading.Lock()
        self._seq = 0
        self._total_mj = 0.0
        self._label = self._begin()
        self.description = "IOReport via zeus-apple-silicon (CPU, GPU, ANE, DRAM)"

    def _begin(self) -> str:
        self._seq += 1
        label = f"greenpair-{self._seq}"
        self._monitor.begin_window(label)
        return label

    def read(self) -> float:
        """Joules since the sensor started."""
        with self._lock:
            try:
                metrics = self._monitor.end_window(self._label)
                self._label = self._begin()
            except Exception as exc:  # noqa: BLE001
                raise SensorUnavailable(f"IOReport read failed ({exc})") from None
            for field in self._FIELDS:
                self._total_mj += float(getattr(metrics, field, None) or 0.0)
            return self._total_mj / 1000.0

    def close(self) -> None:
        """Nothing to release (the last window is simply dropped)."""

"""Laptop battery discharge on Linux (``/sys/class/power_supply/BAT*``).

While the battery discharges, the power it delivers *is* the whole system's draw:
``power_now`` (µW) or, when the driver reports current instead, ``current_now`` (µA) ×
``voltage_now`` (µV). While charging or full, the battery says nothing about the system's
draw (the charger feeds both), so the sensor reports itself unavailable.
"""

from __future__ import annotations

from pathlib import Path

from greenpair.core.energy.sensors.base import SensorKind, SensorUnavailable, read_int, read_text

DEFAULT_ROOT = Path("/sys/class/power_supply")


def _batteries(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    found = []
    for entry in sorted(root.iterdir()):
        try:
            kind = read_text(entry / "type")
        except OSError:
            kind = "Battery" if entry.name.startswith("BAT") else ""
        try:
            scope = read_text(entry / "scope")
        except OSError:
            scope = ""
        # scope "Device": a mouse or keyboard battery, not the one powering the system
        if kind == "Battery" and scope != "Device" and (entry / "status").exists():
            found.append(entry)
    return found


def _mains_online(root: Path) -> bool:
    if not root.is_dir():
        return False
    for entry in root.iterdir():
        try:
            if read_text(entry / "type") in {"Mains", "USB", "USB_C", "USB_PD"} and read_text(
                entry / "online"
            ) == "1":
                return True
        except OSError:
            continue
    return False


def on_battery(root: Path = DEFAULT_ROOT) -> bool:
    """Whether the machine runs on battery now (a battery discharges, no charger online).

    Args:
        root: The power_supply class directory (tests pass a recorded tree).
    """
    if _mains_online(root):
        return False
    for bat in _batteries(root):
        try:
            if read_text(bat / "status") == "Discharging":
                return True
        except OSError:
            continue
    return False


def battery_watts(bat: Path) -> float:
    """Watts delivered by one discharging battery.

    Raises:
        SensorUnavailable: Not discharging, or no usable power/current attributes.
    """
    try:
        status = read_text(bat / "status")
    except OSError as exc:
        raise SensorUnavailable(f"cannot read {bat / 'status'}: {exc}") from None
    if status != "Discharging":
        raise SensorUnavailable(
            f"{bat.name} is {status.lower() or 'in an unknown state'}; the battery measures "
            "the system only while discharging (unplug the charger to use it)"
        )
    try:
        return abs(read_int(bat / "power_now")) / 1e6
    except (OSError, ValueError):
        pass
    try:
        current = abs(read_int(bat / "current_now"))
        voltage = abs(read_int(bat / "voltage_now"))
    except (OSError, ValueError) as exc:
        raise SensorUnavailable(
            f"{bat.name} reports neither power_now nor current_now × voltage_now ({exc})"
        ) from None
    return current * voltage / 1e12


class BatterySensor:
    """Whole-system power from discharging batteries (summed when there are several).

    Args:
        root: The power_supply class directory.

    Raises:
        SensorUnavailable: No battery, or none is discharging.
    """

    name = "battery"
    kind: SensorKind = "power"
    scope = "system"
    estimated = False

    def __init__(self, root: Path = DEFAULT_ROOT) -> None:
        self.root = Path(root)
        self._batteries = _batteries(self.root)
        if not self._batteries:
            raise SensorUnavailable(f"no battery under {self.root}")
        self.description = "batteries: " + ", ".join(b.name for b in self._batteries)
        self.read()

    def read(self) -> float:
        """Watts drawn from the batteries now.

        Raises:
            SensorUnavailable: No battery is discharging.
        """
        watts, reasons = 0.0, []
        for bat in self._batteries:
            try:
                watts += battery_watts(bat)
            except SensorUnavailable as exc:
                reasons.append(str(exc))
        if len(reasons) == len(self._batteries):
            raise SensorUnavailable("; ".join(reasons))
        return watts

    def close(self) -> None:
        """Nothing to release."""

"""Linux powercap RAPL (Intel, and AMD Zen through the same ``intel-rapl`` tree).

Layout under ``/sys/class/powercap``: top-level zones ``intel-rapl:N`` (``name`` is
``package-N``, ``psys`` or, on some servers, ``dram``) and their children
``intel-rapl:N:M`` (``core``, ``uncore``, ``dram``). Children are *inside* their parent's
figure, so they are never added to it. ``intel-rapl-mmio:*`` duplicates the package over
MMIO and is ignored. The domains summed are:

* ``psys`` alone when present (the whole SoC/platform, package included);
* otherwise every top-level ``package-*`` plus top-level ``dram`` zones (which are separate
  from the package in the layouts that expose them at the top level).

Each ``energy_uj`` counter wraps at ``max_energy_range_uj``; wrap-around is detected per
domain (one wrap between reads: about 40 minutes at 100 W for a 262 kJ range, and the
sampler reads far more often than that while anyone listens).

Since CVE-2020-8694 (the PLATYPUS side channel) ``energy_uj`` is readable by root only;
``packaging/linux/README-rapl.md`` ships a udev rule that opens it to one group.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

from greenpair.core.energy.sensors.base import SensorKind, SensorUnavailable, read_int, read_text

DEFAULT_ROOT = Path("/sys/class/powercap")
RULE_HINT = "see packaging/linux/README-rapl.md (udev rule 60-greenpair-rapl.rules)"
_TOP_LEVEL = re.compile(r"^intel-rapl:(\d+)$")


@dataclass
class _Domain:
    path: Path
    name: str
    max_range_uj: int
    last_uj: int | None = None
    total_uj: int = 0


def _top_level_zones(root: Path) -> list[tuple[Path, str]]:
    zones = []
    for entry in sorted(root.iterdir()):
        if not _TOP_LEVEL.match(entry.name):
            continue
        try:
            name = read_text(entry / "name")
        except OSError:
            continue
        zones.append((entry, name))
    return zones


def choose_domains(zones: list[tuple[Path, str]]) -> list[tuple[Path, str]]:
    """Pick the non-overlapping domains to sum (see the module docstring).

    Args:
        zones: ``(path, name)`` of the top-level zones.

    Returns:
        The zones whose counters are summed.
    """
    psys = [z for z in zones if z[1] == "psys"]
    if psys:
        return psys
    return [z for z in zones if z[1].startswith("package") or z[1] == "dram"]


class RaplSensor:
    """Whole-CPU energy (packages + DRAM, or psys) from powercap counters.

    Args:
        root: The powercap class directory (tests pass a recorded tree).

    Raises:
        SensorUnavailable: No RAPL zones, or ``energy_uj`` is not readable.
    """

    name = "rapl"
    kind: SensorKind = "energy"
    estimated = False

    def __init__(self, root: Path = DEFAULT_ROOT) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise SensorUnavailable(
                f"no {self.root} (not Linux, or the powercap driver is not loaded)"
            )
        chosen = choose_domains(_top_level_zones(self.root))
        if not chosen:
            raise SensorUnavailable(
                f"no intel-rapl zones under {self.root} (CPU without RAPL, a virtual "
                "machine, or the intel_rapl_common module is not loaded)"
            )
        self._lock = threading.Lock()
        self._domains: list[_Domain] = []
        for path, name in chosen:
            try:
                max_range = read_int(path / "max_energy_range_uj")
            except (OSError, ValueError):
                max_range = 0
            self._domains.append(_Domain(path=path, name=name, max_range_uj=max_range))
        self.scope = "system" if chosen[0][1] == "psys" else "cpu"
        self.description = "domains: " + ", ".join(
            f"{d.path.name} ({d.name})" for d in self._domains
        )
        self.read()  # fail now (permission denied) rather than in the middle of a window

    def _read_uj(self, domain: _Domain) -> int:
        path = domain.path / "energy_uj"
        try:
            return read_int(path)
        except PermissionError:
            raise SensorUnavailable(
                f"permission denied reading {path} (root-only since CVE-2020-8694); "
                + RULE_HINT
            ) from None
        except (OSError, ValueError) as exc:
            raise SensorUnavailable(f"cannot read {path}: {exc}") from None

    def read(self) -> float:
        """Joules counted since this reader was created (wrap-around handled).

        Raises:
            SensorUnavailable: A counter became unreadable.
        """
        with self._lock:
            for domain in self._domains:
                raw = self._read_uj(domain)
                if domain.last_uj is not None:
                    delta = raw - domain.last_uj
                    if delta < 0:  # the counter wrapped at max_energy_range_uj
                        delta += domain.max_range_uj
                    domain.total_uj += max(0, delta)
                domain.last_uj = raw
            return sum(d.total_uj for d in self._domains) / 1e6

    def close(self) -> None:
        """Nothing to release."""

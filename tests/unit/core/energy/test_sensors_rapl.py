"""RAPL reader on recorded powercap trees."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from greenpair.core.energy.sensors import base
from greenpair.core.energy.sensors.base import SensorUnavailable
from greenpair.core.energy.sensors.rapl import RaplSensor

DATA = Path(__file__).parents[3] / "data" / "sysfs" / "powercap"


@pytest.fixture
def tree(tmp_path: Path):
    def copy(name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(DATA / name, dest)
        return dest

    return copy


def bump(root: Path, zone: str, delta_uj: int) -> None:
    path = root / zone / "energy_uj"
    path.write_text(str(int(path.read_text()) + delta_uj))


def test_psys_alone_when_present(tree) -> None:
    root = tree("laptop_psys")
    sensor = RaplSensor(root)
    assert sensor.scope == "system"
    assert "psys" in sensor.description
    assert "package" not in sensor.description
    bump(root, "intel-rapl:0", 5_000_000)  # package moves too, but psys already covers it
    bump(root, "intel-rapl:0:0", 3_000_000)
    bump(root, "intel-rapl:1", 7_000_000)
    assert sensor.read() == pytest.approx(7.0)


def test_packages_summed_children_never(tree) -> None:
    root = tree("server_2socket")
    sensor = RaplSensor(root)
    assert sensor.scope == "cpu"
    bump(root, "intel-rapl:0", 2_000_000)
    bump(root, "intel-rapl:1", 3_000_000)
    bump(root, "intel-rapl:0:0", 9_000_000)  # dram child: inside package-0's figure
    assert sensor.read() == pytest.approx(5.0)


def test_top_level_dram_is_added(tree) -> None:
    root = tree("dram_toplevel")
    sensor = RaplSensor(root)
    bump(root, "intel-rapl:0", 1_000_000)
    bump(root, "intel-rapl:0:0", 600_000)
    bump(root, "intel-rapl:1", 250_000)
    assert sensor.read() == pytest.approx(1.25)


def test_mmio_duplicate_ignored_amd_layout(tree) -> None:
    root = tree("amd_zen")
    sensor = RaplSensor(root)
    assert "intel-rapl:0 (package-0)" in sensor.description
    bump(root, "intel-rapl:0", 42_000_000)
    assert sensor.read() == pytest.approx(42.0)


def test_counter_wrap_around(tree) -> None:
    root = tree("amd_zen")
    max_uj = int((root / "intel-rapl:0" / "max_energy_range_uj").read_text())
    (root / "intel-rapl:0" / "energy_uj").write_text(str(max_uj - 1_000_000))
    sensor = RaplSensor(root)
    (root / "intel-rapl:0" / "energy_uj").write_text("2000000")  # wrapped past the max
    assert sensor.read() == pytest.approx(3.0)
    bump(root, "intel-rapl:0", 500_000)
    assert sensor.read() == pytest.approx(3.5)


def test_permission_denied_explains_the_rule(tree, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tree("laptop_psys")
    real = base.read_text

    def denied(path: Path) -> str:
        if path.name == "energy_uj":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(base, "read_text", denied)
    with pytest.raises(SensorUnavailable) as exc:
        RaplSensor(root)
    text = str(exc.value)
    assert "permission denied" in text
    assert "CVE-2020-8694" in text
    assert "packaging/linux/README-rapl.md" in text


def test_missing_tree_and_no_zones(tmp_path: Path) -> None:
    with pytest.raises(SensorUnavailable, match="not Linux"):
        RaplSensor(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SensorUnavailable, match="no intel-rapl zones"):
        RaplSensor(tmp_path / "empty")


def test_counter_file_vanishes(tree) -> None:
    root = tree("amd_zen")
    sensor = RaplSensor(root)
    (root / "intel-rapl:0" / "energy_uj").unlink()
    with pytest.raises(SensorUnavailable, match="cannot read"):
        sensor.read()

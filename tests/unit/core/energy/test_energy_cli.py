"""``greenpair energy`` and ``greenpair doctor``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from greenpair.cli import cli
from greenpair.core.config import Settings
from greenpair.core.doctor import run_checks
from greenpair.core.energy.ledger import since_timestamp
from greenpair.core.energy.meter import Meter
from greenpair.core.energy.sensors import Probe, base
from greenpair.core.errors import EnergyError

DATA = Path(__file__).parents[3] / "data" / "sysfs"


def busy(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_energy_json_reports_recorded_windows(meter: Meter) -> None:
    with meter.window("answer") as w:
        busy(0.05)
        w.tokens = 5
    meter.count("suggestions_avoided", 2)
    result = CliRunner().invoke(cli, ["energy", "--json", "--since", "today", "--seconds", "0.2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["sensor"]["name"] == meter.sensor_name
    assert data["power"]["watts"] >= 0
    assert data["power"]["estimated"] == meter.estimated
    answer = data["totals"]["by_kind"]["answer"]
    assert answer["count"] == 1
    assert answer["joules"] > 0
    assert answer["tokens"] == 5
    assert data["last_answer"]["joules"] == pytest.approx(w.report.joules)
    assert data["totals"]["savings"]["suggestions_avoided"]["count"] == 2
    assert data["grid"]["g_per_kwh"] == 475.0


def test_energy_text_labels_estimates(meter: Meter) -> None:
    with meter.window("patch") as w:
        busy(0.02)
    result = CliRunner().invoke(cli, ["energy", "--no-live", "--since", "all"])
    assert result.exit_code == 0, result.output
    assert "patch" in result.output
    assert "gCO2e" in result.output
    if w.report is not None and w.report.estimated:
        assert "estimated" in result.output


def test_bad_since_is_a_clear_error() -> None:
    with pytest.raises(EnergyError, match="Cannot read the period"):
        since_timestamp("yesterday-ish")
    now = 1_800_000_000.0
    assert since_timestamp("24h", now=now) == now - 86400
    assert since_timestamp("all") == 0.0


def test_doctor_lists_sensors_and_why() -> None:
    result = CliRunner().invoke(cli, ["doctor", "--json"])
    checks = json.loads(result.output)
    names = {c["name"] for c in checks if c["group"] == "sensors"}
    assert {"rapl", "nvml", "battery", "estimate", "in use"} <= names
    assert all(c["detail"] for c in checks)
    groups = {c["group"] for c in checks}
    assert {"sensors", "models", "storage", "runtime"} <= groups
    ledger = next(c for c in checks if c["name"] == "energy ledger")
    assert ledger["status"] == "ok"
    assert result.exit_code == (1 if any(c["status"] == "fail" for c in checks) else 0)


def test_doctor_explains_rapl_permission(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "powercap"
    shutil.copytree(DATA / "powercap" / "laptop_psys", root)
    real = base.read_text

    def denied(path: Path) -> str:
        if path.name == "energy_uj":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(base, "read_text", denied)
    probe = Probe(powercap_root=root, power_supply_root=tmp_path, platform="linux",
                  skip=frozenset({"nvml"}))
    rapl = next(c for c in run_checks(Settings(), probe=probe) if c.name == "rapl")
    assert "permission denied" in rapl.detail
    assert rapl.hint is not None
    assert "packaging/linux/60-greenpair-rapl.rules" in rapl.hint
    assert (Path(__file__).parents[4] / "packaging/linux/60-greenpair-rapl.rules").is_file()


def test_energy_command_in_a_real_process(greenpair_home: Path) -> None:
    env = {**os.environ, "GREENPAIR_HOME": str(greenpair_home)}
    done = subprocess.run(
        [sys.executable, "-m", "greenpair", "energy", "--json", "--seconds", "0.3"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["power"]["sensor"] == data["sensor"]["name"] or data["power"]["estimated"]
    assert Path(data["ledger"]).parent == greenpair_home


def test_doctor_says_how_the_thread_policy_chooses(monkeypatch: pytest.MonkeyPatch) -> None:
    from greenpair.core.config import Settings
    from greenpair.core.doctor import checks as doctor

    monkeypatch.setattr("greenpair.core.config.physical_cores", lambda: 4)
    assert doctor._threads_text(Settings()) == (
        "4 threads while you wait and the machine is otherwise idle, 3 when it is busy or "
        "on battery")
    assert doctor._threads_text(Settings(threads=1)) == "1 thread"
    assert doctor._threads_text(Settings(eco_mode=True)) == "1 thread"

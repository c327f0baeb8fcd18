"""Health checks of sensors, RAPL permission, models, storage and settings.

Each check yields :class:`~greenpair.core.doctor.check.Check` records (``ok``, ``warn``,
``fail`` or ``info``) with a detail line and, when something is wrong, the fix. Nothing
here prints; the CLI does.
"""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from greenpair.core.config import Settings
from greenpair.core.doctor.check import Check
from greenpair.core.energy.sensors import SensorStatus
from greenpair.core.energy.sensors.battery import on_battery

RULE_FILE = "packaging/linux/60-greenpair-rapl.rules"
RAPL_DOC = "packaging/linux/README-rapl.md"


def sensor_checks(statuses: list[SensorStatus]) -> Iterator[Check]:
    """One check per reader, plus the one the meter uses and the RAPL explanation."""
    for s in statuses:
        if s.available:
            yield Check("sensors", s.name, "warn" if s.estimated else "ok",
                        ("estimated: " if s.estimated else "works: ") + s.detail)
        else:
            hint = None
            if s.name == "rapl" and "permission denied" in s.detail:
                hint = (
                    f"Install the udev rule {RULE_FILE} (see {RAPL_DOC}): "
                    "sudo groupadd --system greenpair-energy; "
                    "sudo usermod -aG greenpair-energy $USER; "
                    f"sudo cp {RULE_FILE} /etc/udev/rules.d/; "
                    "sudo udevadm control --reload; sudo udevadm trigger "
                    "--subsystem-match=powercap; then log in again."
                )
            yield Check("sensors", s.name, "info", "unavailable: " + s.detail, hint)
    measured = [s for s in statuses if s.available and not s.estimated and s.name != "nvml"]
    if measured:
        yield Check("sensors", "in use", "ok", f"{measured[0].name} (measured)")
    else:
        yield Check(
            "sensors", "in use", "warn",
            "estimate: no power sensor works here; every figure is labelled estimated",
            "On Linux, RAPL counters need the udev rule; on laptops, unplug the charger "
            "for battery readings.",
        )


def model_checks(settings: Settings, verify: bool = False) -> Iterator[Check]:
    """Catalog models: present, verified (``verify`` hashes unverified files)."""
    from greenpair.core.config import DEFAULT_MODEL
    from greenpair.core.errors import GreenpairError

    try:
        from greenpair.core.llm import catalog
        from greenpair.core.llm import model_store as store
    except ImportError as exc:  # the model layer is not installed in this build
        yield Check("models", "catalog", "warn", f"model store unavailable: {exc}")
        return
    try:
        wanted = settings.effective_model()
        models = catalog.load_catalog()
    except GreenpairError as exc:
        yield Check("models", "catalog", "fail", exc.message, exc.hint)
        return
    for info in models:
        try:
            result = store.verify(info.id, hash_now=verify)
        except GreenpairError as exc:
            yield Check("models", info.id, "fail", exc.message, exc.hint)
            continue
        needed = info.id in {wanted, DEFAULT_MODEL}
        if result.ok:
            status = "ok"
        elif result.status == "unverified":
            status = "info"
        elif result.status == "missing":
            status = "fail" if needed else "info"
        else:
            status = "fail"
        hint = None
        if result.status == "unverified":
            hint = "Run `greenpair doctor --verify` to hash it once."
        elif not result.ok:
            hint = f"Run `greenpair models pull {info.id}`."
        yield Check("models", info.id, status, result.message, hint)


def _writable(path: Path) -> str | None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".doctor-"):
            pass
    except OSError as exc:
        return str(exc)
    return None


def storage_checks() -> Iterator[Check]:
    """Data, index and model directories writable; the ledger sound."""
    from greenpair.core.config import data_dir, ledger_path
    from greenpair.core.energy.ledger import Ledger
    from greenpair.core.errors import GreenpairError

    base = data_dir()
    for name, path in (("data dir", base), ("index dir", base / "indexes")):
        error = _writable(path)
        if error:
            yield Check("storage", name, "fail", f"{path} is not writable: {error}",
                        "Fix its permissions or set GREENPAIR_HOME to a writable place.")
        else:
            yield Check("storage", name, "ok", f"{path} is writable")
    try:
        ledger = Ledger(ledger_path())
        state = ledger.integrity()
        rows = ledger.row_count()
        ledger.close()
    except GreenpairError as exc:
        yield Check("storage", "energy ledger", "fail", exc.message, exc.hint)
    else:
        status = "ok" if state == "ok" else "fail"
        yield Check("storage", "energy ledger", status,
                    f"{ledger_path()}: integrity {state}, {rows} detailed rows")


def runtime_checks(settings: Settings) -> Iterator[Check]:
    """Libraries, privacy policy and eco settings."""
    from greenpair.core.errors import GreenpairError
    from greenpair.core.privacy import check_host

    for module, what in (
        ("llama_cpp", "local LLM runtime (llama-cpp-python)"),
        ("onnxruntime", "embedding runtime"),
        ("tree_sitter", "code parser"),
        ("chromadb", "vector store"),
    ):
        found = importlib.util.find_spec(module) is not None
        yield Check("runtime", module, "ok" if found else "fail",
                    what + (" installed" if found else " missing"),
                    None if found else "Run `make setup` (or pip install the project).")
    yield Check("runtime", "settings", "ok", "settings load")
    if settings.remote_url:
        try:
            host = check_host(settings.remote_url, settings.allowed_hosts)
        except GreenpairError as exc:
            yield Check("privacy", "remote backend", "fail", exc.message, exc.hint)
        else:
            yield Check("privacy", "remote backend", "warn",
                        f"answers are generated by {host} (allow-listed)")
    else:
        yield Check("privacy", "remote backend", "ok", "off: everything runs on this machine")
    battery = on_battery()
    pause = settings.pause_indexing_on_battery
    yield Check("eco", "power source", "info",
                ("on battery" if battery else "on mains or no battery")
                + (f"; indexing {'paused' if battery and pause else 'runs'}"),
                None)
    yield Check("eco", "eco mode", "info",
                f"{'on' if settings.eco_mode else 'off'}: model {settings.effective_model()}, "
                f"{_threads_text(settings)}")


def _threads_text(settings: Any) -> str:
    """How many threads a generation gets, as the thread policy decides it."""
    from greenpair.core.llm.threads import default_policy

    policy = default_policy(settings.threads, settings.eco_mode)
    if not policy.adaptive:
        n = settings.effective_threads()
        return f"{n} thread{'' if n == 1 else 's'}"
    return (f"{policy.physical} threads while you wait and the machine is otherwise idle, "
            f"{policy.background} when it is busy or on battery")

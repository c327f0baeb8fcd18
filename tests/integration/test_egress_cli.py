"""Every CLI entry point, run for real under strace in a fresh network namespace: not one
connect or send beyond the machine, DNS included (real index, embedder and tiny GGUF).

In CI these run with ONNX Runtime's telemetry OFF, as the app ships. That the same check
fails when a traced Greenpair process tries to leave is proven in CI by
``test_egress_leaks.py`` (a planted connect, resolver send and Unix-socket lookup). The ONNX
Runtime negative control, ``watch`` with its telemetry left on, runs only by hand:
``GREENPAIR_EGRESS_NEGATIVE=1 pytest tests/integration/test_egress_cli.py -k watch``.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from greenpair.core.egress import DNS_PORT, run_traced
from tests.helpers.egress import (
    IDLE_S,
    NEGATIVE,
    STEP_TIMEOUT_S,
    greenpair,
    idle,
    record,
    traced_env,
    traced_process,
)
from tests.helpers.x11 import wait_for

__all__ = ["traced_env"]  # a fixture
pytestmark = [pytest.mark.model, pytest.mark.slow]
HALF_TO_60 = """src/shop/discounts.py
<<<<<<< SEARCH
    if code == "HALF":
        return total / 2
=======
    if code == "HALF":
        return total * 0.4
>>>>>>> REPLACE"""

def test_cli_entry_points_make_no_egress_attempt(
    tmp_repo: Path, tiny_model_path: Path, traced_env: dict[str, str], tmp_path: Path
) -> None:
    repo, model = str(tmp_repo), str(tiny_model_path)
    (tmp_repo / ".env").write_text("SECRET_TOKEN=do-not-send\n")
    original = (tmp_repo / "src/shop/discounts.py").read_bytes()
    steps: list[tuple[str, list[str], str | None]] = [
        ("index", ["index", "--repo", repo, "--json"], None),
        ("search", ["search", "--repo", repo, "cart total price"], None),
        ("ask", ["ask", "--repo", repo, "--model", model, "--json",
                 "How is the total price of the cart computed?"], None),
        ("chat", ["chat", "--repo", repo, "--model", model],
         "What does apply_discount do?\n/reset\nWhere are items added?\n"),
        ("patch --apply", ["patch", "--repo", repo, "--model", model, "--apply", "--json",
                           "--format", "search_replace",
                           "In apply_discount, make the HALF code give 60% off."], None),
        ("patch --undo", ["patch", "--repo", repo, "--undo"], None),
        ("suggest", ["suggest", "--stdin", "--repo", repo, "--mode", "complete"],
         "def area(r):\n    return 3.14 * r"),
    ]
    table: dict[str, int] = {}
    failures = []
    applied = False
    for number, (name, args, stdin) in enumerate(steps):
        argv = greenpair(*args)
        done = run_traced(argv, tmp_path / f"{number}.trace", traced_env, stdin=stdin,
                          timeout=STEP_TIMEOUT_S)
        record(name, argv, done.exit_code, done.attempts)
        table[name] = len(done.attempts)
        if name == "patch --apply":
            applied = done.exit_code == 0 and json.loads(done.stdout)["applied"]
            assert applied or "No valid patch" in done.stderr, done.stderr
            if not applied:  # the tiny model's reply did not validate: apply one here, so
                _apply_known_patch(tmp_repo)  # the traced --undo has real work to do
        elif done.exit_code != 0:
            failures.append(f"{name}: exit {done.exit_code}: {done.stderr[-500:]}")
        if name == "index":
            assert json.loads(done.stdout)["embedded_chunks"] > 0  # the embedder really ran
    assert not failures, failures
    assert (tmp_repo / "src/shop/discounts.py").read_bytes() == original  # undone
    assert table == {name: 0 for name, _, _ in steps}, table


def _apply_known_patch(repo: Path) -> None:
    """Apply a valid patch through core (a scripted reply stands in for the model)."""
    from greenpair.core.assistant.patch.drafting import PatchOptions, apply_patch, draft_patch
    from greenpair.core.index import open_index
    from tests.helpers.fake_runtime import FakeRuntime

    runtime = FakeRuntime()
    runtime.queue(HALF_TO_60)
    index = open_index(repo)
    try:
        *_, draft = draft_patch(repo, "make HALF give 60% off", runtime=runtime, index=index,
                                options=PatchOptions(format="search_replace"))
        apply_patch(repo, draft)
    finally:
        index.close()
    assert b"0.4" in (repo / "src/shop/discounts.py").read_bytes()


def test_watch_idles_without_egress(
    tmp_repo: Path, traced_env: dict[str, str], tmp_path: Path
) -> None:
    """In CI: ``watch`` re-indexes a saved file (the embedder, ONNX Runtime, loaded) and
    idles ``IDLE_S`` with no attempt, telemetry off as shipped. By hand, with
    ``GREENPAIR_EGRESS_NEGATIVE=1``, ONNX Runtime's telemetry is left on and the check must
    catch its lookups (measured: the first comes 9.5-9.8 s after start-up)."""
    telemetry_guard = not NEGATIVE
    argv = greenpair("watch", "--repo", str(tmp_repo), telemetry_guard=telemetry_guard)
    name = "watch" if telemetry_guard else "watch (ORT telemetry on)"
    with traced_process(argv, tmp_path, traced_env, name="watch") as running:
        wait_for(lambda: "Watching" in running.output() or running.proc.poll() is not None,
                 timeout=STEP_TIMEOUT_S, interval=0.2, what="watch to start")
        assert running.proc.poll() is None, running.output()
        (tmp_repo / "src/shop/shipping.py").write_text(
            "def shipping_cost(weight_kg):\n    return 4.5 + 1.2 * weight_kg\n")
        wait_for(lambda: "re-indexed" in running.output(), timeout=120, interval=0.2,
                 what="the saved file to be re-indexed")
        attempts = idle(running, IDLE_S if telemetry_guard else 120.0)
        running.signal(signal.SIGINT)
        code = running.wait()
        attempts = running.egress()
    record(name, argv, code, attempts)
    assert "Stopping." in running.output()
    if telemetry_guard and not NEGATIVE:
        assert attempts == [], [a.describe() for a in attempts]
    else:
        # ONNX Runtime's 1DS client looks up its collector: DNS from the watch process.
        assert attempts, "the check saw nothing with ONNX Runtime's telemetry on"
        assert all(a.port == DNS_PORT for a in attempts), [a.describe() for a in attempts]

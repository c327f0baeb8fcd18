"""A pytest plugin that writes every test's outcome as JSON (loaded with ``-p``).

The benchmark runs the pytest under test (whatever commit of its history) with this
module on ``PYTHONPATH`` and ``-p outcome_plugin``; the hooks used here have been stable
since pytest 3. The file named by ``PATCH_BENCH_OUTCOMES`` receives ``{node id: outcome}``
with outcome one of ``passed``, ``failed``, ``skipped`` (xfail/xpass count as skipped: they
say nothing about the change), and ``{"__collect_errors__": [paths]}`` for modules that
did not collect. Only the outer session writes (``pytester`` sessions inside pytest's own
tests run in the same process and are ignored by their own ``config``).
"""

from __future__ import annotations

import json
import os

_OUTCOMES: dict[str, str] = {}
_COLLECT_ERRORS: list[str] = []
_RANK = {"passed": 0, "skipped": 1, "failed": 2}


def _set(nodeid: str, outcome: str) -> None:
    old = _OUTCOMES.get(nodeid)
    if old is None or _RANK[outcome] > _RANK[old]:
        _OUTCOMES[nodeid] = outcome


def pytest_runtest_logreport(report) -> None:
    """Record the worst outcome of a test's setup, call and teardown."""
    if hasattr(report, "wasxfail"):
        _set(report.nodeid, "skipped")
    elif report.failed:
        _set(report.nodeid, "failed")
    elif report.skipped:
        _set(report.nodeid, "skipped")
    elif report.when == "call":
        _set(report.nodeid, "passed")


def pytest_collectreport(report) -> None:
    """Remember modules that failed to collect (their tests count as failing)."""
    if report.failed:
        _COLLECT_ERRORS.append(report.nodeid)


def pytest_unconfigure(config) -> None:
    """Write the outcomes once, when the outer session ends."""
    path = os.environ.get("PATCH_BENCH_OUTCOMES")
    if not path or getattr(config, "_patch_bench_written", False):
        return
    config._patch_bench_written = True
    data = dict(_OUTCOMES)
    data["__collect_errors__"] = list(_COLLECT_ERRORS)  # type: ignore[assignment]
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh)

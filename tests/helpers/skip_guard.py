"""A pytest plugin: skipped tests are counted aloud, and in CI a skipped model or X11
test fails the run.

Every run ends with one line, e.g. ``skipped: 3 (model/x11: 0; other: 3: 2 not on macOS,
1 needs NVML)``. Under ``CI=true`` the setup has provisioned the models and the virtual
display (``make setup``), so a skipped test marked ``model``, ``default_model`` or ``x11``,
or one that asks for a model fixture, means a test that should have run did not: the
session's exit status becomes a failure and the line says which tests. Two more ways a
required test can go missing count the same:

* a whole module skipped while it is collected (``pytest.skip(allow_module_level=True)``,
  ``pytest.importorskip``): what it held is unknown, so in CI any such skip fails;
* an xfail (marker or ``pytest.xfail()``) on a required test: it ran and failed, and an
  expected failure proves nothing the test claims.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REQUIRED_MARKERS = frozenset({"model", "default_model", "x11"})
REQUIRED_FIXTURES = frozenset({"tiny_model_path", "default_model_path"})


class SkipGuard:
    """Collects skips while the session runs and judges them at the end."""

    def __init__(self, in_ci: bool) -> None:
        self.in_ci = in_ci
        self.required: set[str] = set()
        self.skipped_required: list[str] = []
        self.skipped_other: Counter[str] = Counter()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            markers = {m.name for m in item.iter_markers()}
            fixtures = set(getattr(item, "fixturenames", ()))
            if markers & REQUIRED_MARKERS or fixtures & REQUIRED_FIXTURES:
                self.required.add(item.nodeid)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.skipped:  # a module skipped while collected: its tests never appear
            reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
            self.skipped_required.append(
                f"{report.nodeid} (whole module: {reason.removeprefix('Skipped: ')[:60]})")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if hasattr(report, "wasxfail"):  # xfailed (outcome "skipped") or xpassed
            if report.skipped and report.nodeid in self.required:
                self.skipped_required.append(f"{report.nodeid} (xfail)")
            return
        if not report.skipped:
            return
        if report.nodeid in self.required:
            self.skipped_required.append(report.nodeid)
        else:
            reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
            self.skipped_other[reason.removeprefix("Skipped: ")[:80]] += 1

    def summary(self) -> str:
        """The one line printed at the end of every run."""
        total = len(self.skipped_required) + sum(self.skipped_other.values())
        other = "; ".join(f"{n} {why}" for why, n in self.skipped_other.most_common())
        line = (f"skipped: {total} (model/x11: {len(self.skipped_required)}; "
                f"other: {sum(self.skipped_other.values())}{': ' + other if other else ''})")
        if self.skipped_required:
            names = ", ".join(self.skipped_required[:5])
            more = f" and {len(self.skipped_required) - 5} more" if \
                len(self.skipped_required) > 5 else ""
            verdict = "FAILED under CI=true" if self.in_ci else "would fail under CI=true"
            line += f" — {verdict}: {names}{more} skipped where make setup provides them"
        return line

    @property
    def failed(self) -> bool:
        """Whether the skips make the session fail (CI only)."""
        return self.in_ci and bool(self.skipped_required)

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        terminalreporter.write_line(self.summary(), red=self.failed, bold=self.failed)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.failed and session.exitstatus in (pytest.ExitCode.OK,
                                                  pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(SkipGuard(IN_CI), "greenpair-skip-guard")

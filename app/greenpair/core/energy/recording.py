"""Recording: closed windows and avoided work go to the ledger.

The ledger is opened at the current ``ledger_path()`` (reopened when ``GREENPAIR_HOME``
moves). A ledger that cannot be written (full disk, read-only data directory) is warned
about once and the work goes on unrecorded. Saved tokens with no joules given are valued
at the J per processed token of this process's recent answers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from greenpair.core import messages
from greenpair.core.energy.ledger import Ledger
from greenpair.core.energy.report import EnergyReport

_LEARNS_FROM = {"answer", "patch", "suggestion"}


class LedgerWriter:
    """Writes reports and savings to the ledger (thread-safe).

    Args:
        enabled: False writes nothing (benchmarks, tests).
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._lock = threading.Lock()
        self._ledger: Ledger | None = None
        self._warned = False
        self.j_per_token: float | None = None

    def ledger(self) -> Ledger:
        """The ledger at the current ``ledger_path()`` (reopened when the path changes)."""
        from greenpair.core.config import ledger_path

        path = ledger_path()
        with self._lock:
            if self._ledger is None or self._ledger.path != path:
                if self._ledger is not None:
                    self._ledger.close()
                self._ledger = Ledger(path)
            return self._ledger

    def _write(self, action: Callable[[Ledger], Any]) -> None:
        from greenpair.core.errors import EnergyError

        try:
            action(self.ledger())
        except EnergyError as exc:
            if not self._warned:
                self._warned = True
                messages.warning(f"{exc.message} {exc.hint or ''}".strip())

    def learn(self, report: EnergyReport) -> None:
        """Update the J per processed token from a finished answer, patch or suggestion."""
        processed = report.tokens + report.prompt_tokens
        if report.kind in _LEARNS_FROM and processed and report.joules:
            value = report.joules / processed
            prev = self.j_per_token
            self.j_per_token = value if prev is None else 0.7 * prev + 0.3 * value

    def record(self, report: EnergyReport) -> None:
        """Write one window's report."""
        if not self.enabled:
            return
        self._write(lambda ledger: ledger.add(
            report.kind, duration_s=report.duration_s, joules=report.joules,
            sensor=report.sensor, estimated=report.estimated, tokens=report.tokens,
            system_joules=report.system_joules, gco2e=report.gco2e,
            meta={**report.meta, "prompt_tokens": report.prompt_tokens,
                  "cpu_s": report.cpu_s, "overlapped": report.overlapped},
        ))

    def record_saving(self, name: str, *, count: float = 1, tokens: int = 0,
                      joules: float | None = None) -> None:
        """Write avoided work (``joules`` estimated from ``tokens`` when not given)."""
        if joules is None and tokens and self.j_per_token is not None:
            joules = tokens * self.j_per_token
        if self.enabled:
            self._write(lambda ledger: ledger.add_saving(
                name, count=count, tokens=tokens, joules=joules))

    def close(self) -> None:
        """Close the ledger."""
        with self._lock:
            if self._ledger is not None:
                self._ledger.close()
                self._ledger = None

"""The energy page's queries over a ledger with 30 days of recorded rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from greenpair.core.energy.ledger import Ledger
from greenpair.core.energy.trends import (
    KINDS,
    avoided_work,
    daily_energy,
    joules_per_answer,
    period_days,
)
from tests.helpers.ledger_rows import fill_ledger

NOW = datetime(2026, 11, 30, 18, 0).timestamp()


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    led = Ledger(tmp_path / "energy.sqlite3")
    yield led
    led.close()


def test_thirty_days_per_kind_add_up_to_what_was_recorded(ledger: Ledger) -> None:
    totals = fill_ledger(ledger, 30, now=NOW)
    daily = daily_energy(ledger, 30, now=NOW)
    assert len(daily.days) == 30
    assert daily.days[-1] == datetime.fromtimestamp(NOW).date()
    assert daily.days[0] == daily.days[-1] - timedelta(days=29)
    assert set(KINDS) <= set(daily.joules)
    for kind, joules in totals.items():
        assert daily.total(kind) == pytest.approx(joules)
    assert daily.total() == pytest.approx(sum(totals.values()))
    # day 0: 2 answers of 40 J, a patch, 5 suggestions, an index run
    assert daily.joules["answer"][0] == pytest.approx(80.0)
    assert daily.counts["answer"][:3] == [2, 3, 4]
    assert daily.joules["patch"][1] == 0.0
    assert daily.joules["index"][7] == 300.0


def test_rows_older_than_the_period_are_left_out(ledger: Ledger) -> None:
    fill_ledger(ledger, 30, now=NOW)
    ledger.add("answer", duration_s=1, joules=999.0, sensor="rapl", estimated=False,
               ts=NOW - 45 * 86400)
    assert daily_energy(ledger, 30, now=NOW).total("answer") < 999.0 * 10
    assert all(p.joules != 999.0 for p in joules_per_answer(ledger, 30, now=NOW))
    assert len(period_days(7, now=NOW)) == 7


def test_rolled_up_days_still_count(ledger: Ledger) -> None:
    totals = fill_ledger(ledger, 30, now=NOW)
    # Roll everything older than 10 days into the daily table, as the ledger does.
    ledger.keep_days = 10
    assert ledger.compact(now=NOW) > 0
    daily = daily_energy(ledger, 30, now=NOW)
    assert daily.total("answer") == pytest.approx(totals["answer"])
    points = joules_per_answer(ledger, 30, now=NOW)
    rolled = [p for p in points if not p.model]
    assert rolled
    assert rolled[0].joules == pytest.approx(40.0)
    assert points == sorted(points, key=lambda p: p.ts)


def test_joules_per_answer_over_time(ledger: Ledger) -> None:
    fill_ledger(ledger, 30, now=NOW)
    points = joules_per_answer(ledger, 30, now=NOW)
    assert len(points) == sum(2 + d % 3 for d in range(30))
    assert points[0].joules == 40.0
    assert points[-1].joules == 69.0
    assert points[-1].model == "qwen2.5-coder-1.5b"


def test_avoided_work_is_priced_in_joules(ledger: Ledger) -> None:
    fill_ledger(ledger, 30, now=NOW)
    avoided = avoided_work(ledger, 30, now=NOW)
    assert avoided.tokens["kv_cache_tokens_reused"] == 800 * 30
    assert avoided.joules["prompt_tokens_saved"] == pytest.approx(4.0 * 30)  # as recorded
    assert "prompt_tokens_saved" not in avoided.estimated
    # priced: J per processed token and J per suggestion of the period
    assert avoided.joules["kv_cache_tokens_reused"] > 0
    assert avoided.joules["suggestions_avoided"] == pytest.approx(3 * 30 * 2.0)
    assert {"kv_cache_tokens_reused", "suggestions_avoided"} <= avoided.estimated
    assert avoided.total_joules == pytest.approx(sum(avoided.joules.values()))


def test_an_empty_ledger_gives_empty_series(ledger: Ledger) -> None:
    daily = daily_energy(ledger, 30, now=NOW)
    assert daily.total() == 0.0
    assert len(daily.days) == 30
    assert joules_per_answer(ledger, now=NOW) == []
    assert avoided_work(ledger, now=NOW).total_joules == 0.0


def test_a_counter_with_priced_and_unpriced_rows_adds_both(ledger: Ledger) -> None:
    fill_ledger(ledger, 30, now=NOW)
    unpriced = avoided_work(ledger, 30, now=NOW).joules["kv_cache_tokens_reused"]
    ledger.add_saving("kv_cache_tokens_reused", tokens=100, joules=7.0, ts=NOW - 60)
    both = avoided_work(ledger, 30, now=NOW)
    assert both.joules["kv_cache_tokens_reused"] == pytest.approx(unpriced + 7.0)
    assert both.tokens["kv_cache_tokens_reused"] == 800 * 30 + 100
    assert "kv_cache_tokens_reused" in both.estimated

"""A ledger holding 30 days of recorded work (answers, patches, suggestions, indexing)."""

from __future__ import annotations

from datetime import datetime, timedelta

from greenpair.core.energy.ledger import Ledger


def fill_ledger(ledger: Ledger, days: int = 30, now: float | None = None) -> dict[str, float]:
    """Record ``days`` days of work ending today, deterministic. Returns joules per kind.

    Each day d (0 = oldest) has 2 + d % 3 answers of 40 + d J, one patch of 90 J on even
    days, 5 suggestions of 2 J and, every seventh day, an indexing run of 300 J; plus
    savings (KV-cache tokens, prompt tokens, skipped suggestions).
    """
    today = datetime.fromtimestamp(now) if now is not None else datetime.now()
    start = today.replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=days - 1)
    totals: dict[str, float] = {}

    def add(kind: str, ts: float, joules: float, tokens: int, **meta: object) -> None:
        ledger.add(kind, duration_s=joules / 20, joules=joules, sensor="rapl", estimated=False,
                   tokens=tokens, gco2e=joules / 3.6e6 * 475, ts=ts, meta=meta)
        totals[kind] = totals.get(kind, 0.0) + joules

    for d in range(days):
        ts = (start + timedelta(days=d)).timestamp()
        for n in range(2 + d % 3):
            add("answer", ts + 60 * n, 40.0 + d, 120, model="qwen2.5-coder-1.5b",
                prompt_tokens=900)
        if d % 2 == 0:
            add("patch", ts + 600, 90.0, 300, prompt_tokens=1500)
        for n in range(5):
            add("suggestion", ts + 900 + n, 2.0, 16, prompt_tokens=200)
        if d % 7 == 0:
            add("index", ts + 1200, 300.0, 0)
        ledger.add_saving("kv_cache_tokens_reused", tokens=800, ts=ts + 30)
        ledger.add_saving("prompt_tokens_saved", tokens=400, joules=4.0, ts=ts + 31)
        ledger.add_saving("suggestions_avoided", count=3, ts=ts + 32)
    return totals

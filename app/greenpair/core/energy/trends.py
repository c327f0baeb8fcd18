"""The ledger over time, for the energy page: energy per day and kind, J per answer, avoided
work in joules.

Qt-free read-only queries over a :class:`~greenpair.core.energy.ledger.Ledger`. Days are
local calendar days (as the ledger's daily roll-up); a day rolled into the ``daily``
table contributes its totals, detailed rows are bucketed here.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from greenpair.core.energy.ledger import Ledger

KINDS = ("answer", "patch", "suggestion", "index")
KIND_LABELS = {"answer": "Answers", "patch": "Patches", "suggestion": "Suggestions",
               "index": "Indexing"}
SAVING_LABELS = {
    "kv_cache_tokens_reused": "Prompt cache reuse",
    "prompt_tokens_saved": "Prompt tokens saved by packing",
    "suggestions_avoided": "Suggestions skipped",
    "embeddings_reused": "Embeddings reused",
}


@dataclass
class DailyEnergy:
    """Joules per local day and kind of work, oldest day first."""

    days: list[date]
    joules: dict[str, list[float]]  # kind -> one value per day
    counts: dict[str, list[int]]

    def total(self, kind: str | None = None) -> float:
        """Joules over the period (of one kind, or all)."""
        kinds = [kind] if kind is not None else list(self.joules)
        return sum(sum(self.joules.get(k, [])) for k in kinds)


@dataclass(frozen=True)
class AnswerPoint:
    """J per answer at a time (a day's mean for rolled-up days)."""

    ts: float
    joules: float
    tokens: int
    model: str = ""


@dataclass
class Avoided:
    """Avoided work over the period, in joules where it can be priced.

    ``estimated`` names the counters whose joules were priced here from average costs
    (not recorded with the saving).
    """

    joules: dict[str, float] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)
    counts: dict[str, float] = field(default_factory=dict)
    estimated: set[str] = field(default_factory=set)

    @property
    def total_joules(self) -> float:
        """All avoided joules."""
        return sum(self.joules.values())


def _day_start(d: date) -> float:
    return datetime(d.year, d.month, d.day).timestamp()


def period_days(days: int, now: float | None = None) -> list[date]:
    """The last ``days`` local days, oldest first, ending today."""
    today = datetime.fromtimestamp(time.time() if now is None else now).date()
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def daily_energy(ledger: Ledger, days: int = 30, now: float | None = None) -> DailyEnergy:
    """Joules per day and kind over the last ``days`` days (every kind seen is included;
    the four main kinds are always present)."""
    span = period_days(days, now)
    index = {d: i for i, d in enumerate(span)}
    since = _day_start(span[0])
    joules: dict[str, list[float]] = {k: [0.0] * days for k in KINDS}
    counts: dict[str, list[int]] = {k: [0] * days for k in KINDS}
    bucketed = [(datetime.fromtimestamp(ts).date(), kind, j, 1)
                for ts, kind, j, _tok, _meta, _dur in ledger.rows_since(since)]
    bucketed += [(date.fromisoformat(day), kind, j, n)
                 for day, kind, n, j, _tok in ledger.days_since(span[0].isoformat())]
    for day, kind, j, n in bucketed:
        i = index.get(day)
        if i is None:
            continue
        joules.setdefault(kind, [0.0] * days)[i] += float(j or 0.0)
        counts.setdefault(kind, [0] * days)[i] += int(n)
    return DailyEnergy(span, joules, counts)


def joules_per_answer(ledger: Ledger, days: int = 30, now: float | None = None
                      ) -> list[AnswerPoint]:
    """Each measured answer of the period (oldest first); a rolled-up day is one point,
    its mean, at noon."""
    span = period_days(days, now)
    since = _day_start(span[0])
    points = [AnswerPoint(_day_start(date.fromisoformat(day)) + 43200, j / n, int(tok / n))
              for day, kind, n, j, tok in ledger.days_since(span[0].isoformat())
              if kind == "answer" and n > 0]
    for ts, kind, j, tok, meta, _dur in ledger.rows_since(since):
        if kind != "answer" or j is None:
            continue
        try:
            model = str(json.loads(meta or "{}").get("model", ""))
        except ValueError:
            model = ""
        points.append(AnswerPoint(ts, float(j), int(tok), model))
    return sorted(points, key=lambda p: p.ts)


def _unit_costs(ledger: Ledger, since: float) -> tuple[float | None, float | None]:
    """(J per processed token, J per suggestion) from the period's generations."""
    joules = tokens = 0.0
    suggestion_j, suggestions = 0.0, 0
    for _ts, kind, j, tok, meta, _dur in ledger.rows_since(since):
        if kind not in ("answer", "patch", "suggestion") or not j:
            continue
        try:
            prompt = int(json.loads(meta or "{}").get("prompt_tokens", 0) or 0)
        except (ValueError, TypeError):
            prompt = 0
        joules += j
        tokens += tok + prompt
        if kind == "suggestion":
            suggestion_j += j
            suggestions += 1
    return (joules / tokens if tokens else None,
            suggestion_j / suggestions if suggestions else None)


def avoided_work(ledger: Ledger, days: int = 30, now: float | None = None) -> Avoided:
    """Avoided work of the period in joules: as recorded with each saving, else priced at
    the period's average J per processed token (token counters) or J per suggestion
    (skipped suggestions)."""
    since = _day_start(period_days(days, now)[0])
    per_token, per_suggestion = _unit_costs(ledger, since)
    out = Avoided()
    for name, count, tokens, joules in ledger.savings_since(since):
        out.tokens[name] = out.tokens.get(name, 0) + int(tokens or 0)
        out.counts[name] = out.counts.get(name, 0.0) + float(count or 0.0)
        j = joules
        if j is None and tokens and per_token:
            j = tokens * per_token
            out.estimated.add(name)
        elif j is None and name == "suggestions_avoided" and per_suggestion:
            j = count * per_suggestion
            out.estimated.add(name)
        out.joules[name] = out.joules.get(name, 0.0) + float(j or 0.0)
    return out

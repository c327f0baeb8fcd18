"""The chat's model choices: memory, fit and the speed measured in the ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from greenpair.core.config import DEFAULT_MODEL, ECO_MODEL, TINY_MODEL, Settings
from greenpair.core.energy.ledger import Ledger
from greenpair.core.llm.choices import (
    ModelChoice,
    describe,
    fit_problem,
    measured_speeds,
    model_choices,
)


def test_default_eco_then_pulled_models(tiny_model_path: Path) -> None:
    choices = model_choices(Settings(model=TINY_MODEL), {TINY_MODEL: 42.0})
    ids = [c.id for c in choices]
    assert ids[:2] == [DEFAULT_MODEL, ECO_MODEL]
    assert TINY_MODEL in ids
    tiny = choices[ids.index(TINY_MODEL)]
    assert tiny.installed
    assert tiny.ram_gb > 0
    assert tiny.tokens_per_s == 42.0
    assert [c.label for c in choices[:2]] == ["Default", "Eco"]
    assert "42 tok/s" in describe(tiny)
    assert "GB RAM" in describe(tiny)


def test_a_gguf_path_is_listed_with_its_size(tmp_path: Path) -> None:
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 1_000_000)
    choices = model_choices(Settings(model=str(gguf)))
    mine = choices[-1]
    assert mine.id == str(gguf)
    assert mine.name == "mine.gguf"
    assert mine.installed
    assert 0.001 < mine.ram_gb < 0.002


def test_fit_problems_are_plain_words() -> None:
    big = ModelChoice("big", "big", "Big 70B", 40.0, True)
    assert fit_problem(big, free_gb=64.0) is None
    text = fit_problem(big, free_gb=8.0)
    assert text is not None
    assert "does not fit in memory" in text
    assert "40.3 GB" in text
    assert "8.0 GB is free" in text
    missing = ModelChoice("x", "x", "X", 1.0, False)
    assert "not on this computer" in (fit_problem(missing, 64.0) or "")


def test_speeds_measured_from_answers_in_the_ledger(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "e.sqlite3")
    for tokens, seconds in ((100, 4.0), (50, 1.0)):
        ledger.add("answer", duration_s=seconds, joules=10.0, sensor="rapl", estimated=False,
                   tokens=tokens, meta={"model": "m1"})
    ledger.add("patch", duration_s=1.0, joules=1.0, sensor="rapl", estimated=False,
               tokens=999, meta={"model": "m1"})
    ledger._conn.execute("UPDATE records SET meta = ? WHERE id = 1",
                         (json.dumps({"model": "m1"}),))
    assert measured_speeds(ledger) == {"m1": 30.0}  # tokens over the answers' durations
    # An answer that recorded its generation speed counts its generation time only.
    ledger.add("answer", duration_s=10.0, joules=10.0, sensor="rapl", estimated=False,
               tokens=100, meta={"model": "m2", "tokens_per_s": 20.0})
    ledger.add("answer", duration_s=10.0, joules=10.0, sensor="rapl", estimated=False,
               tokens=300, meta={"model": "m2", "tokens_per_s": 30.0})
    assert measured_speeds(ledger)["m2"] == pytest.approx(400 / (5 + 10))
    ledger.close()

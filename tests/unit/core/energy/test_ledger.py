"""The SQLite ledger: restart, bounded size, crash mid-write, damaged file."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from greenpair.core.energy.ledger import Ledger


def add(ledger: Ledger, kind: str = "answer", joules: float = 1.0, **kw) -> int:
    return ledger.add(kind, duration_s=1.0, joules=joules, sensor="rapl", estimated=False,
                      tokens=kw.pop("tokens", 10), gco2e=joules / 3.6e6 * 475, **kw)


def test_survives_restart(tmp_path: Path) -> None:
    path = tmp_path / "energy.sqlite3"
    ledger = Ledger(path)
    add(ledger, joules=5.0)
    add(ledger, "index", joules=7.0, tokens=0)
    ledger.add_saving("suggestions_avoided", count=2)
    ledger.close()
    again = Ledger(path)
    totals = again.totals()
    assert totals.count == 2
    assert totals.joules == pytest.approx(12.0)
    assert totals.by_kind["answer"].joules_per_token == pytest.approx(0.5)
    assert totals.savings["suggestions_avoided"].count == 2
    last = again.last()
    assert last is not None
    assert last.kind == "index"
    assert again.integrity() == "ok"
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_since_and_session(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    old = Ledger(path)
    add(old, joules=100.0, ts=time.time() - 3 * 86400)
    old.close()
    ledger = Ledger(path)
    assert ledger.session_start() is not None  # the first process's session
    add(ledger, joules=1.0)
    session = ledger.session_start()
    assert session is not None
    assert ledger.totals(since=session).joules == pytest.approx(1.0)
    assert ledger.totals(since=time.time() - 86400).joules == pytest.approx(1.0)
    assert ledger.totals().joules == pytest.approx(101.0)


def test_bounded_rows_rolled_into_daily_totals(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3", keep_days=30, max_rows=50)
    now = time.time()
    for i in range(40):
        add(ledger, joules=1.0, ts=now - 40 * 86400 + i)  # old: rolled by age
    for i in range(80):
        add(ledger, "suggestion", joules=0.5, ts=now - 3600 + i)
    ledger.add_saving("kv_cache_tokens_reused", tokens=500, joules=1.0, ts=now - 40 * 86400)
    before = ledger.totals()
    rolled = ledger.compact()
    assert rolled == 40 + 30 + 1
    assert ledger.row_count() == 50
    after = ledger.totals()
    assert after.count == before.count == 120
    assert after.joules == pytest.approx(before.joules)
    assert after.savings["kv_cache_tokens_reused"].tokens == 500
    assert after.by_kind["suggestion"].count == 80


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from greenpair.core.energy.ledger import Ledger

    ledger = Ledger(Path(sys.argv[1]))
    i = 0
    while True:
        ledger.add("answer", duration_s=1.0, joules=1.0, sensor="rapl", estimated=False,
                   tokens=3, meta={"i": i, "pad": "x" * 2000})
        ledger.add_saving("suggestions_avoided", count=1)
        i += 1
    """
)


def test_kill_9_mid_write_leaves_a_sound_ledger(tmp_path: Path) -> None:
    path = tmp_path / "energy.sqlite3"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    proc = subprocess.Popen([sys.executable, str(script), str(path)])
    try:
        reader = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if path.exists():
                reader = reader or Ledger(path)
                if reader.row_count() >= 300:
                    break
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the writer died on its own"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    if reader is not None:
        reader.close()
    ledger = Ledger(path)
    assert ledger.integrity() == "ok"
    totals = ledger.totals()
    rows = ledger.row_count()
    assert rows >= 300
    assert totals.count == rows
    assert totals.joules == pytest.approx(rows * 1.0)
    assert totals.by_kind["answer"].tokens == 3 * rows
    # each record is its own transaction: the saving written after a record may be missing
    assert totals.savings["suggestions_avoided"].count in (rows, rows - 1)
    add(ledger)  # and it still takes writes
    assert ledger.row_count() == rows + 1


def test_damaged_file_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "energy.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    ledger = Ledger(path)
    add(ledger)
    assert ledger.totals().count == 1
    assert list(tmp_path.glob("energy.sqlite3.corrupt-*"))

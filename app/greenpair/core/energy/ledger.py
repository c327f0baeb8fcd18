"""The energy ledger: every measured piece of work and every avoided one, in SQLite.

Stored at ``ledger_path()`` (the data directory). WAL journal with ``synchronous=NORMAL``
and one transaction per record, so a crash (even ``kill -9``) mid-write loses at most the
record being written and never corrupts the file; the file survives restarts.

Bounded in size: detailed rows are kept for ``keep_days`` (30) and at most ``max_rows``
(50,000); older ones are rolled into per-day, per-kind totals (``daily`` and
``daily_savings``) in the same transaction that deletes them. Totals over a period that
begins inside a rolled-up day count that whole day.

Tables: ``records`` (kind, duration, joules attributed to Greenpair, whole-system joules,
sensor, estimated, tokens, gCO2e, meta JSON), ``savings`` (avoided work: a counter name,
a count, tokens and joules saved), ``sessions`` (one row per process that recorded
something; ``totals(since="session")`` starts at the latest).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from greenpair.core import messages
from greenpair.core.errors import EnergyError

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS sessions(id TEXT PRIMARY KEY, started REAL NOT NULL, pid INTEGER);
CREATE TABLE IF NOT EXISTS records(
  id INTEGER PRIMARY KEY, ts REAL NOT NULL, kind TEXT NOT NULL, duration_s REAL NOT NULL,
  joules REAL, system_joules REAL, sensor TEXT NOT NULL, estimated INTEGER NOT NULL,
  tokens INTEGER NOT NULL, gco2e REAL, session TEXT, meta TEXT);
CREATE INDEX IF NOT EXISTS records_ts ON records(ts);
CREATE TABLE IF NOT EXISTS savings(
  id INTEGER PRIMARY KEY, ts REAL NOT NULL, name TEXT NOT NULL, count REAL NOT NULL,
  tokens INTEGER NOT NULL, joules REAL, session TEXT);
CREATE INDEX IF NOT EXISTS savings_ts ON savings(ts);
CREATE TABLE IF NOT EXISTS daily(
  day TEXT NOT NULL, kind TEXT NOT NULL, n INTEGER NOT NULL, duration_s REAL NOT NULL,
  joules REAL NOT NULL, system_joules REAL NOT NULL, tokens INTEGER NOT NULL,
  gco2e REAL NOT NULL, estimated_n INTEGER NOT NULL, PRIMARY KEY(day, kind));
CREATE TABLE IF NOT EXISTS daily_savings(
  day TEXT NOT NULL, name TEXT NOT NULL, count REAL NOT NULL, tokens INTEGER NOT NULL,
  joules REAL NOT NULL, PRIMARY KEY(day, name));
"""


@dataclass
class KindTotals:
    """Sums for one kind of work (``answer``, ``patch``, ``index``, ``suggestion``…)."""

    count: int = 0
    joules: float = 0.0
    system_joules: float = 0.0
    duration_s: float = 0.0
    tokens: int = 0
    gco2e: float = 0.0
    estimated_count: int = 0

    @property
    def joules_per_token(self) -> float | None:
        """Average J/token over the records that counted tokens."""
        return self.joules / self.tokens if self.tokens else None


@dataclass
class SavingTotals:
    """Sums for one avoided-work counter."""

    count: float = 0.0
    tokens: int = 0
    joules: float = 0.0


@dataclass
class Totals:
    """Everything recorded since ``since`` (epoch seconds; 0: all time)."""

    since: float
    by_kind: dict[str, KindTotals] = field(default_factory=dict)
    savings: dict[str, SavingTotals] = field(default_factory=dict)

    def _sum(self, attr: str) -> Any:
        return sum(getattr(k, attr) for k in self.by_kind.values())

    @property
    def count(self) -> int:
        """Number of measured pieces of work."""
        return int(self._sum("count"))

    @property
    def joules(self) -> float:
        """Joules attributed to Greenpair."""
        return float(self._sum("joules"))

    @property
    def gco2e(self) -> float:
        """Grams of CO2e of those joules."""
        return float(self._sum("gco2e"))

    @property
    def estimated(self) -> bool:
        """Whether any record in the period was estimated rather than measured."""
        return self._sum("estimated_count") > 0

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dictionary (part of the ``energy --json`` contract)."""
        return {
            "since": self.since,
            "count": self.count,
            "joules": self.joules,
            "gco2e": self.gco2e,
            "estimated": self.estimated,
            "by_kind": {
                k: {**v.__dict__, "joules_per_token": v.joules_per_token}
                for k, v in sorted(self.by_kind.items())
            },
            "savings": {k: dict(v.__dict__) for k, v in sorted(self.savings.items())},
        }


@dataclass(frozen=True)
class Record:
    """One row of the ledger."""

    id: int
    ts: float
    kind: str
    duration_s: float
    joules: float | None
    system_joules: float | None
    sensor: str
    estimated: bool
    tokens: int
    gco2e: float | None
    meta: dict[str, Any]


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d")


class Ledger:
    """The SQLite energy ledger.

    Args:
        path: The database file (created with its directory).
        keep_days: Days of detailed rows to keep before rolling them into daily totals.
        max_rows: Most detailed rows kept.

    Raises:
        EnergyError: The file cannot be created or opened.
    """

    COMPACT_EVERY = 500

    def __init__(self, path: Path, *, keep_days: int = 30, max_rows: int = 50_000) -> None:
        self.path = Path(path)
        self.keep_days = keep_days
        self.max_rows = max_rows
        self._lock = threading.RLock()
        self._session: str | None = None
        self._inserts = 0
        self._conn = self._open()
        self.compact()

    # -- connection -------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=10.0, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(_SCHEMA)
        conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )
        return conn

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return self._connect()
        except sqlite3.DatabaseError as exc:
            if not self.path.exists() or isinstance(exc, sqlite3.OperationalError):
                raise EnergyError(
                    f"Cannot open the energy ledger {self.path}: {exc}.",
                    hint="Check that the data directory is writable.",
                ) from exc
            aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
            os.replace(self.path, aside)
            messages.warning(
                f"The energy ledger was damaged ({exc}); it was moved to {aside} and a new "
                "one started."
            )
            return self._connect()
        except OSError as exc:
            raise EnergyError(
                f"Cannot create the energy ledger {self.path}: {exc}.",
                hint="Check that the data directory is writable.",
            ) from exc

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise EnergyError(
                    f"Could not write the energy ledger {self.path}: {exc}.",
                    hint="Check free disk space; `greenpair doctor` checks the ledger.",
                ) from exc

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()

    # -- writing ----------------------------------------------------------------------
    def _session_id(self, conn: sqlite3.Connection) -> str:
        if self._session is None:
            self._session = uuid.uuid4().hex
            conn.execute(
                "INSERT INTO sessions(id, started, pid) VALUES (?, ?, ?)",
                (self._session, time.time(), os.getpid()),
            )
        return self._session

    def add(
        self,
        kind: str,
        *,
        duration_s: float,
        joules: float | None,
        sensor: str,
        estimated: bool,
        tokens: int = 0,
        system_joules: float | None = None,
        gco2e: float | None = None,
        meta: dict[str, Any] | None = None,
        ts: float | None = None,
    ) -> int:
        """Record one measured piece of work (one transaction). Returns its row id."""
        with self._transaction() as conn:
            session = self._session_id(conn)
            cur = conn.execute(
                "INSERT INTO records(ts, kind, duration_s, joules, system_joules, sensor, "
                "estimated, tokens, gco2e, session, meta) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    time.time() if ts is None else ts, kind, duration_s, joules,
                    system_joules, sensor, int(estimated), tokens, gco2e, session,
                    json.dumps(meta or {}, default=str),
                ),
            )
            row_id = int(cur.lastrowid or 0)
        self._after_insert()
        return row_id

    def add_saving(
        self,
        name: str,
        *,
        count: float = 1.0,
        tokens: int = 0,
        joules: float | None = None,
        ts: float | None = None,
    ) -> None:
        """Record avoided work (one transaction)."""
        with self._transaction() as conn:
            session = self._session_id(conn)
            conn.execute(
                "INSERT INTO savings(ts, name, count, tokens, joules, session) "
                "VALUES (?,?,?,?,?,?)",
                (time.time() if ts is None else ts, name, count, tokens, joules, session),
            )
        self._after_insert()

    def _after_insert(self) -> None:
        self._inserts += 1
        if self._inserts % self.COMPACT_EVERY == 0:
            self.compact()

    def compact(self, now: float | None = None) -> int:
        """Roll old detailed rows into daily totals. Returns the rows rolled."""
        now = time.time() if now is None else now
        day_start = datetime.fromtimestamp(now - self.keep_days * 86400).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        cutoff = day_start.timestamp()
        with self._transaction() as conn:
            (n_rows,) = conn.execute("SELECT COUNT(*) FROM records").fetchone()
            if n_rows > self.max_rows:
                row = conn.execute(
                    "SELECT ts FROM records ORDER BY ts LIMIT 1 OFFSET ?",
                    (n_rows - self.max_rows,),
                ).fetchone()
                cutoff = max(cutoff, row[0])
            rolled = self._roll(conn, cutoff)
        return rolled

    @staticmethod
    def _roll(conn: sqlite3.Connection, cutoff: float) -> int:
        rows = conn.execute(
            "SELECT ts, kind, duration_s, COALESCE(joules, 0), COALESCE(system_joules, 0), "
            "tokens, COALESCE(gco2e, 0), estimated FROM records WHERE ts < ?",
            (cutoff,),
        ).fetchall()
        for ts, kind, dur, j, sj, tok, g, est in rows:
            conn.execute(
                "INSERT INTO daily VALUES (?,?,1,?,?,?,?,?,?) ON CONFLICT(day, kind) DO UPDATE "
                "SET n=n+1, duration_s=duration_s+excluded.duration_s, "
                "joules=joules+excluded.joules, system_joules=system_joules+excluded.system_joules, "
                "tokens=tokens+excluded.tokens, gco2e=gco2e+excluded.gco2e, "
                "estimated_n=estimated_n+excluded.estimated_n",
                (_day(ts), kind, dur, j, sj, tok, g, est),
            )
        conn.execute("DELETE FROM records WHERE ts < ?", (cutoff,))
        savings = conn.execute(
            "SELECT ts, name, count, tokens, COALESCE(joules, 0) FROM savings WHERE ts < ?",
            (cutoff,),
        ).fetchall()
        for ts, name, count, tok, j in savings:
            conn.execute(
                "INSERT INTO daily_savings VALUES (?,?,?,?,?) ON CONFLICT(day, name) DO UPDATE "
                "SET count=count+excluded.count, tokens=tokens+excluded.tokens, "
                "joules=joules+excluded.joules",
                (_day(ts), name, count, tok, j),
            )
        conn.execute("DELETE FROM savings WHERE ts < ?", (cutoff,))
        return len(rows) + len(savings)

    # -- reading ----------------------------------------------------------------------
    def session_start(self) -> float | None:
        """When the latest session that recorded something started."""
        with self._lock:
            row = self._conn.execute("SELECT MAX(started) FROM sessions").fetchone()
        return row[0] if row and row[0] is not None else None

    def totals(self, since: float = 0.0) -> Totals:
        """Sums per kind and per avoided-work counter since ``since`` (epoch seconds)."""
        out = Totals(since=since)
        day = _day(since) if since > 0 else ""
        with self._lock:
            detailed = self._conn.execute(
                "SELECT kind, COUNT(*), SUM(duration_s), SUM(COALESCE(joules, 0)), "
                "SUM(COALESCE(system_joules, 0)), SUM(tokens), SUM(COALESCE(gco2e, 0)), "
                "SUM(estimated) FROM records WHERE ts >= ? GROUP BY kind",
                (since,),
            ).fetchall()
            rolled = self._conn.execute(
                "SELECT kind, SUM(n), SUM(duration_s), SUM(joules), SUM(system_joules), "
                "SUM(tokens), SUM(gco2e), SUM(estimated_n) FROM daily WHERE day >= ? "
                "GROUP BY kind",
                (day,),
            ).fetchall()
            saved = self._conn.execute(
                "SELECT name, SUM(count), SUM(tokens), SUM(COALESCE(joules, 0)) FROM savings "
                "WHERE ts >= ? GROUP BY name UNION ALL "
                "SELECT name, SUM(count), SUM(tokens), SUM(joules) FROM daily_savings "
                "WHERE day >= ? GROUP BY name",
                (since, day),
            ).fetchall()
        for kind, n, dur, j, sj, tok, g, est in [*detailed, *rolled]:
            k = out.by_kind.setdefault(kind, KindTotals())
            k.count += int(n)
            k.duration_s += dur or 0.0
            k.joules += j or 0.0
            k.system_joules += sj or 0.0
            k.tokens += int(tok or 0)
            k.gco2e += g or 0.0
            k.estimated_count += int(est or 0)
        for name, count, tok, j in saved:
            s = out.savings.setdefault(name, SavingTotals())
            s.count += count or 0.0
            s.tokens += int(tok or 0)
            s.joules += j or 0.0
        return out

    def rows_since(self, since: float) -> list[tuple[float, str, float | None, int, str, float]]:
        """Detailed rows since ``since``, oldest first: (ts, kind, joules, tokens, meta JSON,
        duration_s)."""
        with self._lock:
            return self._conn.execute(
                "SELECT ts, kind, joules, tokens, meta, duration_s FROM records WHERE ts >= ? "
                "ORDER BY ts",
                (since,)).fetchall()

    def savings_since(self, since: float) -> list[tuple[str, float, int, float | None]]:
        """Avoided work since ``since``: (name, count, tokens, joules or None when the
        saving was not priced), detailed rows then rolled-up days (priced as rolled)."""
        day = _day(since) if since > 0 else ""
        with self._lock:
            return self._conn.execute(
                "SELECT name, count, tokens, joules FROM savings WHERE ts >= ? UNION ALL "
                "SELECT name, count, tokens, joules FROM daily_savings WHERE day >= ?",
                (since, day)).fetchall()

    def days_since(self, day: str) -> list[tuple[str, str, int, float, int]]:
        """Rolled-up days from ``day`` (YYYY-MM-DD) on: (day, kind, n, joules, tokens)."""
        with self._lock:
            return self._conn.execute(
                "SELECT day, kind, n, joules, tokens FROM daily WHERE day >= ? ORDER BY day",
                (day,)).fetchall()

    def last(self, kind: str | None = None) -> Record | None:
        """The latest detailed record (of ``kind`` when given)."""
        sql = (
            "SELECT id, ts, kind, duration_s, joules, system_joules, sensor, estimated, "
            "tokens, gco2e, meta FROM records"
        )
        args: tuple[Any, ...] = ()
        if kind is not None:
            sql += " WHERE kind = ?"
            args = (kind,)
        with self._lock:
            row = self._conn.execute(sql + " ORDER BY id DESC LIMIT 1", args).fetchone()
        if row is None:
            return None
        return Record(
            id=row[0], ts=row[1], kind=row[2], duration_s=row[3], joules=row[4],
            system_joules=row[5], sensor=row[6], estimated=bool(row[7]), tokens=row[8],
            gco2e=row[9], meta=json.loads(row[10] or "{}"),
        )

    def integrity(self) -> str:
        """``PRAGMA integrity_check`` ("ok" when the file is sound)."""
        with self._lock:
            return str(self._conn.execute("PRAGMA integrity_check").fetchone()[0])

    def row_count(self) -> int:
        """Detailed rows currently stored."""
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM records").fetchone()[0])


def since_timestamp(spec: str, ledger: Ledger | None = None, now: float | None = None) -> float:
    """Epoch seconds for a period name: ``today``, ``session``, ``all``, ``7d``, ``24h``,
    ``30m``, an ISO date (``2026-11-01``) or date-time.

    Raises:
        EnergyError: The text is none of those.
    """
    now = time.time() if now is None else now
    text = spec.strip().lower()
    if text in {"all", ""}:
        return 0.0
    if text == "today":
        return datetime.fromtimestamp(now).replace(
            hour=0, minute=0, second=0, microsecond=0
        ).timestamp()
    if text == "session":
        start = ledger.session_start() if ledger is not None else None
        return start if start is not None else now
    units = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
    if text[-1:] in units and text[:-1].replace(".", "", 1).isdigit():
        return now - float(text[:-1]) * units[text[-1]]
    try:
        return datetime.fromisoformat(spec.strip()).timestamp()
    except ValueError:
        raise EnergyError(
            f"Cannot read the period {spec!r}.",
            hint="Use today, session, all, a duration like 24h or 7d, or a date 2026-11-01.",
        ) from None

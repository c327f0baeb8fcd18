"""Conversations kept in the data directory, per repository (SQLite).

Stored at ``conversations_path()``. Each conversation belongs to one repository (its
resolved path) and holds its turns in order (question, answer, citations, model, tokens,
joules) plus the assistant's state after the last answered turn (the prompt messages and
the snippets shown), so that reopening it rebuilds the context and a follow-up continues
with the same prompt prefix. WAL journal, one transaction per write, like the energy
ledger. Nothing is written while keeping is off (``Settings.keep_conversations``).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from greenpair.core.config import data_dir
from greenpair.core.errors import GreenpairError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations(
  id INTEGER PRIMARY KEY, repo TEXT NOT NULL, title TEXT NOT NULL, created REAL NOT NULL,
  updated REAL NOT NULL, model TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT '{}');
CREATE INDEX IF NOT EXISTS conversations_repo ON conversations(repo, updated);
CREATE TABLE IF NOT EXISTS turns(
  id INTEGER PRIMARY KEY,
  conversation INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  ts REAL NOT NULL, kind TEXT NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL,
  citations TEXT NOT NULL, model TEXT NOT NULL, prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL, joules REAL, estimated INTEGER NOT NULL,
  stats TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS turns_conversation ON turns(conversation, id);
"""
TITLE_CHARS = 80


class HistoryError(GreenpairError):
    """The conversation store cannot be read or written."""


def conversations_path() -> Path:
    """The conversation store (SQLite) in the data directory."""
    return data_dir() / "conversations.sqlite3"


@dataclass(frozen=True)
class CitedLines:
    """A citation kept with the text of the lines it named when the answer was written.

    ``text`` lets a later reader find the lines again after the file changed.
    """

    path: str
    start_line: int
    end_line: int
    text: str = ""

    @property
    def label(self) -> str:
        """``path:start-end`` (``path:line`` for one line)."""
        if self.end_line != self.start_line:
            return f"{self.path}:{self.start_line}-{self.end_line}"
        return f"{self.path}:{self.start_line}"


@dataclass
class KeptTurn:
    """One question and its answer as kept."""

    question: str
    answer: str
    kind: str = "ask"  # ask | patch
    citations: list[CitedLines] = field(default_factory=list)
    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    joules: float | None = None
    estimated: bool = True
    stats: str = ""
    ts: float = 0.0


@dataclass
class ConversationSummary:
    """What the side panel lists about one conversation."""

    id: int
    repo: str
    title: str
    created: float
    updated: float
    model: str
    turns: int
    tokens: int
    joules: float


@dataclass
class KeptConversation:
    """A conversation read back: its summary, turns and the assistant's saved state."""

    summary: ConversationSummary
    turns: list[KeptTurn]
    state: dict[str, Any]


def _title(question: str) -> str:
    line = " ".join(question.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_SUMMARY_SQL = (
    "SELECT c.id, c.repo, c.title, c.created, c.updated, c.model, COUNT(t.id), "
    "COALESCE(SUM(t.prompt_tokens + t.completion_tokens), 0), COALESCE(SUM(t.joules), 0) "
    "FROM conversations c LEFT JOIN turns t ON t.conversation = c.id "
)


class ConversationStore:
    """The SQLite store of kept conversations.

    Args:
        path: The database file (default: ``conversations_path()``).

    Raises:
        HistoryError: The file cannot be created or opened.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else conversations_path()
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None,
                                         check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise HistoryError(
                f"Cannot open the conversation history {self.path}: {exc}.",
                hint="Check that the data directory is writable, or turn keeping "
                     "conversations off in Settings.",
            ) from exc

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()

    def _write(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        with self._lock:
            try:
                return self._conn.execute(sql, args)
            except sqlite3.Error as exc:
                raise HistoryError(f"Could not write the conversation history: {exc}.",
                                   hint="Check free disk space.") from exc

    # -- writing -------------------------------------------------------------------------
    def create(self, repo: Path | str, first_question: str, *, model: str = "",
               now: float | None = None) -> int:
        """A new conversation titled by its first question. Returns its id."""
        ts = time.time() if now is None else now
        cur = self._write(
            "INSERT INTO conversations(repo, title, created, updated, model) VALUES (?,?,?,?,?)",
            (str(repo), _title(first_question) or "(untitled)", ts, ts, model),
        )
        return int(cur.lastrowid or 0)

    def add_turn(self, conversation_id: int, turn: KeptTurn,
                 state: dict[str, Any] | None = None) -> None:
        """Append ``turn``; ``state`` (when given) replaces the saved assistant state."""
        ts = turn.ts or time.time()
        cites = json.dumps([asdict(c) for c in turn.citations])
        with self._lock:
            self._write("BEGIN IMMEDIATE")
            try:
                self._write(
                    "INSERT INTO turns(conversation, ts, kind, question, answer, citations, "
                    "model, prompt_tokens, completion_tokens, joules, estimated, stats) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (conversation_id, ts, turn.kind, turn.question, turn.answer, cites,
                     turn.model, turn.prompt_tokens, turn.completion_tokens, turn.joules,
                     int(turn.estimated), turn.stats),
                )
                sets, args = "updated = ?, model = ?", [ts, turn.model]
                if state is not None:
                    sets += ", state = ?"
                    args.append(json.dumps(state))
                self._write(f"UPDATE conversations SET {sets} WHERE id = ?",
                            (*args, conversation_id))
            except BaseException:
                self._write("ROLLBACK")
                raise
            self._write("COMMIT")

    def drop_last_turn(self, conversation_id: int) -> None:
        """Remove the newest turn (its answer is being regenerated)."""
        self._write("DELETE FROM turns WHERE id = (SELECT MAX(id) FROM turns "
                    "WHERE conversation = ?)", (conversation_id,))

    def rename(self, conversation_id: int, title: str) -> None:
        """Give a conversation a new title (blank titles are refused)."""
        title = " ".join(title.split())
        if not title:
            raise HistoryError("A conversation needs a title.", hint="Type a few words.")
        self._write("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))

    def delete(self, conversation_id: int) -> None:
        """Delete one conversation and its turns."""
        self._write("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def delete_all(self, repo: Path | str | None = None) -> int:
        """Delete every conversation (of ``repo`` when given). Returns how many."""
        if repo is None:
            cur = self._write("DELETE FROM conversations")
        else:
            cur = self._write("DELETE FROM conversations WHERE repo = ?", (str(repo),))
        self._write("PRAGMA wal_checkpoint(TRUNCATE)")
        return int(cur.rowcount)

    # -- reading -------------------------------------------------------------------------
    def _summaries(self, where: str, args: tuple[Any, ...]) -> list[ConversationSummary]:
        with self._lock:
            rows = self._conn.execute(
                _SUMMARY_SQL + where + " GROUP BY c.id ORDER BY c.updated DESC, c.id DESC",
                args).fetchall()
        return [ConversationSummary(int(r[0]), r[1], r[2], r[3], r[4], r[5], int(r[6]),
                                    int(r[7]), float(r[8])) for r in rows]

    def for_repo(self, repo: Path | str) -> list[ConversationSummary]:
        """The conversations of ``repo``, most recently used first."""
        return self._summaries("WHERE c.repo = ?", (str(repo),))

    def search(self, repo: Path | str, text: str) -> list[ConversationSummary]:
        """Conversations of ``repo`` whose title, questions or answers contain ``text``
        (case-insensitive for ASCII letters)."""
        if not text.strip():
            return self.for_repo(repo)
        pattern = _like(text.strip())
        return self._summaries(
            "WHERE c.repo = ?1 AND (c.title LIKE ?2 ESCAPE '\\' OR EXISTS (SELECT 1 FROM "
            "turns s WHERE s.conversation = c.id AND (s.question LIKE ?2 ESCAPE '\\' "
            "OR s.answer LIKE ?2 ESCAPE '\\')))",
            (str(repo), pattern),
        )

    def get(self, conversation_id: int) -> KeptConversation | None:
        """One conversation with its turns (None when it was deleted)."""
        found = self._summaries("WHERE c.id = ?", (conversation_id,))
        if not found:
            return None
        with self._lock:
            (state,) = self._conn.execute("SELECT state FROM conversations WHERE id = ?",
                                          (conversation_id,)).fetchone()
            rows = self._conn.execute(
                "SELECT kind, question, answer, citations, model, prompt_tokens, "
                "completion_tokens, joules, estimated, stats, ts FROM turns "
                "WHERE conversation = ? ORDER BY id", (conversation_id,)).fetchall()
        turns = [
            KeptTurn(kind=r[0], question=r[1], answer=r[2],
                     citations=[CitedLines(**c) for c in json.loads(r[3] or "[]")],
                     model=r[4], prompt_tokens=r[5], completion_tokens=r[6], joules=r[7],
                     estimated=bool(r[8]), stats=r[9], ts=r[10])
            for r in rows
        ]
        return KeptConversation(found[0], turns, json.loads(state or "{}"))

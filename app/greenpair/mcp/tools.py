"""What each MCP tool does, as plain functions of the process's services.

Every function takes the services first and returns a JSON-ready ``dict``; a problem the
agent can fix is a ``GreenpairError`` (message and hint), which ``app`` turns into a tool
error. Nothing here writes to a repository: ``propose_patch`` returns the diff only.

The services are taken through ``ToolServices``, a narrow protocol that
``greenpair.server.services.Services`` satisfies (and so will the composition root that
replaces it), so this module does not depend on how they are built.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol

from greenpair.core.errors import GreenpairError

if TYPE_CHECKING:
    from greenpair.core.assistant.retriever import Retriever
    from greenpair.core.config import Settings
    from greenpair.core.energy.meter_protocol import EnergyMeter
    from greenpair.core.llm.runtime import Runtime
    from greenpair.core.types import SearchResult

MAX_SPAN_LINES = 400  # one read_span call; an agent reads a longer file in parts
MAX_K = 50
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
_STOP = frozenset(["the", "and", "for", "with", "that", "this", "what", "where", "which", "how", "does", "from", "into", "are", "was", "when", "who", "why", "not", "can", "its", "use", "used"])


class ToolServices(Protocol):
    """What the tools need from the process's services."""

    repos: Sequence[Path]
    runtime: Runtime
    meter: EnergyMeter
    settings: Settings | None

    def resolve_repo(self, name: str | None) -> Path:
        """The served repository named by folder name or path (default: the first)."""
        ...

    def retriever(self, repo: Path) -> Retriever:
        """The repository's index, opened once."""
        ...


class ToolInputError(GreenpairError):
    """A tool was called with arguments it cannot use."""


class FileNotReadable(GreenpairError):
    """``read_span`` was asked for a file outside the index (ignored, secret, missing)."""


def _terms(text: str) -> list[str]:
    seen: list[str] = []
    for word in _WORD.findall(text):
        low = word.lower()
        if low not in _STOP and low not in seen:
            seen.append(low)
    return seen


def _reasons(rank: int, path: str, symbol: str | None, kind: str, text: str,
             terms: Sequence[str]) -> list[str]:
    """Why a span is in the results, in words an agent can weigh."""
    reasons = [f"file ranked #{rank} by Greenpair's fused lexical + semantic search"]
    if symbol:
        reasons.append(f"defines {kind} `{symbol}`")
    low_path, low_text = path.lower(), text.lower()
    in_path = [t for t in terms if t in low_path]
    in_text = [t for t in terms if t in low_text and t not in in_path]
    if in_path:
        reasons.append("path matches " + ", ".join(in_path))
    if in_text:
        reasons.append("code mentions " + ", ".join(in_text[:6]))
    return reasons


def search_code(services: ToolServices, query: str, k: int = 8,
                repo: str | None = None) -> dict[str, Any]:
    """Rank the repository's files for ``query`` and give their best spans with reasons.

    Raises:
        ToolInputError: An empty query or ``k`` out of range.
    """
    if not query.strip():
        raise ToolInputError("The query is empty.",
                             hint="Describe the behaviour or name the symbol to find.")
    if not 1 <= k <= MAX_K:
        raise ToolInputError(f"k must be between 1 and {MAX_K}.", hint="Try k=8.")
    root = services.resolve_repo(repo)
    with services.meter.window("search", repo=str(root)):
        result: SearchResult = services.retriever(root).search(query, k=k)
    rank = {path: i + 1 for i, path in enumerate(result.files)}
    terms = _terms(query)
    spans = []
    for sc in result.chunks:
        c = sc.chunk
        spans.append({
            "span": f"{c.path}:{c.start_line}-{c.end_line}",
            "path": c.path, "start_line": c.start_line, "end_line": c.end_line,
            "symbol": c.symbol, "kind": c.kind, "score": round(sc.score, 4),
            "file_rank": rank.get(c.path),
            "reasons": _reasons(rank.get(c.path, 0), c.path, c.symbol, c.kind, c.text, terms),
        })
    return {"repo": root.name, "query": query,
            "files": [{"rank": i + 1, "path": p} for i, p in enumerate(result.files)],
            "spans": spans}


def _relative(path: str) -> str:
    """``path`` as a clean repository-relative POSIX path.

    Raises:
        FileNotReadable: An absolute path or one that climbs out of the repository.
    """
    text = path.strip().replace("\\", "/")
    pure = PurePosixPath(text)
    if not text or pure.is_absolute() or ".." in pure.parts or re.match(r"^[A-Za-z]:", text):
        raise FileNotReadable(
            f"{path!r} is not a path inside the repository.",
            hint="Give a repository-relative path, as search_code returns it (src/app.py).")
    return "/".join(p for p in pure.parts if p != ".")


def read_span(services: ToolServices, path: str, start: int, end: int,
              repo: str | None = None) -> dict[str, Any]:
    """Lines ``start``..``end`` of an indexed file (1-based, inclusive).

    The file goes through the same walk as indexing (ignore files, secret deny-list,
    binaries, size, links out of the repository), and must be in the index.

    Raises:
        FileNotReadable: Outside the repository, ignored, secret, binary or not indexed.
        ToolInputError: A line range that makes no sense.
    """
    from greenpair.core.repo.walker import DEFAULT_MAX_BYTES, WalkedFile, walk_paths

    if start < 1 or end < start:
        raise ToolInputError(f"Lines {start}-{end} are not a range.",
                             hint="Lines count from 1 and end >= start.")
    root = services.resolve_repo(repo)
    rel = _relative(path)
    max_bytes = services.settings.max_file_bytes if services.settings else DEFAULT_MAX_BYTES
    found = None
    for entry in walk_paths(root, [rel], max_bytes=max_bytes):
        if entry.path == rel:
            found = entry
            break
    if not isinstance(found, WalkedFile):
        why = f" ({found.reason})" if found is not None else " (ignored, private or missing)"
        raise FileNotReadable(
            f"{rel} is not a file Greenpair reads{why}.",
            hint="Only files the index holds can be read: not ignored, secret, binary or "
                 "generated ones. Use search_code to find paths.")
    chunks = getattr(services.retriever(root), "file_chunks", None)
    if callable(chunks) and not chunks(rel):
        raise FileNotReadable(f"{rel} is not in the index yet.",
                              hint="Restart greenpair mcp (it updates the index at start).")
    lines = found.text.splitlines()
    last = min(end, len(lines), start + MAX_SPAN_LINES - 1)
    if start > len(lines):
        raise ToolInputError(f"{rel} has {len(lines)} lines; line {start} is past its end.",
                             hint=f"Ask for lines 1-{len(lines)}.")
    return {"repo": root.name, "path": rel, "span": f"{rel}:{start}-{last}",
            "start_line": start, "end_line": last, "total_lines": len(lines),
            "truncated": last < end and last < len(lines),
            "text": "\n".join(lines[start - 1:last])}


def _model_state(runtime: Runtime, load_s: float) -> dict[str, Any]:
    """Which model answered, and whether it had to be loaded for this request."""
    return {"model": runtime.model_id, "loaded_for_this_request": load_s > 0,
            "model_load_s": round(load_s, 3)}


def ask_code(services: ToolServices, question: str, repo: str | None = None) -> dict[str, Any]:
    """Answer ``question`` with the local model, citing ``path:start-end`` spans.

    Raises:
        ToolInputError: An empty question.
    """
    from greenpair.core.assistant.ask.conversation import Answer, Conversation

    if not question.strip():
        raise ToolInputError("The question is empty.", hint="Ask about the code.")
    root = services.resolve_repo(repo)
    conv = Conversation(root, runtime=services.runtime, index=services.retriever(root),
                        meter=services.meter)
    answer = None
    for event in conv.ask(question):
        if isinstance(event, Answer):
            answer = event
    assert answer is not None  # ask always ends with an Answer
    data = answer.to_json()
    citations = [{"span": str(c), **c.to_json()} for c in answer.citations]
    return {"repo": root.name, "answer": answer.answer, "citations": citations,
            "citations_fallback": answer.citations_fallback,
            "rejected_citations": [str(c) for c in answer.rejected_citations],
            "ttft_s": data["ttft_s"], "energy_j": data["energy_j"],
            "energy_estimated": data["energy_estimated"],
            **_model_state(services.runtime, answer.load_s)}


def _check_options(services: ToolServices, root: Path, check: bool | None) -> Any:
    """The check to run on the draft, or None: ``check=True`` is the agent's yes for this
    call; otherwise the repository's remembered answer (``greenpair config set --repo
    PATH check yes``), never asked here."""
    from greenpair.core.assistant.check import CheckOptions
    from greenpair.core.assistant.check.prefs import load_prefs

    if check is False or (check is None and load_prefs(root).allowed is not True):
        return None
    settings = services.settings
    return CheckOptions(timeout_s=float(getattr(settings, "check_timeout_s", 180)),
                        tries=max(1, int(getattr(settings, "check_tries", 2))),
                        test_command=load_prefs(root).test_command)


def propose_patch(services: ToolServices, task: str, file: str | None = None,
                  repo: str | None = None, check: bool | None = None) -> dict[str, Any]:
    """Draft a unified diff for ``task``, checked by the repository's tests in a scratch
    copy when allowed; never applied to the repository.

    Raises:
        ToolInputError: An empty task.
    """
    from greenpair.core.assistant.check import draft_checked, draft_unchecked
    from greenpair.core.assistant.patch.drafting import PatchDraft, PatchOptions

    if not task.strip():
        raise ToolInputError("The task is empty.", hint="Say what to change, and where.")
    root = services.resolve_repo(repo)
    prefer = _relative(file) if file else None
    was_loaded = getattr(services.runtime, "loaded", True)
    options = PatchOptions(prefer_path=prefer, ambiguity="rank")
    checking = _check_options(services, root, check)
    events = draft_unchecked(root, task, runtime=services.runtime,
                             index=services.retriever(root), meter=services.meter,
                             options=options) if checking is None else \
        draft_checked(root, task, runtime=services.runtime, meter=services.meter,
                      index=services.retriever(root), options=options, check=checking)
    draft = None
    for event in events:
        if isinstance(event, PatchDraft):
            draft = event
    assert draft is not None  # both end with a PatchDraft
    data = draft.to_json()
    ok = draft.error is None
    not_run = {"status": "not checked",
               "reason": "no test or static check ran: pass check=true, or allow checks in "
                         f"this repository (greenpair config set --repo {root} check yes)"}
    return {"repo": root.name, "diff": draft.diff if ok else "", "files": draft.files,
            "valid": ok, "error": draft.error, "applied": False,
            "check": data.get("check", not_run) if ok else {"status": "no diff to check"},
            "format": draft.format, "attempts": draft.attempts,
            "energy_j": data["energy_j"], "model": services.runtime.model_id,
            "loaded_for_this_request": was_loaded is False}


def energy_report(services: ToolServices, days: float = 7) -> dict[str, Any]:
    """What Greenpair's work cost over the last ``days`` (from the local energy ledger).

    Raises:
        ToolInputError: ``days`` out of range.
    """
    if not 0 < days <= 366:
        raise ToolInputError("days must be between 0 and 366.", hint="Try days=7.")
    ledger_of = getattr(services.meter, "ledger", None)
    if not callable(ledger_of):
        raise GreenpairError("This meter keeps no ledger.", hint="Run greenpair energy.")
    since = time.time() - days * 86400
    ledger = ledger_of()
    totals = ledger.totals(since=since).to_json()
    sensor = getattr(services.meter, "sensor", None)
    return {"days": days, "since": since, **totals,
            "sensor": getattr(sensor, "name", None),
            "note": "estimated from CPU time" if totals.get("estimated") else "measured"}

"""Suggestions for the hotkey popup and ``greenpair suggest``: complete, fix or explain.

* ``complete``: fill-in-the-middle when the text holds a cursor marker (``<|cursor|>``
  or ``█``), else a continuation of the text; stopped at the end of the statement or
  block (``suggest_stop``).
* ``fix``: the corrected code only (fences stripped, so Enter can paste it).
* ``explain``: a few sentences.
* ``auto``: cursor marker → complete; text that is not code → explain; code ending
  mid-statement → complete; code with syntax errors → fix; other code → explain.

Green by default: nothing is generated for empty or trivial text (``should_skip``), and
when the runtime can rate its first token (an optional ``first_token_confidence(prompt)``
method returning a probability) a low-confidence completion is skipped. The llama runtime
of 0.3.36 does not expose token probabilities, so that check is off there. Avoided and
run generations are counted (``stats()``), thread-safely, for the UI and energy ledger.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from greenpair.core.assistant.suggest.stopping import CompletionStopper, stopped_stream
from greenpair.core.energy.meter_protocol import EnergyMeter, meter_or_unmetered
from greenpair.core.errors import GreenpairError, ModelError
from greenpair.core.llm.runtime import Message

if TYPE_CHECKING:
    from greenpair.core.llm.runtime import Runtime

CURSOR = "<|cursor|>"
CURSOR_MARKERS = (CURSOR, "█")
MODES = ("auto", "complete", "fix", "explain")
MAX_CONTEXT_CHARS = 6000  # of text on each side of the cursor
MIN_CONFIDENCE = 0.15
_CODE_HINT = re.compile(r"[;{}()\[\]=<>]|^\s*(def|class|import|from|function|return|if|for|"
                        r"while|const|let|var|fn|func|public|private|#include)\b", re.MULTILINE)

_FIX_SYSTEM = ("You fix code. Reply with the corrected code only, in one code block, "
               "keeping everything that is not broken unchanged. No explanations.")
_EXPLAIN_SYSTEM = ("You explain code to a developer in at most 3 short sentences: what it does "
                   "and anything surprising. Plain text, no code blocks.")

class SuggestionCounts:
    """Suggestions generated per mode and generations avoided per reason (one per process,
    held by its ``Services``; the ledger keeps the energy side)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._avoided: Counter[str] = Counter()
        self._generated: Counter[str] = Counter()

    def avoided(self, reason: str) -> None:
        """Count a generation that was not run (and why)."""
        with self._lock:
            self._avoided[reason] += 1

    def generated(self, mode: str) -> None:
        """Count a suggestion that was generated."""
        with self._lock:
            self._generated[mode] += 1

    def stats(self) -> dict[str, object]:
        """``{"generated": {mode: n}, "avoided": {reason: n}, "avoided_total": n}``."""
        with self._lock:
            return {"generated": dict(self._generated), "avoided": dict(self._avoided),
                    "avoided_total": sum(self._avoided.values())}


def split_cursor(text: str) -> tuple[str, str] | None:
    """(prefix, suffix) around the first cursor marker, or None without one."""
    for marker in CURSOR_MARKERS:
        if marker in text:
            prefix, suffix = text.split(marker, 1)
            for other in CURSOR_MARKERS:
                suffix = suffix.replace(other, "")
            return prefix, suffix
    return None


def _strip_markers(text: str) -> str:
    for marker in CURSOR_MARKERS:
        text = text.replace(marker, "")
    return text


def should_skip(text: str) -> str | None:
    """Why generating for ``text`` would be wasted, or None when it is worth it."""
    clean = _strip_markers(text).strip()
    if not clean:
        return "empty"
    if not any(ch.isalnum() for ch in clean):
        return "no code or words"
    if len(clean) < 3:
        return "too short"
    return None


def looks_like_code(text: str) -> bool:
    """A content heuristic for text without a file name."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return False
    hits = sum(1 for ln in lines if _CODE_HINT.search(ln) or ln.startswith(("    ", "\t")))
    return hits / len(lines) >= 0.3


def _language(text: str) -> str | None:
    from greenpair.core.repo.languages import parse_errors

    for language in ("python", "javascript", "typescript", "go", "rust", "java", "c", "cpp"):
        errors = parse_errors(language, text)
        if errors == 0:
            return language
    return None


def choose_mode(text: str) -> str:
    """The mode ``auto`` picks for ``text``."""
    if split_cursor(text) is not None:
        return "complete"
    if not looks_like_code(text):
        return "explain"
    last = text.rstrip(" \t").rsplit("\n", 1)[-1] if not text.endswith("\n") else ""
    if last.strip() and last.rstrip().endswith((":", "(", "{", ",", "=", "[", ".")):
        return "complete"
    if not text.endswith("\n") and last.strip():
        return "complete"
    return "explain" if _language(text) is not None else "fix"


def _low_confidence(runtime: Runtime, prompt: str) -> bool:
    rate = getattr(runtime, "first_token_confidence", None)
    if not callable(rate):
        return False
    try:
        return float(rate(prompt)) < MIN_CONFIDENCE
    except GreenpairError:
        return False


def _fim_prompt(runtime: Runtime, text: str) -> tuple[str, str, str]:
    """(prompt, prefix, suffix) for a completion of ``text``."""
    parts = split_cursor(text)
    prefix, suffix = parts if parts is not None else (text, "")
    prefix, suffix = prefix[-MAX_CONTEXT_CHARS:], suffix[:MAX_CONTEXT_CHARS]
    try:
        return runtime.fim_prompt(prefix, suffix), prefix, suffix
    except ModelError:
        return prefix, prefix, suffix  # no FIM tokens: a plain continuation


def _complete(runtime: Runtime, prompt: str, prefix: str, suffix: str,
              cancel: threading.Event | None, max_tokens: int) -> Iterator[str]:
    stopper = CompletionStopper(prefix, suffix)
    stream = runtime.stream_completion(prompt, max_tokens=max_tokens, temperature=0.0,
                                       cancel=cancel)
    yield from stopped_stream(stream, stopper)


def _strip_fences(pieces: Iterator[str]) -> Iterator[str]:
    """Drop the ``` lines around a code block as the text streams (line-buffered)."""
    pending = ""
    for piece in pieces:
        pending += piece
        while "\n" in pending:
            line, pending = pending.split("\n", 1)
            if not line.lstrip().startswith("```"):
                yield line + "\n"
    if pending and not pending.lstrip().startswith("```"):
        yield pending


def suggest(text: str, mode: str = "auto", *, repo: Path | None = None,
            runtime: Runtime, cancel: threading.Event | None = None,
            max_tokens: int = 160, meter: EnergyMeter | None = None,
            counts: SuggestionCounts | None = None) -> Iterator[str]:
    """Stream a suggestion for ``text`` (nothing at all when ``should_skip`` says so).

    Args:
        text: The selected or copied text; may hold a cursor marker.
        mode: ``auto``, ``complete``, ``fix`` or ``explain``.
        repo: The repository the text comes from (recorded with the energy figures).
        runtime: The model.
        cancel: Set to stop between tokens.
        max_tokens: Longest suggestion.
        meter: Measures the suggestion (unmeasured when None).
        counts: Counts generated and avoided suggestions (not counted when None).
    """
    counts = counts if counts is not None else SuggestionCounts()
    if mode not in MODES:
        raise GreenpairError(f"Unknown suggestion mode {mode!r}.", hint="Use " + ", ".join(MODES))
    reason = should_skip(text)
    if reason is not None:
        counts.avoided(reason)
        return
    chosen = choose_mode(text) if mode == "auto" else mode
    if chosen == "complete":
        prompt, prefix, suffix = _fim_prompt(runtime, text)
        if _low_confidence(runtime, prompt):
            counts.avoided("low confidence")
            return
    with meter_or_unmetered(meter).window("suggestion", mode=chosen,
                            repo=str(repo) if repo else "") as window:
        if chosen == "complete":
            pieces = _complete(runtime, prompt, prefix, suffix, cancel, max_tokens)
        else:
            system = _FIX_SYSTEM if chosen == "fix" else _EXPLAIN_SYSTEM
            chat = runtime.stream_chat([Message("system", system),
                                        Message("user", _strip_markers(text))],
                                       max_tokens=max_tokens * (2 if chosen == "fix" else 1),
                                       temperature=0.1, cancel=cancel)
            pieces = _strip_fences(chat) if chosen == "fix" else chat
        yield from pieces
        window.tokens = runtime.last_stats.completion_tokens
    counts.generated(chosen)

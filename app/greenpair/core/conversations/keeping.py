"""What is kept of a finished answer: the turn, and the cited lines' text at that time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from greenpair.core.assistant.ask.context import Snippet
from greenpair.core.conversations.conversation_store import CitedLines, KeptTurn


def cited_lines(citations: Iterable[Any], shown: Sequence[Snippet]) -> list[CitedLines]:
    """Each citation with the text of its lines as the model was shown them.

    Args:
        citations: Objects with ``path``, ``start_line`` and ``end_line``.
        shown: The snippets the model saw (citations are clamped to them).
    """
    out = []
    for c in citations:
        text = ""
        for s in shown:
            if s.path == c.path and s.start_line <= c.start_line and c.end_line <= s.end_line:
                lines = s.text.splitlines()
                text = "\n".join(lines[c.start_line - s.start_line:c.end_line - s.start_line + 1])
                break
        out.append(CitedLines(c.path, c.start_line, c.end_line, text))
    return out


def kept_turn(question: str, result: Any, *, kind: str = "ask", text: str | None = None,
              stats: str = "", shown: Sequence[Snippet] = ()) -> KeptTurn:
    """A ``KeptTurn`` from core's ``Answer`` or ``PatchDraft`` (``result``).

    Args:
        question: What the user asked.
        result: The finished answer or draft (its tokens, model and energy are kept).
        kind: ``ask`` or ``patch``.
        text: The text shown for the turn (default: ``result.answer``).
        stats: The stats line shown under it.
        shown: The snippets shown to the model (for the citations' text).
    """
    energy = getattr(result, "energy", None)
    return KeptTurn(
        question=question,
        answer=text if text is not None else str(getattr(result, "answer", "")),
        kind=kind,
        citations=cited_lines(getattr(result, "citations", None) or [], shown),
        model=str(getattr(result, "model", "")),
        prompt_tokens=int(getattr(result, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(result, "completion_tokens", 0) or 0),
        joules=getattr(energy, "joules", None),
        estimated=bool(getattr(energy, "estimated", True)),
        stats=stats,
    )

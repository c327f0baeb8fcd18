"""A kept conversation as Markdown: questions, answers and citations as ``path:lines``."""

from __future__ import annotations

import re
from datetime import datetime

from greenpair.core.conversations.conversation_store import KeptConversation

# The model's own closing "Sources: …" line: the checked citations are listed instead.
_SOURCES_LINE = re.compile(r"\n\s*[*_]*Sources?[*_]*\s*:[^\n]*\s*$", re.IGNORECASE)


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def _fence_safe(text: str) -> str:
    return text.rstrip() + "\n"


def to_markdown(conversation: KeptConversation) -> str:
    """The conversation as a Markdown document.

    Each turn is a ``## Question n`` heading, the question quoted, the answer as written
    and a ``Sources`` list of its citations as ``path:start-end``.
    """
    s = conversation.summary
    joules = f"{s.joules:.1f} J" if s.joules else "energy not measured"
    lines = [
        f"# {s.title}",
        "",
        f"- Repository: `{s.repo}`",
        f"- Started: {_when(s.created)} · last answer: {_when(s.updated)}",
        f"- Model: {s.model or 'unknown'} · {s.tokens:,} tokens · {joules}",
        "",
    ]
    for n, turn in enumerate(conversation.turns, 1):
        heading = "Question" if turn.kind == "ask" else "Change requested"
        lines += [f"## {heading} {n}", ""]
        lines += [f"> {q}" if q else ">" for q in turn.question.splitlines()] + [""]
        answer = _SOURCES_LINE.sub("", turn.answer) if turn.citations else turn.answer
        lines += [_fence_safe(answer)]
        if turn.citations:
            lines += ["**Sources:**", ""]
            lines += [f"- `{c.label}`" for c in turn.citations]
            lines += [""]
        if turn.stats:
            lines += [f"*{turn.stats}*", ""]
    return "\n".join(lines).rstrip() + "\n"


def export_filename(conversation: KeptConversation) -> str:
    """A file name for the export: the title's words, then ``.md``."""
    words = "".join(c if c.isalnum() else "-" for c in conversation.summary.title.lower())
    slug = "-".join(w for w in words.split("-") if w)[:60] or "conversation"
    return f"{slug}.md"

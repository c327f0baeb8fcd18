"""Stream filters: stop a generation at a natural end instead of at ``max_tokens``.

Stopping early is the cheapest green measure there is: every token not generated is
energy not spent. Closing the runtime's generator stops it at the next token.
"""

from __future__ import annotations

from collections.abc import Iterator

from greenpair.core.assistant.ask.prompts import SOURCES_PREFIX

# The model starting a new turn of its own means the answer is over.
RUNAWAY_MARKERS = ("\nQuestion:", "\nCode snippets:", "\n### ", "<|im_end|>", "<|endoftext|>")


def stream_with_stop(pieces: Iterator[str], *, early_stop: bool = True) -> Iterator[str]:
    """Pass ``pieces`` through, ending after the ``Sources:`` line when ``early_stop``.

    Args:
        pieces: The runtime's token stream.
        early_stop: Stop once the closing ``Sources:`` line is complete, or when the model
            starts inventing a new question or snippet.

    Yields:
        The answer's text pieces (the last one cut at the natural end).
    """
    if not early_stop:
        yield from pieces
        return
    text = ""
    try:
        for piece in pieces:
            before = len(text)
            text += piece
            end = _natural_end(text)
            if end is not None:
                if end > before:
                    yield text[before:end]
                return
            yield piece
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()


def _natural_end(text: str) -> int | None:
    """Where the answer ends in ``text`` (an index), or None while it goes on."""
    cut = [text.find(m) for m in RUNAWAY_MARKERS if m in text]
    if cut:
        return min(cut)
    at = text.rfind(SOURCES_PREFIX)
    if at >= 0:
        newline = text.find("\n", at)
        if newline >= 0:
            return newline
    return None

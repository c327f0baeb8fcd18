"""Where a code completion naturally ends (used by ``suggest``).

A popup suggestion is worth showing when it finishes the statement or block the user is
in, and no longer: every extra token costs energy and the user's attention. Rules:

* a statement ends with its line once brackets are balanced and the line does not open a
  block (``:``, ``{``, a trailing operator or comma);
* a block (the line opened one) ends at the first line that is not deeper than the line
  that opened it (a closing ``}``/``end`` on that line is kept);
* a blank line ends the suggestion once something was written;
* with a suffix (fill-in-the-middle), the model repeating the suffix's next line ends it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

_OPENERS = (":", "{", "(", "[", ",", "\\", "=", "+", "-", "*", "/", " and", " or", "->", "=>")
_CLOSERS = ("}", "end", ")", "]")
MAX_LINES = 16


def _indent(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip())


def _depth(text: str) -> int:
    depth = 0
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
    return depth


class CompletionStopper:
    """Feed generated pieces; it says what to show and when to stop.

    Args:
        prefix: The text before the cursor.
        suffix: The text after the cursor ("" for a plain continuation).
    """

    def __init__(self, prefix: str, suffix: str = "") -> None:
        self.cursor_line = prefix.rsplit("\n", 1)[-1]
        self.base_indent = _indent(self.cursor_line)
        self.suffix_line = next((ln.strip() for ln in suffix.splitlines() if ln.strip()), "")
        self.text = ""  # accepted output
        self.done = False
        self._pending = ""
        self._opened_block = False
        self._lines = 0

    def feed(self, piece: str) -> str:
        """Accept ``piece``; returns the part to show (maybe empty). Sets ``done`` at the end."""
        if self.done:
            return ""
        self._pending += piece
        shown = ""
        while "\n" in self._pending and not self.done:
            line, self._pending = self._pending.split("\n", 1)
            shown += self._line(line)
        return shown

    def finish(self) -> str:
        """The last partial line (when the stream ended without a newline)."""
        if self.done or not self._pending:
            return ""
        rest, self._pending = self._pending, ""
        if self._lines > 0 and self.suffix_line and rest.strip() == self.suffix_line:
            return ""
        self.text += rest
        return rest

    def _line(self, line: str) -> str:
        """Decide on one complete generated line (the first one continues the cursor line)."""
        if self._lines == 0:
            shown = self._accept(line)
            stripped = (self.cursor_line + line).rstrip()
            self._opened_block = stripped.endswith((":", "{")) or stripped.endswith(" do")
            if not self._opened_block and self._statement_complete(stripped):
                self.done = True
            return shown
        if not line.strip():
            self.done = bool(self.text.strip())
            return "" if self.done else self._accept(line)
        if self.suffix_line and line.strip() == self.suffix_line:
            self.done = True  # the model is re-writing what follows the cursor
            return ""
        indent = _indent(line)
        if indent < self.base_indent:
            self.done = True  # left the enclosing block
            return ""
        if self._opened_block and indent <= self.base_indent:
            self.done = True  # the block ended; keep a closing brace/keyword on its line
            return self._accept(line) if line.strip().startswith(_CLOSERS) else ""
        shown = self._accept(line)
        if not self._opened_block and self._statement_complete(line.rstrip()):
            self.done = True
        if self._lines >= MAX_LINES:
            self.done = True
        return shown

    def _statement_complete(self, last_line: str) -> bool:
        balanced = _depth(self.cursor_line + self.text) <= 0
        return balanced and not last_line.endswith(_OPENERS)

    def _accept(self, line: str) -> str:
        self.text += line + "\n"
        self._lines += 1
        return line + "\n"


def stopped_stream(stream: Iterable[str], stopper: CompletionStopper | None) -> Iterator[str]:
    """What ``stopper`` lets through of a streamed completion (all of it when ``None``),
    then its held-back tail unless it cut the stream; the stream is closed at the end
    (which stops the generation when it was cut or the consumer left)."""
    try:
        for piece in stream:
            shown = stopper.feed(piece) if stopper is not None else piece
            if shown:
                yield shown
            if stopper is not None and stopper.done:
                return
        tail = stopper.finish() if stopper is not None else ""
        if tail:
            yield tail
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()

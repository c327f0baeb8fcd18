"""Turning a stream of token bytes into text pieces, cut at stop strings.

Shared by the backends: a token may end inside a UTF-8 character, and a stop string may
span several tokens, so text that could still become a stop string is held back until the
next token decides.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence


class StopFilter:
    """Emit text until the first stop string, never showing any part of it.

    Args:
        stop: Stop strings; empty strings are ignored.
    """

    def __init__(self, stop: Sequence[str] = ()) -> None:
        self.stops = [s for s in stop if s]
        self._pending = ""
        self.stopped = False
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed_bytes(self, data: bytes) -> str:
        """Add the bytes of one token; returns the text now safe to show."""
        return self.feed(self._decoder.decode(data))

    def feed(self, text: str) -> str:
        """Add text; returns the part now safe to show (empty once stopped)."""
        if self.stopped:
            return ""
        self._pending += text
        if not self.stops:
            out, self._pending = self._pending, ""
            return out
        hits = [i for i in (self._pending.find(s) for s in self.stops) if i >= 0]
        if hits:
            self.stopped = True
            out, self._pending = self._pending[: min(hits)], ""
            return out
        keep = self._held_back()
        cut = len(self._pending) - keep
        out, self._pending = self._pending[:cut], self._pending[cut:]
        return out

    def _held_back(self) -> int:
        """Length of the longest tail of the pending text that starts a stop string."""
        best = 0
        for stop in self.stops:
            for n in range(min(len(stop) - 1, len(self._pending)), best, -1):
                if self._pending.endswith(stop[:n]):
                    best = n
                    break
        return best

    def flush(self) -> str:
        """The held-back text at the end of the stream (when no stop string came)."""
        if self.stopped:
            return ""
        out = self._pending + self._decoder.decode(b"", final=True)
        self._pending = ""
        return out

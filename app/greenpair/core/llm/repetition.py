"""Stop a generation that loops: the same run of tokens again and again.

Small models at low temperature fall into loops ("The function returns a list. The
function returns a list. ..."), and then spend the whole token budget on it; in
``greenpair chat`` with the small model that was 79–113 J per answer. ``RepetitionGuard``
watches the token ids as they stream and says stop once the tail of the reply is one
block repeated: a period of ``min_period``..``max_period`` tokens seen ``min_repeats``
times in a row, over at least ``min_span`` tokens. Code repeats lines, but rarely the
same multi-line block three times in a row, and never on purpose in an answer.

Each check compares two slices of the tail for every candidate period (C-speed list
comparison; ~0.1 ms a token), which is nothing beside a decode step.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RepetitionGuard:
    """Feed token ids; ``feed`` returns True when the reply has started looping.

    Attributes:
        min_period: Shortest repeated block (tokens) that counts.
        max_period: Longest repeated block (tokens) looked for.
        min_repeats: Times the block must occur back to back.
        min_span: Fewest tokens the repeated tail must cover (short blocks need more
            repeats: ``}`` lines at the end of nested code are not a loop).
    """

    min_period: int = 4
    max_period: int = 80
    min_repeats: int = 3
    min_span: int = 48
    tokens: list[int] = field(default_factory=list)
    period: int = 0  # the period found, once looping

    def feed(self, token: int) -> bool:
        """Add one token; True when the tail is a loop (and stays True)."""
        if self.period:
            return True
        self.tokens.append(token)
        t = self.tokens
        n = len(t)
        for p in range(self.min_period, self.max_period + 1):
            span = max(p * self.min_repeats, self.min_span)
            span += (-span) % p  # whole periods
            if span > n:
                if p * self.min_repeats > n:
                    break
                continue
            if t[n - span + p:] == t[n - span:n - p]:
                self.period = p
                return True
        return False

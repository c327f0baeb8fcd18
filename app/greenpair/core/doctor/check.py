"""One line of ``greenpair doctor``'s report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    group: str
    name: str
    status: str  # ok, warn, fail, info
    detail: str
    hint: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return dict(self.__dict__)

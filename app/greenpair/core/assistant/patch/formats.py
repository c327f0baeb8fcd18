"""Which edit format to ask a model for, decided by ``benchmarks/patch.py``.

Measured on 18 small-function tasks of the pytest 9.0.2 sdist (oracle context, greedy,
2026-11-26, ``nice .venv/bin/python benchmarks/patch.py``), first reply:

================== ============== =========== ======= =====
model              format         well-formed applies exact
================== ============== =========== ======= =====
qwen2.5-coder-1.5b search_replace 18/18       17/18   10/18
qwen2.5-coder-1.5b function       18/18       17/18   14/18
qwen2.5-coder-1.5b udiff          18/18        4/18    1/18
qwen2.5-coder-0.5b search_replace  3/18        2/18    0/18
qwen2.5-coder-0.5b function       18/18       13/18    4/18
qwen2.5-coder-0.5b udiff          18/18        0/18    0/18
================== ============== =========== ======= =====

Whole-function rewrites win for both sizes (the 0.5B almost never writes the ``=======``
divider of a SEARCH/REPLACE block; both models get unified-diff context lines wrong).
A rewrite costs tokens in proportion to the function, so long definitions, and code that
is not a definition at all, get SEARCH/REPLACE blocks instead (a cost guard, not measured
for accuracy). So does a request with a failing test's source, for the 1.5B model: on the
8 smallest tasks of ``benchmarks/patch_bench`` (failing-test mode, check + repair), 6 of
its drafts were usable instead of 5, at 28 % less time and energy, and none pasted the
test into the code. The 0.5B model keeps whole functions there: with SEARCH/REPLACE, none
of its 8 drafts was usable (it copied the SEARCH part back), against 4 as functions.
"""

from __future__ import annotations

from collections.abc import Sequence

from greenpair.core.assistant.ask.context import Snippet
from greenpair.core.assistant.patch.edits import definition_name

DEFAULT_FORMAT = "function"
FALLBACK_FORMAT = "search_replace"
LONG_DEFINITION_LINES = 80

# model id -> format, from the table above
PREFERRED_FORMAT: dict[str, str] = {
    "qwen2.5-coder-1.5b": "function",
    "qwen2.5-coder-0.5b": "function",
}

# model id -> format for a request with a failing test's source (others: SEARCH/REPLACE)
WITH_EVIDENCE_FORMAT: dict[str, str] = {
    "qwen2.5-coder-1.5b": "search_replace",
    "qwen2.5-coder-0.5b": "function",
}


def _model(model_id: str) -> str:
    return model_id.removesuffix(".gguf")


def preferred_format(model_id: str) -> str:
    """The edit format measured best for ``model_id`` (the default for others)."""
    return PREFERRED_FORMAT.get(_model(model_id), DEFAULT_FORMAT)


def choose_format(model_id: str, snippets: Sequence[Snippet], *, evidence: bool = False) -> str:
    """The format for this model and the code to change (the top snippet).

    Whole-function rewrites need a definition to rewrite and are capped in length;
    otherwise SEARCH/REPLACE blocks are asked for. They are asked for too when the request
    comes with a failing test's source (``evidence``): whole-function drafts copied the
    test's body into the definition they rewrote, while a SEARCH part must copy the code
    shown (the models measured otherwise keep their format: ``WITH_EVIDENCE_FORMAT``).
    """
    fmt = preferred_format(model_id)
    if fmt != "function" or not snippets:
        return fmt
    if evidence and WITH_EVIDENCE_FORMAT.get(_model(model_id), FALLBACK_FORMAT) != "function":
        return FALLBACK_FORMAT
    top = snippets[0]
    if definition_name(top.text) is None or top.end_line - top.start_line + 1 > \
            LONG_DEFINITION_LINES:
        return FALLBACK_FORMAT
    return fmt

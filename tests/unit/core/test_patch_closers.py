"""Closing lines a SEARCH/REPLACE edit dropped or wrote twice: mended only when the file
then parses (real tree-sitter), marked, and said to the user."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenpair.core.assistant.patch.closers import MENDED, mend_closers, variants
from greenpair.core.assistant.patch.drafting import (
    PatchDraft,
    PatchOptions,
    Status,
    changes_from_reply,
    draft_patch,
)
from greenpair.core.assistant.patch.edits import Edit
from greenpair.core.assistant.retriever import StaticRetriever
from greenpair.core.errors import PatchError
from greenpair.core.types import Chunk, ScoredChunk
from tests.conftest import make_repo
from tests.helpers.fake_runtime import FakeRuntime

JS = "web/checkout.js"
TASK = "show prices in euros with the sign"

DROPPED = f"""{JS}
<<<<<<< SEARCH
export function formatPrice(cents) {{
  return (cents / 100).toFixed(2) + " EUR";
}}
=======
export function formatPrice(cents) {{
  return (cents / 100).toFixed(2) + " €";
>>>>>>> REPLACE
"""

TWICE = f"""{JS}
<<<<<<< SEARCH
  return (cents / 100).toFixed(2) + " EUR";
=======
  return (cents / 100).toFixed(2) + " €";
}}
>>>>>>> REPLACE
"""

EXPECTED_LINE = '+  return (cents / 100).toFixed(2) + " €";'


def _diff_lines(diff: str) -> list[str]:
    return [ln for ln in diff.splitlines()
            if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]


def test_a_dropped_closing_line_is_put_back_from_the_file(tmp_repo: Path) -> None:
    before = (tmp_repo / JS).read_bytes()
    changes, diff = changes_from_reply(tmp_repo, "search_replace", DROPPED, TASK)
    assert _diff_lines(diff) == ['-  return (cents / 100).toFixed(2) + " EUR";', EXPECTED_LINE]
    assert [c.path for c in changes] == [JS]
    assert MENDED in changes[0].methods
    assert (tmp_repo / JS).read_bytes() == before  # nothing written


def test_a_closing_line_written_twice_is_taken_off(tmp_repo: Path) -> None:
    changes, diff = changes_from_reply(tmp_repo, "search_replace", TWICE, TASK)
    assert _diff_lines(diff) == ['-  return (cents / 100).toFixed(2) + " EUR";', EXPECTED_LINE]
    assert MENDED in changes[0].methods


def test_the_same_broken_block_written_twice_is_mended_once(tmp_repo: Path) -> None:
    changes, diff = changes_from_reply(tmp_repo, "search_replace", DROPPED + DROPPED, TASK)
    assert _diff_lines(diff) == ['-  return (cents / 100).toFixed(2) + " EUR";', EXPECTED_LINE]
    assert MENDED in changes[0].methods


def test_a_python_call_whose_closing_parenthesis_was_dropped(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "py", {"conf.py": "SETTINGS = dict(\n    a=1,\n    b=2,\n)\n"})
    reply = "conf.py\n<<<<<<< SEARCH\n    b=2,\n)\n=======\n    b=3,\n>>>>>>> REPLACE\n"
    changes, _ = changes_from_reply(repo, "search_replace", reply, "make b three")
    assert changes[0].after == b"SETTINGS = dict(\n    a=1,\n    b=3,\n)\n"
    assert MENDED in changes[0].methods


def test_an_edit_that_parses_is_left_as_written(tmp_repo: Path) -> None:
    reply = DROPPED.replace('" €";\n>>>', '" €";\n}\n>>>')
    changes, _ = changes_from_reply(tmp_repo, "search_replace", reply, TASK)
    assert MENDED not in changes[0].methods


def test_a_break_closing_lines_cannot_mend_is_still_refused(tmp_repo: Path) -> None:
    broken = f"""{JS}
<<<<<<< SEARCH
  return (cents / 100).toFixed(2) + " EUR";
=======
  return ((cents / 100).toFixed(2) + " €";
>>>>>>> REPLACE
"""
    with pytest.raises(PatchError, match=r"breaks the syntax of web/checkout\.js"):
        changes_from_reply(tmp_repo, "search_replace", broken, TASK)


def test_variants_try_the_fewest_lines_first() -> None:
    edit = Edit("a.js", "  f(\n    x,\n  );\n}\n", "  g(x);\n")
    assert [v.replace for v in variants(edit)] == ["  g(x);\n}\n", "  g(x);\n  );\n}\n"]
    own = Edit("a.js", "  f(x);\n", "  g(x);\n}\n})\n")
    assert [v.replace for v in variants(own)] == ["  g(x);\n}\n", "  g(x);\n"]
    assert variants(Edit("a.py", "", "new file\n")) == []  # a new file has no closers
    assert variants(Edit("a.py", "", "def f(): ...\n", kind="function", symbol="f")) == []


def test_a_variant_is_kept_only_when_it_lowers_the_errors() -> None:
    one = Edit("a.js", "x;\n}\n", "y;\n")
    two = Edit("a.js", "p;\n]\n", "q;\n")

    def errors(edits: list[Edit]) -> int:  # one error per block still without its closer
        return sum(not e.replace.rstrip().endswith(("}", "]")) for e in edits)

    mended = mend_closers([one, two], errors)  # type: ignore[arg-type]
    assert mended is not None
    assert [e.replace for e in mended] == ["y;\n}\n", "q;\n]\n"]
    assert mend_closers([Edit("a.js", "x;\n", "y;\n")], lambda _e: 1) is None  # no closer
    assert mend_closers([one], lambda _e: 0) is None  # nothing to mend


def test_the_draft_says_it_put_closing_lines_back(tmp_repo: Path) -> None:
    retriever = StaticRetriever([ScoredChunk(Chunk(JS, "javascript", 2, 4, "formatPrice"), 1.0)])
    events = list(draft_patch(tmp_repo, TASK, runtime=FakeRuntime([DROPPED]), index=retriever,
                              options=PatchOptions(format="search_replace")))
    draft = events[-1]
    assert isinstance(draft, PatchDraft)
    assert draft.error is None
    assert MENDED in draft.match_methods
    said = [e.text for e in events if isinstance(e, Status)]
    assert any("closing lines" in s for s in said), said

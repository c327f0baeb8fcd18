"""Suggestions: skipping, mode choice, natural ends, counters (FakeRuntime)."""

from __future__ import annotations

import threading

import pytest

from greenpair.core.assistant.suggest import suggestion as sg
from greenpair.core.assistant.suggest.stopping import CompletionStopper
from greenpair.core.errors import GreenpairError
from tests.helpers.fake_runtime import FakeRuntime, split_pieces


@pytest.fixture
def counts() -> sg.SuggestionCounts:
    return sg.SuggestionCounts()


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"), ("  \n\t", "empty"), ("<|cursor|>", "empty"), ("}}", "no code or words"),
    ("x", "too short"), ("def f():", None), ("why?", None),
])
def test_should_skip(text: str, reason: str | None) -> None:
    assert sg.should_skip(text) == reason


def test_skipped_text_generates_nothing_and_is_counted(counts: sg.SuggestionCounts) -> None:
    rt = FakeRuntime(["never"])
    assert list(sg.suggest("   ", runtime=rt, counts=counts)) == []
    assert list(sg.suggest("();", runtime=rt, counts=counts)) == []
    assert rt.prompts == []
    assert counts.stats()["avoided"] == {"empty": 1, "no code or words": 1}
    assert counts.stats()["avoided_total"] == 2


@pytest.mark.parametrize(("text", "mode"), [
    ("def area(r):\n    return 3.14 * r<|cursor|>\n", "complete"),
    ("The build fails on Windows since the last upgrade.", "explain"),
    ("def area(r):\n    return 3.14 * r * r\n", "explain"),
    ("def area(r)\n    return 3.14 * r * r\n", "fix"),
    ("total = compute(", "complete"),
])
def test_choose_mode(text: str, mode: str) -> None:
    assert sg.choose_mode(text) == mode


def test_fim_completion_stops_at_the_end_of_the_statement(counts: sg.SuggestionCounts) -> None:
    rt = FakeRuntime(["* r\n    print('done')\n"])
    text = "def area(r):\n    return 3.14 * r <|cursor|>\n\nprint(area(2))\n"
    assert "".join(sg.suggest(text, runtime=rt, counts=counts)) == "* r\n"
    assert rt.prompts[0] == ("<|fim_prefix|>def area(r):\n    return 3.14 * r <|fim_suffix|>"
                             "\n\nprint(area(2))\n<|fim_middle|>")
    assert counts.stats()["generated"] == {"complete": 1}


def test_block_completion_stops_at_dedent_and_keeps_closing_brace() -> None:
    stop = CompletionStopper("function f(x) {\n  if (x) ")
    out = "".join(stop.feed(p) for p in split_pieces("{\n    return 1;\n  }\n  return 2;\n}\n"))
    assert out == "{\n    return 1;\n  }\n"
    assert stop.done
    py = CompletionStopper("def f(xs):\n    for x in xs")
    out = "".join(py.feed(p) for p in split_pieces(":\n        print(x)\n        y = x\n"
                                                   "    return 1\n"))
    assert out == ":\n        print(x)\n        y = x\n"


def test_completion_stops_when_repeating_the_suffix_or_at_a_blank_line() -> None:
    stop = CompletionStopper("x = [\n", "    3,\n]\n")
    out = "".join(stop.feed(p) for p in split_pieces("    1,\n    2,\n    3,\n]\n"))
    assert out == "    1,\n    2,\n"
    blank = CompletionStopper("items = load(\n")
    out = "".join(blank.feed(p) for p in split_pieces("    path,\n\nprint(items)\n"))
    assert out == "    path,\n"


def test_fix_strips_fences_and_explain_streams(counts: sg.SuggestionCounts) -> None:
    rt = FakeRuntime(["```python\ndef f():\n    return 1\n```", "It returns one."])
    fixed = "".join(sg.suggest("def f()\n  return 1\n", "fix", runtime=rt, counts=counts))
    assert fixed == "def f():\n    return 1\n"
    assert "".join(sg.suggest("def f(): return 1", "explain", runtime=rt, counts=counts)) == "It returns one."
    assert counts.stats()["generated"] == {"fix": 1, "explain": 1}


class _Unsure(FakeRuntime):
    def first_token_confidence(self, prompt: str) -> float:
        return 0.05


def test_low_confidence_completion_is_skipped(counts: sg.SuggestionCounts) -> None:
    rt = _Unsure(["never"])
    assert list(sg.suggest("value = compute(<|cursor|>)", runtime=rt, counts=counts)) == []
    assert rt.prompts == []
    assert counts.stats()["avoided"] == {"low confidence": 1}


def test_cancel_and_bad_mode() -> None:
    rt = FakeRuntime(["a b c d e f g h"], token_delay_s=0.001)
    cancel = threading.Event()
    out = []
    for piece in sg.suggest("Explain this please", "explain", runtime=rt, cancel=cancel):
        out.append(piece)
        cancel.set()
    assert out == ["a"]
    with pytest.raises(GreenpairError, match="Unknown suggestion mode"):
        list(sg.suggest("x = 1", "poem", runtime=rt))


def test_counters_are_thread_safe(counts: sg.SuggestionCounts) -> None:
    threads = [threading.Thread(target=lambda: [counts.avoided("t") for _ in range(500)])
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counts.stats()["avoided"] == {"t": 2000}

"""The chat view: streamed Markdown, highlighted code, citation links, stats, errors."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QUrl

from greenpair.ui.theme import colours
from greenpair.ui.window.chat_view import ChatView
from greenpair.ui.window.render import (
    CitationRef,
    citation_url,
    find_citations,
    markdown_to_html,
    parse_citation_url,
)
from greenpair.ui.window.stats import format_eta, format_stats


@pytest.fixture
def chat(qtbot: Any) -> ChatView:
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    return view


def test_tokens_stream_into_the_answer(chat: ChatView, qtbot: Any) -> None:
    chat.begin_turn("Where is the total computed?")
    for piece in ["The ", "total ", "is ", "computed ", "in ", "`Cart.total_price`."]:
        chat.append_text(piece)
    assert chat.current is not None
    assert chat.current.text == "The total is computed in `Cart.total_price`."
    qtbot.waitUntil(lambda: "Cart.total_price" in chat.plain_text(), timeout=2000)
    assert "Writing… (Esc to stop)" in chat.plain_text()


def test_rendering_is_coalesced_and_no_timer_runs_when_idle(chat: ChatView, qtbot: Any) -> None:
    chat.begin_turn("q")
    chat.append_text("a")
    assert chat._render_timer.isActive()
    qtbot.waitUntil(lambda: not chat._render_timer.isActive(), timeout=2000)
    chat.finish_turn(stats="")
    assert not chat._render_timer.isActive()


def test_markdown_code_blocks_are_highlighted_and_raw_html_is_not_trusted() -> None:
    text = "Use this:\n\n```python\ndef f():\n    return 1\n```\n\n<b>bold?</b>"
    html = markdown_to_html(text, colours())
    assert '<span style="color:' in html  # Pygments inline styles
    assert "&lt;b&gt;bold?&lt;/b&gt;" in html


def test_citations_become_links_and_open_the_code(chat: ChatView, qtbot: Any) -> None:
    chat.begin_turn("Where?")
    chat.append_text("See `src/shop/cart.py:12-20` and web/checkout.js:2.")
    chat.finish_turn(citations=[CitationRef("src/shop/cart.py", 12, 20)],
                     rejected=[CitationRef("web/checkout.js", 2, 2)], stats="1 + 2 tokens")
    html = chat.browser.toHtml()
    assert citation_url(CitationRef("src/shop/cart.py", 12, 20)).split("?")[0] in html
    text = chat.plain_text()
    assert "Sources: [1] src/shop/cart.py:12-20" in text
    assert "Not verified" in text
    assert "web/checkout.js:2" in text
    with qtbot.waitSignal(chat.citation_activated, timeout=1000) as blocker:
        chat.browser.anchorClicked.emit(QUrl(citation_url(CitationRef("src/shop/cart.py", 12, 20))))
    assert blocker.args == ["src/shop/cart.py", 12, 20]
    with qtbot.waitSignal(chat.citation_activated, timeout=1000) as blocker:
        assert chat.open_citation(1)
    assert blocker.args == ["src/shop/cart.py", 12, 20]
    assert not chat.open_citation(2)


def test_stopping_keeps_the_text_and_late_tokens_are_ignored(chat: ChatView) -> None:
    chat.begin_turn("q")
    chat.append_text("partial answer")
    chat.cancel_turn("Stopped.")
    chat.append_text(" late token")
    assert chat.current is not None
    assert chat.current.text == "partial answer"
    assert "Stopped." in chat.plain_text()
    assert not chat.is_streaming


def test_errors_show_the_fix_in_plain_words(chat: ChatView) -> None:
    chat.begin_turn("q")
    chat.fail_turn("No model to answer with.", "Open Settings → Models to pull it.")
    text = chat.plain_text()
    assert "No model to answer with." in text
    assert "Open Settings" in text
    assert "Traceback" not in text


def test_empty_state_explains_the_keys(chat: ChatView) -> None:
    text = chat.plain_text()
    assert "Ask about your code" in text
    assert "Ctrl+Enter" in text
    assert "Esc" in text


def test_citation_parsing_round_trips() -> None:
    ref = CitationRef("dir with space/a.py", 3, 9)
    assert parse_citation_url(citation_url(ref)) == ref
    assert parse_citation_url("https://example.org") is None
    assert find_citations("a.py:3 and b/c.ts:10-12, a.py:3") == [
        CitationRef("a.py", 3, 3), CitationRef("b/c.ts", 10, 12)]


class _Energy:
    joules = 41.2
    estimated = True
    gco2e = 0.00544
    duration_s = 4.1


def test_stats_line_has_every_figure() -> None:
    line = format_stats(prompt_tokens=812, completion_tokens=96, tokens_per_s=31.46,
                        energy=_Energy(), model="qwen2.5-coder-1.5b")
    assert line == ("812 + 96 tokens · 4.1 s · 31.5 tokens/s · 41 J (estimated) · "
                    "0.0054 gCO2e · qwen2.5-coder-1.5b")
    assert "energy not measured" in format_stats(completion_tokens=3, seconds=1.0)
    assert format_stats(prompt_tokens=900, cached_tokens=700, completion_tokens=5).startswith(
        "900 (700 reused) + 5 tokens")
    assert format_eta(None) == ""
    assert format_eta(12.2) == "12 s left"
    assert format_eta(150) == "about 2 min left"

"""Kept conversations in the window: keep → restart → reopen → follow-up, search, export,
rename, delete, delete all, keeping off; answers you can reuse (copy, regenerate, propose
from an answer, citations of a changed file).

The flows use the real index and the real conversation store; the fake runtime gives
known answers where the test reads them, the tiny real model where the test is about
the model (the follow-up of a reopened conversation, the KV cache).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from greenpair.core.conversations.conversation_store import ConversationStore
from tests.gui.window_helpers import type_and_send, wait_answer, wait_indexed
from tests.helpers.fake_runtime import FakeRuntime

CART = "src/shop/cart.py"
ANSWER = ("The total is computed by `Cart.total_price` in src/shop/cart.py:15-18: it sums "
          "price times quantity and adds TAX_RATE.\n\n```python\nsubtotal = sum(price * qty"
          " for _, price, qty in self.items)\n```\n\nSources: src/shop/cart.py:15-18")


def _ask(qtbot: Any, window: Any, text: str) -> None:
    type_and_send(qtbot, window, text)
    wait_answer(qtbot, window)
    assert window.chat.current is not None
    assert window.chat.current.state == "done"


def _open(qtbot: Any, window: Any, repo: Path) -> None:
    assert window.open_repo(repo)
    wait_indexed(qtbot, window)


@pytest.mark.model
def test_keep_restart_reopen_and_follow_up_with_the_tiny_model(
        qtbot: Any, make_window: Any, tmp_repo: Path) -> None:
    window = make_window()
    _open(qtbot, window, tmp_repo)
    results: list[Any] = []
    window.assistant.turn_finished.connect(lambda _turn, result: results.append(result))
    _ask(qtbot, window, "Where is the total price of the cart computed?")
    first = window.chat.current
    [listed] = window.history.store.for_repo(tmp_repo.resolve())
    assert listed.title == "Where is the total price of the cart computed?"
    assert listed.turns == 1
    assert listed.tokens > 0
    assert listed.joules > 0
    assert "smollm2" in listed.model
    assert window.conversations.ids() == [listed.id]
    assert "tok" in window.conversations.list.item(0).text()
    window.shutdown()
    window.close()

    # Restart: a new window on the same data directory lists and reopens it.
    again = make_window()
    _open(qtbot, again, tmp_repo)
    assert again.conversations.ids() == [listed.id]
    assert again.chat.turns == []
    item = again.conversations.list.item(0)
    rect = again.conversations.list.visualItemRect(item)
    qtbot.mouseClick(again.conversations.list.viewport(), Qt.MouseButton.LeftButton,
                     pos=rect.center())
    assert again.history.current_id == listed.id
    [reopened] = again.chat.turns
    assert reopened.question == first.question
    assert reopened.text == first.text
    assert reopened.citations == first.citations
    restored = list(again.assistant.conversation.messages)
    assert [m.role for m in restored][-2:] == ["user", "assistant"]

    # The follow-up continues the same prompt: the kept messages are its prefix.
    again.assistant.turn_finished.connect(lambda _turn, result: results.append(result))
    _ask(qtbot, again, "And where is the tax rate defined?")
    assert again.assistant.conversation.messages[:len(restored)] == restored
    kept = again.history.store.get(listed.id)
    assert [t.question for t in kept.turns] == [first.question,
                                                "And where is the tax rate defined?"]
    assert len(again.conversations.ids()) == 1

    # Reopened in the same session, the runtime still holds the prefix: the KV cache is
    # reused for the next follow-up.
    qtbot.keyClick(again.input, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert again.chat.turns == []
    assert again.history.current_id is None
    assert again.history.open(listed.id)
    _ask(qtbot, again, "Which function applies discount codes?")
    assert results[-1].cached_prompt_tokens > 0
    assert len(again.history.store.get(listed.id).turns) == 3


def test_search_rename_export_delete_and_delete_all(qtbot: Any, make_window: Any,
                                                    tmp_repo: Path, tmp_path: Path) -> None:
    runtime = FakeRuntime([ANSWER, "Discount codes are applied by `apply_discount` in "
                           "src/shop/discounts.py:4-10.", "A third answer about checkout."])
    window = make_window(runtime=runtime)
    _open(qtbot, window, tmp_repo)
    panel = window.conversations
    _ask(qtbot, window, "How is the total computed?")
    qtbot.keyClick(window.input, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    _ask(qtbot, window, "Where are discount codes applied?")
    qtbot.keyClick(window.input, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    _ask(qtbot, window, "What does the checkout page do?")
    assert len(panel.ids()) == 3
    total_id = panel.ids()[-1]

    # Search the text of questions and answers, as the user types.
    qtbot.keyClicks(panel.search, "apply_discount")
    assert len(panel.ids()) == 1
    assert panel.list.item(0).text().startswith("Where are discount codes applied?")
    panel.search.clear()
    qtbot.keyClicks(panel.search, "TAX_RATE")
    assert panel.ids() == [total_id]
    panel.search.clear()
    qtbot.keyClicks(panel.search, "no such words")
    assert panel.ids() == []
    assert panel.note.text() == "No match."
    panel.search.clear()
    assert len(panel.ids()) == 3

    # Rename: the user types a new title.
    offered: list[str] = []
    panel.ask_title = lambda _parent, title: (offered.append(title), "  Cart   totals ")[1]
    panel.select(total_id)
    panel.rename_button.click()
    assert offered == ["How is the total computed?"]
    assert window.history.store.get(total_id).summary.title == "Cart totals"
    assert panel.list.item(panel.ids().index(total_id)).text().startswith("Cart totals\n")

    # Export as Markdown, citations as path:lines.
    target = tmp_path / "exported.md"
    suggested: list[str] = []
    window.history.choose_export_path = lambda _parent, name: (suggested.append(name),
                                                               target)[1]
    panel.select(total_id)
    panel.export_button.click()
    assert suggested == ["cart-totals.md"]
    markdown = target.read_text(encoding="utf-8")
    assert markdown.startswith("# Cart totals\n")
    assert "## Question 1\n\n> How is the total computed?\n" in markdown
    assert "```python\nsubtotal = sum(price * qty for _, price, qty in self.items)\n```" \
        in markdown
    assert "**Sources:**\n\n- `src/shop/cart.py:15-18`\n" in markdown
    assert "Sources: src/shop" not in markdown  # the model's own line is replaced
    assert "Exported to" in window.status_label.text()

    # Delete one (the open conversation: the chat is cleared), then all.
    window.history.open(total_id)
    assert window.chat.turns
    panel.select(total_id)
    panel.delete_button.click()
    assert total_id not in panel.ids()
    assert len(panel.ids()) == 2
    assert window.chat.turns == []
    window.history.confirm = lambda _parent, _text: False
    panel.delete_all_button.click()
    assert len(panel.ids()) == 2
    window.history.confirm = lambda _parent, _text: True
    panel.delete_all_button.click()
    assert panel.ids() == []
    assert ConversationStore().for_repo(tmp_repo.resolve()) == []


def test_keeping_off_keeps_nothing(qtbot: Any, make_window: Any, tmp_repo: Path) -> None:
    window = make_window(runtime=FakeRuntime([ANSWER]), keep_conversations=False)
    _open(qtbot, window, tmp_repo)
    assert "off" in window.conversations.note.text()
    _ask(qtbot, window, "How is the total computed?")
    assert window.conversations.ids() == []
    assert ConversationStore().for_repo(tmp_repo.resolve()) == []


def test_copy_regenerate_and_propose_from_an_answer(qtbot: Any, make_window: Any,
                                                    tmp_repo: Path) -> None:
    runtime = FakeRuntime([ANSWER, ANSWER.replace("adds TAX_RATE", "then adds the tax")],
                          default_reply="")
    window = make_window(runtime=runtime)
    _open(qtbot, window, tmp_repo)
    _ask(qtbot, window, "How is the total computed?")
    html = window.chat.browser.toHtml()
    for link in ("greenpair-act:code/0/0", "greenpair-act:answer/0",
                 "greenpair-act:propose/0", "greenpair-act:regenerate/0"):
        assert link in html
    assert "Copy code" in window.chat.plain_text()
    assert "Propose a change from this answer" in window.chat.plain_text()

    clipboard = QApplication.clipboard()
    window.chat._on_anchor_clicked(_url("greenpair-act:code/0/0"))
    assert clipboard.text() == ("subtotal = sum(price * qty for _, price, qty in self.items)"
                                "\n")
    assert window.status_label.text() == "Code copied."
    window.chat._on_anchor_clicked(_url("greenpair-act:answer/0"))
    assert clipboard.text() == window.chat.turns[0].text

    # Regenerate: the last answer is written again in its place, and the kept
    # conversation holds the new one only.
    before = list(window.assistant.conversation.messages)
    window.chat._on_anchor_clicked(_url("greenpair-act:regenerate/0"))
    wait_answer(qtbot, window)
    assert len(window.chat.turns) == 1
    assert "then adds the tax" in window.chat.turns[0].text
    assert len(window.assistant.conversation.messages) == len(before)
    [kept] = window.history.store.for_repo(tmp_repo.resolve())
    turns = window.history.store.get(kept.id).turns
    assert len(turns) == 1
    assert "then adds the tax" in turns[0].answer

    # Propose a change from the answer: a patch is drafted from its text.
    window.chat._on_anchor_clicked(_url("greenpair-act:propose/0"))
    wait_answer(qtbot, window)
    assert window.chat.turns[-1].kind == "patch"
    assert "Make the change this answer describes." in window.chat.turns[-1].question
    assert window.side.currentWidget() is window.diff


def test_a_citation_of_a_changed_file_opens_the_nearest_match(
        qtbot: Any, make_window: Any, tmp_repo: Path) -> None:
    window = make_window(runtime=FakeRuntime([ANSWER]))
    _open(qtbot, window, tmp_repo)
    _ask(qtbot, window, "How is the total computed?")
    turn = window.chat.current
    ref = next(r for r in turn.citations if r.path == CART)
    old = window.chat.cited_text(ref.path, ref.start_line, ref.end_line)
    assert old
    assert "total_price" in old

    # The user edits the file: five lines above, one cited line changed.
    path = tmp_repo / CART
    text = path.read_text()
    edited = text.replace("quantity must be positive", "quantity must be 1 or more")
    assert "quantity must be positive" in old
    path.write_text("# edited\n" * 5 + edited)
    window.open_citation(ref.path, ref.start_line, ref.end_line)
    assert window.side.currentWidget() is window.viewer
    assert "changed since the answer" in window.viewer.changed_note
    assert window.viewer.start_line == ref.start_line + 5
    assert "nearest match" in window.viewer.changed_note

    # Moved but unchanged: the viewer says the lines moved.
    path.write_text("# edited\n" * 2 + text)
    window.open_citation(ref.path, ref.start_line, ref.end_line)
    assert window.viewer.start_line == ref.start_line + 2
    assert "moved" in window.viewer.changed_note


def _url(text: str) -> Any:
    from PySide6.QtCore import QUrl

    return QUrl(text)


def test_the_settings_dialog_turns_keeping_off(qtbot: Any, make_window: Any,
                                               tmp_repo: Path) -> None:
    from greenpair.ui.settings.dialog import SettingsDialog

    window = make_window(runtime=FakeRuntime([ANSWER]))
    _open(qtbot, window, tmp_repo)
    dialog = SettingsDialog(window.settings, window)
    qtbot.addWidget(dialog)
    assert dialog.keep_conversations.isChecked()
    dialog.keep_conversations.setChecked(False)
    window.apply_settings(dialog.settings())
    assert window.settings.keep_conversations is False
    assert "off" in window.conversations.note.text()
    _ask(qtbot, window, "How is the total computed?")
    assert ConversationStore().for_repo(tmp_repo.resolve()) == []

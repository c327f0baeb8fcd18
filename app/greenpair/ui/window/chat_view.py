"""The conversation: questions, answers streaming token by token, citations, stats.

Each answer is Markdown rendered to rich text (``render.markdown_to_html``) with
highlighted code blocks. While an answer streams, the text is kept at once and the view
is re-rendered at most every ``RENDER_INTERVAL_MS`` (a single-shot timer that only runs
while tokens arrive: nothing fires when idle). Citations are links; the n-th citation of
the last answer also opens with Alt+n.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from PySide6.QtCore import QEvent, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QTextBrowser, QVBoxLayout, QWidget

from greenpair.ui.theme import Colours, colours
from greenpair.ui.window import render
from greenpair.ui.window.render import CitationRef

RENDER_INTERVAL_MS = 40
ACTION_SCHEME = "greenpair-act"


@dataclass
class Turn:
    """One question and its answer (or patch draft).

    ``state`` is ``streaming``, ``done``, ``cancelled`` or ``error``. ``citations`` is None
    until the validated list arrives.
    """

    question: str
    kind: str = "ask"  # ask | patch
    text: str = ""
    state: str = "streaming"
    citations: list[CitationRef] | None = None
    rejected: list[CitationRef] = field(default_factory=list)
    fallback: bool = False
    stats: str = ""
    status: str = ""  # a progress note while streaming (patch: "checking the edit…")
    error: str = ""
    hint: str = ""
    sources: dict[str, str] = field(default_factory=dict)  # citation label -> cited text
    regenerated: bool = False  # a second try of the previous question

    def shown_citations(self) -> list[CitationRef]:
        """The validated citations, or those written so far while streaming."""
        if self.citations is not None:
            return self.citations
        return render.find_citations(self.text)


class ChatView(QWidget):
    """A read-only transcript of the conversation.

    Signals:
        citation_activated(str, int, int): A citation was clicked (path, start, end).
        copied(str): Text was copied to the clipboard (what: "code", "answer").
        propose_requested(int): "Propose a change from this answer" (the turn's index).
        regenerate_requested(): "Regenerate" under the last answer.
    """

    citation_activated = Signal(str, int, int)
    copied = Signal(str)
    propose_requested = Signal(int)
    regenerate_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.turns: list[Turn] = []
        self._browser = QTextBrowser(self)
        self._browser.setOpenLinks(False)
        self._browser.setOpenExternalLinks(False)
        self._browser.setAccessibleName("Conversation")
        self._browser.setAccessibleDescription(
            "Questions and answers. Citations are links that open the cited code."
        )
        self._browser.anchorClicked.connect(self._on_anchor_clicked)
        self._browser.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._browser)
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(RENDER_INTERVAL_MS)
        self._render_timer.timeout.connect(self.render_now)
        self.render_now()

    # -- the transcript -------------------------------------------------------------

    @property
    def browser(self) -> QTextBrowser:
        """The text browser showing the transcript."""
        return self._browser

    @property
    def current(self) -> Turn | None:
        """The last turn, if any."""
        return self.turns[-1] if self.turns else None

    @property
    def is_streaming(self) -> bool:
        """Whether the last turn is still being written."""
        return bool(self.turns) and self.turns[-1].state == "streaming"

    def begin_turn(self, question: str, kind: str = "ask") -> Turn:
        """Start a turn: the question is shown with an empty, streaming answer."""
        turn = Turn(question=question, kind=kind)
        self.turns.append(turn)
        self.render_now(scroll_to_end=True)
        return turn

    def append_text(self, piece: str) -> None:
        """Add streamed text to the current answer."""
        turn = self.current
        if turn is None or turn.state != "streaming":
            return
        turn.text += piece
        self._schedule_render()

    def set_status(self, text: str) -> None:
        """A short progress note under the streaming answer."""
        turn = self.current
        if turn is not None and turn.state == "streaming":
            turn.status = text
            self._schedule_render()

    def finish_turn(
        self,
        *,
        text: str | None = None,
        citations: list[CitationRef] | None = None,
        rejected: list[CitationRef] | None = None,
        fallback: bool = False,
        stats: str = "",
    ) -> None:
        """The answer is complete: show its checked citations and its stats line."""
        turn = self.current
        if turn is None:
            return
        if text is not None:
            turn.text = text
        turn.citations = list(citations) if citations is not None else None
        turn.rejected = list(rejected or [])
        turn.fallback = fallback
        turn.stats = stats
        turn.status = ""
        turn.state = "done"
        self.render_now()

    def cancel_turn(self, note: str = "Stopped.") -> None:
        """The user stopped the answer: keep what was written, mark it stopped."""
        turn = self.current
        if turn is None or turn.state != "streaming":
            return
        turn.state = "cancelled"
        turn.status = note
        self.render_now()

    def fail_turn(self, message: str, hint: str = "") -> None:
        """The answer failed: show why and the fix, in plain words."""
        turn = self.current
        if turn is None:
            return
        turn.state = "error"
        turn.error = message
        turn.hint = hint
        turn.status = ""
        self.render_now()

    def clear(self) -> None:
        """Forget every turn."""
        self.turns.clear()
        self.render_now()

    def load_turns(self, turns: list[Turn]) -> None:
        """Show finished turns (a reopened conversation), scrolled to the end."""
        self.turns = list(turns)
        self.render_now(scroll_to_end=True)

    def drop_last(self) -> Turn | None:
        """Remove the last turn (to regenerate it); returns it."""
        turn = self.turns.pop() if self.turns else None
        self.render_now(scroll_to_end=True)
        return turn

    def cited_text(self, path: str, start: int, end: int) -> str:
        """The text the cited lines had when the answer was written ("" if not known)."""
        label = CitationRef(path, start, end).label
        for turn in reversed(self.turns):
            if label in turn.sources:
                return turn.sources[label]
        return ""

    def copy_answer(self, index: int = -1) -> bool:
        """Copy an answer's Markdown to the clipboard (default: the last one)."""
        if not self.turns or not -len(self.turns) <= index < len(self.turns):
            return False
        QGuiApplication.clipboard().setText(self.turns[index].text)
        self.copied.emit("answer")
        return True

    def copy_code(self, index: int, block: int) -> bool:
        """Copy the ``block``-th code block of turn ``index`` to the clipboard."""
        if not 0 <= index < len(self.turns):
            return False
        blocks = render.code_blocks(self.turns[index].text)
        if not 0 <= block < len(blocks):
            return False
        QGuiApplication.clipboard().setText(blocks[block])
        self.copied.emit("code")
        return True

    def citations(self) -> list[CitationRef]:
        """Citations of the last turn that has some."""
        for turn in reversed(self.turns):
            refs = turn.shown_citations()
            if refs:
                return refs
        return []

    def open_citation(self, number: int) -> bool:
        """Open the ``number``-th (1-based) citation of the last answer.

        Returns:
            False when there is no such citation.
        """
        refs = self.citations()
        if not 1 <= number <= len(refs):
            return False
        ref = refs[number - 1]
        self.citation_activated.emit(ref.path, ref.start_line, ref.end_line)
        return True

    def plain_text(self) -> str:
        """The transcript as plain text (what a screen reader gets)."""
        return self._browser.toPlainText()

    # -- rendering ------------------------------------------------------------------

    def _schedule_render(self) -> None:
        if not self._render_timer.isActive():
            self._render_timer.start()

    def render_now(self, scroll_to_end: bool = False) -> None:
        """Re-render the transcript, keeping the reader's scroll position."""
        self._render_timer.stop()
        bar = self._browser.verticalScrollBar()
        at_end = scroll_to_end or bar.value() >= bar.maximum() - 4
        old = bar.value()
        c = colours(self.palette())
        self._browser.document().setDefaultStyleSheet(
            f"a {{ color: {c.link}; }} pre {{ font-family: monospace; }}"
        )
        self._browser.setHtml(self._html(c))
        bar.setValue(bar.maximum() if at_end else old)

    def _html(self, c: Colours) -> str:
        if not self.turns:
            return _empty_state(c)
        return "".join(_turn_html(turn, i, i == len(self.turns) - 1, c)
                       for i, turn in enumerate(self.turns))

    def changeEvent(self, event: QEvent) -> None:
        """Re-render when the system switches between light and dark."""
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self.render_now()
        super().changeEvent(event)

    def _on_anchor_clicked(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith(ACTION_SCHEME + ":"):
            self._on_action(text[len(ACTION_SCHEME) + 1:].split("/"))
            return
        ref = render.parse_citation_url(text)
        if ref is None:
            found = render.find_citations(text)
            if len(found) == 1 and url.scheme() in ("", "file"):
                ref = found[0]
        if ref is not None:
            self.citation_activated.emit(ref.path, ref.start_line, ref.end_line)
        elif url.scheme() in ("http", "https"):
            QDesktopServices.openUrl(url)  # the user's own click: their browser


    def _on_action(self, parts: list[str]) -> None:
        try:
            action, index = parts[0], int(parts[1])
            block = int(parts[2]) if len(parts) > 2 else -1
        except (IndexError, ValueError):
            return
        if action == "code":
            self.copy_code(index, block)
        elif action == "answer":
            self.copy_answer(index)
        elif action == "propose" and 0 <= index < len(self.turns):
            self.propose_requested.emit(index)
        elif action == "regenerate" and index == len(self.turns) - 1:
            self.regenerate_requested.emit()


def _actions_html(index: int, last: bool) -> str:
    links = [(f"answer/{index}", "Copy answer"),
             (f"propose/{index}", "Propose a change from this answer")]
    if last:
        links.append((f"regenerate/{index}", "Regenerate"))
    return '<p style="font-size:small;">' + " &nbsp;·&nbsp; ".join(
        f'<a href="{ACTION_SCHEME}:{target}">{label}</a>' for target, label in links) + "</p>"


def _empty_state(c: Colours) -> str:
    return (
        f'<div style="margin: 24px;"><h2>Ask about your code</h2>'
        f'<p style="color:{c.muted};">Greenpair answers from the repository you picked, '
        f"with citations to the exact lines, and drafts changes you can review. "
        f"Everything runs on this computer: your code never leaves it.</p>"
        f'<table cellpadding="3" style="color:{c.muted};">'
        f"<tr><td><b>Ctrl+Enter</b></td><td>send the question</td></tr>"
        f"<tr><td><b>Ctrl+Shift+Enter</b></td><td>propose a change instead</td></tr>"
        f"<tr><td><b>Esc</b></td><td>stop the answer</td></tr>"
        f"<tr><td><b>Ctrl+L</b></td><td>go to the question box</td></tr>"
        f"<tr><td><b>Alt+1 … Alt+9</b></td><td>open a citation of the last answer</td></tr>"
        f"<tr><td><b>Ctrl+O</b></td><td>open another repository</td></tr>"
        f"<tr><td><b>Ctrl+,</b></td><td>settings: models, threads, energy, privacy</td></tr>"
        f"</table></div>"
    )


_SOURCES_LINE = re.compile(r"\n\s*[*_]*Sources?[*_]*\s*:[^\n]*\s*$", re.IGNORECASE)


def _turn_html(turn: Turn, index: int, last: bool, c: Colours) -> str:
    who = "You asked" if turn.kind == "ask" else "You asked for a change"
    parts = [
        f'<table width="100%" cellpadding="8" cellspacing="0" '
        f'style="background-color:{c.code_bg}; margin-top:10px; margin-bottom:6px;">'
        f'<tr><td><span style="color:{c.muted};">{who}</span><br>'
        f"{render.escape(turn.question)}</td></tr></table>",
    ]
    allowed = set(turn.citations) if turn.citations is not None else None
    text = turn.text
    if turn.citations:
        # The checked sources are listed below; the model's own line would repeat them.
        text = _SOURCES_LINE.sub("", text)
    if text:
        copy = f"{ACTION_SCHEME}:code/{index}" if turn.state != "streaming" else ""
        parts.append(render.markdown_to_html(text, c, allowed, copy_links=copy))
    elif turn.state == "streaming":
        parts.append(f'<p style="color:{c.muted};"><i>Reading the code and thinking…</i></p>')
    if turn.state == "streaming":
        note = turn.status or "Writing… (Esc to stop)"
        parts.append(f'<p style="color:{c.muted};"><i>{render.escape(note)}</i></p>')
    elif turn.state == "cancelled":
        parts.append(f'<p style="color:{c.muted};"><i>{render.escape(turn.status)}</i></p>')
    elif turn.state == "error":
        hint = f"<br>{render.escape(turn.hint)}" if turn.hint else ""
        parts.append(
            f'<table width="100%" cellpadding="8" style="background-color:{c.error_bg};">'
            f'<tr><td style="color:{c.error_fg};"><b>{render.escape(turn.error)}</b>{hint}'
            f"</td></tr></table>"
        )
    refs = turn.citations if turn.citations is not None else []
    if refs:
        links = " &nbsp; ".join(
            f'<a href="{render.citation_url(r)}">[{i}] {render.escape(r.label)}</a>'
            + (f' <span style="color:{c.muted};">(Alt+{i})</span>' if last and i <= 9 else "")
            for i, r in enumerate(refs, 1)
        )
        note = " (the most relevant code used; the model cited none)" if turn.fallback else ""
        parts.append(f"<p><b>Sources{note}:</b> {links}</p>")
    if turn.rejected:
        names = ", ".join(render.escape(r.label) for r in turn.rejected)
        parts.append(f'<p style="color:{c.muted};">Not verified (not in the code the model '
                     f"was shown): {names}</p>")
    if turn.stats:
        parts.append(f'<p style="color:{c.muted}; font-size:small;">'
                     f"{render.escape(turn.stats)}</p>")
    if turn.state == "done" and turn.text and turn.kind == "ask":
        parts.append(_actions_html(index, last))
    return "".join(parts)

"""Questions and patches: runs core's ``Conversation.ask`` and its patch drafting in workers.

Tokens go to the chat view as they arrive; the final ``Answer`` brings the checked
citations and the stats line. Stop (Esc) marks the answer stopped at once and cancels
the worker (the model stops at its next token). Each worker's events are tied to its own
turn, so late tokens of a stopped answer never land in the next one.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from greenpair.core.config import Settings
from greenpair.core.services import Services
from greenpair.ui.message_bridge import UserMessage, describe_error
from greenpair.ui.review.diff_view import DiffView
from greenpair.ui.window.chat_view import ChatView, Turn
from greenpair.ui.window.render import CitationRef
from greenpair.ui.window.stats import format_stats
from greenpair.ui.workers import CoreWorker, forward_error, start_call, start_worker

log = logging.getLogger(__name__)


def _refs(citations: Any) -> list[CitationRef]:
    return [CitationRef(c.path, c.start_line, c.end_line) for c in citations or []]


class AssistantController(QObject):
    """Drives the chat view and the diff view from core's assistant.

    Args:
        chat: Where answers stream.
        diff: Where drafted patches are reviewed.
        settings: Passed to core (model, threads…).
        runtime: A model runtime to use (tests); None: the services' runtime.
        services: The process's services (meter, runtime manager, indexes).

    Signals:
        busy_changed(bool): A generation started or ended.
        problem(object): A ``UserMessage`` for an error the user can fix.
        patch_ready(): A drafted diff is shown in the diff view.
        turn_finished(object, object): A turn ended well (the chat's ``Turn``, core's
            ``Answer`` or ``PatchDraft``); the history keeps it.
        conversation_reset(): The next question starts a new conversation.
    """

    busy_changed = Signal(bool)
    problem = Signal(object)
    patch_ready = Signal()
    turn_finished = Signal(object, object)
    conversation_reset = Signal()

    def __init__(self, chat: ChatView, diff: DiffView, settings: Settings,
                 runtime: Any = None, parent: QObject | None = None, *,
                 services: Services) -> None:
        super().__init__(parent)
        self.chat, self.diff = chat, diff
        self.settings = settings
        self.runtime = runtime
        self.services = services
        self.repo: Path | None = None
        self.index: Any = None
        self.conversation: Any = None
        self.draft: Any = None
        self.patch_options: Any = None  # core's PatchOptions (None: its defaults)
        self.meter: Any = None  # an EnergyMeter for tests (None: the services. meter)
        self._task = ""
        self._worker: CoreWorker | None = None
        self._started = 0.0
        self._before_last: dict[str, Any] | None = None  # the state before the last answer
        diff.apply_requested.connect(self.apply)
        diff.discard_requested.connect(self.discard)
        diff.undo_requested.connect(self.undo)
        diff.check_requested.connect(self.check_now)

    def _model(self) -> Any:
        """The given runtime, else the services' runtime for the settings in force."""
        return self.runtime if self.runtime is not None else self.services.runtime()

    def _index(self) -> Any:
        """The window's index, else the repository's index from the services."""
        if self.index is not None:
            return self.index
        assert self.repo is not None  # a request is only made in an open repository
        return self.services.index(self.repo)

    @property
    def busy(self) -> bool:
        """Whether an answer or a patch is being generated."""
        return self._worker is not None

    def set_repo(self, repo: Path | None) -> None:
        """A new repository: stop, forget the conversation and the draft."""
        self.stop()
        self.repo, self.index, self.conversation, self.draft = repo, None, None, None
        self.diff.clear()
        self.conversation_reset.emit()

    def set_index(self, index: Any) -> None:
        """The repository's open index (shared with the index controller)."""
        self.index = index

    def set_settings(self, settings: Settings) -> None:
        """New settings: the next question starts a fresh conversation."""
        self.settings = settings
        state = self.conversation.state() if self.conversation is not None else None
        self.conversation = None
        if state is not None:  # the same conversation goes on with the new model
            self._new_conversation().restore(state)

    def new_conversation(self) -> None:
        """Forget earlier turns."""
        self.stop()
        self.conversation = None
        self.chat.clear()
        self.conversation_reset.emit()

    def _new_conversation(self) -> Any:
        from greenpair.core.assistant.ask.conversation import Conversation

        assert self.repo is not None
        self.conversation = Conversation(self.repo, runtime=self._model(),
                                         index=self._index(), meter=self.services.meter)
        return self.conversation

    def restore(self, kept: Any) -> bool:
        """Reopen a kept conversation (core's ``KeptConversation``): its turns are shown
        and the next question is a follow-up with the context rebuilt."""
        if self.repo is None:
            return False
        self.stop()
        self._new_conversation().restore(kept.state)
        self._before_last = None
        turns = []
        for t in kept.turns:
            refs = [CitationRef(c.path, c.start_line, c.end_line) for c in t.citations]
            turns.append(Turn(question=t.question, kind=t.kind, text=t.answer, state="done",
                              citations=refs, stats=t.stats,
                              sources={c.label: c.text for c in t.citations if c.text}))
        self.chat.load_turns(turns)
        return True

    def regenerate(self) -> bool:
        """Ask the last question again, as if the last answer had not been written."""
        last = self.chat.current
        if self.busy or last is None or last.kind != "ask" or last.state == "streaming":
            return False
        if self.conversation is not None:
            if self._before_last is not None:
                self.conversation.restore(self._before_last)
            else:  # reopened: drop the last question and answer from the prefix
                state = self.conversation.state()
                state["messages"] = state["messages"][:-2]
                self.conversation.restore(state)
        self.chat.drop_last()
        return self.ask(last.question, regenerated=True)

    def propose_from(self, index: int, *, open_file: str | None = None) -> bool:
        """Draft a patch doing what answer ``index`` of the chat describes."""
        if not 0 <= index < len(self.chat.turns):
            return False
        turn = self.chat.turns[index]
        answer = turn.text if len(turn.text) <= 2000 else turn.text[:2000] + "…"
        return self.propose(f"Make the change this answer describes.\n\nQuestion: "
                            f"{turn.question}\n\nAnswer:\n{answer}", open_file=open_file)

    # -- asking --------------------------------------------------------------------------

    def ask(self, question: str, *, regenerated: bool = False) -> bool:
        """Ask ``question``; returns False when nothing was started.

        ``regenerated`` marks a second try of the last question (the history replaces
        the kept answer instead of adding one).
        """
        if self.busy or self.repo is None or not question.strip():
            return False
        if self.conversation is None:
            self._new_conversation()
        self._before_last = self.conversation.state()
        turn = self.chat.begin_turn(question, "ask")
        turn.regenerated = regenerated
        self._run(turn, self.conversation.ask, question)
        return True

    def propose(self, task: str, *, open_file: str | None = None) -> bool:
        """Draft a patch for ``task``; returns False when nothing was started.

        ``open_file`` is the file the user is looking at (repository-relative): when the
        task names a definition found in several files, the one in that file is edited.
        """
        if self.busy or self.repo is None or not task.strip():
            return False
        from greenpair.core.assistant.check import draft_unchecked
        from greenpair.core.assistant.patch.drafting import PatchOptions

        options = self.patch_options
        if open_file:
            options = dataclasses.replace(options or PatchOptions(), prefer_path=open_file)

        self.draft = None
        self._task = task
        self.diff.clear()
        self.diff.set_state("drafting")
        self.diff.show_status("Drafting…")
        turn = self.chat.begin_turn(task, "patch")
        check = self._check_options()
        if check is None:
            self._run(turn, draft_unchecked, self.repo, task, runtime=self._model(),
                      index=self._index(), options=options, meter=self._meter())
        else:
            from greenpair.core.assistant.check import draft_checked

            self._run(turn, draft_checked, self.repo, task, runtime=self._model(),
                      meter=self._meter(), index=self._index(), options=options, check=check)
        return True

    def _meter(self) -> Any:
        return self.meter if self.meter is not None else self.services.meter

    def _check_options(self, *, asked: bool = False) -> Any:
        """core's ``CheckOptions`` when checks are allowed in this repository, else None."""
        from greenpair.core.assistant.check import CheckOptions
        from greenpair.core.assistant.check.prefs import load_prefs

        assert self.repo is not None
        prefs = load_prefs(self.repo)
        if not (prefs.allowed or asked):
            return None
        return CheckOptions(timeout_s=float(self.settings.check_timeout_s),
                            tries=max(1, self.settings.check_tries),
                            test_command=prefs.test_command)

    def _show_check(self, draft: Any) -> None:
        from greenpair.core.assistant.check.prefs import load_prefs

        check = getattr(draft, "check", None)
        if check is not None:
            self.diff.set_check(check.summary, status=check.status, output=check.output,
                                command=check.command)
        elif self.repo is not None and load_prefs(self.repo).allowed is False:
            self.diff.set_check("not checked: checks are off for this repository")
        else:
            self.diff.set_check("Not checked. Running the tests runs this repository's code "
                                "and the change in a scratch copy, without network.",
                                offer=True)

    def check_now(self) -> None:
        """Check the shown draft (the user said yes: remembered for this repository)."""
        if self.draft is None or self.repo is None or self.busy:
            return
        from greenpair.core.assistant.check import check_draft
        from greenpair.core.assistant.check.prefs import load_prefs, save_prefs

        prefs = load_prefs(self.repo)
        prefs.allowed = True
        save_prefs(self.repo, prefs)
        self.diff.set_check("Checking the change in a scratch copy…")
        draft = self.draft
        start_call(check_draft, self.repo, draft, meter=self._meter(), task=self._task,
                   options=self._check_options(asked=True), forward_errors=False,
                   on_return=lambda result: self._on_checked(draft, result),
                   on_error=lambda exc: self._on_patch_error("check", exc))

    def _on_checked(self, draft: Any, result: Any) -> None:
        if draft is not self.draft:
            return  # a newer draft is shown
        draft.check = result
        self._show_check(draft)

    def stop(self) -> None:
        """Stop the answer now (Esc)."""
        worker, self._worker = self._worker, None
        if worker is None:
            return
        worker.quit()
        self.chat.cancel_turn("Stopped. (What was written so far is kept.)")
        if self.diff.state == "drafting":
            self.diff.set_state("empty")
            self.diff.show_status("Stopped: no change was drafted.")
        self.busy_changed.emit(False)

    def _run(self, turn: Turn, func: Any, *args: Any, **kwargs: Any) -> None:
        self._started = time.perf_counter()
        worker = start_worker(func, *args, pass_cancel=True, forward_errors=False,
                              on_yield=lambda event: self._on_event(turn, event),
                              on_error=lambda exc: self._on_error(turn, exc),
                              on_finish=lambda: self._on_finish(worker), **kwargs)
        self._worker = worker
        self.busy_changed.emit(True)

    def _on_finish(self, worker: CoreWorker) -> None:
        if self._worker is worker:
            self._worker = None
            if self.chat.current is not None and self.chat.current.state == "streaming":
                self.chat.cancel_turn("The answer ended without a result.")
            self.busy_changed.emit(False)

    def _on_event(self, turn: Turn, event: Any) -> None:
        if turn is not self.chat.current or turn.state != "streaming":
            return  # a late event of a stopped answer
        kind = type(event).__name__
        if kind == "Token":
            turn.status = ""  # "waiting for the index…" is over once text arrives
            self.chat.append_text(event.text)
        elif kind in {"Status", "Sources"}:  # Sources: the code about to be read
            self.chat.set_status(event.text)
        elif kind == "Answer":
            self._on_answer(event)
        elif kind == "PatchDraft":
            self._on_draft(event)

    def _stats(self, event: Any) -> str:
        energy = getattr(event, "energy", None)
        seconds = getattr(energy, "duration_s", None) or (time.perf_counter() - self._started)
        return format_stats(prompt_tokens=event.prompt_tokens,
                            completion_tokens=event.completion_tokens,
                            cached_tokens=getattr(event, "cached_prompt_tokens", 0),
                            seconds=seconds,
                            tokens_per_s=event.tokens_per_s, energy=energy, model=event.model)

    def _on_answer(self, answer: Any) -> None:
        from greenpair.core.conversations.keeping import cited_lines

        turn = self.chat.current
        self.chat.finish_turn(text=answer.answer or "(The model gave no answer.)",
                              citations=_refs(answer.citations),
                              rejected=_refs(getattr(answer, "rejected_citations", [])),
                              fallback=bool(getattr(answer, "citations_fallback", False)),
                              stats=self._stats(answer))
        if turn is not None:
            shown = self.conversation.shown if self.conversation is not None else []
            turn.sources = {c.label: c.text for c in cited_lines(answer.citations, shown)
                            if c.text}
            self.turn_finished.emit(turn, answer)

    def _on_draft(self, draft: Any) -> None:
        self.draft = draft
        stats = self._stats(draft)
        if draft.error or not draft.diff.strip():
            reason = draft.error or "The model's reply held no usable edit."
            self.chat.finish_turn(
                text=f"**No change could be drafted.** {reason}\n\nTry describing the change "
                     "with the names of the functions or files to edit, or use a bigger model "
                     "in Settings.",
                citations=[], stats=stats)
            self.diff.set_draft("", [])
            self.diff.show_status(f"No change could be drafted: {reason}", error=True)
            return
        files = ", ".join(f"`{f}`" for f in draft.files)
        check = getattr(draft, "check", None)
        checked = f" Checked: {check.summary}." if check is not None else ""
        self.chat.finish_turn(
            text=f"Drafted a change to {files} ({draft.format} edit).{checked} Review the "
                 "diff, then **Apply** or **Discard**.",
            citations=[], stats=stats)
        self.diff.set_draft(draft.diff, list(draft.files))
        self._show_check(draft)
        self.diff.show_status("Not applied yet. Apply writes it to your files; Undo restores them.")
        self.patch_ready.emit()
        if self.chat.current is not None:
            self.turn_finished.emit(self.chat.current, draft)

    def _on_error(self, turn: Turn, exc: BaseException) -> None:
        if type(exc).__name__ == "Cancelled":
            return
        message = describe_error(exc)
        if message is None:
            forward_error(exc)  # a bug: logged, crash dialog with the log path
            message = UserMessage("error", "Something went wrong while answering.",
                                  "The details were saved to the log; try again.")
        else:
            self.problem.emit(message)
        if turn is self.chat.current:
            self.chat.fail_turn(message.text, message.hint)
        if turn.kind == "patch" and self.diff.state == "drafting":
            self.diff.set_state("empty")
            self.diff.show_status(message.text, error=True)

    # -- patch review --------------------------------------------------------------------

    def apply(self) -> None:
        """Write the drafted patch to the files."""
        if self.draft is None or self.repo is None or self.diff.state != "ready":
            return
        from greenpair.core.assistant.patch.drafting import apply_patch

        self.diff.apply_button.setEnabled(False)
        start_call(apply_patch, self.repo, self.draft, forward_errors=False,
                   on_return=lambda _: self._on_applied(),
                   on_error=lambda exc: self._on_patch_error("apply", exc))

    def _on_applied(self) -> None:
        n = len(self.draft.files) if self.draft is not None else 0
        self.diff.set_state("applied")
        self.diff.show_status(f"Applied to {n} file{'s' if n != 1 else ''}. "
                              "Undo restores them exactly as they were.")

    def discard(self) -> None:
        """Drop the draft; nothing was written."""
        self.draft = None
        self.diff.set_state("discarded")
        self.diff.show_status("Discarded. Your files were not changed.")

    def undo(self) -> None:
        """Restore the files of the last applied patch."""
        if self.repo is None:
            return
        from greenpair.core.assistant.patch.drafting import undo_last

        self.diff.undo_button.setEnabled(False)
        start_call(undo_last, self.repo, forward_errors=False, on_return=self._on_undone,
                   on_error=lambda exc: self._on_patch_error("undo", exc))

    def _on_undone(self, paths: list[str]) -> None:
        self.diff.set_state("undone")
        names = ", ".join(paths) if paths else "no file"
        self.diff.show_status(f"Undone: restored {names}.")

    def _on_patch_error(self, action: str, exc: BaseException) -> None:
        message = describe_error(exc)
        if message is None:
            forward_error(exc)
            message = UserMessage("error", f"The {action} failed unexpectedly.",
                                  "The details were saved to the log.")
        if action == "check":
            self.diff.set_check(f"The check could not run: {message.full_text()}",
                                status="error", offer=True)
            return
        verb = "applied" if action == "apply" else "undone"
        self.diff.set_state("ready" if action == "apply" and self.draft is not None
                            else ("applied" if action == "undo" else "failed"))
        self.diff.show_status(f"The change was not {verb}: {message.full_text()}", error=True)

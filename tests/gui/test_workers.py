"""Workers run core generators off the GUI thread, cancel promptly and report errors."""

from __future__ import annotations

import errno
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from greenpair.core import messages
from greenpair.core.errors import ModelError
from greenpair.ui.message_bridge import MessageBridge, UserMessage, describe_error
from greenpair.ui.workers import running_workers, shutdown_workers, start_call, start_worker


def counting(n: int, seen_threads: list[int]) -> Iterator[int]:
    seen_threads.append(threading.get_ident())
    yield from range(n)
    return n * 10


def test_yields_reach_the_gui_thread_in_order_and_the_return_value_follows(qtbot: Any) -> None:
    threads: list[int] = []
    got: list[int] = []
    returned: list[int] = []
    done: list[bool] = []
    start_worker(counting, 5, threads, on_yield=got.append, on_return=returned.append,
                 on_finish=lambda: done.append(True))
    qtbot.waitUntil(lambda: done == [True], timeout=5000)
    assert got == [0, 1, 2, 3, 4]
    assert returned == [50]
    assert threads[0] != threading.get_ident()  # ran in a pool thread


def test_a_plain_callable_returning_an_iterator_runs_in_the_worker(qtbot: Any) -> None:
    where: list[int] = []

    def opener() -> Iterator[str]:
        where.append(threading.get_ident())  # e.g. opening an index: off the GUI thread
        return iter(["a", "b"])

    got: list[str] = []
    done: list[bool] = []
    start_worker(opener, on_yield=got.append, on_finish=lambda: done.append(True))
    qtbot.waitUntil(lambda: done == [True], timeout=5000)
    assert got == ["a", "b"]
    assert where[0] != threading.get_ident()


def endless(cancel: threading.Event, closed: list[str]) -> Iterator[int]:
    """Like a model: blocks between tokens (on the cancel event, not a sleep)."""
    i = 0
    try:
        while True:
            cancel.wait(0.05)
            if cancel.is_set():
                closed.append("cancel seen")
            yield i
            i += 1
    finally:
        closed.append("closed")


def test_quit_sets_cancel_stops_at_the_next_yield_and_closes_the_generator(qtbot: Any) -> None:
    closed: list[str] = []
    got: list[int] = []
    returned: list[object] = []
    done: list[str] = []
    worker = start_worker(endless, closed=closed, pass_cancel=True, on_yield=got.append,
                          on_return=returned.append, on_finish=lambda: done.append("finished"))
    worker.aborted.connect(lambda: done.append("aborted"))
    qtbot.waitUntil(lambda: len(got) >= 2, timeout=5000)
    worker.quit()
    assert worker.cancel.is_set()
    qtbot.waitUntil(lambda: done == ["aborted", "finished"], timeout=2000)
    assert closed[-1] == "closed"  # the generator's finally ran before `finished`
    assert returned == []  # a cancelled run returns nothing


def test_user_errors_go_to_the_bridge_in_plain_words(qtbot: Any, bridge: MessageBridge) -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise ModelError("The model file is missing.", hint="Pull it in Settings.")

    bridge.flush()
    with qtbot.waitSignal(bridge.posted, timeout=5000) as blocker:
        start_worker(failing)
    message = blocker.args[0]
    assert message == UserMessage("error", "The model file is missing.", "Pull it in Settings.")


def test_a_bug_is_logged_and_shown_with_the_log_path(qtbot: Any, crash_dialogs: Any,
                                                      greenpair_home: Any) -> None:
    crash_dialogs.expect()

    def buggy() -> Iterator[int]:
        yield 1
        raise KeyError("oops")

    done: list[bool] = []
    start_worker(buggy, on_finish=lambda: done.append(True))
    qtbot.waitUntil(lambda: done == [True], timeout=5000)
    qtbot.waitUntil(lambda: len(crash_dialogs) == 1, timeout=2000)
    summary, path = crash_dialogs[0]
    assert "KeyError" in summary
    assert path.is_relative_to(greenpair_home)
    log = path.read_text()
    assert "Traceback" in log
    assert "oops" in log


def test_runtime_errors_from_core_are_reported_not_swallowed(qtbot: Any) -> None:
    # superqt's GeneratorWorker hides a RuntimeError (it assumes a deleted Qt object).
    def failing() -> Iterator[int]:
        raise RuntimeError("llama_decode returned -1")
        yield 0

    errors: list[BaseException] = []
    done: list[bool] = []
    start_worker(failing, on_error=errors.append, forward_errors=False,
                 on_finish=lambda: done.append(True))
    qtbot.waitUntil(lambda: done == [True], timeout=5000)
    assert isinstance(errors[0], RuntimeError)


def test_start_call_runs_a_plain_function(qtbot: Any) -> None:
    got: list[int] = []
    done: list[bool] = []
    start_call(lambda a, b: a + b, 2, 3, on_return=got.append,
               on_finish=lambda: done.append(True))
    qtbot.waitUntil(lambda: done == [True], timeout=5000)
    assert got == [5]


def test_shutdown_quits_and_awaits_every_worker(qtbot: Any) -> None:
    closed: list[str] = []
    workers = [start_worker(endless, closed=closed, pass_cancel=True) for _ in range(2)]
    qtbot.waitUntil(lambda: all(w.is_running for w in workers), timeout=5000)
    assert shutdown_workers(5000)
    assert closed.count("closed") == 2
    assert running_workers() == []


def test_core_messages_are_kept_until_a_view_connects(qtbot: Any, bridge: MessageBridge) -> None:
    bridge.hook_core()
    thread = threading.Thread(target=lambda: messages.warning("Indexing is paused on battery."))
    thread.start()
    thread.join()
    messages.info("Index up to date.")
    assert [m.text for m in bridge.pending()] == ["Indexing is paused on battery.",
                                                  "Index up to date."]
    received: list[UserMessage] = []
    bridge.posted.connect(received.append)
    bridge.flush()
    assert [m.level for m in received] == ["warning", "info"]
    with qtbot.waitSignal(bridge.posted, timeout=2000):  # live from now on
        messages.info("again")
    assert received[-1].text == "again"


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "/data/x"), "disk is full"),
        (PermissionError(errno.EACCES, "Permission denied", "/data/x"), "not allowed"),
        (MemoryError(), "out of memory"),
    ],
)
def test_os_failures_become_plain_messages_with_a_fix(exc: BaseException, words: str) -> None:
    message = describe_error(exc)
    assert message is not None
    assert words in message.text
    assert message.hint


def test_bugs_are_not_dressed_up_as_user_errors() -> None:
    assert describe_error(ValueError("x")) is None

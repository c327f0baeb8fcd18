"""Run core generators off the GUI thread (superqt ``GeneratorWorker``).

Core long work is a generator (index progress, tokens). ``start_worker`` runs one on
Qt's global thread pool and delivers what it yields to GUI-thread slots. ``worker.quit()``
cancels it: the ``cancel`` event handed to the generator is set at once (so a model
stops between tokens), the loop stops at the next yield, and the generator is closed in
the worker thread so its ``finally`` blocks (locks, energy windows, index consistency)
run before ``finished`` is emitted. Errors go to the message bridge: user-facing ones
(``GreenpairError``, a full disk…) as messages, anything else to the crash handler.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any

from PySide6.QtCore import QCoreApplication, QThreadPool
from superqt.utils import GeneratorWorker, WorkerBase

from greenpair.core.errors import Cancelled
from greenpair.ui.message_bridge import MessageBridge, global_bridge

log = logging.getLogger(__name__)

Slot = Callable[..., Any]


def _drive(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Call ``func`` in the worker thread and re-yield what its iterator yields.

    ``func`` may be a generator function or any callable returning an iterator (so the
    call itself, e.g. opening an index, also runs off the GUI thread). ``yield from``
    passes ``close()`` on to the inner generator.
    """
    return (yield from func(*args, **kwargs))


class CoreWorker(GeneratorWorker):
    """A ``GeneratorWorker`` for core generators: prompt cancel, closed generator.

    Unlike the base class, it sets ``cancel`` (a ``threading.Event`` the generator may
    hold) on ``quit()``, closes the generator when it stops for any reason, and reports a
    ``RuntimeError`` raised by core like any other error (the base class swallows it).
    Pausing is not supported (core work is never paused).

    Args:
        func: A generator function, or a callable returning an iterator.
        *args: Its positional arguments.
        pass_cancel: Pass the worker's ``cancel`` event to ``func`` as ``cancel=``.
        **kwargs: Its keyword arguments.
    """

    def __init__(
        self,
        func: Callable[..., Iterator[Any]],
        *args: Any,
        pass_cancel: bool = False,
        **kwargs: Any,
    ) -> None:
        cancel = threading.Event()
        if pass_cancel:
            kwargs["cancel"] = cancel
        super().__init__(_drive, func, args, kwargs)
        self.cancel = cancel
        self.label = getattr(func, "__qualname__", "work")

    def quit(self) -> None:
        """Ask the work to stop now (takes effect at the next token or file)."""
        self.cancel.set()
        super().quit()

    def work(self) -> Any:
        """Drive the generator until it ends or ``quit()`` is called."""
        gen = self._gen
        try:
            while not self._stop_requested():
                try:
                    value = next(gen)
                except StopIteration as stop:
                    return stop.value
                if not self._stop_requested():
                    self.yielded.emit(value)
            self.aborted.emit()
            return None
        finally:
            gen.close()

    def _stop_requested(self) -> bool:
        return self.abort_requested

    def run(self) -> None:
        """Called by the thread pool: ``work()`` wrapped in the worker's signals.

        The base class also redirects ``warnings`` globally for the run, which is not
        thread-safe; warnings from core go to the log like everywhere else.
        """
        self.started.emit()
        self._running = True
        try:
            result = self.work()
            if not self.abort_requested:
                self.returned.emit(result)
        except Exception as exc:  # noqa: BLE001 - handed to the GUI thread's handler
            self.errored.emit(exc)
        self._running = False
        self.finished.emit()
        self._finished.emit(self)


def forward_error(exc: BaseException, bridge: MessageBridge | None = None) -> None:
    """Show ``exc`` to the user: a plain message, or the crash dialog for a bug.

    ``Cancelled`` is the user's own doing and shows nothing.
    """
    if isinstance(exc, Cancelled):
        return
    if (bridge or global_bridge()).post_error(exc):
        log.info("user-facing error: %s", exc)
        return
    from greenpair.ui.crash import report_exception

    report_exception(type(exc), exc, exc.__traceback__)


def start_worker(
    func: Callable[..., Iterator[Any]],
    *args: Any,
    on_yield: Slot | None = None,
    on_return: Slot | None = None,
    on_error: Slot | None = None,
    on_finish: Slot | None = None,
    forward_errors: bool = True,
    bridge: MessageBridge | None = None,
    pass_cancel: bool = False,
    **kwargs: Any,
) -> CoreWorker:
    """Run the generator ``func(*args, **kwargs)`` in the thread pool.

    Args:
        func: A generator function, or a callable returning an iterator (core work).
        *args: Its positional arguments.
        on_yield: Slot called in the GUI thread with each yielded value.
        on_return: Slot called with the generator's return value (not after a cancel).
        on_error: Slot called with an exception raised by the work.
        on_finish: Slot called when the work stopped, whatever the reason.
        forward_errors: Also show errors through the message bridge / crash dialog.
        bridge: The bridge to use (default: the process-wide one).
        pass_cancel: Hand the worker's cancel event to ``func`` as ``cancel=`` (core
            generators that block between yields, like a model's prompt processing).
        **kwargs: Its keyword arguments.

    Returns:
        The started worker (keep it to ``quit()`` it).
    """
    worker = CoreWorker(func, *args, pass_cancel=pass_cancel, **kwargs)
    if on_yield is not None:
        worker.yielded.connect(on_yield)
    if on_return is not None:
        worker.returned.connect(on_return)
    if on_error is not None:
        worker.errored.connect(on_error)
    if forward_errors:
        worker.errored.connect(lambda exc: forward_error(exc, bridge))
    if on_finish is not None:
        worker.finished.connect(on_finish)
    worker.start()
    return worker


def running_workers() -> list[WorkerBase]:
    """Workers started and not yet finished."""
    return list(WorkerBase._worker_set)


def shutdown_workers(timeout_ms: int = 5000) -> bool:
    """Quit every worker and wait for the thread pool to be idle.

    Args:
        timeout_ms: How long to wait.

    Returns:
        True when every worker stopped in time (False: some core code did not yield).
    """
    for worker in running_workers():
        worker.quit()
    done = QThreadPool.globalInstance().waitForDone(timeout_ms)
    if not done:
        log.warning("some workers did not stop within %d ms", timeout_ms)
    app = QCoreApplication.instance()
    if app is not None:
        # Deliver the workers' queued `finished` signals, so they leave the worker set.
        app.processEvents()
    return done


def _call(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Generator[None, None, Any]:
    """A plain function as a generator that yields nothing and returns its result."""
    result = func(*args, **kwargs)
    yield from ()
    return result


def start_call(func: Callable[..., Any], *args: Any, **kwargs: Any) -> CoreWorker:
    """Run a plain (short) function off the GUI thread; same slots as ``start_worker``.

    Args:
        func: The function.
        *args: Its arguments.
        **kwargs: ``start_worker`` options (``on_return``, ``on_error``…) and ``func``'s
            keyword arguments.
    """
    options = {k: kwargs.pop(k) for k in ("on_yield", "on_return", "on_error", "on_finish",
                                           "forward_errors", "bridge") if k in kwargs}
    return start_worker(_call, func, *args, **options, **kwargs)

"""A pytest plugin that records which functions of the repository each test executed.

Greenpair never imports this module. When it runs the tests a request names before
drafting (the test-first workflow), it copies this file into the scratch copy as
``_greenpair_trace.py`` and loads it with ``-p _greenpair_trace`` into the repository's own
pytest, in the repository's own Python. During each test's call phase a profile hook
counts the code objects that start running; at the end of the session the functions whose
files lie under ``GREENPAIR_TRACE_ROOT`` are written as JSON to ``GREENPAIR_TRACE_OUT``::

    {"tests": {"<nodeid>": {"failed": true, "functions": [["src/m.py", 12, "f"], ...]}}}

(path relative to the root, the code's first line, its qualified name). The failing
tests' functions tell Greenpair which code the failure ran through, so the model is shown
that code rather than whatever the request's words match.

Standard library and pytest only (any Python 3.8+, any pytest with hook wrappers), and
quiet on every error: a trace is a hint, never a reason for the test run to fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections.abc import Generator
from types import CodeType, FrameType
from typing import Any

import pytest

MAX_FUNCTIONS = 20000  # per test: a run that executes more is cut (the rest is noise)

_root = os.path.realpath(os.environ.get("GREENPAIR_TRACE_ROOT") or os.getcwd()) + os.sep
_out = os.environ.get("GREENPAIR_TRACE_OUT", "")
_calls: dict[CodeType, int] = {}  # code object -> times it started, in the running test
_tests: dict[str, dict[str, Any]] = {}
_paths: dict[str, str] = {}  # co_filename -> path relative to the root, or "" outside it
_self = os.path.realpath(__file__)  # the resumed hook wrapper is not the repository's


def _profile(frame: FrameType, event: str, arg: object) -> None:
    if event == "call":
        code = frame.f_code
        _calls[code] = _calls.get(code, 0) + 1


def _relative(filename: str) -> str:
    found = _paths.get(filename)
    if found is None:
        found = ""
        if not filename.startswith("<"):  # "<frozen os>", "<string>": no file
            real = os.path.realpath(os.path.abspath(filename))
            if real.startswith(_root) and real != _self and os.path.isfile(real):
                found = real[len(_root):].replace(os.sep, "/")
        _paths[filename] = found
    return found


def _functions() -> list[list[object]]:
    out: list[list[object]] = []
    for code in _calls:
        path = _relative(code.co_filename)
        if path:
            out.append([path, code.co_firstlineno,
                        getattr(code, "co_qualname", code.co_name)])
            if len(out) >= MAX_FUNCTIONS:
                break
    return out


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, None]:
    _calls.clear()
    previous = sys.getprofile()  # a profiler the run has (restored after the test)
    previous_threads = getattr(threading, "getprofile", lambda: None)()  # 3.10+
    threading.setprofile(_profile)
    sys.setprofile(_profile)
    try:
        outcome = yield
    finally:
        sys.setprofile(previous)
        threading.setprofile(previous_threads)
    with contextlib.suppress(Exception):  # a trace must never fail the test run
        _tests[item.nodeid] = {"failed": outcome.excinfo is not None,
                               "functions": _functions()}
    _calls.clear()


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _out:
        return
    with contextlib.suppress(Exception), open(_out, "w", encoding="utf-8") as handle:
        json.dump({"tests": _tests}, handle)

"""The skip guard: one summary line always; a skipped model or X11 test fails CI."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = '''
import pytest

@pytest.mark.model
def test_needs_a_model():
    pytest.skip("model 'smollm2-135m' is not provisioned")

@pytest.mark.x11
def test_needs_xvfb():
    pass

def test_macos_only():
    pytest.skip("not on macOS")

def test_plain():
    pass
'''
INI = """[pytest]
markers =
    model: needs a model
    x11: needs X11
"""


def _run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str,
         source: str = SAMPLE) -> pytest.RunResult:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), str(ROOT / "app")]))
    pytester.makeini(INI)
    pytester.makepyfile(test_sample=source)
    return pytester.run(sys.executable, "-m", "pytest", "-p", "tests.helpers.skip_guard",
                        "-p", "no:cacheprovider", str(pytester.path))


def test_a_skipped_model_test_fails_the_ci_run(pytester: pytest.Pytester,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    result = _run(pytester, monkeypatch, "true")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "skipped: 2 (model/x11: 1; other: 1: 1 not on macOS) — FAILED under CI=true: "
        "test_sample.py::test_needs_a_model skipped where make setup provides them",
    ])


def test_outside_ci_skips_are_counted_not_failed(pytester: pytest.Pytester,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    result = _run(pytester, monkeypatch, "")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["skipped: 2 (model/x11: 1; other: 1: 1 not on macOS) "
                                 "— would fail under CI=true: *"])


def test_a_clean_ci_run_passes_and_still_prints_the_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run(pytester, monkeypatch, "true", "def test_ok():\n    pass\n")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["skipped: 0 (model/x11: 0; other: 0)"])

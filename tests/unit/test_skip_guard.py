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


MODULE_SKIP = '''
import pytest

pytest.skip("no model here", allow_module_level=True)

@pytest.mark.model
def test_would_need_a_model():
    pass
'''
IMPORT_SKIP = '''
import pytest

llama_cpp_missing = pytest.importorskip("greenpair_no_such_module_for_the_guard")

def test_uses_it():
    pass
'''
XFAIL_REQUIRED = '''
import pytest

@pytest.mark.model
@pytest.mark.xfail(reason="the tiny model is flaky")
def test_marked():
    assert False

@pytest.mark.x11
def test_imperative():
    pytest.xfail("no display today")

@pytest.mark.xfail(reason="an ordinary known bug")
def test_ordinary():
    assert False
'''


@pytest.mark.parametrize(("source", "line"), [
    (MODULE_SKIP, "*FAILED under CI=true: test_sample.py (whole module: no model here)*"),
    (IMPORT_SKIP, "*FAILED under CI=true: test_sample.py (whole module: could not import*"),
    (XFAIL_REQUIRED, "*FAILED under CI=true: test_sample.py::test_marked (xfail), "
                     "test_sample.py::test_imperative (xfail) skipped*"),
], ids=["skip-allow-module-level", "importorskip", "xfail-on-required"])
def test_collection_skips_and_required_xfails_fail_the_ci_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, source: str, line: str
) -> None:
    result = _run(pytester, monkeypatch, "true", source)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.stdout.fnmatch_lines([line])


def test_outside_ci_a_module_skip_is_counted_not_failed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run(pytester, monkeypatch, "", MODULE_SKIP)
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
    result.stdout.fnmatch_lines(["skipped: 1 (model/x11: 1; *would fail under CI=true*"])

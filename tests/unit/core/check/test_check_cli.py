"""``greenpair patch --check/--no-check --test-command --json`` and the per-repository
``test_command`` (the fake runtime stands in for the model, a fixed retriever for the
index)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from greenpair.cli import assistant as cli_assistant
from greenpair.cli import cli
from greenpair.core.assistant.retriever import StaticRetriever
from greenpair.core.types import Chunk, ScoredChunk
from tests.helpers.check_repos import python_repo, tree_digest
from tests.helpers.fake_runtime import FakeRuntime
from tests.unit.core.check.test_check_repair import FILES, OPS, _reply

KEYS = {"status", "summary", "static", "tests_run", "passed", "failed", "tries", "output",
        "command"}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeRuntime:
    rt = FakeRuntime()
    monkeypatch.setattr(cli_assistant, "_runtime", lambda model: rt)
    retriever = StaticRetriever([ScoredChunk(Chunk(OPS, "python", 1, 2, "def add"), 1.0)])
    monkeypatch.setattr(cli_assistant, "_index", lambda repo: retriever)
    return rt


def _patch(repo: Path, *args: str) -> dict[str, object]:
    done = CliRunner().invoke(cli, ["patch", "--repo", str(repo), "--json", "--format",
                                    "search_replace", *args, "make add return the sum"])
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


def test_check_json_contract_and_repair(tmp_path: Path, fake: FakeRuntime) -> None:
    repo = python_repo(tmp_path / "repo", FILES)
    before = tree_digest(repo)
    fake.queue(_reply("a * b"), _reply("a + b"))
    data = _patch(repo, "--check")
    check = data["check"]
    assert isinstance(check, dict)
    assert set(check) >= KEYS
    assert (check["status"], check["passed"], check["failed"], check["tries"]) == (
        "passed", 2, 0, 2)
    assert check["summary"] == "static check passed · 2 tests passed (2nd try)"
    assert check["command"] == "pytest tests/test_ops.py"
    assert sorted(check["tests_run"]) == ["tests/test_ops.py::test_add",
                                          "tests/test_ops.py::test_zero"]
    assert check["static"]["status"] == "passed"
    assert tree_digest(repo) == before
    # --check was a yes, remembered: the next run checks without it
    fake.queue(_reply("a * b"))
    again = _patch(repo)
    assert again["check"]["status"] == "failed"  # one reply left: the repair has none
    assert "tests/test_ops.py::test_add" in again["check"]["output"]


def test_no_check_and_not_yet_allowed_say_why(tmp_path: Path, fake: FakeRuntime) -> None:
    repo = python_repo(tmp_path / "repo", FILES)
    fake.queue(_reply("a + b"), _reply("a + b"))
    assert _patch(repo, "--no-check")["check"]["summary"] == "not checked: --no-check"
    data = _patch(repo)
    assert data["check"]["status"] == "skipped"
    assert "not allowed yet" in data["check"]["summary"]


def test_the_repositorys_own_test_command(tmp_path: Path, fake: FakeRuntime) -> None:
    repo = python_repo(tmp_path / "repo", FILES)
    done = CliRunner().invoke(cli, ["config", "set", "--repo", str(repo), "test_command",
                                    "python -m pytest -q -rA tests/test_ops.py::test_zero"])
    assert done.exit_code == 0, done.output
    fake.queue(_reply("a * b"))
    data = _patch(repo, "--check")
    check = data["check"]
    assert check["command"] == "python -m pytest -q -rA tests/test_ops.py::test_zero"
    assert (check["status"], check["tests_run"]) == ("passed", ["tests/test_ops.py::test_zero"])
    fake.queue(_reply("a - b + 1"), _reply("a - b + 2"))
    failing = _patch(repo, "--test-command", "exit 3")
    assert (failing["check"]["status"], failing["check"]["summary"]) == (
        "failed", "static check passed · `exit 3` failed (2nd try)")


def test_the_text_output_says_what_ran(tmp_path: Path, fake: FakeRuntime) -> None:
    repo = python_repo(tmp_path / "repo", FILES)
    fake.queue(_reply("a * b"), _reply("a * b + 0"))
    done = CliRunner().invoke(cli, ["patch", "--repo", str(repo), "--format", "search_replace",
                                    "--check", "make add return the sum"])
    assert done.exit_code == 0, done.output
    assert "+    return a * b" in done.stdout
    assert "Checked: static check passed · 1 test failed, 1 passed (2nd try)" in done.stderr
    assert "ran: pytest tests/test_ops.py" in done.stderr
    assert "tests/test_ops.py::test_add" in done.stderr  # the failing output

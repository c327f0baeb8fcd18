"""greenpair patch / ask CLI on a real index, with the FakeRuntime standing in for the model
(plumbing and refusals; the real-model runs are in test_patch_model.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from greenpair.cli import assistant as cli_assistant
from greenpair.cli import cli, main
from tests.helpers.fake_runtime import FakeRuntime

GOOD = """src/shop/discounts.py
<<<<<<< SEARCH
    if code == "HALF":
        return total / 2
=======
    if code == "HALF":
        return total / 2
    if code == "QUARTER":
        return total * 0.75
>>>>>>> REPLACE"""


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeRuntime:
    rt = FakeRuntime()
    monkeypatch.setattr(cli_assistant, "_runtime", lambda model: rt)
    return rt


def _block(path: str) -> str:
    return f"{path}\n<<<<<<< SEARCH\n=======\nleaked\n>>>>>>> REPLACE"


def test_patch_prints_diff_applies_and_undoes(tmp_repo: Path, fake: FakeRuntime) -> None:
    target = tmp_repo / "src/shop/discounts.py"
    original = target.read_bytes()
    fake.queue(GOOD, GOOD)
    runner = CliRunner()
    shown = runner.invoke(cli, ["patch", "--repo", str(tmp_repo), "--format", "search_replace",
                                  "add a QUARTER code"])
    assert shown.exit_code == 0, shown.output
    assert "+    if code == \"QUARTER\":" in shown.stdout
    assert target.read_bytes() == original  # printing never writes
    applied = runner.invoke(cli, ["patch", "--repo", str(tmp_repo), "--json", "--apply",
                                  "--format", "search_replace", "add a QUARTER code"])
    data = json.loads(applied.stdout)
    assert (data["applied"], data["files"], data["format"]) == (
        True, ["src/shop/discounts.py"], "search_replace")
    assert data["reply"] == GOOD  # the model's text as written
    assert b"QUARTER" in target.read_bytes()
    undone = runner.invoke(cli, ["patch", "--repo", str(tmp_repo), "--undo"])
    assert undone.exit_code == 0
    assert target.read_bytes() == original


@pytest.mark.parametrize(("path", "message"), [
    ("../outside.py", "outside the repository"),
    (".env", "secret"),
    ("assets/logo.png", "binary"),
])
def test_patch_refusals(tmp_repo: Path, fake: FakeRuntime, capsys: pytest.CaptureFixture[str],
                        path: str, message: str) -> None:
    (tmp_repo / ".env").write_text("TOKEN=x\n")
    (tmp_repo / "assets").mkdir()
    (tmp_repo / "assets/logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0")
    fake.queue(_block(path))
    with pytest.raises(SystemExit) as exit_info:
        main(["patch", "--repo", str(tmp_repo), "--apply", "--format", "search_replace",
              "change the discount"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "Refusing to touch" in err
    assert message in err
    assert not (tmp_repo.parent / "outside.py").exists()
    assert (tmp_repo / ".env").read_text() == "TOKEN=x\n"
    assert len(fake.prompts) == 1  # a refusal is not retried


def test_undo_with_nothing_applied_is_a_clear_error(
    tmp_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["patch", "--repo", str(tmp_repo), "--undo"])
    assert exit_info.value.code == 1
    assert "no applied patch to undo" in capsys.readouterr().err


def test_ask_text_output_streams_and_lists_citations(tmp_repo: Path, fake: FakeRuntime) -> None:
    fake.queue("HALF halves it [src/shop/discounts.py:4-6].\nSources: src/shop/discounts.py:4-6")
    result = CliRunner().invoke(cli, ["ask", "--repo", str(tmp_repo), "What does HALF do?"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("HALF halves it")
    assert "Indexing" in result.stderr  # the first run builds the index, with progress
    assert "src/shop/discounts.py:4-6" in result.stderr
    assert "tok/s" in result.stderr


def test_chat_reads_questions_until_eof(tmp_repo: Path, fake: FakeRuntime) -> None:
    fake.queue("One [src/shop/cart.py:1-3].", "Two.")
    result = CliRunner().invoke(cli, ["chat", "--repo", str(tmp_repo)],
                                input="What is the cart?\n/reset\nAnd discounts?\n")
    assert result.exit_code == 0, result.output
    assert "One" in result.stdout
    assert "Two." in result.stdout
    assert len(fake.prompts) == 2
    assert not fake.prompts[1].startswith(fake.prompts[0])  # /reset started over


def test_missing_repository_is_a_clear_error(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["ask", "--repo", str(tmp_path / "nope"), "anything?"])
    assert exit_info.value.code == 1
    assert "does not exist" in capsys.readouterr().err

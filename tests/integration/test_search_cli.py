"""The JSON contract of ``greenpair index`` and ``greenpair search`` (real components)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from greenpair.cli import cli, main

CHUNK_KEYS = {"path", "start_line", "end_line", "symbol", "kind", "score"}


def test_index_json_in_a_subprocess(tmp_repo: Path) -> None:
    (tmp_repo / ".env").write_text("API_TOKEN=do-not-index\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "app")}
    proc = subprocess.run(
        [sys.executable, "-m", "greenpair", "index", "--repo", str(tmp_repo), "--json"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)
    assert stats["files"] == 5
    assert stats["chunks"] > 5
    assert stats["embedded_chunks"] > 0
    assert stats["skipped"] == {"secret": 1}
    assert stats["changed_files"] == 5
    assert "lexical" in proc.stderr
    assert "ETA" in proc.stderr


def test_search_json_builds_the_index_first(tmp_repo: Path) -> None:
    result = CliRunner().invoke(
        cli, ["search", "--repo", str(tmp_repo), "--json", "-k", "2", "apply a discount code"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"query", "files", "chunks"}
    assert data["query"] == "apply a discount code"
    assert data["files"][0] == "src/shop/discounts.py"
    assert len(data["files"]) <= 2
    assert data["chunks"]
    assert all(set(c) == CHUNK_KEYS for c in data["chunks"])
    assert data["chunks"][0]["symbol"] == "apply_discount"


def test_search_sees_files_changed_since_the_last_index(tmp_repo: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["index", "--repo", str(tmp_repo), "--quiet"]).exit_code == 0
    (tmp_repo / "src" / "shop" / "refunds.py").write_text(
        "def issue_refund(order, amount):\n"
        "    \"\"\"Give a customer money back for a returned order.\"\"\"\n"
        "    order.refunded += amount\n"
        "    return order.refunded\n")
    query = ["search", "--repo", str(tmp_repo), "--json", "-k", "2", "issue a refund"]
    result = runner.invoke(cli, query)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"][0] == "src/shop/refunds.py"
    assert "Updated the index: 1 changed file(s)" in result.stderr
    again = runner.invoke(cli, query)  # nothing changed since: nothing redone, nothing said
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["files"][0] == "src/shop/refunds.py"
    assert "Updated the index" not in again.stderr


def test_search_batch_writes_one_line_per_query(tmp_repo: Path, tmp_path: Path) -> None:
    batch = tmp_path / "queries.jsonl"
    batch.write_text(
        json.dumps({"id": "q1", "query": "cart total with tax"}) + "\n\n"
        + json.dumps({"id": 7, "query": "format a price in euros"}) + "\n"
    )
    runner = CliRunner()
    assert runner.invoke(cli, ["index", "--repo", str(tmp_repo), "--quiet"]).exit_code == 0
    result = runner.invoke(cli, ["search", "--repo", str(tmp_repo), "--json", "--batch", str(batch)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["q1", 7]
    assert all(set(line) == {"id", "files", "chunks"} for line in lines)
    assert lines[0]["files"][0] == "src/shop/cart.py"
    assert lines[1]["files"][0] == "web/checkout.js"


def test_human_output(tmp_repo: Path) -> None:
    result = CliRunner().invoke(cli, ["search", "--repo", str(tmp_repo), "discount", "code"])
    assert result.exit_code == 0, result.output
    assert "1. src/shop/discounts.py" in result.stdout
    assert "src/shop/discounts.py:" in result.stdout


@pytest.mark.parametrize("args", [["search", "x"], ["index"]])
def test_a_missing_repository_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([args[0], "--repo", str(tmp_path / "nope"), *args[1:]])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "does not exist" in err
    assert "--repo" in err
    assert "Traceback" not in err


def test_a_bad_batch_file_is_a_clean_error(
    tmp_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = tmp_path / "bad.jsonl"
    batch.write_text("not json\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["search", "--repo", str(tmp_repo), "--json", "--batch", str(batch)])
    assert exit_info.value.code == 1
    assert "Line 1" in capsys.readouterr().err

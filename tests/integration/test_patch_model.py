"""patch on real components: the default model drafts, applies and undoes on tmp_repo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from greenpair.cli import cli

pytestmark = pytest.mark.model


def test_default_model_patch_applies_and_undoes_byte_for_byte(
    tmp_repo: Path, default_model_path: Path, greenpair_home: Path
) -> None:
    cart = tmp_repo / "src/shop/cart.py"
    before = {p: p.read_bytes() for p in tmp_repo.rglob("*") if p.is_file() and ".git" not in
              p.parts}
    runner = CliRunner()
    result = runner.invoke(cli, [
        "patch", "--repo", str(tmp_repo), "--json", "--apply", "--model", str(default_model_path),
        "In Cart.add_item, raise ValueError when price is negative.",
    ])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["applied"] is True
    assert data["files"] == ["src/shop/cart.py"]
    assert "price" in data["diff"]
    assert data["completion_tokens"] > 0
    assert cart.read_bytes() != before[cart]
    assert not list(tmp_repo.rglob("*.greenpair-tmp"))
    assert (greenpair_home / "patches").is_dir()  # the backup is outside the repository

    undo = runner.invoke(cli, ["patch", "--repo", str(tmp_repo), "--undo"])
    assert undo.exit_code == 0, undo.output
    assert "src/shop/cart.py" in undo.output
    after = {p: p.read_bytes() for p in tmp_repo.rglob("*") if p.is_file() and ".git" not in
             p.parts}
    assert after == before


"""The index under a full or read-only data directory and damaged stores, through the
real CLI in subprocesses (issue 11, item 3): a message that says what to do, never a
traceback, and never a full disk mistaken for damage (rebuilding would delete the index).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from greenpair.core.config import repo_key
from tests.conftest import REAL_MODELS_DIR
from tests.helpers.mounts import read_only_view, small_tmpfs

APP = str(Path(__file__).resolve().parents[2] / "app")


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    home.mkdir(exist_ok=True)
    if REAL_MODELS_DIR.is_dir() and not (home / "models").exists():  # the provisioned models
        (home / "models").symlink_to(REAL_MODELS_DIR, target_is_directory=True)
    env = {**os.environ, "PYTHONPATH": APP, "GREENPAIR_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "greenpair", *args], capture_output=True,
                          text=True, env=env, timeout=600, check=False)


def test_full_then_freed_then_read_only_data_directory(tmp_path: Path, tmp_repo: Path) -> None:
    with small_tmpfs(tmp_path / "home", "300k") as home:
        full = _cli(home, "index", "--repo", str(tmp_repo), "--json")
        assert full.returncode == 1
        assert "Traceback" not in full.stderr
        assert "the disk is full. The index is kept as it was." in full.stderr
        assert "GREENPAIR_HOME" in full.stderr
        assert "Recreating" not in full.stderr  # a full disk is not damage
        subprocess.run(["mount", "-o", "remount,size=64m", str(home)], check=True)
        freed = _cli(home, "index", "--repo", str(tmp_repo), "--json")
        assert freed.returncode == 0, freed.stderr
        assert json.loads(freed.stdout)["files"] == 5
        subprocess.run(["mount", "-o", "remount,ro", str(home)], check=True)
        read_only = _cli(home, "search", "--repo", str(tmp_repo), "discount code")
        assert read_only.returncode == 1
        assert "Traceback" not in read_only.stderr
        assert "the data directory is read-only" in read_only.stderr


def test_truncated_sqlite_index_is_rebuilt_with_a_message(tmp_path: Path, tmp_repo: Path) -> None:
    home = tmp_path / "home"
    assert _cli(home, "index", "--repo", str(tmp_repo), "--quiet").returncode == 0
    db = home / "indexes" / repo_key(tmp_repo) / "index.sqlite3"
    for extra in ("-wal", "-shm"):
        Path(f"{db}{extra}").unlink(missing_ok=True)
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])
    search = _cli(home, "search", "--repo", str(tmp_repo), "--json", "apply a discount code")
    assert "Traceback" not in search.stderr
    assert search.returncode == 0, search.stderr
    assert "rebuilds the index" in search.stderr
    assert json.loads(search.stdout)["files"][0] == "src/shop/discounts.py"


def test_a_read_only_repository_is_indexed_and_searched(tmp_path: Path, tmp_repo: Path) -> None:
    home = tmp_path / "home"
    with read_only_view(tmp_repo, tmp_path / "ro") as repo:
        index = _cli(home, "index", "--repo", str(repo), "--json")
        assert index.returncode == 0, index.stderr
        assert json.loads(index.stdout)["files"] == 5
        search = _cli(home, "search", "--repo", str(repo), "--json", "apply a discount code")
        assert search.returncode == 0, search.stderr
        assert json.loads(search.stdout)["files"][0] == "src/shop/discounts.py"
        undo = _cli(home, "patch", "--repo", str(repo), "--undo")
        assert undo.returncode == 1
        assert "no applied patch" in undo.stderr
        assert "Traceback" not in index.stderr + search.stderr + undo.stderr

"""Repositories of 100,000+ files (issue 11, item 3): an unignored ``node_modules`` is
left out at once; 100,000 files of one's own hit the ``max_files`` limit with a message
that names the biggest folders and the fix, and the index stays usable. Memory does not
grow with the repository: past a budget, changed files are read again in their turn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from greenpair.core.config import Settings, save_settings
from greenpair.core.index import open_index, updater
from tests.conftest import make_repo

APP = str(Path(__file__).resolve().parents[2] / "app")
MANY = 100_500


def _many_files(folder: Path, count: int, per_dir: int = 500) -> None:
    """``count`` small real files under ``folder``, ``per_dir`` to a folder."""
    for i in range(count):
        if i % per_dir == 0:
            sub = folder / f"d{i // per_dir:04d}"
            sub.mkdir(parents=True)
        fd = os.open(sub / f"f{i}.txt", os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, b"generated record %d\n" % i)
        os.close(fd)


def _index(repo: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": APP}
    return subprocess.run([sys.executable, "-m", "greenpair", "index", "--repo", str(repo),
                           "--json"], capture_output=True, text=True, env=env, timeout=900,
                          check=False)


@pytest.mark.slow
def test_an_unignored_node_modules_of_100k_files_is_left_out(tmp_repo: Path) -> None:
    _many_files(tmp_repo / "node_modules", MANY)
    proc = _index(tmp_repo)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    stats = json.loads(proc.stdout)
    assert stats["files"] == 5
    assert stats["skipped"] == {"vendored": 1}


@pytest.mark.slow
def test_100k_files_of_ones_own_hit_the_limit_with_the_fix(tmp_repo: Path) -> None:
    save_settings(Settings(max_files=2_000))
    _many_files(tmp_repo / "records", MANY)
    proc = _index(tmp_repo)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    stats = json.loads(proc.stdout)
    assert stats["files"] == 2_000
    assert stats["skipped"]["file_limit"] == 1
    warning = " ".join(proc.stderr.split())
    assert "has more than 2,000 files to index; only the first 2,000 are indexed" in warning
    assert "records/ (" in warning
    assert ".greenpairignore" in warning
    assert "greenpair config set max_files 4000" in warning
    # The fix works: ignore the folder, index again, the warning is gone.
    (tmp_repo / ".greenpairignore").write_text("records/\n")
    again = _index(tmp_repo)
    assert again.returncode == 0, again.stderr
    stats = json.loads(again.stdout)
    assert stats["files"] == 6  # the five sources and the .greenpairignore
    assert "file_limit" not in stats["skipped"]
    assert "max_files" not in again.stderr


def test_changed_texts_past_the_budget_are_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {
        f"pkg/m{i:03d}.py": "".join(f"def unique_{i}_{j}(x):\n    return x + {i * j}\n\n"
                                    for j in range(60))
        for i in range(100)
    }  # about 250 kB of text
    repo = make_repo(tmp_path / "repo", files, init_git=False)
    monkeypatch.setattr(updater, "_TEXT_BUDGET", 20_000)  # about 8 files
    reread: list[str] = []
    real = updater._read_again

    def spy(index: object, entry: updater.WalkedFile) -> updater.WalkedFile:
        assert entry.text == ""  # dropped after the scan: not held in memory
        reread.append(entry.path)
        return real(index, entry)  # type: ignore[arg-type]

    monkeypatch.setattr(updater, "_read_again", spy)
    index = open_index(repo)
    try:
        for _ in index.update(embed=False):
            pass
        assert index.stats()["files"] == 100
        assert len(reread) > 85
        assert index.search("unique_87_59", k=1).files == ["pkg/m087.py"]
    finally:
        index.close()

"""Several processes on one index (issue 11, item 4), with real subprocesses: two
``greenpair index`` at once, and ``greenpair watch`` while ``greenpair index`` runs and
files change. No corruption (SQLite integrity, Chroma in step with the manifest) and no
lost update (every file's stored hash is the one on disk at the end)."""

from __future__ import annotations

import hashlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from greenpair.core.index import open_index
from greenpair.core.index.index_store import COMMITTED
from tests.conftest import make_repo

APP = str(Path(__file__).resolve().parents[2] / "app")
N_FILES = 60


def _repo(root: Path) -> Path:
    files = {
        f"pkg/module_{i:02d}.py": "".join(
            f"def handler_{i}_{j}(request):\n    return request.value * {j}\n\n\n"
            for j in range(12)
        )
        for i in range(N_FILES)
    }
    return make_repo(root, files)


def _popen(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": APP}
    return subprocess.Popen([sys.executable, "-m", "greenpair", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _consistent(repo: Path) -> None:
    index = open_index(repo)
    try:
        db = index.store.db
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        files = index.store.files()
        for rel in (p.relative_to(repo).as_posix() for p in repo.rglob("*.py")):
            row = files[rel]
            assert row.state == COMMITTED, rel
            assert row.sha256 == hashlib.sha256((repo / rel).read_bytes()).hexdigest(), rel
        stats = index.stats()
        assert stats["files_pending_embedding"] == 0
        assert index.vectors().count() == stats["embedded_chunks"]
        ids = [r[0] for r in db.execute("SELECT id FROM chunks")]
        assert len(ids) == len(set(ids))
    finally:
        index.close()


def test_two_index_processes_on_one_repository(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    first, second = _popen("index", "--repo", str(repo)), _popen("index", "--repo", str(repo))
    outputs = [p.communicate(timeout=600) for p in (first, second)]
    for proc, (_, err) in zip((first, second), outputs, strict=True):
        assert proc.returncode == 0, err
        assert "Traceback" not in err
    _consistent(repo)
    index = open_index(repo)
    try:
        assert index.search("handler_42_7", k=1).files == ["pkg/module_42.py"]
    finally:
        index.close()


def _lines(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line)


def _wait_for(lines: queue.Queue[str], text: str, timeout: float, seen: list[str]) -> None:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {text!r} within {timeout} s; got: {''.join(seen)[-2000:]}"
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            continue
        seen.append(line)
        if text in line:
            return


def test_watch_while_index_runs_loses_no_update(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    watcher = _popen("watch", "--repo", str(repo))
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(watcher.stderr, lines), daemon=True).start()
    seen: list[str] = []
    try:
        _wait_for(lines, "Watching", 600, seen)
        indexer = _popen("index", "--repo", str(repo))
        for i in range(5):  # edits while the second process indexes
            (repo / f"pkg/module_{i:02d}.py").write_text(
                f"def edited_{i}(request):\n    return {i}\n"
            )
            time.sleep(0.3)
        (repo / "pkg/new_module.py").write_text("def brand_new_feature():\n    return 1\n")
        _, err = indexer.communicate(timeout=600)
        assert indexer.returncode == 0, err
        assert "Traceback" not in err
        # One last save, alone: once the watcher reports it, it has handled the earlier ones
        # (events are handled in order; a batch names its first three paths, sorted: "_" first).
        (repo / "pkg/_last_save.py").write_text("def last_saved():\n    return 0\n")
        _wait_for(lines, "pkg/_last_save.py", 300, seen)
    finally:
        watcher.send_signal(signal.SIGINT)
        watcher.wait(timeout=120)
    assert "Traceback" not in "".join(seen)
    _consistent(repo)
    index = open_index(repo)
    try:
        assert index.search("edited_3", k=1).files == ["pkg/module_03.py"]
        assert index.search("brand new feature", k=1).files == ["pkg/new_module.py"]
    finally:
        index.close()


def test_an_in_process_index_like_the_windows_and_the_cli_at_once(tmp_path: Path) -> None:
    """The window keeps one ``RepoIndex`` open and updates it from a worker thread; the
    CLI runs meanwhile in another process. Both finish, and the window's open index serves
    the CLI's changes afterwards (its in-memory caches follow the store)."""
    repo = _repo(tmp_path / "repo")
    window_index = open_index(repo)
    try:
        errors: list[BaseException] = []

        def window_worker() -> None:
            try:
                for _ in range(3):
                    for _ in window_index.update():
                        pass
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)

        worker = threading.Thread(target=window_worker)
        worker.start()
        cli = _popen("index", "--repo", str(repo))
        (repo / "pkg/module_07.py").write_text("def changed_by_the_user():\n    return 7\n")
        _, err = cli.communicate(timeout=600)
        worker.join(timeout=600)
        assert not errors, errors
        assert cli.returncode == 0, err
        assert "Traceback" not in err
        for _ in _popen("index", "--repo", str(repo)).communicate(timeout=600):
            pass
        assert window_index.search("changed_by_the_user", k=1).files == ["pkg/module_07.py"]
    finally:
        window_index.close()
    _consistent(repo)


def test_opening_while_another_process_creates_the_store_waits_instead_of_rebuilding(
    tmp_path: Path,
) -> None:
    """Switching a new store to WAL fails at once ("database is locked", no busy wait) while
    another connection writes it. That was taken for damage, and the index folder was
    deleted under the other process ("database disk image is malformed" there)."""
    import sqlite3

    from greenpair.core import messages
    from greenpair.core.config import index_dir
    from greenpair.core.index.repo_index import DB_NAME

    repo = make_repo(tmp_path / "repo", {"a.py": "def alpha():\n    return 1\n"})
    folder = index_dir(repo)
    folder.mkdir(parents=True, exist_ok=True)
    other = sqlite3.connect(str(folder / DB_NAME), isolation_level=None,
                            check_same_thread=False)
    other.execute("CREATE TABLE other_process(x)")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO other_process VALUES (1)")
    release = threading.Timer(1.0, lambda: other.execute("COMMIT"))
    seen: list[str] = []

    def listener(level: str, text: str) -> None:
        seen.append(text)

    messages.connect(listener)
    release.start()
    try:
        index = open_index(repo)
    finally:
        release.join()
        messages.disconnect(listener)
    try:
        assert not any("rebuild" in text for text in seen), seen
        assert index.store.db.execute("SELECT x FROM other_process").fetchall() == [(1,)]
    finally:
        index.close()
        other.close()

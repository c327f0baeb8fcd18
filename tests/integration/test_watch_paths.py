"""The watcher's refresh of changed paths only, on the real walker, store and search.

Each case checks the refreshed index against the reference: a full update run right after
finds nothing left to do, and the skipped list is the one the full walk makes.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from greenpair.core.index import RepoIndex, open_index
from greenpair.core.index.index_store import DELETED
from greenpair.core.index.watcher import Watcher, WatchEvent
from greenpair.core.repo import walker


@pytest.fixture
def index(tmp_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RepoIndex]:
    monkeypatch.setenv("HOME", str(tmp_repo.parent))  # no user-wide git excludes
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    (tmp_repo / ".gitignore").write_text("*.log\nbuild/\n", encoding="utf-8")
    (tmp_repo / "src/shop/.gitignore").write_text("", encoding="utf-8")
    index = open_index(tmp_repo)
    list(index.update(embed=False))
    yield index
    index.close()


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the files the walker reads from now on."""
    names: list[str] = []
    real = walker._open_bytes

    def spy(path: Path, limit: int = -1) -> bytes:
        names.append(Path(path).name)
        return real(path, limit)

    monkeypatch.setattr(walker, "_open_bytes", spy)
    return names


def refresh(index: RepoIndex, *paths: str) -> str:
    """A scoped update; returns its summary line."""
    return list(index.update(embed=False, paths=paths))[-1].message


def live(index: RepoIndex) -> set[str]:
    return {p for p, row in index.store.files().items() if row.state != DELETED}


def skipped(index: RepoIndex) -> set[tuple[str, str]]:
    return {tuple(r) for r in index.store.db.execute("SELECT path, reason FROM skipped")}


def assert_like_a_full_walk(index: RepoIndex) -> None:
    before = skipped(index)
    assert refresh_all(index) == "0 changed, 0 removed"
    assert skipped(index) == before


def refresh_all(index: RepoIndex) -> str:
    return list(index.update(embed=False))[-1].message


def test_a_changed_file_is_the_only_one_read(index: RepoIndex, opened: list[str]) -> None:
    repo = index.repo
    with (repo / "src/shop/cart.py").open("a", encoding="utf-8") as handle:
        handle.write("\n\ndef gift_wrap_fee(order):\n    return 2.5\n")
    assert refresh(index, "src/shop/cart.py") == "1 changed, 0 removed"
    assert opened == ["cart.py"]  # no walk of the rest of the repository
    assert index.search("gift_wrap_fee", k=1).files == ["src/shop/cart.py"]
    assert_like_a_full_walk(index)


def test_a_new_ignored_file(index: RepoIndex, opened: list[str]) -> None:
    (index.repo / "debug.log").write_text("def not_indexed(): pass\n", encoding="utf-8")
    assert refresh(index, "debug.log") == "0 changed, 0 removed"
    assert opened == []
    assert ("debug.log", "ignored") in skipped(index)
    assert "debug.log" not in live(index)
    assert_like_a_full_walk(index)


def test_a_deleted_file(index: RepoIndex) -> None:
    (index.repo / "src/shop/discounts.py").unlink()
    assert refresh(index, "src/shop/discounts.py") == "0 changed, 1 removed"
    assert "src/shop/discounts.py" not in live(index)
    assert "src/shop/discounts.py" not in index.search("apply_discount", k=5).files
    assert_like_a_full_walk(index)


def test_a_deleted_folder(index: RepoIndex) -> None:
    shutil.rmtree(index.repo / "src/shop")
    # The watcher may see only the folder's event, or its files' too.
    assert refresh(index, "src/shop") == "0 changed, 3 removed"  # .gitignore included
    assert not any(p.startswith("src/shop/") for p in live(index))
    assert "tests/test_cart.py" in live(index)
    assert_like_a_full_walk(index)


def test_a_renamed_file_and_folder(index: RepoIndex) -> None:
    repo = index.repo
    (repo / "web/checkout.js").rename(repo / "web/payment.js")
    (repo / "src/shop").rename(repo / "src/store")
    summary = refresh(index, "web/checkout.js", "web/payment.js", "src/shop", "src/store",
                      "src/store/cart.py")
    assert summary == "4 changed, 4 removed"  # src/shop/.gitignore moved too
    assert {"web/payment.js", "src/store/cart.py", "src/store/discounts.py"} <= live(index)
    assert not {"web/checkout.js", "src/shop/cart.py"} & live(index)
    assert index.search("apply_discount", k=1).files == ["src/store/discounts.py"]
    assert_like_a_full_walk(index)


def test_a_new_secret_file_is_never_read(index: RepoIndex, opened: list[str]) -> None:
    repo = index.repo
    (repo / ".env").write_text("STRIPE_KEY=sk_live_abc\n", encoding="utf-8")
    (repo / "src/shop/id_ed25519").write_text("PRIVATE KEY\n", encoding="utf-8")
    assert refresh(index, ".env", "src/shop/id_ed25519") == "0 changed, 0 removed"
    assert opened == []
    assert {(".env", "secret"), ("src/shop/id_ed25519", "secret")} <= skipped(index)
    assert_like_a_full_walk(index)


def test_an_edited_gitignore_re_walks_its_folder(index: RepoIndex) -> None:
    repo = index.repo
    (repo / "src/shop/.gitignore").write_text("discounts.py\n", encoding="utf-8")
    assert refresh(index, "src/shop/.gitignore") == "1 changed, 1 removed"
    assert "src/shop/discounts.py" not in live(index)
    assert ("src/shop/discounts.py", "ignored") in skipped(index)
    assert_like_a_full_walk(index)


def test_a_never_completed_index_is_scanned_whole(tmp_repo: Path) -> None:
    index = open_index(tmp_repo)
    assert refresh(index, "README.md") == "5 changed, 0 removed"
    assert index.is_built()
    index.close()


def test_the_watcher_refreshes_only_what_changed(
    index: RepoIndex, opened: list[str]
) -> None:
    repo = index.repo
    events: list[WatchEvent] = []
    done = threading.Event()

    def on_event(event: WatchEvent) -> None:
        events.append(event)
        now = live(index)
        if ("web/payment.js" in now and "src/shop/cart.py" not in now
                and ("build/", "ignored") in skipped(index)):
            done.set()

    with Watcher(index, on_event, embed=False, debounce_s=0.1).start():
        (repo / "web/checkout.js").rename(repo / "web/payment.js")
        (repo / "src/shop/cart.py").unlink()
        (repo / "build").mkdir()
        (repo / "build/out.py").write_text("x = 1\n", encoding="utf-8")  # ignored folder
        assert done.wait(10), f"not refreshed: {events}"
    assert all(e.error is None for e in events)
    assert set(opened) == {"payment.js"}
    assert_like_a_full_walk(index)


def test_writes_to_ignored_or_secret_files_never_wake_the_worker(index: RepoIndex) -> None:
    repo = index.repo
    (repo / "build").mkdir()
    watcher = Watcher(index)
    assert watcher._relevant(str(repo / "debug.log")) is None  # written
    assert watcher._relevant(str(repo / ".env")) is None
    # Created, deleted or moved: listed as skipped by the walk of its folder, never read.
    assert watcher._relevant(str(repo / "debug.log"), structural=True) == "debug.log"
    assert watcher._relevant(str(repo / ".env"), structural=True) == ".env"
    assert watcher._relevant(str(repo / "build"), structural=True) == "build"
    assert watcher._relevant(str(repo / "build/out.py"), structural=True) is None

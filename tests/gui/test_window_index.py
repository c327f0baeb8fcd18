"""The index stays fresh while the user edits; indexing can be cancelled and paused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.gui.window_helpers import wait_indexed
from tests.helpers.fake_runtime import FakeRuntime

SHIPPING = '''"""Shipping."""


def shipping_cost(weight_kg):
    """Parcel price by weight."""
    return 4.5 + 1.2 * weight_kg
'''


def test_edits_are_indexed_by_the_watcher(qtbot: Any, make_window: Any, tmp_repo: Path) -> None:
    window = make_window(runtime=FakeRuntime())
    window.open_repo(tmp_repo)
    wait_indexed(qtbot, window)
    qtbot.waitUntil(lambda: window.index._watcher is not None, timeout=5000)
    (tmp_repo / "src/shop/shipping.py").write_text(SHIPPING)
    qtbot.waitUntil(lambda: "re-read" in window.index_status.label.text(), timeout=60_000)
    assert "1 edited file re-read" in window.index_status.label.text()
    result = window.index.index.search("shipping cost by weight", k=3)
    assert "src/shop/shipping.py" in result.files


def test_pausing_stops_the_watcher_and_resuming_catches_up(qtbot: Any, make_window: Any,
                                                           tmp_repo: Path) -> None:
    window = make_window(runtime=FakeRuntime())
    window.open_repo(tmp_repo)
    wait_indexed(qtbot, window)
    window.set_indexing_paused(True)
    assert window.index._watcher is None
    assert window.index_status.label.text() == "Indexing paused."
    (tmp_repo / "src/shop/shipping.py").write_text(SHIPPING)
    window.set_indexing_paused(False)
    wait_indexed(qtbot, window)
    assert "src/shop/shipping.py" in window.index.index.search("shipping_cost", k=3).files
    qtbot.waitUntil(lambda: window.index._watcher is not None, timeout=5000)


def test_cancel_keeps_what_was_indexed(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    from tests.conftest import make_repo

    files = {f"pkg/m{i}.py": f"def f{i}():\n    return {i}\n" for i in range(800)}
    repo = make_repo(tmp_path / "many", files)
    window = make_window(runtime=FakeRuntime())
    phases: list[str] = []
    window.index.progress.connect(lambda p: phases.append(p.phase))
    window.open_repo(repo)
    qtbot.waitUntil(lambda: "lexical" in phases or "embed" in phases, timeout=60_000)
    assert window.index_status.cancel_button.isVisibleTo(window)
    window.index_status.cancel_button.click()
    qtbot.waitUntil(lambda: not window.index.running, timeout=10_000)
    assert window.index_status.label.text().startswith("Indexing stopped.")
    assert not window.index_status.bar.isVisibleTo(window)


def test_a_damaged_index_is_rebuilt_from_the_message(qtbot: Any, make_window: Any,
                                                     tmp_repo: Path) -> None:
    from greenpair.core.errors import IndexError_
    from greenpair.core.index.index_store import REBUILD_HINT
    from greenpair.ui.message_bridge import describe_error

    window = make_window(runtime=FakeRuntime())
    window.open_repo(tmp_repo)
    wait_indexed(qtbot, window)
    message = describe_error(IndexError_("The index of repo is damaged.", hint=REBUILD_HINT))
    assert message is not None
    window.show_message(message)
    assert window.banner.action_button.text() == "Rebuild the index"
    starts: list[object] = []
    window.index.started.connect(starts.append)
    window.banner.action_button.click()
    assert starts == [tmp_repo.resolve()]
    assert window.banner.isHidden()
    wait_indexed(qtbot, window)
    assert "5 files" in window.index_status.label.text()

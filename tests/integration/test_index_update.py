"""The repository index on real components: tree-sitter chunks, Chroma, MiniLM (ONNX).

Incremental updates, deletions and renames, interruption (stopping the generator, and a
process killed with SIGKILL), damaged stores, and privacy (no connection attempts).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from greenpair.core import messages
from greenpair.core.errors import RepositoryError
from greenpair.core.index import RepoIndex, open_index
from greenpair.core.index.embedder import Embedder
from greenpair.core.index.index_store import COMMITTED, LEXICAL
from greenpair.core.index.search.dense import dense_scores
from tests.conftest import make_repo


class CountingEmbedder:
    """The real embedder, recording every text it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = self.inner.name
        self.dim = self.inner.dim
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.embed(texts)


def counting(index: RepoIndex) -> CountingEmbedder:
    inner = index.embedder()
    if isinstance(inner, CountingEmbedder):
        inner = inner.inner
    embedder = CountingEmbedder(inner)
    index._embedder = embedder
    return embedder


def run(index: RepoIndex) -> list:
    return list(index.update())


def many_files(root: Path, n_files: int, per_file: int = 3) -> Path:
    files = {}
    for i in range(n_files):
        body = "\n\n".join(
            f"def handler_{i}_{j}(request, limit={j}):\n"
            f'    """Handle request kind {j} of module {i}: validate, log and store it."""\n'
            f"    items = [x * {j} for x in range(limit)]\n"
            f"    total_{j} = sum(items) + len(request)\n"
            f"    return total_{j}\n"
            for j in range(per_file)
        )
        files[f"pkg/module_{i}.py"] = body + "\n"
    return make_repo(root, files)


def consistent(index: RepoIndex) -> None:
    """Chroma holds vectors for committed files only, with their current hashes."""
    rows = index.store.files()
    with_vectors = index.vectors().paths()
    committed = {p for p, r in rows.items() if r.state == COMMITTED}
    assert with_vectors <= committed
    got = index.vectors()._collection.get(include=["metadatas"])
    for meta in got["metadatas"]:
        assert rows[meta["path"]].sha256 == meta["sha"]


def test_index_and_search_on_real_components(tmp_repo: Path) -> None:
    index = open_index(tmp_repo)
    events = run(index)
    assert next(e.phase for e in events) == "scan"
    assert events[-1].phase == "done"
    stats = index.stats()
    assert stats["files"] == 5
    assert stats["embedded_chunks"] > 0
    assert stats["files_pending_embedding"] == 0
    assert index.vectors().count() == stats["embedded_chunks"]

    result = index.search("apply a discount code to the total", k=3)
    assert result.files[0] == "src/shop/discounts.py"
    result = index.search("how is the price with tax computed?", k=3)
    assert result.files[0] == "src/shop/cart.py"
    assert any(c.chunk.symbol == "total_price" and "TAX_RATE" in c.chunk.text
               for c in result.chunks)
    assert index.file_chunks("src/shop/cart.py")[0].start_line == 1
    consistent(index)
    index.close()


def test_source_beats_tests_unless_the_request_is_about_tests(tmp_repo: Path) -> None:
    index = open_index(tmp_repo)
    run(index)
    assert index.search("cart total price", k=5).files[0] == "src/shop/cart.py"
    assert index.search("add tests for the cart total price", k=5).files[0] == "tests/test_cart.py"


def test_unchanged_files_are_not_embedded_again(tmp_repo: Path) -> None:
    index = open_index(tmp_repo)
    run(index)
    embedder = counting(index)
    events = run(index)
    assert embedder.texts == []
    assert events[-1].files_total == 0  # nothing changed


def test_an_edit_reembeds_only_the_new_chunks(tmp_repo: Path) -> None:
    index = open_index(tmp_repo)
    run(index)
    embedder = counting(index)
    path = tmp_repo / "src/shop/discounts.py"
    path.write_text(
        path.read_text()
        + "\n\ndef loyalty_bonus(points):\n    \"\"\"Points to euros.\"\"\"\n    return points / 100\n"
    )
    events = run(index)
    assert events[-1].files_total == 1
    assert len(embedder.texts) >= 1
    assert all("TAX_RATE" not in t for t in embedder.texts)  # cart.py untouched
    assert any("loyalty_bonus" in t for t in embedder.texts)
    assert index.search("loyalty bonus points", k=1).files == ["src/shop/discounts.py"]
    consistent(index)


def test_deleted_and_renamed_files_leave_no_stale_entries(tmp_repo: Path) -> None:
    index = open_index(tmp_repo)
    run(index)
    embedder = counting(index)
    (tmp_repo / "web/checkout.js").unlink()
    (tmp_repo / "src/shop/cart.py").rename(tmp_repo / "src/shop/basket.py")
    run(index)
    # The moved file's chunks kept their vectors (same text): nothing was embedded.
    assert embedder.texts == []
    rows = index.store.files()
    assert "web/checkout.js" not in rows
    assert "src/shop/cart.py" not in rows
    assert rows["src/shop/basket.py"].state == COMMITTED
    db = index.store.db
    assert db.execute("SELECT count(*) FROM chunks WHERE path IN (?, ?)",
                      ("web/checkout.js", "src/shop/cart.py")).fetchone() == (0,)
    assert db.execute(
        "SELECT count(*) FROM vectors WHERE hash NOT IN (SELECT embed_hash FROM chunks"
        " WHERE embed_hash IS NOT NULL)"
    ).fetchone() == (0,)
    assert "src/shop/cart.py" not in index.vectors().paths()
    consistent(index)
    result = index.search("cart total price with tax", k=10)
    assert result.files[0] == "src/shop/basket.py"
    assert "src/shop/cart.py" not in result.files
    assert "web/checkout.js" not in index.search("format price checkout order", k=10).files


def test_stopping_midway_serves_no_stale_results_and_resumes(tmp_path: Path) -> None:
    repo = many_files(tmp_path / "repo", 24)
    index = open_index(repo)
    run(index)
    # Rewrite one file completely, and add enough new files to need several batches.
    (repo / "pkg/module_0.py").write_text(
        "def render_invoice_pdf(invoice):\n    return invoice.to_pdf()\n"
    )
    for i in range(24, 44):
        (repo / f"pkg/module_{i}.py").write_text(
            f"def newcomer_{i}(value):\n    return value + {i}\n\n\n"
            f"def another_{i}(value):\n    return value * {i}\n"
        )
    first = counting(index)
    update = index.update()
    for event in update:
        if event.phase == "embed" and event.chunks_done > 0:
            break
    update.close()  # the caller stops iterating: cancel
    assert first.texts, "the run was stopped after embedding one batch"
    assert index.store.files()["pkg/module_0.py"].state == LEXICAL

    # The new content is searchable at once (lexical), the old content is never served.
    assert index.search("render invoice pdf", k=1).files == ["pkg/module_0.py"]
    lex = index.lexical()
    stale = [p for p in dense_scores(index, lex, "handle request kind 1 of module 0", 400)
             if lex.chunks[p].chunk.path == "pkg/module_0.py"]
    assert stale == []
    old = index.search("handler_0_1 handle request kind 1 of module 0", k=10)
    assert all("handler_0_" not in c.chunk.text for c in old.chunks)

    second = counting(index)
    events = run(index)
    assert events[-1].files_total == 0  # the lexical side was complete: no start over
    assert second.texts
    assert not set(first.texts) & set(second.texts)  # no chunk embedded twice
    assert index.stats()["files_pending_embedding"] == 0
    consistent(index)


def test_a_killed_index_process_is_completed_by_the_next_run(tmp_path: Path) -> None:
    repo = many_files(tmp_path / "repo", 40)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "app")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "greenpair", "index", "--repo", str(repo)],
        env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )
    index = open_index(repo)
    db_path = index.folder / "index.sqlite3"
    deadline = time.monotonic() + 120
    cached = 0
    while cached == 0:  # wait until the child has stored at least one embedding batch
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the child never reached the embed phase"
        time.sleep(0.05)
        try:
            with sqlite3.connect(db_path, timeout=5) as probe:
                cached = probe.execute("SELECT count(*) FROM vectors").fetchone()[0]
        except sqlite3.OperationalError:
            cached = 0  # tables not created yet
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.stderr is not None
    proc.stderr.close()

    stats = index.stats()
    assert stats["files_pending_embedding"] > 0
    resumed = counting(index)
    events = run(index)
    assert events[-1].files_total == 0  # lexical work survived the kill
    total = index.stats()["embeddable_chunks"]
    assert 0 < len(resumed.texts) < total  # finished the rest, did not start over
    assert index.stats()["files_pending_embedding"] == 0
    consistent(index)
    assert index.search("handler_39_2", k=1).files == ["pkg/module_39.py"]


def test_a_damaged_index_is_rebuilt_with_a_warning(tmp_repo: Path) -> None:
    index = open_index(tmp_repo)
    run(index)
    folder = index.folder
    index.close()
    for name in ("index.sqlite3-wal", "index.sqlite3-shm"):
        (folder / name).unlink(missing_ok=True)
    (folder / "index.sqlite3").write_bytes(b"this is not a database" * 100)
    seen: list[tuple[str, str]] = []

    def listener(level: str, text: str) -> None:
        seen.append((level, text))

    messages.connect(listener)
    try:
        index = open_index(tmp_repo)
    finally:
        messages.disconnect(listener)
    assert any(level == "warning" and "rebuild" in text for level, text in seen)
    assert index.search("discount code", k=1).files == ["src/shop/discounts.py"]


def test_a_damaged_vector_store_is_recreated(tmp_repo: Path) -> None:
    index = open_index(tmp_repo)
    run(index)
    folder = index.folder / str(index.store.get_meta("vectors_dir"))
    index.close()
    chroma = folder / "chroma.sqlite3"
    chroma.write_bytes(b"garbage" * 1000)
    index = open_index(tmp_repo)
    run(index)
    assert index.stats()["files_pending_embedding"] == 0
    assert index.vectors().count() == index.stats()["embedded_chunks"]


def test_missing_or_bad_repository_paths(tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="does not exist") as err:
        open_index(tmp_path / "missing")
    assert err.value.hint
    assert "--repo" in err.value.hint
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(RepositoryError, match="not a directory"):
        open_index(tmp_path / "file.txt")


def test_index_and_search_make_no_network_connection(
    tmp_repo: Path, no_network: list[object]
) -> None:
    index = open_index(tmp_repo)
    run(index)
    result = index.search("apply a discount code", k=3)
    assert result.files[0] == "src/shop/discounts.py"
    assert no_network == []


def test_a_vector_store_another_process_is_rewriting_leaves_search_working(
    tmp_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chroma's reader can fail while another process rewrites its HNSW segment (seen with
    a benchmark updating the index beside a search): words and names still rank, and the
    user is told why the search was lexical only."""
    from chromadb.errors import InternalError

    index = open_index(tmp_repo)
    run(index)
    store = index.vectors()

    def failing_query(**_: object) -> None:
        raise InternalError("Error creating hnsw segment reader: Nothing found on disk")

    monkeypatch.setattr(store._collection, "query", failing_query)
    seen: list[tuple[str, str]] = []

    def listener(level: str, text: str) -> None:
        seen.append((level, text))

    messages.connect(listener)
    try:
        result = index.search("apply a discount code to the total", k=3)
    finally:
        messages.disconnect(listener)
    assert result.files[0] == "src/shop/discounts.py"
    assert any(level == "warning" and "ranked by words" in text for level, text in seen)
    index.close()
